/**
 * The network of a simulated world: messages and snapshot transfers in flight between nodes, and
 * the faults that befall them. In `auto` mode it delivers by itself, with a seeded latency, and
 * with the enabled faults: it drops, duplicates and reorders messages (links are FIFO without the
 * reorder fault), and loses snapshot transfers, which take longer than messages. In `manual` mode
 * packets wait in `inFlight` until a test delivers, drops or duplicates them. Either way, cuts (a
 * partition, an isolated node, a one-way cut) stop whatever crosses them, at sending and at
 * delivery.
 *
 * A node can be made slow (the `slow` fault): the messages sent to it wait in a bounded queue and
 * are handed over one at a time, each after a service time; a message that finds the queue full is
 * dropped. Snapshot transfers bypass the queue.
 *
 * The network knows nodes by id only: what arrives is handed to `receive`, and the end of a
 * snapshot transfer (delivered or lost) is reported to `transferEnded`.
 */
import type { Message } from '../index.js';
import type { Clock } from './clock.js';
import type { FaultName, FaultRates, Timing } from './options.js';
import type { Rng } from './rng.js';
import type { WorldStats } from './stats.js';
import type { SnapshotData } from './storage.js';

/** A message or a snapshot transfer on the network. */
export interface Packet {
  /** The packet's number: unique within the world, increasing in the order packets are sent, from 1. */
  readonly id: number;
  /** The sending node. */
  readonly from: string;
  /** The node it is sent to. */
  readonly to: string;
  /** The Raft message, or null for a snapshot transfer. */
  readonly message: Message | null;
  /** For AppendEntries: the payload of each entry `(prevIndex, lastIndex]` (0 for non-commands). */
  readonly payloads: readonly number[] | null;
  /** For a snapshot transfer: the snapshot. */
  readonly snapshot: SnapshotData | null;
  /** Virtual time at which it was sent, in virtual milliseconds. */
  readonly sentAt: number;
}

/** What the network needs from the world around it. */
export interface NetworkParts {
  readonly clock: Clock;
  readonly rng: Rng;
  readonly timing: Timing;
  readonly rates: FaultRates;
  readonly stats: WorldStats;
}

/** Where the network hands what it carries. */
export interface NetworkEnds {
  /** `p` arrived: its link is not cut (its receiver may be down, though). */
  receive(p: Packet): void;
  /** The snapshot transfer `p` ended, delivered or lost: its sender may start another. */
  transferEnded(p: Packet): void;
}

/** See the module comment. */
export class Network {
  /** `auto`: the network delivers by itself; `manual`: packets wait in `inFlight`. */
  mode: 'auto' | 'manual';
  /** The faults applied in auto mode (drop, dup, reorder, snapshot loss; the others are ignored). */
  faults: ReadonlySet<FaultName>;
  /** Manual mode: packets sent and not yet delivered, dropped or duplicated. */
  readonly inFlight: Packet[] = [];
  /** Cut links (`from>to`), each with the number of cuts through it. */
  private readonly blocked = new Map<string, number>();
  /** Without the reorder fault: the last delivery time scheduled on each link. */
  private readonly linkLast = new Map<string, number>();
  /** Slow nodes, each with the capacity of its incoming queue. */
  private readonly slow = new Map<string, number>();
  /** Messages waiting in each node's slow queue (scheduled, not yet handed over). */
  private readonly queued = new Map<string, number>();
  /** When each slow node's queue hands over its last scheduled message. */
  private readonly busyUntil = new Map<string, number>();
  private packetSeq = 0;

  constructor(
    private readonly parts: NetworkParts,
    private readonly ends: NetworkEnds,
    mode: 'auto' | 'manual',
    faults: readonly FaultName[],
  ) {
    this.mode = mode;
    this.faults = new Set(faults);
  }

  // ------------------------------------------------------------------------------------------
  // Sending and delivering

  /** Send a message (`snapshot` null) or a snapshot transfer (`message` null) from `from` to `to`. */
  send(
    from: string,
    to: string,
    message: Message | null,
    payloads: readonly number[] | null,
    snapshot: SnapshotData | null,
  ): Packet {
    const p: Packet = { id: ++this.packetSeq, from, to, message, payloads, snapshot, sentAt: this.parts.clock.now };
    this.transmit(p);
    return p;
  }

  private transmit(p: Packet): void {
    const { clock, rng, timing: t, rates, stats } = this.parts;
    stats.sent++;
    if (this.mode === 'manual') {
      this.inFlight.push(p);
      return;
    }
    if (p.snapshot !== null) {
      // A transfer takes time; a lost one is noticed by its sender when it would have arrived.
      const at = clock.now + rng.int(t.snapshotMin, t.snapshotMax);
      if (this.isBlocked(p.from, p.to) || (this.faults.has('snapshot') && rng.chance(rates.snapshotLoss))) {
        stats.snapshotsLost++;
        clock.at(at, () => this.ends.transferEnded(p));
        return;
      }
      if (this.faults.has('dup') && rng.chance(rates.duplicate)) {
        stats.duplicates++;
        clock.at(at + rng.int(t.latencyMin, t.latencyMax), () => this.deliver(p));
      }
      clock.at(at, () => this.deliver(p));
      return;
    }
    if (this.isBlocked(p.from, p.to)) {
      stats.partitionDrops++;
      return;
    }
    if (this.faults.has('drop') && rng.chance(rates.drop)) {
      stats.dropped++;
      return;
    }
    const copies = this.faults.has('dup') && rng.chance(rates.duplicate) ? 2 : 1;
    if (copies === 2) stats.duplicates++;
    const reorder = this.faults.has('reorder');
    const link = p.from + '>' + p.to;
    for (let c = 0; c < copies; c++) {
      let at = clock.now + rng.int(t.latencyMin, t.latencyMax);
      if (reorder && rng.chance(rates.reorder)) {
        at += rng.int(1, Math.max(1, t.reorderDelay));
        stats.reordered++;
      } else if (!reorder) {
        // Without the reorder fault, links are FIFO.
        const last = this.linkLast.get(link) ?? 0;
        if (at < last) at = last;
        this.linkLast.set(link, at);
      }
      const capacity = this.slow.size === 0 ? undefined : this.slow.get(p.to);
      if (capacity !== undefined) {
        this.enqueueSlow(p, at, capacity);
        continue;
      }
      clock.at(at, () => this.deliver(p));
    }
  }

  /**
   * `p` arrives at `at` at a slow node whose queue holds `capacity` messages: dropped when the queue
   * is full, else handed over after the messages before it, one service time later.
   */
  private enqueueSlow(p: Packet, at: number, capacity: number): void {
    const { clock, rng, timing: t, stats } = this.parts;
    const waiting = this.queued.get(p.to) ?? 0;
    if (waiting >= capacity) {
      stats.slowDrops++;
      return;
    }
    this.queued.set(p.to, waiting + 1);
    const start = Math.max(at, this.busyUntil.get(p.to) ?? 0);
    const done = start + rng.int(t.slowServiceMin, t.slowServiceMax);
    this.busyUntil.set(p.to, done);
    clock.at(done, () => {
      this.queued.set(p.to, (this.queued.get(p.to) ?? 1) - 1);
      this.deliver(p);
    });
  }

  // ------------------------------------------------------------------------------------------
  // Slow nodes

  /** Make `id` slow: its incoming queue holds at most `capacity` messages (see the module comment). */
  setSlow(id: string, capacity: number): void {
    this.slow.set(id, capacity);
  }

  /** `id` is no longer slow (what is in its queue is still handed over, at the times scheduled). */
  clearSlow(id: string): void {
    this.slow.delete(id);
  }

  /** The nodes that are slow now. */
  slowNodes(): string[] {
    return [...this.slow.keys()];
  }

  /** Deliver `p` now (it is dropped when its link is cut; a snapshot transfer ends either way). */
  deliver(p: Packet): void {
    if (p.snapshot !== null) this.ends.transferEnded(p);
    if (this.isBlocked(p.from, p.to)) {
      this.parts.stats.partitionDrops++;
      return;
    }
    this.ends.receive(p);
  }

  /** Manual mode: deliver the in-flight packet at position `k` (modulo their number). */
  deliverInFlight(k: number): Packet | null {
    if (this.inFlight.length === 0) return null;
    const p = this.inFlight.splice(k % this.inFlight.length, 1)[0]!;
    this.deliver(p);
    return p;
  }

  /** Manual mode: lose the in-flight packet at position `k` (modulo their number). */
  dropInFlight(k: number): Packet | null {
    if (this.inFlight.length === 0) return null;
    const p = this.inFlight.splice(k % this.inFlight.length, 1)[0]!;
    if (p.snapshot !== null) {
      this.parts.stats.snapshotsLost++;
      this.ends.transferEnded(p);
    } else this.parts.stats.dropped++;
    return p;
  }

  /** Manual mode: send the in-flight packet at position `k` once more. */
  duplicateInFlight(k: number): Packet | null {
    if (this.inFlight.length === 0) return null;
    const p = this.inFlight[k % this.inFlight.length]!;
    this.inFlight.push(p);
    this.parts.stats.duplicates++;
    return p;
  }

  /**
   * Turn a manual network into an automatic one from now on: packets in flight are scheduled for
   * delivery with ordinary latency.
   */
  goAutomatic(): void {
    this.mode = 'auto';
    const packets = this.inFlight.splice(0);
    for (const p of packets) {
      this.parts.stats.sent--; // transmit counts it again
      this.transmit(p);
    }
  }

  /** Turn the faults (drop, dup, reorder, snapshot loss, slow nodes) off. */
  calm(): void {
    this.faults = new Set();
    this.slow.clear();
  }

  // ------------------------------------------------------------------------------------------
  // Partitions

  /** True when messages from `from` to `to` are cut. */
  isBlocked(from: string, to: string): boolean {
    return this.blocked.size > 0 && (this.blocked.get(from + '>' + to) ?? 0) > 0;
  }

  /**
   * Cut the links from every node of `a` to every node of `b` (and back, unless `oneWay`). Returns
   * the cut, to heal it alone with `healCut`.
   */
  cut(a: readonly string[], b: readonly string[], oneWay = false): string[] {
    const links: string[] = [];
    for (const x of a) {
      for (const y of b) {
        if (x === y) continue;
        links.push(x + '>' + y);
        if (!oneWay) links.push(y + '>' + x);
      }
    }
    for (const l of links) this.blocked.set(l, (this.blocked.get(l) ?? 0) + 1);
    this.parts.stats.partitions++;
    return links;
  }

  /** Heal one cut made by `cut`. */
  healCut(links: readonly string[]): void {
    for (const l of links) {
      const c = (this.blocked.get(l) ?? 0) - 1;
      if (c <= 0) this.blocked.delete(l);
      else this.blocked.set(l, c);
    }
  }

  /** Heal every cut. */
  heal(): void {
    this.blocked.clear();
  }

  /** True while some link is cut. */
  partitioned(): boolean {
    return this.blocked.size > 0;
  }
}
