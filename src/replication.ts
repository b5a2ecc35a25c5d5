/**
 * Log replication: proposals on the leader, AppendEntries calls on followers, replies on the leader.
 *
 * Rules (Raft §5.3, as noraft implements them):
 * - A leader appends a proposal and counts it for itself at once, then sends only the new entries,
 *   anchored at its previous last position (optimistic pipelining; no per-follower next index).
 * - A follower appends what it does not hold yet when it holds the anchor; when it holds the
 *   anchor's index with another term, it truncates its divergent tail; either way it replies with
 *   its last position, and the leader resends from there (or probes one step back on divergence,
 *   or asks for a snapshot transfer when the follower is behind the leader's snapshot).
 * - Calls already applied (duplicates, reordered older calls) only get a reply; replies behind the
 *   known match index are dropped, so a match index never decreases within one leadership.
 * - A follower learns the commit index from the leader, up to what it holds.
 */
import {
  NO_ACTIONS,
  TIMER_FOLLOWER,
  TIMER_HEARTBEAT,
  appendLog,
  broadcast,
  commitAdvanced,
  fatal,
  installSnapshot,
  invalidEvent,
  mergeActions,
  rejected,
  saveHardState,
  send,
  type RaftAction,
} from './actions.js';
import { commandsAppend } from './append.js';
import { commitSettlesConfig, commitUpTo, majorityCommitIndex, replicateAppend } from './commit.js';
import {
  containsIndex,
  containsPosition,
  emptyEntries,
  hasRoomFor,
  lastIndexWithTermAtMost,
  MAX_INDEX,
  RESERVED_INDICES,
  since,
  spliceSuffix,
  stripCommonPrefix,
  termAt,
  truncateAfter,
  type LogEntries,
} from './log.js';
import { appendEntriesCall, appendEntriesReply } from './messages.js';
import { bump } from './metrics.js';
import { afterReply, afterSendTo, heardFrom, slotOf, TRACKING } from './progress.js';
import { commandsBeforePause, limitEntries, shouldCatchUp } from './flow-control.js';
import { sendsRearmHeartbeat } from './options.js';
import { handOver } from './transfer.js';
import { readsAfterCommit, reforwardReads } from './reads.js';
import {
  followerOf,
  halt,
  leaderHint,
  withLeaderProgress,
  withMetrics,
  type LeaderState,
  type RaftState,
  type StepResult,
} from './state.js';

/**
 * Propose `count` commands on the leader. They take the indices `lastIndex + 1 .. lastIndex + count`
 * in the current term. A node that is not leader changes nothing and reports a `rejected` action
 * with its leader hint; a leader handing leadership over reports `transferInProgress`. A count that
 * would take the log past the last index commands may use
 * (`MAX_INDEX - RESERVED_INDICES`) is refused as an `invalidEvent`.
 */
export function propose(s: RaftState, count: number): StepResult {
  if (s.role !== 'leader') return [s, [rejected('propose', 'notLeader', leaderHint(s), count)]];
  if (s.lead.transferTo !== null) return [s, [rejected('propose', 'transferInProgress', s.id, count)]];
  if (!hasRoomFor(s.log, count, MAX_COMMAND_INDEX)) return [s, [invalidEvent(NO_ROOM_FOR_COMMANDS)]];
  return replicateAppend(s, commandsAppend(s, count));
}

/**
 * How many commands, in all, proposals stepped back to back on `s` may hold for stepping them as
 * one proposal of their sum to give what stepping them one by one and merging the actions
 * (`mergeActions`) gives: the same state and the same merged actions. `stepAll` joins a run of
 * proposals that fits.
 *
 * 0 when `s` is not a healthy leader or hands leadership over (each proposal is refused, or
 * answered `fatal`, on its own).
 * Otherwise the room left for commands in the log (a proposal past it is refused), bounded by flow
 * control (`commandsBeforePause`: past it, later proposals skip a paused follower). Nothing else
 * tells the two apart: a leader's log always ends in its term (it appends its term start as it
 * wins), so no proposal but a new leader's first append re-arms the heartbeat timer; a single
 * voter commits each proposal at once, and the merged announcements keep the highest commit
 * index, which the joined proposal reaches at once; a proposal leaves pending reads alone.
 */
export function joinableCommands(s: RaftState): number {
  if (s.role !== 'leader' || s.halted !== null || s.lead.transferTo !== null) return 0;
  return Math.min(MAX_COMMAND_INDEX - s.log.lastIndex, commandsBeforePause(s));
}

/** The highest index a command may take: the rest is kept for term starts and configurations. */
const MAX_COMMAND_INDEX = MAX_INDEX - RESERVED_INDICES;
const NO_ROOM_FOR_COMMANDS = 'count would take the log index past 2^53 - 2 - 2^20, the last index commands may use';

/**
 * Send a heartbeat: an empty AppendEntries at the leader's last position, to every peer. Only a
 * leader can; others report `rejected`. `fromTimer`: the heartbeat timer fired (a tick), so it is
 * armed again; a heartbeat the application asked for re-arms it only in the base protocol (see
 * `sendsRearmHeartbeat`).
 */
export function heartbeat(s: RaftState, fromTimer = false): StepResult {
  if (s.role !== 'leader') return [s, [rejected('heartbeat', 'notLeader', leaderHint(s), 0)]];
  const timer = fromTimer || sendsRearmHeartbeat(s.options);
  if (s.progress.peers.length === 0) return [s, timer ? [TIMER_HEARTBEAT] : NO_ACTIONS];
  const call = broadcast(appendEntriesCall(s.id, s.term, s.commitIndex, emptyEntries(s.log.lastTerm, s.log.lastIndex)));
  return [s, timer ? [TIMER_HEARTBEAT, call] : [call]];
}

/**
 * Handle an AppendEntries call from `from` of `term` with `commitIndex` and `e` (the fields of a
 * checked message, see `step.ts`; the term has already been reconciled by the caller).
 */
export function onAppendEntries(
  s: RaftState,
  from: string,
  term: number,
  commitIndex: number,
  e: LogEntries,
): StepResult {
  if (term < s.term) {
    const reply = appendEntriesReply(s.id, s.term, s.log.lastTerm, s.log.lastIndex);
    return [withMetrics(s, bump(s.metrics, 'appendEntriesCallsRejectedByOldTerm')), [send(from, reply)]];
  }
  if (s.role === 'leader') {
    return [withMetrics(s, bump(s.metrics, 'sameTermAppendEntriesCallsReceivedByLeader')), NO_ACTIONS];
  }
  const local = s.log;
  let log = local;
  let metrics = s.metrics;
  let append: RaftAction | null = null;
  let inSync: boolean;
  if (containsPosition(local, e.lastTerm, e.lastIndex)) {
    // Already applied (a duplicate or an older, reordered call). A longer local log may still
    // diverge after this point, so the commit index only advances when the logs end together.
    inSync = local.lastIndex === e.lastIndex;
  } else if (!containsPosition(local, e.prevTerm, e.prevIndex)) {
    inSync = false;
    if (containsIndex(local, e.prevIndex)) {
      // Same index, different term: our tail from there on diverges from the leader's log.
      metrics = bump(metrics, 'logDivergencesDetectedByFollower');
      if (e.prevIndex <= local.prevIndex) return haltOnSnapshotMismatch(s, from, term, e);
      log = truncateAfter(local, divergencePoint(local, e));
    }
  } else {
    const missing = stripCommonPrefix(e, local);
    log = spliceSuffix(local, missing);
    append = appendLog(missing);
    inSync = true;
  }
  let committed = s.commitIndex;
  if (inSync) {
    const known = commitIndex < log.lastIndex ? commitIndex : log.lastIndex;
    if (known > committed) committed = known;
  }
  // A duplicate, or a heartbeat that changes nothing, keeps the same state object (contract 2).
  const unchanged =
    s.role === 'follower' &&
    s.votedFor === from &&
    s.leaderAlive &&
    committed === s.commitIndex &&
    log === local &&
    metrics === s.metrics;
  const next = unchanged ? s : followerOf(s, from, log, committed, metrics);
  const reply = send(from, appendEntriesReply(s.id, s.term, log.lastTerm, log.lastIndex));
  const vote = s.votedFor === from ? null : saveHardState(s.term, from);
  const commit = committed > s.commitIndex ? commitAdvanced(committed) : null;
  const actions = followerActions(vote, append, commit, reply);
  // Reads forwarded to this leader and not answered yet go again with its heartbeats.
  if (next.reads.length !== 0 && e.lastIndex === e.prevIndex)
    return [next, mergeActions(actions, reforwardReads(next))];
  return [next, actions];
}

/**
 * The actions of a follower answering AppendEntries, in canonical order, leaving out the absent
 * ones. Built as one array literal per combination: this runs for every call a follower handles.
 */
function followerActions(
  vote: RaftAction | null,
  append: RaftAction | null,
  commit: RaftAction | null,
  reply: RaftAction,
): RaftAction[] {
  if (vote === null) {
    if (append === null) return commit === null ? [TIMER_FOLLOWER, reply] : [TIMER_FOLLOWER, commit, reply];
    return commit === null ? [TIMER_FOLLOWER, append, reply] : [TIMER_FOLLOWER, append, commit, reply];
  }
  const actions: RaftAction[] = [TIMER_FOLLOWER, vote];
  if (append !== null) actions.push(append);
  if (commit !== null) actions.push(commit);
  actions.push(reply);
  return actions;
}

/**
 * Where a follower cuts its log when it holds the leader's anchor index with another term: after
 * the highest index below the anchor whose term is at most the anchor's term. The entries above it
 * have terms the leader cannot hold there (its terms up to the anchor are at most the anchor's), so
 * they are not committed and may go; the reply then tells the leader a position it can match,
 * whole terms at a time. Never cuts into the snapshot.
 */
function divergencePoint(local: LogEntries, e: LogEntries): number {
  const k = lastIndexWithTermAtMost(local, e.prevTerm, e.prevIndex - 1);
  return k < local.prevIndex ? local.prevIndex : k;
}

/** Repairing the log would cut into the local snapshot: noraft's `LocalSnapshotMismatch`. */
function haltOnSnapshotMismatch(s: RaftState, from: string, term: number, e: LogEntries): StepResult {
  const reason =
    `LocalSnapshotMismatch: ${from} (term ${term}) sent entries anchored at ` +
    `(${e.prevTerm}, ${e.prevIndex}), which contradicts this node's snapshot at ` +
    `(${s.log.prevTerm}, ${s.log.prevIndex})`;
  return [halt(s, reason, bump(s.metrics, 'logDivergencesDetectedByFollower')), [fatal(reason)]];
}

/**
 * Handle an AppendEntries reply on the leader: `from`, of `term`, holds `(lastTerm, lastIndex)` last
 * (the fields of a checked message, see `step.ts`; the term has already been reconciled by the
 * caller).
 */
export function onAppendEntriesReply(
  s: RaftState,
  from: string,
  term: number,
  lastTerm: number,
  lastIndex: number,
): StepResult {
  if (term < s.term) return ignore(s, 'appendEntriesRepliesIgnoredFromOldTerms');
  if (s.role !== 'leader') return ignore(s, 'appendEntriesRepliesIgnoredWhileNotLeader');
  const progress = s.progress;
  const k = slotOf(progress, from);
  if (k < 0) return ignore(s, 'appendEntriesRepliesIgnoredFromUnknownNodes');
  const matched = progress.match[k]!;
  if (lastIndex < matched) return ignore(s, 'appendEntriesRepliesIgnoredBehindMatchIndex');
  const log = s.log;
  if (!containsPosition(log, lastTerm, lastIndex)) return repairFollower(s, k, from, lastTerm, lastIndex);

  if (lastIndex !== log.lastIndex) return onReplyBehind(s, k, from, lastTerm, lastIndex);
  // The usual case, kept small for the JIT: the follower holds everything; count it, maybe commit.
  const advanced = afterReply(progress, k, lastIndex, s.lead.ticks, TRACKING);
  if (advanced === progress) return s.lead.transferTo === from ? handOver(s, from) : [s, NO_ACTIONS];
  const commitIndex =
    lastIndex > matched && lastIndex > s.commitIndex ? majorityCommitIndex(s, advanced) : s.commitIndex;
  const counted = withLeaderProgress(s, advanced, commitIndex);
  if (commitIndex > s.commitIndex) {
    if (isPlainCommit(counted)) return [counted, [commitAdvanced(commitIndex)]];
  } else if (s.lead.transferTo !== from) {
    // Counted, nothing committed, no transfer waiting for this follower: nothing more to do.
    return [counted, NO_ACTIONS];
  }
  return afterCounted(s, counted, from, true, null);
}

/** True when a commit on the leader `s` asks for nothing but `commitAdvanced`. */
function isPlainCommit(s: LeaderState): boolean {
  return s.reads.length === 0 && s.lead.transferTo === null && !commitSettlesConfig(s);
}

/**
 * A reply from a follower that is behind the leader's last index (its position is in the leader's
 * log): count it, and send what it lacks when flow control allows (see `flow-control.ts`).
 */
function onReplyBehind(s: LeaderState, k: number, from: string, lastTerm: number, lastIndex: number): StepResult {
  const progress = s.progress;
  const log = s.log;
  const rest = shouldCatchUp(s, k, lastIndex) ? limitEntries(s, since(log, lastTerm, lastIndex)!) : null;
  const sent = rest === null ? progress.sent[k]! : rest.lastIndex;
  const advanced = afterReply(progress, k, lastIndex, s.lead.ticks, sent);
  if (advanced === progress) return afterCounted(s, s, from, false, rest);
  const commitIndex =
    lastIndex > progress.match[k]! && lastIndex > s.commitIndex ? majorityCommitIndex(s, advanced) : s.commitIndex;
  return afterCounted(s, withLeaderProgress(s, advanced, commitIndex), from, false, rest);
}

/**
 * What follows a counted reply from `from` on the leader (`before`: the leader before it; `counted`:
 * with the reply counted): the commit and what it settles (a configuration, waiting reads), a
 * leadership transfer to a follower now up to date, and the entries `rest` to send it.
 */
function afterCounted(
  before: LeaderState,
  counted: LeaderState,
  from: string,
  upToDate: boolean,
  rest: LogEntries | null,
): StepResult {
  let next: RaftState = counted;
  let actions: readonly RaftAction[] = NO_ACTIONS;
  if (counted.commitIndex > before.commitIndex) {
    if (commitSettlesConfig(counted)) [next, actions] = commitUpTo(counted);
    else actions = [commitAdvanced(counted.commitIndex)];
    if (next.role === 'leader' && next.reads.length !== 0) [next, actions] = andThen(next, actions, readsAfterCommit);
  }
  if (next.role !== 'leader') return [next, actions];
  if (next.lead.transferTo === from && upToDate) return andThen(next, actions, (l) => handOver(l, from));
  if (rest === null) return [next, actions];
  const call = send(from, appendEntriesCall(next.id, next.term, next.commitIndex, rest));
  return [next, actions.length === 0 ? [call] : mergeActions(actions, [call])];
}

/** `f` applied to the leader `s`, its actions merged after `actions`. */
function andThen(s: LeaderState, actions: readonly RaftAction[], f: (s: LeaderState) => StepResult): StepResult {
  const [next, more] = f(s);
  return [next, actions.length === 0 ? more : mergeActions(actions, more)];
}

/**
 * The follower's last position is not in the leader's log: send what it lacks from the highest
 * index where the two logs can still match, or a snapshot when that lies behind the leader's.
 *
 * Repair goes by term, not by entry (etcd's conflict hint): the follower's last entry has term
 * `lastTerm`, so its entries up to `lastIndex` all have terms `<= lastTerm`, and none of the
 * leader's entries of a higher term can be among them. The leader sends its entries after the last
 * index below its first term start above `lastTerm`; the follower keeps what matches and cuts the
 * rest in one step, so a divergent tail of any length is repaired in a bounded number of round
 * trips, not one entry per round trip.
 */
function repairFollower(s: LeaderState, k: number, from: string, lastTerm: number, lastIndex: number): StepResult {
  // Whatever it lacks, the reply shows the follower alive: check-quorum counts it (a follower
  // waiting for a snapshot for longer than an election timeout must not depose its leader).
  const heard = heardFrom(s.progress, k, s.lead.ticks);
  const alive = heard === s.progress ? s : withLeaderProgress(s, heard, s.commitIndex);
  const log = s.log;
  if (lastIndex < log.prevIndex) return [alive, [installSnapshot(from)]];
  const upTo = lastIndex < log.lastIndex ? lastIndex : log.lastIndex;
  const j = lastIndexWithTermAtMost(log, lastTerm, upTo);
  // No index of ours can match: the follower lacks even our snapshot's position.
  if (j < 0) return [alive, [installSnapshot(from)]];
  // Nothing to send: the follower's log is longer than ours, and its terms all fit under ours. No
  // correct follower of this leader holds such a log: the leader's log ends in its own term, and
  // only this leader writes entries of that term (a follower ahead with the leader's term or a
  // later one lands here too, since every term of ours is at most the follower's last).
  if (j === log.lastIndex) return ignore(s, 'appendEntriesRepliesAheadOfLeader');
  const rest = limitEntries(s, since(log, termAt(log, j), j)!);
  const call = appendEntriesCall(s.id, s.term, s.commitIndex, rest);
  const probing = withLeaderProgress(s, afterSendTo(heard, k, rest.lastIndex), s.commitIndex);
  return [withMetrics(probing, bump(s.metrics, 'logDivergencesDetectedByLeader')), [send(from, call)]];
}

function ignore(s: RaftState, counter: Parameters<typeof bump>[1]): StepResult {
  return [withMetrics(s, bump(s.metrics, counter)), NO_ACTIONS];
}
