/**
 * The simulator itself: determinism, options, every cluster size, each fault on its own, the
 * summary, and the application model (storage latency, held messages, crashes, restarts).
 */
import {
  DEFAULT_OPTIONS,
  FAULT_NAMES,
  Rng,
  World,
  describeSummary,
  normalizeOptions,
  parseFaults,
  serializeTrace,
  simulate,
  type FaultName,
} from '../../src/sim/index.js';
import { DOCUMENTED_SUMMARY_KEYS } from '../support/sim-summary.js';

describe('determinism', () => {
  test('the same seed and options give the same run, event for event', () => {
    const a = simulate({ seed: 99, steps: 2500 });
    const b = simulate({ seed: 99, steps: 2500 });
    expect(serializeTrace(a.trace!)).toBe(serializeTrace(b.trace!));
    expect(a.summary).toEqual(b.summary);
  });

  test('another seed gives another run', () => {
    const a = simulate({ seed: 1, steps: 1500 });
    const b = simulate({ seed: 2, steps: 1500 });
    expect(serializeTrace(a.trace!)).not.toBe(serializeTrace(b.trace!));
  });

  test('the generator is seeded and reproducible', () => {
    const draw = (seed: number): number[] => {
      const r = new Rng(seed);
      return [r.next(), r.int(1, 6), r.nextU32(), r.pick(['a', 'b', 'c']).charCodeAt(0), r.weighted([0, 1, 5])];
    };
    expect(draw(7)).toEqual(draw(7));
    expect(draw(7)).not.toEqual(draw(8));
    const r = new Rng(3);
    for (let i = 0; i < 1000; i++) {
      const x = r.int(-2, 2);
      expect(x).toBeGreaterThanOrEqual(-2);
      expect(x).toBeLessThanOrEqual(2);
    }
    expect(Rng.fromState(new Rng(5).state).next()).toBe(new Rng(5).next());
    expect(r.shuffle([1, 2, 3, 4, 5]).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(r.weighted([0, 0])).toBe(-1);
    expect(r.chance(0)).toBe(false);
    expect(r.chance(1)).toBe(true);
  });
});

describe('options', () => {
  test('faults parse by name, all and none', () => {
    expect(parseFaults('all')).toEqual(FAULT_NAMES);
    expect(parseFaults('none')).toEqual([]);
    expect(parseFaults('')).toEqual([]);
    expect(parseFaults('crash, drop,drop')).toEqual(['drop', 'crash']);
    expect(parseFaults('duplicate')).toEqual(['dup']);
    expect(() => parseFaults('meteor')).toThrow('unknown fault "meteor"');
  });

  test('defaults fill in, bad values are refused', () => {
    const o = normalizeOptions({ seed: 3, rates: { drop: 0.5 }, timing: { heartbeat: 20 } });
    expect(o.nodes).toBe(DEFAULT_OPTIONS.nodes);
    expect(o.rates.drop).toBe(0.5);
    expect(o.rates.crash).toBe(DEFAULT_OPTIONS.rates.crash);
    expect(o.timing.heartbeat).toBe(20);
    expect(normalizeOptions({ faults: 'drop,crash' }).faults).toEqual(['drop', 'crash']);
    expect(() => normalizeOptions({ nodes: 0 })).toThrow(RangeError);
    expect(() => normalizeOptions({ nodes: 10 })).toThrow(RangeError);
    expect(() => normalizeOptions({ steps: -1 })).toThrow(RangeError);
    expect(() => normalizeOptions({ rates: { drop: 2 } })).toThrow(RangeError);
    expect(() => normalizeOptions({ timing: { heartbeat: 500 } })).toThrow('heartbeat');
    expect(() => normalizeOptions({ timing: { electionMin: 400, electionMax: 300 } })).toThrow('min <= max');
    // Options are plain JSON (they go into trace headers); extra keys do not slip in.
    const withExtra = normalizeOptions({ seed: 1, ...({ step: () => null } as object) });
    expect(JSON.parse(JSON.stringify(withExtra))).toEqual(withExtra);
  });
});

describe('runs', () => {
  test.each([1, 2, 3, 4, 5, 6, 7, 8, 9])('%i nodes under all faults: safe, and live after healing', (nodes) => {
    const r = simulate({ seed: 100 + nodes, nodes, steps: 3000 });
    expect(r.violation).toBeNull();
    expect(r.summary.liveness).not.toBeNull();
    expect(r.summary.commits).toBeGreaterThan(0);
    expect(r.summary.liveness!.took).toBeLessThan(DEFAULT_OPTIONS.livenessTimeout);
  });

  test('no faults: one election, every proposal placed commits, nothing lost', () => {
    const r = simulate({ seed: 4, steps: 3000, faults: [] });
    const s = r.summary;
    expect(r.violation).toBeNull();
    expect([s.drops, s.duplicates, s.reordered, s.partitions, s.crashes, s.compactions, s.configProposals]).toEqual([
      0, 0, 0, 0, 0, 0, 0,
    ]);
    expect(s.leaderships).toBe(1);
    expect(s.maxTerm).toBe(1);
    // Every command the leader took commits (the probe included).
    expect(s.commits).toBe(r.world.stats.commandsProposed);
  });

  const only: FaultName[] = [...FAULT_NAMES];
  test.each(only)('only %s: it happens, and nothing breaks', (fault) => {
    const r = simulate({ seed: 8, steps: 5000, faults: [fault] });
    expect(r.violation).toBeNull();
    const s = r.summary;
    const happened: Record<FaultName, number> = {
      drop: s.drops,
      dup: s.duplicates,
      reorder: s.reordered,
      partition: s.partitions,
      crash: s.crashes,
      snapshot: s.compactions,
      membership: s.configChanges,
      slow: s.slowEpisodes,
      skew: s.skewedNodes,
      transfer: s.transferRequests,
    };
    expect(happened[fault]).toBeGreaterThan(0);
    for (const other of only) if (other !== fault) expect(happened[other]).toBe(0);
  });

  test('the summary has the documented keys and reads in words', () => {
    const r = simulate({ seed: 3, steps: 4000 });
    for (const k of DOCUMENTED_SUMMARY_KEYS) expect(r.summary).toHaveProperty(k);
    expect(r.summary.violations).toBe(0);
    const text = describeSummary(r.summary);
    expect(text).toContain('seed 3');
    expect(text).toContain('no invariant violated');
    expect(text).toMatch(/leader .* committed a new proposal/);
  });

  test('progress is reported while running', () => {
    const seen: number[] = [];
    simulate({ seed: 1, steps: 2000 }, { onProgress: (events) => seen.push(events), progressEvery: 500 });
    expect(seen.length).toBeGreaterThanOrEqual(4);
    expect(seen).toEqual([...seen].sort((a, b) => a - b));
  });
});

describe('the application model', () => {
  function world(): World {
    const w = new World({ seed: 1, mode: 'manual', timing: { storageMin: 5, storageMax: 5 } });
    w.bootstrap(['n1', 'n2', 'n3']);
    return w;
  }

  test('messages wait until the writes before them are durable', () => {
    const w = world();
    // n1 is a candidate: its vote requests left once its hard state was durable.
    expect(w.node('n1')!.state!.role).toBe('candidate');
    expect(w.inFlight.map((p) => p.message!.type)).toEqual(['requestVote', 'requestVote']);
    // n2 grants: the grant waits for n2's vote to be durable.
    w.deliverInFlight(0);
    expect(w.inFlight.length).toBe(1);
    expect(w.node('n2')!.pending.length).toBe(1);
    w.advance(5);
    expect(w.node('n2')!.pending.length).toBe(0);
    expect(w.inFlight.map((p) => `${p.from}>${p.to}:${p.message!.type}`)).toContain('n2>n1:requestVoteReply');
  });

  test('a crash loses what was not durable and what waited for it; a restart uses durable state only', () => {
    const w = world();
    w.deliverInFlight(0); // n2 votes (not durable yet)
    const n2 = w.node('n2')!;
    expect(n2.state!.votedFor).toBe('n1');
    expect(n2.durable.votedFor).toBeNull();
    w.crash('n2');
    expect(n2.status).toBe('down');
    expect(n2.state).toBeNull();
    w.advance(50);
    expect(w.inFlight.some((p) => p.from === 'n2')).toBe(false); // the reply was never sent
    w.restart('n2');
    expect(n2.state!.votedFor).toBeNull();
    expect(n2.state!.term).toBe(n2.durable.term);
  });

  test('a partition cuts links both ways, a one-way cut only one, and healing restores them', () => {
    const w = world();
    const cut = w.cut(['n1'], ['n2', 'n3']);
    expect(w.isBlocked('n1', 'n2') && w.isBlocked('n3', 'n1')).toBe(true);
    w.healCut(cut);
    expect(w.partitioned()).toBe(false);
    w.cut(['n1'], ['n2'], true);
    expect(w.isBlocked('n1', 'n2')).toBe(true);
    expect(w.isBlocked('n2', 'n1')).toBe(false);
    w.heal();
    expect(w.partitioned()).toBe(false);
  });
});
