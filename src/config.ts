/**
 * Cluster configuration: who votes, who will vote once a joint-consensus change completes, and who
 * only receives the log.
 */

/**
 * A cluster configuration: the voters, the voters being moved to during a joint-consensus change,
 * and the non-voters. Each list is sorted ascending and free of duplicates: `step` answers an
 * event carrying a configuration that is not with `invalidEvent`, and `restartNode` throws on one
 * (`makeConfig` sorts and deduplicates).
 */
export interface ClusterConfig {
  /** The voting members. Elections and commits need a majority of them. */
  readonly voters: readonly string[];
  /**
   * Empty, except during a joint-consensus change, when it holds the voters of the configuration
   * being moved to; a majority of them is then needed as well.
   */
  readonly newVoters: readonly string[];
  /**
   * Members that receive the log but never vote, never count for commit and never campaign
   * (learners). A node is never both a voter (of either list) and a non-voter.
   */
  readonly nonVoters: readonly string[];
}

const NONE: readonly string[] = Object.freeze([]);

/** The configuration of a node that belongs to no cluster yet. */
export const EMPTY_CONFIG: ClusterConfig = Object.freeze({ voters: NONE, newVoters: NONE, nonVoters: NONE });

/** A sorted copy of `ids` without duplicates. */
export function sortedUnique(ids: readonly string[]): readonly string[] {
  if (ids.length === 0) return NONE;
  const sorted = ids.slice().sort();
  const out: string[] = [sorted[0]!];
  for (let i = 1; i < sorted.length; i++) if (sorted[i] !== sorted[i - 1]) out.push(sorted[i]!);
  return out;
}

/** Build a configuration, sorting and deduplicating each list. */
export function makeConfig(
  voters: readonly string[],
  newVoters: readonly string[] = NONE,
  nonVoters: readonly string[] = NONE,
): ClusterConfig {
  return { voters: sortedUnique(voters), newVoters: sortedUnique(newVoters), nonVoters: sortedUnique(nonVoters) };
}

/** True while a joint-consensus change is in progress (`newVoters` is not empty). */
export function isJoint(config: ClusterConfig): boolean {
  return config.newVoters.length > 0;
}

/** True when `id` is a voter of the old or the new voter set. */
export function isVoter(config: ClusterConfig, id: string): boolean {
  return config.voters.includes(id) || config.newVoters.includes(id);
}

/** True when `id` is a member of any of the three lists. */
export function isMember(config: ClusterConfig, id: string): boolean {
  return isVoter(config, id) || config.nonVoters.includes(id);
}

/** Every member (voters, new voters, non-voters), sorted, without duplicates. */
export function allMembers(config: ClusterConfig): readonly string[] {
  return sortedUnique([...config.voters, ...config.newVoters, ...config.nonVoters]);
}

/** True when `id` is the only voter of the configuration (old and new voters together). */
export function isSoloVoter(config: ClusterConfig, id: string): boolean {
  if (config.voters.length !== 1 || config.voters[0] !== id) return false;
  for (const v of config.newVoters) if (v !== id) return false;
  return true;
}

/** The number of votes that make a majority of `voters` (0 for an empty list). */
export function majorityOf(voters: readonly string[]): number {
  return voters.length === 0 ? 0 : (voters.length >> 1) + 1;
}

/**
 * The joint configuration that moves from `config`'s voters to `(voters ∪ adding) \ removing`.
 * Nodes that become voters are removed from the non-voters (this is how a non-voter is promoted).
 * Throws a `RangeError` when the change would leave no voters (a cluster cannot vote without
 * any). A change that changes nothing is not an error here, but the leader refuses it (`noChange`).
 */
export function toJointConsensus(
  config: ClusterConfig,
  adding: readonly string[],
  removing: readonly string[],
): ClusterConfig {
  const gone = new Set(removing);
  const newVoters = sortedUnique([...config.voters, ...adding].filter((id) => !gone.has(id)));
  if (newVoters.length === 0) throw new RangeError('toJointConsensus: the change would leave no voters');
  return {
    voters: config.voters,
    newVoters,
    nonVoters: config.nonVoters.filter((id) => !newVoters.includes(id)),
  };
}

/**
 * `config` with `adding` made non-voters and `removing` taken out of the non-voters: a change that
 * needs no joint phase. Ids that are voters cannot become non-voters this way (demote through a
 * joint change that removes them, then add them back): they are left out of `adding`.
 */
export function withNonVoters(
  config: ClusterConfig,
  adding: readonly string[],
  removing: readonly string[],
): ClusterConfig {
  const nonVoters = sortedUnique([...config.nonVoters, ...adding]).filter(
    (id) => !removing.includes(id) && !config.voters.includes(id) && !config.newVoters.includes(id),
  );
  return { voters: config.voters, newVoters: config.newVoters, nonVoters };
}

/** The configuration a joint one moves to: its new voters, and the same non-voters. */
export function finalConfigOf(joint: ClusterConfig): ClusterConfig {
  return { voters: joint.newVoters, newVoters: NONE, nonVoters: joint.nonVoters };
}

/** Structural equality of two configurations. */
export function configsEqual(a: ClusterConfig, b: ClusterConfig): boolean {
  return sameIds(a.voters, b.voters) && sameIds(a.newVoters, b.newVoters) && sameIds(a.nonVoters, b.nonVoters);
}

/** True when two sorted id lists are equal. */
export function sameIds(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
