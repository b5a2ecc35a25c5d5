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
 * - Votes granted by nodes that are not voters of the candidate's configuration are not kept.
 *
 * Adopting a higher term from any message is the rule of `term.ts`; the role changes themselves are
 * in `state.ts` and `roles.ts`.
 */
import {
  NO_ACTIONS,
  TIMER_ELECTION,
  TIMER_FOLLOWER,
  broadcast,
  mergeActions,
  saveHardState,
  send,
  type RaftAction,
} from './actions.js';
import { termStartAppend } from './append.js';
import { replicateAppend } from './commit.js';
import { isSoloVoter, isVoter } from './config.js';
import { comparePositions, hasRoomFor, MAX_INDEX } from './log.js';
import { requestVote, requestVoteReply, type RequestVote, type RequestVoteReply } from './messages.js';
import { bump } from './metrics.js';
import { progressFor } from './progress.js';
import { hasVoteMajority } from './quorum.js';
import {
  configAt,
  latestConfig,
  latestConfigIndex,
  toCandidate,
  toLeader,
  withoutLeaderContact,
  withMetrics,
  withVote,
  withVotes,
  type CandidateState,
  type RaftState,
  type StepResult,
} from './state.js';

/**
 * Start an election in the next term. A node that is not a voter of its latest configuration does
 * nothing (and arms no timer), and so does a node whose term or log is at the top of the index
 * range (see `canGrow`). A solo voter wins at once.
 */
export function startElection(s: RaftState, transfer = false): StepResult {
  const config = latestConfig(s);
  if (!canCampaign(s)) return [withoutLeaderContact(s), NO_ACTIONS];
  const term = s.term + 1;
  const candidate = toCandidate(s, term, bump(s.metrics, 'electionsStarted'));
  const save = saveHardState(term, s.id);
  if (isSoloVoter(config, s.id)) {
    const [leader, actions] = becomeLeader(candidate);
    return [leader, mergeActions([save], actions)];
  }
  const call = requestVote(s.id, term, s.log.lastTerm, s.log.lastIndex, transfer);
  return [candidate, [TIMER_ELECTION, save, broadcast(call)]];
}

/**
 * True when the node may campaign: a voter of its latest configuration (or one still needed, see
 * `stillNeededAsVoter`), with room to grow (see `canGrow`).
 */
export function canCampaign(s: RaftState): boolean {
  return (isVoter(latestConfig(s), s.id) || stillNeededAsVoter(s)) && canGrow(s);
}

/**
 * True when the node can campaign: its next term, and the index of the term-start entry it would
 * append as leader, are still within the bound every node accepts (`MAX_INDEX`). Only a cluster
 * driven to the very top of the safe integers fails this; it then holds no more elections.
 */
function canGrow(s: RaftState): boolean {
  return s.term < MAX_INDEX && hasRoomFor(s.log, 1);
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
export function becomeLeader(s: CandidateState): StepResult {
  const leader = toLeader(s, progressFor(latestConfig(s), s.id, null), bump(s.metrics, 'leadershipsStarted'));
  return replicateAppend(leader, termStartAppend(leader));
}

/**
 * Handle a vote request (the term has already been reconciled by the caller; with check-quorum, a
 * request of a higher term reaching a node that hears from a live leader was ignored there).
 */
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
  const reply = send(m.from, requestVoteReply(s.id, s.term, true));
  if (s.votedFor !== null) return [s, [TIMER_FOLLOWER, reply]];
  const actions: RaftAction[] = [TIMER_FOLLOWER, saveHardState(s.term, m.from), reply];
  return [withVote(s, m.from), actions];
}

/**
 * Handle a vote reply: count granted votes of the current term while a candidate. Only votes from
 * voters of the candidate's latest configuration are kept (others can never count, and keeping them
 * would let any sender grow the state).
 */
export function onRequestVoteReply(s: RaftState, m: RequestVoteReply): StepResult {
  // A pre-candidate is not collecting votes: replies to an earlier campaign are late.
  if (s.role !== 'candidate') {
    return [withMetrics(s, bump(s.metrics, 'requestVoteRepliesIgnoredWhileNotCandidate')), NO_ACTIONS];
  }
  if (!m.granted) return [s, NO_ACTIONS];
  if (m.term < s.term) {
    return [withMetrics(s, bump(s.metrics, 'requestVoteRepliesIgnoredFromOldTerms')), NO_ACTIONS];
  }
  const config = latestConfig(s);
  if (!isVoter(config, m.from)) {
    return [withMetrics(s, bump(s.metrics, 'requestVoteRepliesIgnoredFromNonVoters')), NO_ACTIONS];
  }
  if (s.votes.includes(m.from)) return [s, NO_ACTIONS];
  const next = withVotes(s, s.votes.concat(m.from));
  return hasVoteMajority(config, next.votes) ? becomeLeader(next) : [next, NO_ACTIONS];
}
