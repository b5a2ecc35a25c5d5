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
  mergeActions,
  rejected,
  saveHardState,
  send,
  type Action,
} from './actions.js';
import { advanceCommit, commitSettlesConfig, commitUpTo, majorityCommitIndex } from './commit.js';
import { isSoloVoter, type ClusterConfig } from './config.js';
import {
  appendCommands,
  appendConfig,
  commandsAfter,
  containsIndex,
  containsPosition,
  emptyEntries,
  makeEntries,
  since,
  spliceSuffix,
  stripCommonPrefix,
  termAt,
  truncateAfter,
  appendTermStart as appendTermStartEntry,
  type LogEntries,
} from './log.js';
import { appendEntriesCall, appendEntriesReply, type AppendEntries, type AppendEntriesReply } from './messages.js';
import { bump } from './metrics.js';
import { progressFor, slotOf, withMatch, type LeaderProgress } from './progress.js';
import { latestConfig, leaderHint, makeState, withMetrics, type RaftState, type StepResult } from './state.js';

/**
 * Propose `count` commands on the leader. They take the indices `lastIndex + 1 .. lastIndex + count`
 * in the current term. A node that is not leader changes nothing and reports a `rejected` action
 * with its leader hint.
 */
export function propose(s: RaftState, count: number): StepResult {
  if (s.role !== 'leader') return [s, [rejected('propose', 'notLeader', leaderHint(s), count)]];
  const log = s.log;
  return leaderAppend(s, appendCommands(log, count), commandsAfter(log.lastTerm, log.lastIndex, count), s.progress!);
}

/** Append the term-start entry of a new leader and replicate it. */
export function appendTermStart(s: RaftState): StepResult {
  const log = appendTermStartEntry(s.log, s.term);
  const entries = makeEntries(s.log.lastTerm, s.log.lastIndex, s.term, log.lastIndex, log.termStarts.slice(-1), []);
  return leaderAppend(s, log, entries, s.progress!);
}

/**
 * Append a configuration entry on the leader and replicate it. The configuration takes effect at
 * once: the leader starts tracking new members and stops tracking removed ones.
 */
export function appendConfigEntry(s: RaftState, config: ClusterConfig): StepResult {
  const log = appendConfig(s.log, config);
  const entries = makeEntries(
    s.log.lastTerm,
    s.log.lastIndex,
    s.log.lastTerm,
    log.lastIndex,
    [],
    log.configs.slice(-1),
  );
  return leaderAppend(s, log, entries, progressFor(config, s.id, s.progress));
}

/**
 * The leader appends `entries` (giving `log`): persist them, send them to every peer, re-arm the
 * heartbeat timer (a broadcast counts as a heartbeat). A solo voter commits at once.
 */
function leaderAppend(s: RaftState, log: LogEntries, entries: LogEntries, progress: LeaderProgress): StepResult {
  const next = makeState(
    s.id,
    s.role,
    s.term,
    s.votedFor,
    s.commitIndex,
    log,
    s.snapshotConfig,
    s.votes,
    progress,
    s.metrics,
    s.halted,
  );
  if (isSoloVoter(latestConfig(next), s.id)) return soloVoterAppend(next, entries, progress);
  const append = appendLog(entries);
  if (progress.peers.length === 0) return [next, [TIMER_HEARTBEAT, append]];
  return [next, [TIMER_HEARTBEAT, append, broadcast(appendEntriesCall(s.id, s.term, s.commitIndex, entries))]];
}

/** A solo voter's append: it commits at once (and still tells its non-voters, if it has any). */
function soloVoterAppend(s: RaftState, entries: LogEntries, progress: LeaderProgress): StepResult {
  const [next, committed] = advanceCommit(s);
  const own: Action[] =
    progress.peers.length === 0
      ? [TIMER_HEARTBEAT, appendLog(entries)]
      : [TIMER_HEARTBEAT, appendLog(entries), broadcast(appendEntriesCall(s.id, s.term, next.commitIndex, entries))];
  return [next, committed.length === 0 ? own : mergeActions(own, committed)];
}

/**
 * Send a heartbeat: an empty AppendEntries at the leader's last position, to every peer. Only a
 * leader can; others report `rejected`.
 */
export function heartbeat(s: RaftState): StepResult {
  if (s.role !== 'leader') return [s, [rejected('heartbeat', 'notLeader', leaderHint(s), 0)]];
  if (s.progress!.peers.length === 0) return [s, [TIMER_HEARTBEAT]];
  const call = appendEntriesCall(s.id, s.term, s.commitIndex, emptyEntries(s.log.lastTerm, s.log.lastIndex));
  return [s, [TIMER_HEARTBEAT, broadcast(call)]];
}

/** Handle an AppendEntries call (the term has already been reconciled by the caller). */
export function onAppendEntries(s: RaftState, m: AppendEntries): StepResult {
  if (m.term < s.term) {
    const reply = appendEntriesReply(s.id, s.term, s.log.lastTerm, s.log.lastIndex);
    return [withMetrics(s, bump(s.metrics, 'appendEntriesCallsRejectedByOldTerm')), [send(m.from, reply)]];
  }
  if (s.role === 'leader') {
    return [withMetrics(s, bump(s.metrics, 'sameTermAppendEntriesCallsReceivedByLeader')), NO_ACTIONS];
  }
  const local = s.log;
  const e = m.entries;
  let log = local;
  let metrics = s.metrics;
  let append: Action | null = null;
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
      if (e.prevIndex <= local.prevIndex) return haltOnSnapshotMismatch(s, m);
      log = truncateAfter(local, e.prevIndex - 1);
    }
  } else {
    const missing = stripCommonPrefix(e, local);
    log = spliceSuffix(local, missing);
    append = appendLog(missing);
    inSync = true;
  }
  let commitIndex = s.commitIndex;
  if (inSync) {
    const known = m.commitIndex < log.lastIndex ? m.commitIndex : log.lastIndex;
    if (known > commitIndex) commitIndex = known;
  }
  // A duplicate, or a heartbeat that changes nothing, keeps the same state object (contract 2).
  const unchanged =
    s.role === 'follower' &&
    s.votedFor === m.from &&
    commitIndex === s.commitIndex &&
    log === local &&
    metrics === s.metrics;
  const next = unchanged
    ? s
    : makeState(s.id, 'follower', s.term, m.from, commitIndex, log, s.snapshotConfig, null, null, metrics, s.halted);
  const reply = send(m.from, appendEntriesReply(s.id, s.term, log.lastTerm, log.lastIndex));
  const vote = s.votedFor === m.from ? null : saveHardState(s.term, m.from);
  const commit = commitIndex > s.commitIndex ? commitAdvanced(commitIndex) : null;
  return [next, followerActions(vote, append, commit, reply)];
}

/**
 * The actions of a follower answering AppendEntries, in canonical order, leaving out the absent
 * ones. Built as one array literal per combination: this runs for every call a follower handles.
 */
function followerActions(vote: Action | null, append: Action | null, commit: Action | null, reply: Action): Action[] {
  if (vote === null) {
    if (append === null) return commit === null ? [TIMER_FOLLOWER, reply] : [TIMER_FOLLOWER, commit, reply];
    return commit === null ? [TIMER_FOLLOWER, append, reply] : [TIMER_FOLLOWER, append, commit, reply];
  }
  const actions: Action[] = [TIMER_FOLLOWER, vote];
  if (append !== null) actions.push(append);
  if (commit !== null) actions.push(commit);
  actions.push(reply);
  return actions;
}

/** Repairing the log would cut into the local snapshot: noraft's `LocalSnapshotMismatch`. */
function haltOnSnapshotMismatch(s: RaftState, m: AppendEntries): StepResult {
  const reason =
    `LocalSnapshotMismatch: ${m.from} (term ${m.term}) sent entries anchored at ` +
    `(${m.entries.prevTerm}, ${m.entries.prevIndex}), which contradicts this node's snapshot at ` +
    `(${s.log.prevTerm}, ${s.log.prevIndex})`;
  const halted = makeState(
    s.id,
    s.role,
    s.term,
    s.votedFor,
    s.commitIndex,
    s.log,
    s.snapshotConfig,
    s.votes,
    s.progress,
    bump(s.metrics, 'logDivergencesDetectedByFollower'),
    reason,
  );
  return [halted, [fatal(reason)]];
}

/** Handle an AppendEntries reply on the leader (the term has already been reconciled by the caller). */
export function onAppendEntriesReply(s: RaftState, m: AppendEntriesReply): StepResult {
  if (m.term < s.term) return ignore(s, 'appendEntriesRepliesIgnoredFromOldTerms');
  if (s.role !== 'leader') return ignore(s, 'appendEntriesRepliesIgnoredWhileNotLeader');
  const progress = s.progress!;
  const k = slotOf(progress, m.from);
  if (k < 0) return ignore(s, 'appendEntriesRepliesIgnoredFromUnknownNodes');
  const matched = progress.match[k]!;
  if (m.lastIndex < matched) return ignore(s, 'appendEntriesRepliesIgnoredBehindMatchIndex');
  const log = s.log;
  if (!containsPosition(log, m.lastTerm, m.lastIndex)) return repairFollower(s, m);

  const upToDate = m.lastIndex === log.lastIndex;
  let next = s;
  let actions: readonly Action[] = NO_ACTIONS;
  if (m.lastIndex > matched) {
    const advanced = withMatch(progress, k, m.lastIndex);
    const commitIndex = m.lastIndex > s.commitIndex ? majorityCommitIndex(s, advanced) : s.commitIndex;
    next = makeState(
      s.id,
      s.role,
      s.term,
      s.votedFor,
      commitIndex,
      log,
      s.snapshotConfig,
      s.votes,
      advanced,
      s.metrics,
      s.halted,
    );
    if (commitIndex > s.commitIndex) {
      if (commitSettlesConfig(next)) [next, actions] = commitUpTo(next);
      else actions = [commitAdvanced(commitIndex)];
    }
  }
  if (upToDate || next.role !== 'leader') return [next, actions];
  const rest = since(next.log, m.lastTerm, m.lastIndex)!;
  const call = send(m.from, appendEntriesCall(next.id, next.term, next.commitIndex, rest));
  return [next, actions.length === 0 ? [call] : mergeActions(actions, [call])];
}

/** The follower's last position is not in the leader's log: probe back, wait, or send a snapshot. */
function repairFollower(s: RaftState, m: AppendEntriesReply): StepResult {
  const term = termAt(s.log, m.lastIndex);
  if (term >= 0) {
    // We hold that index with another term: offer our position there, so that the follower finds
    // the divergence and drops its last entry. Repair steps back one entry per round trip.
    const probe = appendEntriesCall(s.id, s.term, s.commitIndex, emptyEntries(term, m.lastIndex));
    return [withMetrics(s, bump(s.metrics, 'logDivergencesDetectedByLeader')), [send(m.from, probe)]];
  }
  if (m.lastIndex > s.log.lastIndex) return ignore(s, 'appendEntriesRepliesAheadOfLeader');
  // The follower is behind our snapshot: only a snapshot transfer can catch it up.
  return [s, [installSnapshot(m.from)]];
}

function ignore(s: RaftState, counter: Parameters<typeof bump>[1]): StepResult {
  return [withMetrics(s, bump(s.metrics, counter)), NO_ACTIONS];
}
