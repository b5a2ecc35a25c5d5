/**
 * The slice on its own: the reducer is pure and total over its actions, keeps JSON, freezes what it
 * returns, merges the effects of steps not yet taken, and leaves unknown nodes alone; the runner can
 * also run as an RTK listener, and reports I/O failures.
 */
import { configureStore, createListenerMiddleware, type UnknownAction } from '@reduxjs/toolkit';
import { DEFAULT_OPTIONS, type RaftState } from '../../src/index.js';
import {
  createMemoryRaftStorage,
  createRaftSlice,
  replayActions,
  type RaftSliceState,
  type RaftStorage,
} from '../../src/redux/index.js';
import { failOnConsoleOutput, makeStore, settle, type Put } from './support.js';

failOnConsoleOutput();

/** Every object reachable from `x` is frozen. */
function deepFrozen(x: unknown): boolean {
  if (typeof x !== 'object' || x === null) return true;
  return Object.isFrozen(x) && Object.values(x).every(deepFrozen);
}

test('the reducer is pure, keeps JSON and freezes its states; effects accumulate until taken', () => {
  const raft = createRaftSlice<Put>({ nodes: ['a', 'b'], options: { preVote: false } });
  const r = raft.reducer;
  const s0 = r(undefined, { type: 'init' });
  expect(s0.nodes.a!.options.preVote).toBe(false);
  expect(s0.applied).toEqual({ a: 0, b: 0 });
  const create = raft.actions.stepped('a', { type: 'createCluster', voters: ['a', 'b'] });
  const s1 = r(s0, create);
  expect(r(s0, create)).toEqual(s1); // pure: the same action on the same state gives the same state
  expect(s0.steps).toBe(0); // and the old state is untouched
  expect(s1.steps).toBe(1);
  expect(deepFrozen(s1)).toBe(true);
  expect(JSON.parse(JSON.stringify(s1))).toEqual(s1);
  const box = s1.outbox.a!;
  expect(box.through).toBe(1);
  expect(box.effects.map((e) => e.type)).toEqual(['setTimer', 'saveHardState', 'appendLog', 'broadcast']);

  // A second step before the first one's effects were taken: the outbox holds both, merged.
  const s2 = r(s1, raft.actions.stepped('a', { type: 'timeout' }));
  expect(s2.outbox.a!.through).toBe(2);
  expect(s2.outbox.a!.effects.filter((e) => e.type === 'setTimer')).toHaveLength(1);
  // Taking with an older `through` leaves the newer outbox; the right one clears it.
  expect(r(s2, raft.actions.effectsTaken('a', 1))).toBe(s2);
  expect(r(s2, raft.actions.effectsTaken('a', 2)).outbox).toEqual({});

  // Unknown nodes, and steps that change nothing, leave the state as it is.
  expect(r(s2, raft.actions.stepped('zz', { type: 'timeout' }))).toBe(s2);
  expect(r(s2, raft.actions.proposed('zz', [{ key: 'k', value: 'v' }]))).toBe(s2);
  expect(r(s2, raft.actions.applied('zz', 3, []))).toBe(s2);
  // A malformed event is reported in the outbox, and the node is unchanged.
  const bad = r(s0, raft.actions.stepped('b', { type: 'nonsense' } as never));
  expect(bad.nodes.b).toBe(s0.nodes.b);
  expect(bad.outbox.b!.effects.map((e) => e.type)).toEqual(['invalidEvent']);
});

test('nodes come and go: started, stopped, restarted; ids are data', () => {
  const raft = createRaftSlice<Put>();
  const r = raft.reducer;
  let s: RaftSliceState = r(undefined, { type: 'init' });
  expect(s.nodes).toEqual({});
  s = r(s, raft.actions.started('__proto__', { checkQuorum: false }));
  s = r(s, raft.actions.started('n2'));
  expect(Object.keys(s.nodes)).toEqual(['__proto__', 'n2']);
  const odd: RaftState = raft.selectors.selectNode({ raft: s }, '__proto__')!;
  expect(odd.id).toBe('__proto__');
  expect(odd.options).toEqual({ ...DEFAULT_OPTIONS, checkQuorum: false });
  expect(raft.selectors.selectNode({ raft: s }, 'toString')).toBeUndefined();
  expect(r(s, raft.actions.started('n2'))).toBe(s); // already there
  s = r(s, raft.actions.stopped('n2'));
  expect(Object.keys(s.nodes)).toEqual(['__proto__']);
  s = r(
    s,
    raft.actions.restarted('n2', {
      term: 3,
      votedFor: 'x',
      log: s.nodes.__proto__!.log,
      snapshotConfig: s.nodes.__proto__!.snapshotConfig,
    }),
  );
  expect(s.nodes.n2!.term).toBe(3);
  expect(s.outbox.n2!.effects).toEqual([{ type: 'setTimer', wait: 'follower' }]);
  expect(() => r(s, raft.actions.started('', {}))).toThrow(TypeError);
});

test('the runner runs as an RTK listener too', async () => {
  const viaNew = makeStore({ seed: 8, effects: { listener: true } });
  viaNew.store.dispatch(viaNew.raft.actions.stepped('n1', { type: 'createCluster', voters: ['n1', 'n2', 'n3'] }));
  settle(viaNew.clock, () => viaNew.leader() !== null);
  const p = viaNew.effects.propose(viaNew.leader()!, [{ key: 'via', value: 'listener' }]);
  settle(viaNew.clock, () => ['n1', 'n2', 'n3'].every((n) => viaNew.store.getState().kv[n]?.via === 'listener'));
  await expect(p).resolves.toBeDefined();
  viaNew.effects.stop();

  // On an instance of the application's own: both middlewares go into the store.
  const { raft, clock } = makeStore({ nodes: ['solo'] });
  const listener = createListenerMiddleware();
  const { raftEffects } = await import('../../src/redux/index.js');
  const effects = raftEffects({ slice: raft, clock, listener });
  const seen: string[] = [];
  listener.startListening({
    actionCreator: raft.actions.applied,
    effect: (a) => void seen.push(`applied ${a.payload.index}`),
  });
  const store = configureStore({
    reducer: { raft: raft.reducer },
    middleware: (gdm) => gdm().prepend(listener.middleware).concat(effects.middleware),
  });
  store.dispatch(raft.actions.stepped('solo', { type: 'createCluster', voters: ['solo'] }));
  await expect(effects.propose('solo', [{ key: 'a', value: 'b' }])).resolves.toMatchObject({ lastIndex: 3 });
  expect(seen).toEqual(['applied 2', 'applied 3']);
  effects.stop();
});

test('a storage failure stops the node and is reported', async () => {
  const inner = createMemoryRaftStorage<Put>();
  let broken = false;
  const storage: RaftStorage<Put> = {
    write: (node, writes) => {
      if (broken) throw new Error('disk on fire');
      inner.write(node, writes);
    },
    payloads: (node, from, to) => inner.payloads(node, from, to),
    load: (node) => inner.load(node),
  };
  const errors: [string, string][] = [];
  const t = makeStore({
    nodes: ['solo'],
    effects: { storage, onError: (e, node) => void errors.push([node, (e as Error).message]) },
  });
  t.store.dispatch(t.raft.actions.stepped('solo', { type: 'createCluster', voters: ['solo'] }));
  broken = true;
  const p = t.effects.propose('solo', [{ key: 'lost', value: 'yes' }]);
  await expect(p).rejects.toMatchObject({ code: 'stopped' });
  expect(errors).toEqual([['solo', 'disk on fire']]);
  expect(t.store.getState().kv.solo).toEqual({}); // never applied: it was never durable
  expect(t.store.getState().raft.nodes.solo).toBeUndefined(); // taken out of service
  // The replayed log still gives the store's state.
  const log: UnknownAction[] = [...t.recorder.actions];
  expect(
    replayActions(
      t.raft.reducer,
      log.filter((a) => a.type.startsWith('raft/')),
    ),
  ).toEqual(t.store.getState().raft);
  t.effects.stop();
});
