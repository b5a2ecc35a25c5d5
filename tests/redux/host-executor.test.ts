/**
 * The host executor: a three-node cluster in one store, each node carried out by the host runtime's
 * node executor over `MemoryStorage` and a memory network's transports, the store's reducer doing
 * every step. Election, proposals applied to the kv slice (the state machine), a partition and its
 * heal, the storage holding the log, a restart from the storage, snapshots taken and installed
 * through the kv slice; the recorded actions replay to the identical store, with RTK's checks on
 * and nothing printed.
 */
import { replayActions } from '../../src/redux/index.js';
import { REHYDRATE, failOnConsoleOutput, makeHostStore, settleAsync, type Put } from './support.js';

failOnConsoleOutput();

const ids = ['n1', 'n2', 'n3'];
const decoder = new TextDecoder();

test('a cluster on the host executor elects, commits, survives a partition and replays exactly', async () => {
  const t = makeHostStore({ seed: 7 });
  const { raft, store, clock, network, effects } = t;
  const kv = () => store.getState().kv;
  store.dispatch(raft.actions.stepped('n1', { type: 'createCluster', voters: ids }));
  await settleAsync(clock, () => t.leader() !== null);
  const first = t.leader()!;
  const term = store.getState().raft.nodes[first]!.term;

  const puts: Put[] = [
    { key: 'color', value: 'blue' },
    { key: 'size', value: 'large' },
  ];
  const proposal = effects.propose(first, puts);
  const single = effects.propose(first, [{ key: 'shape', value: 'round' }]);
  await settleAsync(clock, () => ids.every((n) => kv()[n]?.shape === 'round'));
  // Index 1: the configuration, 2: the leader's term start; then the commands, in order.
  await expect(proposal).resolves.toEqual({ term, firstIndex: 3, lastIndex: 4 });
  await expect(single).resolves.toEqual({ term, firstIndex: 5, lastIndex: 5 });
  const expected = { color: 'blue', size: 'large', shape: 'round' };
  for (const n of ids) expect(kv()[n]).toEqual(expected);
  expect(store.getState().raft.applied).toEqual({ n1: 5, n2: 5, n3: 5 });

  // Every node's storage holds its log and the commands' bytes (the runtime's envelopes carried them).
  for (const n of ids) {
    const stored = await t.disks.get(n)!.load();
    expect(stored.log.lastIndex).toBe(store.getState().raft.nodes[n]!.log.lastIndex);
    expect(stored.hardState.term).toBe(term);
    const payloads = await t.disks.get(n)!.payloads(2, 5);
    expect(payloads.map((p) => decoder.decode(p))).toEqual([
      '{"key":"color","value":"blue"}',
      '{"key":"size","value":"large"}',
      '{"key":"shape","value":"round"}',
    ]);
  }

  // A proposal on a follower is refused with the leader's id.
  const follower = ids.find((n) => n !== first)!;
  await expect(effects.propose(follower, [{ key: 'x', value: 'y' }])).rejects.toMatchObject({
    code: 'rejected',
    reason: 'notLeader',
    leaderHint: first,
  });

  // Cut the leader off: the other two elect a leader of a later term and commit without it.
  network.isolate(first);
  await settleAsync(clock, () => t.leader() !== null && t.leader() !== first);
  const second = t.leader()!;
  expect(store.getState().raft.nodes[second]!.term).toBeGreaterThan(term);
  const during = effects.propose(second, [{ key: 'color', value: 'green' }]);
  const others = ids.filter((n) => n !== first);
  await settleAsync(clock, () => others.every((n) => kv()[n]?.color === 'green'));
  await expect(during).resolves.toMatchObject({ term: store.getState().raft.nodes[second]!.term });
  expect(kv()[first]).toEqual(expected);

  // Heal: the old leader steps down, follows and catches up.
  network.heal();
  await settleAsync(clock, () => kv()[first]?.color === 'green');
  expect(store.getState().raft.nodes[first]!.role).toBe('follower');
  for (const n of ids) expect(kv()[n]).toEqual({ ...expected, color: 'green' });
  const last = store.getState().raft.nodes[second]!.log.lastIndex;
  await settleAsync(clock, () => ids.every((n) => store.getState().raft.applied[n] === last));

  // Replay: the recorded actions, as JSON, through the reducer alone, from the initial state.
  const log = JSON.parse(JSON.stringify(t.recorder.actions)) as typeof t.recorder.actions;
  expect(log.length).toBeGreaterThan(100);
  const replayed = replayActions(t.reducer, log);
  expect(replayed).toEqual(store.getState());
  expect(JSON.stringify(replayed)).toBe(JSON.stringify(store.getState()));
  expect(store.getState().raft.outbox).toEqual({});
  effects.stop();
});

test('a stopped follower restarts from its host storage and applies the log again', async () => {
  const t = makeHostStore({ seed: 3 });
  const { raft, store, clock, effects } = t;
  const kv = () => store.getState().kv;
  store.dispatch(raft.actions.stepped('n2', { type: 'createCluster', voters: ids }));
  await settleAsync(clock, () => t.leader() !== null);
  const leader = t.leader()!;
  const victim = ids.find((n) => n !== leader)!;
  const a = effects.propose(leader, [{ key: 'a', value: '1' }]);
  await settleAsync(clock, () => kv()[victim]?.a === '1');
  await expect(a).resolves.toMatchObject({ firstIndex: 3, lastIndex: 3 });

  store.dispatch(raft.actions.stopped(victim)); // the process dies: its state, timer, transport are gone
  const b = effects.propose(leader, [{ key: 'b', value: '2' }]);
  await settleAsync(clock, () => kv()[leader]?.b === '2');
  await expect(b).resolves.toMatchObject({ firstIndex: 4, lastIndex: 4 });

  await effects.restart(victim); // back from its MemoryStorage alone
  const back = store.getState().raft.nodes[victim]!;
  expect(back.role).toBe('follower');
  expect(back.log.lastIndex).toBe(3);
  expect(store.getState().raft.applied[victim]).toBe(0);
  expect(kv()[victim]).toBeUndefined();
  await settleAsync(clock, () => kv()[victim]?.b === '2');
  expect(kv()[victim]).toEqual({ a: '1', b: '2' });
  expect(store.getState().raft.applied[victim]).toBe(4);
  expect(replayActions(t.reducer, t.recorder.actions)).toEqual(store.getState());
  effects.stop();
});

test('snapshots are taken by the policy, and a lagging follower installs the leader’s through the kv slice', async () => {
  const t = makeHostStore({ seed: 5, snapshotEvery: 5 });
  const { raft, store, clock, effects } = t;
  const kv = () => store.getState().kv;
  store.dispatch(raft.actions.stepped('n1', { type: 'createCluster', voters: ids }));
  await settleAsync(clock, () => t.leader() !== null);
  const leader = t.leader()!;
  const victim = ids.find((n) => n !== leader)!;
  store.dispatch(raft.actions.stopped(victim));
  for (let i = 0; i < 12; i++) {
    const p = effects.propose(leader, [{ key: `k${i % 4}`, value: String(i) }]);
    await settleAsync(clock, () => kv()[leader]?.[`k${i % 4}`] === String(i));
    await expect(p).resolves.toMatchObject({ firstIndex: 3 + i });
  }
  // Entries 1..14 applied, one commit at a time: snapshots at 5 and 10 compacted the leader's log;
  // the one at 10 holds the commands up to i = 7.
  await settleAsync(clock, () => store.getState().raft.nodes[leader]!.log.prevIndex === 10);
  const stored = await t.disks.get(leader)!.snapshot();
  expect(stored?.index).toBe(10);
  expect(JSON.parse(decoder.decode(stored!.data))).toEqual({ k0: '4', k1: '5', k2: '6', k3: '7' });

  // The follower comes back behind the leader's snapshot: it installs it, then applies the rest.
  await effects.restart(victim);
  await settleAsync(clock, () => kv()[victim]?.k3 === '11');
  expect(kv()[victim]).toEqual({ k0: '8', k1: '9', k2: '10', k3: '11' });
  expect(store.getState().raft.nodes[victim]!.log.prevIndex).toBe(10);
  expect((await t.disks.get(victim)!.snapshot())?.index).toBe(10);
  const restores = t.recorder.actions.filter((a) => a.type === 'kv/restored');
  expect(restores.map((a) => a.payload)).toEqual([{ node: victim, kv: { k0: '4', k1: '5', k2: '6', k3: '7' } }]);
  expect(store.getState().raft.applied[victim]).toBe(14);
  expect(replayActions(t.reducer, t.recorder.actions)).toEqual(store.getState());
  effects.stop();
});

test('a store rehydrated with its host storage carries on: the nodes reopen at the applied index it persisted', async () => {
  // The first life: elect, commit on every node, then persist the state (the storage survives in memory).
  const first = makeHostStore({ seed: 5 });
  first.store.dispatch(first.raft.actions.stepped('n1', { type: 'createCluster', voters: ids }));
  await settleAsync(first.clock, () => first.leader() !== null);
  const p = first.effects.propose(first.leader()!, [{ key: 'life', value: 'first' }]);
  await settleAsync(first.clock, () => ids.every((n) => first.store.getState().raft.applied[n] === 3));
  await expect(p).resolves.toMatchObject({ firstIndex: 3, lastIndex: 3 });
  const saved = JSON.stringify(first.store.getState());
  first.effects.stop();
  await new Promise<void>((resolve) => setImmediate(resolve)); // the storages and transports close

  // The second life: a new store on the same storage, rehydrated from the persisted state.
  const t = makeHostStore({ seed: 9, disks: first.disks });
  const { store, clock, effects } = t;
  store.dispatch({ type: REHYDRATE, key: 'root', payload: JSON.parse(saved) as unknown });
  expect(JSON.stringify(store.getState())).toBe(saved);
  const leader = t.leader()!;
  const again = effects.propose(leader, [{ key: 'life', value: 'second' }]);
  await settleAsync(clock, () => ids.every((n) => store.getState().kv[n]?.life === 'second'));
  await expect(again).resolves.toMatchObject({ firstIndex: 4, lastIndex: 4 });
  // Index 3 was not applied twice: each node applied exactly one command in this life, at index 4.
  const applied = store.getState().raft.applied;
  expect(applied).toEqual({ n1: 4, n2: 4, n3: 4 });
  const commands = t.recorder.actions.flatMap((a) =>
    t.raft.actions.applied.match(a) ? a.payload.commands.map((c) => c.index) : [],
  );
  expect(commands).toEqual([4, 4, 4]);
  for (const n of ids) expect((await t.disks.get(n)!.load()).log.lastIndex).toBe(4);
  expect(replayActions(t.reducer, t.recorder.actions)).toEqual(store.getState());
  effects.stop();
});
