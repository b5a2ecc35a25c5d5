/**
 * Commit advancement on the leader (Raft §5.3, §5.4.2).
 *
 * An entry is committed once a majority of the voters holds it (of both voter sets during joint
 * consensus), and a leader only commits by counting an entry of its own term: earlier terms'
 * entries are committed indirectly, by the entry on top of them (Figure 8 of the Raft paper).
 * When the commit reaches the latest configuration, a joint configuration is followed by the
 * final one, and a leader that is no longer a voter steps down. A single voter commits each of
 * its appends at once.
 */
import { NO_ACTIONS, commitAdvanced, mergeActions } from './actions.js';
import { appendActions, appendedState, finalConfigAppend, type LeaderAppend } from './append.js';
import { isJoint, isSoloVoter } from './config.js';
import { termAt } from './log.js';
import { pausedFollowers } from './flow-control.js';
import type { LeaderProgress } from './progress.js';
import { jointMajorityIndex } from './quorum.js';
import { becomeFollower } from './roles.js';
import {
  latestConfig,
  latestConfigIndex,
  withCommitIndex,
  type LeaderState,
  type RaftState,
  type StepResult,
} from './state.js';

/**
 * The commit index a leader with replication `progress` may adopt: the highest index held by a
 * majority, when that entry is of the current term; otherwise its current commit index. The leader
 * holds its log up to its last index, or with `concurrentLeaderWrites` up to the index it knows
 * durable (see `concurrent-writes.ts`).
 */
export function majorityCommitIndex(s: LeaderState, p: LeaderProgress): number {
  const self = s.options.concurrentLeaderWrites ? s.lead.persisted : s.log.lastIndex;
  const index = jointMajorityIndex(p.voterSlots, p.newVoterSlots, p.match, self);
  return index > s.commitIndex && termAt(s.log, index) === s.term ? index : s.commitIndex;
}

/**
 * The leader appends `a` and replicates it: persist, broadcast, re-arm the heartbeat timer. A
 * single voter commits the append at once (and still tells its non-voters, if it has any, with the
 * new commit index).
 */
export function replicateAppend(s: LeaderState, a: LeaderAppend): StepResult {
  const paused = pausedFollowers(s, a.progress);
  const next = appendedState(s, a, paused);
  if (!isSoloVoter(latestConfig(next), s.id)) return [next, appendActions(s, a, s.commitIndex, paused)];
  const committed = advanceCommit(next);
  const own = appendActions(s, a, committed[0].commitIndex, paused);
  return [committed[0], committed[1].length === 0 ? own : mergeActions(own, committed[1])];
}

/** Advance the leader's commit index to what a majority holds, when that entry is of the current term. */
export function advanceCommit(s: LeaderState): StepResult {
  const index = majorityCommitIndex(s, s.progress);
  return index === s.commitIndex ? [s, NO_ACTIONS] : commitUpTo(withCommitIndex(s, index));
}

/**
 * Announce the leader's new commit index (already set in `s`) and act on a configuration it
 * commits: a joint configuration is followed by the final one, and a leader that is no longer a
 * voter steps down.
 */
export function commitUpTo(s: LeaderState): StepResult {
  const announce = [commitAdvanced(s.commitIndex)];
  if (!commitSettlesConfig(s)) return [s, announce];
  const config = latestConfig(s);
  const [next, actions] = isJoint(config) ? replicateAppend(s, finalConfigAppend(s)) : becomeFollower(s, s.term);
  return [next, mergeActions(announce, actions)];
}

/**
 * True when the leader's commit index (already raised in `s`) makes the latest configuration take
 * its final effect: a joint configuration is committed (the final one must follow), or a
 * configuration that no longer counts the leader as a voter is committed (it must step down).
 * When false, advancing the commit index changes nothing but the index itself.
 */
export function commitSettlesConfig(s: RaftState): boolean {
  if (s.commitIndex < latestConfigIndex(s)) return false;
  const config = latestConfig(s);
  return isJoint(config) || !config.voters.includes(s.id);
}
