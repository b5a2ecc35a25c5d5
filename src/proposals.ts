/**
 * Proposals from the application's side: proposing commands and following their fate.
 */
import type { RaftActions } from './actions.js';
import { containsPosition, termAt, type LogPosition } from './log.js';
import type { RaftState } from './state.js';
import { step } from './step.js';

/**
 * The fate of a log position, as this node knows it:
 * - `committed`: the entry at `position` is committed;
 * - `rejected`: another entry took its place, or can no longer be overtaken by it (retry elsewhere);
 * - `inProgress`: it may still commit;
 * - `unknown`: the index lies below this node's snapshot, so its fate can no longer be told.
 */
export type CommitStatus = 'inProgress' | 'committed' | 'rejected' | 'unknown';

/** The status of `position` on `state` (noraft's `get_commit_status`). Pure; never throws on positions. */
export function commitStatus(state: RaftState, position: LogPosition): CommitStatus {
  const { term, index } = position;
  if (index < state.log.prevIndex) return 'unknown';
  if (index <= state.commitIndex) return containsPosition(state.log, term, index) ? 'committed' : 'rejected';
  if (term < termAt(state.log, state.commitIndex)) return 'rejected';
  return 'inProgress';
}

/** Where a successful proposal went: `count` consecutive indices in one term. */
export interface Proposal {
  /** The leader's term, which every command of the proposal took. */
  readonly term: number;
  /** The index of the first command; follow its fate with `commitStatus({term, index})`. */
  readonly firstIndex: number;
  /** The index of the last command: `firstIndex + count - 1`. */
  readonly lastIndex: number;
}

/**
 * What `proposeCommands` returns: the `[state, actions]` of the step, then where the proposal went
 * (null when it was refused or invalid).
 */
export type ProposeResult = readonly [state: RaftState, actions: RaftActions, proposal: Proposal | null];

/**
 * Step a proposal of `count` commands (default 1) and say where it went: `proposal` is null when
 * the node refused it (the actions then hold a `rejected` action naming the reason and the leader
 * hint) or when the event was invalid (an `invalidEvent` action). Otherwise equivalent to
 * `step(state, {type: 'propose', count})`.
 */
export function proposeCommands(state: RaftState, count = 1): ProposeResult {
  const [next, actions] = step(state, { type: 'propose', count });
  if (next.log.lastIndex === state.log.lastIndex) return [next, actions, null];
  const lastIndex = next.log.lastIndex;
  return [next, actions, { term: next.term, firstIndex: lastIndex - count + 1, lastIndex }];
}
