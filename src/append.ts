/**
 * The leader's own appends: a new term's first entry, a batch of commands, a configuration. Each
 * is persisted by the leader and broadcast to its peers in one step. Whether the append commits at
 * once (a single voter) is decided one level up, in `commit.ts`.
 */
import {
  TIMER_HEARTBEAT,
  appendLog,
  broadcast,
  concurrentAppendLog,
  send,
  type RaftAction,
  type RaftActions,
} from './actions.js';
import { finalConfigOf, type ClusterConfig } from './config.js';
import {
  appendCommands,
  appendConfig,
  appendTermStart as appendTermStartEntry,
  commandsAfter,
  makeEntries,
  type LogEntries,
} from './log.js';
import { appendEntriesCall, type Message } from './messages.js';
import { sendsRearmHeartbeat } from './options.js';
import { progressFor, withAppendsSent, type LeaderProgress } from './progress.js';
import { latestConfig, withLeaderLog, type LeaderState } from './state.js';

/** What the leader appends: its log after the append, the new entries, its progress after it. */
export interface LeaderAppend {
  readonly log: LogEntries;
  readonly entries: LogEntries;
  readonly progress: LeaderProgress;
}

/** `count` commands in the leader's term, after its last entry. */
export function commandsAppend(s: LeaderState, count: number): LeaderAppend {
  const log = s.log;
  return {
    log: appendCommands(log, count),
    entries: commandsAfter(log.lastTerm, log.lastIndex, count),
    progress: s.progress,
  };
}

/** The term-start entry of a new leader (Raft's no-op entry: committing it commits what came before). */
export function termStartAppend(s: LeaderState): LeaderAppend {
  const log = appendTermStartEntry(s.log, s.term);
  const entries = makeEntries(
    s.log.lastTerm,
    s.log.lastIndex,
    s.term,
    log.lastIndex,
    [[{ index: log.lastIndex, term: s.term }]],
    [],
  );
  return { log, entries, progress: s.progress };
}

/**
 * A configuration entry. It takes effect at once: the leader starts tracking new members and stops
 * tracking removed ones.
 */
export function configAppend(s: LeaderState, config: ClusterConfig): LeaderAppend {
  const log = appendConfig(s.log, config);
  const entries = makeEntries(
    s.log.lastTerm,
    s.log.lastIndex,
    s.log.lastTerm,
    log.lastIndex,
    [],
    log.configs.slice(-1),
  );
  return { log, entries, progress: progressFor(config, s.id, s.progress) };
}

/**
 * The final configuration of a committed joint one (its new voters, the same non-voters): what the
 * leader appends by itself once the joint configuration commits.
 */
export function finalConfigAppend(s: LeaderState): LeaderAppend {
  return configAppend(s, finalConfigOf(latestConfig(s)));
}

/**
 * The leader after the append (commit index unchanged): the new entries sent to every peer but the
 * `paused` slots (see `pausedSlots`).
 */
export function appendedState(s: LeaderState, a: LeaderAppend, paused: readonly number[] | null): LeaderState {
  return withLeaderLog(s, a.log, withAppendsSent(a.progress, paused, s.log.lastIndex, a.log.lastIndex));
}

/**
 * The actions of an append: arm the heartbeat timer (a new leader's first append; later ones only in
 * the base protocol, where a broadcast counts as a heartbeat), persist the entries, send them to
 * every peer with `commitIndex` (the append `concurrent` with `concurrentLeaderWrites`) — or, when flow control pauses some
 * peers (`paused` slots), to each of the others: a paused peer gets the entries once it answers.
 */
export function appendActions(
  s: LeaderState,
  a: LeaderAppend,
  commitIndex: number,
  paused: readonly number[] | null,
): RaftActions {
  const peers = a.progress.peers;
  // A new leader's first append (its term start) starts its clock; later ones re-arm it only in the
  // base protocol (see `sendsRearmHeartbeat`).
  const timer = s.log.lastTerm !== s.term || sendsRearmHeartbeat(s.options);
  const append = s.options.concurrentLeaderWrites ? concurrentAppendLog(a.entries) : appendLog(a.entries);
  if (peers.length === 0) return timer ? [TIMER_HEARTBEAT, append] : [append];
  const call = appendEntriesCall(s.id, s.term, commitIndex, a.entries);
  if (paused === null) return timer ? [TIMER_HEARTBEAT, append, broadcast(call)] : [append, broadcast(call)];
  return sendsToUnpaused(timer ? [TIMER_HEARTBEAT, append] : [append], peers, paused, call);
}

/** `actions` followed by a `send` of `call` to each of `peers` but the `paused` slots (sorted). */
function sendsToUnpaused(
  actions: RaftAction[],
  peers: readonly string[],
  paused: readonly number[],
  call: Message,
): RaftActions {
  let p = 0;
  for (let k = 0; k < peers.length; k++) {
    if (paused[p] === k) p++;
    else actions.push(send(peers[k]!, call));
  }
  return actions;
}
