/**
 * The follower's side of AppendEntries (src/replication.ts) at its edges: a call that changes
 * nothing keeps the very state object (the contract's "an event that changes nothing returns the
 * same state"), and one that changes anything, even the commit index alone, gives a new one.
 */
import { TIMER_FOLLOWER, commitAdvanced, send } from '../../src/actions.js';
import { emptyEntries } from '../../src/log.js';
import { appendEntriesCall, appendEntriesReply } from '../../src/messages.js';
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
