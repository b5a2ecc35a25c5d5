/**
 * Membership changes through joint consensus (Raft §6 of the paper, §4.3 of the thesis), with
 * non-voters.
 *
 * Rules:
 * - A configuration takes effect on a node as soon as it is in its log, committed or not.
 * - Changing the voters goes through a joint configuration (`newVoters` not empty): while it is the
 *   latest, elections and commits need a majority of the old voters and of the new voters. When the
 *   joint entry commits, the leader appends the final configuration (the new voters) by itself
 *   (see `commit.ts`).
 * - Non-voters are added and removed without a joint phase; promoting one to voter is a joint
 *   change (`toJointConsensus` moves it out of `nonVoters`).
 * - One change at a time: a proposal is refused while the latest configuration is joint or not yet
 *   committed (stricter than noraft, which only waits for the final entry to be appended; this is
 *   etcd's rule and it keeps at most one uncommitted configuration in any log), and when it does
 *   not start from the current voters.
 * - A leader that is not a voter of the final configuration keeps leading until that configuration
 *   commits, then steps down (see `commit.ts`). A node that is not a voter does not campaign,
 *   except a voter removed by a change it does not know committed (see `election.ts`).
 * - The application must shut removed nodes down once the final configuration commits: the leader
 *   stops sending to them, so they may never learn that the change committed, and a removed node
 *   left running keeps campaigning with ever higher terms, deposing the real leader each time.
 */
import { rejected } from './actions.js';
import { configAppend } from './append.js';
import { replicateAppend } from './commit.js';
import { configsEqual, finalConfigOf, isJoint, sameIds, type ClusterConfig } from './config.js';
import { hasRoomFor } from './log.js';
import { configChangeInProgress, latestConfig, leaderHint, type RaftState, type StepResult } from './state.js';

/**
 * Propose `config` as the next configuration (leader only). To change voters, pass a joint
 * configuration built with `toJointConsensus(latestConfig(state), adding, removing)`; to change
 * non-voters only, pass the current voters with the new `nonVoters`. Refused, with a `rejected`
 * action and no change, when this node does not lead (`notLeader`), while another change is in
 * progress (`changeInProgress`), when `config.voters` are not the current voters (`votersMismatch`),
 * when the configuration it leads to is the current one (`noChange`), or when the log has no room
 * left for it (`logFull`: only at the very top of the index range).
 */
export function proposeConfig(s: RaftState, config: ClusterConfig): StepResult {
  if (s.role !== 'leader') return [s, [rejected('proposeConfig', 'notLeader', leaderHint(s), 0)]];
  if (s.lead.transferTo !== null) return [s, [rejected('proposeConfig', 'transferInProgress', s.id, 0)]];
  if (configChangeInProgress(s)) return [s, [rejected('proposeConfig', 'changeInProgress', s.id, 0)]];
  const current = latestConfig(s);
  if (!sameIds(config.voters, current.voters)) return [s, [rejected('proposeConfig', 'votersMismatch', s.id, 0)]];
  if (configsEqual(isJoint(config) ? finalConfigOf(config) : config, current)) {
    return [s, [rejected('proposeConfig', 'noChange', s.id, 0)]];
  }
  // Room for this entry and, for a joint one, the final configuration that follows it.
  if (!hasRoomFor(s.log, 2)) return [s, [rejected('proposeConfig', 'logFull', s.id, 0)]];
  return replicateAppend(s, configAppend(s, config));
}
