/**
 * The host executor of `raftEffects`: every node of the store carried out by the host runtime's node
 * executor (`createNodeExecutor` of `raftstep/host`) over any `Storage` and `Transport` —
 * `MemoryStorage` and `createMemoryNetwork` in tests and browsers, `FileStorage` and `TcpTransport`
 * (`raftstep/node`) in a real process. Everything `createHost` does between two steps happens here
 * too: one durable write per batch before the messages that depend on it, payloads in envelopes,
 * randomized timers, snapshots taken by a policy and streamed in chunks, halting on failure.
 *
 * The store's reducer still does all the stepping: what a node executor hands over to step — a
 * peer's message (its commands decoded with the codec), a timeout, a snapshot to install — is
 * dispatched as a `stepped` action, and the commands it applies as `applied` actions. The Redux
 * action log stays the complete, replayable record; the effects never enter it.
 *
 * Node lifetimes. A node is opened — `storage(id)` called and loaded, then `transport(id)` called
 * and started, its effects waiting meanwhile — when the runner attaches (every node the store
 * holds), when a node the executor does not know yet has effects (a `started` node), and by
 * `restart` (what `load()` gives is what the node restarts from). Opening a node again waits until
 * its previous instance closed; `storage(id)` must then give the node's storage again (e.g.
 * `MemoryStorage`'s `reopened()`, `FileStorage.open` of the same directory). A node is closed — its transport
 * and storage closed — when it stops, fails or restarts, and when the store is rehydrated (then
 * reopened at its next effects, with the applied index of the rehydrated state: persist the storage
 * with the state). A node of the store's state must have storage that matches it: empty for a node
 * the slice started, as of the same moment for a rehydrated one; otherwise restart it from its
 * storage (`effects.restart(id)`).
 *
 * Snapshots need the application's help, since its state machine lives in the store: give
 * `snapshots` (take the node's state machine as bytes; restore it, by dispatching an action of your
 * own) and the runtime's policy takes snapshots and installs the leader's; without it no snapshot is
 * taken, and a node that must install one fails.
 *
 * This module imports only the core, the host runtime and its siblings, and runs in browsers.
 */
import { EMPTY_CONFIG, MESSAGE_TYPES, forEachEntry, type Message, type RaftEvent, type RaftState } from '../index.js';
import { checkOptions, type HostOptions } from '../host/api.js';
import { messageOf, type HaltInfo } from '../host/errors.js';
import {
  createNodeExecutor,
  type ExecutorMachine,
  type NodeExecutor,
  type PayloadSource,
} from '../host/node-executor.js';
import { jsonCodec, type CommandCodec } from '../host/state-machine.js';
import type { Storage, StoredNode, StoredSnapshot } from '../host/storage.js';
import type { HostClock } from '../host/timers.js';
import type { Transport } from '../host/transport.js';
import type { RaftDriver, RaftEffectBatch, RaftEffectsExecutor } from './executor.js';
import type { RaftPayloads } from './network.js';
import type { RaftCommandEntry } from './slice.js';
import type { RaftPersisted } from './storage.js';

/** How the host executor takes and restores the snapshots of a node's state machine, which lives in the store. */
export interface RaftSnapshotHooks {
  /**
   * The state machine of `node`, as bytes: its state once every command up to the node's applied
   * index is applied (read it from the store; called right after an `applied` action). Throwing
   * fails the node.
   */
  take(node: string): Uint8Array;
  /**
   * Replace the state machine of `node` with `data`, the snapshot at log `index`: dispatch an action
   * of your own that your state machine's reducer handles. Called when a node installs a leader's
   * snapshot (then an `applied` action at `index` follows) and when a node restarts from a stored
   * snapshot (after its `restarted` action). Throwing fails the node.
   */
  restore(node: string, data: Uint8Array, index: number): void;
}

/** Options of {@link createHostExecutor}. `storage` and `transport` are required. */
export interface RaftHostExecutorOptions<Command> {
  /**
   * The storage of node `id` (one per node: e.g. a `MemoryStorage`; `FileStorage.open(dir)`, a
   * promise, fits as is), not loaded; called each time the node is opened (see the module comment).
   * The executor owns it until the node closes. Throwing (or rejecting) fails the node.
   */
  storage(id: string): Storage | PromiseLike<Storage>;
  /**
   * The transport of node `id`, not started (e.g. `network.transport(id)` of a memory network, a
   * `TcpTransport`); called each time the node is opened, after the previous one was closed.
   */
  transport(id: string): Transport;
  /** How commands become the bytes the storage and the transport carry. Default JSON (`jsonCodec`). */
  codec?: CommandCodec<Command>;
  /**
   * The runtime's tuning, as `createHost` takes it (`heartbeatMs`, `snapshot`, `peerAddresses`,
   * frame and chunk sizes, ...). The election timeout is each node's own (`electionTimeoutTicks` of
   * its options in the store). Without `snapshots`, the snapshot policy is `{}` (never). A RangeError
   * when an option is out of range.
   */
  options?: HostOptions;
  /** The clock of the timers. Default the runtime's (`SYSTEM_CLOCK`); a virtual clock in tests. */
  clock?: HostClock;
  /** Uniform numbers in [0, 1) for the election timeouts. Default `Math.random`; seeded in tests. */
  random?: () => number;
  /** Snapshot taking and restoring (see {@link RaftSnapshotHooks}); without it, no snapshots. */
  snapshots?: RaftSnapshotHooks;
}

/**
 * An executor for `raftEffects` (its `executor` option, or its `host` option, which calls this)
 * that runs each node through the host runtime (see the module comment). Throws a RangeError for an
 * option out of range, a TypeError when `storage` or `transport` is not a function.
 */
export function createHostExecutor<Command>(options: RaftHostExecutorOptions<Command>): RaftEffectsExecutor<Command> {
  if (typeof options?.storage !== 'function' || typeof options.transport !== 'function') {
    throw new TypeError('createHostExecutor: storage and transport must be functions of a node id');
  }
  checkOptions(options.options, 'createHostExecutor');
  return new HostExecutor(options);
}

/** An entry-less message's commands. */
const NO_COMMANDS: RaftPayloads<never> = Object.freeze([]);

/** True for an event that is a peer's message. */
function isMessage(event: RaftEvent): event is Message {
  return (MESSAGE_TYPES as readonly string[]).includes(event.type);
}

/** What a node restarts from, as the slice's `restarted` action carries it. */
function persistedOf(stored: StoredNode): RaftPersisted {
  return {
    term: stored.hardState.term,
    votedFor: stored.hardState.votedFor,
    log: stored.log,
    snapshotConfig: stored.snapshot?.config ?? EMPTY_CONFIG,
  };
}

class HostExecutor<Command> implements RaftEffectsExecutor<Command> {
  private driver: RaftDriver<Command> | null = null;
  private readonly nodes = new Map<string, HostedNode<Command>>();
  /** Nodes closing: opening one again waits for this. */
  private readonly closing = new Map<string, Promise<void>>();
  private readonly codec: CommandCodec<Command>;
  private stopped = false;

  constructor(private readonly options: RaftHostExecutorOptions<Command>) {
    this.codec = options.codec ?? jsonCodec<Command>();
  }

  attach(driver: RaftDriver<Command>): void {
    if (this.driver !== null) throw new Error('this executor is already attached to a runner');
    this.driver = driver;
    for (const id of driver.nodes()) this.open(id);
  }

  execute(batch: RaftEffectBatch<Command>): void {
    if (this.stopped || this.driver === null) return;
    const node = this.nodes.get(batch.node) ?? this.open(batch.node);
    node.execute(batch);
  }

  async load(id: string): Promise<RaftPersisted> {
    if (this.stopped || this.driver === null) throw new Error('raftEffects: the host executor is stopped');
    await this.closing.get(id);
    const storage = await this.options.storage(id);
    let stored: StoredNode;
    try {
      stored = await storage.load();
    } catch (e) {
      await storage.close().catch(() => undefined);
      throw e;
    }
    const node = this.hosted(id);
    this.forget(id);
    this.nodes.set(id, node);
    node.prepare(storage, stored.snapshot);
    return persistedOf(stored);
  }

  forget(id: string): void {
    const node = this.nodes.get(id);
    if (node === undefined) return;
    this.nodes.delete(id);
    const closed = node.close();
    this.closing.set(id, closed);
    void closed.then(() => {
      if (this.closing.get(id) === closed) this.closing.delete(id);
    });
  }

  reset(): void {
    for (const id of [...this.nodes.keys()]) this.forget(id);
  }

  stop(): void {
    this.stopped = true;
    this.reset();
  }

  /**
   * Open node `id`: its batches wait while its previous instance closes and its storage loads
   * (`load()` must complete before a write), then it starts with its state in the store then.
   */
  private open(id: string): HostedNode<Command> {
    const node = this.hosted(id);
    this.nodes.set(id, node);
    void this.startWhenLoaded(id, node);
    return node;
  }

  private async startWhenLoaded(id: string, node: HostedNode<Command>): Promise<void> {
    await this.closing.get(id);
    if (this.nodes.get(id) !== node) return;
    const driver = this.driver!;
    let storage: Storage | undefined;
    try {
      storage = await this.options.storage(id);
      await storage.load();
    } catch (e) {
      void storage?.close().catch(() => undefined);
      if (this.nodes.get(id) === node) driver.failed(id, new Error(`node ${id}: storage load failed: ${messageOf(e)}`));
      return;
    }
    const state = driver.state(id);
    if (state === undefined) this.forget(id); // gone from the store meanwhile: start closes the storage
    node.start(storage, state ?? null, null, driver.appliedIndex(id));
  }

  private hosted(id: string): HostedNode<Command> {
    return new HostedNode(id, this.options, this.codec, this.driver!);
  }
}

/** One opened node: its node executor, and the batches that wait for it to start. */
class HostedNode<Command> {
  private executor: NodeExecutor | null = null;
  private waiting: RaftEffectBatch<Command>[] = [];
  /** A restart's loaded storage: the executor starts at the first batch (the `restarted` state's). */
  private prepared: { storage: Storage; snapshot: StoredSnapshot | null } | null = null;
  /** The commands applied since the last `applied` action. */
  private commands: RaftCommandEntry<Command>[] = [];
  /** A stored snapshot to restore the state machine from at the first effects (after `restarted`). */
  private restoreFirst: StoredSnapshot | null = null;
  private closed = false;

  constructor(
    readonly id: string,
    private readonly options: RaftHostExecutorOptions<Command>,
    private readonly codec: CommandCodec<Command>,
    private readonly driver: RaftDriver<Command>,
  ) {}

  /** Start at the first batch, over `storage` (loaded; `snapshot` its stored one): a restart. */
  prepare(storage: Storage, snapshot: StoredSnapshot | null): void {
    this.prepared = { storage, snapshot };
  }

  /** Start the node executor over `storage` (loaded or being loaded) and a new transport, then run the waiting batches. */
  start(storage: Storage, state: RaftState | null, snapshot: StoredSnapshot | null, applied: number): void {
    if (this.closed || state === null) {
      void storage.close().catch(() => undefined);
      return;
    }
    let transport: Transport;
    try {
      transport = this.options.transport(this.id);
    } catch (e) {
      void storage.close().catch(() => undefined);
      this.driver.failed(this.id, new Error(`node ${this.id}: no transport: ${messageOf(e)}`));
      return;
    }
    this.restoreFirst = snapshot;
    const executor = createNodeExecutor({
      id: this.id,
      storage,
      transport,
      machine: this.machine(),
      options: this.executorOptions(state),
      ...(this.options.clock === undefined ? {} : { clock: this.options.clock }),
      ...(this.options.random === undefined ? {} : { random: this.options.random }),
      state,
      snapshot: null,
      applied,
      stepNext: (event, payloads) => this.stepNext(event, payloads),
      halted: (info) => this.halted(info),
    });
    this.executor = executor;
    executor.begin([]);
    transport
      .start((from, bytes) => executor.receive(from, bytes))
      .catch((e: unknown) => this.fail('host', `transport start failed: ${messageOf(e)}`));
    const waiting = this.waiting;
    this.waiting = [];
    for (const b of waiting) this.execute(b);
  }

  /** The runtime's options for this node: its own election timeout; no snapshots without the hooks. */
  private executorOptions(state: RaftState): HostOptions {
    const o = this.options.options;
    return {
      ...o,
      node: { ...o?.node, electionTimeoutTicks: state.options.electionTimeoutTicks },
      ...(this.options.snapshots === undefined ? { snapshot: {} } : {}),
    };
  }

  /** Carry out a batch of the runner's (or keep it until the node executor starts). */
  execute(batch: RaftEffectBatch<Command>): void {
    const p = this.prepared;
    if (this.executor === null && p !== null) {
      this.prepared = null;
      this.start(p.storage, batch.state, p.snapshot, p.snapshot?.index ?? 0);
    }
    const executor = this.executor;
    if (executor === null) {
      if (!this.closed) this.waiting.push(batch);
      return;
    }
    if (executor.halted !== null) return;
    if (this.restoreFirst !== null) {
      const snapshot = this.restoreFirst;
      this.restoreFirst = null;
      if (!this.restored(snapshot)) return;
    }
    executor.execute(batch.state, batch.effects, payloadSource(batch, this.codec));
    executor.flush();
  }

  /** Halt the node executor for `reason` (`kind` `storage` or `host`): the runner hears of it as a failure. */
  fail(kind: 'storage' | 'host', reason: string): void {
    void this.executor?.halt({ kind, reason });
  }

  /** Close the node: its executor halts, and the promise resolves once its transport and storage are closed. */
  close(): Promise<void> {
    this.closed = true;
    this.waiting = [];
    const p = this.prepared;
    this.prepared = null;
    if (p !== null) return p.storage.close().catch(() => undefined);
    const executor = this.executor;
    return executor === null ? Promise.resolve() : executor.halt({ kind: 'stopped', reason: 'the node was closed' });
  }

  /** The machine of the node executor: commands become `applied` actions; snapshots go through the hooks. */
  private machine(): ExecutorMachine {
    return {
      apply: (index, _term, payload) => {
        this.commands.push({ index, command: this.codec.decode(payload) });
      },
      appliedUpTo: (index) => {
        const commands = this.commands;
        this.commands = [];
        this.driver.applied(this.id, index, commands);
      },
      snapshot: () => {
        if (this.options.snapshots === undefined) throw new Error('no snapshots hooks');
        return this.options.snapshots.take(this.id);
      },
      restore: (snapshot) => this.hooks().restore(this.id, snapshot.data, snapshot.index),
    };
  }

  /** Restore the state machine from the stored snapshot the node restarted from; false when that failed. */
  private restored(snapshot: StoredSnapshot): boolean {
    try {
      this.hooks().restore(this.id, snapshot.data, snapshot.index);
      return true;
    } catch (e) {
      this.fail('host', `stateMachine.restore threw: ${messageOf(e)}`);
      return false;
    }
  }

  private hooks(): RaftSnapshotHooks {
    const hooks = this.options.snapshots;
    if (hooks === undefined)
      throw new Error(`node ${this.id} must restore a snapshot, and no snapshots hooks were given`);
    return hooks;
  }

  /** An event to step: dispatched by the runner. */
  private stepNext(event: RaftEvent, payloads: PayloadSource | undefined): void {
    if (this.closed) return;
    if (event.type === 'timeout') this.driver.timeout(this.id);
    else if (isMessage(event)) this.driver.deliver(this.id, event.from, event, this.commandsOf(event, payloads));
    else this.driver.step(this.id, event);
  }

  /** The commands of the entries a message carries, decoded (undefined for entries without one). */
  private commandsOf(message: Message, payloads: PayloadSource | undefined): RaftPayloads<Command> {
    if (message.type !== 'appendEntries' || payloads === undefined) return NO_COMMANDS;
    const out: (Command | undefined)[] = [];
    const e = message.entries;
    forEachEntry(e, e.prevIndex + 1, e.lastIndex, (index, term, kind) => {
      const bytes = kind === 'command' ? payloads(index, term) : undefined;
      out.push(bytes === undefined ? undefined : this.codec.decode(bytes));
    });
    return out;
  }

  /**
   * The node executor halted: a failure (storage, a bug, the state machine) takes the node out of
   * the store. (`fatal` and `internalError` are outcomes of a step, which the runner handles.)
   */
  private halted(info: HaltInfo): void {
    if (this.closed || (info.kind !== 'storage' && info.kind !== 'host')) return;
    this.driver.failed(this.id, new Error(`node ${this.id} halted (${info.kind}): ${info.reason}`));
  }
}

/** Where the node executor finds the payloads of the commands a batch appends: the runner's, encoded. */
function payloadSource<Command>(
  batch: RaftEffectBatch<Command>,
  codec: CommandCodec<Command>,
): PayloadSource | undefined {
  if (batch.appendPayloads.length === 0) return undefined;
  const commands = new Map<string, Command>();
  let k = 0;
  for (const a of batch.effects) {
    if (a.type !== 'appendLog') continue;
    const list = batch.appendPayloads[k++] ?? [];
    const first = a.entries.prevIndex + 1;
    forEachEntry(a.entries, first, a.entries.lastIndex, (index, term) => {
      const c = list[index - first];
      if (c !== undefined) commands.set(`${index}:${term}`, c);
    });
  }
  return (index, term) => {
    const c = commands.get(`${index}:${term}`);
    return c === undefined ? undefined : codec.encode(c);
  };
}
