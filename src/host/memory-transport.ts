/**
 * An in-process network of transports, for tests and browsers: `createMemoryNetwork()` returns a hub,
 * `hub.transport(id)` the `Transport` of node `id`. Frames are copied at `send` and delivered later
 * (by default in a microtask), in send order for each (sender, receiver) pair.
 *
 * Test controls on the hub: `partition(a, b)`, `isolate(id)`, `heal()`, and a drop probability drawn
 * from a random function the caller passes in (seeded, so a run replays; nothing here calls
 * `Math.random`). A closed transport drops everything: its sends are refused, and frames in flight
 * to or from it are lost.
 *
 * Routing is by node id: the addresses given to `setPeers` are ignored (`memoryPeers` builds a peer
 * set), but the peer set still decides which ids `send` accepts, as with TCP.
 */
import { Links } from './links.js';
import {
  DEFAULT_MAX_FRAME_BYTES,
  emptyTransportStats,
  type Deliver,
  type PeerAddress,
  type Transport,
  type TransportStats,
} from './transport.js';

/** The placeholder address `memoryPeers` gives every peer; the in-process transport ignores addresses. */
export const MEMORY_ADDRESS: PeerAddress = Object.freeze({ host: 'memory', port: 0 });

/** A peer set for the in-process transport: each id mapped to `MEMORY_ADDRESS`. */
export function memoryPeers(ids: readonly string[]): Record<string, PeerAddress> {
  const peers: Record<string, PeerAddress> = {};
  for (const id of ids) peers[id] = MEMORY_ADDRESS;
  return peers;
}

/**
 * A small seeded generator of uniform numbers in [0, 1) (mulberry32), for `dropProbability`: the same
 * seed gives the same sequence, in Node and in browsers. `seed` is any integer (taken modulo 2^32).
 */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Options of `createMemoryNetwork`; every field is optional. */
export interface MemoryNetworkOptions {
  /**
   * Runs a delivery later. Default `queueMicrotask`; `(task) => setTimeout(task, 0)` lets timers
   * interleave with deliveries. Any scheduler works, even one that reorders tasks: each task delivers
   * the oldest frame still in flight on its (sender, receiver) pair, so per-pair order holds anyway.
   */
  schedule?: (task: () => void) => void;
  /** Largest frame `send` accepts, in bytes (a positive integer). Default 16 MiB, as TCP. */
  maxFrameBytes?: number;
  /** Probability in [0, 1] that the network loses an accepted frame. Default 0. Needs `random` when above 0. */
  dropProbability?: number;
  /** Uniform numbers in [0, 1), consulted once per accepted frame while `dropProbability` > 0 (e.g. `seededRandom(seed)`). */
  random?: () => number;
}

/** The hub's own counters: what happened to frames after `send` accepted them. */
export interface MemoryNetworkStats {
  /** Frames handed to a receiver's `deliver`. */
  delivered: number;
  /** Frames accepted by `send` and lost: dropped at random, partitioned, or the sender or receiver closed or not started. */
  lost: number;
  /** Frames accepted and not yet delivered or lost. */
  inFlight: number;
}

/** The in-process transport of one node. */
export interface MemoryTransport extends Transport {
  /** The node id this transport sends as and receives for. */
  readonly id: string;
  /** True once `close` was called. */
  readonly closed: boolean;
}

/** An in-process network: makes the nodes' transports, and cuts and heals links between them. */
export interface MemoryNetwork {
  /**
   * The transport of node `id`, with no peers yet (call `setPeers`). Throws a TypeError for an id that
   * is not a non-empty string, and an Error while an open transport for `id` exists; after that one
   * is closed, a new one may be made (a restarted node). Frames in flight to the old one are lost.
   */
  transport(id: string): MemoryTransport;
  /** Cut the link between `a` and `b`, both directions; frames in flight between them are lost. */
  partition(a: string, b: string): void;
  /** Cut `id` off from every other node, both directions (its frames to itself still pass). */
  isolate(id: string): void;
  /** Undo every `partition` and `isolate`. */
  heal(): void;
  /** True when a frame from `from` can currently reach `to` (no partition or isolation between them). */
  connected(from: string, to: string): boolean;
  /** Change the probability of losing a frame; `random` replaces the random function when given. Throws a RangeError for p outside [0, 1], a TypeError when p > 0 and there is no random function. */
  setDropProbability(p: number, random?: () => number): void;
  /** The hub's counters (a fresh copy). */
  stats(): MemoryNetworkStats;
}

/** A frame on its way, with the transports that sent it and that should receive it (a closed one loses it). */
interface InFlight {
  readonly sender: MemoryTransportImpl;
  /** The receiver's transport when the frame was sent; undefined when it had none. */
  readonly receiver: MemoryTransportImpl | undefined;
  readonly frame: Uint8Array;
}

/** The frames in flight on one (sender, receiver) pair, oldest first. */
class PairQueue {
  private items: InFlight[] = [];
  private head = 0;

  /** Add a frame at the back. */
  push(item: InFlight): void {
    this.items.push(item);
  }

  /** Remove and return the oldest frame; undefined when empty. */
  shift(): InFlight | undefined {
    if (this.head >= this.items.length) return undefined;
    const item = this.items[this.head]!;
    this.head++;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    }
    return item;
  }
}

/** Validate a probability; throws a RangeError otherwise. */
function checkProbability(p: number): void {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new RangeError('dropProbability must be a number in [0, 1]');
}

/** True for a node id: a non-empty string. */
function isId(x: unknown): x is string {
  return typeof x === 'string' && x.length > 0;
}

/** Create an in-process network (see the module comment). Throws on invalid options. */
export function createMemoryNetwork(options: MemoryNetworkOptions = {}): MemoryNetwork {
  return new MemoryNetworkImpl(options);
}

/** The hub behind `createMemoryNetwork`. */
class MemoryNetworkImpl implements MemoryNetwork {
  /** The open (or last) transport of each id. */
  private readonly nodes = new Map<string, MemoryTransportImpl>();
  /** For each id, the ids it is partitioned from (kept symmetric). */
  private readonly links = new Links();
  /** Frames in flight per sender, then per receiver. */
  private readonly pairs = new Map<string, Map<string, PairQueue>>();
  private readonly schedule: (task: () => void) => void;
  /** Largest frame accepted by `send`. */
  readonly maxFrameBytes: number;
  private dropProbability = 0;
  private random: (() => number) | undefined;
  private readonly counters: MemoryNetworkStats = { delivered: 0, lost: 0, inFlight: 0 };

  constructor(options: MemoryNetworkOptions) {
    this.schedule = options.schedule ?? queueMicrotask;
    const max = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    if (!Number.isSafeInteger(max) || max < 1) throw new RangeError('maxFrameBytes must be a positive integer');
    this.maxFrameBytes = max;
    this.setDropProbability(options.dropProbability ?? 0, options.random);
  }

  transport(id: string): MemoryTransport {
    if (!isId(id)) throw new TypeError('transport: id must be a non-empty string');
    const existing = this.nodes.get(id);
    if (existing !== undefined && !existing.closed)
      throw new Error(`transport: node ${id} already has an open transport`);
    const t = new MemoryTransportImpl(id, this);
    this.nodes.set(id, t);
    return t;
  }

  partition(a: string, b: string): void {
    this.links.partition(a, b);
  }

  isolate(id: string): void {
    this.links.isolate(id);
  }

  heal(): void {
    this.links.heal();
  }

  connected(from: string, to: string): boolean {
    return this.links.connected(from, to);
  }

  setDropProbability(p: number, random?: () => number): void {
    checkProbability(p);
    const r = random ?? this.random;
    if (p > 0 && typeof r !== 'function') throw new TypeError('a drop probability above 0 needs a random function');
    this.dropProbability = p;
    this.random = r;
  }

  stats(): MemoryNetworkStats {
    return { ...this.counters };
  }

  /** Put an accepted frame on the network: lose it at random, or schedule its delivery. */
  carry(sender: MemoryTransportImpl, to: string, frame: Uint8Array): void {
    if (this.dropProbability > 0 && this.random!() < this.dropProbability) {
      this.counters.lost++;
      return;
    }
    this.queueFor(sender.id, to).push({ sender, receiver: this.nodes.get(to), frame });
    this.counters.inFlight++;
    this.schedule(() => this.deliverOldest(sender.id, to));
  }

  /** Deliver the oldest frame in flight from `from` to `to`, or lose it if it can no longer arrive. */
  private deliverOldest(from: string, to: string): void {
    const item = this.pairs.get(from)?.get(to)?.shift();
    if (item === undefined) return;
    this.counters.inFlight--;
    const receiver = item.receiver;
    if (item.sender.closed || !this.connected(from, to) || receiver === undefined || !receiver.canReceive()) {
      this.counters.lost++;
      return;
    }
    this.counters.delivered++;
    receiver.receive(from, item.frame);
  }

  /** The in-flight queue of one pair, created on first use. */
  private queueFor(from: string, to: string): PairQueue {
    let byReceiver = this.pairs.get(from);
    if (byReceiver === undefined) {
      byReceiver = new Map();
      this.pairs.set(from, byReceiver);
    }
    let q = byReceiver.get(to);
    if (q === undefined) {
      q = new PairQueue();
      byReceiver.set(to, q);
    }
    return q;
  }
}

/** One node's in-process transport. */
class MemoryTransportImpl implements MemoryTransport {
  private deliverFn: Deliver | null = null;
  private peers = new Set<string>();
  private isClosed = false;
  private startCalled = false;
  private readonly counters: TransportStats = emptyTransportStats();

  constructor(
    readonly id: string,
    private readonly network: MemoryNetworkImpl,
  ) {}

  get closed(): boolean {
    return this.isClosed;
  }

  start(deliver: Deliver): Promise<void> {
    if (typeof deliver !== 'function') return Promise.reject(new TypeError('start: deliver must be a function'));
    if (this.isClosed) return Promise.reject(new Error('start: transport is closed'));
    if (this.startCalled) return Promise.reject(new Error('start: already started'));
    this.startCalled = true;
    this.deliverFn = deliver;
    return Promise.resolve();
  }

  send(to: string, frame: Uint8Array): boolean {
    if (
      this.isClosed ||
      !this.peers.has(to) ||
      !(frame instanceof Uint8Array) ||
      frame.length > this.network.maxFrameBytes
    ) {
      this.counters.framesDropped++;
      return false;
    }
    this.counters.framesSent++;
    this.counters.bytesSent += frame.length;
    this.network.carry(this, to, frame.slice());
    return true;
  }

  setPeers(peers: Readonly<Record<string, PeerAddress>>): void {
    if (peers === null || typeof peers !== 'object') throw new TypeError('setPeers: peers must be an object');
    const ids = Object.keys(peers);
    if (!ids.every(isId)) throw new TypeError('setPeers: peer ids must be non-empty strings');
    this.peers = new Set(ids);
  }

  close(): Promise<void> {
    this.isClosed = true;
    this.deliverFn = null;
    return Promise.resolve();
  }

  stats(): TransportStats {
    return { ...this.counters };
  }

  /** True when started and not closed: frames can be delivered. */
  canReceive(): boolean {
    return this.deliverFn !== null;
  }

  /** Hand a frame to `deliver`; call only when `canReceive()`. */
  receive(from: string, frame: Uint8Array): void {
    this.counters.framesReceived++;
    this.counters.bytesReceived += frame.length;
    this.deliverFn!(from, frame);
  }
}
