/**
 * The debugger's model against the whole-run timeline and the simulator's own numbers: segmented
 * time travel gives the same views, diffs and actions as `createTimeline` over the whole recording
 * (across segment boundaries, forwards and backwards); the lanes and markers say what the views
 * say; messages inferred from the steps match every delivery; the network replay finds the run's
 * partitions; a mutant's violation is where the run stopped.
 */
import type { RaftState } from '../../src/index.js';
import { serializeTrace, simulate, type SimResult } from '../../src/sim/index.js';
import {
  becameLeader,
  createTimeline,
  isStepRecord,
  recordingFromTraceText,
  type Timeline,
} from '../../src/timetravel/index.js';
import { describeAction, describeEvent, valueChanges } from '../../src/debugger/model/format.js';
import { phaseAtPoint, phaseOf } from '../../src/debugger/model/lanes.js';
import { logPicture } from '../../src/debugger/model/log-picture.js';
import { jumpTarget } from '../../src/debugger/model/markers.js';
import { messageKey } from '../../src/debugger/model/messages.js';
import { loadTrace, withNetwork, type TraceModel } from '../../src/debugger/model/model.js';
import { cutsAt, partitionedAt, partitionedNodes, replayNetwork, slowAt } from '../../src/debugger/model/network.js';
import { lastAtOrBelow, mergePoints, nextPoint, previousPoint } from '../../src/debugger/model/search.js';

/** A faulty five-node run, its trace text, its model (small segments) and its whole timeline. */
interface Fixture {
  readonly run: SimResult;
  readonly text: string;
  readonly model: TraceModel;
  readonly whole: Timeline;
}

/** The first run (from seed 1) with crashes, partitions, slow nodes and leader changes. */
function eventfulRun(steps: number): SimResult {
  for (let seed = 1; seed <= 40; seed++) {
    const run = simulate({ seed, nodes: 5, steps, faults: 'all' });
    const s = run.summary;
    if (s.crashes > 0 && s.partitions > 0 && s.slowEpisodes > 0 && s.leaderships > 2) return run;
  }
  throw new Error('no seed of 1..40 gives an eventful run');
}

function fixture(steps: number, segmentSize: number): Fixture {
  const run = eventfulRun(steps);
  const text = serializeTrace(run.trace!);
  return { run, text, model: loadTrace(text, { segmentSize }), whole: createTimeline(recordingFromTraceText(text)) };
}

/** A run of `mutant` that breaks an invariant (the first seed from 1 that does). */
function failingRun(mutant: 'believesStaleReplies' | 'commitsOnAMinority'): SimResult {
  for (let seed = 1; seed <= 40; seed++) {
    const r = simulate({ seed, nodes: 5, steps: 3000, mutant });
    if (r.violation !== null) return r;
  }
  throw new Error(`no seed of 1..40 makes ${mutant} fail`);
}

const f = fixture(2000, 50);

/** The same JSON (fast enough for thousands of comparisons; toEqual checks a few in full). */
function sameJson(a: unknown, b: unknown): void {
  expect(JSON.stringify(a)).toBe(JSON.stringify(b));
}

describe('segmented time travel', () => {
  test('every point: the same view as the whole timeline', () => {
    const t = f.model.timeline;
    expect(t.length).toBe(f.whole.length);
    expect(t.nodes).toEqual(f.whole.nodes);
    for (let p = 0; p <= t.length; p++) sameJson(t.view(p), f.whole.view(p));
    for (const p of [0, 49, 50, 51, t.length]) expect(t.view(p)).toEqual(f.whole.view(p));
  });

  test('every event: the same diff and actions as the whole timeline', () => {
    const t = f.model.timeline;
    for (let n = 1; n <= t.length; n++) {
      sameJson(t.diff(n - 1, n), f.whole.diff(n - 1, n));
      sameJson(t.actionsOf(n), f.whole.actionsOf(n));
      expect(t.event(n)).toBe(f.model.recording.events[n - 1]);
    }
    for (const n of [1, 50, 51, 100, t.length]) expect(t.diff(n - 1, n)).toEqual(f.whole.diff(n - 1, n));
  });

  test('a cursor walks forwards and back across segment boundaries', () => {
    const t = f.model.timeline;
    const c = t.cursor(0);
    while (c.stepForward()) sameJson(c.view(), f.whole.view(c.position));
    expect(c.position).toBe(t.length);
    for (let k = 0; k < 180; k++) {
      expect(c.stepBack()).toBe(true);
      sameJson(c.record.nodes, f.whole.record(c.position).nodes);
    }
    c.seek(3);
    expect(c.view()).toEqual(f.whole.view(3));
    c.seek(t.length - 7);
    expect(c.view()).toEqual(f.whole.view(t.length - 7));
  });

  test('keeps only a few segments built, and refuses points outside the run', () => {
    const t = f.model.timeline;
    for (let p = 0; p <= t.length; p += 50) t.view(p);
    let built = 0;
    for (let k = 0; k < t.count; k++) if (t.isBuilt(k)) built++;
    expect(built).toBeLessThanOrEqual(8);
    expect(() => t.view(t.length + 1)).toThrow(RangeError);
    expect(() => t.actionsOf(0)).toThrow(RangeError);
    expect(() => t.diff(0, 200)).toThrow(/more than one segment/);
  });
});

describe('lanes and markers', () => {
  test("each node's phase and term at every point is what the view says", () => {
    const { scan } = f.model;
    for (let p = 0; p <= scan.length; p += 7) {
      const record = f.whole.record(p);
      scan.lanes.forEach((lane) => {
        const state = record.nodes[lane.id] as RaftState | null;
        expect(phaseAtPoint(lane, p)).toBe(phaseOf(record.status[lane.id]!, state));
      });
    }
  });

  test('leader, commit and fault points are where the views change so', () => {
    const { markers, scan } = f.model;
    expect(markers.leader[0]).toBe(f.whole.findFirst(becameLeader()));
    let commit = 0;
    const commits: number[] = [];
    for (let p = 1; p <= scan.length; p++) {
      const max = Math.max(0, ...Object.values(f.whole.view(p).nodes).map((n) => n.commitIndex ?? 0));
      if (max > commit) commits.push(p);
      commit = Math.max(commit, max);
    }
    expect(markers.commit).toEqual(commits);
    const lifecycle = f.model.recording.events
      .map((e, i) => (!isStepRecord(e) && e.lifecycle.type !== 'start' ? i + 1 : 0))
      .filter((n) => n > 0);
    expect(markers.fault).toEqual(expect.arrayContaining(lifecycle));
    expect(f.run.summary.crashes).toBeGreaterThan(0);
  });

  test('jumps go to the next and previous point of a kind', () => {
    const leaders = f.model.markers.leader;
    expect(leaders.length).toBeGreaterThan(1);
    expect(jumpTarget(f.model.markers, 'leader', 0, 1)).toBe(leaders[0]);
    expect(jumpTarget(f.model.markers, 'leader', leaders[0]!, 1)).toBe(leaders[1]);
    expect(jumpTarget(f.model.markers, 'leader', leaders[1]!, -1)).toBe(leaders[0]);
    expect(jumpTarget(f.model.markers, 'violation', 0, 1)).toBe(-1);
  });
});

describe('messages', () => {
  const { messages } = f.model.scan;

  test('every message a node stepped was matched with one sent', () => {
    expect(messages.counts.unmatched).toBe(0);
    const deliveries = f.model.recording.events.filter(
      (e) => isStepRecord(e) && typeof (e.event as { from?: unknown }).from === 'string',
    ).length;
    expect(messages.counts.delivered + messages.counts.duplicate).toBeGreaterThanOrEqual(deliveries - 1);
  });

  test('as many sent as the simulator counted (give or take those lost in a crash before leaving)', () => {
    const c = messages.counts;
    const sent = c.delivered + c.dropped + c.inFlight;
    const counted = f.run.summary.messages;
    expect(sent).toBeGreaterThanOrEqual(counted);
    expect(sent - counted).toBeLessThan(counted * 0.02 + 10);
    expect(c.duplicate).toBeLessThanOrEqual(f.run.summary.duplicates);
  });

  test('in flight at a point: sent at or before it, not yet delivered', () => {
    for (let p = 0; p <= f.model.scan.length; p += 13) {
      for (const m of messages.inFlightAt(p)) {
        expect(m.sent).toBeLessThanOrEqual(p);
        expect(p).toBeLessThan(m.end);
        if (m.fate === 'delivered') expect(m.delivered).toBeGreaterThan(p);
      }
    }
    const some = messages.all.find((m) => m.fate === 'delivered')!;
    expect(messages.deliveredBy(some.delivered)).toContain(some);
    expect(messages.sentBy(some.sent)).toContain(some);
  });

  test('a message and its JSON copy have the same key', () => {
    const sent = messages.all.find((m) => m.type === 'appendEntries')!.message!;
    expect(messageKey(JSON.parse(JSON.stringify(sent)) as object)).toBe(messageKey(sent));
  });
});

describe('the network replay', () => {
  test("finds the run's partitions and slow nodes", () => {
    const r = replayNetwork(f.run.trace!.header, f.run.trace!.end);
    if (!r.ok) throw new Error(r.reason);
    expect(r.history.cuts.length).toBe(f.run.summary.partitions);
    expect(r.history.slow.length).toBe(f.run.summary.slowEpisodes);
    expect(r.history.happenings.length).toBeGreaterThan(0);
    const cut = r.history.cuts[0]!;
    expect(cutsAt(r.history, cut.from)).toContain(cut);
    expect(partitionedAt(r.history, cut.from).size).toBeGreaterThan(0);
    if (cut.to !== null) expect(cutsAt(r.history, cut.to)).not.toContain(cut);
    expect(slowAt(r.history, 0).size).toBe(0);
    const model = withNetwork(f.model, r.history);
    expect(model.markers.fault).toEqual(expect.arrayContaining([cut.from]));
    expect(model.markers.fault.length).toBeGreaterThan(f.model.markers.fault.length);
  });

  test('the nodes on the wrong side of a partition', () => {
    const cut = (links: [string, string][]): Set<string> =>
      partitionedNodes(partitionedAt({ cuts: [{ from: 0, to: null, links }], slow: [], happenings: [] }, 0));
    const isolated: [string, string][] = ['n2', 'n3', 'n4', 'n5'].flatMap((b): [string, string][] => [
      ['n1', b],
      [b, 'n1'],
    ]);
    expect(cut(isolated)).toEqual(new Set(['n1']));
    expect(cut(isolated.filter(([a]) => a === 'n1'))).toEqual(new Set(['n1']));
    const split: [string, string][] = ['n1', 'n2'].flatMap((a) =>
      ['n3', 'n4', 'n5'].map((b): [string, string] => [a, b]),
    );
    expect(cut(split)).toEqual(new Set(['n1', 'n2', 'n3', 'n4', 'n5']));
  });

  test('says why when the run again is not the run recorded', () => {
    const end = { ...f.run.trace!.end!, hashes: { ...f.run.trace!.end!.hashes, n1: '00000000' } };
    const r = replayNetwork(f.run.trace!.header, end);
    expect(r).toEqual({ ok: false, reason: expect.stringMatching(/n1 ended in another state/) as unknown });
    expect(replayNetwork({ ...f.run.trace!.header, options: null }, end).ok).toBe(false);
  });
});

describe('violations', () => {
  test("a mutant's trace opens with the violation's point and nodes", () => {
    const r = failingRun('believesStaleReplies');
    const model = loadTrace(serializeTrace(r.trace!));
    expect(model.violation).toEqual(r.violation);
    expect(model.markers.violation).toEqual([r.violation!.event]);
    expect(model.notes.get(r.violation!.event)!.join(' ')).toMatch(r.violation!.invariant);
  });
});

describe('loading', () => {
  test('a trace without simulator options or end line (as a host records it)', () => {
    const trace = f.run.trace!;
    const hostLike = { ...trace, header: { ...trace.header, options: null }, checks: [], end: null };
    const model = loadTrace(serializeTrace(hostLike));
    expect(model.scan.length).toBe(trace.events.length);
    expect(model.violation).toBeNull();
    expect(model.scan.messages.counts.unmatched).toBe(0);
    expect(model.timeline.view(model.scan.length)).toEqual(f.whole.view(model.scan.length));
    expect(replayNetwork(hostLike.header, null)).toEqual({ ok: false, reason: expect.any(String) as unknown });
  });

  test('a trace with no events', () => {
    const trace = f.run.trace!;
    const model = loadTrace(serializeTrace({ ...trace, events: [], checks: [], end: null }));
    expect(model.scan.length).toBe(0);
    expect(model.timeline.view(0).nodes.n1!.status).toBe('notStarted');
    expect(model.scan.messages.inFlightAt(0)).toEqual([]);
    expect(model.timeline.cursor(0).stepForward()).toBe(false);
  });

  test('a broken trace is refused with the line', () => {
    const lines = f.text.split('\n');
    lines[5] = lines[5]!.replace('"node":"n', '"node":"x');
    expect(() => loadTrace(lines.join('\n'))).toThrow(/trace line 6/);
    expect(() => loadTrace('')).toThrow(/empty trace/);
  });
});

describe('pictures and words', () => {
  test("a log's runs cover its entries after the snapshot, in term order", () => {
    for (const p of [f.model.scan.length >> 1, f.model.scan.length]) {
      for (const s of Object.values(f.whole.statesAt(p))) {
        if (s === null) continue;
        const pic = logPicture(s, 1000);
        let next = s.log.prevIndex + 1;
        for (const run of pic.runs) {
          expect(run.first).toBe(next);
          next = run.last + 1;
        }
        expect(next).toBe(s.log.lastIndex + 1);
        expect(pic.snapshot.index).toBe(s.log.prevIndex);
        expect(logPicture(s, 2).runs.length).toBeLessThanOrEqual(2);
      }
    }
  });

  test('changes, events and actions in words', () => {
    const changes = valueChanges({
      field: 'log',
      before: { prevIndex: 0, lastIndex: 4 },
      after: { prevIndex: 0, lastIndex: 5 },
    });
    expect(changes).toEqual([{ path: 'log.lastIndex', before: '4', after: '5' }]);
    expect(describeEvent({ node: 'n2', event: { type: 'requestVote', from: 'n1' } as never })).toBe(
      'n2 ← requestVote from n1',
    );
    expect(describeEvent({ node: 'n3', lifecycle: { type: 'crash' } })).toBe('n3: crash');
    expect(describeAction({ type: 'setTimer', wait: 'election' })).toBe('setTimer {"wait":"election"}');
  });

  test('point searches', () => {
    expect(lastAtOrBelow([1, 3, 5], 4)).toBe(1);
    expect(lastAtOrBelow([1, 3, 5], 0)).toBe(-1);
    expect(nextPoint([1, 3, 5], 3)).toBe(5);
    expect(nextPoint([1, 3, 5], 5)).toBe(-1);
    expect(previousPoint([1, 3, 5], 3)).toBe(1);
    expect(previousPoint([1, 3, 5], 1)).toBe(-1);
    expect(mergePoints([1, 4, 9], [2, 4, 10])).toEqual([1, 2, 4, 9, 10]);
  });
});
