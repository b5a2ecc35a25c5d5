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
 * A host is a node executor (./node-executor.ts: storage, transport, timers, payloads, applying,
 * snapshots, halting) and a loop that steps, wired here:
 *
 * - **Events, one at a time.** Every input — an event the executor hands over (a peer's message, the
 *   timer, a snapshot taken or received), a request of the application — goes through one queue and
 *   is stepped with the core's `step`, in arrival order; the node's state changes only there. Each
 *   step is reported to `onEvent` (./event-log.ts), so a run can be replayed exactly, and handed to
 *   the executor (`execute`); once the queue is drained, the executor starts on the batch (`flush`).
 * - **Proposals.** `propose` calls made in the same tick are stepped as one `{type: 'propose',
 *   count}` event. Each promise resolves with the state machine's result when its entry is applied,
 *   and rejects (`HostError`, with the leader hint) when the node refuses the proposal or the entry
 *   is overwritten (./proposals.ts, ./applying.ts).
 * - **Reads.** `read` steps `{type: 'read', id}` (ids unique per host instance); on `readReady {id,
 *   index}` it waits until the applied index reaches `index`, then answers from the state machine
 *   (./reads.ts). On a follower the core forwards the read to the leader (follower reads).
 * - **Membership changes and transfers** wait for the node to reach their outcome (./waiters.ts).
 * - **Stopping.** `stop()`, a `fatal` or `internalError` action, a failed storage call or a host bug
 *   halt the executor; the host then rejects every pending promise (`HostError` `stopped`) and emits
 *   a `crash` record; `stopped` settles once the transport and the storage are closed.
 *   `status().halted` says why.
 * - **Restart.** `createHost` loads the storage: on fresh storage the node starts empty
 *   (`startNode`), else it restarts (`restartNode`) with the state machine restored from the stored
 *   snapshot; committed entries above it are applied again as `commitAdvanced` announces them.
 *
 * This module imports only the core and the host's own modules, and runs in browsers.
 */
import {
  EMPTY_CONFIG,
  latestConfig,
  latestConfigIndex,
  leaderHint,
  makeConfig,
  restartNode,
  startNode,
  step,
  type ClusterConfig,
  type NodeOptions,
  type PersistedState,
  type RaftActions,
  type RaftEvent,
  type RaftState,
} from '../index.js';
import { hostMachine } from './applying.js';
import { HostError, asError, findRejected, messageOf, refusal, type HaltInfo } from './errors.js';
import type { HostEventRecord } from './event-log.js';
import { createNodeExecutor, type NodeExecutor } from './node-executor.js';
import type { PayloadSource } from './payloads.js';
import { ProposalBook } from './proposals.js';
import { ReadBook } from './reads.js';
import { jsonCodec, type CommandCodec, type StateMachine } from './state-machine.js';
import type { Storage, StoredNode } from './storage.js';
import { SYSTEM_CLOCK, type HostClock } from './timers.js';
import type { Transport } from './transport.js';
import { configWaiter, proposedConfig, transferWaiter, type Waiter } from './waiters.js';
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
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { MemoryStorage, createHost, createMemoryNetwork, type StateMachine } from 'raftstep/host';
 *
 * // The application's part: a replicated counter. Commands add to it; the query reads it.
 * let total = 0;
 * const counter: StateMachine<number, number, 'total', number> = {
 *   apply: (n) => (total += n),
 *   query: () => total,
 *   snapshot: () => new TextEncoder().encode(String(total)),
 *   restore: (bytes) => void (total = Number(new TextDecoder().decode(bytes))),
 * };
 * const network = createMemoryNetwork(); // in production: TcpTransport and FileStorage (raftstep/node)
 * const host = await createHost({
 *   id: 'n1',
 *   storage: new MemoryStorage(),
 *   transport: network.transport('n1'),
 *   stateMachine: counter,
 *   options: { heartbeatMs: 10 },
 * });
 * await host.createCluster(['n1']); // a cluster of one; others join with changeMembership
 * while (host.status().role !== 'leader') await new Promise((r) => setTimeout(r, 5));
 * assert.equal(await host.propose(5), 5); // resolves with apply's result, once committed and applied
 * assert.equal(await host.propose(2), 7);
 * assert.equal(await host.read('total'), 7); // linearizable (ReadIndex)
 * await host.stop();
 * ```
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

/** What a host's history records beside its steps (see ./event-log.ts). */
type Lifecycle = { start: true; options?: Partial<NodeOptions> } | { restart: PersistedState } | { crash: true };

/** The node's state from its storage (`startNode` on fresh storage, else `restartNode`), and its record. */
function initialNode(
  id: string,
  options: Partial<NodeOptions> | undefined,
  stored: StoredNode,
): { state: RaftState; actions: RaftActions; record: Lifecycle } {
  const h = stored.hardState;
  const snapshot = stored.snapshot;
  if (h.term === 0 && h.votedFor === null && stored.log.lastIndex === 0 && snapshot === null) {
    const state = startNode(id, options)[0];
    return { state, actions: [], record: options === undefined ? { start: true } : { start: true, options } };
  }
  const persisted: PersistedState = {
    id,
    term: h.term,
    votedFor: h.votedFor,
    log: stored.log,
    snapshotConfig: snapshot?.config ?? EMPTY_CONFIG,
    ...(options === undefined ? {} : { options }),
  };
  const [state, actions] = restartNode(persisted);
  return { state, actions, record: { restart: persisted } };
}

/** The host's counters, in the order `status()` has always listed them. */
function hostStats(own: StepCounters, executor: NodeExecutor): HostStats {
  const e = executor.stats();
  return {
    eventsStepped: own.eventsStepped,
    storageWrites: e.storageWrites,
    stepsBatched: e.stepsBatched,
    framesReceived: e.framesReceived,
    badFrames: e.badFrames,
    lastBadFrame: e.lastBadFrame,
    messagesSent: e.messagesSent,
    messagesDropped: e.messagesDropped,
    messagesTruncated: e.messagesTruncated,
    invalidEvents: own.invalidEvents,
    proposalsAccepted: own.proposalsAccepted,
    proposalsRefused: own.proposalsRefused,
    entriesApplied: e.entriesApplied,
    readsServed: own.readsServed,
    concurrentBatches: e.concurrentBatches,
    batchesAheadOfWrite: e.batchesAheadOfWrite,
    appendsReported: e.appendsReported,
    snapshots: executor.snapshotStats(),
  };
}

interface QueuedProposal<R> {
  readonly payload: Uint8Array;
  readonly resolve: (r: R) => void;
  readonly reject: (e: unknown) => void;
}

/** The counters the host keeps itself (the executor keeps the rest). */
type StepCounters = Pick<
  HostStats,
  'eventsStepped' | 'invalidEvents' | 'proposalsAccepted' | 'proposalsRefused' | 'readsServed'
>;

class HostImpl<C, R, Q, A> implements Host<C, R, Q, A> {
  readonly id: string;
  readonly stopped: Promise<HaltInfo>;
  private node: RaftState;
  private readonly executor: NodeExecutor;
  private readonly transport: Transport;
  private readonly codec: CommandCodec<C>;
  private readonly clock: HostClock;
  private readonly onEvent: ((record: HostEventRecord) => void) | undefined;
  private readonly nonce: string;
  private readonly proposals = new ProposalBook<R>();
  private readonly reads: ReadBook<Q, A>;
  private readonly counters: StepCounters = {
    eventsStepped: 0,
    invalidEvents: 0,
    proposalsAccepted: 0,
    proposalsRefused: 0,
    readsServed: 0,
  };
  private records = 0;
  /** The input queue (see `input`). */
  private readonly inputs: (() => void)[] = [];
  private draining = false;
  private proposeQueue: QueuedProposal<R>[] = [];
  private proposeScheduled = false;
  private readSeq = 0;
  private readonly waiters = new Set<Waiter>();
  /** The actions `restartNode` returned, carried out by `begin`. */
  private pendingStartActions: RaftActions;

  constructor(
    config: HostConfig<C, R, Q, A>,
    private readonly settings: Settings,
    stored: StoredNode,
  ) {
    this.id = config.id;
    this.transport = config.transport;
    const sm: StateMachine<C, R, Q, A> = config.stateMachine;
    this.codec = sm.codec ?? jsonCodec<C>();
    this.clock = config.clock ?? SYSTEM_CLOCK;
    const random = config.random ?? Math.random;
    this.onEvent = config.onEvent;
    this.nonce = Math.floor(random() * 2 ** 48).toString(36);
    this.reads = new ReadBook<Q, A>(
      (query) => sm.query(query),
      () => this.counters.readsServed++,
    );
    const start = initialNode(this.id, settings.node, stored);
    this.node = start.state;
    this.pendingStartActions = start.actions;
    const machine = hostMachine({
      stateMachine: sm,
      codec: this.codec,
      proposals: this.proposals,
      reads: this.reads,
      leaderHint: () => leaderHint(this.node),
    });
    this.executor = createNodeExecutor({
      id: this.id,
      storage: config.storage,
      transport: this.transport,
      machine,
      options: config.options,
      clock: this.clock,
      random,
      idPrefix: `${this.id}.${this.nonce}`,
      state: this.node,
      snapshot: stored.snapshot,
      stepNext: (event, payloads) => this.input(() => this.stepEvent(event, payloads)),
      halted: (info) => this.onHalted(info),
    });
    this.stopped = this.executor.stopped;
    this.record(start.record);
  }

  /** Start working once the transport runs: the peer set, and the restart's timer. */
  begin(): void {
    this.input(() => {
      this.executor.begin(this.pendingStartActions);
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
    if (this.halted !== null) return Promise.reject(this.stoppedError());
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
    if (this.halted !== null) return Promise.reject(this.stoppedError());
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
      const config = proposedConfig(latestConfig(s), change);
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
      const waiter = configWaiter(config, position, resolve, reject, (w) => this.waiters.delete(w));
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
      this.waiters.add(transferWaiter(term, to, resolve, reject, (w) => this.waiters.delete(w)));
    });
  }

  status(): HostStatus {
    const s = this.node;
    const e = this.executor;
    return {
      id: this.id,
      role: s.role,
      term: s.term,
      leader: leaderHint(s),
      commitIndex: s.commitIndex,
      appliedIndex: e.appliedIndex,
      lastIndex: s.log.lastIndex,
      snapshotIndex: s.log.prevIndex,
      members: latestConfig(s),
      halted: e.halted,
      transport: this.transport.stats(),
      stats: hostStats(this.counters, e),
      transfers: e.transfers(),
      receiving: e.receiving(),
    };
  }

  stop(): Promise<void> {
    return this.executor.halt({ kind: 'stopped', reason: 'stop() was called' });
  }

  /** A request stepped through the input queue; rejected at once (and at a stop) when the host stopped. */
  private request<T>(body: (resolve: (t: T) => void, reject: (e: Error) => void) => void): Promise<T> {
    if (this.halted !== null) return Promise.reject(this.stoppedError());
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
    this.executor.receive(from, bytes);
  }

  /** Why the host stopped, or null while it runs. */
  private get halted(): HaltInfo | null {
    return this.executor.halted;
  }

  /**
   * Run `fn` now, or after the input running now (inputs never interleave: a step and everything it
   * does synchronously finish before the next input starts). Then let the executor run.
   */
  private input(fn: () => void): void {
    if (this.halted !== null) return;
    this.inputs.push(fn);
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.inputs.length > 0 && this.halted === null) {
        const f = this.inputs.shift()!;
        try {
          f();
        } catch (e) {
          void this.executor.halt({ kind: 'host', reason: `host error: ${messageOf(e)}` });
        }
      }
    } finally {
      this.draining = false;
      if (this.halted !== null) this.inputs.length = 0;
    }
    this.executor.flush();
  }

  /**
   * Step `event` (only from an input): record it, hand the step to the executor (`payloads`: the
   * payloads of the commands it appends), handle the outcomes that are the host's (reads, invalid
   * events), then review the proposals and waiters. Returns the step's actions.
   */
  private stepEvent(event: RaftEvent, payloads?: PayloadSource): RaftActions {
    const before = this.node;
    const [next, actions] = step(before, event);
    this.node = next;
    this.counters.eventsStepped++;
    this.record({ step: event });
    this.executor.execute(next, actions, payloads);
    for (const a of actions) {
      if (a.type === 'readReady') this.reads.ready(a.id, a.index, this.executor.appliedIndex);
      else if (a.type === 'rejected' && a.request === 'read' && a.id !== null) this.reads.refused(a.id, refusal(a));
      else if (a.type === 'invalidEvent') this.counters.invalidEvents++;
    }
    if (this.halted === null) this.afterStep(before, event);
    return actions;
  }

  /** What a step changed for the requests: waiters settle, proposals that can no longer commit are rejected. */
  private afterStep(before: RaftState, event: RaftEvent): void {
    const s = this.node;
    if (this.waiters.size > 0) for (const w of [...this.waiters]) w.check(s, event);
    if (s === before || this.proposals.size === 0) return;
    const changed = s.term !== before.term || s.role !== before.role;
    const tail = s.log.lastIndex < before.log.lastIndex || s.log.lastTerm !== before.log.lastTerm;
    this.proposals.review(s, changed || tail, leaderHint(s));
  }

  /** Record `what` happened (see ./event-log.ts). */
  private record(what: Lifecycle | { step: RaftEvent }): void {
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
  // Stopping

  private stoppedError(): HostError {
    const h = this.halted;
    const why = h === null ? 'stopped' : `${h.kind}: ${h.reason}`;
    return new HostError('stopped', `host ${this.id} stopped (${why})`, leaderHint(this.node));
  }

  /** The executor halted: drop the inputs, reject every pending promise, record the crash. */
  private onHalted(_info: HaltInfo): void {
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
  }
}
