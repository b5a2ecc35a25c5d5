/**
 * The simulator for the production protocol: `features` (all, lease, none) and the node options
 * they give, client reads checked against the committed history, lease reads and clock skew within
 * (and beyond) the bound a lease tolerates, slow followers and flow control's bound, leadership
 * transfers by the operator and the client's retries, the counters the summary gains, and the
 * checks of the extensions' rules (no pre-vote while a leader is alive, no read answered before a
 * leadership check). Runs use fixed seeds (each test names its own: rerun it to replay); the one
 * property test prints its seed (`FC_SEED=<seed> npx jest tests/sim/features.test.ts` replays it).
 */
import fc from 'fast-check';
import { BASIC_OPTIONS, DEFAULT_OPTIONS as CORE_DEFAULTS, step } from '../../src/index.js';
import {
  DEFAULT_TIMING,
  FAULT_NAMES,
  MUTANTS,
  SIM_FLOW_CONTROL,
  SimViolation,
  Simulation,
  World,
  describeSummary,
  leaseSkewBound,
  nodeOptionsFor,
  normalizeOptions,
  parseTrace,
  replayTrace,
  serializeTrace,
  simulate,
  skewOf,
  type InvariantName,
  type ProposeOutcome,
  type Stepper,
} from '../../src/sim/index.js';
import { fcParams } from '../support/seed';

/** The invariant a function's SimViolation names, or null when it returned. */
function violationOf(f: () => void): InvariantName | null {
  try {
    f();
    return null;
  } catch (err) {
    if (err instanceof SimViolation) return err.violation.invariant;
    throw err;
  }
}

/** An automatic world of three nodes (no random faults) with n1 leading, for `features`. */
function threeNodes(features: 'all' | 'lease', step?: Stepper): World {
  const w = new World({
    seed: 1,
    faults: [],
    nodeOptions: nodeOptionsFor({ features, timing: DEFAULT_TIMING }),
    record: false,
    ...(step !== undefined ? { step } : {}),
  });
  w.bootstrap(['n1', 'n2', 'n3']);
  w.advance(200);
  expect(w.leader()?.id).toBe('n1');
  return w;
}

describe('features and node options', () => {
  test('all, lease and none select the node options; lease keeps a drift margin of at least a tick', () => {
    const timing = DEFAULT_TIMING;
    expect(nodeOptionsFor({ features: 'none', timing })).toBe(BASIC_OPTIONS);
    const all = nodeOptionsFor({ features: 'all', timing });
    expect(all).toMatchObject({ preVote: true, checkQuorum: true, flowControl: true, leaseReads: false });
    expect(all).toMatchObject(SIM_FLOW_CONTROL);
    // A follower waits at least 300 ms = 6 heartbeats of 50 ms.
    expect(all.electionTimeoutTicks).toBe(6);
    const lease = nodeOptionsFor({ features: 'lease', timing });
    expect(lease).toEqual({ ...all, leaseReads: true });
    expect(lease.leaseDriftTicks).toBe(CORE_DEFAULTS.leaseDriftTicks);
    // The shortest follower timeout the core accepts (2 ticks) still leaves one tick of margin.
    const tight = nodeOptionsFor({ features: 'lease', timing: { ...timing, heartbeat: 100, followerMin: 200 } });
    expect([tight.electionTimeoutTicks, tight.leaseDriftTicks]).toEqual([2, 1]);
  });

  test('the skew bound: (followerMin - (E - D) h) / (followerMin + (E - D) h), 0.2 by default', () => {
    expect(leaseSkewBound({ features: 'all', timing: DEFAULT_TIMING })).toBeCloseTo(0.2, 12);
    // A lease of E - D = 4 ticks of 40 ms against followers waiting 400 ms: (400 - 160) / (400 + 160).
    const t = { ...DEFAULT_TIMING, heartbeat: 40, followerMin: 400 };
    const n = nodeOptionsFor({ features: 'lease', timing: t });
    expect(n.electionTimeoutTicks - n.leaseDriftTicks).toBe(8);
    expect(leaseSkewBound({ features: 'lease', timing: t })).toBeCloseTo((400 - 320) / (400 + 320), 12);
    const o = normalizeOptions({});
    expect(skewOf(o)).toBeCloseTo(0.2, 12);
    expect(skewOf(normalizeOptions({ faults: 'drop' }))).toBe(0);
    expect(skewOf(normalizeOptions({ skew: 0.5 }))).toBe(0.5);
  });

  test('options: the new ones default, bad values are refused', () => {
    const o = normalizeOptions({});
    expect(o.faults).toEqual(FAULT_NAMES);
    expect([o.features, o.slowQueue, o.skew]).toEqual(['all', 8, null]);
    expect(() => normalizeOptions({ features: 'most' as never })).toThrow('features must be one of all, none, lease');
    expect(() => normalizeOptions({ skew: 1 })).toThrow('skew');
    expect(() => normalizeOptions({ slowQueue: 0 })).toThrow('slowQueue');
    expect(() => normalizeOptions({ timing: { readMin: 50, readMax: 10 } })).toThrow('min <= max');
  });

  test('none: the base protocol runs, with no reads and no transfers', () => {
    const r = simulate({ seed: 12, steps: 3000, features: 'none' });
    expect(r.violation).toBeNull();
    const s = r.summary;
    expect([s.reads, s.transferRequests, s.transfers, s.preVotes, s.checkQuorumStepDowns]).toEqual([0, 0, 0, 0, 0]);
    for (const h of r.world.running()) expect(h.state!.options).toEqual(BASIC_OPTIONS);
  });
});

describe('client reads', () => {
  test('reads go to leaders and followers; answers are checked, refusals counted, none is dropped', () => {
    const r = simulate({ seed: 21, steps: 6000 });
    expect(r.violation).toBeNull();
    const s = r.summary;
    expect(s.reads).toBeGreaterThan(100);
    expect(s.readsChecked).toBeGreaterThan(s.reads / 2);
    expect(s.readsRejected).toBeGreaterThan(0);
    // Every read issued was answered, refused, or lost with its node (awaitReads at the end).
    expect(s.readsChecked + s.readsRejected + s.readsLost).toBe(s.reads);
    // Reads are answered through followers too: follower answers follow a readIndexReply.
    const followerAnswers = r.trace!.events.filter((e) => 'step' in e && e.step.type === 'readIndexReply');
    expect(followerAnswers.length).toBeGreaterThan(0);
    expect(describeSummary(s)).toMatch(/reads: \d+ reads issued, \d+ answered and checked/);
  });

  test('a stale answer, an answer beyond every commit, and an answer to no read are violations', () => {
    const w = threeNodes('all');
    const floor = w.checker.recorded;
    expect(floor).toBeGreaterThan(0);
    // A read issued now must be answered at least at `floor`.
    const stale = w.reads.issue('n2', w.node('n2')!.incarnation);
    expect(violationOf(() => w.reads.answered('n2', stale.id, floor - 1))).toBe('linearizableRead');
    const w2 = threeNodes('all');
    const r2 = w2.reads.issue('n2', w2.node('n2')!.incarnation);
    expect(violationOf(() => w2.reads.answered('n2', r2.id, w2.checker.maxCommit + 1))).toBe('linearizableRead');
    const w3 = threeNodes('all');
    expect(violationOf(() => w3.reads.answered('n1', 'r999', 1))).toBe('contract');
    const w4 = threeNodes('all');
    const r4 = w4.reads.issue('n2', w4.node('n2')!.incarnation);
    expect(violationOf(() => w4.reads.answered('n3', r4.id, w4.checker.maxCommit))).toBe('contract');
  });

  test('a read on a follower is forwarded, answered with the leader index, and checked', () => {
    const w = threeNodes('all');
    const out = w.read('n2');
    expect(out.status).toBe('pending');
    const before = w.stats.readsChecked;
    w.advance(50);
    expect(w.stats.readsChecked).toBe(before + 1);
    expect(w.reads.unresolved()).toEqual([]);
  });

  test('a node that never answers a read is caught once the faults stop (reads are never dropped silently)', () => {
    // Nodes that silently drop every read: the simulation must fail with readAnswered, not end cleanly.
    const swallowsReads: Stepper = (s, e) => (e.type === 'read' ? [s, []] : step(s, e));
    const r = simulate({ seed: 3, steps: 1500 }, { step: swallowsReads });
    expect(r.violation?.invariant).toBe('readAnswered');
    expect(r.violation?.message).toMatch(/was neither answered nor refused within 10000 ms after the faults stopped/);
  });

  test('a read whose node crashes is lost with it, not a violation', () => {
    const w = threeNodes('all');
    w.cut(['n2'], ['n1', 'n3']); // n2 cannot reach its leader: its read waits
    expect(w.read('n2').status).toBe('pending');
    w.crash('n2');
    expect(w.reads.unresolved()).toEqual([]);
    expect(w.stats.readsLost).toBe(1);
  });
});

describe('lease reads', () => {
  test('with a lease the leader answers at once; without one it waits for a leadership check', () => {
    const lease = threeNodes('lease');
    lease.advance(100); // a round or two: the lease holds
    expect(lease.read('n1').status).toBe('answered');
    const all = threeNodes('all');
    all.advance(100);
    expect(all.read('n1').status).toBe('pending');
    all.advance(30);
    expect(all.reads.unresolved()).toEqual([]);
  });

  test('a lease run: reads answered, every one checked, skew within the bound on every node', () => {
    const r = simulate({ seed: 8, steps: 6000, features: 'lease' });
    expect(r.violation).toBeNull();
    expect(r.summary.readsChecked).toBeGreaterThan(r.summary.reads / 2);
    const bound = leaseSkewBound(r.options);
    const rates = r.world.nodes().map((h) => h.timerRate);
    for (const rate of rates) expect(Math.abs(rate - 1)).toBeLessThanOrEqual(bound);
    expect(rates.some((rate) => rate !== 1)).toBe(true);
    expect(r.summary.skewedNodes).toBe(rates.length);
  });

  test('the trace of a lease run replays exactly (node options in each start event)', () => {
    const r = simulate({ seed: 5, steps: 2500, features: 'lease' });
    const trace = parseTrace(serializeTrace(r.trace!));
    expect(trace.header.options?.features).toBe('lease');
    const report = replayTrace(trace);
    expect(report.mismatches).toEqual([]);
    expect(report.ok).toBe(true);
  });

  /**
   * n1 leads with a lease of E - D = 4 ticks; it is cut off from n2 and n3, which elect a successor
   * and commit its first entry; meanwhile reads on n1 are answered at once while its lease holds.
   * With n1's timers 20 % slow and the others' 20 % fast (the bound: the lease still ends before any
   * follower's timer can fire), n1 answers nothing stale. With n1's timers three times slow (beyond
   * the bound) its lease outlives the election, and the read tracker catches the stale read.
   */
  function isolatedLeaseHolder(leaderRate: number, followerRate: number): InvariantName | null {
    const w = threeNodes('lease');
    w.node('n1')!.timerRate = leaderRate;
    w.node('n2')!.timerRate = followerRate;
    w.node('n3')!.timerRate = followerRate;
    w.advance(500); // the new rates are in force, the lease renewed at every tick
    return violationOf(() => {
      w.cut(['n1'], ['n2', 'n3']);
      for (let t = 0; t < 1500; t += 5) {
        w.read('n1');
        w.advance(5);
      }
      // A successor was elected and committed meanwhile.
      expect(w.leader()?.id).not.toBe('n1');
      expect(w.checker.recorded).toBeGreaterThan(w.node('n1')!.state!.commitIndex);
    });
  }

  test('clock skew within the lease bound: no stale read', () => {
    const bound = leaseSkewBound({ features: 'lease', timing: DEFAULT_TIMING });
    expect(isolatedLeaseHolder(1 + bound, 1 - bound)).toBeNull();
  });

  test('clock skew beyond the lease bound: the checker catches the stale read', () => {
    expect(isolatedLeaseHolder(3, 1)).toBe('linearizableRead');
  });
});

describe('slow followers and flow control', () => {
  test('a slow follower drops what its queue cannot hold; the leader keeps what it sends it bounded', () => {
    const r = simulate({ seed: 4, steps: 6000, faults: 'slow' });
    expect(r.violation).toBeNull();
    const s = r.summary;
    expect(s.slowEpisodes).toBeGreaterThan(0);
    expect(s.slowDrops).toBeGreaterThan(0);
    expect(s.maxInflight).toBeGreaterThan(SIM_FLOW_CONTROL.maxEntriesPerAppend);
    expect(s.maxInflight).toBeLessThanOrEqual(
      SIM_FLOW_CONTROL.maxInflightEntries + SIM_FLOW_CONTROL.maxEntriesPerAppend,
    );
  });

  test('a leader without flow control, while its options say it has it, is caught', () => {
    // Step every node with flow control off, reporting its options unchanged: a follower that does
    // not answer (slow, or cut off) is sent every new entry.
    const unbounded: Stepper = (s, e) => {
      const [after, actions] = step({ ...s, options: { ...s.options, flowControl: false } }, e);
      return [{ ...after, options: s.options }, actions];
    };
    const r = simulate({ seed: 4, steps: 6000 }, { step: unbounded });
    expect(r.violation?.invariant).toBe('inflightBound');
  });
});

describe('leadership transfers', () => {
  test('the operator hands leadership over; refused proposals are retried, the same commands, and commit', () => {
    const sim = new Simulation(
      normalizeOptions({ seed: 9, steps: 6000, faults: 'transfer,drop', rates: { transfer: 0.3 } }),
    );
    const w = sim.world;
    const propose = w.propose.bind(w);
    const calls: Array<{ commands: number | readonly number[]; outcome: ProposeOutcome }> = [];
    w.propose = (id, count) => {
      const outcome = propose(id, count);
      calls.push({ commands: count, outcome });
      return outcome;
    };
    const committed = new Set<number>();
    w.onCommitted.push((_index, _term, payload) => committed.add(payload));
    const r = sim.run();
    expect(r.violation).toBeNull();
    const s = r.summary;
    expect(s.transferRequests).toBeGreaterThan(3);
    expect(s.transfersCompleted).toBeGreaterThan(0);
    expect(s.proposalsRejectedByTransfer).toBeGreaterThan(0);
    expect(s.elections).toBeGreaterThanOrEqual(s.leaderships); // transfers' elections are counted
    // Every proposal refused for a transfer is proposed again, the same commands, at the next tick.
    let retried = 0;
    for (let k = 0; k + 1 < calls.length; k++) {
      const c = calls[k]!.outcome;
      if (c.accepted || c.reason !== 'transferInProgress') continue;
      expect(calls[k + 1]!.commands).toEqual(c.commands);
      retried++;
    }
    expect(retried).toBe(s.proposalsRejectedByTransfer);
    // ... and those commands end up committed (a retry accepted after the transfer).
    const refused = calls.flatMap((c) =>
      !c.outcome.accepted && c.outcome.reason === 'transferInProgress' ? c.outcome.commands : [],
    );
    expect(refused.some((cmd) => committed.has(cmd))).toBe(true);
  });
});

describe('the counters of the extensions', () => {
  test('pre-votes, transfers and check-quorum step-downs are counted across restarts', () => {
    const r = simulate({ seed: 7, steps: 8000 });
    expect(r.violation).toBeNull();
    const s = r.summary;
    expect(s.restarts).toBeGreaterThan(0);
    expect(s.preVotes).toBeGreaterThan(0);
    expect(s.checkQuorumStepDowns).toBeGreaterThan(0);
    // The nodes' own metrics restart at zero: what the running ones hold is at most what was counted.
    const held = (k: 'preVotesStarted' | 'transfersStarted' | 'checkQuorumStepDowns'): number =>
      r.world.running().reduce((sum, h) => sum + h.state!.metrics[k], 0);
    expect(held('preVotesStarted')).toBeLessThan(s.preVotes);
    expect(held('transfersStarted')).toBeLessThanOrEqual(s.transfers);
    expect(held('checkQuorumStepDowns')).toBeLessThanOrEqual(s.checkQuorumStepDowns);
    for (const k of ['reads', 'readsChecked', 'preVotes', 'transfers', 'checkQuorumStepDowns'] as const) {
      expect(typeof s[k]).toBe('number');
    }
  });
});

describe("the checks of the extensions' rules", () => {
  test('a follower that hears from its leader and grants a pre-vote is caught', () => {
    const preVoteOf = (
      w: World,
    ): { type: 'preVote'; from: string; term: number; lastTerm: number; lastIndex: number } => {
      const s = w.node('n3')!.state!;
      return { type: 'preVote', from: 'n3', term: s.term + 1, lastTerm: s.log.lastTerm, lastIndex: s.log.lastIndex };
    };
    const real = threeNodes('all');
    expect(violationOf(() => real.stepNode('n2', preVoteOf(real)))).toBeNull();
    const broken = threeNodes('all', MUTANTS.preVoteWhileLeaderAlive.step);
    expect(violationOf(() => broken.stepNode('n2', preVoteOf(broken)))).toBe('preVoteRestriction');
  });

  test('a leader that answers a read before a leadership check is caught at once', () => {
    const broken = threeNodes('all', MUTANTS.readBeforeRound.step);
    expect(violationOf(() => broken.read('n1'))).toBe('leadershipConfirmed');
    const real = threeNodes('all');
    expect(violationOf(() => real.read('n1'))).toBeNull();
  });
});

describe('random seeds', () => {
  // Any seed, features and cluster size: no violation.
  test('short runs of random seeds under every fault are safe', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 }),
        fc.constantFrom('all' as const, 'lease' as const, 'none' as const),
        fc.integer({ min: 1, max: 7 }),
        (seed, features, nodes) => {
          const v = simulate({ seed, nodes, steps: 1500, features, record: false }).violation;
          return v === null;
        },
      ),
      fcParams('sim features', 25),
    );
  });
});
