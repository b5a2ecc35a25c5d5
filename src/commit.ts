/**
 * Commit advancement on the leader (Raft §5.3, §5.4.2).
 *
 * An entry is committed once a majority of the voters holds it (of both voter sets during joint
 * consensus), and a leader only commits by counting an entry of its own term: earlier terms'
 * entries are committed indirectly, by the entry on top of them (Figure 8 of the Raft paper).
 * When the commit reaches the latest configuration, a joint configuration is followed by the
 * final one, and a leader that is no longer a voter steps down.
 */
import { NO_ACTIONS, commitAdvanced, mergeActions } from './actions.js';
import { isJoint } from './config.js';
import { becomeFollower } from './election.js';
import { termAt } from './log.js';
import { finalizeJointConsensus } from './membership.js';
import { jointMajorityIndex } from './quorum.js';
import { latestConfig, latestConfigIndex, withCommitIndex, type RaftState, type StepResult } from './state.js';

/** Advance the leader's commit index to what a majority holds, when that entry is of the current term. */
export function advanceCommit(s: RaftState): StepResult {
  const p = s.progress!;
  const index = jointMajorityIndex(p.voterSlots, p.newVoterSlots, p.match, s.log.lastIndex);
  if (index <= s.commitIndex || termAt(s.log, index) !== s.term) return [s, NO_ACTIONS];
  const next = withCommitIndex(s, index);
  const announce = [commitAdvanced(index)];
  if (index < latestConfigIndex(next)) return [next, announce];
  const config = latestConfig(next);
  if (isJoint(config)) {
    const [final, actions] = finalizeJointConsensus(next);
    return [final, mergeActions(announce, actions)];
  }
  if (!config.voters.includes(s.id)) {
    const [follower, actions] = becomeFollower(next, next.term);
    return [follower, mergeActions(announce, actions)];
  }
  return [next, announce];
}
