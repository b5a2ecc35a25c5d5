/**
 * The node executor: what carries out a raftstep node's actions — every part of a host but the
 * stepping. `createHost` (./host.ts) is a node executor plus a loop that steps; `raftstep/redux` runs
 * one per node of a store, the store's reducer doing the stepping.
 *
 * The interface is two calls and two callbacks:
 * - input: `execute(state, actions, payloads?)` after every step, with the node's state after the
 *   step and the actions it returned (and, when the step appended commands, where their payloads
 *   are: a frame's, or the proposer's); then `flush()` after a run of steps, to start carrying out
 *   what they asked for;
 * - output: `stepNext(event, payloads?)`, an event to step next (a peer's message with the payloads
 *   of its entries, `timeout` from the node's timer, `snapshotInstalled` for a snapshot taken or
 *   received); and `halted(info)` when the executor stops.
 * The owner steps every event it is handed, in order and never from inside `execute`, and calls
 * `execute` with the result. `stepNext` may be called from inside `execute` (a received snapshot
 * retried) and from inside `flush`: the owner queues such events behind the step in progress.
 *
 * What `execute` does with a step's actions, in order:
 * - at once: `setTimer` re-arms the node's timer (./timers.ts); `appendLog` puts the payloads of its
 *   commands in the payload cache (./payload-cache.ts); `fatal` and `internalError` halt the
 *   executor; `readReady`, `rejected` and `invalidEvent` are the owner's (ignored here);
 * - the rest joins the open batch (./executor.ts), which `flush` starts carrying out; while a storage
 *   write is in flight, later steps merge into the next batch, so one write — one fsync — covers
 *   every step taken meanwhile;
 * - the transport's peer set follows the node's configuration and role (./peers.ts), and snapshot
 *   transfers follow its leadership (./snapshots.ts).
 * Carrying out a batch: one `storage.write` (hard state, snapshots, compactions, appends with their
 * payloads); then the state machine restored from a snapshot the batch installed; then the messages
 * sent (AppendEntries with their payloads, in envelopes: ./envelope.ts; cut to `maxFrameBytes`), so
 * that a reply never waits for the state machine; then the committed entries applied (to
 * `machine`, in order, each once); then snapshot transfers started. So no message leaves before the
 * storage actions it follows are durable, and nothing is applied before it is durable here — but
 * for a leader's own appends (`concurrentLeaderWrites`): their messages leave before their write,
 * and while it is in flight, a later batch that writes nothing (a commit its followers' copies
 * made) is carried out, so that the leader applies and answers without waiting for its disk.
 * Snapshots are taken by the policy right after applying and written only once the node accepted
 * them (./snapshot-flow.ts).
 *
 * Halting: `halt(info)`, a `fatal` or `internalError` action, a failed storage call, an exception of
 * the machine's `snapshot`/`restore`, or a bug: the timer is cleared, transfers abandoned, the open
 * batch dropped, `halted(info)` called; the write in flight is awaited, then the transport and the
 * storage are closed, and `stopped` settles.
 *
 * This module imports only the core and the host's own modules, and runs in browsers.
 */
import {
  forEachEntry,
  latestConfig,
  peersOf,
  type ClusterConfig,
  type LogEntries,
  type Message,
  type RaftActions,
  type RaftEvent,
  type RaftState,
  type Role,
} from '../index.js';
import { checkOptions, type HostOptions, type Settings } from './api.js';
import { messageOf, type HaltInfo } from './errors.js';
import { decodeFrame, encodeFrame, fitToFrame } from './envelope.js';
import { BatchQueue, type ClosedBatch } from './executor.js';
import { PayloadCache } from './payload-cache.js';
import { cacheAppend, cachedPayloads, committedPayloads, storedPayloads, type PayloadSource } from './payloads.js';
import { TransportPeers } from './peers.js';
import { SnapshotFlow } from './snapshot-flow.js';
import {
  SnapshotReceiver,
  SnapshotSender,
  emptySnapshotStats,
  type SnapshotStats,
  type TransferStatus,
} from './snapshots.js';
import type { Storage, StoredSnapshot } from './storage.js';
import { NodeTimer, SYSTEM_CLOCK, type HostClock } from './timers.js';
import type { Transport } from './transport.js';

export type { PayloadSource } from './payloads.js';

/**
 * What a node executor applies the committed commands to: the application's state machine, as its
 * owner runs it (`createHost`: a `StateMachine` and the proposals waiting on it; `raftstep/redux`:
 * `applied` actions). An exception from any method halts the executor (`kind: 'host'`).
 */
export interface ExecutorMachine {
  /** Apply the committed command at `(index, term)`, whose bytes are `payload`. Called once per command, in log order. */
  apply(index: number, term: number, payload: Uint8Array): void;
  /** Every committed entry up to `index` is applied (after a run of `apply` calls, or a `restore`). */
  appliedUpTo(index: number): void;
  /** The whole state, as bytes, for a snapshot at the applied index (the policy decides when). */
  snapshot(): Uint8Array;
  /** Replace the whole state with `snapshot`'s (a stored or a leader's snapshot, once durable). */
  restore(snapshot: StoredSnapshot): void;
}

/** Counters of a node executor since it was created. */
export interface ExecutorStats {
  /** `storage.write` calls. */
  storageWrites: number;
  /** Steps whose actions those writes carried (steps ÷ writes: the batching factor). */
  stepsBatched: number;
  /** Frames handed to the executor by the transport. */
  framesReceived: number;
  /** Frames dropped because they failed to decode or validate. */
  badFrames: number;
  /** The last bad frame's problem (with its sender), or null. */
  lastBadFrame: string | null;
  /** Message frames the transport accepted. */
  messagesSent: number;
  /** Message frames not sent: refused by the transport, or whose payloads were no longer available. */
  messagesDropped: number;
  /** AppendEntries cut to fit `maxFrameBytes`. */
  messagesTruncated: number;
  /** Entries applied to the state machine (commands only). */
  entriesApplied: number;
  /** Batches whose messages left while their write was in flight (a leader's own appends only). */
  concurrentBatches: number;
  /** Batches that wrote nothing, carried out while a leader's own write was in flight (see `mayGoOn`). */
  batchesAheadOfWrite: number;
  /** `appendPersisted` events handed back after a write (with `concurrentLeaderWrites`). */
  appendsReported: number;
}

/** What {@link createNodeExecutor} needs. */
export interface NodeExecutorConfig {
  /** The node's id. */
  readonly id: string;
  /** The node's storage, loaded (`load()` called); the executor owns it from now on and closes it when it halts. */
  readonly storage: Storage;
  /** The node's transport; the executor owns it and closes it when it halts. Its owner starts it with `receive`. */
  readonly transport: Transport;
  /** Where the committed commands go. */
  readonly machine: ExecutorMachine;
  /**
   * Tuning, as `createHost` takes it (snapshot policy, frame and chunk sizes, peer addresses, the
   * heartbeat; the election timeout is `node.electionTimeoutTicks`, else the core's default).
   * Throws a RangeError, as `createHost` does, for an option out of range.
   */
  readonly options?: HostOptions;
  /** The clock of the node's timer and of snapshot retransmissions. Default `SYSTEM_CLOCK`. */
  readonly clock?: HostClock;
  /** Uniform numbers in [0, 1) for the election timeouts. Default `Math.random`. */
  readonly random?: () => number;
  /** Makes snapshot transfer ids unique to this executor. Default the id and a random nonce. */
  readonly idPrefix?: string;
  /** The node's state after its start or restart. */
  readonly state: RaftState;
  /** The stored snapshot the machine is restored from now (null: the machine is fresh, nothing applied). */
  readonly snapshot: StoredSnapshot | null;
  /**
   * The index the machine already holds, when it is neither fresh nor restored from `snapshot` (a
   * state machine kept elsewhere, as a Redux store keeps it). Default the snapshot's index (0
   * without one). Entries above it are applied as `commitAdvanced` announces them; their payloads
   * must be in the storage.
   */
  readonly applied?: number;
  /** Called with each event to step next (see the module comment). Must not throw. */
  readonly stepNext: (event: RaftEvent, payloads?: PayloadSource) => void;
  /** Called once, synchronously, when the executor halts (before it closes the transport and storage). */
  readonly halted: (info: HaltInfo) => void;
}

/** A running node executor (see the module comment). */
export interface NodeExecutor {
  /** Settles (never rejects) with why the executor halted, once the transport and storage are closed. */
  readonly stopped: Promise<HaltInfo>;
  /** Why it halted, or null while it runs. */
  readonly halted: HaltInfo | null;
  /** The last index applied to the state machine (or restored from a snapshot). */
  readonly appliedIndex: number;
  /** Start: set the transport's peers, and arm the timer as `actions` (those of `startNode`/`restartNode`) ask. */
  begin(actions: RaftActions): void;
  /**
   * Carry out the actions a step returned, `state` being the node's state after it; `payloads` gives
   * the payloads of the commands the step appended (see `PayloadSource`). Never throws: a missing
   * payload halts the executor (`kind: 'host'`). Ignored once halted.
   */
  execute(state: RaftState, actions: RaftActions, payloads?: PayloadSource): void;
  /** Start carrying out the open batch, unless a batch is being carried out (it continues with it). */
  flush(): void;
  /** A frame from the transport (pass this to `transport.start`). */
  receive(from: string, bytes: Uint8Array): void;
  /** Halt for `info` (the first reason wins); resolves once the transport and storage are closed. */
  halt(info: HaltInfo): Promise<void>;
  /** The counters (a copy). */
  stats(): ExecutorStats;
  /** The snapshot counters (a copy). */
  snapshotStats(): SnapshotStats;
  /** Snapshot transfers running from this leader. */
  transfers(): TransferStatus[];
  /** A snapshot being received: its index, bytes staged, size, and whether it is complete. */
  receiving(): {
    /** The log index of the last entry the snapshot being received covers. */
    index: number;
    /** Bytes staged so far, contiguous from offset 0: from 0 up to `total`. */
    received: number;
    /** The snapshot's size in bytes, as the leader's chunks announce it. */
    total: number;
    /**
     * True once every byte arrived and the CRC-32 matched. A complete snapshot stays staged until
     * the host installs it (stepping `snapshotInstalled`) or discards it; one from a term above the
     * node's waits for the node's term to reach it.
     */
    complete: boolean;
  } | null;
}

/**
 * Create the executor of one node (see the module comment). Restores `machine` from
 * `config.snapshot` first, and throws what `machine.restore` throws; throws a RangeError for an
 * option out of range.
 */
export function createNodeExecutor(config: NodeExecutorConfig): NodeExecutor {
  return new Executor(config);
}

const TIMEOUT: RaftEvent = Object.freeze({ type: 'timeout' });
const NO_PAYLOADS: readonly Uint8Array[] = Object.freeze([]);
/** Entries applied per storage read and per pass of the apply loop. */
const APPLY_WINDOW = 1024;

class Executor implements NodeExecutor {
  readonly stopped: Promise<HaltInfo>;
  private node: RaftState;
  private applied: number;
  private readonly storage: Storage;
  private readonly transport: Transport;
  private readonly machine: ExecutorMachine;
  private readonly settings: Settings;
  private readonly stepNext: (event: RaftEvent, payloads?: PayloadSource) => void;
  private readonly onHalt: (info: HaltInfo) => void;
  private readonly timer: NodeTimer;
  private readonly cache = new PayloadCache();
  private readonly batches = new BatchQueue();
  private readonly snapshotCounters = emptySnapshotStats();
  private readonly sender: SnapshotSender;
  private readonly receiver: SnapshotReceiver;
  private readonly flow: SnapshotFlow;
  private readonly peers: TransportPeers;
  /** What the peer set was last computed from. */
  private peersFor: { config: ClusterConfig; role: Role } | null = null;
  private readonly counters: ExecutorStats = {
    storageWrites: 0,
    stepsBatched: 0,
    framesReceived: 0,
    badFrames: 0,
    lastBadFrame: null,
    messagesSent: 0,
    messagesDropped: 0,
    messagesTruncated: 0,
    entriesApplied: 0,
    concurrentBatches: 0,
    batchesAheadOfWrite: 0,
    appendsReported: 0,
  };
  private haltInfo: HaltInfo | null = null;
  private closing: Promise<void> | null = null;
  private resolveStopped!: (info: HaltInfo) => void;
  /** The batch loop: its promise while it runs, else null. */
  private running: Promise<void> | null = null;
  private executing = false;
  /** A leader's own appends being written while later batches go on (see `startConcurrent`), or null. */
  private inflight: Promise<void> | null = null;
  /** The term of the leader whose write is `inflight`. */
  private inflightTerm = -1;
  /** The applying in progress, if any (see `applyCommitted`): applies run one after another. */
  private applying: Promise<void> = Promise.resolve();

  constructor(config: NodeExecutorConfig) {
    this.node = config.state;
    this.storage = config.storage;
    this.transport = config.transport;
    this.machine = config.machine;
    this.stepNext = config.stepNext;
    this.onHalt = config.halted;
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
    const s = checkOptions(config.options, 'createNodeExecutor');
    this.settings = s;
    const clock = config.clock ?? SYSTEM_CLOCK;
    const random = config.random ?? Math.random;
    const idPrefix = config.idPrefix ?? `${config.id}.${Math.floor(random() * 2 ** 48).toString(36)}`;
    this.timer = new NodeTimer(clock, s.heartbeatMs, s.electionTimeoutTicks, random, () => this.stepNext(TIMEOUT));
    this.sender = this.newSender(clock, s, idPrefix);
    this.peers = new TransportPeers(this.transport, s.address);
    this.receiver = new SnapshotReceiver({
      maxBytes: s.maxSnapshotBytes,
      stats: this.snapshotCounters,
      needs: (meta) => this.flow.needs(meta),
      complete: () => this.flow.receivedComplete(),
    });
    if (config.snapshot !== null) this.machine.restore(config.snapshot);
    this.applied = config.applied ?? config.snapshot?.index ?? 0;
    this.flow = new SnapshotFlow(
      {
        policy: s.policy,
        stats: this.snapshotCounters,
        receiver: () => this.receiver,
        state: () => this.node,
        applied: () => this.applied,
        offer: (event) => this.stepNext(event),
        write: (snapshot, install) => this.batches.addSnapshot(snapshot, install),
      },
      this.applied,
    );
  }

  /** The leader's side of snapshot streaming, over this executor's storage and transport. */
  private newSender(clock: HostClock, s: Settings, idPrefix: string): SnapshotSender {
    return new SnapshotSender({
      clock,
      chunkBytes: s.chunkBytes,
      retransmitMs: s.retransmitMs,
      maxRetries: s.maxRetries,
      stats: this.snapshotCounters,
      idPrefix,
      loadSnapshot: () => this.storage.snapshot(),
      send: (to, frame) => this.sendFrame(to, frame, true),
      leaderTerm: () => (this.haltInfo === null && this.node.role === 'leader' ? this.node.term : null),
      failed: (e) => this.haltWith({ kind: 'storage', reason: `storage snapshot read failed: ${messageOf(e)}` }),
    });
  }

  get halted(): HaltInfo | null {
    return this.haltInfo;
  }

  get appliedIndex(): number {
    return this.applied;
  }

  begin(actions: RaftActions): void {
    if (this.haltInfo !== null) return;
    this.syncPeers();
    for (const a of actions) if (a.type === 'setTimer') this.timer.arm(a.wait);
  }

  execute(state: RaftState, actions: RaftActions, payloads?: PayloadSource): void {
    if (this.haltInfo !== null) return;
    const before = this.node;
    this.node = state;
    try {
      const halt = this.atOnce(actions, payloads);
      if (halt !== null) {
        this.haltWith(halt);
        return;
      }
      this.batches.add(actions);
      this.flow.afterStep(before, state, actions);
      this.afterStep(before, state);
      this.flow.retryWaiting();
    } catch (e) {
      this.haltWith({ kind: 'host', reason: `host error: ${messageOf(e)}` });
    }
  }

  flush(): void {
    // A batch held back by a write in flight (see `mayGoOn`) starts when the write lands.
    if (this.executing || this.haltInfo !== null || !this.batches.pending || !this.mayGoOn()) return;
    this.executing = true; // before the loop starts: its synchronous part may come back here
    this.running = this.runBatches().finally(() => {
      this.executing = false;
      this.running = null;
      this.flush();
    });
  }

  receive(from: string, bytes: Uint8Array): void {
    if (this.haltInfo !== null) return;
    this.counters.framesReceived++;
    const frame = decodeFrame(bytes, from);
    if (typeof frame === 'string') {
      this.counters.badFrames++;
      this.counters.lastBadFrame = `from ${from}: ${frame}`;
      return;
    }
    switch (frame.kind) {
      case 'message': {
        const { message, payloads } = frame;
        const first = message.type === 'appendEntries' ? message.entries.prevIndex + 1 : 0;
        this.stepNext(message, (index) => payloads[index - first]);
        return;
      }
      case 'snapshotChunk': {
        const ack = this.receiver.onChunk(frame.chunk);
        if (ack !== null) this.sendFrame(from, encodeFrame({ kind: 'snapshotAck', ack }), true);
        this.flow.afterChunk();
        return;
      }
      case 'snapshotAck':
        this.sender.onAck(from, frame.ack);
        return;
    }
  }

  halt(info: HaltInfo): Promise<void> {
    this.haltWith(info);
    // Null while halting: `halted` called back into here.
    return this.closing ?? this.stopped.then(() => undefined);
  }

  stats(): ExecutorStats {
    return { ...this.counters };
  }

  snapshotStats(): SnapshotStats {
    return { ...this.snapshotCounters };
  }

  transfers(): TransferStatus[] {
    return this.sender.list();
  }

  receiving(): { index: number; received: number; total: number; complete: boolean } | null {
    return this.receiver.progress();
  }

  // ---------------------------------------------------------------------------------------------
  // After a step

  /** Handle the actions carried out at once; returns why to halt, or null. Throws on a missing payload. */
  private atOnce(actions: RaftActions, payloads: PayloadSource | undefined): HaltInfo | null {
    let halt: HaltInfo | null = null;
    for (const a of actions) {
      if (a.type === 'setTimer') this.timer.arm(a.wait);
      else if (a.type === 'appendLog') cacheAppend(this.cache, a.entries, payloads);
      else if (a.type === 'fatal') halt ??= { kind: 'fatal', reason: a.reason };
      else if (a.type === 'internalError') halt ??= { kind: 'internalError', reason: a.reason, event: a.event };
    }
    return halt;
  }

  /** What a step changed beyond its actions: transfers follow leadership, the transport's peers the configuration. */
  private afterStep(before: RaftState, state: RaftState): void {
    if (state === before) return;
    if (state.term !== before.term || state.role !== before.role) this.sender.checkLeadership();
    this.syncPeers();
  }

  /** Keep the transport's peer set equal to the node's peers when the configuration or role changes. */
  private syncPeers(): void {
    const s = this.node;
    const config = latestConfig(s);
    const last = this.peersFor;
    if (last !== null && last.config === config && last.role === s.role) return;
    this.peersFor = { config, role: s.role };
    const members = peersOf(s);
    if (s.role === 'leader') this.sender.retainPeers(members);
    this.peers.setMembers(members);
  }

  // ---------------------------------------------------------------------------------------------
  // Batches

  private async runBatches(): Promise<void> {
    try {
      while (this.haltInfo === null && this.batches.pending && this.mayGoOn()) {
        if (this.inflight !== null) this.counters.batchesAheadOfWrite++;
        const batch: ClosedBatch = this.batches.close(this.node, this.cache);
        if (batch.concurrent) await this.startConcurrent(batch);
        else await this.carryOut(batch);
      }
    } catch (e) {
      this.haltWith({ kind: 'host', reason: `host error: ${messageOf(e)}` });
    }
  }

  /**
   * True when the open batch may be carried out now. While a leader's own appends are being written
   * (a `concurrent` batch in flight), only a batch that writes nothing, closed by that leader in the
   * same term, goes on: its commit is durable on a majority, which the leader's disk need not be
   * part of, and a leader's messages never claim that its own appends are durable. Any other batch
   * waits for the write (and `flush` runs again when it lands): writes stay in order, and a node
   * that stepped down does not answer for entries its disk may not hold yet.
   */
  private mayGoOn(): boolean {
    if (this.inflight === null) return true;
    const s = this.node;
    return s.role === 'leader' && s.term === this.inflightTerm && !this.batches.writes;
  }

  /**
   * Carry out a batch: write, report, restore, send, apply, transfer (see the module comment).
   */
  private async carryOut(b: ClosedBatch): Promise<void> {
    if (!(await this.write(b)) || this.haltInfo !== null) return;
    this.reportPersisted(b);
    if (b.install !== null) this.restoreInstalled(b.install);
    // Messages need only the write: a follower's reply does not wait for its state machine.
    await this.sendMessages(b);
    await this.afterMessages(b);
  }

  /**
   * Start a `concurrent` batch (a leader's own appends, with `concurrentLeaderWrites`): its messages
   * leave first, so that the leader's write and its followers' overlap; the write then goes on in
   * the background while later batches that write nothing are carried out (see `mayGoOn`). What
   * the batch does after its write (report it, apply, transfer) happens when the write lands.
   */
  private async startConcurrent(b: ClosedBatch): Promise<void> {
    await this.sendMessages(b);
    if (this.haltInfo !== null) return;
    const done = (async () => {
      if (!(await this.write(b)) || this.haltInfo !== null) return;
      this.reportPersisted(b);
      await this.afterMessages(b);
    })();
    this.inflight = done;
    this.inflightTerm = b.state.term;
    void done.finally(() => {
      this.inflight = null;
      this.flush();
    });
  }

  /** What follows a batch's messages: apply what it commits, start the snapshot transfers it asks for. */
  private async afterMessages(b: ClosedBatch): Promise<void> {
    let commit = -1;
    for (const a of b.actions) if (a.type === 'commitAdvanced') commit = a.commitIndex;
    if (commit > this.applied) await this.applyCommitted(commit, b.state.log);
    for (const a of b.actions) {
      if (this.haltInfo !== null) return;
      if (a.type === 'installSnapshot') this.sender.request(a.to);
    }
  }

  /** The batch's messages, in order (AppendEntries with their payloads). */
  private async sendMessages(b: ClosedBatch): Promise<void> {
    for (const a of b.actions) {
      if (this.haltInfo !== null) return;
      if (a.type === 'broadcast') await this.sendMessage(peersOf(b.state), a.message, false);
      else if (a.type === 'send') await this.sendMessage([a.to], a.message, true);
    }
  }

  /**
   * With `concurrentLeaderWrites`, tell a leader that the batch's appends are durable
   * (`appendPersisted`, one per append, in order): it counts its own entries only then. A node that
   * is not leader when its write lands is not told: it would ignore the report (see
   * concurrent-writes.ts), and a follower's reply waits for nothing but its own write.
   */
  private reportPersisted(b: ClosedBatch): void {
    if (!this.node.options.concurrentLeaderWrites || this.node.role !== 'leader') return;
    for (const a of b.actions) {
      if (a.type !== 'appendLog') continue;
      this.counters.appendsReported++;
      this.stepNext({ type: 'appendPersisted', term: a.entries.lastTerm, index: a.entries.lastIndex });
    }
  }

  /** The batch's storage write; false when it failed (the executor halted). */
  private async write(b: ClosedBatch): Promise<boolean> {
    if (b.writes.length === 0) return true;
    try {
      await this.storage.write(b.writes);
    } catch (e) {
      this.haltWith({ kind: 'storage', reason: `storage write failed: ${messageOf(e)}` });
      return false;
    }
    this.counters.storageWrites++;
    this.counters.stepsBatched += b.steps;
    if (b.concurrent) this.counters.concurrentBatches++;
    return true;
  }

  // ---------------------------------------------------------------------------------------------
  // Applying

  /** Restore the state machine from a received snapshot now durable (before any entry above it is applied). */
  private restoreInstalled(snap: StoredSnapshot): void {
    if (snap.index <= this.applied) return;
    try {
      this.machine.restore(snap);
    } catch (e) {
      this.haltWith({ kind: 'host', reason: `stateMachine.restore threw: ${messageOf(e)}` });
      return;
    }
    this.applied = snap.index;
    this.snapshotCounters.snapshotsInstalled++;
    this.cache.evictUpTo(snap.index);
    this.machine.appliedUpTo(snap.index);
  }

  /**
   * Apply the committed entries up to `commit`, described by `log` (the batch's), after any apply
   * in progress: a batch carried out while a leader's write is in flight may apply while the batch
   * of that write, once it lands, applies too, and each must see the other's progress.
   */
  private applyCommitted(commit: number, log: LogEntries): Promise<void> {
    const run = this.applying.then(() => (commit > this.applied ? this.applyUpTo(commit, log) : undefined));
    this.applying = run.catch(() => undefined);
    return run;
  }

  /** Apply the committed entries up to `commit`, described by `log` (the batch's). */
  private async applyUpTo(commit: number, log: LogEntries): Promise<void> {
    if (this.applied < log.prevIndex) {
      this.haltWith({
        kind: 'host',
        reason: `host error: applied index ${this.applied} is below the log's snapshot ${log.prevIndex}`,
      });
      return;
    }
    const last = Math.min(commit, log.lastIndex);
    while (this.applied < last && this.haltInfo === null) {
      const from = this.applied + 1;
      if (!(await this.applyWindow(from, Math.min(last, from + APPLY_WINDOW - 1), log))) return;
    }
  }

  /** Apply the entries `from..to` of `log`; false when the loop must stop (halted, or overtaken by a restore). */
  private async applyWindow(from: number, to: number, log: LogEntries): Promise<boolean> {
    const indices: number[] = [];
    const terms: number[] = [];
    forEachEntry(log, from, to, (index, term, kind) => {
      if (kind !== 'command') return;
      indices.push(index);
      terms.push(term);
    });
    let payloads: Uint8Array[];
    try {
      payloads = await committedPayloads(this.cache, this.storage, indices, terms);
    } catch (e) {
      this.haltWith({ kind: 'storage', reason: `storage payload read failed: ${messageOf(e)}` });
      return false;
    }
    if (this.haltInfo !== null || this.applied !== from - 1) return false;
    for (let k = 0; k < indices.length; k++) {
      const payload = payloads[k]!;
      this.machine.apply(indices[k]!, terms[k]!, payload);
      this.applied = indices[k]!;
      this.flow.countApplied(payload.length);
      this.counters.entriesApplied++;
    }
    this.applied = to;
    this.cache.evictUpTo(to - this.settings.cacheEntries);
    this.machine.appliedUpTo(to);
    this.maybeSnapshot();
    return true;
  }

  /** Take a snapshot when the policy says so (right after applying). */
  private maybeSnapshot(): void {
    if (!this.flow.due(this.applied)) return;
    let data: Uint8Array;
    try {
      data = this.machine.snapshot();
      if (!(data instanceof Uint8Array)) throw new TypeError('it did not return a Uint8Array');
    } catch (e) {
      this.haltWith({ kind: 'host', reason: `stateMachine.snapshot failed: ${messageOf(e)}` });
      return;
    }
    this.flow.taken(this.applied, data);
  }

  // ---------------------------------------------------------------------------------------------
  // Sending

  /**
   * Send `message` to `peers` (with its payloads for an AppendEntries); `answer`: the destination
   * may be a non-member this node must answer (see `sendFrame`).
   */
  private async sendMessage(peers: readonly string[], message: Message, answer: boolean): Promise<void> {
    if (peers.length === 0) return;
    let m = message;
    let payloads = NO_PAYLOADS;
    if (m.type === 'appendEntries' && m.entries.lastIndex > m.entries.prevIndex) {
      const found = cachedPayloads(this.cache, m.entries);
      const got = Array.isArray(found) ? found : await storedPayloads(this.cache, this.storage, m.entries);
      if (got === null || this.haltInfo !== null) {
        this.counters.messagesDropped += peers.length;
        return;
      }
      payloads = got;
    }
    let frame = encodeFrame({ kind: 'message', message: m, payloads });
    // Encoded first: the frame's length is the size check, and only a frame too long is cut.
    if (payloads.length > 0 && frame.length > this.settings.maxFrameBytes) {
      const cut = fitToFrame(m, payloads, this.settings.maxFrameBytes);
      if (cut !== null) {
        m = cut.message;
        payloads = cut.payloads;
        this.counters.messagesTruncated++;
        frame = encodeFrame({ kind: 'message', message: m, payloads });
      }
    }
    for (const to of peers) {
      if (this.sendFrame(to, frame, answer)) this.counters.messagesSent++;
      else this.counters.messagesDropped++;
    }
  }

  /**
   * Hand a frame to the transport; false when refused. `answer`: `to` may be outside the
   * configuration (a leader this node does not know as a member yet, a snapshot's sender), so it is
   * added to the transport's peers if needed; a broadcast goes to members only.
   */
  private sendFrame(to: string, frame: Uint8Array, answer: boolean): boolean {
    if (this.haltInfo !== null) return false;
    if (answer) this.peers.ensure(to);
    return this.transport.send(to, frame);
  }

  // ---------------------------------------------------------------------------------------------
  // Halting

  /** Halt for `info` (the first reason wins; see the module comment). */
  private haltWith(info: HaltInfo): void {
    if (this.haltInfo !== null) return;
    this.haltInfo = info;
    this.timer.cancel();
    this.sender.abortAll();
    this.batches.clear();
    this.flow.clear();
    this.onHalt(info);
    this.closing = (async () => {
      if (this.running !== null) await this.running;
      if (this.inflight !== null) await this.inflight;
      await this.transport.close().catch(() => undefined);
      await this.storage.close().catch(() => undefined);
    })();
    void this.closing.then(() => this.resolveStopped(info));
  }
}
