/**
 * An in-memory network for the effects runner, for tests and demos: messages (with the command
 * payloads of the entries they carry) travel as objects, each delivered after a latency drawn from a
 * seeded random function, on the network's clock. Links can be cut (`partition`, `isolate`) and
 * healed, and frames dropped at random; a message whose link is cut when it is sent or when it
 * arrives is lost. Messages between two nodes arrive in the order they were sent (as over TCP).
 *
 * Several stores can share one network (one node per store, peers in other stores): each runner
 * connects an endpoint, and a message goes to the endpoint that owns its destination.
 *
 * Nothing is copied: messages and payloads are immutable values (the messages come frozen out of
 * the Redux state), and the application must not modify its commands after proposing them.
 *
 * This module imports only the core (types) and runs in browsers.
 */
import { Links } from '../host/links.js';
import type { Message } from '../index.js';
import { seededRandom } from '../host/memory-transport.js';
import { systemClock, type RaftClock } from './clock.js';

/**
 * The commands of the entries an AppendEntries carries, aligned with its entries: element `k` is
 * the command of index `entries.prevIndex + 1 + k`, undefined for an entry that holds no command (a
 * term start or a configuration). Empty for every other message.
 */
export type RaftPayloads<Command> = readonly (Command | undefined)[];

/** Where a network delivers: one store's runner. */
export interface RaftEndpoint<Command> {
  /** True when node `id` lives behind this endpoint. */
  owns(id: string): boolean;
  /** A message from `from` arrived for node `to` (which this endpoint owns). Must not throw. */
  deliver(to: string, from: string, message: Message, payloads: RaftPayloads<Command>): void;
}

/**
 * What the effects runner needs of a network: send, and a way to be told of arrivals. The in-memory
 * network implements it; an adapter over the host runtime's `Transport` can too (encode the message
 * and its payloads into a frame at `send`, decode and call `deliver` on arrival).
 */
export interface RaftNetworkPort<Command> {
  /** The clock the network schedules deliveries on (the runner arms its timers on it too). */
  readonly clock: RaftClock;
  /** Connect an endpoint; returns the function that disconnects it. */
  connect(endpoint: RaftEndpoint<Command>): () => void;
  /** Send `message` from `from` to `to`, with its payloads. Never throws; a message may be lost. */
  send(from: string, to: string, message: Message, payloads: RaftPayloads<Command>): void;
}

/** Options of {@link createRaftNetwork}; every field is optional. */
export interface RaftNetworkOptions {
  /** The clock deliveries are scheduled on. Default {@link systemClock}; use a virtual clock in tests. */
  clock?: RaftClock;
  /**
   * The latency of one message in milliseconds: a number, or `[min, max]` for a uniform draw (from
   * `seed`) per message. Default `[1, 5]`.
   */
  latencyMs?: number | readonly [min: number, max: number];
  /** The probability in [0, 1] that a message is lost. Default 0. */
  dropProbability?: number;
  /** The seed of the latency and drop draws (any integer). Default 1. */
  seed?: number;
}

/** The counters of an in-memory network. */
export interface RaftNetworkStats {
  /** Messages handed to `send`. */
  sent: number;
  /** Messages delivered to an endpoint. */
  delivered: number;
  /** Messages lost: dropped at random, cut off by a partition, or sent to a node no endpoint owns. */
  lost: number;
  /** Messages sent and not yet delivered or lost. */
  inFlight: number;
}

/** The in-memory network: a {@link RaftNetworkPort} with test controls. */
export interface RaftNetwork<Command = unknown> extends RaftNetworkPort<Command> {
  /** Cut the link between `a` and `b`, both directions; messages in flight between them are lost. */
  partition(a: string, b: string): void;
  /** Cut `id` off from every other node, both directions. */
  isolate(id: string): void;
  /** Undo every `partition` and `isolate`. */
  heal(): void;
  /** True when a message from `from` can currently reach `to`. */
  connected(from: string, to: string): boolean;
  /** Change the probability of losing a message (a RangeError outside [0, 1]). */
  setDropProbability(p: number): void;
  /** Lose every message in flight (after a state is rehydrated: they belong to a past the nodes no longer have). */
  clear(): void;
  /** The counters (a fresh copy). */
  stats(): RaftNetworkStats;
}

/** Create an in-memory network (see the module comment). Throws a RangeError on invalid options. */
export function createRaftNetwork<Command = unknown>(options: RaftNetworkOptions = {}): RaftNetwork<Command> {
  return new MemoryNetwork<Command>(options);
}

/** A message on its way. */
interface InFlight<Command> {
  readonly from: string;
  readonly to: string;
  readonly message: Message;
  readonly payloads: RaftPayloads<Command>;
  /** The network's epoch when sent: `clear` moves to a new epoch, losing older messages. */
  readonly epoch: number;
}

function checkProbability(p: number): void {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new RangeError('dropProbability must be a number in [0, 1]');
}

function checkLatency(ms: number): void {
  if (typeof ms !== 'number' || !(ms >= 0) || !Number.isFinite(ms)) {
    throw new RangeError('latencyMs must be finite and non-negative');
  }
}

class MemoryNetwork<Command> implements RaftNetwork<Command> {
  readonly clock: RaftClock;
  private readonly endpoints: RaftEndpoint<Command>[] = [];
  private readonly links = new Links();
  /** The latest delivery time per `from → to` pair, so that a pair's messages never overtake. */
  private readonly lastDue = new Map<string, number>();
  private readonly minLatency: number;
  private readonly maxLatency: number;
  private readonly random: () => number;
  private dropProbability: number;
  private epoch = 0;
  private readonly counters: RaftNetworkStats = { sent: 0, delivered: 0, lost: 0, inFlight: 0 };

  constructor(options: RaftNetworkOptions) {
    this.clock = options.clock ?? systemClock;
    const latency = options.latencyMs ?? [1, 5];
    const [min, max] = typeof latency === 'number' ? [latency, latency] : latency;
    checkLatency(min);
    checkLatency(max);
    if (max < min) throw new RangeError('latencyMs: max must not be below min');
    this.minLatency = min;
    this.maxLatency = max;
    this.dropProbability = options.dropProbability ?? 0;
    checkProbability(this.dropProbability);
    this.random = seededRandom(options.seed ?? 1);
  }

  connect(endpoint: RaftEndpoint<Command>): () => void {
    this.endpoints.push(endpoint);
    return () => {
      const k = this.endpoints.indexOf(endpoint);
      if (k >= 0) this.endpoints.splice(k, 1);
    };
  }

  send(from: string, to: string, message: Message, payloads: RaftPayloads<Command>): void {
    this.counters.sent++;
    if (!this.connected(from, to) || (this.dropProbability > 0 && this.random() < this.dropProbability)) {
      this.counters.lost++;
      return;
    }
    const latency =
      this.maxLatency === this.minLatency
        ? this.minLatency
        : this.minLatency + this.random() * (this.maxLatency - this.minLatency);
    const now = this.clock.now();
    const pair = from + '\u0000' + to;
    const due = Math.max(now + latency, this.lastDue.get(pair) ?? 0);
    this.lastDue.set(pair, due);
    const item: InFlight<Command> = { from, to, message, payloads, epoch: this.epoch };
    this.counters.inFlight++;
    this.clock.setTimeout(() => this.arrive(item), due - now);
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

  setDropProbability(p: number): void {
    checkProbability(p);
    this.dropProbability = p;
  }

  clear(): void {
    this.epoch++;
  }

  stats(): RaftNetworkStats {
    return { ...this.counters };
  }

  private arrive(item: InFlight<Command>): void {
    this.counters.inFlight--;
    const endpoint = this.endpoints.find((e) => e.owns(item.to));
    if (item.epoch !== this.epoch || !this.connected(item.from, item.to) || endpoint === undefined) {
      this.counters.lost++;
      return;
    }
    this.counters.delivered++;
    endpoint.deliver(item.to, item.from, item.message, item.payloads);
  }
}
