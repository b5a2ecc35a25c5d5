/**
 * `createHost`: a runtime that owns one raftstep node, so that an application writes its state
 * machine and nothing else.
 *
 * ```ts
 * const host = await createHost({ id: 'n1', storage, transport, stateMachine });
 * await host.createCluster(['n1', 'n2', 'n3']);   // on one node of a new cluster only
 * const result = await host.propose({ op: 'set', key: 'a', value: 1 }); // on the leader
 * const value = await host.read({ key: 'a' });     // linearizable, on any node
 * ```
 *
 * What the host does, and in which order:
 *
 * - **Events, one at a time.** Every input — a frame from a peer, the timer, a request of the
 *   application, a snapshot taken or received — goes through one queue and is stepped with the
 *   core's `step`, in arrival order; the node's state changes only there. Each step is reported to
 *   `onEvent` (./event-log.ts), so a run can be replayed exactly.
 * - **Actions, in order.** A step's outcomes are handled at once: `setTimer` re-arms the node's
 *   timer (./timers.ts), `readReady`/`rejected` settle reads and requests, `fatal`/`internalError`
 *   stop the host. Everything else joins the open batch (./executor.ts): while a storage write is in
 *   flight, later steps merge into the next one (`mergeActions`), so one write — one fsync — covers
 *   every step taken meanwhile. Executing a batch: one `storage.write` (hard state, snapshots,
 *   compactions, appends with their payloads); then the state machine restored from a snapshot the
 *   batch installed; then the committed entries applied; then the messages sent; then snapshot
 *   transfers started. So no message leaves before the storage actions it follows are durable, and
 *   nothing is applied before it is durable here.
 * - **Payloads.** Commands are bytes (the state machine's codec, JSON by default). The host keeps
 *   them by index in a cache tagged with terms (./payload-cache.ts), fills it from the leader's
 *   proposals and the followers' AppendEntries, writes them with the appends, and attaches them to
 *   outgoing AppendEntries (./envelope.ts); what the cache no longer holds is read from the storage.
 *   An AppendEntries whose frame would exceed `maxFrameBytes` is cut to the entries that fit.
 * - **Proposals.** `propose` calls made in the same tick are stepped as one `{type: 'propose',
 *   count}` event. Each promise resolves with the state machine's result when its entry is applied,
 *   and rejects (`HostError`, with the leader hint) when the node refuses the proposal or the entry
 *   is overwritten (./proposals.ts).
 * - **Reads.** `read` steps `{type: 'read', id}` (ids unique per host instance); on `readReady {id,
 *   index}` it waits until the applied index reaches `index`, then answers from the state machine.
 *   On a follower the core forwards the read to the leader (follower reads).
 * - **Snapshots.** Taken by the policy (./snapshots.ts) at the applied index: the state machine's
 *   bytes are captured at once, then `snapshotInstalled` is stepped with `positionAndConfigAt`; only
 *   if the node accepts it (its actions hold a `compactLog`) is the snapshot written, in the same
 *   storage write as the compaction and before it. A leader streams its stored snapshot to a
 *   follower behind it (`installSnapshot`), in chunks, one transfer per follower, resumable.
 * - **Installing a received snapshot**, once all its chunks arrived and its CRC matched: it is
 *   discarded if the node's commit index already covers it (the node has those entries; applying the
 *   snapshot could move the state machine backwards) or the node leads; it waits while its term is
 *   ahead of the node's (the leader's AppendEntries raises the node's term, then the install is
 *   tried again). Otherwise `snapshotInstalled` is stepped; if the node refuses, the snapshot is
 *   discarded and nothing else changes. If it accepts, the snapshot is written (before the
 *   compaction, in one write), and only once that write is durable is the state machine restored
 *   from it and the applied index set to it — before any entry above it is applied. A crash in
 *   between restarts from the storage, which holds either the old state or the snapshot.
 * - **Stopping.** `stop()`, a `fatal` or `internalError` action, a failed storage call or a host
 *   bug stop the host: the timers are cleared, transfers abandoned, every pending promise rejected
 *   (`HostError` `stopped`), a `crash` record emitted; the write in flight is awaited, then the
 *   transport and the storage are closed. `status().halted` says why.
 * - **Restart.** `createHost` loads the storage: on fresh storage the node starts empty
 *   (`startNode`), else it restarts (`restartNode`) with the state machine restored from the stored
 *   snapshot; committed entries above it are applied again as `commitAdvanced` announces them.
 *
 * This module imports only the core and the host's own modules, and runs in browsers.
 */
import {
  EMPTY_CONFIG,
  commitStatus,
  configsEqual,
  forEachEntry,
  isJoint,
  latestConfig,
  latestConfigIndex,
  leaderHint,
  makeConfig,
  peersOf,
  positionAndConfigAt,
  restartNode,
  startNode,
  step,
  toJointConsensus,
  truncateAppendEntries,
  withNonVoters,
  type RaftActions,
  type ClusterConfig,
  type LogEntries,
  type Message,
  type NodeOptions,
  type PersistedState,
  type RaftEvent,
  type RaftState,
  type Rejected,
  type Role,
} from '../index.js';
import { HostError, asError, messageOf, type HaltInfo } from './errors.js';
import { decodeFrame, encodeFrame, messageFrameSize } from './envelope.js';
import type { HostEventRecord } from './event-log.js';
import { BatchQueue, type ClosedBatch } from './executor.js';
import { PayloadCache } from './payload-cache.js';
import { TransportPeers } from './peers.js';
import { ProposalBook, overwritten } from './proposals.js';
import { ReadBook } from './reads.js';
import { SnapshotReceiver, SnapshotSender, emptySnapshotStats } from './snapshots.js';
import { jsonCodec, type CommandCodec, type StateMachine } from './state-machine.js';
import type { SnapshotMeta, Storage, StoredNode, StoredSnapshot } from './storage.js';
import { NodeTimer, SYSTEM_CLOCK, type HostClock } from './timers.js';
import type { Transport } from './transport.js';
import {
  checkConfig,
  type Host,
  type HostConfig,
  type HostStats,
  type HostStatus,
  type MembershipChange,
  type Settings,
} from './api.js';

export type { Host, HostConfig, HostOptions, HostStats, HostStatus, MembershipChange } from './api.js';

/**
 * Create and start a host for one node (see the module comment): load the storage, restore the
 * state machine from the stored snapshot, start or restart the node, start the transport. Rejects
 * with a TypeError or RangeError for an invalid configuration, and with the storage's or transport's
 * error when they fail to load or start (both are then closed).
 */
export async function createHost<Command, Result, Query, QueryResult>(
  config: HostConfig<Command, Result, Query, QueryResult>,
): Promise<Host<Command, Result, Query, QueryResult>> {
  const settings = checkConfig(config);
  let host: HostImpl<Command, Result, Query, QueryResult>;
  try {
    const stored = await config.storage.load();
    host = new HostImpl(config, settings, stored);
  } catch (e) {
    await closeQuietly(config.storage, config.transport);
    throw e;
  }
  try {
    await config.transport.start((from, frame) => host.deliver(from, frame));
  } catch (e) {
    await host.stop();
    throw e;
  }
  host.begin();
  return host;
}

async function closeQuietly(storage: Storage, transport: Transport): Promise<void> {
  await transport.close().catch(() => undefined);
  await storage.close().catch(() => undefined);
}

const TIMEOUT: RaftEvent = Object.freeze({ type: 'timeout' });
const EMPTY = new Uint8Array(0);
const NO_PAYLOADS: readonly Uint8Array[] = Object.freeze([]);
/** Entries applied per storage read and per pass of the apply loop. */
const APPLY_WINDOW = 1024;

interface QueuedProposal<R> {
  readonly payload: Uint8Array;
  readonly resolve: (r: R) => void;
  readonly reject: (e: unknown) => void;
}

/** A request waiting for the node to reach some state (a membership change, a transfer). */
interface Waiter {
  /** Look at the node after a step (`event` was stepped); true when settled. */
  check(state: RaftState, event: RaftEvent): boolean;
  reject(e: unknown): void;
}

class HostImpl<C, R, Q, A> implements Host<C, R, Q, A> {
  readonly id: string;
  readonly stopped: Promise<HaltInfo>;
  private node: RaftState;
  private applied: number;
  private readonly storage: Storage;
  private readonly transport: Transport;
  private readonly sm: StateMachine<C, R, Q, A>;
  private readonly codec: CommandCodec<C>;
  private readonly clock: HostClock;
  private readonly random: () => number;
  private readonly onEvent: ((record: HostEventRecord) => void) | undefined;
  private readonly nonce: string;
  private readonly timer: NodeTimer;
  private readonly cache = new PayloadCache();
  private readonly batches = new BatchQueue();
  private readonly proposals = new ProposalBook<R>();
  private readonly sender: SnapshotSender;
  private readonly receiver: SnapshotReceiver;
  private readonly snapshotStats = emptySnapshotStats();
  private readonly counters: Omit<HostStats, 'snapshots'> = {
    eventsStepped: 0,
    storageWrites: 0,
    stepsBatched: 0,
    framesReceived: 0,
    badFrames: 0,
    lastBadFrame: null,
    messagesSent: 0,
    messagesDropped: 0,
    messagesTruncated: 0,
    invalidEvents: 0,
    proposalsAccepted: 0,
    proposalsRefused: 0,
    entriesApplied: 0,
    readsServed: 0,
  };
  private halt: HaltInfo | null = null;
  private closing: Promise<void> | null = null;
  private resolveStopped!: (info: HaltInfo) => void;
  private records = 0;
  /** The input queue (see `input`). */
  private readonly inputs: (() => void)[] = [];
  private draining = false;
  /** The executor: the promise of the running loop, or null when idle. */
  private running: Promise<void> | null = null;
  private executing = false;
  private proposeQueue: QueuedProposal<R>[] = [];
  private proposeScheduled = false;
  private readonly reads: ReadBook<Q, A>;
  private readSeq = 0;
  private readonly waiters = new Set<Waiter>();
  private readonly peers: TransportPeers;
  /** What the peer set was last computed from. */
  private peersFor: { config: ClusterConfig; role: Role } | null = null;
  /** The index of the last snapshot taken or installed, and payload bytes applied since. */
  private snapshotIndex: number;
  private bytesSinceSnapshot = 0;
  /** A complete received snapshot waits for the node's term to reach its own. */
  private installWaiting = false;
  /** The actions `restartNode` returned, carried out by `begin`. */
  private pendingStartActions: RaftActions;

  constructor(
    config: HostConfig<C, R, Q, A>,
    private readonly settings: Settings,
    stored: StoredNode,
  ) {
    this.id = config.id;
    this.storage = config.storage;
    this.transport = config.transport;
    this.sm = config.stateMachine;
    this.codec = config.stateMachine.codec ?? jsonCodec<C>();
    this.clock = config.clock ?? SYSTEM_CLOCK;
    this.random = config.random ?? Math.random;
    this.onEvent = config.onEvent;
    this.nonce = Math.floor(this.random() * 2 ** 48).toString(36);
    this.stopped = new Promise((resolve) => (this.resolveStopped = resolve));
    this.timer = new NodeTimer(this.clock, settings.heartbeatMs, settings.electionTimeoutTicks, this.random, () =>
      this.input(() => this.stepEvent(TIMEOUT)),
    );
    this.sender = new SnapshotSender({
      clock: this.clock,
      chunkBytes: settings.chunkBytes,
      retransmitMs: settings.retransmitMs,
      maxRetries: settings.maxRetries,
      stats: this.snapshotStats,
      idPrefix: `${this.id}.${this.nonce}`,
      loadSnapshot: () => this.storage.snapshot(),
      send: (to, frame) => this.sendFrame(to, frame, true),
      leaderTerm: () => (this.halt === null && this.node.role === 'leader' ? this.node.term : null),
      failed: (e) => this.haltWith({ kind: 'storage', reason: `storage snapshot read failed: ${messageOf(e)}` }),
    });
    this.reads = new ReadBook<Q, A>(
      (query) => this.sm.query(query),
      () => this.counters.readsServed++,
    );
    this.peers = new TransportPeers(this.transport, settings.address);
    this.receiver = new SnapshotReceiver({
      maxBytes: settings.maxSnapshotBytes,
      stats: this.snapshotStats,
      needs: (meta) => this.needsSnapshot(meta),
      complete: () => this.input(() => this.tryInstall()),
    });

    const snapshot = stored.snapshot;
    if (snapshot !== null) this.sm.restore(snapshot.data);
    this.applied = snapshot?.index ?? 0;
    this.snapshotIndex = this.applied;
    const h = stored.hardState;
    const fresh = h.term === 0 && h.votedFor === null && stored.log.lastIndex === 0 && snapshot === null;
    if (fresh) {
      this.node = startNode(this.id, settings.node)[0];
      this.record(settings.node === undefined ? { start: true } : { start: true, options: settings.node });
      this.pendingStartActions = [];
    } else {
      const persisted: PersistedState = {
        id: this.id,
        term: h.term,
        votedFor: h.votedFor,
        log: stored.log,
        snapshotConfig: snapshot?.config ?? EMPTY_CONFIG,
        ...(settings.node === undefined ? {} : { options: settings.node }),
      };
      const [state, actions] = restartNode(persisted);
      this.node = state;
      this.record({ restart: persisted });
      this.pendingStartActions = actions;
    }
  }

  /** Start working once the transport runs: the peer set, and the restart's timer. */
  begin(): void {
    this.input(() => {
      this.syncPeers();
      for (const a of this.pendingStartActions) if (a.type === 'setTimer') this.timer.arm(a.wait);
      this.pendingStartActions = [];
    });
  }

  get state(): RaftState {
    return this.node;
  }

  // ---------------------------------------------------------------------------------------------
  // The application's requests

  createCluster(voters: readonly string[]): Promise<void> {
    return this.request<void>((resolve, reject) => {
      const actions = this.stepEvent({ type: 'createCluster', voters: makeConfig(voters).voters });
      const refused = findRejected(actions, 'createCluster');
      if (refused !== null) reject(refusal(refused));
      else resolve();
    });
  }

  propose(command: C): Promise<R> {
    if (this.halt !== null) return Promise.reject(this.stoppedError());
    let payload: Uint8Array;
    try {
      payload = this.codec.encode(command);
    } catch (e) {
      return Promise.reject(asError(e));
    }
    if (!(payload instanceof Uint8Array))
      return Promise.reject(new TypeError('propose: the codec must return a Uint8Array'));
    if (payload.length > this.settings.maxFrameBytes - 1024) {
      return Promise.reject(
        new HostError(
          'tooLarge',
          `propose: a command of ${payload.length} bytes does not fit in a frame`,
          leaderHint(this.node),
        ),
      );
    }
    return new Promise<R>((resolve, reject) => {
      this.proposeQueue.push({ payload, resolve, reject });
      if (this.proposeScheduled) return;
      this.proposeScheduled = true;
      queueMicrotask(() => this.input(() => this.flushProposals()));
    });
  }

  read(query: Q): Promise<A> {
    if (this.halt !== null) return Promise.reject(this.stoppedError());
    const id = `${this.nonce}.${++this.readSeq}`;
    return new Promise<A>((resolve, reject) => {
      this.reads.add(id, query, resolve, reject);
      this.input(() => this.stepEvent({ type: 'read', id }));
    });
  }

  changeMembership(change: MembershipChange): Promise<ClusterConfig> {
    return this.request<ClusterConfig>((resolve, reject) => {
      const s = this.node;
      if (s.role !== 'leader') {
        reject(new HostError('notLeader', 'changeMembership: this node does not lead', leaderHint(s), 'notLeader'));
        return;
      }
      let config = latestConfig(s);
      const addVoters = change.addVoters ?? [];
      const removeVoters = change.removeVoters ?? [];
      if (addVoters.length > 0 || removeVoters.length > 0) config = toJointConsensus(config, addVoters, removeVoters);
      const addNonVoters = change.addNonVoters ?? [];
      const removeNonVoters = change.removeNonVoters ?? [];
      if (addNonVoters.length > 0 || removeNonVoters.length > 0) {
        config = withNonVoters(config, addNonVoters, removeNonVoters);
      }
      const actions = this.stepEvent({ type: 'proposeConfig', config });
      const refused = findRejected(actions, 'proposeConfig');
      if (refused !== null) {
        reject(refusal(refused));
        return;
      }
      const invalid = actions.find((a) => a.type === 'invalidEvent');
      if (invalid !== undefined) {
        reject(new TypeError(`changeMembership: ${invalid.reason}`));
        return;
      }
      const position = { term: this.node.term, index: latestConfigIndex(this.node) };
      const target: ClusterConfig = isJoint(config)
        ? { voters: config.newVoters, newVoters: [], nonVoters: config.nonVoters }
        : config;
      const waiter: Waiter = {
        check: (state) => {
          const status = commitStatus(state, position);
          if (status === 'rejected') {
            this.waiters.delete(waiter);
            reject(overwritten(position, leaderHint(state)));
            return true;
          }
          if (status === 'inProgress') return false;
          const latest = latestConfig(state);
          if (!configsEqual(latest, target) || latestConfigIndex(state) > state.commitIndex) return false;
          this.waiters.delete(waiter);
          resolve(latest);
          return true;
        },
        reject,
      };
      this.waiters.add(waiter);
      waiter.check(this.node, { type: 'heartbeat' });
    });
  }

  transferLeadership(to: string): Promise<void> {
    return this.request<void>((resolve, reject) => {
      const term = this.node.term;
      const actions = this.stepEvent({ type: 'transferLeadership', to });
      const refused = findRejected(actions, 'transferLeadership');
      if (refused !== null) {
        reject(refusal(refused));
        return;
      }
      const waiter: Waiter = {
        check: (state, event) => {
          let outcome: 'won' | 'lost' | null = null;
          if (event.type === 'appendEntries' && event.term > term) outcome = event.from === to ? 'won' : 'lost';
          else if (state.role === 'leader' && state.term === term && state.lead.transferTo === null) outcome = 'lost';
          else if (state.role === 'leader' && state.term > term) outcome = 'lost';
          if (outcome === null) return false;
          this.waiters.delete(waiter);
          if (outcome === 'won') resolve();
          else
            reject(
              new HostError(
                'abandoned',
                `the leadership transfer to ${to} ended without it leading`,
                leaderHint(state),
              ),
            );
          return true;
        },
        reject,
      };
      this.waiters.add(waiter);
    });
  }

  status(): HostStatus {
    const s = this.node;
    return {
      id: this.id,
      role: s.role,
      term: s.term,
      leader: leaderHint(s),
      commitIndex: s.commitIndex,
      appliedIndex: this.applied,
      lastIndex: s.log.lastIndex,
      snapshotIndex: s.log.prevIndex,
      members: latestConfig(s),
      halted: this.halt,
      transport: this.transport.stats(),
      stats: { ...this.counters, snapshots: { ...this.snapshotStats } },
      transfers: this.sender.list(),
      receiving: this.receiver.progress(),
    };
  }

  stop(): Promise<void> {
    this.haltWith({ kind: 'stopped', reason: 'stop() was called' });
    return this.closing!;
  }

  /** A request stepped through the input queue; rejected at once (and at a stop) when the host stopped. */
  private request<T>(body: (resolve: (t: T) => void, reject: (e: Error) => void) => void): Promise<T> {
    if (this.halt !== null) return Promise.reject(this.stoppedError());
    return new Promise<T>((resolve, reject) => {
      // Registered first, so that a stop before the body runs rejects it.
      let settled = false;
      const guard: Waiter = { check: () => false, reject: (e) => settle(() => reject(asError(e))) };
      const settle = (f: () => void): void => {
        if (settled) return;
        settled = true;
        this.waiters.delete(guard);
        f();
      };
      this.waiters.add(guard);
      this.input(() => {
        try {
          body(
            (t) => settle(() => resolve(t)),
            (e) => settle(() => reject(e)),
          );
        } catch (e) {
          settle(() => reject(asError(e)));
        }
      });
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Inputs and steps

  /** A frame from the transport. */
  deliver(from: string, bytes: Uint8Array): void {
    if (this.halt !== null) return;
    this.counters.framesReceived++;
    const frame = decodeFrame(bytes, from);
    if (typeof frame === 'string') {
      this.counters.badFrames++;
      this.counters.lastBadFrame = `from ${from}: ${frame}`;
      return;
    }
    this.input(() => {
      switch (frame.kind) {
        case 'message': {
          const { message, payloads } = frame;
          const first = message.type === 'appendEntries' ? message.entries.prevIndex + 1 : 0;
          this.stepEvent(message, (index) => payloads[index - first]);
          return;
        }
        case 'snapshotChunk': {
          const ack = this.receiver.onChunk(frame.chunk);
          if (ack !== null) this.sendFrame(from, encodeFrame({ kind: 'snapshotAck', ack }), true);
          return;
        }
        case 'snapshotAck':
          this.sender.onAck(from, frame.ack);
          return;
      }
    });
  }

  /**
   * Run `fn` now, or after the input running now (inputs never interleave: a step and everything it
   * does synchronously finish before the next input starts). Then let the executor run.
   */
  private input(fn: () => void): void {
    if (this.halt !== null) return;
    this.inputs.push(fn);
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.inputs.length > 0 && this.halt === null) {
        const f = this.inputs.shift()!;
        try {
          f();
        } catch (e) {
          this.haltWith({ kind: 'host', reason: `host error: ${messageOf(e)}` });
        }
      }
    } finally {
      this.draining = false;
      if (this.halt !== null) this.inputs.length = 0;
    }
    this.kick();
  }

  /**
   * Step `event` (only from an input): record it, update the payload cache from its appends
   * (`payloadOf` gives the payload of a command index the event brought), handle its outcomes, and
   * merge the rest into the open batch. Returns the step's actions.
   */
  private stepEvent(event: RaftEvent, payloadOf?: (index: number) => Uint8Array | undefined): RaftActions {
    const before = this.node;
    const [next, actions] = step(before, event);
    this.node = next;
    this.counters.eventsStepped++;
    this.record({ step: event });
    let halt: HaltInfo | null = null;
    for (const a of actions) {
      switch (a.type) {
        case 'setTimer':
          this.timer.arm(a.wait);
          break;
        case 'appendLog':
          this.cacheAppend(a.entries, payloadOf);
          break;
        case 'readReady':
          this.reads.ready(a.id, a.index, this.applied);
          break;
        case 'rejected':
          if (a.request === 'read' && a.id !== null) this.reads.refused(a.id, refusal(a));
          break;
        case 'invalidEvent':
          this.counters.invalidEvents++;
          break;
        case 'fatal':
          halt ??= { kind: 'fatal', reason: a.reason };
          break;
        case 'internalError':
          halt ??= { kind: 'internalError', reason: a.reason, event: a.event };
          break;
        default:
          break;
      }
    }
    if (halt !== null) {
      this.haltWith(halt);
      return actions;
    }
    this.batches.add(actions);
    this.afterStep(before, event);
    return actions;
  }

  /** What a step changed beyond its actions: proposals, transfers, peers, waiters, a waiting install. */
  private afterStep(before: RaftState, event: RaftEvent): void {
    const s = this.node;
    if (this.waiters.size > 0) for (const w of [...this.waiters]) w.check(s, event);
    if (s === before) return;
    const changed = s.term !== before.term || s.role !== before.role;
    const tail = s.log.lastIndex < before.log.lastIndex || s.log.lastTerm !== before.log.lastTerm;
    if (this.proposals.size > 0) this.proposals.review(s, changed || tail, leaderHint(s));
    if (changed) this.sender.checkLeadership();
    this.syncPeers();
    if (this.installWaiting && s.term > before.term) this.inputs.push(() => this.tryInstall());
  }

  /** Record `what` happened (see ./event-log.ts). */
  private record(
    what:
      | { start: true; options?: Partial<NodeOptions> }
      | { restart: PersistedState }
      | { step: RaftEvent }
      | { crash: true },
  ): void {
    const hook = this.onEvent;
    if (hook === undefined) return;
    const record = { n: ++this.records, t: this.clock.now(), node: this.id, ...what } as HostEventRecord;
    try {
      hook(record);
    } catch (e) {
      queueMicrotask(() => {
        throw e;
      });
    }
  }

  /** Cache the payloads of an append a step returned (entries without a command get none). */
  private cacheAppend(entries: LogEntries, payloadOf: ((index: number) => Uint8Array | undefined) | undefined): void {
    const cache = this.cache;
    cache.truncateAfter(entries.prevIndex);
    let missing = -1;
    forEachEntry(entries, entries.prevIndex + 1, entries.lastIndex, (index, term, kind) => {
      let p: Uint8Array | undefined = EMPTY;
      if (kind === 'command') {
        p = payloadOf?.(index);
        if (p === undefined) {
          if (missing < 0) missing = index;
          p = EMPTY;
        }
      }
      cache.put(index, term, p);
    });
    if (missing >= 0)
      throw new Error(`an append holds the command at index ${missing}, whose payload did not come with it`);
  }

  /** Step the queued proposals as one event (see `propose`). */
  private flushProposals(): void {
    this.proposeScheduled = false;
    const queue = this.proposeQueue;
    this.proposeQueue = [];
    if (queue.length === 0) return;
    const before = this.node;
    const first = before.log.lastIndex + 1;
    const actions = this.stepEvent({ type: 'propose', count: queue.length }, (index) => queue[index - first]?.payload);
    const s = this.node;
    const refused = findRejected(actions, 'propose');
    const invalid = actions.some((a) => a.type === 'invalidEvent');
    if (refused !== null || invalid || s.role !== 'leader' || s.log.lastIndex < before.log.lastIndex + queue.length) {
      this.counters.proposalsRefused += queue.length;
      const error =
        refused !== null
          ? refusal(refused)
          : new HostError('notLeader', 'propose: the node did not take the proposal', leaderHint(s));
      for (const p of queue) p.reject(error);
      return;
    }
    this.counters.proposalsAccepted += queue.length;
    for (let k = 0; k < queue.length; k++) {
      const p = queue[k]!;
      this.proposals.add({ term: s.term, index: first + k, resolve: p.resolve, reject: p.reject });
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Snapshots

  /** False when the node's commit index covers `meta` (it has those entries) or the node leads. */
  private needsSnapshot(meta: SnapshotMeta): boolean {
    const s = this.node;
    return s.role !== 'leader' && meta.index > s.commitIndex && meta.index > this.applied;
  }

  /** Install the complete received snapshot, if the node accepts it (see the module comment). */
  private tryInstall(): void {
    const snap = this.receiver.complete();
    this.installWaiting = false;
    if (snap === null) return;
    if (!this.needsSnapshot(snap)) {
      this.receiver.discard();
      this.snapshotStats.snapshotsDiscarded++;
      return;
    }
    if (snap.term > this.node.term) {
      this.installWaiting = true; // the leader's next AppendEntries raises the term; then again
      return;
    }
    const actions = this.stepEvent({
      type: 'snapshotInstalled',
      term: snap.term,
      index: snap.index,
      config: snap.config,
    });
    this.receiver.discard();
    if (actions.some((a) => a.type === 'compactLog')) {
      this.batches.addSnapshot(snap, true);
      this.snapshotIndex = snap.index;
      this.bytesSinceSnapshot = 0;
    } else {
      this.snapshotStats.snapshotsDiscarded++;
    }
  }

  /** Restore the state machine from a received snapshot now durable (before any entry above it is applied). */
  private restoreInstalled(snap: StoredSnapshot): void {
    if (snap.index <= this.applied) return;
    try {
      this.sm.restore(snap.data);
    } catch (e) {
      this.haltWith({ kind: 'host', reason: `stateMachine.restore threw: ${messageOf(e)}` });
      return;
    }
    this.applied = snap.index;
    this.snapshotStats.snapshotsInstalled++;
    this.cache.evictUpTo(snap.index);
    const hint = leaderHint(this.node);
    this.proposals.settleUpTo(
      snap.index,
      (p) =>
        new HostError(
          'unknownOutcome',
          `a snapshot from the leader covered the proposal at (${p.term}, ${p.index}) before it was applied here`,
          hint,
        ),
    );
    this.reads.answerUpTo(this.applied);
  }

  /** Take a snapshot when the policy says so (right after applying). */
  private maybeSnapshot(): void {
    const { everyEntries, everyBytes } = this.settings.policy;
    const entries = this.applied - this.snapshotIndex;
    const due =
      (everyEntries !== undefined && entries >= everyEntries) ||
      (everyBytes !== undefined && this.bytesSinceSnapshot >= everyBytes);
    if (!due || entries <= 0) return;
    let data: Uint8Array;
    try {
      data = this.sm.snapshot();
      if (!(data instanceof Uint8Array)) throw new TypeError('it did not return a Uint8Array');
    } catch (e) {
      this.haltWith({ kind: 'host', reason: `stateMachine.snapshot failed: ${messageOf(e)}` });
      return;
    }
    const index = this.applied;
    this.snapshotIndex = index;
    this.bytesSinceSnapshot = 0;
    this.input(() => {
      const at = positionAndConfigAt(this.node, index);
      if (at === null) return;
      const actions = this.stepEvent({ type: 'snapshotInstalled', term: at.term, index, config: at.config });
      if (!actions.some((a) => a.type === 'compactLog')) return;
      this.batches.addSnapshot({ term: at.term, index, config: at.config, data }, false);
      this.snapshotStats.snapshotsTaken++;
    });
  }

  // ---------------------------------------------------------------------------------------------
  // The executor

  /** Start the executor unless it runs or has nothing to do. */
  private kick(): void {
    if (this.executing || this.halt !== null || !this.batches.pending) return;
    this.executing = true; // before the loop starts: its synchronous part may come back here
    this.running = this.runBatches().finally(() => {
      this.executing = false;
      this.running = null;
      this.kick();
    });
  }

  private async runBatches(): Promise<void> {
    try {
      while (this.halt === null && this.batches.pending) {
        const batch: ClosedBatch = this.batches.close(this.node, this.cache);
        await this.execute(batch);
      }
    } catch (e) {
      this.haltWith({ kind: 'host', reason: `host error: ${messageOf(e)}` });
    }
  }

  /** Carry out a batch: write, restore, apply, send, transfer (see the module comment). */
  private async execute(b: ClosedBatch): Promise<void> {
    if (b.writes.length > 0) {
      try {
        await this.storage.write(b.writes);
      } catch (e) {
        this.haltWith({ kind: 'storage', reason: `storage write failed: ${messageOf(e)}` });
        return;
      }
      this.counters.storageWrites++;
      this.counters.stepsBatched += b.steps;
    }
    if (this.halt !== null) return;
    if (b.install !== null) this.restoreInstalled(b.install);
    let commit = -1;
    for (const a of b.actions) if (a.type === 'commitAdvanced') commit = a.commitIndex;
    if (commit > this.applied) await this.applyUpTo(commit, b.state.log);
    for (const a of b.actions) {
      if (this.halt !== null) return;
      if (a.type === 'broadcast') await this.sendMessage(peersOf(b.state), a.message, false);
      else if (a.type === 'send') await this.sendMessage([a.to], a.message, true);
      else if (a.type === 'installSnapshot') this.sender.request(a.to);
    }
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
    while (this.applied < last && this.halt === null) {
      const from = this.applied + 1;
      const to = Math.min(last, from + APPLY_WINDOW - 1);
      const indices: number[] = [];
      const terms: number[] = [];
      forEachEntry(log, from, to, (index, term, kind) => {
        if (kind !== 'command') return;
        indices.push(index);
        terms.push(term);
      });
      const payloads = await this.payloadsOf(indices, terms);
      if (payloads === null || this.halt !== null || this.applied !== from - 1) return;
      const hint = leaderHint(this.node);
      for (let k = 0; k < indices.length; k++) {
        const index = indices[k]!;
        const payload = payloads[k]!;
        let ok = true;
        let outcome: unknown;
        try {
          outcome = this.sm.apply(this.codec.decode(payload), index);
        } catch (e) {
          ok = false;
          outcome = e;
        }
        this.applied = index;
        this.bytesSinceSnapshot += payload.length;
        this.counters.entriesApplied++;
        this.proposals.applied(index, terms[k]!, ok, outcome, hint);
      }
      this.applied = to;
      this.proposals.settleUpTo(to, (p) => overwritten(p, hint));
      this.cache.evictUpTo(to - this.settings.cacheEntries);
      this.reads.answerUpTo(this.applied);
      this.maybeSnapshot();
    }
  }

  /** The payloads of committed commands (from the cache, else the storage); null when the storage failed. */
  private async payloadsOf(indices: readonly number[], terms: readonly number[]): Promise<Uint8Array[] | null> {
    const out: Uint8Array[] = [];
    let lo = -1;
    let hi = -1;
    for (let k = 0; k < indices.length; k++) {
      const p = this.cache.get(indices[k]!, terms[k]!);
      if (p === undefined) {
        if (lo < 0) lo = indices[k]!;
        hi = indices[k]!;
      }
      out.push(p ?? EMPTY);
    }
    if (lo < 0) return out;
    let stored: readonly Uint8Array[];
    try {
      stored = await this.storage.payloads(lo - 1, hi);
    } catch (e) {
      this.haltWith({ kind: 'storage', reason: `storage payload read failed: ${messageOf(e)}` });
      return null;
    }
    for (let k = 0; k < indices.length; k++) {
      const i = indices[k]!;
      if (i >= lo && i <= hi && this.cache.get(i, terms[k]!) === undefined) out[k] = stored[i - lo]!;
    }
    return out;
  }

  /**
   * Send `message` to `peers` (with its payloads for an AppendEntries); `answer`: the destination
   * may be a non-member this node must answer (see `sendFrame`).
   */
  private async sendMessage(peers: readonly string[], message: Message, answer: boolean): Promise<void> {
    if (peers.length === 0) return;
    let m = message;
    let payloads = NO_PAYLOADS;
    if (m.type === 'appendEntries' && m.entries.lastIndex > m.entries.prevIndex) {
      const found = this.cachedPayloads(m.entries);
      const got = Array.isArray(found) ? found : await this.storedPayloads(m.entries);
      if (got === null || this.halt !== null) {
        this.counters.messagesDropped += peers.length;
        return;
      }
      payloads = got;
      const max = this.settings.maxFrameBytes;
      if (messageFrameSize(m, payloads) > max) {
        // The entries that fit under the full message's header (a cut message's header is no longer).
        const budget = max - messageFrameSize(m, NO_PAYLOADS);
        let used = 0;
        let k = 0;
        while (k < payloads.length && used + 4 + payloads[k]!.length <= budget) used += 4 + payloads[k++]!.length;
        // At least the first entry, if it fits under its own, shorter header: the follower must progress.
        if (k === 0 && messageFrameSize(truncateAppendEntries(m, 1), payloads.slice(0, 1)) <= max) k = 1;
        m = truncateAppendEntries(m, k);
        payloads = payloads.slice(0, k);
        this.counters.messagesTruncated++;
      }
    }
    const frame = encodeFrame({ kind: 'message', message: m, payloads });
    for (const to of peers) {
      if (this.sendFrame(to, frame, answer)) this.counters.messagesSent++;
      else this.counters.messagesDropped++;
    }
  }

  /** The payloads of a run of entries from the cache, or the first index missing from it. */
  private cachedPayloads(entries: LogEntries): Uint8Array[] | number {
    const out: Uint8Array[] = [];
    let missing = -1;
    forEachEntry(entries, entries.prevIndex + 1, entries.lastIndex, (index, term, kind) => {
      if (missing >= 0) return;
      if (kind !== 'command') {
        out.push(EMPTY);
        return;
      }
      const p = this.cache.get(index, term);
      if (p === undefined) missing = index;
      else out.push(p);
    });
    return missing >= 0 ? missing : out;
  }

  /**
   * The payloads of a run of entries, those the cache lacks read from the storage; null when the
   * storage no longer holds them (compacted: the message is dropped, and Raft sends again). Safe
   * for any entry of a message being sent: messages leave between the write of their batch and the
   * next write, so the storage holds exactly the log the batch closed with, and an AppendEntries that
   * survived the merge describes entries of that log (a later step that overwrote them raised the
   * term, and `mergeActions` dropped the older term's calls).
   */
  private async storedPayloads(entries: LogEntries): Promise<Uint8Array[] | null> {
    const from = entries.prevIndex;
    let stored: readonly Uint8Array[];
    try {
      stored = await this.storage.payloads(from, entries.lastIndex);
    } catch {
      return null;
    }
    const out: Uint8Array[] = [];
    forEachEntry(entries, from + 1, entries.lastIndex, (index, term, kind) => {
      if (kind !== 'command') out.push(EMPTY);
      else out.push(this.cache.get(index, term) ?? stored[index - from - 1] ?? EMPTY);
    });
    return out;
  }

  /**
   * Hand a frame to the transport; false when refused. `answer`: `to` may be outside the
   * configuration (a leader this node does not know as a member yet, a snapshot's sender), so it is
   * added to the transport's peers if needed; a broadcast goes to members only.
   */
  private sendFrame(to: string, frame: Uint8Array, answer: boolean): boolean {
    if (this.halt !== null) return false;
    if (answer) this.peers.ensure(to);
    return this.transport.send(to, frame);
  }

  // ---------------------------------------------------------------------------------------------
  // Peers

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
  // Stopping

  private stoppedError(): HostError {
    const h = this.halt;
    const why = h === null ? 'stopped' : `${h.kind}: ${h.reason}`;
    return new HostError('stopped', `host ${this.id} stopped (${why})`, leaderHint(this.node));
  }

  /** Stop the host for `info` (the first reason wins; see the module comment). */
  private haltWith(info: HaltInfo): void {
    if (this.halt !== null) return;
    this.halt = info;
    this.timer.cancel();
    this.sender.abortAll();
    this.batches.clear();
    this.inputs.length = 0;
    const error = this.stoppedError();
    const queued = this.proposeQueue;
    this.proposeQueue = [];
    for (const p of queued) p.reject(error);
    this.proposals.rejectAll(error);
    this.reads.rejectAll(error);
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const w of waiters) w.reject(error);
    this.record({ crash: true });
    this.closing = (async () => {
      if (this.running !== null) await this.running;
      await this.transport.close().catch(() => undefined);
      await this.storage.close().catch(() => undefined);
    })();
    void this.closing.then(() => this.resolveStopped(info));
  }
}

/** The `rejected` action of a request in `actions`, or null. */
function findRejected(actions: RaftActions, request: Rejected['request']): Rejected | null {
  for (const a of actions) if (a.type === 'rejected' && a.request === request) return a;
  return null;
}

/** The error for a refused request. */
function refusal(a: Rejected): HostError {
  const code = a.reason === 'notLeader' ? 'notLeader' : 'rejected';
  const hint = a.leaderHint === null ? '' : ` (leader: ${a.leaderHint})`;
  return new HostError(code, `${a.request} refused: ${a.reason}${hint}`, a.leaderHint, a.reason);
}
