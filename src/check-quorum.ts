/**
 * The leader's clock: what happens at every tick (a heartbeat timeout on the leader), including
 * check-quorum (etcd's CheckQuorum; Raft thesis §6.2).
 *
 * Rules, at every tick:
 * - The tick count goes up by one; followers heard from during the tick that ended get their
 *   in-flight count cleared (flow control, see `progress.ts`).
 * - Check-quorum (option `checkQuorum`): a leader that has not heard from a majority of the voters
 *   (of each configuration, while joint; itself included) within the last `electionTimeoutTicks`
 *   ticks steps down to follower in its term. It keeps its vote (it voted for itself), so it cannot
 *   vote twice in the term. A leader cut off from its majority thus stops serving within an election
 *   timeout, before the majority can elect another leader that commits writes it would miss. A
 *   new leader counts every peer as heard at its election.
 * - A leadership transfer running for `electionTimeoutTicks` ticks is abandoned (`transfer.ts`).
 * - The leader sends its heartbeat, and a leadership-check round when reads wait for one whose round
 *   was lost (not confirmed within a tick) or, with lease reads, to renew its lease (`reads.ts`).
 */
import { TIMER_FOLLOWER, mergeActions } from './actions.js';
import { bump } from './metrics.js';
import { afterTick } from './progress.js';
import { startRound } from './reads.js';
import { heartbeat } from './replication.js';
import { toFollower, withLeaderBook, withMetrics, type LeaderState, type StepResult } from './state.js';
import { abandonStaleTransfer } from './transfer.js';

/** The leader's heartbeat timer fired: one tick (see the rules above). */
export function onLeaderTick(s: LeaderState): StepResult {
  const ticks = s.lead.ticks + 1;
  const ticked = abandonStaleTransfer(
    withLeaderBook(s, {
      progress: afterTick(s.progress, s.lead.ticks, s.log.lastIndex),
      lead: { ...s.lead, ticks },
      reads: s.reads,
    }),
  );
  if (s.options.checkQuorum && !heardFromQuorum(ticked)) return stepDownForQuorum(ticked);
  const [beat, beatActions] = heartbeat(ticked, true);
  if (beat.role !== 'leader' || !needsRound(beat)) return [beat, beatActions];
  const [next, roundActions] = startRound(beat);
  return [next, mergeActions(beatActions, roundActions)];
}

/**
 * True when a majority of the voters (each configuration, while joint) was heard from within the
 * last `electionTimeoutTicks` ticks, counting the leader itself.
 */
export function heardFromQuorum(s: LeaderState): boolean {
  const { voterSlots, newVoterSlots, heard } = s.progress;
  const since = s.lead.ticks - s.options.electionTimeoutTicks;
  return (
    isActiveMajority(voterSlots, heard, since) &&
    (newVoterSlots.length === 0 || isActiveMajority(newVoterSlots, heard, since))
  );
}

/** True when more than half of `slots` (-1: the leader itself) were heard from after tick `since`. */
function isActiveMajority(slots: readonly number[], heard: readonly number[], since: number): boolean {
  let active = 0;
  for (const k of slots) if (k < 0 || heard[k]! > since) active++;
  return active * 2 > slots.length;
}

/** The leader steps down in its term, keeping its vote (for itself), because its majority went quiet. */
function stepDownForQuorum(s: LeaderState): StepResult {
  const follower = toFollower(withMetrics(s, bump(s.metrics, 'checkQuorumStepDowns')), s.term, s.id);
  return [follower, [TIMER_FOLLOWER]];
}

/**
 * True when the leader should send a round at this tick: reads wait and the round in flight (if
 * any) was sent before this tick, or lease reads are on (the lease is renewed every tick).
 */
function needsRound(s: LeaderState): boolean {
  if (s.options.leaseReads) return true;
  if (s.reads.length === 0) return false;
  const lead = s.lead;
  const waiting = s.reads.some((r) => r.index >= 0 && (r.round === 0 || r.round > lead.confirmed));
  return waiting && (lead.round <= lead.confirmed || lead.roundTick < lead.ticks);
}
