/**
 * A three-node cluster in one Redux Toolkit store, with RTK's dev checks on: election, proposals
 * committed and applied on every node, a partition and its heal, reads, and a replay of the
 * recorded actions that gives the same state. RTK must print nothing (no check warnings).
 */
import { combineReducers } from '@reduxjs/toolkit';
import { replayActions, RaftRequestError } from '../../src/redux/index.js';
import { failOnConsoleOutput, makeStore, settle, type Put } from './support.js';

failOnConsoleOutput();

test('a cluster elects a leader, commits on every node, survives a partition and replays exactly', async () => {
  const t = makeStore();
  const { raft, store, clock, network, effects } = t;
  const states: unknown[] = []; // the state after each action, as a DevTools jump would show it
  store.subscribe(() => states.push(store.getState()));
  store.dispatch(raft.actions.stepped('n1', { type: 'createCluster', voters: ['n1', 'n2', 'n3'] }));
  settle(clock, () => t.leader() !== null);
  const first = t.leader()!;

  const puts: Put[] = [
    { key: 'color', value: 'blue' },
    { key: 'size', value: 'large' },
  ];
  const proposal = effects.propose(first, puts);
  const single = effects.propose(first, [{ key: 'shape', value: 'round' }]);
  settle(clock, () => ['n1', 'n2', 'n3'].every((n) => store.getState().kv[n]?.shape === 'round'));
  const placed = await proposal;
  expect(placed.lastIndex - placed.firstIndex).toBe(1);
  await expect(single).resolves.toBeDefined();
  const expected = { color: 'blue', size: 'large', shape: 'round' };
  for (const n of ['n1', 'n2', 'n3']) expect(store.getState().kv[n]).toEqual(expected);

  // A proposal on a follower is refused with the leader's id.
  const follower = ['n1', 'n2', 'n3'].find((n) => n !== first)!;
  const refused = effects.propose(follower, [{ key: 'x', value: 'y' }]);
  await expect(refused).rejects.toBeInstanceOf(RaftRequestError);
  await expect(refused).rejects.toMatchObject({ code: 'rejected', reason: 'notLeader', leaderHint: first });

  // A linearizable read on a follower.
  const read = effects.read(follower);
  clock.advance(200);
  await expect(read).resolves.toBeGreaterThan(0);

  // Cut the leader off: the majority elects another leader and commits without it.
  network.isolate(first);
  settle(
    clock,
    () => t.leader() !== null && t.leader() !== first && store.getState().raft.nodes[first]!.role !== 'leader',
  );
  const second = t.leader()!;
  const during = effects.propose(second, [{ key: 'color', value: 'green' }]);
  const others = ['n1', 'n2', 'n3'].filter((n) => n !== first);
  settle(clock, () => others.every((n) => store.getState().kv[n]?.color === 'green'));
  await expect(during).resolves.toBeDefined();
  expect(store.getState().kv[first]!.color).toBe('blue');

  // Heal: the old leader follows and catches up.
  network.heal();
  settle(clock, () => store.getState().kv[first]?.color === 'green');
  expect(store.getState().raft.nodes[first]!.role).toBe('follower');
  for (const n of ['n1', 'n2', 'n3']) expect(store.getState().kv[n]).toEqual({ ...expected, color: 'green' });

  // Replay: the recorded actions, as JSON, through the same reducer from its initial state.
  const log = JSON.parse(JSON.stringify(t.recorder.actions)) as typeof t.recorder.actions;
  expect(log.length).toBeGreaterThan(100);
  const reducer = combineReducers({ raft: raft.reducer, kv: t.kv.reducer });
  const replayed = replayActions(reducer, log);
  expect(replayed).toEqual(store.getState());
  expect(JSON.stringify(replayed)).toBe(JSON.stringify(store.getState()));
  // ... and every prefix gives the state the store had after that action (a DevTools jump).
  expect(states.length).toBe(log.length);
  for (const k of [1, 2, 17, Math.floor(log.length / 2), log.length - 5]) {
    expect(replayActions(reducer, log.slice(0, k))).toEqual(states[k - 1]);
  }
  expect(store.getState().raft.outbox).toEqual({});

  effects.stop();
});

test('a crashed follower restarts from its storage and applies the log again', async () => {
  const t = makeStore({ seed: 3 });
  const { raft, store, clock, effects } = t;
  store.dispatch(raft.actions.stepped('n2', { type: 'createCluster', voters: ['n1', 'n2', 'n3'] }));
  settle(clock, () => t.leader() !== null);
  const leader = t.leader()!;
  const victim = ['n1', 'n2', 'n3'].find((n) => n !== leader)!;
  const first = effects.propose(leader, [{ key: 'a', value: '1' }]);
  settle(clock, () => store.getState().kv[victim]?.a === '1');
  await expect(first).resolves.toBeDefined();

  store.dispatch(raft.actions.stopped(victim)); // the process dies: its state and its timer are gone
  expect(store.getState().raft.nodes[victim]).toBeUndefined();
  const whileDown = effects.propose(leader, [{ key: 'b', value: '2' }]);
  settle(clock, () => store.getState().kv[leader]?.b === '2');
  await expect(whileDown).resolves.toBeDefined();

  await effects.restart(victim); // back from its durable storage only
  const back = store.getState().raft.nodes[victim]!;
  expect(back.role).toBe('follower');
  expect(back.log.lastIndex).toBeGreaterThan(0);
  expect(store.getState().raft.applied[victim]).toBe(0);
  settle(clock, () => store.getState().kv[victim]?.b === '2');
  expect(store.getState().kv[victim]).toEqual({ a: '1', b: '2' });
  effects.stop();
});
