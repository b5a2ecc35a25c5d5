/**
 * Majority arithmetic: which log index a majority of voters holds, and whether a set of votes wins
 * an election. During joint consensus both the old and the new voter sets must agree.
 */
import { majorityOf, type ClusterConfig } from './config.js';

/**
 * The highest index held by a majority of one voter set.
 *
 * `slots[k]` says where the k-th voter's match index is: `-1` for the leader itself (whose index is
 * `selfIndex`), otherwise a position in `match`. Returns 0 for an empty voter set (it holds
 * nothing; {@link jointMajorityIndex} leaves an empty set out). Allocation-free: clusters are small,
 * and counting for each candidate value is cheaper than sorting a copy. The result is always an
 * index (no `Infinity` sentinel), so that V8 keeps it an integer on the commit path.
 */
export function majorityIndex(slots: readonly number[], match: readonly number[], selfIndex: number): number {
  const n = slots.length;
  if (n === 3) return majorityOfThree(slots, match, selfIndex);
  const need = (n >> 1) + 1;
  let best = 0;
  for (let i = 0; i < n; i++) {
    const si = slots[i]!;
    const v = si < 0 ? selfIndex : match[si]!;
    if (v <= best) continue;
    let atLeast = 0;
    for (let j = 0; j < n; j++) {
      const sj = slots[j]!;
      if ((sj < 0 ? selfIndex : match[sj]!) >= v) atLeast++;
    }
    if (atLeast >= need) best = v;
  }
  return best;
}

/**
 * `majorityIndex` of three voters (the most common cluster): the median of their three indices,
 * which two of them hold at least.
 */
function majorityOfThree(slots: readonly number[], match: readonly number[], selfIndex: number): number {
  const s0 = slots[0]!;
  const s1 = slots[1]!;
  const s2 = slots[2]!;
  const a = s0 < 0 ? selfIndex : match[s0]!;
  const b = s1 < 0 ? selfIndex : match[s1]!;
  const c = s2 < 0 ? selfIndex : match[s2]!;
  const low = a < b ? a : b;
  const high = a < b ? b : a;
  // The median: the larger of the pair's smaller index and the smaller of (the pair's larger, c).
  const mid = high < c ? high : c;
  return low > mid ? low : mid;
}

/**
 * The highest index held by a majority of `voters` and, when joint, of `newVoters` too (an empty set
 * does not limit the other; 0 when both are empty).
 */
export function jointMajorityIndex(
  voterSlots: readonly number[],
  newVoterSlots: readonly number[],
  match: readonly number[],
  selfIndex: number,
): number {
  if (newVoterSlots.length === 0) return majorityIndex(voterSlots, match, selfIndex);
  const b = majorityIndex(newVoterSlots, match, selfIndex);
  if (voterSlots.length === 0) return b;
  const a = majorityIndex(voterSlots, match, selfIndex);
  return a < b ? a : b;
}

/**
 * True when `granted` (the nodes that voted for a candidate, itself included) holds a majority of
 * the voters and, during joint consensus, a majority of the new voters. Votes from nodes outside
 * the configuration are ignored.
 */
export function hasVoteMajority(config: ClusterConfig, granted: readonly string[]): boolean {
  if (config.voters.length === 0) return false;
  return (
    countIn(config.voters, granted) >= majorityOf(config.voters) &&
    countIn(config.newVoters, granted) >= majorityOf(config.newVoters)
  );
}

function countIn(set: readonly string[], granted: readonly string[]): number {
  let n = 0;
  for (const id of set) if (granted.includes(id)) n++;
  return n;
}
