/**
 * The leader's view of its followers: for every other member of the latest configuration, the
 * highest log index known to be replicated there (its match index).
 *
 * Peers live in arrays aligned with a sorted member list, so that the hot paths update one slot of
 * a copied array instead of rebuilding a keyed record.
 */
import { allMembers, type ClusterConfig } from './config.js';

/**
 * Replication progress kept by a leader: who its peers are and, per peer, a column of what it
 * knows (match index, last contact, leadership-check round acknowledged, flow control). Every column
 * is aligned with `peers`: slot `k` of each describes `peers[k]`.
 */
export interface LeaderProgress {
  /** Every member of the latest configuration except the leader, sorted. */
  readonly peers: readonly string[];
  /**
   * `match[k]` is the match index of `peers[k]`; 0 until the peer first acknowledges. It never
   * decreases within one leadership.
   */
  readonly match: readonly number[];
  /**
   * For each voter of the old voter set (`voters`), where its match index lives: `-1` for the leader
   * itself, else a slot of `match`. Derived from the configuration, kept so that commit counting
   * does no lookups.
   */
  readonly voterSlots: readonly number[];
  /**
   * For each voter of the new voter set (`newVoters`; empty unless joint), where its match index
   * lives: `-1` for the leader itself, else a slot of `match`. Derived like `voterSlots`.
   */
  readonly newVoterSlots: readonly number[];
  /**
   * `heard[k]` is the tick (see `Leadership.ticks`) at which the leader last heard from `peers[k]`
   * in its term; 0 until then (a new leader counts every peer as heard at its election).
   * Check-quorum counts the voters heard from within the last `electionTimeoutTicks` ticks.
   */
  readonly heard: readonly number[];
  /** `acked[k]` is the highest leadership-check round `peers[k]` acknowledged; 0 until then. */
  readonly acked: readonly number[];
  /**
   * Flow control's view of `peers[k]` (see `flow-control.ts`). `TRACKING` (-1): the follower is
   * known to keep up (its last answer showed it up to date) and gets every append, so an append
   * changes nothing here; entries after its match index are in flight. Otherwise (probe): the
   * highest index sent to it (0 until then), and the leader answers each of its replies with what it
   * lacks. Entries in `(match[k], sentTo(progress, k, lastIndex)]` are in flight (at most
   * `maxInflightEntries` of them).
   */
  readonly sent: readonly number[];
}

/** The per-peer columns of {@link LeaderProgress}, aligned with `peers`. */
interface Columns {
  readonly match: readonly number[];
  readonly heard: readonly number[];
  readonly acked: readonly number[];
  readonly sent: readonly number[];
}

/** The one constructor of {@link LeaderProgress}. */
function makeProgress(
  peers: readonly string[],
  voterSlots: readonly number[],
  newVoterSlots: readonly number[],
  c: Columns,
): LeaderProgress {
  return {
    peers,
    match: c.match,
    voterSlots,
    newVoterSlots,
    heard: c.heard,
    acked: c.acked,
    sent: c.sent,
  };
}

/**
 * Progress for the latest configuration. Peers that were already tracked keep their match index
 * (a member that stays across a configuration change keeps its progress); new peers start at 0;
 * peers no longer in the configuration are dropped.
 */
export function progressFor(config: ClusterConfig, selfId: string, previous: LeaderProgress | null): LeaderProgress {
  const peers = allMembers(config).filter((id) => id !== selfId);
  const kept = peers.map((id) => (previous === null ? -1 : previous.peers.indexOf(id)));
  const column = (old: readonly number[] | undefined): number[] => kept.map((k) => (k < 0 ? 0 : old![k]!));
  // -1 for the leader itself, which is not among its peers.
  const slotOf = (id: string): number => peers.indexOf(id);
  return makeProgress(peers, config.voters.map(slotOf), config.newVoters.map(slotOf), {
    match: column(previous?.match),
    heard: column(previous?.heard),
    acked: column(previous?.acked),
    sent: column(previous?.sent),
  });
}

/** The slot of `id` in `progress`, or -1 when the leader does not track it. */
export function slotOf(progress: LeaderProgress, id: string): number {
  const peers = progress.peers;
  for (let k = 0; k < peers.length; k++) if (peers[k] === id) return k;
  return -1;
}

/**
 * A copy of `column` with slot `k` set to `value`. Clusters of up to five nodes (four peers) get an
 * array literal, which V8 builds inline; `slice` is a builtin call that costs several times more,
 * and this runs for every reply a leader counts.
 */
function withSlot(column: readonly number[], k: number, value: number): readonly number[] {
  const n = column.length;
  if (n === 2) return k === 0 ? [value, column[1]!] : [column[0]!, value];
  if (n === 4) {
    return [
      k === 0 ? value : column[0]!,
      k === 1 ? value : column[1]!,
      k === 2 ? value : column[2]!,
      k === 3 ? value : column[3]!,
    ];
  }
  const out = column.slice();
  out[k] = value;
  return out;
}

/** `progress` with new columns (those not given are kept). */
function withColumns(p: LeaderProgress, c: Partial<Columns>): LeaderProgress {
  return makeProgress(p.peers, p.voterSlots, p.newVoterSlots, {
    match: c.match ?? p.match,
    heard: c.heard ?? p.heard,
    acked: c.acked ?? p.acked,
    sent: c.sent ?? p.sent,
  });
}

/**
 * `progress` after an AppendEntries reply from slot `k` whose last position the leader holds:
 * match index `index`, heard from at tick `tick`, and `sent` the highest index sent to it. The
 * same object when nothing changed.
 */
export function afterReply(
  progress: LeaderProgress,
  k: number,
  index: number,
  tick: number,
  sent: number,
): LeaderProgress {
  const sameMatch = progress.match[k] === index;
  const sameHeard = progress.heard[k] === tick;
  const sameSent = progress.sent[k] === sent;
  if (sameMatch && sameHeard && sameSent) return progress;
  return makeProgress(progress.peers, progress.voterSlots, progress.newVoterSlots, {
    match: sameMatch ? progress.match : withSlot(progress.match, k, index),
    heard: sameHeard ? progress.heard : withSlot(progress.heard, k, tick),
    acked: progress.acked,
    sent: sameSent ? progress.sent : withSlot(progress.sent, k, sent),
  });
}

/** `progress` after the leader sent slot `k` entries up to `sent`. */
export function afterSendTo(progress: LeaderProgress, k: number, sent: number): LeaderProgress {
  return withColumns(progress, { sent: withSlot(progress.sent, k, sent) });
}

/** `progress` with slot `k` heard from at tick `tick`; the same object when it already was. */
export function heardFrom(progress: LeaderProgress, k: number, tick: number): LeaderProgress {
  return progress.heard[k] === tick ? progress : withColumns(progress, { heard: withSlot(progress.heard, k, tick) });
}

/** `progress` with slot `k` heard from at tick `tick` and having acknowledged round `round`. */
export function afterCheckReply(progress: LeaderProgress, k: number, round: number, tick: number): LeaderProgress {
  if (progress.heard[k] === tick && progress.acked[k]! >= round) return progress;
  return withColumns(progress, {
    heard: progress.heard[k] === tick ? progress.heard : withSlot(progress.heard, k, tick),
    acked: progress.acked[k]! >= round ? progress.acked : withSlot(progress.acked, k, round),
  });
}

/**
 * The slots with `max` or more entries in flight, the leader's last index being `lastIndex` (flow
 * control: they get nothing more until they answer), or null when there is none — the usual case,
 * checked on every append.
 */
export function pausedSlots(progress: LeaderProgress, max: number, lastIndex: number): readonly number[] | null {
  // Small for the JIT (this runs for every append): the list is built only once a slot is paused.
  const sent = progress.sent;
  const match = progress.match;
  for (let k = 0; k < sent.length; k++) {
    const s = sent[k]!;
    if ((s === TRACKING ? lastIndex : s) - match[k]! >= max) return pausedFrom(progress, max, lastIndex, k);
  }
  return null;
}

/** `pausedSlots` when slot `first` is the first paused one. */
function pausedFrom(progress: LeaderProgress, max: number, lastIndex: number, first: number): readonly number[] {
  const { sent, match } = progress;
  const paused = [first];
  for (let k = first + 1; k < sent.length; k++) {
    if (sentTo(progress, k, lastIndex) - match[k]! >= max) paused.push(k);
  }
  return paused;
}

/**
 * `progress` after an append that took the leader's log from `lastIndex` to `newLast` went to every
 * slot but those in `paused` (sorted). Tracking followers stay tracking; a follower being probed is
 * now sent up to `newLast`; a paused one keeps what it was sent. The same object in the usual case:
 * every slot tracking and none paused.
 */
export function withAppendsSent(
  progress: LeaderProgress,
  paused: readonly number[] | null,
  lastIndex: number,
  newLast: number,
): LeaderProgress {
  // The usual case, small for the JIT: every slot tracking and none paused changes nothing.
  if (paused === null && allTracking(progress)) return progress;
  return appendsSentTo(progress, paused, lastIndex, newLast);
}

/** True when every slot of `progress` is `TRACKING`. */
function allTracking(progress: LeaderProgress): boolean {
  const sent = progress.sent;
  for (let k = 0; k < sent.length; k++) if (sent[k] !== TRACKING) return false;
  return true;
}

/** `withAppendsSent` in general: slot by slot. */
function appendsSentTo(
  progress: LeaderProgress,
  paused: readonly number[] | null,
  lastIndex: number,
  newLast: number,
): LeaderProgress {
  const sent = progress.sent;
  let out: number[] | null = null;
  let p = 0;
  for (let k = 0; k < sent.length; k++) {
    const isPaused = paused !== null && paused[p] === k;
    if (isPaused) p++;
    const was = sent[k]!;
    const want = isPaused ? (was === TRACKING ? lastIndex : was) : was === TRACKING ? TRACKING : newLast;
    if (was !== want) (out ??= sent.slice())[k] = want;
  }
  return out === null ? progress : withColumns(progress, { sent: out });
}

/**
 * `progress` at a new tick, the leader's last index being `lastIndex`: for every follower heard from
 * during the tick that just ended, what was sent and not acknowledged counts as lost (it is alive, so
 * it would have answered): its next reply gets it resent (at most `maxEntriesPerAppend` entries,
 * once per tick), and a follower paused by flow control resumes. A follower not heard from stays as
 * it is.
 */
export function afterTick(progress: LeaderProgress, endedTick: number, lastIndex: number): LeaderProgress {
  const { heard, match } = progress;
  let out: number[] | null = null;
  for (let k = 0; k < match.length; k++) {
    if (sentTo(progress, k, lastIndex) > match[k]! && heard[k]! >= endedTick)
      (out ??= progress.sent.slice())[k] = match[k]!;
  }
  return out === null ? progress : withColumns(progress, { sent: out });
}

/** `sent[k]` for a follower that has been sent every entry up to the leader's last index. */
export const TRACKING = -1;

/** The highest index sent to slot `k`, given the leader's last index `lastIndex`. */
export function sentTo(progress: LeaderProgress, k: number, lastIndex: number): number {
  const sent = progress.sent[k]!;
  return sent === TRACKING ? lastIndex : sent;
}

/** `progress` with the match index of slot `k` set to `index`. */
export function withMatch(progress: LeaderProgress, k: number, index: number): LeaderProgress {
  return withColumns(progress, { match: withSlot(progress.match, k, index) });
}
