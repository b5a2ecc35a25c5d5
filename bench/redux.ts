/**
 * The cost of one dispatch in a Redux Toolkit store holding a raftstep cluster (`raftstep/redux`),
 * with RTK's dev checks (immutable and serializable state checks) on and off.
 *
 * Workload: a three-node cluster in one store, in-memory network (1 ms latency) and storage, virtual
 * clock; the leader proposes one command at a time and the run goes on until every node applied
 * it (about twenty dispatches per command: the proposal, deliveries, timeouts, `effectsTaken`,
 * `applied`). The key-value slice that applies the commands holds 16 keys, so the state stays the
 * same size all along. Measured, in µs per dispatch:
 *
 * - live: the whole system (store, effects runner, network, storage, clock), per dispatch, with the
 *   dev checks on (RTK's defaults), on but the serializable check skipping the raft slice
 *   (`serializableCheck: { ignoredPaths: ['raft'] }`), and off; and off with the runner hooked in
 *   as an RTK listener (`listener: true`) instead of its own middleware;
 * - store: the recorded actions dispatched into a fresh store without the runner (RTK's dispatch,
 *   the middleware, the checks, immer and the reducer);
 * - reducer: the recorded actions through the root reducer alone (immer and `step`);
 * - step: the core's `step` alone, for the `stepped` and `proposed` actions of the log.
 *
 * Alternating rounds of every variant, median of the rounds. RTK picks its build by NODE_ENV: run
 * also with NODE_ENV=production (no checks exist there). Speed is never asserted.
 *
 * Run: npx tsc -p tsconfig.bench.json && node build/bench/redux.js [commands=2000] [rounds=5]
 */
import { combineReducers, configureStore, createSlice, type UnknownAction } from '@reduxjs/toolkit';
import { proposeCommands, step, type RaftState } from '../src/index.js';
import {
  createActionRecorder,
  createRaftNetwork,
  createRaftSlice,
  createVirtualClock,
  raftEffects,
  replayActions,
  type RaftProposedPayload,
  type RaftSteppedPayload,
} from '../src/redux/index.js';

interface Put {
  key: string;
  value: string;
}

const COMMANDS = Number(process.argv[2] ?? 2000);
const ROUNDS = Number(process.argv[3] ?? 5);

function slices() {
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
  return { raft, reducer: combineReducers({ raft: raft.reducer, kv: kv.reducer }) };
}

/** Which dev checks run: all (RTK's defaults), all but the raft slice's serializable check, or none. */
type Checks = 'on' | 'skipRaft' | 'off';

/** `getDefaultMiddleware` options for `checks`. */
function checkOptions(checks: Checks) {
  if (checks === 'off') return { immutableCheck: false, serializableCheck: false };
  // The checks warn when one takes over 32 ms: here that is a major GC of the heap the recorded logs
  // fill (a run without a recorder, 280,000 dispatches, printed none), so the threshold is raised.
  const quiet = { warnAfter: 10_000 };
  if (checks === 'skipRaft') return { immutableCheck: quiet, serializableCheck: { ...quiet, ignoredPaths: ['raft'] } };
  return { immutableCheck: quiet, serializableCheck: quiet };
}

/** One live run: returns µs per dispatch and the recorded log. */
function live(checks: Checks, listener = false): { usPerDispatch: number; log: readonly UnknownAction[] } {
  const { raft, reducer } = slices();
  const clock = createVirtualClock();
  const network = createRaftNetwork<Put>({ clock, latencyMs: 1, seed: 1 });
  const effects = raftEffects({ slice: raft, network, seed: 1, listener });
  const recorder = createActionRecorder();
  const store = configureStore({
    reducer,
    middleware: (gdm) => gdm(checkOptions(checks)).concat(effects.middleware, recorder.middleware),
  });
  store.dispatch(raft.actions.stepped('n1', { type: 'createCluster', voters: ['n1', 'n2', 'n3'] }));
  if (!clock.runUntil(() => raft.selectors.selectLeader(store.getState()) !== null, 10_000))
    throw new Error('no leader');
  const leader = raft.selectors.selectLeader(store.getState())!;
  const ids = ['n1', 'n2', 'n3'];
  const before = recorder.actions.length;
  const started = process.hrtime.bigint();
  for (let i = 0; i < COMMANDS; i++) {
    const target = store.getState().raft.nodes[leader]!.log.lastIndex + 1;
    void effects.propose(leader, [{ key: `k${i % 16}`, value: String(i) }]);
    const done = () => ids.every((id) => store.getState().raft.applied[id]! >= target);
    if (!clock.runUntil(done, 10_000)) throw new Error(`command ${i} not applied everywhere`);
  }
  const ns = Number(process.hrtime.bigint() - started);
  const dispatches = recorder.actions.length - before;
  effects.stop();
  return { usPerDispatch: ns / 1000 / dispatches, log: recorder.actions.slice() };
}

/** The log dispatched into a fresh store without the runner: µs per dispatch. */
function storeOnly(log: readonly UnknownAction[], checks: Checks): number {
  const { reducer } = slices();
  const store = configureStore({ reducer, middleware: (gdm) => gdm(checkOptions(checks)) });
  const started = process.hrtime.bigint();
  for (const a of log) store.dispatch(a);
  return Number(process.hrtime.bigint() - started) / 1000 / log.length;
}

/** The log through the reducer alone: µs per action. */
function reducerOnly(log: readonly UnknownAction[]): number {
  const { reducer } = slices();
  const started = process.hrtime.bigint();
  replayActions(reducer, log);
  return Number(process.hrtime.bigint() - started) / 1000 / log.length;
}

/** The core's step alone for the log's steps (states from the log's own run): µs per step. */
function stepOnly(log: readonly UnknownAction[]): number {
  const { raft } = slices();
  const nodes = new Map<string, RaftState>();
  for (const id of ['n1', 'n2', 'n3']) nodes.set(id, raft.getInitialState().nodes[id]!);
  const stepped = raft.actions.stepped.type;
  const proposed = raft.actions.proposed.type;
  let count = 0;
  const started = process.hrtime.bigint();
  for (const a of log) {
    if (a.type === stepped) {
      const p = a.payload as RaftSteppedPayload;
      nodes.set(p.node, step(nodes.get(p.node)!, p.event)[0]);
      count++;
    } else if (a.type === proposed) {
      const p = a.payload as RaftProposedPayload<Put>;
      nodes.set(p.node, proposeCommands(nodes.get(p.node)!, p.commands.length)[0]);
      count++;
    }
  }
  return Number(process.hrtime.bigint() - started) / 1000 / count;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function main(): void {
  const mode = process.env.NODE_ENV === 'production' ? 'production (RTK has no checks)' : 'development';
  console.log(`raftstep/redux dispatch cost, RTK ${mode} build, ${COMMANDS} commands, ${ROUNDS} rounds`);
  live('on'); // warm-up
  live('off');
  const r: Record<string, number[]> = {};
  const add = (k: string, v: number) => (r[k] ??= []).push(v);
  let log: readonly UnknownAction[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const on = live('on');
    add('live, checks on', on.usPerDispatch);
    add('live, raft not ser.-checked', live('skipRaft').usPerDispatch);
    add('live, checks off', live('off').usPerDispatch);
    add('live, checks off, listener', live('off', true).usPerDispatch);
    log = on.log;
    add('store, checks on', storeOnly(log, 'on'));
    add('store, raft not ser.-checked', storeOnly(log, 'skipRaft'));
    add('store, checks off', storeOnly(log, 'off'));
    add('reducer alone', reducerOnly(log));
    add('step alone (per step)', stepOnly(log));
  }
  const types = new Map<string, number>();
  for (const a of log) types.set(a.type, (types.get(a.type) ?? 0) + 1);
  console.log(`log: ${log.length} actions (${[...types].map(([t, n]) => `${n} ${t}`).join(', ')})`);
  console.log(`dispatches per command: ${(log.length / COMMANDS).toFixed(1)}`);
  for (const [k, v] of Object.entries(r)) {
    console.log(
      `${k.padEnd(30)} ${median(v).toFixed(2).padStart(8)} µs  (min ${Math.min(...v).toFixed(2)}, max ${Math.max(...v).toFixed(2)})`,
    );
  }
}

main();
