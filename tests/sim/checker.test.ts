/**
 * The checker can fail: deliberately broken nodes (a custom `step` wrapping the real one) and a
 * broken application must be caught, and the failing run's trace must replay to the same point.
 */
import { createTimeline, recordingFromTrace } from '../../src/timetravel/index.js';
import {
  MUTANTS,
  MUTANT_NAMES,
  describeViolation,
  parseTrace,
  replayTrace,
  serializeTrace,
  simulate,
  type InvariantName,
  type MutantName,
  type SimApplication,
  type SimResult,
} from '../../src/sim/index.js';

/** The first failing run among seeds 1..maxSeeds, every node running `mutant`. */
function firstFailure(mutant: MutantName, maxSeeds: number): SimResult | null {
  for (let seed = 1; seed <= maxSeeds; seed++) {
    const r = simulate({ seed, steps: 3000, mutant });
    if (r.violation !== null) return r;
  }
  return null;
}

/** The mutants of the base protocol (the others break the extensions: reads, pre-vote). */
const BASE_MUTANTS: MutantName[] = [
  'votesWithoutLogCheck',
  'commitsOnAMinority',
  'winsWithOneVote',
  'believesStaleReplies',
];

/** The mutants of the extensions (reads, pre-vote). */
const EXTENSION_MUTANTS: MutantName[] = ['readBeforeRound', 'preVoteWhileLeaderAlive'];

/** The mutant of concurrent leader writes (tested on its own, with three nodes). */
const CONCURRENT_WRITES_MUTANT: MutantName = 'countsOwnWriteAtOnce';

test('every mutant is tested below', () => {
  expect([...BASE_MUTANTS, ...EXTENSION_MUTANTS, CONCURRENT_WRITES_MUTANT].sort()).toEqual([...MUTANT_NAMES].sort());
});

describe('the checker catches broken nodes', () => {
  const cases: Array<[MutantName, number, InvariantName[]]> = [
    ['votesWithoutLogCheck', 20, ['electionRestriction']],
    ['commitsOnAMinority', 40, ['committedByMajority']],
    ['winsWithOneVote', 40, ['electedByMajority']],
    ['believesStaleReplies', 5, ['matchIndexMonotonic']],
    ['readBeforeRound', 5, ['leadershipConfirmed', 'linearizableRead']],
    ['preVoteWhileLeaderAlive', 20, ['preVoteRestriction']],
  ];

  test.each(cases)('%s is caught', (mutant, maxSeeds, expected) => {
    const r = firstFailure(mutant, maxSeeds);
    expect(r).not.toBeNull();
    const v = r!.violation!;
    expect(expected).toContain(v.invariant);
    expect(v.seed).toBe(r!.options.seed);
    expect(v.nodes.length).toBeGreaterThan(0);
    expect(v.event).toBe(r!.summary.events);
    expect(describeViolation(v)).toContain(`seed ${v.seed}`);
    expect(r!.summary.violations).toBe(1);
    expect(r!.summary.mutant).toBe(mutant);
    // The failing run's trace replays (with the mutant named in its header) to the very same states.
    const trace = parseTrace(serializeTrace(r!.trace!));
    expect(trace.header.options?.mutant).toBe(mutant);
    expect(trace.end?.violation).toEqual(v);
    const replay = replayTrace(trace);
    expect(replay.error).toBeNull();
    expect(replay.mismatches).toEqual([]);
    expect(replay.ok).toBe(true);
    // ... and time travel shows the nodes right after the violating event.
    const timeline = createTimeline(recordingFromTrace(trace));
    for (const id of v.nodes) expect(timeline.stateAt(v.event, id)).toEqual(r!.world.node(id)!.state);
    // The same run through a custom step wrapping the mutant is the same run.
    const wrapped = simulate({ seed: v.seed, steps: 3000 }, { step: (s, e) => MUTANTS[mutant].step(s, e) });
    expect(wrapped.violation).toEqual(v);
  });

  // The checks must find each mutant almost every time, not once in a while: at least 90 % of the
  // seeds of a small sweep (5 nodes, 5,000 events, every fault), with the base protocol. Seeds are
  // fixed, so the counts are exact; at the time of writing they are 36, 40, 40 and 40 of 40 (the
  // first, a vote without the log check, needs a stale node to campaign: over 200 seeds it is caught
  // in 90.5 % of them, so 36 of these 40 is its expected share, not a regression).
  test.each(BASE_MUTANTS.map((m) => [m]))('%s is caught by at least 90 %% of 40 seeds', (mutant) => {
    let caught = 0;
    for (let seed = 1; seed <= 40; seed++) {
      if (simulate({ seed, nodes: 5, steps: 5000, faults: 'all', mutant, features: 'none' }).violation !== null)
        caught++;
    }
    expect(caught).toBeGreaterThanOrEqual(36);
  });

  // With the extensions on, the same mutants are still caught. A broken vote rule matters much less
  // often then: check-quorum makes followers of a live leader ignore vote requests, and a stale
  // candidate rarely gets that far. So the bar is lower for it: at the time of writing 19, 40, 40
  // and 40 of 40 (and 36, 40, 40, 40 with the base protocol, above).
  test.each(BASE_MUTANTS.map((m) => [m]))('%s is caught with every extension on', (mutant) => {
    let caught = 0;
    for (let seed = 1; seed <= 40; seed++) {
      if (simulate({ seed, nodes: 5, steps: 5000, faults: 'all', mutant, features: 'all' }).violation !== null)
        caught++;
    }
    expect(caught).toBeGreaterThanOrEqual(mutant === 'votesWithoutLogCheck' ? 12 : 36);
  });

  // The mutants of the extensions, with every extension on: caught on at least 36 of 40 seeds (34 for
  // preVoteWhileLeaderAlive, see below). These
  // runs are 8,000 events long: with the extensions an event buys less virtual time (heartbeats that
  // a busy leader now sends, leadership checks, reads), and 8,000 events are about the 10 s of
  // virtual time that 5,000 events are with the base protocol.
  // - readBeforeRound (a leader answers reads at once, without a leadership check) is caught on every
  //   seed by the ReadIndex rule (`leadershipConfirmed`) at its first read on a leader with a peer;
  //   a stale read proper needs a deposed leader still serving while its successor commits, which
  //   check-quorum makes rare (see the next test for how often it shows alone).
  // - preVoteWhileLeaderAlive is caught by the pre-vote rule (`preVoteRestriction`) when an
  //   up-to-date node asks a follower that still hears from the leader: mostly right after the
  //   leader crashed or was cut off. At the time of writing 40 and 35 of 40 (with concurrent leader
  //   writes among the extensions; 37 before them), so its bar is 34 (85 %).
  test.each(EXTENSION_MUTANTS.map((m) => [m]))(
    '%s is caught on at least 34 of 40 seeds, every extension on',
    (mutant) => {
      let caught = 0;
      for (let seed = 1; seed <= 40; seed++) {
        if (simulate({ seed, nodes: 5, steps: 8000, faults: 'all', mutant, features: 'all' }).violation !== null)
          caught++;
      }
      expect(caught).toBeGreaterThanOrEqual(mutant === 'preVoteWhileLeaderAlive' ? 34 : 36);
    },
  );

  // Without the ReadIndex rule (with lease reads on, a leader may answer at once, so the rule is not
  // checked), readBeforeRound is caught by the stale reads it serves, which the read tracker checks
  // against the committed history: a leader answering before it committed an entry of its term, or
  // after its lease ran out while a successor commits. At the time of writing 37 of 40.
  test('readBeforeRound serves stale reads the linearizability check catches (lease reads on)', () => {
    const invariants = new Set<string>();
    let caught = 0;
    for (let seed = 1; seed <= 40; seed++) {
      const v = simulate({
        seed,
        nodes: 5,
        steps: 8000,
        faults: 'all',
        mutant: 'readBeforeRound',
        features: 'lease',
      }).violation;
      if (v !== null) {
        caught++;
        invariants.add(v.invariant);
      }
    }
    expect([...invariants]).toEqual(['linearizableRead']);
    // Only a read answered by a leader that was already deposed is stale, and check-quorum makes
    // that window short: 35 of these 40 seeds at the time of writing.
    expect(caught).toBeGreaterThanOrEqual(32);
  });

  // countsOwnWriteAtOnce (a leader counts its own entries before they are durable, while it sends
  // them) is caught by the commit rule, which with concurrent leader writes counts the leader's copy
  // only in its durable log (`committedByMajority`). That needs a commit that rests on the leader's
  // copy, so three nodes (the leader and one follower are a majority) and a follower that answered
  // before the leader's disk did: 22 of these 40 seeds at the time of writing (2 of 40 with 5 nodes).
  test('countsOwnWriteAtOnce is caught by the commit rule (three nodes, concurrent leader writes)', () => {
    let caught = 0;
    let first: SimResult | null = null;
    for (let seed = 1; seed <= 40; seed++) {
      const r = simulate({ seed, nodes: 3, steps: 8000, faults: 'all', mutant: CONCURRENT_WRITES_MUTANT });
      if (r.violation === null) continue;
      caught++;
      first ??= r;
      expect(r.violation.invariant).toBe('committedByMajority');
    }
    expect(caught).toBeGreaterThanOrEqual(18);
    const replay = replayTrace(parseTrace(serializeTrace(first!.trace!)));
    expect(replay.ok).toBe(true);
  });

  test('a simulation with the real step finds nothing on the same seeds', () => {
    for (let seed = 1; seed <= 5; seed++) expect(simulate({ seed, steps: 3000 }).violation).toBeNull();
  });
});

describe('the checker catches broken applications', () => {
  /** A bank: transfers between accounts keep the total; a replica must never see a negative total. */
  interface Bank {
    readonly balances: readonly number[];
  }
  type Transfer = { from: number; to: number; amount: number };
  const bank = (applyHook?: (b: Bank, t: Transfer, index: number) => Bank): SimApplication<Bank, Transfer> => ({
    initial: { balances: [100, 100, 100, 100] },
    command: (rng) => ({ from: rng.int(0, 3), to: rng.int(0, 3), amount: rng.int(1, 30) }),
    apply(b, t, index) {
      if (applyHook !== undefined) return applyHook(b, t, index);
      if (b.balances[t.from]! < t.amount) return b; // refused: not enough money
      const balances = b.balances.slice();
      balances[t.from]! -= t.amount;
      balances[t.to]! += t.amount;
      return { balances };
    },
    check: (b) =>
      b.balances.reduce((x, y) => x + y, 0) === 400 ? null : `total is ${b.balances.reduce((x, y) => x + y, 0)}`,
  });

  test('a correct application: every replica agrees, the total is kept', () => {
    const r = simulate({ seed: 11, steps: 4000 }, { app: bank() });
    expect(r.violation).toBeNull();
    expect(r.summary.commits).toBeGreaterThan(100);
    // Every running replica that applied the same index holds the same balances.
    const up = r.world.running();
    const maxApplied = Math.max(...up.map((h) => h.machine.index));
    const leaders = up.filter((h) => h.machine.index === maxApplied);
    for (const h of leaders) expect(h.machine.app).toEqual(leaders[0]!.machine.app);
  });

  test('an application that breaks its own invariant is reported as such', () => {
    const leaky = bank((b, t) => ({ balances: b.balances.map((x, i) => (i === t.from ? x - t.amount : x)) }));
    const r = simulate({ seed: 11, steps: 4000 }, { app: leaky });
    expect(r.violation?.invariant).toBe('application');
  });

  test('a non-deterministic application (replicas diverge) breaks state-machine safety', () => {
    let calls = 0;
    const flaky = bank((b, t) => {
      calls++; // depends on how many times apply ran anywhere: replicas disagree
      const balances = b.balances.slice();
      const amount = calls % 7 === 0 ? 0 : Math.min(t.amount, balances[t.from]!);
      balances[t.from]! -= amount;
      balances[t.to]! += amount;
      return { balances };
    });
    const r = simulate({ seed: 11, steps: 4000 }, { app: flaky });
    expect(r.violation?.invariant).toBe('stateMachineSafety');
  });

  test('a world invariant of your own is checked after every event', () => {
    let calls = 0;
    const r = simulate(
      { seed: 5, steps: 2000 },
      {
        invariants: [
          (w) => {
            calls++;
            return w.stats.commits > 50 ? `more than 50 commits (${w.stats.commits})` : null;
          },
        ],
      },
    );
    expect(r.violation?.invariant).toBe('application');
    expect(r.violation?.message).toContain('more than 50 commits');
    expect(calls).toBe(r.violation!.event);
  });
});
