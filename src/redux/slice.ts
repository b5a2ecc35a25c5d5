/**
 * `createRaftSlice`: a Redux Toolkit slice holding one raftstep node or a whole cluster, whose
 * reducer calls `step`.
 *
 * The slice state is plain JSON: every node's `RaftState`, the effects its steps produced and the
 * effects runner has not carried out yet (the outbox, merged with the core's `mergeActions`), and how
 * far the application applied each node's log. The reducer is pure, so replaying the recorded
 * actions from the initial state gives the same state (Redux DevTools can jump to any action), and
 * a persisted state can be rehydrated. Command payloads are not in the state: they travel with the
 * `proposed` and `applied` actions only (see the module comment of ./runner.ts).
 *
 * Immer: RTK runs case reducers on drafts; raftstep states are immutable values, so these case
 * reducers read the draft's original and return a new state, never touching the draft. The slice's
 * types are readonly all the way down and need no `castDraft` anywhere.
 */
import {
  createSlice,
  isDraft,
  original,
  type CaseReducer,
  type Draft,
  type PayloadAction,
  type Slice,
} from '@reduxjs/toolkit';
import {
  mergeActions,
  proposeCommands,
  restartNode,
  startNode,
  step,
  type RaftActions,
  type NodeOptions,
  type RaftEvent,
  type RaftState,
} from '../index.js';
import type { RaftPersisted } from './storage.js';

/** Effects of a node's steps not yet carried out by the effects runner. */
export interface RaftOutbox {
  /** The actions of every step since the runner last took them, merged (`mergeActions`), in order. */
  readonly effects: RaftActions;
  /** The number ({@link RaftSliceState.steps}) of the last step merged in; `effectsTaken` names it. */
  readonly through: number;
}

/** The state of a raft slice: JSON, readonly all the way down. */
export interface RaftSliceState {
  /** Every node's state, by id. Read them with the core's queries (`peersOf`, `commitStatus`, ...). */
  readonly nodes: Readonly<Record<string, RaftState>>;
  /** The effects not carried out yet, by node (no entry: none). Normally empty between dispatches. */
  readonly outbox: Readonly<Record<string, RaftOutbox>>;
  /** The highest log index each node's application has applied (its `applied` actions). */
  readonly applied: Readonly<Record<string, number>>;
  /** How many steps changed something (numbers the outbox batches). */
  readonly steps: number;
}

/** The payload of `stepped`: step `event` on `node`. */
export interface RaftSteppedPayload {
  /** The node's id. */
  readonly node: string;
  /** The event: a peer's message, or a request (`createCluster`, `timeout`, `read`, ...). */
  readonly event: RaftEvent;
}

/** The payload of `proposed`: propose `commands` on `node` (one `propose {count}` step). */
export interface RaftProposedPayload<Command> {
  /** The node's id (the leader, or the proposal is rejected). */
  readonly node: string;
  /** The commands, in order; the effects runner keeps them for the indices they took. */
  readonly commands: readonly Command[];
}

/** The payload of `effectsTaken`: the runner took `node`'s outbox up to step `through`. */
export interface RaftEffectsTakenPayload {
  /** The node's id. */
  readonly node: string;
  /** The outbox's `through` when taken (a newer outbox is left alone). */
  readonly through: number;
}

/** One applied command and the log index it had. */
export interface RaftCommandEntry<Command> {
  /** The command's log index. */
  readonly index: number;
  /** The command, as proposed. */
  readonly command: Command;
}

/**
 * The payload of `applied`: `node` applied its log up to `index`; `commands` are the commands among
 * the entries newly applied, in index order (term starts and configurations carry none). Handle
 * this action in your own slice to run the replicated state machine as a Redux reducer.
 */
export interface RaftAppliedPayload<Command> {
  /** The node's id. */
  readonly node: string;
  /** The new applied index. */
  readonly index: number;
  /** The commands newly applied, in index order. */
  readonly commands: readonly RaftCommandEntry<Command>[];
}

/** The payload of `started`: a fresh node `node` (the core's `startNode`). */
export interface RaftStartedPayload {
  /** The node's id. */
  readonly node: string;
  /** Its options; the slice's options when left out. */
  readonly options?: Partial<NodeOptions>;
}

/** The payload of `restarted`: `node` restarts from what it persisted (the core's `restartNode`). */
export interface RaftRestartedPayload {
  /** The node's id. */
  readonly node: string;
  /** What it persisted (the effects runner's `restart` reads it from the storage). */
  readonly persisted: RaftPersisted;
}

/** The payload of `stopped`: `node` is taken out of the store. */
export interface RaftStoppedPayload {
  /** The node's id. */
  readonly node: string;
}

/** A case reducer of the slice with its prepare callback (positional arguments). */
type Prepared<P, Args extends unknown[]> = {
  reducer: CaseReducer<RaftSliceState, PayloadAction<P>>;
  prepare: (...args: Args) => { payload: P };
};

/** The case reducers of a raft slice: its action creators are `slice.actions.<name>(...args)`. */
export type RaftCaseReducers<Command> = {
  /** `stepped(node, event)`: step one event on a node. */
  stepped: Prepared<RaftSteppedPayload, [node: string, event: RaftEvent]>;
  /** `proposed(node, commands)`: propose commands on a node (the leader). */
  proposed: Prepared<RaftProposedPayload<Command>, [node: string, commands: readonly Command[]]>;
  /** `effectsTaken(node, through)`: dispatched by the effects runner when it takes an outbox. */
  effectsTaken: Prepared<RaftEffectsTakenPayload, [node: string, through: number]>;
  /** `applied(node, index, commands)`: dispatched by the effects runner when a node applied its log up to `index`. */
  applied: Prepared<
    RaftAppliedPayload<Command>,
    [node: string, index: number, commands: readonly RaftCommandEntry<Command>[]]
  >;
  /** `started(node, options?)`: add a fresh node. */
  started: Prepared<RaftStartedPayload, [node: string, options?: Partial<NodeOptions>]>;
  /** `restarted(node, persisted)`: replace a node by its restart from persisted state. */
  restarted: Prepared<RaftRestartedPayload, [node: string, persisted: RaftPersisted]>;
  /** `stopped(node)`: remove a node (crashed, shut down or removed from the cluster). */
  stopped: Prepared<RaftStoppedPayload, [node: string]>;
};

/** The selectors of a raft slice (`slice.selectors.<name>(rootState, ...)`). */
export type RaftSelectors = {
  /** A node's state, or undefined. */
  selectNode: (state: RaftSliceState, id: string) => RaftState | undefined;
  /** The leader of the highest term among the nodes, or null when no node leads. */
  selectLeader: (state: RaftSliceState) => string | null;
  /** How far a node's application applied its log (0 when unknown). */
  selectApplied: (state: RaftSliceState, id: string) => number;
};

/** The slice `createRaftSlice` returns: an RTK `Slice`, with the action creators of {@link RaftCaseReducers}. */
export type RaftSlice<Command = unknown, Name extends string = 'raft'> = Slice<
  RaftSliceState,
  RaftCaseReducers<Command>,
  Name,
  Name,
  RaftSelectors
>;

/** Options of {@link createRaftSlice}; every field is optional. */
export interface RaftSliceOptions<Name extends string = 'raft'> {
  /** The slice's name: the prefix of its action types and its key in the root state. Default `'raft'`. */
  name?: Name;
  /** The nodes of the initial state, started fresh (`startNode`). Default none (add them with `started`). */
  nodes?: readonly string[];
  /** The options of every node this slice starts (a `started` action may give its own). Default the core's. */
  options?: Partial<NodeOptions>;
}

/** Own-property lookup in a record (node ids are data: `__proto__` is just an id). */
function own<T>(record: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.prototype.hasOwnProperty.call(record, key) ? record[key] : undefined;
}

/** Set `record[key]` as an own property (also for the key `__proto__`). */
function put<T>(record: Record<string, T>, key: string, value: T): void {
  if (key === '__proto__')
    Object.defineProperty(record, key, { value, enumerable: true, writable: true, configurable: true });
  else record[key] = value;
}

/**
 * `x`, deep-frozen: every object reachable from it that is not frozen yet is frozen, and the walk
 * stops at frozen objects. A step creates a handful of new objects and shares the rest with the
 * state before, which is frozen already, so this costs little. Frozen values are what immer's
 * auto-freeze would have made of them, what lets RTK's checks skip unchanged parts of the state
 * (the immutable check stops at frozen objects, the serializable check caches deep-frozen ones), and
 * what makes any write to the state outside a reducer throw.
 */
function frozen<T>(x: T): T {
  if (typeof x !== 'object' || x === null || Object.isFrozen(x)) return x;
  Object.freeze(x);
  if (Array.isArray(x)) for (let i = 0; i < x.length; i++) frozen(x[i]);
  else for (const k in x) frozen(x[k]);
  return x;
}

/** A frozen copy of `record` with `key` set. */
function withKey<T>(record: Readonly<Record<string, T>>, key: string, value: T): Readonly<Record<string, T>> {
  const out: Record<string, T> = { ...record };
  put(out, key, value);
  return Object.freeze(out);
}

/** A frozen copy of `record` without `key` (the same object when it has none). */
function withoutKey<T>(record: Readonly<Record<string, T>>, key: string): Readonly<Record<string, T>> {
  if (!Object.prototype.hasOwnProperty.call(record, key)) return record;
  const out: Record<string, T> = { ...record };
  delete out[key];
  return Object.freeze(out);
}

/**
 * A new slice state, frozen. Immer finalizes (walks for drafts, then deep-freezes) whatever a case
 * reducer returns unless it is frozen already. These reducers touch no draft, and every value in the
 * new state is frozen already (the containers here, the rest by {@link frozen}), so a frozen root
 * tells immer there is nothing to do, which saves most of a dispatch's cost.
 */
function sliceState(
  nodes: Readonly<Record<string, RaftState>>,
  outbox: Readonly<Record<string, RaftOutbox>>,
  applied: Readonly<Record<string, number>>,
  steps: number,
): RaftSliceState {
  return Object.freeze({ nodes, outbox, applied, steps });
}

/** The plain state behind a case reducer's argument: the draft's original (never modified here). */
function base(state: Draft<RaftSliceState>): RaftSliceState {
  const plain: unknown = isDraft(state) ? original(state) : state;
  return plain as RaftSliceState;
}

/** The state after `node` stepped to `next` with `actions` (the same object when nothing changed). */
function afterStep(
  s: RaftSliceState,
  node: string,
  prev: RaftState,
  next: RaftState,
  actions: RaftActions,
): RaftSliceState {
  if (next === prev && actions.length === 0) return s;
  const steps = s.steps + 1;
  const box = own(s.outbox, node);
  let outbox = s.outbox;
  if (actions.length > 0) {
    const effects = frozen(box === undefined ? actions : mergeActions(box.effects, actions));
    outbox = withKey(s.outbox, node, frozen({ effects, through: steps }));
  }
  return sliceState(next === prev ? s.nodes : withKey(s.nodes, node, frozen(next)), outbox, s.applied, steps);
}

/** The pure reducers, on plain states. */
function reduceStepped(s: RaftSliceState, p: RaftSteppedPayload): RaftSliceState {
  const prev = own(s.nodes, p.node);
  if (prev === undefined) return s; // a message for a node not (or no longer) here is lost
  const [next, actions] = step(prev, p.event);
  return afterStep(s, p.node, prev, next, actions);
}

function reduceProposed<C>(s: RaftSliceState, p: RaftProposedPayload<C>): RaftSliceState {
  const prev = own(s.nodes, p.node);
  if (prev === undefined) return s;
  const count = Array.isArray(p.commands) ? p.commands.length : Number.NaN;
  const [next, actions] = proposeCommands(prev, count);
  return afterStep(s, p.node, prev, next, actions);
}

function reduceEffectsTaken(s: RaftSliceState, p: RaftEffectsTakenPayload): RaftSliceState {
  const box = own(s.outbox, p.node);
  if (box === undefined || box.through !== p.through) return s;
  return sliceState(s.nodes, withoutKey(s.outbox, p.node), s.applied, s.steps);
}

function reduceApplied<C>(s: RaftSliceState, p: RaftAppliedPayload<C>): RaftSliceState {
  if (own(s.nodes, p.node) === undefined || (own(s.applied, p.node) ?? 0) >= p.index) return s;
  return sliceState(s.nodes, s.outbox, withKey(s.applied, p.node, p.index), s.steps);
}

/** The state with `node` replaced by `state` (started or restarted) with the actions it came with. */
function withNode(
  s: RaftSliceState,
  node: string,
  state: RaftState,
  actions: RaftActions,
  applied: number,
): RaftSliceState {
  const steps = s.steps + 1;
  const outbox =
    actions.length > 0
      ? withKey(s.outbox, node, frozen({ effects: frozen(actions), through: steps }))
      : withoutKey(s.outbox, node);
  return sliceState(withKey(s.nodes, node, frozen(state)), outbox, withKey(s.applied, node, applied), steps);
}

/**
 * Create a slice holding raftstep nodes: one (a node of a cluster whose other members live in other
 * stores or processes) or a whole cluster. Its reducer steps the nodes with the core's `step` and
 * keeps their effects in the outbox for the effects runner (`raftEffects`), which carries them out
 * and takes them; without a runner, the outbox is what a host must do.
 *
 * Action creators (`slice.actions`, all with positional arguments): `stepped(node, event)`,
 * `proposed(node, commands)`, `started(node, options?)`, `restarted(node, persisted)`,
 * `stopped(node)`, and the runner's `effectsTaken(node, through)` and `applied(node, index,
 * commands)`. An action for a node the state does not hold changes nothing. `started` and
 * `restarted` throw a `TypeError` for invalid options or persisted state (the core's checks).
 *
 * `Command` is the type of the application's commands (JSON values, so that the actions that carry
 * them stay serializable); `Name` the slice's name, when not `'raft'`:
 * `createRaftSlice<Command, 'cluster'>({ name: 'cluster' })`.
 */
export function createRaftSlice<Command = unknown, Name extends string = 'raft'>(
  options: RaftSliceOptions<Name> = {},
): RaftSlice<Command, Name> {
  const name = (options.name ?? 'raft') as Name;
  const nodeOptions = options.options;
  const initialState = (): RaftSliceState => {
    const nodes: Record<string, RaftState> = {};
    const applied: Record<string, number> = {};
    for (const id of options.nodes ?? []) {
      put(nodes, id, startNode(id, nodeOptions)[0]);
      put(applied, id, 0);
    }
    return { nodes, outbox: {}, applied, steps: 0 };
  };
  const reducers: RaftCaseReducers<Command> = {
    stepped: {
      reducer: (state, action) => reduceStepped(base(state), action.payload),
      prepare: (node, event) => ({ payload: { node, event } }),
    },
    proposed: {
      reducer: (state, action) => reduceProposed(base(state), action.payload),
      prepare: (node, commands) => ({ payload: { node, commands } }),
    },
    effectsTaken: {
      reducer: (state, action) => reduceEffectsTaken(base(state), action.payload),
      prepare: (node, through) => ({ payload: { node, through } }),
    },
    applied: {
      reducer: (state, action) => reduceApplied(base(state), action.payload),
      prepare: (node, index, commands) => ({ payload: { node, index, commands } }),
    },
    started: {
      reducer: (state, action) => {
        const s = base(state);
        const { node, options: given } = action.payload;
        if (Object.prototype.hasOwnProperty.call(s.nodes, node)) return s;
        const [fresh, actions] = startNode(node, given ?? nodeOptions);
        return withNode(s, node, fresh, actions, 0);
      },
      prepare: (node, opts) => ({ payload: opts === undefined ? { node } : { node, options: opts } }),
    },
    restarted: {
      reducer: (state, action) => {
        const s = base(state);
        const { node, persisted } = action.payload;
        const [restarted, actions] = restartNode({
          ...persisted,
          id: node,
          options: persisted.options ?? own(s.nodes, node)?.options ?? nodeOptions,
        });
        return withNode(s, node, restarted, actions, persisted.log.prevIndex);
      },
      prepare: (node, persisted) => ({ payload: { node, persisted } }),
    },
    stopped: {
      reducer: (state, action) => {
        const s = base(state);
        const node = action.payload.node;
        if (!Object.prototype.hasOwnProperty.call(s.nodes, node)) return s;
        return sliceState(
          withoutKey(s.nodes, node),
          withoutKey(s.outbox, node),
          withoutKey(s.applied, node),
          s.steps + 1,
        );
      },
      prepare: (node) => ({ payload: { node } }),
    },
  };
  return createSlice({
    name,
    initialState,
    reducers,
    selectors: {
      selectNode: (s: RaftSliceState, id: string) => own(s.nodes, id),
      selectLeader: (s: RaftSliceState) => leaderOf(s),
      selectApplied: (s: RaftSliceState, id: string) => own(s.applied, id) ?? 0,
    },
  });
}

/** The leader of the highest term among the nodes of `s`, or null. */
function leaderOf(s: RaftSliceState): string | null {
  let best: RaftState | null = null;
  for (const id in s.nodes) {
    const n = s.nodes[id]!;
    if (n.role === 'leader' && n.halted === null && (best === null || n.term > best.term)) best = n;
  }
  return best === null ? null : best.id;
}
