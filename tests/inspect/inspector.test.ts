/**
 * The inspector adapter: a recorded simulator run replayed as XState inspection events — one actor
 * per node, one event per step with the right sender and receiver, one snapshot per state change,
 * all plain JSON and the same for the same run — and the live API driven by hand.
 */
import { startNode, step, type RaftState } from '../../src/index.js';
import {
  createInspector,
  inspectTimeline,
  withActorRefMethods,
  summarizeMetrics,
  type InspectionEvent,
} from '../../src/inspect/index.js';
import { createTimeline, recordingFromTrace, type Timeline } from '../../src/timetravel/index.js';
import { BASE_SEED } from '../support/seed.js';
import { recordedRun } from '../timetravel/support.js';

const seed = (BASE_SEED % 1_000_000) + 7;
process.stdout.write(`[seed] inspect: FC_SEED=${BASE_SEED} (simulation seed ${seed})\n`);

/** A short seeded run with crashes and partitions, as a timeline. */
function timelineOf(s: number): Timeline {
  return createTimeline(recordingFromTrace(recordedRun({ seed: s, nodes: 3, steps: 600, faults: 'all' }).trace));
}

/** Every inspection event of a timeline, in order. */
function inspectAll(tl: Timeline): InspectionEvent[] {
  const out: InspectionEvent[] = [];
  const count = inspectTimeline(tl, (e) => out.push(e));
  expect(count).toBe(out.length);
  return out;
}

describe('a recorded run, inspected', () => {
  const tl = timelineOf(seed);
  const events = inspectAll(tl);

  test('the kinds and nodes of the events follow the run: actors, events, snapshots', () => {
    // What must come, computed from the timeline alone.
    const expected: string[] = [];
    const started = new Set<string>();
    for (let n = 1; n <= tl.length; n++) {
      const r = tl.event(n);
      if ('lifecycle' in r && !started.has(r.node)) {
        started.add(r.node);
        expected.push(`actor ${r.node}`);
        continue;
      }
      expected.push(`event ${r.node}`);
      if (tl.changedNodes(n).includes(r.node)) expected.push(`snapshot ${r.node}`);
    }
    const kind = { '@xstate.actor': 'actor', '@xstate.event': 'event', '@xstate.snapshot': 'snapshot' } as const;
    expect(events.map((e) => `${kind[e.type]} ${e.actorRef.id}`)).toEqual(expected);
  });

  test('one actor event per node, each a root actor with its own session id', () => {
    const actors = events.filter((e) => e.type === '@xstate.actor');
    expect(actors.map((e) => e.actorRef.id).sort()).toEqual([...tl.nodes].sort());
    for (const a of actors) {
      expect(a).toMatchObject({ name: a.actorRef.id, sessionId: a.actorRef.id, rootId: a.actorRef.id });
      expect(JSON.parse(a.definition)).toEqual({ id: a.actorRef.id });
      expect(a.snapshot).toMatchObject({ status: 'active', value: 'follower' });
    }
  });

  // Every event of the timeline gives one actor or event, in order (no node runs at point 0 of a
  // simulator trace), followed by the snapshots of what it changed: walk both together.
  test('messages go from their sender to their receiver; requests have no sender', () => {
    const c = tl.cursor(0);
    let messages = 0;
    for (const e of events) {
      if (e.type === '@xstate.snapshot') continue;
      expect(c.stepForward()).toBe(true);
      const r = tl.event(c.position);
      expect(e.actorRef.id).toBe(r.node);
      if (e.type === '@xstate.actor') continue;
      const from = 'event' in r ? (r.event as { from?: unknown }).from : undefined;
      if (typeof from === 'string') {
        messages++;
        expect(e.sourceRef).toEqual({ id: from, sessionId: from });
        expect(e.sourceId).toBe(from);
        expect(e.event).toBe('event' in r ? r.event : null);
      } else {
        expect('sourceRef' in e || 'sourceId' in e).toBe(false);
        expect(e.event.type).toBe('event' in r ? r.event.type : `raftstep.${r.lifecycle.type}`);
      }
    }
    expect(c.position).toBe(tl.length);
    expect(messages).toBeGreaterThan(100);
  });

  test('each snapshot is the node`s view after the event that caused it, its metrics folded', () => {
    const c = tl.cursor(0);
    let checked = 0;
    for (const e of events) {
      if (e.type !== '@xstate.snapshot') {
        c.stepForward();
        continue;
      }
      const id = e.actorRef.id;
      const r = tl.event(c.position);
      expect(r.node).toBe(id);
      expect(e.event).toEqual('event' in r ? r.event : { type: `raftstep.${r.lifecycle.type}` });
      const state = c.stateOf(id);
      expect(e.snapshot.context).toEqual({
        ...c.view().nodes[id],
        votedFor: state?.votedFor ?? null,
        metrics: state === null ? null : summarizeMetrics(state.metrics),
      });
      expect(e.snapshot.status).toBe(state === null ? 'stopped' : 'active');
      expect(e.snapshot.value).toBe(state === null ? c.record.status[id] : state.role);
      checked++;
    }
    expect(checked).toBeGreaterThan(100);
    expect(events.some((e) => e.type === '@xstate.snapshot' && e.snapshot.value === 'leader')).toBe(true);
  });

  test('every event is plain JSON, with unique ids and the recording`s times', () => {
    expect(JSON.parse(JSON.stringify(events))).toStrictEqual(events);
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    const times = events.map((e) => Number(e.createdAt));
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeGreaterThanOrEqual(times[i - 1]!);
    expect(times[times.length - 1]).toBe(tl.record(tl.length).time);
  });

  test('deterministic: the same run gives the same events', () => {
    expect(JSON.stringify(inspectAll(tl))).toBe(JSON.stringify(events));
    expect(JSON.stringify(inspectAll(timelineOf(seed)))).toBe(JSON.stringify(events));
  });
});

describe('the live API', () => {
  test('start, steps, state changes, a crash and a restart, by hand', () => {
    const out: InspectionEvent[] = [];
    let t = 100;
    const inspector = createInspector({
      emit: (e) => out.push(e),
      clock: () => t++,
      sessionIdOf: (id) => `raft:${id}`,
    });
    const a: RaftState = startNode('a')[0];
    inspector.nodeStarted('a', a);
    const create = { type: 'createCluster', voters: ['a'] } as const;
    const [a2] = step(a, create);
    inspector.eventStepped('a', create);
    inspector.stateChanged('a', a2);
    const vote = { type: 'requestVote', from: 'b', term: 9, lastTerm: 0, lastIndex: 0, transfer: false } as const;
    inspector.eventStepped('a', vote);
    inspector.eventStepped('a', vote, null);
    inspector.nodeStopped('a', 'crashed', { time: 5 });
    inspector.nodeStarted('a', startNode('a')[0]);
    inspector.stateChanged('c', null, { status: 'shutdown' });
    expect(out.map((e) => [e.type, e.sessionId, 'event' in e ? e.event.type : ''])).toEqual([
      ['@xstate.actor', 'raft:a', ''],
      ['@xstate.event', 'raft:a', 'createCluster'],
      ['@xstate.snapshot', 'raft:a', 'createCluster'],
      ['@xstate.event', 'raft:a', 'requestVote'],
      ['@xstate.event', 'raft:a', 'requestVote'],
      ['@xstate.event', 'raft:a', 'raftstep.crash'],
      ['@xstate.snapshot', 'raft:a', 'raftstep.crash'],
      ['@xstate.event', 'raft:a', 'raftstep.restart'],
      ['@xstate.snapshot', 'raft:a', 'raftstep.restart'],
      ['@xstate.actor', 'raft:c', ''],
    ]);
    expect(out.map((e) => e.createdAt)).toEqual(out.map((_, i) => String(100 + i)));
    expect(out[2]).toMatchObject({
      snapshot: { status: 'active', value: 'leader', context: { role: 'leader', term: 1 } },
    });
    expect(out[3]).toMatchObject({
      sourceRef: { id: 'b', sessionId: 'raft:b' },
      sourceId: 'raft:b',
      actorRef: { id: 'a' },
    });
    expect('sourceRef' in out[4]!).toBe(false);
    expect(out[6]).toMatchObject({ snapshot: { status: 'stopped', value: 'crashed', context: { role: null } } });
    expect(out[9]).toMatchObject({ snapshot: { status: 'stopped', value: 'shutdown' } });
    const live = withActorRefMethods(out[0]!);
    expect(live.actorRef.getSnapshot()).toBe((out[0] as { snapshot: unknown }).snapshot);
    expect(JSON.parse(JSON.stringify(out))).toStrictEqual(out);
  });

  test('bad input is a TypeError naming the problem', () => {
    expect(() => createInspector({} as never)).toThrow('options.emit must be a function');
    const inspector = createInspector({ emit: () => undefined });
    expect(() => inspector.nodeStarted('', null)).toThrow('nodeStarted: the node id must be a non-empty string');
    expect(() => inspector.eventStepped('a', { kind: 'x' } as never)).toThrow('the event must have a string type');
    expect(() => inspector.nodeStopped('a', 'gone' as never)).toThrow('how must be crashed or shutdown');
  });
});
