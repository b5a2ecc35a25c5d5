/**
 * Executors: what carries out a node's effects once the runner (./runner.ts) took them from the
 * store — storage, timers, messages, applying committed entries.
 *
 * The runner and an executor meet at two small interfaces. The runner hands the executor
 * {@link RaftEffectBatch}es (one per take: the node's effects in canonical order, its state when
 * taken, and the commands of every append) and handles the outcomes (`readReady`, `rejected`, ...)
 * itself (the executor sees them too: the host runtime's halts on `fatal`). The executor calls back through a {@link RaftDriver}: a message arrived, a timer fired, the
 * node applied its log up to an index, the node's I/O failed. The runner turns those into Redux
 * actions.
 *
 * {@link createLocalExecutor} builds one from three ports: a {@link RaftStorage}, a
 * {@link RaftNetworkPort} and a {@link RaftClock}. With the in-memory ones everything runs
 * synchronously inside the dispatch that took the effects, so a test or a demo on a virtual clock is
 * deterministic. With asynchronous storage, each node's batches run one after the other, and a
 * batch's messages leave only once its writes resolved (the persistence rule).
 *
 * Snapshots are not carried out by the local executor: it takes none, and ignores `installSnapshot`
 * (which only a leader that installed a snapshot itself, by a `snapshotInstalled` event the
 * application stepped, can ask for). The host runtime's executor (`createHostExecutor`,
 * ./host-executor.ts) carries them out. The nodes' timers are the host runtime's (`NodeTimer`).
 *
 * This module imports only the core, the host runtime's timers and its siblings, and runs in browsers.
 */
import {
  forEachEntry,
  peersOf,
  type RaftAction,
  type RaftActions,
  type AppendEntries,
  type LogEntries,
  type Message,
  type RaftEvent,
  type RaftState,
  type TimerWait,
} from '../index.js';
import { seededRandom } from '../host/memory-transport.js';
import { NodeTimer } from '../host/timers.js';
import type { RaftClock } from './clock.js';
import type { RaftEndpoint, RaftNetworkPort, RaftPayloads } from './network.js';
import type { RaftCommandEntry } from './slice.js';
import type { MaybePromise, RaftPersisted, RaftStorage, RaftWrite } from './storage.js';

/** One take of a node's effects, for the executor. */
export interface RaftEffectBatch<Command> {
  /** The node's id. */
  readonly node: string;
  /** The node's state when the effects were taken: its log describes every entry they commit; `peersOf(state)` is who a broadcast goes to. */
  readonly state: RaftState;
  /**
   * The effects, in canonical order. The outcomes (`readReady`, `rejected`, `invalidEvent`, `fatal`,
   * `internalError`) are the runner's to handle; an executor may look at them, and carries out the rest.
   */
  readonly effects: RaftActions;
  /** For each `appendLog` in `effects`, in order: the commands of its entries (see `RaftPayloads`). */
  readonly appendPayloads: readonly RaftPayloads<Command>[];
}

/** What an executor calls back: the runner's side. None of these throws. */
export interface RaftDriver<Command> {
  /** True when node `id` is in this runner's store. */
  owns(id: string): boolean;
  /** The ids of the nodes in the store now. */
  nodes(): readonly string[];
  /** Node `id`'s state in the store now, or undefined when the store does not hold it. */
  state(id: string): RaftState | undefined;
  /** Step `event` on `node` (an event the executor produced, e.g. `snapshotInstalled`). */
  step(node: string, event: RaftEvent): void;
  /** A message from `from` arrived for `to`, with the commands of the entries it carries. */
  deliver(to: string, from: string, message: Message, payloads: RaftPayloads<Command>): void;
  /** The node's timer fired. */
  timeout(node: string): void;
  /** How far the node's application applied its log. */
  appliedIndex(node: string): number;
  /** The node applied its log up to `index`; `commands` are the commands newly applied. */
  applied(node: string, index: number, commands: readonly RaftCommandEntry<Command>[]): void;
  /** The node's I/O failed (a storage write threw or rejected, a payload was missing): it must stop. */
  failed(node: string, error: unknown): void;
}

/**
 * Carries out effects: the in-memory one ({@link createLocalExecutor}), or the host runtime's
 * (`createHostExecutor`, ./host-executor.ts).
 */
export interface RaftEffectsExecutor<Command> {
  /** Called once, by the runner, before anything else. */
  attach(driver: RaftDriver<Command>): void;
  /** Carry out a batch: arm the timer at once; then storage, committed entries, messages, in that order. */
  execute(batch: RaftEffectBatch<Command>): void;
  /** What `node` restarts from (its storage). */
  load(node: string): MaybePromise<RaftPersisted>;
  /** Cancel the node's timer and drop its queued work (it stopped, restarted or failed). */
  forget(node: string): void;
  /** Forget every node and lose the messages in flight (the state was rehydrated). */
  reset(): void;
  /** Stop for good: cancel every timer, disconnect from the network. */
  stop(): void;
}

/** Options of {@link createLocalExecutor}. */
export interface LocalExecutorOptions<Command> {
  /** Where the writes go. */
  storage: RaftStorage<Command>;
  /** Where the messages go. */
  network: RaftNetworkPort<Command>;
  /** The clock of the timers. Default the network's. */
  clock?: RaftClock;
  /** The heartbeat interval (one tick) in milliseconds. Default 50. */
  heartbeatMs?: number;
  /** The seed of the election timeouts' random draws. Default 1. */
  seed?: number;
}

/** True for a promise (or any thenable). */
export function isThenable<T>(x: MaybePromise<T>): x is PromiseLike<T> {
  return typeof x === 'object' && x !== null && typeof (x as { then?: unknown }).then === 'function';
}

/** `f(value)` now when `value` is not a promise, else once it resolves. */
function then<T, R>(value: MaybePromise<T>, f: (v: T) => MaybePromise<R>): MaybePromise<R> {
  return isThenable(value) ? Promise.resolve(value).then(f) : f(value);
}

/** One node's executor state. */
interface NodeWork<Command> {
  /** The node's timer (the host runtime's), made at its first `setTimer`; null before. */
  timer: NodeTimer | null;
  /** The election timeout the timer was made for, in ticks. */
  ticks: number;
  /** Incremented by `forget`: work of an older generation is dropped. */
  generation: number;
  /** True while a batch waits on a promise. */
  busy: boolean;
  /** Batches waiting for the busy one. */
  queue: RaftEffectBatch<Command>[];
}

/**
 * An executor over a storage, a network and a clock (see the module comment). Timers: `heartbeat`
 * waits `heartbeatMs`, `election` and `follower` a random `[1, 2) × electionTimeoutTicks ×
 * heartbeatMs`, drawn from `seed`.
 */
export function createLocalExecutor<Command>(options: LocalExecutorOptions<Command>): RaftEffectsExecutor<Command> {
  return new LocalExecutor(options);
}

class LocalExecutor<Command> implements RaftEffectsExecutor<Command> {
  private readonly storage: RaftStorage<Command>;
  private readonly network: RaftNetworkPort<Command>;
  private readonly clock: RaftClock;
  private readonly heartbeatMs: number;
  private readonly random: () => number;
  private readonly work = new Map<string, NodeWork<Command>>();
  private driver: RaftDriver<Command> | null = null;
  private disconnect: (() => void) | null = null;

  constructor(options: LocalExecutorOptions<Command>) {
    this.storage = options.storage;
    this.network = options.network;
    this.clock = options.clock ?? options.network.clock;
    this.heartbeatMs = options.heartbeatMs ?? 50;
    if (!(this.heartbeatMs > 0) || !Number.isFinite(this.heartbeatMs)) {
      throw new RangeError('heartbeatMs must be a positive number');
    }
    this.random = seededRandom(options.seed ?? 1);
  }

  attach(driver: RaftDriver<Command>): void {
    if (this.driver !== null) throw new Error('this executor is already attached to a runner');
    this.driver = driver;
    const endpoint: RaftEndpoint<Command> = {
      owns: (id) => driver.owns(id),
      deliver: (to, from, message, payloads) => driver.deliver(to, from, message, payloads),
    };
    this.disconnect = this.network.connect(endpoint);
  }

  execute(batch: RaftEffectBatch<Command>): void {
    const w = this.of(batch.node);
    for (const a of batch.effects) if (a.type === 'setTimer') this.arm(batch.node, w, a.wait, batch.state);
    if (w.busy) w.queue.push(batch);
    else this.run(batch, w);
  }

  load(node: string): MaybePromise<RaftPersisted> {
    return this.storage.load(node);
  }

  forget(node: string): void {
    const w = this.work.get(node);
    if (w === undefined) return;
    w.timer?.cancel();
    w.timer = null;
    w.generation++;
    w.busy = false;
    w.queue = [];
  }

  reset(): void {
    for (const node of this.work.keys()) this.forget(node);
    const net = this.network as Partial<{ clear(): void }>;
    if (typeof net.clear === 'function') net.clear();
  }

  stop(): void {
    for (const node of this.work.keys()) this.forget(node);
    this.disconnect?.();
    this.disconnect = null;
  }

  private of(node: string): NodeWork<Command> {
    let w = this.work.get(node);
    if (w === undefined) {
      w = { timer: null, ticks: 0, generation: 0, busy: false, queue: [] };
      this.work.set(node, w);
    }
    return w;
  }

  /** Re-arm the node's timer for `wait` (the election timeout of `state`'s options). */
  private arm(node: string, w: NodeWork<Command>, wait: TimerWait, state: RaftState): void {
    const ticks = state.options.electionTimeoutTicks;
    if (w.timer === null || w.ticks !== ticks) {
      w.timer?.cancel();
      w.ticks = ticks;
      w.timer = new NodeTimer(this.clock, this.heartbeatMs, ticks, this.random, () => this.driver!.timeout(node));
    }
    w.timer.arm(wait);
  }

  /** Carry out one batch; when it waits on a promise, the node's later batches queue behind it. */
  private run(batch: RaftEffectBatch<Command>, w: NodeWork<Command>): void {
    const generation = w.generation;
    const live = () => w.generation === generation;
    let result: MaybePromise<void>;
    try {
      result = then(this.write(batch), () =>
        live() ? then(this.applyCommitted(batch), () => (live() ? this.send(batch) : undefined)) : undefined,
      );
    } catch (e) {
      this.fail(batch.node, e);
      return;
    }
    if (!isThenable(result)) return;
    w.busy = true;
    result.then(
      () => {
        if (!live()) return;
        w.busy = false;
        const next = w.queue.shift();
        if (next !== undefined) this.run(next, w);
      },
      (e: unknown) => {
        if (live()) this.fail(batch.node, e);
      },
    );
  }

  private fail(node: string, error: unknown): void {
    this.forget(node);
    this.driver!.failed(node, error);
  }

  /** The batch's storage actions as one write (nothing to wait for when there are none). */
  private write(batch: RaftEffectBatch<Command>): MaybePromise<void> {
    const writes: RaftWrite<Command>[] = [];
    let k = 0;
    for (const a of batch.effects) {
      if (a.type === 'saveHardState') writes.push({ kind: 'hardState', term: a.term, votedFor: a.votedFor });
      else if (a.type === 'compactLog') writes.push({ kind: 'compact', term: a.term, index: a.index });
      else if (a.type === 'appendLog')
        writes.push({ kind: 'append', entries: a.entries, payloads: batch.appendPayloads[k++]! });
    }
    return writes.length === 0 ? undefined : this.storage.write(batch.node, writes);
  }

  /** On `commitAdvanced`: read the commands newly committed and report them applied. */
  private applyCommitted(batch: RaftEffectBatch<Command>): MaybePromise<void> {
    const commit = findCommit(batch.effects);
    if (commit === null) return;
    const driver = this.driver!;
    const node = batch.node;
    const log = batch.state.log;
    const from = Math.max(driver.appliedIndex(node), log.prevIndex) + 1;
    const to = Math.min(commit, log.lastIndex);
    if (to < from) return;
    return then(this.storage.payloads(node, from - 1, to), (payloads) => {
      const commands: RaftCommandEntry<Command>[] = [];
      let missing = -1;
      forEachEntry(log, from, to, (index, _term, kind) => {
        if (kind !== 'command') return;
        const command = payloads[index - from];
        if (command === undefined) {
          if (missing < 0) missing = index;
        } else commands.push({ index, command });
      });
      if (missing >= 0) throw new Error(`raftEffects: no command stored for the entry at index ${missing} of ${node}`);
      driver.applied(node, to, commands);
    });
  }

  /** Send the batch's messages, AppendEntries with the commands of their entries. */
  private send(batch: RaftEffectBatch<Command>): MaybePromise<void> {
    const out: { to: string; message: Message }[] = [];
    for (const a of batch.effects) {
      if (a.type === 'broadcast') for (const to of peersOf(batch.state)) out.push({ to, message: a.message });
      else if (a.type === 'send') out.push({ to: a.to, message: a.message });
    }
    if (out.length === 0) return;
    const reads = new Map<LogEntries, MaybePromise<RaftPayloads<Command>>>();
    let waiting = false;
    for (const { message } of out) {
      if (message.type !== 'appendEntries' || reads.has(message.entries)) continue;
      const e = (message as AppendEntries).entries;
      const r = e.lastIndex > e.prevIndex ? this.storage.payloads(batch.node, e.prevIndex, e.lastIndex) : [];
      if (isThenable(r)) waiting = true;
      reads.set(e, r);
    }
    const sendAll = (resolved: Map<LogEntries, RaftPayloads<Command>>): void => {
      for (const { to, message } of out) {
        const payloads = message.type === 'appendEntries' ? resolved.get(message.entries)! : NO_PAYLOADS;
        this.network.send(batch.node, to, message, payloads);
      }
    };
    if (!waiting) {
      sendAll(reads as Map<LogEntries, RaftPayloads<Command>>);
      return;
    }
    const keys = [...reads.keys()];
    return Promise.all(keys.map((k) => Promise.resolve(reads.get(k)!))).then((values) => {
      sendAll(new Map(keys.map((k, i) => [k, values[i]!])));
    });
  }
}

/** The payloads of a message that carries no entries. */
const NO_PAYLOADS: RaftPayloads<never> = Object.freeze([]);

/** The commit index a batch's `commitAdvanced` announces, or null. */
function findCommit(effects: readonly RaftAction[]): number | null {
  for (const a of effects) if (a.type === 'commitAdvanced') return a.commitIndex;
  return null;
}
