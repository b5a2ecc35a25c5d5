/**
 * Time travel over a real simulator run: every point's states against the world's own (random
 * access in random order, and a cursor stepped back from the end), diffs against a brute-force
 * comparison, searches against a linear scan, and bad input refused with the problem named.
 */
import { isDeepStrictEqual } from 'node:util';
import { step, type RaftEvent, type RaftState } from '../../src/index.js';
import { Rng, serializeTrace } from '../../src/sim/index.js';
import {
  becameLeader,
  createTimeline,
  firstCommitAtOrAbove,
  recordingFromTrace,
  recordingFromTraceText,
  termReached,
  type Timeline,
} from '../../src/timetravel/index.js';
import { BASE_SEED } from '../support/seed.js';
import { handRecording } from './hand-recording.js';
import { recordedRun, truthState, truthStatus, type RecordedRun } from './support.js';

const seed = (BASE_SEED % 1_000_000) + 1;
process.stdout.write(`[seed] timetravel: FC_SEED=${BASE_SEED} (simulation seed ${seed})\n`);

/** Expect `actual` deep-equal to `expected`, fast when it is (jest's toEqual only on a mismatch). */
function expectSame(actual: unknown, expected: unknown, where: string): void {
  if (!isDeepStrictEqual(actual, expected)) expect({ where, actual }).toEqual({ where, actual: expected });
}

/** Compare every node of the timeline at point `n` with the world's truth. */
function expectPoint(
  tl: Timeline,
  run: RecordedRun,
  n: number,
  states: Readonly<Record<string, RaftState | null>>,
): void {
  for (const id of tl.nodes) expectSame(states[id] ?? null, truthState(run, n, id), `${id} at point ${n}`);
}

describe('a timeline of a simulator run', () => {
  const run = recordedRun({ seed, nodes: 5, steps: 2500, faults: 'all' });
  const tl = createTimeline(recordingFromTrace(run.trace), { checkpointEvery: 32 });
  const rng = new Rng(seed);

  test('has every event and node of the trace', () => {
    expect(tl.length).toBe(run.trace.events.length);
    expect(run.truth.length).toBe(tl.length + 1);
    expect(tl.nodes.slice(0, 5)).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
    expect(tl.event(1)).toMatchObject({ node: 'n1', lifecycle: { type: 'start' }, time: 0 });
    for (const id of tl.nodes) expect(tl.stateAt(0, id)).toBeNull();
  });

  test('the state after event n equals the run`s, for many n in random order', () => {
    const points = [0, 1, 2, tl.length, tl.length - 1, 31, 32, 33, 64, 47, 48, 49];
    for (let k = 0; k < 400; k++) points.push(rng.int(0, tl.length));
    for (const n of points) expectPoint(tl, run, n, tl.statesAt(n));
    for (const n of points.slice(0, 40)) {
      for (const id of tl.nodes) expectSame(tl.stateAt(n, id), truthState(run, n, id), `stateAt(${n}, ${id})`);
    }
  });

  test('the records hold each node`s status and the time', () => {
    for (let k = 0; k < 100; k++) {
      const n = rng.int(0, tl.length);
      const r = tl.record(n);
      expect(r.at).toBe(n);
      expect(r.time).toBe(n === 0 ? null : run.trace.events[n - 1]!.t);
      expect(r.network).toBeNull(); // traces do not record the network
      // Records are frozen all the way down: they are shared between points and callers.
      expect(Object.isFrozen(r) && Object.isFrozen(r.nodes) && Object.isFrozen(r.status)).toBe(true);
      for (const s of Object.values(r.nodes))
        if (s !== null) expect(Object.isFrozen(s) && Object.isFrozen(s.log)).toBe(true);
      for (const id of tl.nodes) expect(r.status[id]).toBe(truthStatus(run, n, id));
    }
  });

  test('a cursor stepped back from the end to 0 reproduces every state exactly', () => {
    const forward: Readonly<Record<string, RaftState | null>>[] = [];
    const c = tl.cursor();
    do {
      expect(c.record.at).toBe(c.position);
      forward.push(c.record.nodes);
    } while (c.stepForward());
    expect(c.position).toBe(tl.length);
    expect(c.stepForward()).toBe(false);
    for (let n = 0; n <= tl.length; n += 97) expectPoint(tl, run, n, forward[n]!);
    let seen = 0;
    while (c.stepBack()) {
      const n = c.position;
      expectSame(c.record.nodes, forward[n], `stepping back, point ${n}`);
      expect(c.view().at).toBe(n);
      seen++;
    }
    expect(seen).toBe(tl.length);
    expect(c.position).toBe(0);
    expect(c.stepBack()).toBe(false);
    c.seek(1234);
    expectPoint(tl, run, 1234, c.record.nodes);
    expect(c.stepBack()).toBe(true);
    expectPoint(tl, run, 1233, c.record.nodes);
    expect(c.stateOf('n1')).toEqual(truthState(run, 1233, 'n1'));
  });

  test('random access and stepping never call step (no replay)', () => {
    let steps = 0;
    const counting = (s: RaftState, e: RaftEvent): ReturnType<typeof step> => {
      steps++;
      return step(s, e);
    };
    const counted = createTimeline({ ...recordingFromTrace(run.trace), step: counting });
    const replaySteps = steps;
    expect(replaySteps).toBe(run.trace.events.filter((e) => 'step' in e).length);
    for (let k = 0; k < 50; k++) counted.record(rng.int(0, counted.length));
    const c = counted.cursor(counted.length);
    for (let k = 0; k < 500; k++) c.stepBack();
    counted.diff(10, counted.length - 10);
    counted.findFirst(termReached(3));
    expect(steps).toBe(replaySteps);
  });

  test('diff reports exactly the nodes and fields that differ, with both values', () => {
    const pairs: [number, number][] = [
      [0, tl.length],
      [0, 1],
      [5, 5],
    ];
    for (let k = 0; k < 60; k++) {
      const a = rng.int(0, tl.length);
      pairs.push([a, Math.min(tl.length, a + rng.int(0, 3))], [a, rng.int(0, tl.length)]);
    }
    for (const [a, b] of pairs) {
      const d = tl.diff(a, b);
      expect([d.from, d.to]).toEqual([a, b]);
      // Brute force: every field of every node, compared at both points.
      const expected: { id: string; fields: string[]; status: boolean }[] = [];
      for (const id of tl.nodes) {
        const before = truthState(run, a, id) as Record<string, unknown> | null;
        const after = truthState(run, b, id) as Record<string, unknown> | null;
        const keys = [...new Set([...Object.keys(after ?? {}), ...Object.keys(before ?? {})])];
        const fields = keys.filter((k) => !isDeepStrictEqual(before?.[k], after?.[k]));
        const status = truthStatus(run, a, id) !== truthStatus(run, b, id);
        if (fields.length > 0 || status) expected.push({ id, fields: fields.sort(), status });
      }
      const actual = d.nodes.map((n) => ({
        id: n.id,
        fields: n.fields.map((f) => f.field).sort(),
        status: n.status !== null,
      }));
      expect({ a, b, actual }).toEqual({ a, b, actual: expected });
      for (const n of d.nodes) {
        for (const f of n.fields) {
          expectSame(f.before, (truthState(run, a, n.id) as Record<string, unknown> | null)?.[f.field], 'before');
          expectSame(f.after, (truthState(run, b, n.id) as Record<string, unknown> | null)?.[f.field], 'after');
        }
        if (n.status !== null)
          expect(n.status).toEqual({ before: truthStatus(run, a, n.id), after: truthStatus(run, b, n.id) });
      }
      // The reverse diff is the same with before and after swapped.
      const back = tl.diff(b, a);
      expect(back.nodes.map((n) => n.id)).toEqual(d.nodes.map((n) => n.id));
      expect(back.time).toEqual(d.time === null ? null : { before: d.time.after, after: d.time.before });
    }
    expect(tl.diff(7, 7).nodes).toEqual([]);
  });

  test('diff of one event names the node it changed; changedNodes agrees', () => {
    for (let k = 0; k < 200; k++) {
      const n = rng.int(1, tl.length);
      const d = tl.diff(n - 1, n);
      const e = tl.event(n);
      expect(d.nodes.every((x) => x.id === e.node)).toBe(true);
      const changed = truthState(run, n - 1, e.node) !== truthState(run, n, e.node);
      expect(tl.changedNodes(n)).toEqual(changed ? [e.node] : []);
      if (d.nodes.length === 0)
        expect(changed && isDeepStrictEqual(truthState(run, n - 1, e.node), truthState(run, n, e.node))).toBe(changed);
    }
  });

  test('findFirst finds the first election and the first commit at or above an index', () => {
    const firstWhere = (holds: (n: number) => boolean, from = 0): number => {
      for (let n = from; n <= tl.length; n++) if (holds(n)) return n;
      return -1;
    };
    const anyState = (n: number, f: (s: RaftState) => boolean): boolean =>
      tl.nodes.some((id) => {
        const s = truthState(run, n, id);
        return s !== null && f(s);
      });
    const elected = tl.findFirst(becameLeader());
    expect(elected).toBeGreaterThan(0);
    expect(elected).toBe(firstWhere((n) => anyState(n, (s) => s.role === 'leader')));
    const who = tl.view(elected).leaders[0]!;
    expect(tl.findFirst(becameLeader(who))).toBe(elected);
    expect(tl.view(elected - 1).leaders).toEqual([]);
    const later = tl.findFirst(becameLeader(), elected + 1);
    expect(later).toBe(firstWhere((n) => anyState(n, (s) => s.role === 'leader'), elected + 1));
    const top = tl.view(tl.length);
    const maxCommit = Math.max(...Object.values(top.nodes).map((v) => v.commitIndex ?? 0));
    for (const index of [1, 2, Math.floor(maxCommit / 2), maxCommit]) {
      expect(tl.findFirst(firstCommitAtOrAbove(index))).toBe(
        firstWhere((n) => anyState(n, (s) => s.commitIndex >= index)),
      );
    }
    expect(tl.findFirst(termReached(2))).toBe(firstWhere((n) => anyState(n, (s) => s.term >= 2)));
    expect(tl.findFirst(firstCommitAtOrAbove(maxCommit + 1_000_000))).toBe(-1);
    expect(tl.findFirst(termReached(1_000_000))).toBe(-1);
    expect(tl.findFirst(becameLeader('nobody'))).toBe(-1);
    expect(tl.findFirst(() => true, tl.length)).toBe(tl.length);
  });

  test('the view says, per node, role, term, commit index, last position and leader', () => {
    const n = tl.findFirst(firstCommitAtOrAbove(3));
    const v = tl.view(n);
    expect(v.at).toBe(n);
    expect(Object.keys(v.nodes)).toEqual(tl.nodes);
    for (const id of tl.nodes) {
      const s = truthState(run, n, id);
      const x = v.nodes[id]!;
      if (s === null) expect(x).toMatchObject({ role: null, term: null, commitIndex: null, leader: null });
      else {
        expect(x).toMatchObject({ id, status: 'up', role: s.role, term: s.term, commitIndex: s.commitIndex });
        expect([x.lastIndex, x.lastTerm]).toEqual([s.log.lastIndex, s.log.lastTerm]);
        expect(x.leader).toBe(s.role === 'leader' ? id : s.role === 'follower' ? s.votedFor : null);
      }
    }
    expect(JSON.parse(JSON.stringify(v))).toEqual(v);
  });

  test('actionsOf gives the actions the step returned', () => {
    const n = tl.findFirst(becameLeader());
    const actions = tl.actionsOf(n);
    expect(actions.length).toBeGreaterThan(0);
    const e = tl.event(n);
    if ('event' in e) expect(actions).toEqual(step(truthState(run, n - 1, e.node)!, e.event)[1]);
  });
});

describe('bad input', () => {
  const run = recordedRun({ seed: seed + 1, nodes: 3, steps: 300 });
  const tl = createTimeline(recordingFromTrace(run.trace));

  test('a point or event out of range, or an unknown node, is a clear error', () => {
    expect(() => tl.stateAt(-1, 'n1')).toThrow(`point -1 is out of range: the points are 0 (initial) to ${tl.length}`);
    expect(() => tl.record(tl.length + 1)).toThrow(RangeError);
    expect(() => tl.view(1.5)).toThrow('point 1.5 is out of range');
    expect(() => tl.diff(0, NaN)).toThrow('point NaN is out of range');
    expect(() => tl.event(0)).toThrow(`event 0 is out of range: the events are 1 to ${tl.length}`);
    expect(() => tl.cursor(tl.length + 5)).toThrow('out of range');
    expect(() => tl.cursor().seek(-3)).toThrow('point -3 is out of range');
    expect(() => tl.findFirst(becameLeader(), -1)).toThrow('point -1 is out of range');
    expect(() => tl.stateAt(1, 'n9')).toThrow('the recording has no node "n9" (it has n1, n2, n3');
    expect(() => firstCommitAtOrAbove(-1)).toThrow('must be a non-negative integer');
    expect(() => createTimeline({ initial: {}, events: [] }).event(1)).toThrow('the recording has no events');
  });

  test('a recording whose events do not parse names the event and the problem', () => {
    const bad =
      (events: unknown[], initial: Record<string, RaftState | null> = {}): (() => unknown) =>
      () =>
        createTimeline({ initial, events: events as never });
    expect(bad([null])).toThrow('recording event 1: not an object');
    expect(bad([{ node: 'n1', lifecycle: { type: 'start' } }, { event: { type: 'timeout' } }])).toThrow(
      'recording event 2: no node id',
    );
    expect(bad([{ node: 'n1' }])).toThrow(
      'recording event 1: it must have exactly one of "event" (a step) and "lifecycle"',
    );
    expect(bad([{ node: 'n1', event: { kind: 'timeout' } }])).toThrow(
      'recording event 1: its event has no string "type"',
    );
    expect(bad([{ node: 'n1', lifecycle: { type: 'reboot' } }])).toThrow(
      'recording event 1: its lifecycle type "reboot" is not one of',
    );
    expect(bad([{ node: 'n1', lifecycle: { type: 'start' }, time: 'noon' }])).toThrow(
      'recording event 1: its time is not a finite number',
    );
    expect(bad([{ node: 'n1', event: { type: 'timeout' } }])).toThrow(
      'recording event 1 (n1, timeout): n1 stepped while not running',
    );
    expect(bad([{ node: 'n1', lifecycle: { type: 'restart', persisted: { id: 'n1', term: -4 } } }])).toThrow(
      'recording event 1 (n1, restart): restartNode',
    );
    expect(bad([{ node: 'n1', lifecycle: { type: 'restart', persisted: { id: 'n2' } } }])).toThrow(
      'a restart of n1 from the persisted state of "n2"',
    );
    expect(bad([{ node: 'n1', lifecycle: { type: 'start', options: 3 } }])).toThrow(
      'recording event 1: a start whose options are not an object',
    );
    expect(() => createTimeline(null as never)).toThrow('recording: not an object');
    expect(() => createTimeline({ initial: { n1: { id: 'n2' } as never }, events: [] })).toThrow(
      'the initial state of n1 is not null nor a state of n1',
    );
  });

  test('an edited trace is refused: by the hash chain, or by a fingerprint the replay does not reproduce', () => {
    const text = serializeTrace(run.trace);
    expect(createTimeline(recordingFromTraceText(text)).length).toBe(tl.length);
    const edited = text.replace('"voters":["n1","n2","n3"]', '"voters":["n1","n2"]');
    expect(edited).not.toBe(text);
    expect(() => recordingFromTraceText(edited)).toThrow('the hash chain breaks here');
    // Read past the chain (as `parseTrace(text, { verifyChain: false })` allows), a recorded fingerprint
    // that the replay does not reproduce is refused, with the event and the node named.
    const trace = run.trace;
    const check = trace.checks[0]!;
    const badCheck = { ...trace, checks: trace.checks.map((c, i) => (i === 0 ? { ...c, hash: '00000000' } : c)) };
    expect(() => createTimeline(recordingFromTrace(badCheck))).toThrow(
      `recording event ${check.check}: the replayed state of ${check.node} does not match the recorded fingerprint (recorded 00000000, replayed ${check.hash})`,
    );
    const badEnd = { ...trace, end: { ...trace.end!, hashes: { ...trace.end!.hashes, n2: 'ffffffff' } } };
    expect(() => createTimeline(recordingFromTrace(badEnd))).toThrow(
      `recording event ${tl.length}: the replayed state of n2 does not match the recorded fingerprint (recorded ffffffff`,
    );
    // Without verification it builds (to look at a run replayed differently).
    expect(createTimeline(recordingFromTrace(badEnd, { verify: false })).length).toBe(tl.length);
    const renumbered = {
      ...trace,
      events: trace.events.map((e, i) => (i === 3 ? { ...e, n: 99 } : e)),
    } as typeof trace;
    expect(() => recordingFromTrace(renumbered)).toThrow('trace event 4 is numbered 99');
  });
});

describe('a recording made by hand (a host`s event log, with the network)', () => {
  test('steps, lifecycle changes and network snapshots, in any recording', () => {
    const { recording, actions } = handRecording();
    const tl = createTimeline(recording, { checkpointEvery: 4 });
    expect(tl.nodes).toEqual(['a', 'b', 'c']);
    const elected = tl.findFirst(becameLeader('a'));
    expect(elected).toBeGreaterThan(0);
    const committed = tl.findFirst(firstCommitAtOrAbove(1));
    expect(committed).toBeGreaterThan(elected);
    for (let n = 1; n <= tl.length; n++) expect(tl.actionsOf(n)).toEqual(actions[n - 1]);
    // The network view is what the log recorded after each event.
    for (let n = 1; n <= tl.length; n++) {
      const r = recording.events[n - 1]!;
      if (r.network !== undefined) expect(tl.view(n).network).toEqual(r.network);
    }
    const d = tl.diff(0, 1);
    expect(d.network).not.toBeNull();
    // The crash and the restart of c are status changes.
    const crash = recording.events.findIndex((e) => 'lifecycle' in e && e.lifecycle.type === 'crash') + 1;
    expect(tl.view(crash).nodes.c).toMatchObject({ status: 'crashed', role: null });
    expect(tl.diff(crash - 1, crash).nodes[0]).toMatchObject({ id: 'c', status: { before: 'up', after: 'crashed' } });
    const c = tl.cursor(tl.length);
    while (c.stepBack());
    expect(c.record).toEqual(tl.record(0));
  });
});
