/**
 * Leader election: timeouts, candidacy, votes, and the transitions between roles.
 *
 * Rules (Raft §5.2, §5.4.1, as noraft implements them):
 * - A follower or candidate whose timer fires starts an election: next term, votes for itself,
 *   asks every peer. Non-voters and nodes outside the configuration do not campaign — except a
 *   voter just removed by a change that is not yet committed (Raft thesis §4.2.2; noraft never
 *   lets it, which can deadlock a two-voter cluster whose leader removed itself).
 * - A vote is granted when the candidate's last log position is at least as up to date as ours
 *   and we have not voted for someone else this term. Candidates of older terms get an explicit
 *   refusal carrying our term; every other refusal is silent.
 * - A candidate with a majority (of both voter sets during joint consensus) becomes leader and
 *   appends a term-start entry.
 * - Any message with a higher term makes the node a follower of that term. A follower that merely
 *   sees a higher term keeps its timer running (otherwise a lagging candidate could starve it).
 */
import {
  NO_ACTIONS,
  TIMER_ELECTION,
  TIMER_FOLLOWER,
  broadcast,
  mergeActions,
  saveHardState,
  send,
  type Action,
} from './actions.js';
import { isSoloVoter, isVoter } from './config.js';
import { comparePositions } from './log.js';
import { requestVote, requestVoteReply, type RequestVote, type RequestVoteReply } from './messages.js';
import { bump } from './metrics.js';
import { progressFor } from './progress.js';
import { hasVoteMajority } from './quorum.js';
import { appendTermStart } from './replication.js';
import {
  configAt,
  latestConfig,
  latestConfigIndex,
  makeState,
  withMetrics,
  type RaftState,
  type StepResult,
} from './state.js';

/**
 * Become a follower of `term` (step down). The term and the cleared vote are always saved; the
 * timer is re-armed only when the role actually changes.
 */
export function becomeFollower(s: RaftState, term: number): StepResult {
  const next = makeState(
    s.id,
    'follower',
    term,
    null,
    s.commitIndex,
    s.log,
    s.snapshotConfig,
    null,
    null,
    s.metrics,
    s.halted,
  );
  const save = saveHardState(term, null);
  return [next, s.role === 'follower' ? [save] : [TIMER_FOLLOWER, save]];
}

/**
 * Start an election in the next term. A node that is not a voter of its latest configuration does
 * nothing (and arms no timer). A solo voter wins at once.
 */
export function startElection(s: RaftState): StepResult {
  const config = latestConfig(s);
  if (!isVoter(config, s.id) && !stillNeededAsVoter(s)) return [s, NO_ACTIONS];
  const term = s.term + 1;
  const candidate = makeState(
    s.id,
    'candidate',
    term,
    s.id,
    s.commitIndex,
    s.log,
    s.snapshotConfig,
    [s.id],
    null,
    bump(s.metrics, 'electionsStarted'),
    s.halted,
  );
  const save = saveHardState(term, s.id);
  if (isSoloVoter(config, s.id)) {
    const [leader, actions] = becomeLeader(candidate);
    return [leader, mergeActions([save], actions)];
  }
  const call = requestVote(s.id, term, s.log.lastTerm, s.log.lastIndex);
  return [candidate, [TIMER_ELECTION, save, broadcast(call)]];
}

/**
 * A node that is not a voter of its latest configuration still campaigns while that configuration
 * is not known committed and it was a voter of the one before (Raft thesis §4.2.2): the others may
 * still need it to elect the leader that commits the change. Its own vote does not count for it
 * (votes are counted against the latest configuration), and once it leads and commits the change
 * it steps down (see `commit.ts`).
 */
function stillNeededAsVoter(s: RaftState): boolean {
  const index = latestConfigIndex(s);
  if (index <= s.commitIndex) return false;
  const previous = configAt(s, index - 1);
  return previous !== null && isVoter(previous, s.id);
}

/**
 * Become leader of the current term: track every other member from match index 0, then append and
 * replicate the term-start entry (committing it also commits what earlier terms left uncommitted).
 */
export function becomeLeader(s: RaftState): StepResult {
  const leader = makeState(
    s.id,
    'leader',
    s.term,
    s.votedFor,
    s.commitIndex,
    s.log,
    s.snapshotConfig,
    null,
    progressFor(latestConfig(s), s.id, null),
    bump(s.metrics, 'leadershipsStarted'),
    s.halted,
  );
  return appendTermStart(leader);
}

/** Handle a vote request (the term has already been reconciled by the caller). */
export function onRequestVote(s: RaftState, m: RequestVote): StepResult {
  if (m.term < s.term) {
    return [
      withMetrics(s, bump(s.metrics, 'requestVoteCallsRejectedByOldTerm')),
      [send(m.from, requestVoteReply(s.id, s.term, false))],
    ];
  }
  if (comparePositions(s.log.lastTerm, s.log.lastIndex, m.lastTerm, m.lastIndex) > 0) {
    return [withMetrics(s, bump(s.metrics, 'requestVoteCallsRejectedByLog')), NO_ACTIONS];
  }
  if (s.votedFor !== null && s.votedFor !== m.from) {
    return [withMetrics(s, bump(s.metrics, 'requestVoteCallsRejectedByExistingVote')), NO_ACTIONS];
  }
  const actions: Action[] = [TIMER_FOLLOWER];
  let next = s;
  if (s.votedFor === null) {
    next = makeState(
      s.id,
      s.role,
      s.term,
      m.from,
      s.commitIndex,
      s.log,
      s.snapshotConfig,
      s.votes,
      s.progress,
      s.metrics,
      s.halted,
    );
    actions.push(saveHardState(s.term, m.from));
  }
  actions.push(send(m.from, requestVoteReply(s.id, s.term, true)));
  return [next, actions];
}

/** Handle a vote reply: count granted votes of the current term while a candidate. */
export function onRequestVoteReply(s: RaftState, m: RequestVoteReply): StepResult {
  if (s.role !== 'candidate') {
    return [withMetrics(s, bump(s.metrics, 'requestVoteRepliesIgnoredWhileNotCandidate')), NO_ACTIONS];
  }
  if (!m.granted) return [s, NO_ACTIONS];
  if (m.term < s.term) {
    return [withMetrics(s, bump(s.metrics, 'requestVoteRepliesIgnoredFromOldTerms')), NO_ACTIONS];
  }
  const votes = s.votes ?? [];
  if (votes.includes(m.from)) return [s, NO_ACTIONS];
  const granted = votes.concat(m.from);
  const next = makeState(
    s.id,
    s.role,
    s.term,
    s.votedFor,
    s.commitIndex,
    s.log,
    s.snapshotConfig,
    granted,
    s.progress,
    s.metrics,
    s.halted,
  );
  return hasVoteMajority(latestConfig(next), granted) ? becomeLeader(next) : [next, NO_ACTIONS];
}
