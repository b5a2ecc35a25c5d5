/**
 * Configuration algebra against plain set models, and the configuration queries of a compacted log
 * against an explicit entry array.
 *
 * tests/unit/quorum.test.ts already checks toJointConsensus, allMembers, isSoloVoter, majority
 * counting (majorityIndex / jointMajorityIndex against the naive oracle, hasVoteMajority) on arbitrary
 * configurations, and tests/unit/log.test.ts checks the compressed log (truncate, since, append)
 * against an explicit array; neither is repeated here. What is added:
 * - withNonVoters, isVoter, isMember, isJoint against set models;
 * - sequences of membership changes as a leader makes them (toJointConsensus then the automatic
 *   final configuration, withNonVoters) against a model of who votes and who only listens, with
 *   every intermediate configuration well-formed and acceptable to proposeConfig's voters rule;
 * - a leader's progress across a configuration change (progressFor): members that stay keep their
 *   match index, new ones start at 0, removed ones are dropped, and commit counting over the new
 *   configuration agrees with the naive oracle;
 * - configAt, positionAndConfigAt, latestConfig, latestConfigIndex and commitStatus on a log with
 *   configuration entries and a snapshot, against an explicit entry array (noraft's
 *   get_position_and_config, get_config, latest_config_index, get_commit_status);
 * - applyToStoredLog (appendLog and compactLog on a stored log) against the explicit array.
 */
import fc from 'fast-check';
import {
  EMPTY_CONFIG,
  allMembers,
  applyToStoredLog,
  commitStatus,
  configAt,
  isJoint,
  isMember,
  isVoter,
  latestConfig,
  latestConfigIndex,
  makeConfig,
  positionAndConfigAt,
  termAt,
  toJointConsensus,
  validateConfig,
  withNonVoters,
  type ClusterConfig,
  type LogEntries,
  type RaftState,
} from '../../src/index.js';
import { DEFAULT_OPTIONS } from '../../src/options.js';
import { appendCommands, appendConfig, appendTermStart, emptyEntries, since } from '../../src/log.js';
import { ZERO_METRICS } from '../../src/metrics.js';
import { progressFor, withMatch } from '../../src/progress.js';
import { hasVoteMajority, jointMajorityIndex } from '../../src/quorum.js';
import { initialFollower } from '../../src/state.js';
import { fcParams } from '../support/seed';
import { finalOf } from '../support/checker';

const POOL = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
const idsArb = fc.subarray(POOL);
const set = (ids: Iterable<string>): string[] => [...new Set(ids)].sort();

/** A well-formed configuration: sorted lists, non-voters disjoint from both voter sets. */
const configArb: fc.Arbitrary<ClusterConfig> = fc
  .record({ voters: idsArb, newVoters: idsArb, nonVoters: idsArb })
  .map(({ voters, newVoters, nonVoters }) =>
    makeConfig(
      voters,
      newVoters,
      nonVoters.filter((id) => !voters.includes(id) && !newVoters.includes(id)),
    ),
  );

describe('configuration algebra against set models', () => {
  test('withNonVoters: nonVoters = ((nonVoters ∪ adding) \\ removing) \\ voters; voters untouched', () => {
    fc.assert(
      fc.property(configArb, idsArb, idsArb, (config, adding, removing) => {
        const got = withNonVoters(config, adding, removing);
        const voters = new Set([...config.voters, ...config.newVoters]);
        const want = set([...config.nonVoters, ...adding].filter((id) => !removing.includes(id) && !voters.has(id)));
        expect(got).toEqual({ voters: config.voters, newVoters: config.newVoters, nonVoters: want });
        expect(validateConfig(got)).toBeNull();
        // Adding then removing the same ids gives the non-voters back (ids that were not there stay out).
        const fresh = adding.filter((id) => !config.nonVoters.includes(id));
        expect(withNonVoters(withNonVoters(config, fresh, []), [], fresh)).toEqual(config);
      }),
      fcParams('membership: withNonVoters vs sets', 300),
    );
  });

  test('isVoter, isMember, isJoint, allMembers: membership of the three lists', () => {
    fc.assert(
      fc.property(configArb, fc.constantFrom(...POOL, 'z'), (config, id) => {
        const voter = config.voters.includes(id) || config.newVoters.includes(id);
        expect(isVoter(config, id)).toBe(voter);
        expect(isMember(config, id)).toBe(voter || config.nonVoters.includes(id));
        expect(isMember(config, id)).toBe(allMembers(config).includes(id));
        expect(isJoint(config)).toBe(config.newVoters.length > 0);
      }),
      fcParams('membership: isVoter/isMember vs sets', 300),
    );
  });

  test('toJointConsensus keeps configurations well-formed; promoting moves a node out of nonVoters', () => {
    fc.assert(
      fc.property(configArb, idsArb, idsArb, (config, adding, removing) => {
        if (isJoint(config)) return;
        if ([...config.voters, ...adding].every((id) => removing.includes(id))) {
          expect(() => toJointConsensus(config, adding, removing)).toThrow(/leave no voters/);
          return;
        }
        const joint = toJointConsensus(config, adding, removing);
        expect(validateConfig(joint)).toBeNull();
        for (const id of adding) {
          if (!removing.includes(id)) {
            expect(joint.newVoters).toContain(id);
            expect(joint.nonVoters).not.toContain(id);
          }
        }
        // The final configuration of the change is well-formed too.
        expect(validateConfig(finalOf(joint))).toBeNull();
      }),
      fcParams('membership: toJointConsensus well-formed', 300),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Change sequences

type Change =
  | { readonly op: 'addVoter' | 'removeVoter' | 'addNonVoter' | 'removeNonVoter' | 'promote'; readonly id: string }
  | { readonly op: 'replace'; readonly id: string; readonly by: string };

const changeArb: fc.Arbitrary<Change> = fc.oneof(
  fc.record({
    op: fc.constantFrom('addVoter' as const, 'removeVoter' as const, 'addNonVoter' as const),
    id: fc.constantFrom(...POOL),
  }),
  fc.record({ op: fc.constantFrom('removeNonVoter' as const, 'promote' as const), id: fc.constantFrom(...POOL) }),
  fc.record({ op: fc.constant('replace' as const), id: fc.constantFrom(...POOL), by: fc.constantFrom(...POOL) }),
);

describe('membership change sequences, as a leader makes them', () => {
  test('joint then final (voter changes) or one step (non-voter changes) end where the set model says', () => {
    fc.assert(
      fc.property(fc.subarray(POOL, { minLength: 1 }), fc.array(changeArb, { maxLength: 12 }), (initial, changes) => {
        let config = makeConfig(initial);
        const voters = new Set(initial);
        const learners = new Set<string>();
        for (const ch of changes) {
          let next: ClusterConfig | null = null;
          let joint = false;
          switch (ch.op) {
            case 'addVoter':
              if (voters.has(ch.id) || learners.has(ch.id)) break;
              next = toJointConsensus(config, [ch.id], []);
              joint = true;
              voters.add(ch.id);
              break;
            case 'removeVoter':
              if (!voters.has(ch.id) || voters.size === 1) break;
              next = toJointConsensus(config, [], [ch.id]);
              joint = true;
              voters.delete(ch.id);
              break;
            case 'replace':
              if (!voters.has(ch.id) || voters.has(ch.by) || learners.has(ch.by)) break;
              next = toJointConsensus(config, [ch.by], [ch.id]);
              joint = true;
              voters.delete(ch.id);
              voters.add(ch.by);
              break;
            case 'promote':
              if (!learners.has(ch.id)) break;
              next = toJointConsensus(config, [ch.id], []);
              joint = true;
              learners.delete(ch.id);
              voters.add(ch.id);
              break;
            case 'addNonVoter':
              if (voters.has(ch.id) || learners.has(ch.id)) break;
              next = withNonVoters(config, [ch.id], []);
              learners.add(ch.id);
              break;
            case 'removeNonVoter':
              if (!learners.has(ch.id)) break;
              next = withNonVoters(config, [], [ch.id]);
              learners.delete(ch.id);
              break;
          }
          if (next === null) continue;
          // proposeConfig's rule: the proposal starts from the current voters.
          expect(next.voters).toEqual(config.voters);
          expect(validateConfig(next)).toBeNull();
          expect(isJoint(next)).toBe(joint);
          if (joint) {
            // While joint, both the old and the new voters decide; then the leader appends the final one.
            const newVoters = next.newVoters;
            expect(hasVoteMajority(next, config.voters)).toBe(
              config.voters.filter((v) => newVoters.includes(v)).length >= (newVoters.length >> 1) + 1,
            );
            next = finalOf(next);
            expect(validateConfig(next)).toBeNull();
          }
          config = next;
          expect(config).toEqual({ voters: set(voters), newVoters: [], nonVoters: set(learners) });
        }
      }),
      fcParams('membership: change sequences vs set model', 300),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Leader progress across a change

/** noraft's oracle for one voter set: the (majority-1)-th largest match index. */
function naiveMajority(matchOf: (id: string) => number, voters: readonly string[]): number {
  const sorted = voters.map(matchOf).sort((x, y) => y - x);
  return sorted[(voters.length >> 1) + 1 - 1]!;
}

describe("a leader's progress across a configuration change (progressFor)", () => {
  test('members that stay keep their match index, new ones start at 0, removed ones are dropped', () => {
    fc.assert(
      fc.property(
        configArb,
        configArb,
        fc.constantFrom(...POOL),
        fc.dictionary(fc.constantFrom(...POOL), fc.nat({ max: 30 })),
        fc.nat({ max: 30 }),
        (before, after, self, match, selfIndex) => {
          let p = progressFor(before, self, null);
          p.peers.forEach((id, k) => (p = withMatch(p, k, match[id] ?? 0)));
          const q = progressFor(after, self, p);
          expect(q.peers).toEqual(allMembers(after).filter((id) => id !== self));
          q.peers.forEach((id, k) => {
            expect(q.match[k]).toBe(p.peers.includes(id) ? (match[id] ?? 0) : 0);
          });
          // Commit counting on the new configuration, with the carried-over indices.
          const matchOf = (id: string): number => {
            if (id === self) return selfIndex;
            const k = q.peers.indexOf(id);
            return k < 0 ? 0 : q.match[k]!;
          };
          const parts: number[] = [];
          if (after.voters.length > 0) parts.push(naiveMajority(matchOf, after.voters));
          if (after.newVoters.length > 0) parts.push(naiveMajority(matchOf, after.newVoters));
          const want = parts.length === 0 ? 0 : Math.min(...parts);
          expect(jointMajorityIndex(q.voterSlots, q.newVoterSlots, q.match, selfIndex)).toBe(want);
        },
      ),
      fcParams('membership: progress across a change', 300),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Configuration queries on a compacted log, against an explicit array

interface ModelEntry {
  readonly term: number;
  readonly config: ClusterConfig | null;
}

type BuildOp =
  { readonly op: 'cmd'; readonly n: number } | { readonly op: 'term' } | { readonly op: 'config'; readonly c: number };

const CONFIGS: readonly ClusterConfig[] = [
  makeConfig(['a', 'b', 'c']),
  makeConfig(['a', 'b', 'c'], ['a', 'b', 'd']),
  makeConfig(['a', 'b', 'd']),
  makeConfig(['a', 'b', 'd'], [], ['e']),
];

const buildArb: fc.Arbitrary<BuildOp> = fc.oneof(
  fc.record({ op: fc.constant('cmd' as const), n: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ op: fc.constant('term' as const) }),
  fc.record({ op: fc.constant('config' as const), c: fc.nat({ max: CONFIGS.length - 1 }) }),
);

/** A full log from index 1 (the first configuration at 1), as a run and as an explicit array. */
function buildLog(ops: readonly BuildOp[]): { log: LogEntries; model: ModelEntry[] } {
  let log = appendConfig(emptyEntries(0, 0), CONFIGS[0]!);
  const model: ModelEntry[] = [{ term: 0, config: CONFIGS[0]! }];
  for (const op of ops) {
    if (op.op === 'cmd') {
      log = appendCommands(log, op.n);
      for (let k = 0; k < op.n; k++) model.push({ term: log.lastTerm, config: null });
    } else if (op.op === 'term') {
      log = appendTermStart(log, log.lastTerm + 1);
      model.push({ term: log.lastTerm, config: null });
    } else {
      log = appendConfig(log, CONFIGS[op.c]!);
      model.push({ term: log.lastTerm, config: CONFIGS[op.c]! });
    }
  }
  return { log, model };
}

/** The model's term at `index` (index 0: term 0). */
const termOf = (model: readonly ModelEntry[], index: number): number => (index === 0 ? 0 : model[index - 1]!.term);

/** The model's configuration in effect at `index`: its last configuration entry at or below it. */
function configOf(model: readonly ModelEntry[], index: number): ClusterConfig {
  let c: ClusterConfig = EMPTY_CONFIG;
  for (let i = 1; i <= index; i++) c = model[i - 1]!.config ?? c;
  return c;
}

function nodeWith(log: LogEntries, snapshotConfig: ClusterConfig, commitIndex: number): RaftState {
  return initialFollower({
    options: DEFAULT_OPTIONS,
    leaderAlive: false,
    id: 'a',
    term: log.lastTerm,
    votedFor: null,
    commitIndex,
    log,
    snapshotConfig,
    metrics: ZERO_METRICS,
  });
}

describe('configuration queries on a compacted log agree with an explicit entry array', () => {
  test('configAt, positionAndConfigAt, latestConfig, latestConfigIndex, commitStatus', () => {
    fc.assert(
      fc.property(fc.array(buildArb, { maxLength: 12 }), fc.nat(), fc.nat(), (ops, a, b) => {
        const { log: full, model } = buildLog(ops);
        const last = full.lastIndex;
        const snap = a % (last + 1);
        const commit = snap + (b % (last - snap + 1));
        const log = since(full, termOf(model, snap), snap)!;
        const s = nodeWith(log, configOf(model, snap), commit);
        // The latest configuration and where it sits (the snapshot index when the log holds none).
        let latestIndex = snap;
        for (let i = snap + 1; i <= last; i++) if (model[i - 1]!.config !== null) latestIndex = i;
        expect(latestConfigIndex(s)).toBe(latestIndex);
        expect(latestConfig(s)).toEqual(configOf(model, last));
        for (let i = 0; i <= last + 1; i++) {
          const inRange = i >= snap && i <= last;
          expect(configAt(s, i)).toEqual(inRange ? configOf(model, i) : null);
          expect(positionAndConfigAt(s, i)).toEqual(
            inRange ? { term: termOf(model, i), index: i, config: configOf(model, i) } : null,
          );
          // noraft's get_commit_status, for the entry the model holds and for one of another term.
          for (const term of [i <= last ? termOf(model, i) : full.lastTerm, full.lastTerm + 1]) {
            let want: string;
            if (i < snap) want = 'unknown';
            else if (i <= commit) want = termAt(log, i) === term ? 'committed' : 'rejected';
            else if (term < termOf(model, commit)) want = 'rejected';
            else want = 'inProgress';
            expect(commitStatus(s, { term, index: i })).toBe(want);
          }
        }
      }),
      fcParams('membership: configuration queries vs explicit array', 300),
    );
  });

  test('applyToStoredLog: appends and compactions on a stored log, against the explicit array', () => {
    fc.assert(
      fc.property(
        fc.array(buildArb, { maxLength: 10 }),
        fc.array(
          fc.oneof(
            fc.record({ k: fc.constant('append' as const), at: fc.nat(), n: fc.integer({ min: 0, max: 3 }) }),
            fc.record({ k: fc.constant('compact' as const), at: fc.nat(), off: fc.boolean() }),
          ),
          { maxLength: 8 },
        ),
        (ops, actions) => {
          const { log: full, model: fullModel } = buildLog(ops);
          let stored = full;
          // The explicit stored log: the anchor, and the entries after it.
          let prev = { term: 0, index: 0 };
          let entries: ModelEntry[] = fullModel.slice();
          const lastIndex = (): number => prev.index + entries.length;
          const termAtModel = (i: number): number =>
            i === prev.index ? prev.term : (entries[i - prev.index - 1]?.term ?? -1);
          for (const act of actions) {
            if (act.k === 'append') {
              // An append anchored at a position the stored log holds: n commands in a new term.
              const at = prev.index + (act.at % (entries.length + 1));
              const anchorTerm = termAtModel(at);
              let run = emptyEntries(anchorTerm, at);
              if (act.n > 0) run = appendCommands(appendTermStart(run, stored.lastTerm + 1), act.n - 1);
              stored = applyToStoredLog(stored, { type: 'appendLog', entries: run });
              entries = entries.slice(0, at - prev.index);
              for (let k = 0; k < act.n; k++) entries.push({ term: stored.lastTerm, config: null });
            } else {
              // A compaction at a held position (keep the suffix), or off the log (drop everything).
              const at = act.at % (lastIndex() + 3);
              const held = at >= prev.index && at <= lastIndex();
              const term = held && !act.off ? termAtModel(at) : Math.max(termAtModel(lastIndex()), 0) + 1;
              const before = stored;
              stored = applyToStoredLog(stored, { type: 'compactLog', term, index: at });
              if (at < prev.index) {
                expect(stored).toBe(before);
                continue;
              }
              if (held && !act.off) entries = entries.slice(at - prev.index);
              else entries = [];
              prev = { term, index: at };
            }
            expect(stored.prevIndex).toBe(prev.index);
            expect(stored.prevTerm).toBe(prev.term);
            expect(stored.lastIndex).toBe(lastIndex());
            for (let i = prev.index; i <= lastIndex(); i++) expect(termAt(stored, i)).toBe(termAtModel(i));
            const configs = entries.flatMap((e, k) =>
              e.config === null ? [] : [{ index: prev.index + 1 + k, config: e.config }],
            );
            expect(stored.configs).toEqual(configs);
          }
          // An append anchored outside the stored log is refused loudly.
          const outside = emptyEntries(stored.lastTerm + 1, stored.lastIndex + 1);
          expect(() => applyToStoredLog(stored, { type: 'appendLog', entries: outside })).toThrow(/anchor/);
        },
      ),
      fcParams('membership: applyToStoredLog vs explicit array', 300),
    );
  });
});
