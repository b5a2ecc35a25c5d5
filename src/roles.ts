/**
 * Role changes that several rule modules need, with the actions that go with them. This module
 * depends on no rule module, so that the rules can all build on it.
 */
import { TIMER_FOLLOWER, saveHardState } from './actions.js';
import { toFollower, type RaftState, type StepResult } from './state.js';

/**
 * Become a follower of `term` (step down), following no one yet. The term and the cleared vote are
 * always saved; the timer is re-armed only when the role actually changes (a follower that merely
 * sees a higher term keeps its timer running, otherwise a lagging candidate could starve it).
 */
export function becomeFollower(s: RaftState, term: number): StepResult {
  const save = saveHardState(term, null);
  return [toFollower(s, term, null), s.role === 'follower' ? [save] : [TIMER_FOLLOWER, save]];
}
