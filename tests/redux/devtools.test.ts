/**
 * Redux DevTools: the sanitizers fold the metrics away and shorten long command lists, leave the
 * store alone, and give JSON; the store works with `devTools` configured.
 */
import { configureStore } from '@reduxjs/toolkit';
import { METRIC_NAMES } from '../../src/index.js';
import { createRaftSlice, raftActionSanitizer, raftDevTools, raftStateSanitizer } from '../../src/redux/index.js';
import { failOnConsoleOutput, makeStore, settle, type Put } from './support.js';

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
