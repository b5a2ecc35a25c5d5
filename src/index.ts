/**
 * raftstep — Raft consensus as a pure reducer: `step(state, event) => [state, actions]`.
 *
 * The application owns the network, the disk and the clock; raftstep says, through actions, what to
 * persist, what to send and when to arm the timer.
 */
import { step as stepImpl } from './step.js';
import { mergeActions as mergeActionsImpl } from './actions.js';

// The two functions called for every event are exported as plain bindings rather than re-exports:
// CommonJS output turns a re-export into a getter that every call would go through.
/**
 * Apply one event to a node: `step(state, event) => [nextState, actions]`.
 *
 * Pure and total: it reads only its arguments, never modifies them and never throws. An event that
 * changes nothing returns the same state object. A malformed event (including one whose fields
 * throw when read, or a term or index above 2^53 - 2) returns the same state and one `invalidEvent`
 * action naming the problem; a halted node returns the same state and its `fatal` action again; an
 * exception inside a rule (a bug in raftstep) returns the state halted and one `internalError`
 * action. Each field of an event is read once, and the state keeps only plain copies of what it
 * carries. Carry out the returned actions in order: storage first, then messages.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { startNode, step } from 'raftstep';
 *
 * const [fresh] = startNode('n1');
 * const [leader, actions] = step(fresh, { type: 'createCluster', voters: ['n1'] });
 * assert.equal(leader.role, 'leader'); // a single voter elects itself at once
 * assert.deepEqual(
 *   actions.map((a) => a.type),
 *   ['setTimer', 'saveHardState', 'appendLog', 'commitAdvanced'], // persist, then apply
 * );
 * const [next, more] = step(leader, { type: 'propose' });
 * assert.equal(next.commitIndex, 3); // the configuration (1), the term start (2), the command (3)
 * assert.ok(more.some((a) => a.type === 'appendLog'));
 * // A malformed event changes nothing and says why.
 * const [same, refused] = step(next, { type: 'propose', count: -1 });
 * assert.equal(same, next);
 * assert.equal(refused[0]!.type, 'invalidEvent');
 * ```
 */
export const step = stepImpl;
/**
 * Merge the actions of a later step into those of an earlier one not yet carried out (pipelining):
 * the later timer and hard state win, appends join, the highest commit wins, messages to the same
 * destination merge (AppendEntries join their entries), stale calls are dropped when the later list
 * raises the term, and earlier actions are rebased onto a snapshot the later list installs. The
 * result is in canonical order; neither input is modified.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { mergeActions, startNode, step } from 'raftstep';
 *
 * const [leader] = step(startNode('n1')[0], { type: 'createCluster', voters: ['n1'] });
 * const [once, first] = step(leader, { type: 'propose' });
 * const [twice, second] = step(once, { type: 'propose' });
 * const merged = mergeActions(first, second); // carry out both steps' actions as one
 * const appends = merged.filter((a) => a.type === 'appendLog');
 * assert.equal(appends.length, 1); // one write for both proposals
 * assert.equal(appends[0]!.entries.lastIndex, twice.log.lastIndex);
 * ```
 */
export const mergeActions = mergeActionsImpl;
export { stepAll } from './step.js';
export { startNode, restartNode, applyToStoredLog, type PersistedState } from './node.js';
export { DEFAULT_OPTIONS, BASIC_OPTIONS, type NodeOptions } from './options.js';
export { isDisruptiveVoteRequest, isDisruptiveVoteFromNonMember, caughtUpNonVoters } from './queries.js';
export type { Leadership, PendingRead } from './leadership.js';
export { commitStatus, proposeCommands, type CommitStatus, type Proposal, type ProposeResult } from './proposals.js';
export {
  latestConfig,
  latestConfigIndex,
  configChangeInProgress,
  configAt,
  positionAndConfigAt,
  peersOf,
  leaderHint,
  followerMatchIndex,
  type RaftState,
  type FollowerState,
  type PreCandidateState,
  type CandidateState,
  type LeaderState,
  type Role,
  type StepResult,
} from './state.js';
export type { LeaderProgress } from './progress.js';
export { MAX_POSITION } from './validate.js';
export { MAX_TERM_STEP } from './term.js';
export { MAX_INDEX, RESERVED_INDICES } from './log.js';
export type {
  RaftEvent,
  RequestEvent,
  CreateClusterEvent,
  ProposeEvent,
  HeartbeatEvent,
  TimeoutEvent,
  ProposeConfigEvent,
  SnapshotInstalledEvent,
  ReadEvent,
  TransferLeadershipEvent,
  AppendPersistedEvent,
} from './events.js';
export {
  type RaftAction,
  type RaftActions,
  type AppendLog,
  type Broadcast,
  type CommitAdvanced,
  type CompactLog,
  type Fatal,
  type InternalError,
  type InstallSnapshot,
  type InvalidEvent,
  type ReadReady,
  type Rejected,
  type RejectReason,
  type SaveHardState,
  type Send,
  type SetTimer,
  type TimerWait,
} from './actions.js';
export {
  truncateAppendEntries,
  stripAppendEntriesPrefix,
  MESSAGE_TYPES,
  type Message,
  type RaftMessage,
  type ExtensionMessage,
  type RequestVote,
  type RequestVoteReply,
  type AppendEntries,
  type AppendEntriesReply,
  type PreVote,
  type PreVoteReply,
  type TimeoutNow,
  type LeadershipCheck,
  type LeadershipCheckReply,
  type ReadIndex,
  type ReadIndexReply,
  type ReadAnswer,
} from './messages.js';
export {
  containsPosition,
  emptyEntries,
  entryAt,
  entryCount,
  forEachEntry,
  listEntries,
  termAt,
  type LogEntries,
  type LogEntry,
  type LogPosition,
  type TermStart,
  type ConfigEntry,
} from './log.js';
export {
  makeConfig,
  toJointConsensus,
  withNonVoters,
  allMembers,
  isJoint,
  isVoter,
  isMember,
  configsEqual,
  EMPTY_CONFIG,
  type ClusterConfig,
} from './config.js';
export { CHUNK_SIZE, flatItems, toChunks, type Chunked } from './chunks.js';
export { METRIC_NAMES, type Metrics, type MetricName } from './metrics.js';
export { validateEvent, validateLogEntries, validateConfig } from './validate.js';
