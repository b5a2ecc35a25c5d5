/**
 * Sweeps: many seeds in a row, their totals, and the coverage a sweep must reach to mean something
 * (every fault happened, several terms, snapshots installed, configuration changes committed).
 */
import type { Features, SimOptionsInput } from './options.js';
import { simulate, type SimPlugins, type SimSummary } from './simulator.js';
import type { Trace } from './trace.js';
import type { Violation } from './violation.js';

/** The options of seed `seed` in a sweep: `nodes` may be a range `[lo, hi]` (chosen by seed). */
export function sweepOptions(
  seed: number,
  base: Omit<SimOptionsInput, 'seed' | 'nodes'> & { nodes?: number | readonly [number, number] } = {},
): SimOptionsInput {
  const { nodes, ...rest } = base;
  const n =
    nodes === undefined
      ? 5
      : typeof nodes === 'number'
        ? nodes
        : nodes[0] + (Math.abs(seed) % (nodes[1] - nodes[0] + 1));
  return { ...rest, seed, nodes: n };
}

/** What a sweep added up. */
export interface SweepTotals {
  /** The runs added so far (one per seed). */
  seeds: number;
  /** Sums of every numeric field of the summaries. */
  readonly sums: Record<string, number>;
  /** Runs that reached at least three terms. */
  runsWithSeveralTerms: number;
  /** Runs that committed at least one configuration change. */
  runsWithConfigChange: number;
  /** Runs in which at least one snapshot transfer was installed. */
  runsWithSnapshot: number;
  /** The slowest liveness: the most virtual ms a run took after healing to commit a new proposal. */
  maxLivenessTook: number;
  /** The highest term any run reached. */
  maxTerm: number;
  /** The most entries a leader had in flight to one follower, over every run. */
  maxInflight: number;
  /** Every run that stopped on a violation: its seed, the violation, and where its trace was written (or null). */
  readonly violations: Array<{
    /** The seed of the run: the sweep's options for this seed reproduce the run. */
    seed: number;
    /** The violation that stopped the run. */
    violation: Violation;
    /**
     * Where the run's trace was written (what the sweep's `onRun` returned, e.g. a file path), or
     * null when it was not written.
     */
    trace: string | null;
  }>;
}

/** Totals of no run at all: what a sweep starts from (a fresh object each call). */
export function emptyTotals(): SweepTotals {
  return {
    seeds: 0,
    sums: {},
    runsWithSeveralTerms: 0,
    runsWithConfigChange: 0,
    runsWithSnapshot: 0,
    maxLivenessTook: 0,
    maxTerm: 0,
    maxInflight: 0,
    violations: [],
  };
}

/** Add one run's summary to `t` (`trace`: where its trace was written, if it was). */
export function addSummary(t: SweepTotals, s: SimSummary, trace: string | null = null): void {
  t.seeds++;
  for (const [k, v] of Object.entries(s)) {
    if (typeof v === 'number' && k !== 'seed') t.sums[k] = (t.sums[k] ?? 0) + v;
  }
  if (s.maxTerm >= 3) t.runsWithSeveralTerms++;
  if (s.configChanges > 0) t.runsWithConfigChange++;
  if (s.snapshotsInstalled > 0) t.runsWithSnapshot++;
  if (s.liveness !== null && s.liveness.took > t.maxLivenessTook) t.maxLivenessTook = s.liveness.took;
  if (s.maxTerm > t.maxTerm) t.maxTerm = s.maxTerm;
  if (s.maxInflight > t.maxInflight) t.maxInflight = s.maxInflight;
  if (s.violation !== null) t.violations.push({ seed: s.seed, violation: s.violation, trace });
}

/** Merge `b` into `a`. */
export function mergeTotals(a: SweepTotals, b: SweepTotals): void {
  a.seeds += b.seeds;
  for (const [k, v] of Object.entries(b.sums)) a.sums[k] = (a.sums[k] ?? 0) + v;
  a.runsWithSeveralTerms += b.runsWithSeveralTerms;
  a.runsWithConfigChange += b.runsWithConfigChange;
  a.runsWithSnapshot += b.runsWithSnapshot;
  a.maxLivenessTook = Math.max(a.maxLivenessTook, b.maxLivenessTook);
  a.maxTerm = Math.max(a.maxTerm, b.maxTerm);
  a.maxInflight = Math.max(a.maxInflight, b.maxInflight);
  a.violations.push(...b.violations);
}

/**
 * What a sweep with every fault enabled failed to exercise (empty when it covered everything):
 * each fault kind happened, several terms occurred, snapshots were installed, configuration
 * changes committed; with the protocol extensions on (`features` other than `none`), also reads
 * answered and refused, pre-votes, completed leadership transfers, proposals refused during a
 * transfer, check-quorum step-downs, and slow followers dropping messages.
 */
export function missingCoverage(t: SweepTotals, features: Features = 'all'): string[] {
  const s = t.sums;
  const need: Array<[string, boolean]> = [
    ['messages dropped', (s.drops ?? 0) > 0],
    ['messages duplicated', (s.duplicates ?? 0) > 0],
    ['messages reordered', (s.reordered ?? 0) > 0],
    ['partitions', (s.partitions ?? 0) > 0 && (s.partitionDrops ?? 0) > 0],
    ['crashes and restarts', (s.crashes ?? 0) > 0 && (s.restarts ?? 0) > 0],
    ['crashes losing writes not yet durable', (s.crashesLosingWrites ?? 0) > 0],
    ['local compactions', (s.compactions ?? 0) > 0],
    ['snapshot transfers lost', (s.snapshotsLost ?? 0) > 0],
    ['snapshots installed', (s.snapshotsInstalled ?? 0) > 0],
    ['configuration changes committed', (s.configChanges ?? 0) > 0],
    [
      'nodes added, promoted and removed',
      (s.nodesAdded ?? 0) > 0 && (s.promotions ?? 0) > 0 && (s.nodesRemoved ?? 0) > 0,
    ],
    ['leader changes', (s.leaderChanges ?? 0) > 0],
    ['several terms in most runs', t.runsWithSeveralTerms * 2 > t.seeds],
    ['slow followers dropping messages', (s.slowEpisodes ?? 0) > 0 && (s.slowDrops ?? 0) > 0],
    ['skewed timers', (s.skewedNodes ?? 0) > 0],
  ];
  if (features !== 'none') {
    need.push(
      ['reads answered and checked', (s.readsChecked ?? 0) > 0],
      ['reads refused', (s.readsRejected ?? 0) > 0],
      ['pre-votes', (s.preVotes ?? 0) > 0],
      ['leadership transfers completed', (s.transfersCompleted ?? 0) > 0],
      ['proposals refused during a transfer', (s.proposalsRejectedByTransfer ?? 0) > 0],
      ['check-quorum step-downs', (s.checkQuorumStepDowns ?? 0) > 0],
    );
  }
  return need.filter(([, ok]) => !ok).map(([what]) => what);
}

/** Run `seeds` in this thread, one after another. */
export function runSeeds(
  seeds: Iterable<number>,
  optionsFor: (seed: number) => SimOptionsInput,
  plugins: SimPlugins = {},
  onRun?: (summary: SimSummary, trace: Trace | null) => string | null,
): SweepTotals {
  const t = emptyTotals();
  for (const seed of seeds) {
    const r = simulate(optionsFor(seed), plugins);
    const written = onRun === undefined ? null : onRun(r.summary, r.violation === null ? null : r.trace);
    addSummary(t, r.summary, written);
  }
  return t;
}
