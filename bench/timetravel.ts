/**
 * The cost of time travel: a timeline of a 20,000-event simulator trace, built with immer patches.
 * Reports µs per event for the replay alone (the floor: one `step` per event), for building the
 * timeline (replay, `produceWithPatches`, checkpoints, fingerprint checks), for stepping a cursor
 * back and forward, for random access, diffs and searches; and, for comparison, stepping back in
 * a timeline that keeps each event's state before and after instead of patches (no immer).
 *
 * Run: npx tsc -p tsconfig.bench.json && node build/bench/timetravel.js [seed] [events]
 * (add --expose-gc before the script to also see the memory a timeline keeps).
 */
import { performance } from 'node:perf_hooks';
import type { RaftState } from '../src/index.js';
import { Rng, simulate } from '../src/sim/index.js';
import {
  applyRecordedEvent,
  createTimeline,
  recordingFromTrace,
  termReached,
  type Recording,
} from '../src/timetravel/index.js';

const seed = Number(process.argv[2] ?? 7);
const wanted = Number(process.argv[3] ?? 20_000);
const ROUNDS = 5;

/** The median of `xs`. */
function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1]!;
}

/** The median over ROUNDS runs of `run`, in µs per `count` units. */
function timePer(count: number, run: () => void): number {
  const times: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    run();
    times.push(((performance.now() - t0) * 1000) / count);
  }
  return median(times);
}

/** A simulator recording of exactly `events` events (the run's fingerprints up to there as checks). */
function recordingOf(events: number): Recording {
  const r = simulate({ seed, nodes: 5, steps: events, faults: 'all' });
  if (r.trace === null || r.trace.events.length < events) throw new Error('the run recorded too few events');
  const full = recordingFromTrace(r.trace);
  return {
    ...full,
    events: full.events.slice(0, events),
    checks: (full.checks ?? []).filter((c) => c.after <= events && c.after < r.trace!.events.length),
  };
}

/** The replay alone: one step (or lifecycle change) per event, nothing kept. */
function replayOnly(recording: Recording): void {
  const live = new Map<string, RaftState | null>();
  recording.events.forEach((e, i) =>
    live.set(e.node, applyRecordedEvent(live.get(e.node) ?? null, e, i + 1, recording.step)),
  );
}

/** The alternative without immer: each event's node state before and after, and a cursor over it. */
function referenceTimeline(recording: Recording): { back(): number } {
  const live = new Map<string, RaftState | null>();
  const log: { node: string; before: RaftState | null; after: RaftState | null }[] = [];
  recording.events.forEach((e, i) => {
    const before = live.get(e.node) ?? null;
    const after = applyRecordedEvent(before, e, i + 1, recording.step);
    live.set(e.node, after);
    log.push({ node: e.node, before, after });
  });
  return {
    back(): number {
      let nodes: Record<string, RaftState | null> = Object.fromEntries(live);
      for (let n = log.length; n > 0; n--) {
        const x = log[n - 1]!;
        nodes = { ...nodes, [x.node]: x.before };
      }
      return Object.keys(nodes).length;
    },
  };
}

const recording = recordingOf(wanted);
const n = recording.events.length;
const steps = recording.events.filter((e) => 'event' in e).length;
console.log(`timeline of a ${n}-event simulator trace (seed ${seed}, 5 nodes, all faults; ${steps} steps)`);
console.log(`medians of ${ROUNDS} rounds, µs per event unless said otherwise\n`);

const gc = (globalThis as { gc?: () => void }).gc;
const heap = (): number => {
  gc?.();
  return process.memoryUsage().heapUsed;
};

const rows: [string, number, string][] = [];
const row = (what: string, us: number, unit = 'µs/event'): void => {
  rows.push([what, us, unit]);
  console.log(`${what.padEnd(66)} ${us.toFixed(2).padStart(9)} ${unit}`);
};

row(
  'replay only (step per event, nothing kept: the floor)',
  timePer(n, () => replayOnly(recording)),
);
const noChecks: Recording = { ...recording, checks: [] };
row(
  'build a timeline (checkpointEvery 16, no fingerprint checks)',
  timePer(n, () => createTimeline(noChecks)),
);
row(
  'build a timeline (with the trace`s fingerprint checks)',
  timePer(n, () => createTimeline(recording)),
);

const before = heap();
const tl = createTimeline(recording);
const kept = heap() - before;

row(
  'step back from the end to 0 (cursor, inverse patches)',
  timePer(n, () => {
    const c = tl.cursor(n);
    while (c.stepBack());
  }),
);
row(
  'step forward from 0 to the end (cursor, patches)',
  timePer(n, () => {
    const c = tl.cursor(0);
    while (c.stepForward());
  }),
);
const rng = new Rng(seed);
const points = Array.from({ length: 2000 }, () => rng.int(0, n));
row(
  'random access: record(n), random n (checkpointEvery 16)',
  timePer(points.length, () => {
    for (const p of points) tl.record(p);
  }),
  'µs/access',
);
row(
  'random access: record(n), random n (checkpointEvery 64)',
  (() => {
    const tl64 = createTimeline(noChecks, { checkpointEvery: 64 });
    return timePer(points.length, () => {
      for (const p of points) tl64.record(p);
    });
  })(),
  'µs/access',
);
row(
  'diff over a random 100-event window',
  timePer(200, () => {
    for (let k = 0; k < 200; k++) {
      const a = points[k]! % (n - 100);
      tl.diff(a, a + 100);
    }
  }),
  'µs/diff',
);
row(
  'findFirst over the whole timeline (a predicate that never holds)',
  timePer(n, () => tl.findFirst(termReached(1e9))),
);
row(
  'for comparison, no immer: step back over kept before-states',
  (() => {
    const ref = referenceTimeline(recording);
    return timePer(n, () => ref.back());
  })(),
);
if (gc !== undefined)
  console.log(`\nheap kept by one timeline: ${(kept / 2 ** 20).toFixed(1)} MiB (${(kept / n) | 0} bytes/event)`);
else console.log('\n(run node with --expose-gc to see the memory a timeline keeps)');
