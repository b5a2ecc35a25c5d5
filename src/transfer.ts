/**
 * Leadership transfer (Raft thesis §3.10, etcd's MsgTransferLeader and MsgTimeoutNow).
 *
 * Rules:
 * - `transferLeadership {to}` on the leader names a voter of its latest configuration. The leader
 *   stops taking proposals (`transferInProgress`), brings `to` up to date, and once `to`'s match
 *   index reaches the leader's last index sends it `timeoutNow`.
 * - A node receiving `timeoutNow` from the leader of its term campaigns at once, skipping pre-vote;
 *   its vote requests carry `transfer: true`, which voters grant even while they hear from that
 *   leader (the leader asked). It wins with a log at least as up to date as any voter's.
 * - The transfer ends when the leader steps down (the usual outcome: `to` won a higher term), or is
 *   abandoned after `electionTimeoutTicks` ticks; the leader then takes proposals again.
 */
import { installSnapshot, rejected, send } from './actions.js';
import { isVoter } from './config.js';
import { since, termAt } from './log.js';
import { limitEntries } from './flow-control.js';
import { appendEntriesCall, timeoutNow, type TimeoutNow } from './messages.js';
import { bump } from './metrics.js';
import { afterSendTo, sentTo, slotOf } from './progress.js';
import {
  latestConfig,
  leaderHint,
  withLeaderProgress,
  withLeadership,
  withMetrics,
  type LeaderState,
  type RaftState,
  type StepResult,
} from './state.js';
import { startElection } from './election.js';

/** Handle `transferLeadership {to}` (see the rules above). */
export function transferLeadership(s: RaftState, to: string): StepResult {
  if (s.role !== 'leader') return [s, [rejected('transferLeadership', 'notLeader', leaderHint(s), 0)]];
  if (to === s.id) return [s, [rejected('transferLeadership', 'alreadyLeader', s.id, 0)]];
  const current = s.lead.transferTo;
  if (current === to) return [s, []];
  if (current !== null) return [s, [rejected('transferLeadership', 'transferInProgress', s.id, 0)]];
  const k = slotOf(s.progress, to);
  if (k < 0 || !isVoter(latestConfig(s), to)) return [s, [rejected('transferLeadership', 'notAVoter', s.id, 0)]];
  const started = withMetrics(
    withLeadership(s, { ...s.lead, transferTo: to, transferTick: s.lead.ticks }),
    bump(s.metrics, 'transfersStarted'),
  );
  const match = started.progress.match[k]!;
  if (match === started.log.lastIndex) return handOver(started, to);
  // Behind this leader's snapshot: only a snapshot can bring it up to date (its answer after the
  // install continues the transfer).
  if (match < started.log.prevIndex) return [started, [installSnapshot(to)]];
  if (sentTo(started.progress, k, started.log.lastIndex) > match) return [started, []];
  // Bring it up to date from its match index; its answer continues the transfer.
  const rest = limitEntries(started, since(started.log, termAt(started.log, match), match) ?? started.log);
  const call = send(to, appendEntriesCall(s.id, s.term, s.commitIndex, rest));
  // Sent to, not heard from: check-quorum must not count the target as alive for it.
  const progress = afterSendTo(started.progress, k, rest.lastIndex);
  return [withLeaderProgress(started, progress, started.commitIndex), [call]];
}

/** The leader tells `to`, now up to date, to campaign at once. */
export function handOver(s: LeaderState, to: string): StepResult {
  return [s, [send(to, timeoutNow(s.id, s.term))]];
}

/**
 * `timeoutNow` from the leader of this node's term: campaign at once, as a transfer. Ignored from
 * anyone else, by a leader, and by a node that is not a voter (it could not win).
 */
export function onTimeoutNow(s: RaftState, m: TimeoutNow): StepResult {
  if (m.term !== s.term || s.role === 'leader' || (s.role === 'follower' && s.votedFor !== m.from)) return [s, []];
  if (!isVoter(latestConfig(s), s.id)) return [s, []];
  return startElection(s, true);
}

/** The leader at a new tick: a transfer running for `electionTimeoutTicks` ticks is abandoned. */
export function abandonStaleTransfer(s: LeaderState): LeaderState {
  const lead = s.lead;
  if (lead.transferTo === null || lead.ticks - lead.transferTick < s.options.electionTimeoutTicks) return s;
  return withMetrics(
    withLeadership(s, { ...lead, transferTo: null, transferTick: 0 }),
    bump(s.metrics, 'transfersAbandoned'),
  );
}
