/**
 * Terms (Raft §5.1): every message carries its sender's term. A node ignores its own messages,
 * adopts a higher term by stepping down to follower before the message's own rule handles it, and
 * refuses a term so far above its own that adopting it would waste the term space.
 */
import { NO_ACTIONS, mergeActions } from './actions.js';
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

/**
 * Reconcile the message's term with the node's, then hand the message to `handle` (the rule of
 * its type): messages from this node itself are ignored, a higher term is adopted first (stepping
 * down), and a message more than {@link MAX_TERM_STEP} terms ahead is ignored.
 */
export function onMessage(s: RaftState, m: Message, handle: (s: RaftState, m: Message) => StepResult): StepResult {
  if (m.from === s.id) return [withMetrics(s, bump(s.metrics, 'selfMessagesIgnored')), NO_ACTIONS];
  if (m.term <= s.term) return handle(s, m);
  if (m.term - s.term > MAX_TERM_STEP) return [withMetrics(s, bump(s.metrics, 'termJumpsRefused')), NO_ACTIONS];
  return onHigherTerm(s, m, handle);
}

/** A message from a higher term: step down to follower in that term first, then handle it. */
function onHigherTerm(s: RaftState, m: Message, handle: (s: RaftState, m: Message) => StepResult): StepResult {
  const stepDown = becomeFollower(withMetrics(s, bump(s.metrics, 'termAdvancesFromMessages')), m.term);
  const handled = handle(stepDown[0], m);
  return [handled[0], mergeActions(stepDown[1], handled[1])];
}
