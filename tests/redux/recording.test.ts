/**
 * Time travel over a Redux action log: `recordingFromActions` turns a store's recorded actions into
 * a recording, and its timeline shows, after every action, the node states the store held.
 */
import { becameLeader, createTimeline } from '../../src/timetravel/index.js';
import { recordingFromActions } from '../../src/redux/index.js';
import type { RaftState } from '../../src/index.js';
import { failOnConsoleOutput, makeStore, settle } from './support.js';

failOnConsoleOutput();

test("a store's action log replays, action by action, to the node states the store held", async () => {
  const t = makeStore();
  const initial = t.raft.getInitialState();
  const seen: Array<Record<string, RaftState>> = []; // the store's nodes after each action
  t.store.subscribe(() => seen.push(t.store.getState().raft.nodes));
  t.store.dispatch(t.raft.actions.stepped('n1', { type: 'createCluster', voters: ['n1', 'n2', 'n3'] }));
  settle(t.clock, () => t.leader() !== null);
  const leader = t.leader()!;
  const done = t.effects.propose(leader, [{ key: 'k', value: 'v' }]);
  settle(t.clock, () => ['n1', 'n2', 'n3'].every((n) => t.store.getState().kv[n]?.k === 'v'));
  await done;
  // A node taken out and brought back from its storage: stopped, then restarted.
  const follower = ['n1', 'n2', 'n3'].find((n) => n !== leader)!;
  await t.effects.restart(follower);
  settle(
    t.clock,
    () => t.store.getState().raft.nodes[follower]?.commitIndex === t.store.getState().raft.nodes[leader]!.commitIndex,
  );
  t.effects.stop();

  const actions = t.recorder.actions;
  expect(seen).toHaveLength(actions.length);
  const timeline = createTimeline(recordingFromActions(actions, { initial }));
  // Every point where a node changed: the timeline's state is the store's (the events it left out
  // changed no node).
  const recording = recordingFromActions(actions, { initial });
  recording.events.forEach((e, k) => {
    const after = timeline.statesAt(k + 1);
    for (const id of ['n1', 'n2', 'n3']) expect(after[id]).toEqual(seen[e.time!]![id] ?? null);
  });
  expect(recording.events.some((e) => 'lifecycle' in e && e.lifecycle.type === 'restart')).toBe(true);
  // "When did a node first lead?" — the first action after which the store had a leader.
  const elected = timeline.findFirst(becameLeader());
  const firstLeaderAction = seen.findIndex((nodes) => Object.values(nodes).some((n) => n.role === 'leader'));
  expect(recording.events[elected - 1]!.time).toBe(firstLeaderAction);
});

test('actions the slice ignores are left out, and rehydration loads the persisted nodes', () => {
  const t = makeStore({ nodes: ['n1'] });
  const initial = t.raft.getInitialState();
  const state = t.raft.reducer(initial, t.raft.actions.stepped('n1', { type: 'createCluster', voters: ['n1'] }));
  const actions = [
    t.raft.actions.stepped('nx', { type: 'timeout' }), // no such node: the reducer ignores it
    t.raft.actions.effectsTaken('n1', 1), // bookkeeping, not a node change
    { type: 'other/thing' },
    { type: 'persist/REHYDRATE', payload: { raft: state } },
    t.raft.actions.proposed('n1', [{ key: 'a', value: '1' }]),
    t.raft.actions.stopped('n1'),
    t.raft.actions.started('n1'),
  ];
  const recording = recordingFromActions(actions, { initial });
  expect(recording.events.map((e) => ('event' in e ? e.event.type : e.lifecycle.type))).toEqual([
    'load',
    'propose',
    'shutdown',
    'start',
  ]);
  expect(recording.events.map((e) => e.time)).toEqual([3, 4, 5, 6]);
  const timeline = createTimeline(recording);
  expect(timeline.stateAt(2, 'n1')!.commitIndex).toBe(3); // the proposal, on the rehydrated leader
  expect(timeline.stateAt(3, 'n1')).toBeNull();
  expect(timeline.stateAt(4, 'n1')!.term).toBe(0);
  t.effects.stop();
});
