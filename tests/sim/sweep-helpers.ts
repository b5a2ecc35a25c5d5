/**
 * The seeded CI sweep: seeds run with every fault enabled; a failing seed writes its trace under
 * traces/ (gitignored) so that it can be replayed and inspected.
 */
import {
  addSummary,
  emptyTotals,
  missingCoverage,
  simulate,
  sweepOptions,
  type Features,
  type SimOptionsInput,
  type SweepTotals,
} from '../../src/sim/index.js';
import { defaultTracePath, writeTraceFile } from '../../src/sim/trace-file.js';
import { describeViolation } from '../../src/sim/index.js';

/** Steps per seed in CI: long enough for elections, snapshots and membership changes in most runs. */
export const CI_STEPS = 8000;

/** Run seeds `from..to` (inclusive) with all faults, 3 to 7 nodes chosen by seed. */
export function ciSweep(from: number, to: number, options: Omit<SimOptionsInput, 'seed' | 'nodes'> = {}): SweepTotals {
  const totals = emptyTotals();
  for (let seed = from; seed <= to; seed++) {
    const r = simulate(sweepOptions(seed, { nodes: [3, 7], steps: CI_STEPS, faults: 'all', ...options }));
    let written: string | null = null;
    if (r.violation !== null && r.trace !== null) {
      written = defaultTracePath(seed);
      writeTraceFile(written, r.trace);
    }
    addSummary(totals, r.summary, written);
  }
  return totals;
}

/** Report a sweep (coverage line, and each failing seed with how to replay it). */
export function report(name: string, t: SweepTotals): void {
  // eslint-disable-next-line no-console
  console.log(
    `[sweep] ${name}: ${t.seeds} seeds, ${t.violations.length} violations, ${JSON.stringify(t.sums)}, ` +
      `runs with >= 3 terms: ${t.runsWithSeveralTerms}, with a config change: ${t.runsWithConfigChange}, ` +
      `with a snapshot installed: ${t.runsWithSnapshot}, max term ${t.maxTerm}, slowest recovery ${t.maxLivenessTook} ms, ` +
      `most entries in flight to one follower ${t.maxInflight}`,
  );
  for (const v of t.violations) {
    // eslint-disable-next-line no-console
    console.log(
      `[sweep] FAILED ${describeViolation(v.violation)}; replay: npm run sim -- --replay ${v.trace ?? '(not written)'}`,
    );
  }
}

/** The assertions every CI sweep file makes: no violation, every fault and feature exercised. */
export function expectCleanAndCovered(t: SweepTotals, seeds: number, features: Features = 'all'): void {
  expect(t.seeds).toBe(seeds);
  expect(t.violations.map((v) => describeViolation(v.violation))).toEqual([]);
  expect(missingCoverage(t, features)).toEqual([]);
  expect(t.runsWithConfigChange).toBeGreaterThan(seeds / 2);
  expect(t.runsWithSnapshot).toBeGreaterThan(seeds / 4);
  expect(t.sums.leaderChanges ?? 0).toBeGreaterThan(seeds);
  if (features !== 'none') {
    // Reads are the workload of the extensions: most are answered (and checked) rather than refused.
    expect(t.sums.readsChecked ?? 0).toBeGreaterThan((t.sums.reads ?? 0) / 2);
    expect(t.maxInflight).toBeLessThanOrEqual(80); // SIM_FLOW_CONTROL: 64 + 16
  }
}
