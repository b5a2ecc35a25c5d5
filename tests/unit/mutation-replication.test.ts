/**
 * AppendEntries (src/replication.ts) at its edges. The follower: a call that changes nothing keeps
 * the very state object (the contract's "an event that changes nothing returns the same state"),
 * and one that changes anything, even the commit index alone, gives a new one. The leader: a reply
 * from a follower whose log is longer than the leader's, on older terms, is repaired from the last
 * index the two logs can share; a repeated reply from a follower that is behind (in the log or behind
 * the snapshot) keeps the state object, and a leadership transfer to it waits until it is up to date.
 */
import { TIMER_FOLLOWER, commitAdvanced, installSnapshot, send } from '../../src/actions.js';
import { since } from '../../src/log.js';
import { emptyEntries } from '../../src/log.js';
import { appendEntriesCall, appendEntriesReply } from '../../src/messages.js';
import { positionAndConfigAt } from '../../src/state.js';
import { step } from '../../src/step.js';
import { threeNodeCluster } from './support';

describe('a follower answering AppendEntries', () => {
  test('a heartbeat that changes nothing returns the same state object, and only the timer and the reply', () => {
    const b = threeNodeCluster().get('b');
    expect(b.role).toBe('follower');
    expect(b.votedFor).toBe('a');
    expect(b.leaderAlive).toBe(true);
    const beat = appendEntriesCall('a', b.term, b.commitIndex, emptyEntries(b.log.lastTerm, b.log.lastIndex));
    const [after, actions] = step(b, beat);
    expect(after).toBe(b);
    expect(actions).toEqual([
      TIMER_FOLLOWER,
      send('a', appendEntriesReply('b', b.term, b.log.lastTerm, b.log.lastIndex)),
    ]);
  });

  test('a heartbeat that only raises the commit index returns a new state with it', () => {
    const net = threeNodeCluster();
    net.step('a', { type: 'propose' });
    net.deliver(); // b holds the entry; the leader's commit reaches b with the next call
    const b = net.get('b');
    const leaderCommit = net.get('a').commitIndex;
    expect(leaderCommit).toBeGreaterThan(b.commitIndex);
    const beat = appendEntriesCall('a', b.term, leaderCommit, emptyEntries(b.log.lastTerm, b.log.lastIndex));
    const [after, actions] = step(b, beat);
    expect(after).not.toBe(b);
    expect(after).toEqual({ ...b, commitIndex: leaderCommit });
    expect(actions).toEqual([
      TIMER_FOLLOWER,
      commitAdvanced(leaderCommit),
      send('a', appendEntriesReply('b', b.term, b.log.lastTerm, b.log.lastIndex)),
    ]);
  });
});

describe('a leader answering an AppendEntries reply it cannot place', () => {
  test("a follower log longer than the leader's, on an older term, gets the entries after the last index both can share", () => {
    const net = threeNodeCluster();
    net.step('b', { type: 'timeout' }); // b campaigns in term 2, wins, and appends its term start (2,3)
    net.deliver();
    const b = net.get('b');
    expect(b.role).toBe('leader');
    expect([b.log.lastTerm, b.log.lastIndex]).toEqual([2, 3]);
    // c claims entries of term 1 up to index 9 (a stale tail no majority holds): the last index of
    // b's log with a term of at most 1 is 2, so b sends everything after (1, 2).
    const [after, actions] = step(b, appendEntriesReply('c', 2, 1, 9));
    expect(actions).toEqual([send('c', appendEntriesCall('b', 2, b.commitIndex, since(b.log, 1, 2)!))]);
    expect(after.metrics.logDivergencesDetectedByLeader).toBe(b.metrics.logDivergencesDetectedByLeader + 1);
  });
});

describe('a leader answering a reply from a follower that is behind', () => {
  test('a duplicate that changes nothing keeps the state object, resends what is missing, and hands over nothing', () => {
    // a leads b and c (all hold 2); it appends 3-4, which are lost, and starts a transfer to b.
    const net = threeNodeCluster();
    net.step('a', { type: 'propose', count: 2 });
    net.step('a', { type: 'transferLeadership', to: 'b' });
    net.drop();
    const stale = appendEntriesReply('b', 1, 1, 2); // b still holds only 2
    const [once] = net.step('a', stale);
    const [twice, actions] = step(once, stale);
    expect(twice).toBe(once);
    expect(actions).toEqual([send('b', appendEntriesCall('a', 1, 2, since(once.log, 1, 2)!))]);
  });

  test('a repeated reply from a follower behind the snapshot keeps the state object and asks for a snapshot again', () => {
    // b misses 3-4; a and c commit them, and a compacts its log up to 4.
    const net = threeNodeCluster();
    net.step('a', { type: 'propose', count: 2 });
    net.drop((e) => e.to === 'b');
    net.deliver();
    const a = net.get('a');
    expect(a.commitIndex).toBe(4);
    const { term, config } = positionAndConfigAt(a, 4)!;
    net.step('a', { type: 'snapshotInstalled', term, index: 4, config });
    const stale = appendEntriesReply('b', 1, 1, 2);
    const [once, first] = net.step('a', stale);
    const [twice, second] = step(once, stale);
    expect(first).toEqual([installSnapshot('b')]);
    expect(second).toEqual([installSnapshot('b')]);
    expect(twice).toBe(once);
  });
});
