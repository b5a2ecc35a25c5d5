/**
 * The slice state is JSON: a store rehydrated from it (redux-persist style) carries on, and a paused
 * runner leaves the effects in the state, merged, until it resumes.
 */
import { combineReducers, configureStore, type Reducer, type UnknownAction } from '@reduxjs/toolkit';
import {
  createActionRecorder,
  createMemoryRaftStorage,
  createRaftNetwork,
  createRaftSlice,
  createVirtualClock,
  raftEffects,
  replayActions,
  type MemoryRaftNodeJson,
} from '../../src/redux/index.js';
import { failOnConsoleOutput, kvSlice, makeStore, settle, DEV_CHECKS, type Put } from './support.js';

failOnConsoleOutput();

const REHYDRATE = 'persist/REHYDRATE';

test('a rehydrated cluster carries on from the persisted state and storage', async () => {
  // The first life: elect, commit, then persist the state and the storage as JSON.
  const t = makeStore({ seed: 5 });
  t.store.dispatch(t.raft.actions.stepped('n1', { type: 'createCluster', voters: ['n1', 'n2', 'n3'] }));
  settle(t.clock, () => t.leader() !== null);
  const p = t.effects.propose(t.leader()!, [{ key: 'life', value: 'first' }]);
  settle(t.clock, () => ['n1', 'n2', 'n3'].every((n) => t.store.getState().kv[n]?.life === 'first'));
  await expect(p).resolves.toBeDefined();
  const saved = JSON.stringify({ state: t.store.getState(), storage: t.storage.toJSON() });
  t.effects.stop();

  // The second life: a new store (with a redux-persist-like root reducer), runner, network and clock.
  const persisted = JSON.parse(saved) as {
    state: ReturnType<typeof t.store.getState>;
    storage: Record<string, MemoryRaftNodeJson<Put>>;
  };
  const raft = createRaftSlice<Put>({ nodes: ['n1', 'n2', 'n3'] });
  const kv = kvSlice(raft);
  const combined = combineReducers({ raft: raft.reducer, kv: kv.reducer });
  type Root = ReturnType<typeof combined>;
  const root: Reducer<Root> = (state, action: UnknownAction) =>
    action.type === REHYDRATE ? { ...state!, ...(action.payload as Partial<Root>) } : combined(state, action);
  const clock = createVirtualClock();
  const network = createRaftNetwork<Put>({ clock, seed: 9 });
  const storage = createMemoryRaftStorage<Put>(persisted.storage);
  const effects = raftEffects({ slice: raft, network, storage });
  const recorder = createActionRecorder();
  const store = configureStore({
    reducer: root,
    middleware: (gdm) => gdm(DEV_CHECKS).concat(effects.middleware, recorder.middleware),
  });
  store.dispatch({ type: REHYDRATE, key: 'root', payload: persisted.state });
  expect(store.getState()).toEqual(persisted.state);

  // The leader's heartbeat timer was re-armed: it still leads, and commits again.
  const leader = raft.selectors.selectLeader(store.getState())!;
  const again = effects.propose(leader, [{ key: 'life', value: 'second' }]);
  settle(clock, () => ['n1', 'n2', 'n3'].every((n) => store.getState().kv[n]?.life === 'second'));
  await expect(again).resolves.toBeDefined();
  // Followers' timers were re-armed too: isolate the leader, and another node takes over.
  network.isolate(leader);
  settle(clock, () => {
    const l = raft.selectors.selectLeader(store.getState());
    return l !== null && l !== leader;
  });
  // The second life replays from its rehydration.
  expect(replayActions(root, recorder.actions)).toEqual(store.getState());
  effects.stop();
});

test('a paused runner leaves the effects in the outbox, merged, and carries them out on resume', async () => {
  const t = makeStore({ seed: 2 });
  const { raft, store, clock, effects } = t;
  store.dispatch(raft.actions.stepped('n1', { type: 'createCluster', voters: ['n1', 'n2', 'n3'] }));
  settle(clock, () => t.leader() !== null);
  const leader = t.leader()!;
  const lastIndex = store.getState().raft.nodes[leader]!.log.lastIndex;

  effects.pause();
  const proposals = [1, 2, 3].map((k) => effects.propose(leader, [{ key: `k${k}`, value: String(k) }]));
  const box = store.getState().raft.outbox[leader]!;
  // Three proposals, pipelined: one append of three entries and one broadcast carrying all three.
  expect(box.effects.map((a) => a.type)).toEqual(['appendLog', 'broadcast']);
  const append = box.effects[0]!;
  expect(append.type === 'appendLog' && [append.entries.prevIndex, append.entries.lastIndex]).toEqual([
    lastIndex,
    lastIndex + 3,
  ]);
  expect(JSON.parse(JSON.stringify(store.getState().raft))).toEqual(store.getState().raft);
  clock.advance(20); // nothing was sent: no message is in flight
  expect(t.network.stats().inFlight).toBe(0);

  effects.resume();
  expect(store.getState().raft.outbox[leader]).toBeUndefined();
  settle(clock, () => ['n1', 'n2', 'n3'].every((n) => store.getState().kv[n]?.k3 === '3'));
  await expect(Promise.all(proposals)).resolves.toHaveLength(3);
  effects.stop();
});
