/**
 * raftstep in Redux Toolkit: a three-node cluster in one store, on an in-memory network and a
 * virtual clock, with RTK's dev checks on. The replicated state machine is an ordinary slice that
 * handles `raft/applied`. The cluster elects a leader and commits; the leader is cut off, the other
 * two elect a new one and commit without it; the network heals and the old leader catches up.
 * Finally the recorded actions are replayed through the reducer alone, from the initial state, and
 * give the same final state.
 *
 * Run: npx tsc -p tsconfig.examples.json && node build/examples/redux.js
 */
import { combineReducers, configureStore, createSlice } from '@reduxjs/toolkit';
import {
  createActionRecorder,
  createRaftNetwork,
  createRaftSlice,
  createVirtualClock,
  raftDevTools,
  raftEffects,
  replayActions,
} from '../src/redux/index.js';

/** The application's command: set a key. */
interface Put {
  key: string;
  value: string;
}

// The raft slice holds the three nodes; the kv slice is the state machine, one store per node.
const raft = createRaftSlice<Put>({ nodes: ['n1', 'n2', 'n3'] });
const kv = createSlice({
  name: 'kv',
  initialState: {} as Record<string, Record<string, string>>,
  reducers: {},
  extraReducers: (builder) =>
    builder.addCase(raft.actions.applied, (state, action) => {
      const store = (state[action.payload.node] ??= {});
      for (const { command } of action.payload.commands) store[command.key] = command.value;
    }),
});

const clock = createVirtualClock();
const network = createRaftNetwork<Put>({ clock, latencyMs: [1, 5], seed: 42 });
const effects = raftEffects({ slice: raft, network, seed: 42 });
const recorder = createActionRecorder();
const reducer = combineReducers({ raft: raft.reducer, kv: kv.reducer });
const store = configureStore({
  reducer,
  // Dev checks on (the defaults outside production): serializable and immutable state checks.
  middleware: (gdm) => gdm().concat(effects.middleware, recorder.middleware),
  devTools: raftDevTools(raft),
});

const ids = ['n1', 'n2', 'n3'];
const leader = (): string | null => raft.selectors.selectLeader(store.getState());

function say(line: string): void {
  console.log(line);
}

/** Run the virtual clock until `done` (at most `ms` of virtual time). */
function runUntil(what: string, done: () => boolean, ms = 10_000): void {
  if (!clock.runUntil(done, ms)) throw new Error(`timed out waiting for ${what}`);
}

function describe(): void {
  const s = store.getState();
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

async function main(): Promise<void> {
  say('1. n1 forms a cluster of n1, n2, n3.');
  store.dispatch(raft.actions.stepped('n1', { type: 'createCluster', voters: ids }));
  runUntil('a leader', () => leader() !== null);
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
  runUntil('the commands on every node', () => ids.every((id) => store.getState().kv[id]?.shape === 'round'));
  const [a, b] = await Promise.all([p1, p2]);
  say(`   applied at indices ${a.firstIndex}-${a.lastIndex} and ${b.firstIndex} of term ${a.term}.`);
  describe();

  say(`\n3. ${first} is cut off from the others.`);
  network.isolate(first);
  runUntil('a new leader', () => leader() !== null && leader() !== first);
  const second = leader()!;
  say(
    `   ${second} leads term ${store.getState().raft.nodes[second]!.term} (virtual time ${Math.round(clock.now())} ms).`,
  );
  const p3 = effects.propose(second, [{ key: 'color', value: 'green' }]);
  const majority = ids.filter((id) => id !== first);
  runUntil('the majority to apply', () => majority.every((id) => store.getState().kv[id]?.color === 'green'));
  await p3;
  runUntil(`${first} to step down`, () => store.getState().raft.nodes[first]!.role !== 'leader');
  describe();

  say('\n4. The network heals; the old leader follows and catches up.');
  network.heal();
  runUntil(`${first} to catch up`, () => store.getState().kv[first]?.color === 'green');
  describe();

  say('\n5. Replay: the recorded actions, through the reducer alone, from the initial state.');
  const log = JSON.parse(JSON.stringify(recorder.actions)) as typeof recorder.actions;
  const replayed = replayActions(reducer, log);
  const same = JSON.stringify(replayed) === JSON.stringify(store.getState());
  const counts = new Map<string, number>();
  for (const act of log) counts.set(act.type, (counts.get(act.type) ?? 0) + 1);
  say(`   ${log.length} actions (${[...counts].map(([t, n]) => `${n} ${t}`).join(', ')}).`);
  say(`   replayed state ${same ? 'equals' : 'DIFFERS FROM'} the store's final state.`);
  effects.stop();
  const stores = ids.map((id) => JSON.stringify(store.getState().kv[id]));
  if (!same || new Set(stores).size !== 1) throw new Error('replay or replicas disagree');
  say('\nDone.');
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
