/**
 * Raft safety under an adversarial network.
 *
 * A cluster of 3 (and of 5) nodes runs a generated schedule: deliver any in-flight message (so
 * messages arrive in any order), duplicate one, drop one, fire a node's timer, propose on a node,
 * send a heartbeat, crash and restart a node from what it stored, or ask a node to form the cluster.
 * Storage is instantly durable here; the shared test host rebuilds a restarted node's log from its
 * `appendLog` and `compactLog` actions with `applyToStoredLog`.
 *
 * After every decision the invariants of the shared checker (tests/support/checker.ts) must hold: one
 * leader per term, committed prefixes agree and never change, terms never decrease, commit indices
 * never decrease while a node runs, a leader's log only grows during its leadership, a leader's match
 * indices never decrease, a new leader holds everything committed before it, snapshots and
 * configuration entries follow the rules. Coverage counters show that elections, leader changes,
 * commits and repairs of divergent logs really happened.
 */
import fc from 'fast-check';
import { fcParams } from '../support/seed';
import { latestConfig, step, type RaftEvent, type RaftState } from '../../src/index.js';
import { Checker } from '../support/checker';
import type { Stepper } from '../support/host';
import { Cluster, EXTENDED_WEIGHTS, nodeIds, scheduleArb, type Choice, runs } from './harness';

interface RunTotals {
  leaderships: number;
  leaderChanges: number;
  maxTerm: number;
  maxCommit: number;
  tailsRepaired: number;
  leaderDetectedDivergence: number;
  followerDetectedDivergence: number;
  runs: number;
  runsWithLeaderChange: number;
  runsWithCommit: number;
  runsWithRepair: number;
  runsWithSeveralTerms: number;
  restarts: number;
  duplicated: number;
  dropped: number;
  steps: number;
  compactions: number;
  snapshotsSent: number;
  runsWithVoterChange: number;
  runsWithSnapshotTransfer: number;
}

function newTotals(): RunTotals {
  return {
    leaderships: 0,
    leaderChanges: 0,
    maxTerm: 0,
    maxCommit: 0,
    tailsRepaired: 0,
    leaderDetectedDivergence: 0,
    followerDetectedDivergence: 0,
    runs: 0,
    runsWithLeaderChange: 0,
    runsWithCommit: 0,
    runsWithRepair: 0,
    runsWithSeveralTerms: 0,
    restarts: 0,
    duplicated: 0,
    dropped: 0,
    steps: 0,
    compactions: 0,
    snapshotsSent: 0,
    runsWithVoterChange: 0,
    runsWithSnapshotTransfer: 0,
  };
}

/**
 * Run `schedule` on a fresh cluster of `n` nodes, of which the first `voters` form the cluster,
 * checking the invariants after every decision.
 */
function runSafety(n: number, schedule: readonly Choice[], totals: RunTotals, voters = n, stepper?: Stepper): void {
  const ids = nodeIds(n);
  const initial = ids.slice(0, voters);
  const cluster = new Cluster(ids, { voters: initial, ...(stepper ? { stepper } : {}) });
  const checker = new Checker(cluster.host);
  cluster.stepNode(ids[0]!, { type: 'createCluster', voters: initial });
  checker.check();
  for (const choice of schedule) {
    cluster.run(choice);
    checker.check();
  }
  const cov = checker.coverage();
  totals.runs++;
  totals.leaderships += cov.leaderships;
  totals.leaderChanges += cov.leaderChanges;
  totals.maxTerm = Math.max(totals.maxTerm, cov.maxTerm);
  totals.maxCommit = Math.max(totals.maxCommit, cov.maxCommit);
  totals.tailsRepaired += cov.tailsRepaired;
  totals.leaderDetectedDivergence += cov.leaderDetectedDivergence;
  totals.followerDetectedDivergence += cov.followerDetectedDivergence;
  if (cov.leaderChanges > 0) totals.runsWithLeaderChange++;
  if (cov.maxCommit > 1) totals.runsWithCommit++;
  if (cov.tailsRepaired > 0) totals.runsWithRepair++;
  if (cov.leaderships >= 3) totals.runsWithSeveralTerms++;
  totals.restarts += cluster.counts.restarts;
  totals.duplicated += cluster.counts.duplicated;
  totals.dropped += cluster.counts.dropped;
  totals.steps += cluster.counts.steps;
  totals.compactions += cluster.counts.compactions;
  totals.snapshotsSent += cluster.counts.snapshotsSent;
  if (cluster.counts.snapshotsSent > 0) totals.runsWithSnapshotTransfer++;
  const changed = ids.some((id) => {
    const voters = latestConfig(cluster.state(id)).voters;
    return voters.length > 0 && voters.join() !== initial.join();
  });
  if (changed) totals.runsWithVoterChange++;
}

function report(name: string, t: RunTotals): void {
  // eslint-disable-next-line no-console
  console.log(`[coverage] ${name}: ${JSON.stringify(t)}`);
}

describe('safety under reordering, loss, duplication, timeouts and crashes', () => {
  test('3 nodes: one leader per term, committed entries agree and never change, leaders only append', () => {
    const totals = newTotals();
    fc.assert(
      fc.property(scheduleArb(300), (schedule) => runSafety(3, schedule, totals)),
      fcParams('safety: 3 nodes', runs(300)),
    );
    report('3 nodes', totals);
    if (process.env.FC_PATH) return; // replaying one counterexample: coverage is meaningless
    expect(totals.runsWithLeaderChange).toBeGreaterThan(totals.runs * 0.3);
    expect(totals.runsWithCommit).toBeGreaterThan(totals.runs * 0.5);
    expect(totals.runsWithSeveralTerms).toBeGreaterThan(totals.runs * 0.3);
    expect(totals.runsWithRepair).toBeGreaterThan(totals.runs * 0.05);
    expect(totals.leaderDetectedDivergence).toBeGreaterThan(0);
    expect(totals.followerDetectedDivergence).toBeGreaterThan(0);
    expect(totals.restarts).toBeGreaterThan(0);
  });

  test('5 nodes: the same invariants', () => {
    const totals = newTotals();
    fc.assert(
      fc.property(scheduleArb(300), (schedule) => runSafety(5, schedule, totals)),
      fcParams('safety: 5 nodes', runs(150)),
    );
    report('5 nodes', totals);
    if (process.env.FC_PATH) return;
    expect(totals.runsWithLeaderChange).toBeGreaterThan(totals.runs * 0.2);
    expect(totals.runsWithCommit).toBeGreaterThan(totals.runs * 0.3);
    expect(totals.runsWithRepair).toBeGreaterThan(0);
  });

  test('3 voters and 2 spare nodes, with membership changes and log compaction: the same invariants', () => {
    const totals = newTotals();
    fc.assert(
      fc.property(scheduleArb(300, EXTENDED_WEIGHTS), (schedule) => runSafety(5, schedule, totals, 3)),
      fcParams('safety: membership and snapshots', runs(200)),
    );
    report('membership and snapshots', totals);
    if (process.env.FC_PATH) return;
    expect(totals.runsWithVoterChange).toBeGreaterThan(totals.runs * 0.1);
    expect(totals.runsWithSnapshotTransfer).toBeGreaterThan(0);
    expect(totals.runsWithCommit).toBeGreaterThan(totals.runs * 0.3);
    expect(totals.runsWithLeaderChange).toBeGreaterThan(totals.runs * 0.1);
  });

  describe('the invariants catch a broken Raft (so passing means something)', () => {
    /** fast-check finds a counterexample for `stepper`, and the failure names the invariant. */
    function expectCaught(name: string, stepper: Stepper, invariant: RegExp): void {
      const result = fc.check(
        fc.property(scheduleArb(300), (schedule) => runSafety(3, schedule, newTotals(), 3, stepper)),
        { ...fcParams(name, runs(300)), path: undefined, endOnFailure: true },
      );
      expect(result.failed).toBe(true);
      expect(String(result.errorInstance)).toMatch(invariant);
    }

    test('voters that forget whom they voted for: two leaders in one term', () => {
      const forgetful: Stepper = (s: RaftState, e: RaftEvent) => {
        if (e.type !== 'requestVote' || e.term !== s.term || s.votedFor === null) return step(s, e);
        const [next, actions] = step({ ...s, votedFor: null }, e);
        return [{ ...next, votedFor: next.votedFor ?? s.votedFor }, actions];
      };
      expectCaught('mutant: forgetful voters', forgetful, /two leaders in term/);
    });

    test('voters that skip the up-to-date check: committed entries are lost', () => {
      const careless: Stepper = (s: RaftState, e: RaftEvent) =>
        step(s, e.type === 'requestVote' ? { ...e, lastTerm: e.term, lastIndex: 2 ** 40 } : e);
      expectCaught('mutant: careless voters', careless, /committed|without the entries committed/);
    });
  });
});
