/**
 * Terms (Raft §5.1): every message carries its sender's term. A node ignores its own messages,
 * adopts a higher term by stepping down to follower before the message's own rule handles it, and
 * refuses a term so far above its own that adopting it would waste the term space.
 *
 * Two extensions change the rule. Pre-vote (`prevote.ts`): a pre-vote request and a granted
 * pre-vote carry the term the pre-candidate would campaign in, not a term anyone is in, so neither
 * raises the receiver's term (a refused pre-vote carries the refuser's real term and does).
 * Check-quorum: a vote request of a higher term reaching a node that hears from a live leader (the
 * leader itself, or a follower whose election timer has not fired since its leader's last message)
 * is ignored, term and all, unless it comes from a leadership transfer: a node that was partitioned
 * away cannot depose a healthy leader by campaigning at a higher term (etcd's rule).
 */
import { NO_ACTIONS } from './actions.js';
import type { Message } from './messages.js';
import { bump } from './metrics.js';
import { becomeFollower } from './roles.js';
import { withMetrics, type RaftState, type StepResult } from './state.js';

/**
 * The largest step by which one message may raise a node's term: 2^32. A correct cluster raises its
 * term by one per election, so no correct peer is ever billions of elections ahead; a message that
 * claims to be is ignored (and counted in `metrics.termJumpsRefused`), so that no single message can push a cluster's term to
 * the top of the safe integers, where no further election would be possible. Raising the term
 * beyond it takes more than two million such messages.
 */
export const MAX_TERM_STEP = 2 ** 32;
const MAX_STEP = MAX_TERM_STEP; // a module constant, not a property load on `exports` in the CommonJS build

/**
 * The usual case, decided without looking further: a message from another node whose term is not
 * above ours goes straight to the rule of its type (an older term is that rule's to answer).
 * Anything else goes through {@link ignoredForTerm} and, for a higher term, {@link adoptTerm}.
 */
export function atOwnTerm(s: RaftState, from: string, term: number): boolean {
  return term <= s.term && from !== s.id;
}

/**
 * What the term rule decides about a message before the rule of its type sees it: `null` to
 * handle it at the node's own term (the usual case), or the result of ignoring it (a message from
 * this node itself, or one more than {@link MAX_TERM_STEP} terms ahead). A message from a higher
 * term within that bound is handled by {@link adoptTerm} first.
 */
export function ignoredForTerm(s: RaftState, m: Message): StepResult | null {
  if (m.from === s.id) return [withMetrics(s, bump(s.metrics, 'selfMessagesIgnored')), NO_ACTIONS];
  if (m.term - s.term > MAX_STEP) return [withMetrics(s, bump(s.metrics, 'termJumpsRefused')), NO_ACTIONS];
  if (m.type === 'requestVote' && m.term > s.term && m.transfer !== true && ignoresVotesInLease(s)) {
    return [withMetrics(s, bump(s.metrics, 'voteRequestsIgnoredWhileLeaderAlive')), NO_ACTIONS];
  }
  return null;
}

/** A message from a higher term: step down to follower in that term (the message is handled after). */
export function adoptTerm(s: RaftState, term: number): StepResult {
  return becomeFollower(withMetrics(s, bump(s.metrics, 'termAdvancesFromMessages')), term);
}

/**
 * True for the messages whose term is not the sender's current term and so never raises the
 * receiver's: pre-vote requests and granted pre-votes (see above).
 */
export function keepsTerm(m: Message): boolean {
  return m.type === 'preVote' || (m.type === 'preVoteReply' && m.granted);
}

/**
 * True when, with check-quorum on, this node ignores vote requests of higher terms: it leads, or
 * it follows a leader it has heard from since its election timer last fired.
 */
function ignoresVotesInLease(s: RaftState): boolean {
  return s.options.checkQuorum && (s.role === 'leader' || (s.role === 'follower' && s.leaderAlive));
}
