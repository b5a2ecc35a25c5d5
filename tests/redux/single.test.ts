/**
 * One node per slice: a single-voter cluster in one store, and a three-node cluster whose nodes live
 * in three stores (one node each) sharing one in-memory network — the shape of a real deployment,
 * where each process's store holds its own node.
 */
import { createRaftNetwork, createVirtualClock } from '../../src/redux/index.js';
import { failOnConsoleOutput, makeStore, settle, type Put } from './support.js';

failOnConsoleOutput();

test('a single-voter cluster leads at once and applies each proposal within its dispatch', async () => {
  const t = makeStore({ nodes: ['solo'] });
  const { raft, store, effects } = t;
  store.dispatch(raft.actions.stepped('solo', { type: 'createCluster', voters: ['solo'] }));
  expect(store.getState().raft.nodes.solo!.role).toBe('leader');
  const p = effects.propose('solo', [{ key: 'k', value: 'v' }]);
  // In-memory storage and a single voter: written, committed and applied before dispatch returns.
  expect(store.getState().kv.solo).toEqual({ k: 'v' });
  await expect(p).resolves.toEqual({ term: 1, firstIndex: 3, lastIndex: 3 }); // 1: the configuration, 2: the term start;
  const read = effects.read('solo');
  await expect(read).resolves.toBe(3);
  expect(store.getState().raft.outbox).toEqual({});
  expect(store.getState().raft.applied).toEqual({ solo: 3 });
  effects.stop();
});

test('three stores of one node each form a cluster over a shared network', async () => {
  const clock = createVirtualClock();
  const network = createRaftNetwork<Put>({ clock, seed: 11 });
  const stores = ['a', 'b', 'c'].map((id, k) => ({ id, ...makeStore({ nodes: [id], clock, network, seed: k + 1 }) }));
  const leader = () => stores.find((s) => s.leader() !== null) ?? null;
  stores[0]!.store.dispatch(stores[0]!.raft.actions.stepped('a', { type: 'createCluster', voters: ['a', 'b', 'c'] }));
  settle(clock, () => leader() !== null);
  const l = leader()!;
  const p = l.effects.propose(l.id, [{ key: 'where', value: 'everywhere' }]);
  settle(clock, () => stores.every((s) => s.store.getState().kv[s.id]?.where === 'everywhere'));
  await expect(p).resolves.toBeDefined();
  for (const s of stores) {
    expect(Object.keys(s.store.getState().raft.nodes)).toEqual([s.id]);
    s.effects.stop();
  }
});
