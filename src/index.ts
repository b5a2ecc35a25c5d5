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
 * changes nothing returns the same state object. A malformed event returns the same state and one
 * `invalidEvent` action naming the problem; a halted node returns the same state and its `fatal`
 * action again. Carry out the returned actions in order: storage first, then messages.
 */
export const step = stepImpl;
/**
 * Merge the actions of a later step into those of an earlier one not yet carried out (pipelining):
 * the later timer and hard state win, appends join, the highest commit wins, messages to the same
 * destination merge (AppendEntries join their entries), stale calls are dropped when the later list
 * raises the term, and earlier actions are rebased onto a snapshot the later list installs. The
 * result is in canonical order; neither input is modified.
 */
export const mergeActions = mergeActionsImpl;
export { stepAll } from './step.js';
export { startNode, restartNode, applyToStoredLog, type PersistedState } from './node.js';
export { commitStatus, proposeCommands, type CommitStatus, type Proposal } from './proposals.js';
export {
  latestConfig,
  latestConfigIndex,
  configAt,
  positionAndConfigAt,
  peersOf,
  leaderHint,
  followerMatchIndex,
  type RaftState,
  type Role,
  type StepResult,
} from './state.js';
export type {
  RaftEvent,
  Request,
  CreateCluster,
  Propose,
  Heartbeat,
  Timeout,
  ProposeConfig,
  SnapshotInstalled,
} from './events.js';
export {
  mergeAll,
  mergeMessages,
  NO_ACTIONS,
  type Action,
  type Actions,
  type AppendLog,
  type Broadcast,
  type CommitAdvanced,
  type CompactLog,
  type Fatal,
  type InstallSnapshot,
  type InvalidEvent,
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
  isCall,
  type Message,
  type RequestVote,
  type RequestVoteReply,
  type AppendEntries,
  type AppendEntriesReply,
} from './messages.js';
export {
  appendSuffix,
  containsPosition,
  emptyEntries,
  entryAt,
  entryCount,
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
export { METRIC_NAMES, ZERO_METRICS, type Metrics, type MetricName } from './metrics.js';
export { validateEvent, validateLogEntries, validateConfig } from './validate.js';
