/**
 * `raftEffects`: the effects runner, a middleware that carries out what a raft slice's steps ask
 * for, so that no outbox plumbing is left to the application. It reacts after the reducer, the way
 * an RTK listener does; it can run as one (`listener: true`, or on the application's own listener
 * middleware), at about 10 µs more per action it reacts to.
 *
 * After every `stepped`, `proposed` or `restarted` action, the runner takes the node's outbox from
 * the state (dispatching `effectsTaken`), handles the outcomes at once (`readReady` settles a read,
 * `rejected` a proposal or a read, everything also goes to `onOutcome`) and hands the effects to
 * its executor (./executor.ts): the timer is re-armed, the writes made durable, the newly committed
 * commands read back and announced with an `applied` action, then the messages sent. Arrivals and
 * timeouts come back as `stepped` actions. Two executors:
 * - the host runtime's (`host` option, ./host-executor.ts): each node runs on the runtime's node
 *   executor, over any `Storage` and `Transport` (in memory, or files and TCP in a real process),
 *   with batched fsyncs, envelopes and snapshots — what `createHost` does, the store stepping;
 * - the in-memory one (the default, ./executor.ts): with its network, storage and a virtual clock,
 *   all of it happens inside the dispatch that caused it, deterministically (tests and demos).
 *
 * **Command payloads.** raftstep never sees commands, and neither does the slice state: a
 * `proposed` action carries them once, the runner keeps them (by index and term) for the node's
 * `appendLog`, the storage keeps them, AppendEntries carry them beside the message (never inside a
 * Redux action), and an `applied` action hands them to the application's reducers once per node.
 * So RTK's serializable check walks no payloads on the hot path (the `stepped` actions of messages
 * and timeouts, and the state); it sees each command only in its `proposed` action and its `applied`
 * actions. For large commands, add `'payload.commands'` to its `ignoredActionPaths`.
 *
 * **Replay, DevTools, rehydration.** Every change of the slice state goes through an action, and the
 * reducer is pure: replaying the recorded actions from the initial state gives the same state, with
 * or without the runner. While you jump around in Redux DevTools, pause the runner (or use a virtual
 * clock, which runs nothing until advanced): it would otherwise carry on from the state you jumped
 * to. On `persist/REHYDRATE` (redux-persist; `rehydrateActionType` to change it) the runner drops
 * everything in flight (messages, pending reads and proposals), re-arms every node's timer by its
 * role and takes the outboxes. Rehydrating is safe for Raft only when the storage is as of the same
 * moment as the state (persist both: `createMemoryRaftStorage().toJSON()`, or the host storage);
 * otherwise restart the nodes from their storage (`restart`).
 *
 * This module imports only the core, its siblings (and through them the host runtime) and
 * `@reduxjs/toolkit`.
 */
import {
  createListenerMiddleware,
  isAction,
  type ListenerMiddlewareInstance,
  type Middleware,
  type MiddlewareAPI,
  type UnknownAction,
} from '@reduxjs/toolkit';
import {
  commitStatus,
  forEachEntry,
  termAt,
  type RaftAction,
  type LogEntries,
  type Message,
  type RaftEvent,
  type RaftState,
  type Rejected,
  type TimerWait,
} from '../index.js';
import { isOutcome } from '../host/executor.js';
import type { RaftClock } from './clock.js';
import { createLocalExecutor, isThenable, type RaftDriver, type RaftEffectsExecutor } from './executor.js';
import { createHostExecutor, type RaftHostExecutorOptions } from './host-executor.js';
import { createRaftNetwork, type RaftNetworkPort, type RaftPayloads } from './network.js';
import type { RaftCommandEntry, RaftProposedPayload, RaftSlice, RaftSliceState } from './slice.js';
import { createMemoryRaftStorage, type RaftStorage } from './storage.js';

/** Where a proposal went: its term and the indices its commands took. */
export interface RaftProposal {
  /** The leader's term. */
  readonly term: number;
  /** The index of the first command. */
  readonly firstIndex: number;
  /** The index of the last command. */
  readonly lastIndex: number;
}

/**
 * Why a `propose` or `read` promise of the runner rejected:
 * - `rejected`: the node refused (`reason`: the core's reason, e.g. `notLeader`; `leaderHint`: where to retry).
 * - `invalid`: the event was malformed (e.g. an empty list of commands).
 * - `overwritten`: the proposal's entries were replaced by another leader's: never applied.
 * - `unknownOutcome`: the entries were compacted away before the node applied them.
 * - `stopped`: the node stopped, restarted, failed or halted, or the state was rehydrated.
 */
export type RaftRequestErrorCode = 'rejected' | 'invalid' | 'overwritten' | 'unknownOutcome' | 'stopped';

/** The error `propose` and `read` reject with. */
export class RaftRequestError extends Error {
  /** Always `'RaftRequestError'`. */
  override readonly name = 'RaftRequestError';

  constructor(
    /** What went wrong (see {@link RaftRequestErrorCode}). */
    readonly code: RaftRequestErrorCode,
    message: string,
    /** The node believed to lead, where to retry (null: unknown). */
    readonly leaderHint: string | null = null,
    /** The core's reason, for `rejected`. */
    readonly reason: Rejected['reason'] | null = null,
  ) {
    super(message);
  }
}

/** Options of {@link raftEffects}. Only `slice` is required. */
export interface RaftEffectsOptions<Command, Name extends string> {
  /** The slice whose nodes the runner drives (mounted at `slice.reducerPath` in the root state). */
  slice: RaftSlice<Command, Name>;
  /**
   * What carries the effects out. Default: the host runtime's (`createHostExecutor`) when `host` is
   * given, else the in-memory {@link createLocalExecutor} over `storage`, `network` and `clock`.
   */
  executor?: RaftEffectsExecutor<Command>;
  /**
   * Run every node through the host runtime, over the `Storage` and `Transport` these options give
   * per node (see ./host-executor.ts): `MemoryStorage` and a memory network's transports, or
   * `FileStorage` and `TcpTransport`. `network`, `storage`, `clock`, `heartbeatMs` and `seed` are
   * then ignored (the host options have their own `clock`, `random` and `options.heartbeatMs`).
   */
  host?: RaftHostExecutorOptions<Command>;
  /** The network (local executor). Default a new in-memory network on `clock`. */
  network?: RaftNetworkPort<Command>;
  /** The storage (local executor). Default a new in-memory storage. */
  storage?: RaftStorage<Command>;
  /** The clock of the timers (local executor). Default the network's clock, else the system clock. */
  clock?: RaftClock;
  /** The heartbeat interval in milliseconds (local executor). Default 50. */
  heartbeatMs?: number;
  /** The seed of the election timeouts (local executor). Default 1. */
  seed?: number;
  /** Called for every command a node applies, after its `applied` action was dispatched. */
  onApply?: (node: string, index: number, command: Command) => void;
  /** Called for every outcome a node reports: `readReady`, `rejected`, `invalidEvent`, `fatal`, `internalError`. */
  onOutcome?: (node: string, outcome: RaftAction) => void;
  /** Called when a node's I/O fails (the node is then left alone: no timer, no work). Default: rethrown asynchronously. */
  onError?: (error: unknown, node: string) => void;
  /**
   * How the runner hooks into the store. Default (`false`): its own middleware, which reacts after
   * the reducer and the subscribers, like a listener. `true`: through a new RTK listener middleware
   * (`createListenerMiddleware`), which costs about 10 µs more per action it reacts to (an
   * AbortController and a few promises each; see bench/redux.ts). A listener middleware instance: the
   * runner registers on it, and that instance's middleware (which you add to the store yourself)
   * does the work; the runner's own middleware then only introduces the store to the runner at once
   * (without it, the runner learns of the store at its first action, and `propose`, `read` and
   * `restart` throw until then).
   */
  listener?: boolean | ListenerMiddlewareInstance;
  /** The action after which the state counts as rehydrated. Default `'persist/REHYDRATE'` (redux-persist). */
  rehydrateActionType?: string;
}

/** The runner `raftEffects` returns. */
export interface RaftEffects<Command> {
  /** The middleware to add to the store: `getDefaultMiddleware().concat(effects.middleware)`. */
  readonly middleware: Middleware;
  /** The executor carrying the effects out. */
  readonly executor: RaftEffectsExecutor<Command>;
  /** True while paused (see {@link pause}). */
  readonly paused: boolean;
  /**
   * Propose `commands` on `node` (dispatches `proposed`). Resolves with where they went once `node`
   * applied them; rejects with a {@link RaftRequestError} when the node refuses (`notLeader`: retry
   * on `leaderHint`), when the entries are overwritten, or when the node stops.
   */
  propose(node: string, commands: readonly Command[]): Promise<RaftProposal>;
  /**
   * A linearizable read on `node` (dispatches `stepped(node, {type: 'read', id})`). Resolves with the
   * read index once the node applied its log up to it: then read your state machine for `node`.
   */
  read(node: string): Promise<number>;
  /** Restart `node` from its storage (dispatches `restarted` with what the storage holds). */
  restart(node: string): Promise<void>;
  /**
   * Stop taking effects: steps still happen (timers that were armed fire, messages in flight
   * arrive) and their effects accumulate, merged, in the outbox, visible in the state.
   */
  pause(): void;
  /** Take every outbox and carry on. */
  resume(): void;
  /** Re-arm every node's timer by its role and take every outbox (what the runner does on rehydration). */
  rearm(): void;
  /** Stop for good: timers cancelled, network disconnected, pending promises rejected. */
  stop(): void;
}

/** A read waiting for its answer, then for the applied index. */
interface PendingRead {
  readonly node: string;
  readonly resolve: (index: number) => void;
  readonly reject: (e: RaftRequestError) => void;
  /** The read index once `readReady` came; null before. */
  index: number | null;
}

/** A proposal waiting to be applied. */
interface PendingProposal extends RaftProposal {
  readonly node: string;
  readonly resolve: (p: RaftProposal) => void;
  readonly reject: (e: RaftRequestError) => void;
}

/** The timer a node of this role waits on. */
function waitFor(state: RaftState): TimerWait {
  switch (state.role) {
    case 'leader':
      return 'heartbeat';
    case 'follower':
      return 'follower';
    default:
      return 'election';
  }
}

/** The key of a staged command. */
function stageKey(index: number, term: number): string {
  return index + ':' + term;
}

/** Own-property lookup in a record. */
function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}

/**
 * Create the effects runner of `options.slice` (see the module comment). Add its `middleware` to
 * the store; one runner serves one store.
 *
 * ```ts
 * const raft = createRaftSlice<Command>({ nodes: ['n1', 'n2', 'n3'] });
 * const effects = raftEffects({ slice: raft, network: createRaftNetwork({ clock }) });
 * const store = configureStore({
 *   reducer: { raft: raft.reducer, kv: kvReducer },        // kvReducer handles raft.actions.applied
 *   middleware: (gdm) => gdm().concat(effects.middleware),
 * });
 * store.dispatch(raft.actions.stepped('n1', { type: 'createCluster', voters: ['n1', 'n2', 'n3'] }));
 * ```
 */
export function raftEffects<Command, Name extends string>(
  options: RaftEffectsOptions<Command, Name>,
): RaftEffects<Command> {
  return new Runner(options);
}

class Runner<Command, Name extends string> implements RaftEffects<Command>, RaftDriver<Command> {
  readonly middleware: Middleware;
  readonly executor: RaftEffectsExecutor<Command>;
  private api: MiddlewareAPI | null = null;
  private readonly slice: RaftSlice<Command, Name>;
  private readonly types: Set<string>;
  private readonly rehydrateType: string;
  private readonly onApply: RaftEffectsOptions<Command, Name>['onApply'];
  private readonly onOutcome: RaftEffectsOptions<Command, Name>['onOutcome'];
  private readonly onError: (error: unknown, node: string) => void;
  /** Commands proposed or received and not yet written, per node, by index and term. */
  private readonly staged = new Map<string, Map<string, Command>>();
  private readonly reads = new Map<string, PendingRead>();
  private readonly proposals: PendingProposal[] = [];
  private readSeq = 0;
  /** Bumped whenever a node's pending requests are dropped (it stopped, restarted, failed or halted). */
  private readonly epochs = new Map<string, number>();
  private epoch = 0;
  /** Where the last `proposed` went (null: refused), with the refusal; read by `propose`. */
  private lastProposal: { position: RaftProposal | null; refusal: RaftAction | null } | null = null;
  private isPaused = false;
  private stopped = false;
  /** The node `restart` is dispatching `restarted` for (its executor was forgotten before the load). */
  private restarting: string | null = null;

  constructor(options: RaftEffectsOptions<Command, Name>) {
    this.slice = options.slice;
    const a = options.slice.actions;
    this.types = new Set([a.stepped.type, a.proposed.type, a.restarted.type, a.stopped.type]);
    this.rehydrateType = options.rehydrateActionType ?? 'persist/REHYDRATE';
    this.onApply = options.onApply;
    this.onOutcome = options.onOutcome;
    this.onError =
      options.onError ??
      ((error) => {
        queueMicrotask(() => {
          throw error;
        });
      });
    if (options.executor !== undefined) {
      this.executor = options.executor;
    } else if (options.host !== undefined) {
      this.executor = createHostExecutor(options.host);
    } else {
      const network = options.network ?? createRaftNetwork<Command>(options.clock ? { clock: options.clock } : {});
      this.executor = createLocalExecutor<Command>({
        network,
        storage: options.storage ?? createMemoryRaftStorage<Command>(),
        clock: options.clock ?? network.clock,
        ...(options.heartbeatMs !== undefined ? { heartbeatMs: options.heartbeatMs } : {}),
        ...(options.seed !== undefined ? { seed: options.seed } : {}),
      });
    }
    const wanted = (action: unknown): action is UnknownAction =>
      isAction(action) && (this.types.has(action.type) || action.type === this.rehydrateType);
    const attach = (api: MiddlewareAPI) => {
      if (this.api !== null) throw new Error('raftEffects: one runner serves one store');
      this.api = { dispatch: (action) => api.dispatch(action), getState: (): unknown => api.getState() };
      this.executor.attach(this);
    };
    const listener = options.listener === true ? createListenerMiddleware() : options.listener;
    if (listener === undefined || listener === false) {
      // The direct middleware: the same order as a listener (after the reducer and the subscribers),
      // without a listener's per-action AbortController and promises.
      this.middleware = (api) => {
        attach(api);
        return (next) => (action) => {
          if (!wanted(action)) return next(action);
          const before: unknown = api.getState();
          const result = next(action);
          this.guarded(action, () => this.onAction(action, () => before));
          return result;
        };
      };
    } else {
      listener.startListening({
        predicate: wanted,
        effect: (action, api) => {
          if (this.api === null) attach(api); // the runner's own middleware was left out: fine
          this.onAction(action, () => api.getOriginalState());
        },
      });
      const inner = options.listener === true ? listener.middleware : null;
      this.middleware = (api) => {
        attach(api);
        return inner === null ? (next) => (action) => next(action) : inner(api);
      };
    }
  }

  /** Run the runner's reaction to `action`, reporting an exception (a callback's, or a bug) to `onError`. */
  private guarded(action: UnknownAction, body: () => void): void {
    try {
      body();
    } catch (e) {
      const node = (action.payload as { node?: unknown } | undefined)?.node;
      this.onError(e, typeof node === 'string' ? node : '');
    }
  }

  get paused(): boolean {
    return this.isPaused;
  }

  // The application's side

  propose(node: string, commands: readonly Command[]): Promise<RaftProposal> {
    const api = this.store();
    this.lastProposal = null;
    const epoch = this.epochOf(node);
    api.dispatch(this.slice.actions.proposed(node, commands));
    const result = this.lastProposal as { position: RaftProposal | null; refusal: RaftAction | null } | null;
    this.lastProposal = null;
    if (result === null || this.epochOf(node) !== epoch) {
      return Promise.reject(new RaftRequestError('stopped', `propose: node ${node} is not in service`));
    }
    if (result.position === null) return Promise.reject(refusalError('propose', node, result.refusal));
    const position = result.position;
    return new Promise<RaftProposal>((resolve, reject) => {
      this.proposals.push({ ...position, node, resolve, reject });
      this.settleProposals(node);
    });
  }

  read(node: string): Promise<number> {
    const api = this.store();
    // Unique among the node's reads in flight, also those a rehydrated state still holds from an
    // earlier runner: the slice's step count keeps growing across runners.
    const id = `raftEffects-${this.sliceState().steps}-${++this.readSeq}`;
    const promise = new Promise<number>((resolve, reject) => {
      this.reads.set(id, { node, resolve, reject, index: null });
    });
    if (own(this.sliceState().nodes, node) === undefined) {
      this.rejectRead(id, new RaftRequestError('stopped', `read: node ${node} is not in the store`));
    } else {
      api.dispatch(this.slice.actions.stepped(node, { type: 'read', id }));
    }
    return promise;
  }

  async restart(node: string): Promise<void> {
    const api = this.store();
    this.executor.forget(node);
    const loaded = this.executor.load(node);
    const persisted = isThenable(loaded) ? await loaded : loaded;
    this.restarting = node;
    try {
      api.dispatch(this.slice.actions.restarted(node, persisted));
    } finally {
      this.restarting = null;
    }
  }

  pause(): void {
    this.isPaused = true;
  }

  resume(): void {
    this.isPaused = false;
    for (const node of Object.keys(this.sliceState().outbox)) this.take(node);
  }

  rearm(): void {
    const s = this.sliceState();
    for (const node of Object.keys(s.nodes)) {
      const state = s.nodes[node]!;
      const box = own(s.outbox, node);
      if (box === undefined || !box.effects.some((a) => a.type === 'setTimer')) {
        this.executor.execute({
          node,
          state,
          effects: [{ type: 'setTimer', wait: waitFor(state) }],
          appendPayloads: [],
        });
      }
    }
    if (!this.isPaused) for (const node of Object.keys(s.outbox)) this.take(node);
  }

  stop(): void {
    this.stopped = true;
    this.executor.stop();
    this.dropPending(null, 'the runner stopped');
  }

  // The executor's side (RaftDriver)

  owns(id: string): boolean {
    return !this.stopped && this.api !== null && own(this.sliceState().nodes, id) !== undefined;
  }

  nodes(): readonly string[] {
    return Object.keys(this.sliceState().nodes);
  }

  state(id: string): RaftState | undefined {
    return own(this.sliceState().nodes, id);
  }

  step(node: string, event: RaftEvent): void {
    if (this.stopped) return;
    this.dispatch(this.slice.actions.stepped(node, event));
  }

  deliver(to: string, from: string, message: Message, payloads: RaftPayloads<Command>): void {
    if (this.stopped) return;
    if (message.type === 'appendEntries' && payloads.length > 0) this.stageReceived(to, message.entries, payloads);
    this.dispatch(this.slice.actions.stepped(to, message));
  }

  timeout(node: string): void {
    if (this.stopped) return;
    this.dispatch(this.slice.actions.stepped(node, { type: 'timeout' }));
  }

  appliedIndex(node: string): number {
    return own(this.sliceState().applied, node) ?? 0;
  }

  applied(node: string, index: number, commands: readonly RaftCommandEntry<Command>[]): void {
    if (this.stopped) return;
    this.dispatch(this.slice.actions.applied(node, index, commands));
    if (this.onApply !== undefined) for (const c of commands) this.onApply(node, c.index, c.command);
    for (const [id, r] of this.reads) {
      if (r.node === node && r.index !== null && r.index <= index) {
        this.reads.delete(id);
        r.resolve(r.index);
      }
    }
    this.settleProposals(node);
  }

  failed(node: string, error: unknown): void {
    this.executor.forget(node);
    this.staged.delete(node);
    this.dropPending(node, `node ${node} failed`);
    // Take the node out of service, visibly (and replayably): nothing after the failure is durable.
    if (!this.stopped && own(this.sliceState().nodes, node) !== undefined)
      this.dispatch(this.slice.actions.stopped(node));
    this.onError(error, node);
  }

  // Internals

  /** The listener's effect: what to do after one of the slice's actions reached the reducer. */
  private onAction(action: UnknownAction, original: () => unknown): void {
    if (this.stopped) return;
    if (action.type === this.rehydrateType) {
      this.executor.reset();
      this.staged.clear();
      this.dropPending(null, 'the state was rehydrated');
      this.rearm();
      return;
    }
    const a = this.slice.actions;
    if (a.stepped.match(action)) {
      this.take(action.payload.node);
    } else if (a.proposed.match(action)) {
      this.proposed(action.payload, original() as Record<string, RaftSliceState>);
      this.take(action.payload.node);
    } else if (a.restarted.match(action)) {
      const node = action.payload.node;
      if (this.restarting !== node) this.executor.forget(node);
      this.staged.delete(node);
      this.dropPending(node, `node ${node} restarted`);
      this.take(node);
    } else if (a.stopped.match(action)) {
      const node = action.payload.node;
      this.executor.forget(node);
      this.staged.delete(node);
      this.dropPending(node, `node ${node} stopped`);
    }
  }

  /** After a `proposed` action: stage its commands where they went, and remember that for `propose`. */
  private proposed(p: RaftProposedPayload<Command>, originalRoot: Record<string, RaftSliceState>): void {
    const before = own(this.slice.selectSlice(originalRoot as { [K in Name]: RaftSliceState }).nodes, p.node);
    const s = this.sliceState();
    const after = own(s.nodes, p.node);
    if (before === undefined || after === undefined) {
      this.lastProposal = null;
      return;
    }
    if (after.log.lastIndex === before.log.lastIndex) {
      const effects = own(s.outbox, p.node)?.effects ?? [];
      let refusal: RaftAction | null = null;
      for (const e of effects)
        if ((e.type === 'rejected' && e.request === 'propose') || e.type === 'invalidEvent') refusal = e;
      this.lastProposal = { position: null, refusal };
      return;
    }
    const lastIndex = after.log.lastIndex;
    const position = { term: after.term, firstIndex: lastIndex - p.commands.length + 1, lastIndex };
    const stage = this.stageOf(p.node);
    for (let k = 0; k < p.commands.length; k++)
      stage.set(stageKey(position.firstIndex + k, position.term), p.commands[k]!);
    this.lastProposal = { position, refusal: null };
  }

  /** Stage the commands an AppendEntries brought, by index and term. */
  private stageReceived(node: string, entries: LogEntries, payloads: RaftPayloads<Command>): void {
    const stage = this.stageOf(node);
    const from = entries.prevIndex + 1;
    const to = Math.min(entries.lastIndex, entries.prevIndex + payloads.length);
    forEachEntry(entries, from, to, (index, term, kind) => {
      if (kind !== 'command') return;
      const command = payloads[index - from];
      if (command !== undefined) stage.set(stageKey(index, term), command);
    });
  }

  private stageOf(node: string): Map<string, Command> {
    let stage = this.staged.get(node);
    if (stage === undefined) {
      stage = new Map();
      this.staged.set(node, stage);
    }
    return stage;
  }

  /** Take `node`'s outbox: dispatch `effectsTaken`, hand the effects to the executor, handle the outcomes. */
  private take(node: string): void {
    if (this.isPaused) return;
    const s = this.sliceState();
    const box = own(s.outbox, node);
    const state = own(s.nodes, node);
    if (box === undefined || state === undefined) return;
    this.dispatch(this.slice.actions.effectsTaken(node, box.through));
    const effects = box.effects;
    let appendPayloads: RaftPayloads<Command>[];
    try {
      appendPayloads = effects.flatMap((a) => (a.type === 'appendLog' ? [this.payloadsFor(node, a.entries)] : []));
    } catch (e) {
      this.failed(node, e);
      return;
    }
    this.executor.execute({ node, state, effects, appendPayloads });
    this.staged.delete(node);
    for (const o of effects) if (isOutcome(o)) this.outcome(node, o);
  }

  /** The commands of an append's entries, from the staged ones; throws when a command is missing. */
  private payloadsFor(node: string, entries: LogEntries): RaftPayloads<Command> {
    const stage = this.staged.get(node);
    const out: (Command | undefined)[] = [];
    forEachEntry(entries, entries.prevIndex + 1, entries.lastIndex, (index, term, kind) => {
      if (kind !== 'command') {
        out.push(undefined);
        return;
      }
      const command = stage?.get(stageKey(index, term));
      if (command === undefined) {
        throw new Error(`raftEffects: no command for the entry (${term}, ${index}) ${node} appends`);
      }
      out.push(command);
    });
    return out;
  }

  /** Handle one outcome: settle a read or report it. */
  private outcome(node: string, o: RaftAction): void {
    if (o.type === 'readReady') {
      const r = this.reads.get(o.id);
      if (r !== undefined && r.node === node) {
        if (this.appliedIndex(node) >= o.index) {
          this.reads.delete(o.id);
          r.resolve(o.index);
        } else r.index = o.index;
      }
    } else if (o.type === 'rejected' && o.request === 'read' && o.id !== null) {
      const r = this.reads.get(o.id);
      if (r !== undefined && r.node === node) this.rejectRead(o.id, refusalError('read', node, o));
    } else if (o.type === 'fatal' || o.type === 'internalError') {
      this.executor.forget(node);
      this.dropPending(node, `node ${node} halted: ${o.reason}`);
    }
    this.onOutcome?.(node, o);
  }

  /** Settle the proposals of `node` its application has applied. */
  private settleProposals(node: string): void {
    const state = own(this.sliceState().nodes, node);
    const applied = this.appliedIndex(node);
    for (let k = 0; k < this.proposals.length; k++) {
      const p = this.proposals[k]!;
      if (p.node !== node || p.lastIndex > applied || state === undefined) continue;
      this.proposals.splice(k--, 1);
      const status = commitStatus(state, { term: p.term, index: p.lastIndex });
      if (status === 'committed') p.resolve({ term: p.term, firstIndex: p.firstIndex, lastIndex: p.lastIndex });
      else if (status === 'rejected') {
        const now = termAt(state.log, p.lastIndex);
        p.reject(
          new RaftRequestError(
            'overwritten',
            `the proposal (${p.term}, ${p.firstIndex}..${p.lastIndex}) was overwritten in term ${now}`,
          ),
        );
      } else p.reject(new RaftRequestError('unknownOutcome', `the proposal at ${p.lastIndex} was compacted away`));
    }
  }

  private rejectRead(id: string, e: RaftRequestError): void {
    const r = this.reads.get(id);
    if (r === undefined) return;
    this.reads.delete(id);
    r.reject(e);
  }

  /** The count of drops of `node`'s pending requests (see `dropPending`). */
  private epochOf(node: string): number {
    return this.epoch + (this.epochs.get(node) ?? 0);
  }

  /** Reject the reads and proposals of `node` (of every node: null). */
  private dropPending(node: string | null, why: string): void {
    if (node === null) this.epoch++;
    else this.epochs.set(node, (this.epochs.get(node) ?? 0) + 1);
    for (const [id, r] of this.reads)
      if (node === null || r.node === node) this.rejectRead(id, new RaftRequestError('stopped', why));
    for (let k = 0; k < this.proposals.length; k++) {
      const p = this.proposals[k]!;
      if (node !== null && p.node !== node) continue;
      this.proposals.splice(k--, 1);
      p.reject(new RaftRequestError('stopped', why));
    }
  }

  private store(): MiddlewareAPI {
    if (this.api === null) throw new Error('raftEffects: add effects.middleware to a store first');
    if (this.stopped) throw new Error('raftEffects: the runner was stopped');
    return this.api;
  }

  private dispatch(action: UnknownAction): void {
    this.api!.dispatch(action);
  }

  private sliceState(): RaftSliceState {
    return this.slice.selectSlice(this.api!.getState() as { [K in Name]: RaftSliceState });
  }
}

/** The error of a refused proposal or read. */
function refusalError(what: string, node: string, refusal: RaftAction | null): RaftRequestError {
  if (refusal !== null && refusal.type === 'rejected') {
    return new RaftRequestError(
      'rejected',
      `${what} on ${node} rejected: ${refusal.reason}${refusal.leaderHint === null ? '' : ` (leader: ${refusal.leaderHint})`}`,
      refusal.leaderHint,
      refusal.reason,
    );
  }
  const reason = refusal !== null && refusal.type === 'invalidEvent' ? refusal.reason : 'not accepted';
  return new RaftRequestError('invalid', `${what} on ${node}: ${reason}`);
}
