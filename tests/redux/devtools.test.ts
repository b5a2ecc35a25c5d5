/**
 * Redux DevTools: the sanitizers fold the metrics away and shorten long command lists, leave the
 * store alone, and give JSON; the store works with `devTools` configured; and under DevTools' own
 * instrument enhancer, jumping to any action and skipping one give the states the reducer gives.
 */
import { combineReducers, configureStore, type UnknownAction } from '@reduxjs/toolkit';
import { ActionCreators, instrument, type LiftedStore } from '@redux-devtools/instrument';
import { METRIC_NAMES } from '../../src/index.js';
import {
  createActionRecorder,
  createMemoryRaftStorage,
  createRaftNetwork,
  createRaftSlice,
  createVirtualClock,
  raftActionSanitizer,
  raftDevTools,
  raftEffects,
  raftStateSanitizer,
  replayActions,
} from '../../src/redux/index.js';
import { DEV_CHECKS, failOnConsoleOutput, kvSlice, makeStore, settle, type Put } from './support.js';

failOnConsoleOutput();

test('the state sanitizer folds metrics and default options away, and only in what DevTools shows', () => {
  const t = makeStore();
  t.store.dispatch(t.raft.actions.stepped('n1', { type: 'createCluster', voters: ['n1', 'n2', 'n3'] }));
  settle(t.clock, () => t.leader() !== null);
  const state = t.store.getState();
  const before = JSON.stringify(state);
  const shown = raftStateSanitizer(t.raft)(state);
  expect(JSON.stringify(state)).toBe(before); // the store's state is untouched
  const node = shown.raft.nodes[t.leader()!] as unknown as Record<string, unknown>;
  expect(node.metrics).toMatch(new RegExp(`^${METRIC_NAMES.length} counters hidden \\(\\d+ above zero\\)$`));
  expect(node.options).toBe('default');
  expect(node.term).toBe(state.raft.nodes[t.leader()!]!.term);
  expect(shown.kv).toBe(state.kv);
  // Folding makes a node's JSON much shorter.
  expect(JSON.stringify(node).length).toBeLessThan(JSON.stringify(state.raft.nodes[t.leader()!]).length / 2);

  const nonZero = raftStateSanitizer(t.raft, { metrics: 'nonZero' })(state).raft.nodes[t.leader()!] as unknown as {
    metrics: Record<string, number>;
  };
  expect(nonZero.metrics.leadershipsStarted).toBe(1);
  expect(Object.values(nonZero.metrics).every((v) => v > 0)).toBe(true);
  t.effects.stop();
});

test('the action sanitizer shortens long command lists', () => {
  const raft = createRaftSlice<Put>({ nodes: ['n1'] });
  const sanitize = raftActionSanitizer(raft, { commands: 2 });
  const many = Array.from({ length: 5 }, (_, k) => ({ key: `k${k}`, value: 'v' }));
  const action = raft.actions.proposed('n1', many);
  expect(sanitize(action).payload.commands).toEqual([many[0], many[1], '… 3 more']);
  expect(action.payload.commands).toHaveLength(5);
  const short = raft.actions.proposed('n1', many.slice(0, 2));
  expect(sanitize(short)).toBe(short);
  const other = raft.actions.stepped('n1', { type: 'timeout' });
  expect(sanitize(other)).toBe(other);
});

test('a store accepts the sanitizers as its devTools options', () => {
  const raft = createRaftSlice<Put>({ nodes: ['n1'] });
  const store = configureStore({
    reducer: { raft: raft.reducer },
    devTools: raftDevTools(raft, { metrics: 'nonZero' }),
  });
  store.dispatch(raft.actions.stepped('n1', { type: 'createCluster', voters: ['n1'] }));
  expect(store.getState().raft.nodes.n1!.role).toBe('leader');
});

/**
 * Redux DevTools itself: the browser extension is `@redux-devtools/instrument`'s store enhancer plus
 * a monitor that dispatches its commands (jump to an action, skip one) to the lifted store, which
 * recomputes the states with the store's own reducer. Driven here without a browser.
 */
describe('Redux DevTools (its instrument enhancer, as the extension runs it)', () => {
  function instrumentedStore() {
    const raft = createRaftSlice<Put>({ nodes: ['n1', 'n2', 'n3'] });
    const kv = kvSlice(raft);
    const clock = createVirtualClock();
    const network = createRaftNetwork<Put>({ clock, seed: 11 });
    const effects = raftEffects({ slice: raft, network, storage: createMemoryRaftStorage<Put>(), seed: 11 });
    const recorder = createActionRecorder();
    const reducer = combineReducers({ raft: raft.reducer, kv: kv.reducer });
    const store = configureStore({
      reducer,
      middleware: (gdm) => gdm(DEV_CHECKS).concat(effects.middleware, recorder.middleware),
      enhancers: (gde) => gde().concat(instrument()),
    });
    const lifted = (store as unknown as { liftedStore: LiftedStore<ReturnType<typeof reducer>, UnknownAction, null> })
      .liftedStore;
    return { raft, clock, effects, recorder, reducer, store, lifted };
  }

  test('jumping to any action shows the state those actions give; jumping runs no effects', async () => {
    const t = instrumentedStore();
    t.store.dispatch(t.raft.actions.stepped('n1', { type: 'createCluster', voters: ['n1', 'n2', 'n3'] }));
    settle(t.clock, () => t.raft.selectors.selectLeader(t.store.getState()) !== null);
    const leader = t.raft.selectors.selectLeader(t.store.getState())!;
    const done = t.effects.propose(leader, [
      { key: 'a', value: '1' },
      { key: 'b', value: '2' },
    ]);
    settle(t.clock, () => ['n1', 'n2', 'n3'].every((n) => t.store.getState().kv[n]?.b === '2'));
    await done;
    const final = t.store.getState();
    t.effects.pause(); // what a user does before jumping around (see raftEffects)

    const { stagedActionIds, actionsById } = t.lifted.getState();
    const log = stagedActionIds.slice(1).map((id) => actionsById[id]!.action); // 0 is the store's init
    expect(log).toEqual(t.recorder.actions);
    expect(log.length).toBeGreaterThan(40);
    const dispatched = t.recorder.actions.length;
    const points = [1, 2, Math.floor(log.length / 3), Math.floor(log.length / 2), log.length - 1, log.length];
    for (const k of points) {
      t.lifted.dispatch(ActionCreators.jumpToAction(stagedActionIds[k]!));
      expect(t.store.getState()).toEqual(replayActions(t.reducer, log.slice(0, k)));
    }
    expect(t.store.getState()).toEqual(final); // back at the last action
    // Jumping is a recomputation in the lifted store: no action reached the middleware (and the
    // virtual clock runs nothing until advanced).
    expect(t.recorder.actions.length).toBe(dispatched);
    t.effects.stop();
  });

  test('skipping an action recomputes the later states with the same reducer, which never throws', () => {
    const t = instrumentedStore();
    t.store.dispatch(t.raft.actions.stepped('n1', { type: 'createCluster', voters: ['n1', 'n2', 'n3'] }));
    settle(t.clock, () => t.raft.selectors.selectLeader(t.store.getState()) !== null);
    t.effects.pause();
    const { stagedActionIds, actionsById } = t.lifted.getState();
    // Skip the first message a node stepped: every later state is recomputed without it.
    const k = stagedActionIds.findIndex(
      (id, i) => i > 1 && actionsById[id]!.action.type === t.raft.actions.stepped.type,
    );
    expect(k).toBeGreaterThan(1);
    t.lifted.dispatch(ActionCreators.toggleAction(stagedActionIds[k]!));
    const kept = stagedActionIds
      .slice(1)
      .filter((id) => id !== stagedActionIds[k])
      .map((id) => actionsById[id]!.action);
    const lifted = t.lifted.getState();
    expect(lifted.computedStates.every((c) => c.error === undefined)).toBe(true);
    expect(t.store.getState()).toEqual(replayActions(t.reducer, kept));
    t.lifted.dispatch(ActionCreators.toggleAction(stagedActionIds[k]!)); // and back
    expect(t.store.getState()).toEqual(
      replayActions(
        t.reducer,
        stagedActionIds.slice(1).map((id) => actionsById[id]!.action),
      ),
    );
    t.effects.stop();
  });
});
