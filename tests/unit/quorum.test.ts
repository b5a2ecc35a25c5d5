/**
 * Majority arithmetic (src/quorum.ts) against a naive oracle, and configuration set algebra
 * (src/config.ts), as in noraft's quorum.rs and config.rs tests.
 *
 * The oracle of noraft's `Quorum`: sort the voters' match indices in descending order and take the
 * element at `majority - 1`; during joint consensus, the minimum of the old and the new voter sets'
 * results. Non-voters never count.
 */
import fc from 'fast-check';
import {
  allMembers,
  isJoint,
  isMember,
  isSoloVoter,
  isVoter,
  majorityOf,
  makeConfig,
  sortedUnique,
  toJointConsensus,
  withNonVoters,
  type ClusterConfig,
} from '../../src/config.js';
import { progressFor, withMatch, type LeaderProgress } from '../../src/progress.js';
import { hasVoteMajority, jointMajorityIndex, majorityIndex } from '../../src/quorum.js';
import { fcParams } from '../support/seed';

const POOL = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
const idsArb = fc.subarray(POOL);

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

/** noraft's oracle for one voter set: the (majority-1)-th largest match index. */
function naiveMajority(matchOf: (id: string) => number, voters: readonly string[]): number {
  const sorted = voters.map(matchOf).sort((x, y) => y - x);
  return sorted[majorityOf(voters) - 1]!;
}

/** The joint oracle: the minimum over the non-empty voter sets (0 when there are none). */
function naiveJointMajority(matchOf: (id: string) => number, config: ClusterConfig): number {
  const results: number[] = [];
  if (config.voters.length > 0) results.push(naiveMajority(matchOf, config.voters));
  if (config.newVoters.length > 0) results.push(naiveMajority(matchOf, config.newVoters));
  return results.length === 0 ? 0 : Math.min(...results);
}

/** A leader's progress for `config` with the given match index for every peer. */
function progressWith(config: ClusterConfig, self: string, matchOf: (id: string) => number): LeaderProgress {
  let p = progressFor(config, self, null);
  p.peers.forEach((id, k) => (p = withMatch(p, k, matchOf(id))));
  return p;
}

const scenarioArb = fc.record({
  config: configArb,
  self: fc.constantFrom(...POOL),
  selfIndex: fc.nat({ max: 30 }),
  match: fc.dictionary(fc.constantFrom(...POOL), fc.nat({ max: 30 })),
});

describe('majorityIndex / jointMajorityIndex: the highest index a majority holds', () => {
  test('agree with the naive oracle (sort descending, take element majority-1; joint = minimum)', () => {
    fc.assert(
      fc.property(scenarioArb, ({ config, self, selfIndex, match }) => {
        const matchOf = (id: string): number => (id === self ? selfIndex : (match[id] ?? 0));
        const p = progressWith(config, self, matchOf);
        const old = majorityIndex(p.voterSlots, p.match, selfIndex);
        expect(old).toBe(config.voters.length === 0 ? 0 : naiveMajority(matchOf, config.voters));
        expect(jointMajorityIndex(p.voterSlots, p.newVoterSlots, p.match, selfIndex)).toBe(
          naiveJointMajority(matchOf, config),
        );
      }),
      fcParams('quorum: majority index vs naive oracle', 500),
    );
  });

  test('on raw slot arrays too (the leader is slot -1, wherever it sits)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.nat({ max: 20 }), { minLength: 1, maxLength: 9 }),
        fc.nat({ max: 20 }),
        fc.nat(),
        fc.boolean(),
        (match, selfIndex, pos, withSelf) => {
          const slots = match.map((_, k) => k);
          if (withSelf) slots.splice(pos % (slots.length + 1), 0, -1);
          const values = slots.map((s) => (s < 0 ? selfIndex : match[s]!)).sort((x, y) => y - x);
          expect(majorityIndex(slots, match, selfIndex)).toBe(values[(values.length >> 1) + 1 - 1]);
        },
      ),
      fcParams('quorum: majority index on raw slots', 300),
    );
  });

  test('non-voters never count: changing their match indices changes nothing', () => {
    fc.assert(
      fc.property(scenarioArb, fc.nat({ max: 30 }), ({ config, self, selfIndex, match }, other) => {
        const matchOf = (id: string): number => (id === self ? selfIndex : (match[id] ?? 0));
        const moved = (id: string): number => (config.nonVoters.includes(id) && id !== self ? other : matchOf(id));
        const p = progressWith(config, self, matchOf);
        const q = progressWith(config, self, moved);
        expect(jointMajorityIndex(q.voterSlots, q.newVoterSlots, q.match, selfIndex)).toBe(
          jointMajorityIndex(p.voterSlots, p.newVoterSlots, p.match, selfIndex),
        );
      }),
      fcParams('quorum: non-voters ignored'),
    );
  });

  test('examples: odd and even sizes, ties, the leader counting itself', () => {
    const cfg = makeConfig(['a', 'b', 'c', 'd', 'e']);
    const p = progressWith(cfg, 'a', (id) => ({ b: 7, c: 3, d: 3, e: 1 })[id] ?? 0);
    // a=10 b=7 c=3 d=3 e=1 -> descending 10 7 3 3 1, majority 3 -> 3
    expect(jointMajorityIndex(p.voterSlots, p.newVoterSlots, p.match, 10)).toBe(3);
    const four = makeConfig(['a', 'b', 'c', 'd']);
    const q = progressWith(four, 'a', (id) => ({ b: 8, c: 5, d: 2 })[id] ?? 0);
    // a=9 b=8 c=5 d=2 -> majority of 4 is 3 -> 5
    expect(jointMajorityIndex(q.voterSlots, q.newVoterSlots, q.match, 9)).toBe(5);
    // A single voter: its own index.
    const solo = progressFor(makeConfig(['a']), 'a', null);
    expect(jointMajorityIndex(solo.voterSlots, solo.newVoterSlots, solo.match, 4)).toBe(4);
  });

  test('joint consensus: the minimum of both majorities', () => {
    const joint = makeConfig(['a', 'b', 'c'], ['c', 'd', 'e']);
    const p = progressWith(joint, 'a', (id) => ({ b: 9, c: 4, d: 2, e: 1 })[id] ?? 0);
    // old {a=9, b=9, c=4} -> 9; new {c=4, d=2, e=1} -> 2
    expect(jointMajorityIndex(p.voterSlots, p.newVoterSlots, p.match, 9)).toBe(2);
  });

  test('a leader outside the voter sets (it removed itself) does not count itself', () => {
    const cfg = makeConfig(['b', 'c', 'd']);
    const p = progressWith(cfg, 'a', (id) => ({ b: 5, c: 2, d: 1 })[id] ?? 0);
    expect(p.voterSlots).not.toContain(-1);
    expect(jointMajorityIndex(p.voterSlots, p.newVoterSlots, p.match, 100)).toBe(2);
  });

  test('an empty voter set gives 0 (nothing is ever committed by nobody)', () => {
    const p = progressFor(makeConfig([], [], ['b']), 'a', null);
    expect(jointMajorityIndex(p.voterSlots, p.newVoterSlots, p.match, 5)).toBe(0);
  });
});

describe('hasVoteMajority: does a set of granted votes win an election', () => {
  test('agrees with counting: a majority of the voters and, when joint, of the new voters', () => {
    fc.assert(
      fc.property(configArb, fc.subarray(POOL.concat('x', 'y')), (config, granted) => {
        const count = (set: readonly string[]): number => set.filter((id) => granted.includes(id)).length;
        const want =
          config.voters.length > 0 &&
          count(config.voters) >= majorityOf(config.voters) &&
          count(config.newVoters) >= majorityOf(config.newVoters);
        expect(hasVoteMajority(config, granted)).toBe(want);
        // Votes from non-voters and strangers never matter.
        const onlyVoters = granted.filter((id) => isVoter(config, id));
        expect(hasVoteMajority(config, onlyVoters)).toBe(want);
      }),
      fcParams('quorum: vote majority'),
    );
  });

  test('examples', () => {
    const three = makeConfig(['a', 'b', 'c'], [], ['d']);
    expect(hasVoteMajority(three, ['a'])).toBe(false);
    expect(hasVoteMajority(three, ['a', 'd'])).toBe(false); // a non-voter's vote does not count
    expect(hasVoteMajority(three, ['a', 'c'])).toBe(true);
    expect(hasVoteMajority(three, ['a', 'a'])).toBe(false); // a duplicate is one vote
    const joint = makeConfig(['a', 'b', 'c'], ['a', 'd', 'e']);
    expect(hasVoteMajority(joint, ['a', 'b'])).toBe(false); // old majority only
    expect(hasVoteMajority(joint, ['a', 'd', 'e'])).toBe(false); // new majority only
    expect(hasVoteMajority(joint, ['a', 'b', 'd'])).toBe(true);
    expect(hasVoteMajority(makeConfig([]), [])).toBe(false);
    expect(hasVoteMajority(makeConfig(['a']), ['a'])).toBe(true);
  });
});

describe('configurations as set algebra (noraft config.rs)', () => {
  const set = (ids: readonly string[]): string[] => [...new Set(ids)].sort();

  test('toJointConsensus: newVoters = (voters ∪ adding) \\ removing; promoted nodes leave nonVoters', () => {
    fc.assert(
      fc.property(configArb, idsArb, idsArb, (config, adding, removing) => {
        const newVoters = set([...config.voters, ...adding].filter((id) => !removing.includes(id)));
        if (newVoters.length === 0) {
          // A change that leaves no voters is refused at once.
          expect(() => toJointConsensus(config, adding, removing)).toThrow(RangeError);
          return;
        }
        const joint = toJointConsensus(config, adding, removing);
        expect(joint.voters).toEqual(config.voters);
        expect(joint.newVoters).toEqual(newVoters);
        expect(joint.nonVoters).toEqual(config.nonVoters.filter((id) => !newVoters.includes(id)));
        // From a settled configuration, every member not removed stays a member. (From a joint one,
        // the pending new voters are replaced, as in noraft; proposeConfig refuses that case anyway.)
        if (!isJoint(config)) {
          for (const id of allMembers(config)) expect(isMember(joint, id) || removing.includes(id)).toBe(true);
        }
      }),
      fcParams('config: toJointConsensus'),
    );
  });

  test('promoting a non-voter: it becomes a new voter and is no longer a non-voter', () => {
    const config = makeConfig(['a', 'b', 'c'], [], ['d', 'e']);
    const joint = toJointConsensus(config, ['d'], ['a']);
    expect(joint).toEqual({ voters: ['a', 'b', 'c'], newVoters: ['b', 'c', 'd'], nonVoters: ['e'] });
    expect(isJoint(joint)).toBe(true);
  });

  test('allMembers: the sorted, deduplicated union of the three lists', () => {
    fc.assert(
      fc.property(idsArb, idsArb, idsArb, (voters, newVoters, nonVoters) => {
        const config = { voters, newVoters, nonVoters };
        expect(allMembers(config)).toEqual(set([...voters, ...newVoters, ...nonVoters]));
      }),
      fcParams('config: allMembers'),
    );
    expect(allMembers(makeConfig(['c', 'a'], ['b', 'a'], ['z']))).toEqual(['a', 'b', 'c', 'z']);
  });

  test('isSoloVoter: the only voter of voters ∪ newVoters, and a member of voters', () => {
    fc.assert(
      fc.property(configArb, fc.constantFrom(...POOL), (config, id) => {
        const voters = set([...config.voters, ...config.newVoters]);
        const want = voters.length === 1 && voters[0] === id && config.voters.includes(id);
        expect(isSoloVoter(config, id)).toBe(want);
      }),
      fcParams('config: isSoloVoter'),
    );
    expect(isSoloVoter(makeConfig(['a'], [], ['b']), 'a')).toBe(true); // non-voters do not matter
    expect(isSoloVoter(makeConfig(['a'], ['a']), 'a')).toBe(true);
    expect(isSoloVoter(makeConfig(['a'], ['b']), 'a')).toBe(false);
    expect(isSoloVoter(makeConfig([], ['a']), 'a')).toBe(false); // only a new voter: not yet
  });

  test('majorityOf: floor(n/2) + 1, and 0 for nobody', () => {
    const sizes = [0, 1, 2, 3, 4, 5, 6, 7];
    expect(sizes.map((n) => majorityOf(POOL.slice(0, n)))).toEqual([0, 1, 2, 2, 3, 3, 4, 4]);
  });

  test('makeConfig sorts and deduplicates; isVoter / isMember / isJoint', () => {
    const c = makeConfig(['b', 'a', 'b'], [], ['x', 'x']);
    expect(c).toEqual({ voters: ['a', 'b'], newVoters: [], nonVoters: ['x'] });
    expect(sortedUnique(['c', 'a', 'c', 'b'])).toEqual(['a', 'b', 'c']);
    expect(isVoter(c, 'a')).toBe(true);
    expect(isVoter(c, 'x')).toBe(false);
    expect(isMember(c, 'x')).toBe(true);
    expect(isMember(c, 'z')).toBe(false);
    expect(isJoint(c)).toBe(false);
  });

  test('withNonVoters: changes only the non-voters, never demotes a voter', () => {
    const c = makeConfig(['a', 'b'], [], ['x']);
    expect(withNonVoters(c, ['y', 'a'], ['x'])).toEqual({ voters: ['a', 'b'], newVoters: [], nonVoters: ['y'] });
  });
});
