/**
 * Linearizable reads: ReadIndex (Raft thesis §6.4), follower reads, and lease reads.
 *
 * Rules:
 * - A read (`{type: 'read', id}`) on the leader takes the commit index as its read index, once the
 *   leader has committed an entry of its own term (before that its commit index may lag the last
 *   leader's: etcd issue #7331), and waits for one round of `leadershipCheck` messages to be
 *   acknowledged by a majority of the voters (each configuration, while joint): the leader still led
 *   after the read arrived, so no other leader can have committed anything newer. It then answers
 *   `readReady {id, index}`; the application applies up to `index` and reads its state machine.
 * - Rounds are shared: every read waiting when a round is sent is answered by it, and reads that
 *   arrive while a round is in flight go out together in the next one, sent as soon as the first
 *   is confirmed. A round not confirmed within a tick is sent again with a new number.
 * - A leader that is the only voter of its latest configuration needs no acknowledgement: it answers
 *   at once, and a round it starts (a tick's) is confirmed as it starts, which also answers reads
 *   that waited for voters a configuration change has since removed.
 * - With `leaseReads`, a leader whose lease holds answers at once (see `NodeOptions.leaseReads`).
 *   The lease is renewed by a round at every tick: it holds until `electionTimeoutTicks -
 *   leaseDriftTicks` ticks after the latest round a majority acknowledged was sent.
 * - A read on a follower is forwarded to its leader (`readIndex`, many ids per message); the leader
 *   treats it as its own read and answers with `readIndexReply`; the follower then answers
 *   `readReady` with the leader's read index (it applies up to that index first, like the leader).
 *   Forwarded reads not answered yet are forwarded again with every heartbeat from the leader, so a
 *   lost message delays a read but does not lose it; the leader ignores a read it already holds.
 * - Ids are the application's, unique among the reads in flight on one node: a second read with the
 *   id of one in flight is rejected (`duplicateRead`) and never confused with the first. The leader
 *   keys forwarded reads by (follower, id).
 * - A node that cannot serve a read rejects it (`rejected {request: 'read', id}`) with its leader
 *   hint: no leader known (`notLeader`), or, for a read it had accepted, a change of term, role or
 *   leader before it was answered (`leaderChanged`; see `settleReads`). A read is never dropped
 *   without an answer.
 */
import {
  TIMER_FOLLOWER,
  broadcast,
  mergeActions,
  readReady,
  readRejected,
  saveHardState,
  send,
  type RaftAction,
  type RejectReason,
} from './actions.js';
import { NO_READS, type PendingRead } from './leadership.js';
import { termAt } from './log.js';
import {
  leadershipCheck,
  leadershipCheckReply,
  readIndex,
  readIndexReply,
  type LeadershipCheck,
  type LeadershipCheckReply,
  type ReadAnswer,
  type ReadIndex,
  type ReadIndexReply,
} from './messages.js';
import { bump, bumpBy, type Metrics } from './metrics.js';
import { afterCheckReply, slotOf } from './progress.js';
import { jointMajorityIndex } from './quorum.js';
import {
  followerOf,
  latestConfig,
  leaderHint,
  withLeaderBook,
  withMetrics,
  withReads,
  type LeaderState,
  type RaftState,
  type StepResult,
} from './state.js';

/** Handle `{type: 'read', id}` (see the rules above). */
export function onRead(s: RaftState, id: string): StepResult {
  if (holdsRead(s.reads, null, id)) return rejectRead(s, [], id, 'duplicateRead');
  if (s.role === 'leader') return leaderTakesReads(s, null, [id]);
  const leader = followedLeader(s);
  if (leader === null) return rejectRead(s, [], id, 'notLeader');
  const pending: PendingRead = { id, from: null, index: -1, round: 0 };
  return [withReads(s, s.reads.concat(pending)), [send(leader, readIndex(s.id, s.term, [id]))]];
}

/** True when `reads` holds the read `id` issued on `from` (null: this node). A plain loop: it runs per read. */
function holdsRead(reads: readonly PendingRead[], from: string | null, id: string): boolean {
  for (let k = 0; k < reads.length; k++) {
    const r = reads[k]!;
    if (r.id === id && r.from === from) return true;
  }
  return false;
}

/** The leader this node follows, or null (not a follower, or no leader heard of in its term). */
function followedLeader(s: RaftState): string | null {
  return s.role === 'follower' && s.votedFor !== null && s.votedFor !== s.id ? s.votedFor : null;
}

/**
 * The leader takes reads `ids` issued on `from` (a follower that forwarded them) or on itself
 * (`from` null): each gets the commit index, or waits for the leader's first commit of its term,
 * and is answered by the next confirmed round (at once with a lease, or with no other voter).
 */
function leaderTakesReads(s: LeaderState, from: string | null, ids: readonly string[]): StepResult {
  if (from === null && ids.length === 1 && leaseHolds(s) && committedInOwnTerm(s)) {
    // The usual lease read: answered at once (the caller checked the id is not in flight).
    return [withMetrics(s, bump(s.metrics, 'readsReady')), [readReady(ids[0]!, s.commitIndex)]];
  }
  // Reads already held (a follower forwarding again) are taken once; the caller checked its own.
  const fresh = from === null ? ids : ids.filter((id) => !holdsRead(s.reads, from, id));
  if (fresh.length === 0) return [s, []];
  const index = committedInOwnTerm(s) ? s.commitIndex : -1;
  const taken: PendingRead[] = [];
  for (const id of fresh) taken.push({ id, from, index, round: 0 });
  if (index >= 0 && (leaseHolds(s) || hasNoOtherVoter(s))) return answerReads(s, [], taken);
  const added = withReads(s, s.reads.length === 0 ? taken : s.reads.concat(taken));
  return index >= 0 ? startRoundIfIdle(added) : [added, []];
}

/** True once the leader has committed an entry of its own term (its term-start entry, at least). */
function committedInOwnTerm(s: LeaderState): boolean {
  return termAt(s.log, s.commitIndex) === s.term;
}

/**
 * True while the leader's lease holds (lease reads on; see `NodeOptions.leaseReads`), and no
 * leadership transfer runs: the transfer's target is granted votes by followers that still hear
 * from this leader, so it may win (and commit) before the lease runs out.
 */
export function leaseHolds(s: LeaderState): boolean {
  return s.options.leaseReads && s.lead.ticks < s.lead.leaseUntil && s.lead.transferTo === null;
}

/** True when the leader is the only voter: its own acknowledgement is a majority. */
function hasNoOtherVoter(s: LeaderState): boolean {
  const config = latestConfig(s);
  const others = (ids: readonly string[]): boolean => ids.some((v) => v !== s.id);
  return !others(config.voters) && !others(config.newVoters);
}

/** Send the next leadership-check round unless one is in flight (its reads then wait for the next). */
export function startRoundIfIdle(s: LeaderState): StepResult {
  return s.lead.round > s.lead.confirmed ? [s, []] : startRound(s);
}

/**
 * Send leadership-check round `round + 1`; every read waiting for a round joins it. A leader that is
 * its only voter (a change removed the others while reads waited for their acknowledgements) needs
 * no one's: the round is confirmed as it starts (see {@link confirmAlone}).
 */
export function startRound(s: LeaderState): StepResult {
  const round = s.lead.round + 1;
  if (hasNoOtherVoter(s)) return confirmAlone(s, round);
  const reads = s.reads.map((r) => (r.round === 0 && r.index >= 0 ? { ...r, round } : r));
  const next = withLeaderBook(s, {
    progress: s.progress,
    lead: { ...s.lead, round, roundTick: s.lead.ticks },
    reads,
  });
  return [next, [broadcast(leadershipCheck(s.id, s.term, round))]];
}

/**
 * Round `round` on a leader that is the only voter of its latest configuration: its own
 * acknowledgement is a majority (as for its commits), so the round is confirmed at once, every read
 * with a read index is answered, and the lease (lease reads on) is renewed from now.
 */
function confirmAlone(s: LeaderState, round: number): StepResult {
  const lead = s.lead;
  const leaseUntil = s.options.leaseReads ? leaseFrom(s, lead.ticks) : lead.leaseUntil;
  const due = s.reads.filter((r) => r.index >= 0);
  const waiting = s.reads.filter((r) => r.index < 0);
  const next = withLeaderBook(s, {
    progress: s.progress,
    lead: { ...lead, round, roundTick: lead.ticks, confirmed: round, leaseUntil },
    reads: waiting.length === 0 ? NO_READS : waiting,
  });
  return answerReads(next, [], due);
}

/**
 * Where a lease renewed by a round sent at tick `sent` ends (see `Leadership.leaseUntil`): an
 * election timeout later, less the clock drift the option allows.
 */
function leaseFrom(s: LeaderState, sent: number): number {
  return sent + s.options.electionTimeoutTicks - s.options.leaseDriftTicks;
}

/** The leader, after its commit index reached its own term: reads that waited for it take it. */
export function readsAfterCommit(s: LeaderState): StepResult {
  if (!committedInOwnTerm(s) || !s.reads.some((r) => r.index < 0)) return [s, []];
  const reads = s.reads.map((r) => (r.index < 0 ? { ...r, index: s.commitIndex } : r));
  const ready = withReads(s, reads);
  if (leaseHolds(ready) || hasNoOtherVoter(ready)) return answerReads(withReads(ready, NO_READS), [], reads);
  return startRoundIfIdle(ready);
}

/**
 * A follower's answer to a leadership check: contact from its leader (like a heartbeat: it follows
 * the sender, re-arms its timer, counts the leader as alive) and an acknowledgement. A check of an
 * older term gets this node's term back, so that the stale leader steps down.
 */
export function onLeadershipCheck(s: RaftState, m: LeadershipCheck): StepResult {
  const reply = send(m.from, leadershipCheckReply(s.id, s.term, m.round));
  if (m.term < s.term) return [s, [reply]];
  if (s.role === 'leader') return [s, []];
  const next =
    s.role === 'follower' && s.votedFor === m.from && s.leaderAlive
      ? s
      : followerOf(s, m.from, s.log, s.commitIndex, s.metrics);
  const vote: RaftAction[] = s.votedFor === m.from ? [] : [saveHardState(s.term, m.from)];
  return [next, [TIMER_FOLLOWER, ...vote, reply]];
}

/**
 * The leader counts an acknowledgement of round `round`. When a majority has acknowledged a round
 * newer than the last confirmed one, the reads of that round and before are answered, the lease is
 * renewed (lease reads on, and the round is the latest sent), and reads that arrived meanwhile go
 * out in a new round.
 */
export function onLeadershipCheckReply(s: RaftState, m: LeadershipCheckReply): StepResult {
  if (s.role !== 'leader' || m.term !== s.term) return [s, []];
  const k = slotOf(s.progress, m.from);
  if (k < 0) return [s, []];
  const progress = afterCheckReply(s.progress, k, m.round, s.lead.ticks);
  if (progress === s.progress) return [s, []];
  const lead = s.lead;
  const confirmed = jointMajorityIndex(progress.voterSlots, progress.newVoterSlots, progress.acked, lead.round);
  if (confirmed <= lead.confirmed) return [withLeaderBook(s, { progress, lead, reads: s.reads }), []];
  const leaseUntil = s.options.leaseReads && confirmed === lead.round ? leaseFrom(s, lead.roundTick) : lead.leaseUntil;
  const due = s.reads.filter((r) => r.round !== 0 && r.round <= confirmed);
  const waiting = s.reads.filter((r) => r.round === 0 || r.round > confirmed);
  const next = withLeaderBook(s, { progress, lead: { ...lead, confirmed, leaseUntil }, reads: waiting });
  const [answered, actions] = answerReads(next, [], due);
  if (!waiting.some((r) => r.round === 0 && r.index >= 0)) return [answered, actions];
  if (answered.role !== 'leader') return [answered, actions];
  const [more, sent] = startRound(answered);
  return [more, actions.concat(sent)];
}

/**
 * The leader answers `reads` (already out of `s.reads`): its own with `readReady`, forwarded ones
 * with one `readIndexReply` per follower, merged after `actions`.
 */
function answerReads(s: RaftState, actions: readonly RaftAction[], reads: readonly PendingRead[]): StepResult {
  if (reads.length === 0) return [s, actions];
  const [sends, reports, metrics] = answersFor(s, reads, (r) => readReady(r.id, r.index), 'readsReady');
  return [withMetrics(s, metrics), mergeActions(actions, sends.concat(reports))];
}

/**
 * What answers `reads`: one `readIndexReply` per forwarding follower (each read with its index,
 * or -1 when `ownAnswer` is a rejection), and `ownAnswer` for the node's own reads, counted in
 * `counter`.
 */
function answersFor(
  s: RaftState,
  reads: readonly PendingRead[],
  ownAnswer: (r: PendingRead) => RaftAction,
  counter: 'readsReady' | 'readsRejected',
): [RaftAction[], RaftAction[], Metrics] {
  const refused = counter === 'readsRejected';
  const byFollower = new Map<string, ReadAnswer[]>();
  const reports: RaftAction[] = [];
  for (const r of reads) {
    if (r.from === null) {
      reports.push(ownAnswer(r));
    } else {
      const list = byFollower.get(r.from) ?? [];
      list.push({ id: r.id, index: refused ? -1 : r.index });
      byFollower.set(r.from, list);
    }
  }
  const sends =
    byFollower.size === 0
      ? []
      : [...byFollower.keys()].sort().map((to) => send(to, readIndexReply(s.id, s.term, byFollower.get(to)!)));
  return [sends, reports, reports.length === 0 ? s.metrics : bumpBy(s.metrics, counter, reports.length)];
}

/**
 * Reads forwarded by a follower. The leader takes them as its own (keyed by the follower and id);
 * a node that is not the leader of that term refuses them all (index -1), so that the follower
 * rejects them at once rather than waiting.
 */
export function onReadIndex(s: RaftState, m: ReadIndex): StepResult {
  if (s.role !== 'leader' || m.term !== s.term) {
    const refusals = m.ids.map((id) => ({ id, index: -1 }));
    return [s, [send(m.from, readIndexReply(s.id, s.term, refusals))]];
  }
  return leaderTakesReads(s, m.from, m.ids);
}

/**
 * The leader's answers to reads this follower forwarded: `readReady` with the leader's read index,
 * or `rejected` (`notLeader`) when it refused. Answers for reads this node no longer holds
 * (answered already, or given up) are ignored.
 */
export function onReadIndexReply(s: RaftState, m: ReadIndexReply): StepResult {
  if (s.reads.length === 0) return [s, []];
  let reads = s.reads;
  const actions: RaftAction[] = [];
  let metrics: Metrics = s.metrics;
  for (const a of m.reads) {
    const k = reads.findIndex((r) => r.id === a.id && r.from === null);
    if (k < 0) continue;
    reads = reads.filter((_, j) => j !== k);
    if (a.index >= 0) {
      actions.push(readReady(a.id, a.index));
      metrics = bump(metrics, 'readsReady');
    } else {
      actions.push(readRejected(a.id, 'notLeader', null));
      metrics = bump(metrics, 'readsRejected');
    }
  }
  if (reads === s.reads) return [s, []];
  return [withMetrics(withReads(s, reads.length === 0 ? NO_READS : reads), metrics), actions];
}

/** A follower's forwarded reads, sent again to its leader (with a heartbeat from it). */
export function reforwardReads(s: RaftState): RaftAction[] {
  const leader = followedLeader(s);
  if (leader === null || s.reads.length === 0) return [];
  return [
    send(
      leader,
      readIndex(
        s.id,
        s.term,
        s.reads.map((r) => r.id),
      ),
    ),
  ];
}

/** `rejected` for read `id` with `reason` and this node's leader hint, counted. */
function rejectRead(s: RaftState, actions: readonly RaftAction[], id: string, reason: RejectReason): StepResult {
  return [withMetrics(s, bump(s.metrics, 'readsRejected')), actions.concat(readRejected(id, reason, leaderHint(s)))];
}

/**
 * The reads of `before` that `after` can no longer serve, answered: when a step changed the node's
 * term, role, or (as a follower) the leader it follows or its belief that the leader lives (its
 * election timer fired), every read it held is rejected
 * (`leaderChanged`), and a leader that stepped down also refuses the reads followers forwarded to
 * it. Applied by `step` after every rule, so that no rule has to remember the reads.
 */
export function settleReads(before: RaftState, result: StepResult): StepResult {
  const [after, actions] = result;
  if (after.reads.length === 0) return result;
  // A follower whose election timer fired (it no longer hears from its leader) gives its reads up
  // too, even when it cannot campaign: its leader may be gone for good.
  const same =
    after.term === before.term &&
    after.role === before.role &&
    (after.role !== 'follower' || (after.votedFor === before.votedFor && (after.leaderAlive || !before.leaderAlive)));
  if (same) return result;
  const hint = leaderHint(after);
  const [sends, reports, metrics] = answersFor(
    after,
    after.reads,
    (r) => readRejected(r.id, 'leaderChanged', hint),
    'readsRejected',
  );
  return [withMetrics(withReads(after, NO_READS), metrics), mergeActions(actions, sends.concat(reports))];
}
