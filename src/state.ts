/**
 * The node state that passes through `step`: its types (a union by role), its one constructor and
 * the named transitions built on it, and read-only queries.
 */
import type { RaftActions } from './actions.js';
import { allMembers, type ClusterConfig } from './config.js';
import { firstAbove, termAt, type LogEntries } from './log.js';
import type { Metrics } from './metrics.js';
import { NEW_LEADERSHIP, NO_READS, type Leadership, type PendingRead } from './leadership.js';
import type { NodeOptions } from './options.js';
import type { LeaderProgress } from './progress.js';

/** The Raft roles, and the pre-candidate of pre-vote (Raft thesis §9.6). */
export type Role = 'follower' | 'preCandidate' | 'candidate' | 'leader';

/**
 * The fields every node state has, whatever its role. All of them are stable API: read them
 * freely; never build or modify a state yourself (use `startNode`, `restartNode` and `step`).
 */
interface StateFields {
  /** This node's id. */
  readonly id: string;
  /** The Raft role; narrows the state to its role's interface. */
  readonly role: Role;
  /** The current term: it never decreases. */
  readonly term: number;
  /**
   * The vote of this term; on a follower it is also the leader it follows (null until it hears from
   * one).
   */
  readonly votedFor: string | null;
  /** The highest index known committed. */
  readonly commitIndex: number;
  /** The uncompacted log, anchored at the snapshot position (see `LogEntries`). */
  readonly log: LogEntries;
  /** The configuration in effect at the snapshot position. */
  readonly snapshotConfig: ClusterConfig;
  /**
   * A candidate's granted votes (a pre-candidate's granted pre-votes), itself included (voters of
   * its latest configuration only); null in other roles.
   */
  readonly votes: readonly string[] | null;
  /** A leader's replication progress; null in other roles. */
  readonly progress: LeaderProgress | null;
  /**
   * A leader's leadership bookkeeping (ticks, leadership checks, lease, transfer; see `Leadership`);
   * null in other roles.
   */
  readonly lead: Leadership | null;
  /** The reads this node accepted and has not answered yet (see `ReadEvent`). */
  readonly reads: readonly PendingRead[];
  /**
   * On a follower, true while it hears from its leader: it has accepted a message of the leader's
   * since its election timer last fired. Such a follower refuses pre-votes and, with check-quorum,
   * ignores vote requests. False in other roles.
   */
  readonly leaderAlive: boolean;
  /** The node's options (see `NodeOptions`), as given at start or restart. */
  readonly options: NodeOptions;
  /**
   * The counters of ignored and refused messages, elections and leaderships (see `Metrics`). Not
   * persisted; they restart at zero.
   */
  readonly metrics: Metrics;
  /**
   * Null while healthy; the reason once the node stopped (a `fatal` inconsistency or an
   * `internalError`): every later event answers `fatal` with it.
   */
  readonly halted: string | null;
}

/** A follower: it follows `votedFor` (when not null) and keeps no votes or progress. */
export interface FollowerState extends StateFields {
  /** Discriminant: always `'follower'`. */
  readonly role: 'follower';
  /** Always null: a follower counts no votes. */
  readonly votes: null;
  /** Always null: only a leader tracks replication progress. */
  readonly progress: null;
  /** Always null: only a leader keeps leadership bookkeeping. */
  readonly lead: null;
}

/**
 * A pre-candidate: its election timer fired and, with pre-vote on, it asks whether it would win
 * the next term before campaigning. Its term and vote are unchanged.
 */
export interface PreCandidateState extends StateFields {
  /** Discriminant: always `'preCandidate'`. */
  readonly role: 'preCandidate';
  /** The pre-votes granted for its term plus one, itself included (voters of its latest configuration only). */
  readonly votes: readonly string[];
  /** Always null: only a leader tracks replication progress. */
  readonly progress: null;
  /** Always null: only a leader keeps leadership bookkeeping. */
  readonly lead: null;
  /** Always false: it no longer hears from a leader. */
  readonly leaderAlive: false;
}

/** A candidate of `term`: it voted for itself and counts the votes it was granted. */
export interface CandidateState extends StateFields {
  /** Discriminant: always `'candidate'`. */
  readonly role: 'candidate';
  /** The votes granted in `term`, itself included (voters of its latest configuration only). */
  readonly votes: readonly string[];
  /** Always null: only a leader tracks replication progress. */
  readonly progress: null;
  /** Always null: only a leader keeps leadership bookkeeping. */
  readonly lead: null;
  /** Always false: it hears from no leader in its term. */
  readonly leaderAlive: false;
}

/** The leader of `term`: it tracks each follower's replication progress. */
export interface LeaderState extends StateFields {
  /** Discriminant: always `'leader'`. */
  readonly role: 'leader';
  /** Always null: a leader counts no votes. */
  readonly votes: null;
  /** Each peer's replication progress (see `LeaderProgress`). */
  readonly progress: LeaderProgress;
  /** The leadership bookkeeping: ticks, leadership checks, lease, transfer (see `Leadership`). */
  readonly lead: Leadership;
  /** Always false: the field describes a follower's leader. */
  readonly leaderAlive: false;
}

/**
 * One node's complete Raft state: plain, immutable, JSON-serializable data whose size does not
 * depend on how many entries were committed. A union by role: `state.role === 'leader'` narrows
 * it to {@link LeaderState}, whose `progress` is never null. Every state, whatever its role, has
 * the same fields in the same order (one shape for the JavaScript engine).
 */
export type RaftState = FollowerState | PreCandidateState | CandidateState | LeaderState;

/**
 * What `step`, `startNode` and `restartNode` return: the next state and the actions to carry out,
 * in order. `proposeCommands` returns the same pair followed by where the proposal went.
 */
export type StepResult = readonly [state: RaftState, actions: RaftActions];

/**
 * The one positional constructor. Every state is built here, so all share one shape and field
 * order; the rest of the code uses the named transitions below, which cannot swap two fields.
 */
function make(
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
  options: NodeOptions,
  leaderAlive: boolean,
  lead: Leadership | null,
  reads: readonly PendingRead[],
): RaftState {
  return {
    id,
    role,
    term,
    votedFor,
    commitIndex,
    log,
    snapshotConfig,
    votes,
    progress,
    lead,
    reads,
    leaderAlive,
    options,
    metrics,
    halted,
  } as RaftState;
}

/** What a node starts from: a fresh node, or one restored from its persisted state. */
export interface InitialFields {
  readonly id: string;
  readonly term: number;
  readonly votedFor: string | null;
  readonly commitIndex: number;
  readonly log: LogEntries;
  readonly snapshotConfig: ClusterConfig;
  readonly metrics: Metrics;
  /** The options, complete and checked (see `parseOptions`). */
  readonly options: NodeOptions;
  /**
   * True for a restarted node: it may have heard from a live leader just before it went down, so it
   * counts as hearing from one until its election timer first fires (a lease granted before the
   * crash stays respected).
   */
  readonly leaderAlive: boolean;
}

/** A follower built from scratch (start or restart). */
export function initialFollower(f: InitialFields): FollowerState {
  return make(
    f.id,
    'follower',
    f.term,
    f.votedFor,
    f.commitIndex,
    f.log,
    f.snapshotConfig,
    null,
    null,
    f.metrics,
    null,
    f.options,
    f.leaderAlive,
    null,
    NO_READS,
  ) as FollowerState;
}

/** Step down (or stay) as a follower of `term`, following `leader` (null: none known yet). */
export function toFollower(s: RaftState, term: number, leader: string | null): FollowerState {
  return make(
    s.id,
    'follower',
    term,
    leader,
    s.commitIndex,
    s.log,
    s.snapshotConfig,
    null,
    null,
    s.metrics,
    s.halted,
    s.options,
    false,
    null,
    s.reads,
  ) as FollowerState;
}

/**
 * A follower of `leader` in its current term that took the leader's log and commit index (the
 * outcome of an AppendEntries call), with `metrics`.
 */
export function followerOf(
  s: RaftState,
  leader: string,
  log: LogEntries,
  commitIndex: number,
  metrics: Metrics,
): FollowerState {
  return make(
    s.id,
    'follower',
    s.term,
    leader,
    commitIndex,
    log,
    s.snapshotConfig,
    null,
    null,
    metrics,
    s.halted,
    s.options,
    true,
    null,
    s.reads,
  ) as FollowerState;
}

/** A candidate of `term`, voting for itself, with `metrics` (the election counted). */
export function toCandidate(s: RaftState, term: number, metrics: Metrics): CandidateState {
  return make(
    s.id,
    'candidate',
    term,
    s.id,
    s.commitIndex,
    s.log,
    s.snapshotConfig,
    [s.id],
    null,
    metrics,
    s.halted,
    s.options,
    false,
    null,
    s.reads,
  ) as CandidateState;
}

/**
 * A pre-candidate in its current term (its term and vote unchanged), counting the pre-votes it was
 * granted, itself included, with `metrics` (the pre-vote counted).
 */
export function toPreCandidate(s: RaftState, metrics: Metrics): PreCandidateState {
  return make(
    s.id,
    'preCandidate',
    s.term,
    s.votedFor,
    s.commitIndex,
    s.log,
    s.snapshotConfig,
    [s.id],
    null,
    metrics,
    s.halted,
    s.options,
    false,
    null,
    s.reads,
  ) as PreCandidateState;
}

/** `state` (a follower whose election timer fired) no longer hearing from a live leader. */
export function withoutLeaderContact<S extends RaftState>(s: S): S {
  if (!s.leaderAlive) return s;
  return make(
    s.id,
    s.role,
    s.term,
    s.votedFor,
    s.commitIndex,
    s.log,
    s.snapshotConfig,
    s.votes,
    s.progress,
    s.metrics,
    s.halted,
    s.options,
    false,
    s.lead,
    s.reads,
  ) as S;
}

/** A candidate or pre-candidate that was granted `votes` (itself included). */
export function withVotes<S extends CandidateState | PreCandidateState>(s: S, votes: readonly string[]): S {
  return make(
    s.id,
    s.role,
    s.term,
    s.votedFor,
    s.commitIndex,
    s.log,
    s.snapshotConfig,
    votes,
    null,
    s.metrics,
    s.halted,
    s.options,
    s.leaderAlive,
    s.lead,
    s.reads,
  ) as S;
}

/** The leader of the candidate's term, tracking followers with `progress`. */
export function toLeader(s: CandidateState, progress: LeaderProgress, metrics: Metrics): LeaderState {
  return make(
    s.id,
    'leader',
    s.term,
    s.votedFor,
    s.commitIndex,
    s.log,
    s.snapshotConfig,
    null,
    progress,
    metrics,
    s.halted,
    s.options,
    false,
    s.log.lastIndex === 0 ? NEW_LEADERSHIP : { ...NEW_LEADERSHIP, persisted: s.log.lastIndex },
    s.reads,
  ) as LeaderState;
}

/** The leader with new leadership bookkeeping (ticks, rounds, lease, transfer). */
export function withLeadership(s: LeaderState, lead: Leadership): LeaderState {
  return make(
    s.id,
    s.role,
    s.term,
    s.votedFor,
    s.commitIndex,
    s.log,
    s.snapshotConfig,
    null,
    s.progress,
    s.metrics,
    s.halted,
    s.options,
    false,
    lead,
    s.reads,
  ) as LeaderState;
}

/** `state` with the reads it holds replaced by `reads`. */
export function withReads<S extends RaftState>(s: S, reads: readonly PendingRead[]): S {
  return make(
    s.id,
    s.role,
    s.term,
    s.votedFor,
    s.commitIndex,
    s.log,
    s.snapshotConfig,
    s.votes,
    s.progress,
    s.metrics,
    s.halted,
    s.options,
    s.leaderAlive,
    s.lead,
    reads,
  ) as S;
}

/** A leader's progress, leadership bookkeeping and reads, replaced together. */
export function withLeaderBook(
  s: LeaderState,
  book: { readonly progress: LeaderProgress; readonly lead: Leadership; readonly reads: readonly PendingRead[] },
): LeaderState {
  return make(
    s.id,
    s.role,
    s.term,
    s.votedFor,
    s.commitIndex,
    s.log,
    s.snapshotConfig,
    null,
    book.progress,
    s.metrics,
    s.halted,
    s.options,
    false,
    book.lead,
    book.reads,
  ) as LeaderState;
}

/** `state` (any role) having voted for `candidate` in its current term. */
export function withVote<S extends RaftState>(s: S, candidate: string): S {
  return make(
    s.id,
    s.role,
    s.term,
    candidate,
    s.commitIndex,
    s.log,
    s.snapshotConfig,
    s.votes,
    s.progress,
    s.metrics,
    s.halted,
    s.options,
    s.leaderAlive,
    s.lead,
    s.reads,
  ) as S;
}

/** The leader with a new log and progress (an append of its own). */
export function withLeaderLog(s: LeaderState, log: LogEntries, progress: LeaderProgress): LeaderState {
  return make(
    s.id,
    s.role,
    s.term,
    s.votedFor,
    s.commitIndex,
    log,
    s.snapshotConfig,
    null,
    progress,
    s.metrics,
    s.halted,
    s.options,
    s.leaderAlive,
    s.lead,
    s.reads,
  ) as LeaderState;
}

/** The leader with new replication progress and commit index (an AppendEntries reply counted). */
export function withLeaderProgress(s: LeaderState, progress: LeaderProgress, commitIndex: number): LeaderState {
  return make(
    s.id,
    s.role,
    s.term,
    s.votedFor,
    commitIndex,
    s.log,
    s.snapshotConfig,
    null,
    progress,
    s.metrics,
    s.halted,
    s.options,
    s.leaderAlive,
    s.lead,
    s.reads,
  ) as LeaderState;
}

/** `state` with its log compacted to a snapshot: the log after it, its configuration, the commit index. */
export function withSnapshot<S extends RaftState>(
  s: S,
  snapshot: { readonly log: LogEntries; readonly config: ClusterConfig; readonly commitIndex: number },
): S {
  return make(
    s.id,
    s.role,
    s.term,
    s.votedFor,
    snapshot.commitIndex,
    snapshot.log,
    snapshot.config,
    s.votes,
    s.progress,
    s.metrics,
    s.halted,
    s.options,
    s.leaderAlive,
    s.lead,
    s.reads,
  ) as S;
}

/** `state` halted for `reason`: every later event answers `fatal` with it. */
export function halt<S extends RaftState>(s: S, reason: string, metrics: Metrics = s.metrics): S {
  return make(
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
    reason,
    s.options,
    s.leaderAlive,
    s.lead,
    s.reads,
  ) as S;
}

/** `state` with a new log. */
export function withLog<S extends RaftState>(s: S, log: LogEntries): S {
  return make(
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
    s.options,
    s.leaderAlive,
    s.lead,
    s.reads,
  ) as S;
}

/** `state` with a new commit index. */
export function withCommitIndex<S extends RaftState>(s: S, commitIndex: number): S {
  return make(
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
    s.options,
    s.leaderAlive,
    s.lead,
    s.reads,
  ) as S;
}

/** `state` with new metrics. */
export function withMetrics<S extends RaftState>(s: S, metrics: Metrics): S {
  return make(
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
    s.options,
    s.leaderAlive,
    s.lead,
    s.reads,
  ) as S;
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

/**
 * True while a membership change is under way, so that a new one would be refused with
 * `changeInProgress`: the latest configuration is joint, or it is not yet known committed.
 */
export function configChangeInProgress(s: RaftState): boolean {
  return latestConfig(s).newVoters.length > 0 || latestConfigIndex(s) > s.commitIndex;
}

/** The configuration in effect at `index`, or null when `index` is outside `[snapshot, last]`. */
export function configAt(s: RaftState, index: number): ClusterConfig | null {
  if (index < s.log.prevIndex || index > s.log.lastIndex) return null;
  const configs = s.log.configs;
  const k = firstAbove(configs, index);
  return k === 0 ? s.snapshotConfig : configs[k - 1]!.config;
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
): {
  /**
   * The term of the entry at `index` (the snapshot's term when `index` is the snapshot index): the
   * `term` of the `snapshotInstalled` event.
   */
  term: number;
  /** The `index` asked about, unchanged: the last index the snapshot covers. */
  index: number;
  /**
   * The configuration in effect at `index` (the latest configuration entry at or below it, else the
   * snapshot's): the `config` the snapshot must record.
   */
  config: ClusterConfig;
} | null {
  const config = configAt(s, index);
  return config === null ? null : { term: termAt(s.log, index), index, config };
}

/** Every member of the latest configuration except this node, sorted: who a broadcast goes to. */
export function peersOf(s: RaftState): readonly string[] {
  if (s.role === 'leader') return s.progress.peers;
  return allMembers(latestConfig(s)).filter((id) => id !== s.id);
}

/**
 * The node this one believes leads: itself as leader, the followed node as follower, else null (a
 * follower that voted for itself, a leader stepped down by check-quorum, follows nobody).
 */
export function leaderHint(s: RaftState): string | null {
  if (s.role === 'leader') return s.id;
  return s.role === 'follower' && s.votedFor !== s.id ? s.votedFor : null;
}

/**
 * A leader's match index for `peer`: the highest index known replicated there in this leadership.
 * null when this node is not leader or does not track `peer` (itself, or a non-member).
 */
export function followerMatchIndex(s: RaftState, peer: string): number | null {
  if (s.role !== 'leader') return null;
  const k = s.progress.peers.indexOf(peer);
  return k < 0 ? null : s.progress.match[k]!;
}
