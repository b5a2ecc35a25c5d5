/**
 * raftstep in Redux Toolkit: a three-node cluster in one store, with RTK's dev checks on, run twice.
 * The replicated state machine is an ordinary slice that handles `raft/applied`.
 *
 * 1. On the in-memory executor (network, storage and a virtual clock, all synchronous): the
 *    cluster elects a leader and commits; the leader is cut off, the other two elect a new one and
 *    commit without it; the network heals and the old leader catches up. Finally the recorded
 *    actions are replayed through the reducer alone, from the initial state, and give the same state.
 * 2. On the host runtime's executor: each node's effects carried out by the runtime (its own
 *    `MemoryStorage`, a memory network's transport; `FileStorage` and `TcpTransport` in a real
 *    process), the store still doing every step; the same story, and the same replay.
 *
 * Run: npx tsc -p tsconfig.examples.json && node build/examples/redux.js
 */
import { combineReducers, configureStore, createSlice, type UnknownAction } from '@reduxjs/toolkit';
import { MemoryStorage, createMemoryNetwork, seededRandom } from '../src/host/index.js';
import {
  createActionRecorder,
  createRaftNetwork,
  createRaftSlice,
  createVirtualClock,
  raftDevTools,
  raftEffects,
  replayActions,
  type RaftEffects,
  type RaftNetwork,
  type RaftSlice,
  type VirtualClock,
} from '../src/redux/index.js';

/** The application's command: set a key. */
interface Put {
  key: string;
  value: string;
}

const ids = ['n1', 'n2', 'n3'];

function say(line: string): void {
  console.log(line);
}

/** The state machine: one key-value store per node, built from the commands it applied. */
function kvSlice(raft: RaftSlice<Put>) {
  return createSlice({
    name: 'kv',
    initialState: {} as Record<string, Record<string, string>>,
    reducers: {},
    extraReducers: (builder) =>
      builder.addCase(raft.actions.applied, (state, action) => {
        const store = (state[action.payload.node] ??= {});
        for (const { command } of action.payload.commands) store[command.key] = command.value;
      }),
  });
}

/** A store of the raft and kv slices, with the runner, a recorder and RTK's dev checks (the defaults). */
function makeStore(raft: RaftSlice<Put>, effects: RaftEffects<Put>) {
  const recorder = createActionRecorder();
  const reducer = combineReducers({ raft: raft.reducer, kv: kvSlice(raft).reducer });
  const store = configureStore({
    reducer,
    middleware: (gdm) => gdm().concat(effects.middleware, recorder.middleware),
    devTools: raftDevTools(raft),
  });
  return { store, reducer, recorder };
}

type Demo = ReturnType<typeof makeStore> & {
  raft: RaftSlice<Put>;
  effects: RaftEffects<Put>;
  clock: VirtualClock;
  /** Cut a node off, and heal. */
  isolate(id: string): void;
  heal(): void;
  /** Run the virtual clock until `done` (at most `ms` of virtual time). */
  runUntil(what: string, done: () => boolean, ms?: number): Promise<void>;
};

/** The in-memory executor: everything runs inside the dispatches, on the virtual clock. */
function inMemory(): Demo {
  const raft = createRaftSlice<Put>({ nodes: ids });
  const clock = createVirtualClock();
  const network: RaftNetwork<Put> = createRaftNetwork<Put>({ clock, latencyMs: [1, 5], seed: 42 });
  const effects = raftEffects({ slice: raft, network, seed: 42 });
  return {
    ...makeStore(raft, effects),
    raft,
    effects,
    clock,
    isolate: (id) => network.isolate(id),
    heal: () => network.heal(),
    runUntil: (what, done, ms = 10_000) => {
      if (!clock.runUntil(done, ms)) throw new Error(`timed out waiting for ${what}`);
      return Promise.resolve();
    },
  };
}

/** The host runtime's executor: one node executor per node, over MemoryStorage and a memory network. */
function onTheHostRuntime(): Demo {
  const raft = createRaftSlice<Put>({ nodes: ids });
  const clock = createVirtualClock();
  const network = createMemoryNetwork();
  const effects = raftEffects({
    slice: raft,
    host: {
      storage: () => new MemoryStorage(), // FileStorage.open(dir) in a real process
      transport: (id) => network.transport(id), // a TcpTransport in a real process
      clock,
      random: seededRandom(42),
    },
  });
  return {
    ...makeStore(raft, effects),
    raft,
    effects,
    clock,
    isolate: (id) => network.isolate(id),
    heal: () => network.heal(),
    // The runtime's storage is asynchronous: let its promises settle between virtual milliseconds.
    runUntil: async (what, done, ms = 10_000) => {
      for (let t = 0; t < ms && !done(); t++) {
        clock.advance(1);
        await new Promise<void>((resolve) => setImmediate(resolve));
      }
      if (!done()) throw new Error(`timed out waiting for ${what}`);
    },
  };
}

function describe(d: Demo): void {
  const s = d.store.getState();
  for (const id of ids) {
    const n = s.raft.nodes[id]!;
    const data = Object.entries(s.kv[id] ?? {})
      .map(([k, v]) => `${k}=${v}`)
      .join(' ');
    say(
      `  ${id}: ${n.role.padEnd(9)} term ${n.term}, log up to ${n.log.lastIndex}, committed ${n.commitIndex}, ` +
        `applied ${s.raft.applied[id]}; store: ${data || '(empty)'}`,
    );
  }
}

/** The story, on either executor. */
async function run(d: Demo): Promise<void> {
  const { store, raft, effects, clock } = d;
  const leader = (): string | null => raft.selectors.selectLeader(store.getState());
  say('1. n1 forms a cluster of n1, n2, n3.');
  store.dispatch(raft.actions.stepped('n1', { type: 'createCluster', voters: ids }));
  await d.runUntil('a leader', () => leader() !== null);
  const first = leader()!;
  say(
    `   ${first} leads term ${store.getState().raft.nodes[first]!.term} (virtual time ${Math.round(clock.now())} ms).`,
  );

  say('\n2. The leader commits two proposals; every node applies them.');
  const p1 = effects.propose(first, [
    { key: 'color', value: 'blue' },
    { key: 'size', value: 'large' },
  ]);
  const p2 = effects.propose(first, [{ key: 'shape', value: 'round' }]);
  await d.runUntil('the commands on every node', () => ids.every((id) => store.getState().kv[id]?.shape === 'round'));
  const [a, b] = await Promise.all([p1, p2]);
  say(`   applied at indices ${a.firstIndex}-${a.lastIndex} and ${b.firstIndex} of term ${a.term}.`);
  describe(d);

  say(`\n3. ${first} is cut off from the others.`);
  d.isolate(first);
  await d.runUntil('a new leader', () => leader() !== null && leader() !== first);
  const second = leader()!;
  say(
    `   ${second} leads term ${store.getState().raft.nodes[second]!.term} (virtual time ${Math.round(clock.now())} ms).`,
  );
  const p3 = effects.propose(second, [{ key: 'color', value: 'green' }]);
  const majority = ids.filter((id) => id !== first);
  await d.runUntil('the majority to apply', () => majority.every((id) => store.getState().kv[id]?.color === 'green'));
  await p3;
  await d.runUntil(`${first} to step down`, () => store.getState().raft.nodes[first]!.role !== 'leader');
  describe(d);

  say('\n4. The network heals; the old leader follows and catches up.');
  d.heal();
  await d.runUntil(`${first} to catch up`, () => store.getState().kv[first]?.color === 'green');
  describe(d);

  say('\n5. Replay: the recorded actions, through the reducer alone, from the initial state.');
  const log = JSON.parse(JSON.stringify(d.recorder.actions)) as UnknownAction[];
  const replayed = replayActions(d.reducer, log);
  const same = JSON.stringify(replayed) === JSON.stringify(store.getState());
  const counts = new Map<string, number>();
  for (const act of log) counts.set(act.type, (counts.get(act.type) ?? 0) + 1);
  say(`   ${log.length} actions (${[...counts].map(([t, n]) => `${n} ${t}`).join(', ')}).`);
  say(`   replayed state ${same ? 'equals' : 'DIFFERS FROM'} the store's final state.`);
  effects.stop();
  const stores = ids.map((id) => JSON.stringify(store.getState().kv[id]));
  if (!same || new Set(stores).size !== 1) throw new Error('replay or replicas disagree');
}

/** Both runs, told on stdout (RTK's dev checks on: `gdm()` turns them on outside production). */
export async function main(): Promise<void> {
  say('== On the in-memory executor ==\n');
  await run(inMemory());
  say('\n== On the host runtime (MemoryStorage, a memory network) ==\n');
  await run(onTheHostRuntime());
  say('\nDone.');
}

// Run when started as a program (tests/redux/example.test.ts imports `main` instead).
if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
