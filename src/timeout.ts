/**
 * What the node's one timer firing (`{type: 'timeout'}`) means, by role: on the leader a tick of
 * its clock (heartbeat, check-quorum, leadership checks: `check-quorum.ts`); on any other node an
 * election timeout, which starts a pre-vote (pre-vote on, more than one voter: `prevote.ts`) or an
 * election (`election.ts`). A follower whose timer fires no longer counts its leader as alive.
 */
import { onLeaderTick } from './check-quorum.js';
import { isSoloVoter } from './config.js';
import { canCampaign, startElection } from './election.js';
import { startPreVote } from './prevote.js';
import { latestConfig, type RaftState, type StepResult } from './state.js';

/** The timer armed by the last `setTimer` fired. */
export function onTimeout(s: RaftState): StepResult {
  if (s.role === 'leader') return onLeaderTick(s);
  if (s.options.preVote && canCampaign(s) && !isSoloVoter(latestConfig(s), s.id)) return startPreVote(s);
  return startElection(s);
}
