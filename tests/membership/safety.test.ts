/**
 * Raft safety with membership changes and snapshots, under an adversarial network.
 *
 * Three voters (n1..n3) form the cluster; two more nodes (n4, n5) start empty and may be added. A
 * generated schedule delivers any message or snapshot transfer in flight (so they arrive in any
 * order), drops or duplicates one, delivers several at once to one node through `stepAll` (merged
 * actions), fires timers, proposes commands, sends heartbeats, restarts nodes from their storage,
 * compacts logs at committed indices, and proposes membership changes on the leader: add a voter,
 * remove a voter, replace a voter by another in one joint change, add or remove a non-voter, promote
 * a non-voter. Snapshot transfers happen when a leader asks for them (`installSnapshot`) and travel
 * like messages. Voters are removed (or replaced) only while there are more than two, as in
 * noraft's pbt: a leader removing itself from two voters can deadlock the cluster (a liveness issue
 * raftstep shares with noraft, pinned in tests/sim/known-issues.test.ts).
 *
 * After every decision the invariants of the shared checker (tests/support/checker.ts) hold (one
 * leader per term; committed entries, snapshot boundaries and snapshot configurations agree with a
 * global record of what was committed; a new leader holds what was committed before it; leaders
 * only append; terms and commit indices never decrease; configuration entries follow the joint
 * consensus rules in every log). At the end the cluster settles and every member holds the final
 * configuration the committed changes lead to. Coverage counters show that configuration changes
 * committed, snapshots were installed from leaders, logs were compacted and several terms passed.
 */
import fc from 'fast-check';
import { emptyEntries, latestConfig } from '../../src/index.js';
import * as append from '../../src/append.js';
import * as commit from '../../src/commit.js';
import * as membership from '../../src/membership.js';
import * as roles from '../../src/roles.js';
import { fcParams } from '../support/seed';
import { Checker, type Coverage } from '../support/checker';
import { Cluster, stabilize, zeroCounts, type Choice, type ConfigOp, type Counts } from './cluster';

const IDS = ['n1', 'n2', 'n3', 'n4', 'n5'];
const VOTERS = ['n1', 'n2', 'n3'];

const k = fc.nat({ max: 1000 });
const i = fc.nat({ max: 99 });
const choiceArb: fc.Arbitrary<Choice> = fc.oneof(
  { weight: 50, arbitrary: k.map((k) => ({ t: 'deliver' as const, k })) },
  { weight: 6, arbitrary: k.map((k) => ({ t: 'drop' as const, k })) },
  { weight: 3, arbitrary: k.map((k) => ({ t: 'duplicate' as const, k })) },
  { weight: 8, arbitrary: fc.record({ t: fc.constant('batch' as const), i: k, n: fc.integer({ min: 2, max: 5 }) }) },
  { weight: 2, arbitrary: i.map((i) => ({ t: 'cut' as const, i })) },
  { weight: 6, arbitrary: i.map((i) => ({ t: 'timeout' as const, i })) },
  { weight: 5, arbitrary: i.map((i) => ({ t: 'heartbeat' as const, i })) },
  {
    weight: 10,
    arbitrary: fc.record({ t: fc.constant('propose' as const), i, count: fc.integer({ min: 1, max: 3 }) }),
  },
  {
    weight: 8,
    arbitrary: fc.record({
      t: fc.constant('config' as const),
      op: fc.constantFrom<ConfigOp>('addVoter', 'removeVoter', 'addNonVoter', 'removeNonVoter', 'promote', 'replace'),
      j: i,
    }),
  },
  {
    weight: 5,
    arbitrary: fc.record({ t: fc.constant('compact' as const), i, f: fc.double({ min: 0, max: 1, noNaN: true }) }),
  },
  { weight: 1, arbitrary: i.map((i) => ({ t: 'restart' as const, i })) },
);

/** Schedules of up to 300 decisions (fast-check shrinks them to a short counterexample). */
const scheduleArb = fc.array(choiceArb, { minLength: 1, maxLength: 300, size: 'max' });

/** `n` runs, times PROPS_SCALE when set (e.g. `PROPS_SCALE=10` for a long bug hunt). */
function runs(n: number): number {
  const scale = Number(process.env.PROPS_SCALE ?? 1);
  return Math.max(1, Math.round(n * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}

type Totals = Counts & {
  runs: number;
  maxTerm: number;
  runsWithSeveralTerms: number;
  runsWithConfigCommitted: number;
  runsWithJointCompleted: number;
  runsWithRemoteSnapshot: number;
  runsWithCompaction: number;
  configsCommitted: number;
  jointCommitted: number;
  jointCompleted: number;
  nonVoterChangesCommitted: number;
  promotionsCommitted: number;
  voterRemovalsCommitted: number;
  stabilizeRounds: number;
};

function newTotals(): Totals {
  return {
    runs: 0,
    maxTerm: 0,
    runsWithSeveralTerms: 0,
    runsWithConfigCommitted: 0,
    runsWithJointCompleted: 0,
    runsWithRemoteSnapshot: 0,
    runsWithCompaction: 0,
    configsCommitted: 0,
    jointCommitted: 0,
    jointCompleted: 0,
    nonVoterChangesCommitted: 0,
    promotionsCommitted: 0,
    voterRemovalsCommitted: 0,
    stabilizeRounds: 0,
    ...zeroCounts(),
  };
}

function runSchedule(schedule: readonly Choice[], totals: Totals): void {
  const cluster = new Cluster(IDS);
  const checker = new Checker(cluster.host);
  cluster.stepNode('n1', { type: 'createCluster', voters: VOTERS });
  checker.check();
  for (const choice of schedule) {
    cluster.run(choice);
    checker.check();
  }
  const rounds = stabilize(cluster, checker);
  add(totals, cluster.counts, checker.coverage(), rounds);
}

function add(t: Totals, counts: Counts, cov: Coverage, rounds: number): void {
  t.runs++;
  for (const key of Object.keys(counts) as Array<keyof Counts>) t[key] += counts[key];
  t.maxTerm = Math.max(t.maxTerm, cov.maxTerm);
  if (cov.leaderships >= 3) t.runsWithSeveralTerms++;
  if (cov.configsCommitted > 0) t.runsWithConfigCommitted++;
  if (cov.jointCompleted > 0) t.runsWithJointCompleted++;
  if (counts.snapshotsInstalled > 0) t.runsWithRemoteSnapshot++;
  if (counts.compactions > 0) t.runsWithCompaction++;
  t.configsCommitted += cov.configsCommitted;
  t.jointCommitted += cov.jointCommitted;
  t.jointCompleted += cov.jointCompleted;
  t.nonVoterChangesCommitted += cov.nonVoterChangesCommitted;
  t.promotionsCommitted += cov.promotionsCommitted;
  t.voterRemovalsCommitted += cov.voterRemovalsCommitted;
  t.stabilizeRounds += rounds;
}

describe('safety with membership changes, compaction and snapshot transfers', () => {
  test('3 voters + 2 spare nodes: one leader per term, committed entries and snapshots agree, changes complete', () => {
    const totals = newTotals();
    fc.assert(
      fc.property(scheduleArb, (schedule) => runSchedule(schedule, totals)),
      fcParams('membership: safety with config changes and snapshots', runs(3000)),
    );
    // eslint-disable-next-line no-console
    console.log(`[coverage] membership safety: ${JSON.stringify(totals)}`);
    if (process.env.FC_PATH) return; // replaying one counterexample: coverage means nothing
    const r = totals.runs;
    expect(totals.runsWithSeveralTerms).toBeGreaterThan(r * 0.3);
    expect(totals.runsWithConfigCommitted).toBeGreaterThan(r * 0.5);
    expect(totals.runsWithJointCompleted).toBeGreaterThan(r * 0.2);
    expect(totals.nonVoterChangesCommitted).toBeGreaterThan(0);
    expect(totals.promotionsCommitted).toBeGreaterThan(0);
    expect(totals.voterRemovalsCommitted).toBeGreaterThan(0);
    expect(totals.removedLeaderStepDowns).toBeGreaterThan(0);
    expect(totals.configsRejected).toBeGreaterThan(0);
    expect(totals.runsWithCompaction).toBeGreaterThan(r * 0.5);
    expect(totals.runsWithRemoteSnapshot).toBeGreaterThan(r * 0.1);
    expect(totals.snapshotResets).toBeGreaterThan(0);
    expect(totals.batchesWithCompaction).toBeGreaterThan(0);
    expect(totals.transfersDropped).toBeGreaterThan(0);
    expect(totals.restarts).toBeGreaterThan(0);
  });

  // (A mutant that ignores joint consensus — elections and commits counting only the new voters —
  // is caught in about three runs of four within 3000 schedules: too unreliable to assert here.
  // Joint majorities are pinned down by scenarios 27 and 39 and by tests/unit/quorum.test.ts.)
  describe('the checks catch a broken implementation (so passing means something)', () => {
    /** fast-check finds a failing schedule while `mutate` is in place, and the failure matches `expected`. */
    function expectCaught(name: string, mutate: () => jest.SpyInstance, expected: RegExp): void {
      const spy = mutate();
      try {
        const result = fc.check(
          fc.property(scheduleArb, (schedule) => runSchedule(schedule, newTotals())),
          {
            ...fcParams(`membership mutant: ${name}`, 3000),
            path: undefined,
            endOnFailure: true,
          },
        );
        expect(result.failed).toBe(true);
        expect(String(result.errorInstance)).toMatch(expected);
      } finally {
        spy.mockRestore();
      }
    }

    test('a leader that never appends the final configuration: the change never completes', () => {
      expectCaught(
        'no final configuration',
        () =>
          jest.spyOn(append, 'finalConfigAppend').mockImplementation((s) => ({
            log: s.log,
            entries: emptyEntries(s.log.lastTerm, s.log.lastIndex),
            progress: s.progress,
          })),
        /no settled configuration/,
      );
    });

    test('a removed leader that never steps down: the cluster never settles', () => {
      const original = roles.becomeFollower;
      expectCaught(
        'removed leader keeps leading',
        () =>
          jest
            .spyOn(roles, 'becomeFollower')
            .mockImplementation((s, term) => (s.role === 'leader' && term === s.term ? [s, []] : original(s, term))),
        /no settled configuration/,
      );
    });

    test('a second change taken while one is in progress: the joint rules break', () => {
      const original = membership.proposeConfig;
      expectCaught(
        'change while joint',
        () =>
          jest
            .spyOn(membership, 'proposeConfig')
            .mockImplementation((s, config) =>
              s.role === 'leader' && config.voters.join() === latestConfig(s).voters.join()
                ? commit.replicateAppend(s, append.configAppend(s, config))
                : original(s, config),
            ),
        /joint configuration .* is followed/,
      );
    });
  });
});
