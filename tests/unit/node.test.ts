/**
 * Creating and restoring nodes (src/node.ts): what `startNode` and `restartNode` refuse, what a
 * restarted node believes about its leader, what `applyToStoredLog` says when the stored log lost a
 * write, and when `createCluster` is refused.
 */
import { EMPTY_CONFIG, makeConfig } from '../../src/config.js';
import { appendCommands, emptyEntries } from '../../src/log.js';
import { preVote } from '../../src/messages.js';
import { applyToStoredLog, restartNode, startNode, type PersistedState } from '../../src/node.js';
import { configChangeInProgress } from '../../src/state.js';
import { step } from '../../src/step.js';

/** A follower of term 3 that stored entries 11..15 of term 2 after a snapshot at (2, 10), with no configuration anywhere. */
const STORED: PersistedState = {
  id: 'n1',
  term: 3,
  votedFor: null,
  log: appendCommands(emptyEntries(2, 10), 5),
  snapshotConfig: EMPTY_CONFIG,
};

describe('startNode and restartNode refuse what is not a node', () => {
  test('an empty id', () => {
    expect(() => startNode('')).toThrow(new TypeError('startNode: id must be a non-empty string'));
  });

  test('a persisted state that is not an object', () => {
    expect(() => restartNode(42 as unknown as PersistedState)).toThrow(
      new TypeError('restartNode: persisted state must be an object'),
    );
  });
});

describe('a restarted node', () => {
  test('counts as hearing from a live leader until its election timer fires, and refuses pre-votes meanwhile', () => {
    const [node, actions] = restartNode(STORED);
    expect(node.leaderAlive).toBe(true);
    expect(actions).toEqual([{ type: 'setTimer', wait: 'follower' }]);
    // A pre-vote for the next term from a node with a longer log: refused without an answer, as a
    // lease granted before the crash may still be running.
    const [after, answer] = step(node, preVote('n2', 4, 3, 20));
    expect(answer).toEqual([]);
    expect(after.metrics.preVotesRefusedWhileLeaderAlive).toBe(1);
  });
});

describe('applyToStoredLog', () => {
  test('an append whose anchor the stored log lacks throws, naming both positions', () => {
    const stored = appendCommands(emptyEntries(0, 0), 2);
    const append = { type: 'appendLog' as const, entries: appendCommands(emptyEntries(1, 4), 1) };
    expect(() => applyToStoredLog(stored, append)).toThrow(
      new Error("applyToStoredLog: the stored log (0,0)..(0,2) does not hold the append's anchor (1,4)"),
    );
  });
});

describe('createCluster is refused on a node that already has a log or a configuration', () => {
  test('a log without any configuration', () => {
    const [node] = restartNode(STORED);
    const [after, actions] = step(node, { type: 'createCluster', voters: ['n1', 'n2', 'n3'] });
    expect(after).toBe(node);
    expect(actions).toEqual([expect.objectContaining({ type: 'rejected', reason: 'alreadyInCluster' })]);
  });

  test('a configuration (from a snapshot) without any entry', () => {
    const [node] = restartNode({ ...STORED, log: emptyEntries(0, 0), snapshotConfig: makeConfig(['n1', 'n2']) });
    expect(node.log.lastIndex).toBe(0);
    const [after, actions] = step(node, { type: 'createCluster', voters: ['n1'] });
    expect(after).toBe(node);
    expect(actions).toEqual([expect.objectContaining({ type: 'rejected', reason: 'alreadyInCluster' })]);
  });
});

describe('a node that cannot campaign', () => {
  test('a timeout changes nothing once it no longer hears from a leader: the same state object', () => {
    const [fresh] = startNode('n1'); // no configuration: not a voter of anything
    expect(fresh.leaderAlive).toBe(false);
    const [after, actions] = step(fresh, { type: 'timeout' });
    expect(after).toBe(fresh);
    expect(actions).toEqual([]);
    // A restarted one first stops counting on its leader, then stays as it is.
    const [restarted] = restartNode(STORED);
    const [once] = step(restarted, { type: 'timeout' });
    expect(once.leaderAlive).toBe(false);
    expect(step(once, { type: 'timeout' })[0]).toBe(once);
  });
});

describe('configChangeInProgress', () => {
  test('true while the latest configuration is joint, even once it is committed', () => {
    const joint = makeConfig(['n1', 'n2', 'n3'], ['n1', 'n2', 'n4']);
    const [node] = restartNode({ ...STORED, log: emptyEntries(2, 10), snapshotConfig: joint });
    expect(node.commitIndex).toBe(10); // the snapshot, and the joint configuration with it, is committed
    expect(configChangeInProgress(node)).toBe(true);
    const [settled] = restartNode({ ...STORED, log: emptyEntries(2, 10), snapshotConfig: makeConfig(['n1', 'n2']) });
    expect(configChangeInProgress(settled)).toBe(false);
  });
});
