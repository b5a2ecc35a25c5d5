/**
 * `step` answers with an `internalError` action when one of its rules threw on an event that passed
 * validation: a bug in raftstep. The simulator must stop the run on any such action and report it
 * as a `noInternalError` violation, naming the node and the event, like every other violation.
 */
import { step, type InternalError, type RaftEvent, type RaftState, type StepResult } from '../../src/index.js';
import { SimViolation, World, describeViolation, simulate, type Stepper } from '../../src/sim/index.js';

/**
 * A step that behaves like the real one, except that it reports an internal error (once) on the
 * first call for which `when(call number, event)` holds.
 */
function failing(when: (call: number, e: RaftEvent) => boolean): {
  step: Stepper;
  injected: () => { node: string; type: string } | null;
} {
  let calls = 0;
  let injected: { node: string; type: string } | null = null;
  const wrapper = (s: RaftState, e: RaftEvent): StepResult => {
    if (injected !== null || !when(++calls, e)) return step(s, e);
    injected = { node: s.id, type: e.type };
    const report: InternalError = { type: 'internalError', reason: 'a rule threw: boom', event: e.type };
    return [s, [report]];
  };
  return { step: wrapper, injected: () => injected };
}

describe('an internal error in step is a violation', () => {
  test('a simulation stops at the step that reported it, naming the node and the event', () => {
    const f = failing((call) => call === 400);
    const r = simulate({ seed: 3, steps: 3000 }, { step: f.step });
    const injected = f.injected();
    expect(injected).not.toBeNull();
    const v = r.violation;
    expect(v).not.toBeNull();
    expect(v!.invariant).toBe('noInternalError');
    expect(v!.nodes).toEqual([injected!.node]);
    expect(v!.message).toContain('a rule threw: boom');
    expect(v!.message).toContain(injected!.type);
    expect(v!.seed).toBe(3);
    expect(v!.event).toBe(r.summary.events);
    expect(r.summary.violations).toBe(1);
    expect(r.summary.violation).toEqual(v);
    expect(describeViolation(v!)).toContain(`noInternalError violated at event ${v!.event}`);
    // The violating event is the step that reported the error, on that node.
    expect(r.trace!.events[v!.event - 1]).toMatchObject({
      n: v!.event,
      node: injected!.node,
      step: { type: injected!.type },
    });
    expect(r.trace!.end?.violation).toEqual(v);
  });

  test('the same run without the error finds nothing', () => {
    expect(simulate({ seed: 3, steps: 3000 }).violation).toBeNull();
  });

  test('a hand-driven world throws it from the step that reported it', () => {
    const f = failing((_call, e) => e.type === 'requestVote');
    const w = new World({ seed: 1, mode: 'manual', step: f.step });
    w.bootstrap(['n1', 'n2', 'n3']); // n1 campaigns: its vote requests are in flight
    expect(f.injected()).toBeNull();
    let thrown: unknown = null;
    try {
      w.deliverInFlight(0);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(SimViolation);
    const v = (thrown as SimViolation).violation;
    expect(v.invariant).toBe('noInternalError');
    expect(v.event).toBe(w.events);
    expect(v.nodes).toEqual([f.injected()!.node]);
    expect(w.trace()!.events[v.event - 1]).toMatchObject({ node: f.injected()!.node, step: { type: 'requestVote' } });
  });
});
