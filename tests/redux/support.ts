/**
 * Shared set-up of the raftstep/redux tests: a store with a raft slice, a key-value slice that
 * applies the committed commands per node (the replicated state machine as a Redux reducer), the
 * effects runner on a virtual clock and an in-memory network, and an action recorder.
 */
import { combineReducers, configureStore, createAction, createSlice, type UnknownAction } from '@reduxjs/toolkit';
import { MemoryStorage } from '../../src/host/memory-storage.js';
import { createMemoryNetwork, seededRandom } from '../../src/host/memory-transport.js';
import {
  createActionRecorder,
  createMemoryRaftStorage,
  createRaftNetwork,
  createRaftSlice,
  createVirtualClock,
  raftEffects,
  type ActionRecorder,
  type MemoryRaftStorage,
  type RaftEffects,
  type RaftEffectsOptions,
  type RaftNetwork,
  type RaftSlice,
  type VirtualClock,
} from '../../src/redux/index.js';

/** The test application's command: set `key` to `value`. */
export interface Put {
  key: string;
  value: string;
}

/** Every node's key-value store, as the committed commands built it. */
export type KvState = Record<string, Record<string, string>>;

/** The key-value slice: applies `raft/applied` commands to the node's store. */
export function kvSlice(raft: RaftSlice<Put>) {
  return createSlice({
    name: 'kv',
    initialState: {} as KvState,
    reducers: {},
    extraReducers: (builder) =>
      builder
        .addCase(raft.actions.applied, (state, action) => {
          const store = (state[action.payload.node] ??= {});
          for (const { command } of action.payload.commands) store[command.key] = command.value;
        })
        .addCase(raft.actions.restarted, (state, action) => {
          delete state[action.payload.node]; // a restarted node applies its log again from the start
        }),
  });
}

/**
 * The dev checks' time threshold in the tests. RTK warns when one check takes longer than 32 ms by
 * default; ours take microseconds (bench/redux.ts), but a garbage collection or a compile landing
 * inside a check on a busy two-core machine can take longer, once, and that is no finding of the
 * check. Every other warning, and any check slower than this, fails the tests.
 */
export const WARN_AFTER_MS = 1000;

/** RTK's two dev checks, on, with the tests' time threshold: `gdm(DEV_CHECKS)`. */
export const DEV_CHECKS = {
  immutableCheck: { warnAfter: WARN_AFTER_MS },
  serializableCheck: { warnAfter: WARN_AFTER_MS },
} as const;

/** Options of {@link makeStore}. */
export interface StoreOptions {
  nodes?: string[];
  checks?: boolean;
  clock?: VirtualClock;
  network?: RaftNetwork<Put>;
  storage?: MemoryRaftStorage<Put>;
  seed?: number;
  effects?: Partial<RaftEffectsOptions<Put, 'raft'>>;
  preloadedState?: unknown;
}

/** Build a store: raft + kv slices, the runner, a recorder; dev checks on unless `checks: false`. */
export function makeStore(o: StoreOptions = {}) {
  const raft = createRaftSlice<Put>({ nodes: o.nodes ?? ['n1', 'n2', 'n3'] });
  const kv = kvSlice(raft);
  const clock = o.clock ?? createVirtualClock();
  const network = o.network ?? createRaftNetwork<Put>({ clock, seed: o.seed ?? 7 });
  const storage = o.storage ?? createMemoryRaftStorage<Put>();
  const effects: RaftEffects<Put> = raftEffects({ slice: raft, network, storage, seed: o.seed ?? 7, ...o.effects });
  const recorder: ActionRecorder = createActionRecorder();
  const checks = o.checks ?? true;
  const reducer = { raft: raft.reducer, kv: kv.reducer };
  const store = configureStore({
    reducer,
    ...(o.preloadedState !== undefined ? { preloadedState: o.preloadedState as never } : {}),
    middleware: (gdm) =>
      gdm({
        immutableCheck: checks && { warnAfter: WARN_AFTER_MS },
        serializableCheck: checks && { warnAfter: WARN_AFTER_MS },
      }).concat(effects.middleware, recorder.middleware),
  });
  const leader = (): string | null => raft.selectors.selectLeader(store.getState());
  return { raft, kv, clock, network, storage, effects, recorder, store, leader };
}

/**
 * Capture `console.warn` and `console.error` for every test of the file and fail a test that
 * printed anything (RTK reports its dev checks' findings there).
 */
export function failOnConsoleOutput(): void {
  let printed: unknown[][] = [];
  beforeEach(() => {
    printed = [];
    jest.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => void printed.push(['warn', ...args]));
    jest.spyOn(console, 'error').mockImplementation((...args: unknown[]) => void printed.push(['error', ...args]));
  });
  afterEach(() => {
    jest.restoreAllMocks();
    expect(printed).toEqual([]);
  });
}

/** Run the virtual clock until `done`, failing the test after `ms` of virtual time. */
export function settle(clock: VirtualClock, done: () => boolean, ms = 10_000): void {
  expect(clock.runUntil(done, ms)).toBe(true);
}

/**
 * Like {@link settle}, for runs with asynchronous storage: advance the clock 1 ms at a time and let
 * the promises settle in between.
 */
export async function settleAsync(clock: VirtualClock, done: () => boolean, ms = 10_000): Promise<void> {
  for (let t = 0; t < ms && !done(); t++) {
    clock.advance(1);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  expect(done()).toBe(true);
}

/** The bytes of a node's key-value store (its snapshot), and back. */
export const kvBytes = {
  encode: (kv: Record<string, string>): Uint8Array => new TextEncoder().encode(JSON.stringify(kv)),
  decode: (bytes: Uint8Array): Record<string, string> =>
    JSON.parse(new TextDecoder().decode(bytes)) as Record<string, string>,
};

/** Options of {@link makeHostStore}. */
export interface HostStoreOptions {
  nodes?: string[];
  seed?: number;
  /** Take snapshots every this many entries (through the kv slice); none when left out. */
  snapshotEvery?: number;
  /** The nodes' storage, by id (a previous store's, to carry on from it); a new map by default. */
  disks?: Map<string, MemoryStorage>;
}

/** The action after which a store's state counts as rehydrated (redux-persist's). */
export const REHYDRATE = 'persist/REHYDRATE';

/**
 * A store like {@link makeStore}'s, whose nodes run on the host runtime's executor over
 * `MemoryStorage` (one per node, reopened at restarts) and a memory network's transports; the kv
 * slice also handles `kv/restored` (a node's store replaced by a snapshot), and the root reducer
 * `persist/REHYDRATE`. Dev checks on.
 */
export function makeHostStore(o: HostStoreOptions = {}) {
  const raft = createRaftSlice<Put>({ nodes: o.nodes ?? ['n1', 'n2', 'n3'] });
  const restored = createAction<{ node: string; kv: Record<string, string> }>('kv/restored');
  const base = kvSlice(raft);
  const kvReducer = (state: KvState | undefined, action: UnknownAction): KvState => {
    if (!restored.match(action)) return base.reducer(state, action);
    return { ...state, [action.payload.node]: action.payload.kv };
  };
  const clock = createVirtualClock();
  const network = createMemoryNetwork();
  const disks = o.disks ?? new Map<string, MemoryStorage>();
  const storageOf = (id: string): MemoryStorage => {
    const previous = disks.get(id);
    const disk = previous === undefined ? new MemoryStorage() : previous.reopened();
    disks.set(id, disk);
    return disk;
  };
  let store: ReturnType<typeof configure> | null = null;
  const effects: RaftEffects<Put> = raftEffects({
    slice: raft,
    host: {
      storage: storageOf,
      transport: (id) => network.transport(id),
      clock,
      random: seededRandom(o.seed ?? 7),
      ...(o.snapshotEvery === undefined
        ? {}
        : {
            options: { snapshot: { everyEntries: o.snapshotEvery } },
            snapshots: {
              take: (node: string) => kvBytes.encode(store!.getState().kv[node] ?? {}),
              restore: (node: string, data: Uint8Array) =>
                void store!.dispatch(restored({ node, kv: kvBytes.decode(data) })),
            },
          }),
    },
  });
  const recorder: ActionRecorder = createActionRecorder();
  const combined = combineReducers({ raft: raft.reducer, kv: kvReducer });
  type Root = ReturnType<typeof combined>;
  // Rehydration as redux-persist does it: the persisted state replaces the slices it holds.
  const reducer = (state: Root | undefined, action: UnknownAction): Root =>
    action.type === REHYDRATE ? { ...state!, ...(action.payload as Partial<Root>) } : combined(state, action);
  const configure = () =>
    configureStore({
      reducer,
      middleware: (gdm) => gdm(DEV_CHECKS).concat(effects.middleware, recorder.middleware),
    });
  store = configure();
  const leader = (): string | null => raft.selectors.selectLeader(store!.getState());
  return { raft, reducer, clock, network, disks, effects, recorder, store, leader };
}
