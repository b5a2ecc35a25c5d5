/**
 * Membership changes through joint consensus (Raft §6), with non-voters.
 *
 * A change of voters goes through a joint configuration, in which elections and commits need a
 * majority of both the old and the new voters; once the joint entry commits, the leader appends the
 * final configuration by itself.
 */
import { appendConfigEntry } from './replication.js';
import { latestConfig, type RaftState, type StepResult } from './state.js';

/** The joint configuration has committed: append the final one (the new voters only). */
export function finalizeJointConsensus(s: RaftState): StepResult {
  const joint = latestConfig(s);
  return appendConfigEntry(s, { voters: joint.newVoters, newVoters: [], nonVoters: joint.nonVoters });
}
