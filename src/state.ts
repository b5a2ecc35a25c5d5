/**
 * The node state that passes through `step`, its one constructor, and read-only queries on it.
 */
import type { Actions } from './actions.js';
import { allMembers, type ClusterConfig } from './config.js';
import { termAt, type LogEntries } from './log.js';
import type { Metrics } from './metrics.js';
import type { LeaderProgress } from './progress.js';

/** The three Raft roles. */
export type Role = 'follower' | 'candidate' | 'leader';

/**
 * One node's complete Raft state: plain, immutable, JSON-serializable data whose size does not
 * depend on how many entries were committed.
 *
 * - `id`: this node's id.
 * - `role`, `term`: the Raft role and current term.
 * - `votedFor`: the vote of this term; on a follower it is also the leader it follows.
 * - `commitIndex`: the highest index known committed.
 * - `log`: the uncompacted log, anchored at the snapshot position (see `LogEntries`).
 * - `snapshotConfig`: the configuration in effect at the snapshot position.
 * - `votes`: a candidate's granted votes (itself included); null in other roles.
 * - `progress`: a leader's replication progress; null in other roles.
 * - `metrics`: noraft's counters.
 * - `halted`: null while healthy; the reason once the node hit a fatal inconsistency.
 *
 * Treat it as opaque and read it through the queries of this module; build it only with
 * `startNode`/`restartNode` and `step`.
 */
export interface RaftState {
  readonly id: string;
  readonly role: Role;
  readonly term: number;
  readonly votedFor: string | null;
  readonly commitIndex: number;
  readonly log: LogEntries;
  readonly snapshotConfig: ClusterConfig;
  readonly votes: readonly string[] | null;
  readonly progress: LeaderProgress | null;
  readonly metrics: Metrics;
  readonly halted: string | null;
}

/** What `step` returns: the next state and the actions to carry out, in order. */
export type StepResult = readonly [RaftState, Actions];

/** The one constructor of {@link RaftState}: every state has the same shape and field order. */
export function makeState(
  id: string,
  role: Role,
  term: number,
  votedFor: string | null,
  commitIndex: number,
  log: LogEntries,
  snapshotConfig: ClusterConfig,
  votes: readonly string[] | null,
  progress: LeaderProgress | null,
  metrics: Metrics,
  halted: string | null,
): RaftState {
  return { id, role, term, votedFor, commitIndex, log, snapshotConfig, votes, progress, metrics, halted };
}

/** `state` with a new log (the common update of the replication paths). */
export function withLog(s: RaftState, log: LogEntries): RaftState {
  return makeState(
    s.id,
    s.role,
    s.term,
    s.votedFor,
    s.commitIndex,
    log,
    s.snapshotConfig,
    s.votes,
    s.progress,
    s.metrics,
    s.halted,
  );
}

/** `state` with a new commit index. */
export function withCommitIndex(s: RaftState, commitIndex: number): RaftState {
  return makeState(
    s.id,
    s.role,
    s.term,
    s.votedFor,
    commitIndex,
    s.log,
    s.snapshotConfig,
    s.votes,
    s.progress,
    s.metrics,
    s.halted,
  );
}

/** `state` with new metrics. */
export function withMetrics(s: RaftState, metrics: Metrics): RaftState {
  return makeState(
    s.id,
    s.role,
    s.term,
    s.votedFor,
    s.commitIndex,
    s.log,
    s.snapshotConfig,
    s.votes,
    s.progress,
    metrics,
    s.halted,
  );
}

/**
 * The latest configuration in the log, committed or not (standard Raft: a configuration takes
 * effect as soon as it is appended), else the snapshot's.
 */
export function latestConfig(s: RaftState): ClusterConfig {
  const configs = s.log.configs;
  return configs.length === 0 ? s.snapshotConfig : configs[configs.length - 1]!.config;
}

/** The index of the latest configuration entry, or the snapshot index when the log holds none. */
export function latestConfigIndex(s: RaftState): number {
  const configs = s.log.configs;
  return configs.length === 0 ? s.log.prevIndex : configs[configs.length - 1]!.index;
}

/** The configuration in effect at `index`, or null when `index` is outside `[snapshot, last]`. */
export function configAt(s: RaftState, index: number): ClusterConfig | null {
  if (index < s.log.prevIndex || index > s.log.lastIndex) return null;
  const configs = s.log.configs;
  for (let i = configs.length - 1; i >= 0; i--) if (configs[i]!.index <= index) return configs[i]!.config;
  return s.snapshotConfig;
}

/**
 * The position of the entry at `index` and the configuration in effect there: what a snapshot
 * taken at `index` must record (local compaction: save the state machine at a committed `index`,
 * then step `{type: 'snapshotInstalled', ...positionAndConfigAt(state, index)}`). null when `index`
 * is outside `[snapshot index, last index]`.
 */
export function positionAndConfigAt(
  s: RaftState,
  index: number,
): { term: number; index: number; config: ClusterConfig } | null {
  const config = configAt(s, index);
  return config === null ? null : { term: termAt(s.log, index), index, config };
}

/** Every member of the latest configuration except this node, sorted: who a broadcast goes to. */
export function peersOf(s: RaftState): readonly string[] {
  if (s.progress !== null) return s.progress.peers;
  return allMembers(latestConfig(s)).filter((id) => id !== s.id);
}

/** The node this one believes leads: itself as leader, the followed node as follower, else null. */
export function leaderHint(s: RaftState): string | null {
  if (s.role === 'leader') return s.id;
  return s.role === 'follower' ? s.votedFor : null;
}

/**
 * A leader's match index for `peer`: the highest index known replicated there in this leadership.
 * null when this node is not leader or does not track `peer` (itself, or a non-member).
 */
export function followerMatchIndex(s: RaftState, peer: string): number | null {
  if (s.progress === null) return null;
  const k = s.progress.peers.indexOf(peer);
  return k < 0 ? null : s.progress.match[k]!;
}
