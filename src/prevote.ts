/**
 * Pre-vote (Raft thesis §9.6; etcd's PreVote).
 *
 * Rules:
 * - A voter whose election timer fires asks every peer whether it would vote for it at its term
 *   plus one (`preVote`), without raising its own term or recording a vote: it becomes a
 *   pre-candidate. With the pre-votes of a majority (each configuration, while joint; its own
 *   included) it campaigns for real (`election.ts`). Otherwise its timer fires again and it asks
 *   again.
 * - A node grants a pre-vote when the pre-candidate's log is at least as up to date as its own, it
 *   could vote in that term (the term is above its own, or it has not voted for another in it), and
 *   it does not hear from a live leader (it is not the leader, and as a follower its election timer
 *   has fired since it last heard from its leader). It grants at the term asked and forgets: no
 *   term changes, nothing is persisted.
 * - A refusal carries the refuser's own term. A pre-vote of a term below the receiver's is refused
 *   that way, so a pre-candidate behind the cluster's term learns the term, adopts it, and can win
 *   the next pre-vote (the stall of etcd issues #8243 and #8501, where such messages were dropped).
 *   A pre-vote refused because a live leader is heard from gets no answer (etcd does the same): the
 *   pre-candidate tries again at its next timeout.
 */
import { TIMER_ELECTION, broadcast, send } from './actions.js';
import { isVoter } from './config.js';
import { startElection } from './election.js';
import { comparePositions } from './log.js';
import { preVote, preVoteReply, type PreVote, type PreVoteReply } from './messages.js';
import { bump } from './metrics.js';
import { hasVoteMajority } from './quorum.js';
import { latestConfig, toPreCandidate, withMetrics, withVotes, type RaftState, type StepResult } from './state.js';

/** Become a pre-candidate and ask every peer for a pre-vote at the next term. */
export function startPreVote(s: RaftState): StepResult {
  const pre = toPreCandidate(s, bump(s.metrics, 'preVotesStarted'));
  const call = preVote(s.id, s.term + 1, s.log.lastTerm, s.log.lastIndex);
  return [pre, [TIMER_ELECTION, broadcast(call)]];
}

/**
 * True when this node hears from a live leader: it leads, or it follows a leader whose messages
 * it has accepted since its election timer last fired.
 */
export function hearsFromLiveLeader(s: RaftState): boolean {
  return s.role === 'leader' || (s.role === 'follower' && s.leaderAlive);
}

/** Handle a pre-vote request (never changes the term; see the rules above). */
export function onPreVote(s: RaftState, m: PreVote): StepResult {
  if (
    m.term <= s.term &&
    !(m.term === s.term && s.role !== 'leader' && (s.votedFor === null || s.votedFor === m.from))
  ) {
    // Below our term (or our term, having voted for another): the pre-candidate is behind.
    return [s, [send(m.from, preVoteReply(s.id, s.term, false))]];
  }
  if (hearsFromLiveLeader(s)) return [withMetrics(s, bump(s.metrics, 'preVotesRefusedWhileLeaderAlive')), []];
  if (comparePositions(s.log.lastTerm, s.log.lastIndex, m.lastTerm, m.lastIndex) > 0) {
    return [withMetrics(s, bump(s.metrics, 'preVotesRefusedByLog')), [send(m.from, preVoteReply(s.id, s.term, false))]];
  }
  return [s, [send(m.from, preVoteReply(s.id, m.term, true))]];
}

/**
 * Handle a pre-vote reply. A pre-candidate counts the pre-votes of its latest configuration's voters
 * granted for its next term, and campaigns once they make a majority. (A refusal of a higher term has
 * already made this node a follower of that term: see `term.ts`.)
 */
export function onPreVoteReply(s: RaftState, m: PreVoteReply): StepResult {
  if (s.role !== 'preCandidate' || !m.granted || m.term !== s.term + 1) return [s, []];
  const config = latestConfig(s);
  if (!isVoter(config, m.from) || s.votes.includes(m.from)) return [s, []];
  const next = withVotes(s, s.votes.concat(m.from));
  return hasVoteMajority(config, next.votes) ? startElection(next) : [next, []];
}
