/**
 * Messages in flight, read from a recording. Recordings of simulator runs and of hosts keep what
 * each node stepped but not what the network did, so the debugger infers it:
 *
 * - a message is sent when a node's step returns a `send` (to one peer) or a `broadcast` (to every
 *   peer of its latest configuration, `peersOf`), and a snapshot transfer when it returns an
 *   `installSnapshot` (one at a time per receiver, as the simulator and the host send them);
 * - a message is delivered when its receiver steps an event equal to it, from its sender (the
 *   oldest such message still pending is taken: links are first in, first out unless reordered),
 *   and a snapshot transfer when its receiver steps `snapshotInstalled` at the snapshot's position;
 * - a delivery with no pending message but an equal one delivered before is a duplicate copy;
 * - a message never delivered was dropped (lost, cut by a partition, or its receiver was down): it
 *   is drawn for a short while after it was sent, unless the recording ended before it could have
 *   arrived (then it is still in flight at the end).
 *
 * Messages are matched by their fields (`messageKey`), so equal messages on one link (two equal
 * heartbeats) may be told apart wrongly when one of them is lost: the picture is then off by which
 * copy was lost, never by how many messages went where.
 */
import { peersOf, type RaftActions, type RaftEvent, type RaftState } from '../../index.js';
import { lastAtOrBelow } from './search.js';

/**
 * What became of a message: `delivered`; `duplicate` (a second copy of a delivered message,
 * delivered too); `dropped` (never delivered); `inFlight` (not delivered when the recording ended,
 * which it might still have been); `unmatched` (a delivery of a message nobody was seen sending:
 * its sender's steps are not in the recording).
 */
export type MessageFate = 'delivered' | 'duplicate' | 'dropped' | 'inFlight' | 'unmatched';

/** A message or snapshot transfer between two nodes, with where it was sent and where it ended. */
export interface FlightMessage {
  /** Its number, from 0, in the order of sending (duplicates and unmatched deliveries come later). */
  readonly id: number;
  /** The sender. */
  readonly from: string;
  /** The receiver. */
  readonly to: string;
  /** The message type, or `snapshot` for a snapshot transfer. */
  readonly type: string;
  /** The point it was sent at: the number of the event whose step sent it. */
  readonly sent: number;
  /** The time of that event. */
  readonly sentTime: number;
  /** The event that delivered it (0: never delivered). */
  readonly delivered: number;
  /** The time of that event (NaN: never delivered). */
  readonly deliveredTime: number;
  /** What became of it. */
  readonly fate: MessageFate;
  /** The first point at which it is no longer drawn (it is drawn at the points `sent..end - 1`). */
  readonly end: number;
  /** The message as sent (null for a snapshot transfer). */
  readonly message: { readonly type: string } | null;
  /** For a snapshot transfer: the snapshot's position. */
  readonly snapshot: { readonly term: number; readonly index: number } | null;
}

/** A message while the index is built. */
type Draft = { -readonly [K in keyof FlightMessage]: FlightMessage[K] };

/** How the tracker judges time. */
export interface MessageTiming {
  /**
   * How long after it was sent a message still pending can be delivered: older ones are taken as
   * lost when an equal message arrives (Infinity: never; for recordings of unknown timing).
   */
  readonly staleAfter: number;
  /**
   * How long a dropped message is drawn after it was sent (null: the median delay of the delivered
   * messages). A message sent less than this before the recording ended is in flight at the end.
   */
  readonly dropShownFor: number | null;
}

/** The messages of a recording, with every point's messages in flight at hand. */
export interface MessageIndex {
  /** Every message, by id. */
  readonly all: readonly FlightMessage[];
  /** Counts by fate. */
  readonly counts: Readonly<Record<MessageFate, number>>;
  /** The messages drawn at point `p`: sent at or before it and not yet delivered or given up. */
  inFlightAt(p: number): FlightMessage[];
  /** The messages event `n` delivered (usually one; none for an event that is not a delivery). */
  deliveredBy(n: number): FlightMessage[];
  /** The messages event `n` sent. */
  sentBy(n: number): FlightMessage[];
}

/** Points per bucket of the in-flight index. */
const BUCKET = 256;

/** How often (in events) pending messages and past deliveries older than `staleAfter` are let go. */
const SWEEP_EVERY = 1024;

/** A message's sender, when `event` is a message (every message names its sender in `from`). */
export function senderOf(event: RaftEvent): string | null {
  const from = (event as { from?: unknown }).from;
  return typeof from === 'string' ? from : null;
}

/** A field's value in a key: itself when it is a string, number, boolean or null; else `#`. */
function primitive(x: unknown): string {
  if (typeof x === 'string') return x;
  if (typeof x === 'number' || typeof x === 'boolean' || x === null || x === undefined) return `${x}`;
  return '#';
}

/**
 * A message's identity for matching a delivery with its send: its fields' values in order, and the
 * values of the fields of its object fields (an AppendEntries' `entries` anchor and end, not its term
 * starts). Cheaper than its JSON, and equal for a message and its JSON copy.
 */
export function messageKey(message: object): string {
  let key = '';
  const fields = message as Record<string, unknown>;
  for (const k in fields) {
    const v = fields[k];
    if (Array.isArray(v)) key += `[${v.length}],`;
    else if (typeof v === 'object' && v !== null) {
      for (const inner of Object.values(v as Record<string, unknown>)) key += `${primitive(inner)};`;
    } else key += `${primitive(v)},`;
  }
  return key;
}

/** Follows sends and deliveries through a recording, event by event; `finish` gives the index. */
export class MessageTracker {
  private readonly all: Draft[] = [];
  /** Messages sent and not yet delivered, by link and `messageKey`, oldest first. */
  private readonly pending = new Map<string, number[]>();
  /** The last message delivered, by link and `messageKey` (to tell duplicates). */
  private readonly lastDelivered = new Map<string, number>();
  /** Snapshot transfers under way, by receiver. */
  private readonly transfers = new Map<string, number[]>();
  private sinceSweep = 0;

  constructor(private readonly timing: MessageTiming) {}

  /** Event `n` (at `time`) of `from` ended in `after` and returned `actions`: note what it sent. */
  stepped(n: number, time: number, from: string, after: RaftState, actions: RaftActions): void {
    for (const a of actions) {
      if (a.type === 'send') this.send(n, time, from, a.to, a.message, messageKey(a.message));
      else if (a.type === 'broadcast') {
        const key = messageKey(a.message);
        for (const to of peersOf(after)) this.send(n, time, from, to, a.message, key);
      } else if (a.type === 'installSnapshot') this.transfer(n, time, from, a.to, after);
    }
    if (++this.sinceSweep >= SWEEP_EVERY) this.sweep(time);
  }

  /**
   * Event `n` (at `time`) stepped `event` on `to`: when it is a message, match it with what was sent
   * (a delivery or a duplicate copy); when it installs a snapshot, with a transfer under way.
   */
  received(n: number, time: number, to: string, event: RaftEvent): void {
    const from = senderOf(event);
    if (from !== null) this.deliver(n, time, from, to, event);
    else if (event.type === 'snapshotInstalled') this.installed(n, time, to, event);
  }

  /** The index of every message seen, given the number of events and every point's time. */
  finish(length: number, times: ArrayLike<number>): MessageIndex {
    const lastTime = length === 0 ? 0 : times[length]!;
    const shown = this.timing.dropShownFor ?? medianDelay(this.all);
    for (const m of this.all) {
      if (m.delivered > 0) continue;
      if (m.sentTime + shown >= lastTime) {
        m.fate = 'inFlight';
        m.end = length + 1;
      } else {
        m.fate = 'dropped';
        m.end = Math.max(m.sent + 1, lastAtOrBelow(times, m.sentTime + shown) + 1);
      }
    }
    return buildIndex(this.all, length);
  }

  private send(n: number, time: number, from: string, to: string, message: { type: string }, fields: string): void {
    const id = this.add(n, time, from, to, message.type, message, null);
    const key = `${from}>${to}|${fields}`;
    const queue = this.pending.get(key);
    if (queue === undefined) this.pending.set(key, [id]);
    else queue.push(id);
  }

  private transfer(n: number, time: number, from: string, to: string, after: RaftState): void {
    const under = this.transfers.get(to) ?? [];
    // One transfer per sender and receiver at a time: a leader asks again on every reply.
    if (under.some((id) => this.all[id]!.from === from && time - this.all[id]!.sentTime <= this.timing.staleAfter)) {
      return;
    }
    const snapshot = { term: after.log.prevTerm, index: after.log.prevIndex };
    under.push(this.add(n, time, from, to, 'snapshot', null, snapshot));
    this.transfers.set(to, under);
  }

  private deliver(n: number, time: number, from: string, to: string, event: RaftEvent): void {
    const key = `${from}>${to}|${messageKey(event)}`;
    const queue = this.pending.get(key);
    while (queue !== undefined && queue.length > 1 && time - this.all[queue[0]!]!.sentTime > this.timing.staleAfter) {
      queue.shift(); // lost on the way: a later equal message arrived long after
    }
    if (queue !== undefined && queue.length > 0) {
      const m = this.all[queue.shift()!]!;
      if (queue.length === 0) this.pending.delete(key);
      this.arrived(m, n, time);
      this.lastDelivered.set(key, m.id);
      return;
    }
    const earlier = this.lastDelivered.get(key);
    const original = earlier === undefined ? undefined : this.all[earlier];
    if (original !== undefined) {
      const copy = this.add(original.sent, original.sentTime, from, to, original.type, original.message, null);
      this.arrived(this.all[copy]!, n, time, 'duplicate');
      return;
    }
    const unknown = this.add(n, time, from, to, event.type, event, null);
    this.arrived(this.all[unknown]!, n, time, 'unmatched');
  }

  private installed(n: number, time: number, to: string, event: { term: number; index: number }): void {
    const under = this.transfers.get(to);
    if (under === undefined) return; // a local compaction, not a transfer
    const k = under.findIndex((id) => {
      const s = this.all[id]!.snapshot!;
      return s.term === event.term && s.index === event.index;
    });
    if (k < 0) return;
    const m = this.all[under[k]!]!;
    under.splice(k, 1);
    if (under.length === 0) this.transfers.delete(to);
    this.arrived(m, n, time);
  }

  private add(
    n: number,
    time: number,
    from: string,
    to: string,
    type: string,
    message: { type: string } | null,
    snapshot: { term: number; index: number } | null,
  ): number {
    const id = this.all.length;
    this.all.push({
      id,
      from,
      to,
      type,
      sent: n,
      sentTime: time,
      delivered: 0,
      deliveredTime: NaN,
      fate: 'dropped',
      end: n + 1,
      message,
      snapshot,
    });
    return id;
  }

  private arrived(m: Draft, n: number, time: number, fate: MessageFate = 'delivered'): void {
    m.delivered = n;
    m.deliveredTime = time;
    m.fate = fate;
    m.end = fate === 'unmatched' ? m.sent : n;
  }

  /** Let go of pending messages and past deliveries too old to match anything any more. */
  private sweep(now: number): void {
    this.sinceSweep = 0;
    const limit = this.timing.staleAfter;
    if (!Number.isFinite(limit)) return;
    for (const [key, queue] of this.pending) {
      while (queue.length > 0 && now - this.all[queue[0]!]!.sentTime > limit) queue.shift();
      if (queue.length === 0) this.pending.delete(key);
    }
    for (const [key, id] of this.lastDelivered) {
      if (now - this.all[id]!.deliveredTime > limit) this.lastDelivered.delete(key);
    }
    for (const [to, under] of this.transfers) {
      const kept = under.filter((id) => now - this.all[id]!.sentTime <= limit);
      if (kept.length === 0) this.transfers.delete(to);
      else this.transfers.set(to, kept);
    }
  }
}

/** The median delay of the delivered messages (1 when none was delivered). */
function medianDelay(all: readonly Draft[]): number {
  const delays = all.filter((m) => m.fate === 'delivered').map((m) => m.deliveredTime - m.sentTime);
  if (delays.length === 0) return 1;
  delays.sort((a, b) => a - b);
  return Math.max(1, delays[delays.length >> 1]!);
}

/** Add `id` to every bucket its points `from..end - 1` touch. */
function addToBuckets(buckets: number[][], id: number, from: number, end: number): void {
  const last = Math.min(buckets.length - 1, Math.floor((end - 1) / BUCKET));
  for (let b = Math.floor(from / BUCKET); b <= last; b++) buckets[b]!.push(id);
}

/** Add `id` to the list of point `n` in `byPoint`. */
function addAt(byPoint: Map<number, number[]>, n: number, id: number): void {
  const list = byPoint.get(n);
  if (list === undefined) byPoint.set(n, [id]);
  else list.push(id);
}

/** The in-flight index over `all` for a recording of `length` events. */
function buildIndex(all: readonly FlightMessage[], length: number): MessageIndex {
  const buckets: number[][] = Array.from({ length: Math.floor((length + 1) / BUCKET) + 1 }, () => []);
  const delivered = new Map<number, number[]>();
  const sent = new Map<number, number[]>();
  const counts: Record<MessageFate, number> = { delivered: 0, duplicate: 0, dropped: 0, inFlight: 0, unmatched: 0 };
  for (const m of all) {
    counts[m.fate]++;
    if (m.delivered > 0) addAt(delivered, m.delivered, m.id);
    if (m.fate === 'unmatched') continue;
    if (m.fate !== 'duplicate') addAt(sent, m.sent, m.id);
    if (m.end > m.sent) addToBuckets(buckets, m.id, m.sent, m.end);
  }
  const pick = (ids: readonly number[] | undefined): FlightMessage[] => (ids ?? []).map((id) => all[id]!);
  return {
    all,
    counts,
    inFlightAt(p) {
      const list = buckets[Math.floor(p / BUCKET)] ?? [];
      return pick(list.filter((id) => all[id]!.sent <= p && p < all[id]!.end));
    },
    deliveredBy: (n) => pick(delivered.get(n)),
    sentBy: (n) => pick(sent.get(n)),
  };
}
