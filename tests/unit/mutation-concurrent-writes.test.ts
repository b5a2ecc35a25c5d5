/**
 * Concurrent leader writes (src/concurrent-writes.ts; Raft thesis §10.2.1): the reports a leader
 * ignores. It takes only reports of its own term (a report of an older term may name a write a later
 * truncation undid) and none of entries its snapshot covers, even one at the snapshot index itself.
 */
import { BASIC_OPTIONS } from '../../src/options.js';
import { positionAndConfigAt } from '../../src/state.js';
import { step } from '../../src/step.js';
import { threeNodeCluster } from './support';

const CONCURRENT = { ...BASIC_OPTIONS, concurrentLeaderWrites: true };

test('a report of an older term is ignored, even past what the leader knows durable', () => {
  // b wins term 2: its log is 1-2 (written before, durable) and its term start at 3 (term 2).
  const net = threeNodeCluster(CONCURRENT);
  net.step('b', { type: 'timeout' });
  net.deliver((e) => e.message.type === 'requestVote' || e.message.type === 'requestVoteReply');
  const b = net.get('b');
  expect(b).toMatchObject({ role: 'leader', term: 2, log: { lastTerm: 2, lastIndex: 3 } });
  expect(b.role === 'leader' && b.lead.persisted).toBe(2);
  // A late report of a write b made in term 1 at index 3 (an entry it no longer holds).
  const [after, actions] = step(b, { type: 'appendPersisted', term: 1, index: 3 });
  expect(after).toBe(b);
  expect(actions).toEqual([]);
});

test('a report of the entry at the snapshot index is ignored: the snapshot covers it', () => {
  // a appends 3; b and c hold it and commit it without a's own copy, a compacts at 3, and only then
  // is its own write of 3 reported durable.
  const net = threeNodeCluster(CONCURRENT);
  net.step('a', { type: 'propose' });
  net.deliver();
  expect(net.get('a').commitIndex).toBe(3);
  const [a] = net.step('a', { type: 'snapshotInstalled', ...positionAndConfigAt(net.get('a'), 3)! });
  expect(a.log.prevIndex).toBe(3);
  expect(a.role === 'leader' && a.lead.persisted).toBeLessThan(3);
  const [after, actions] = step(a, { type: 'appendPersisted', term: 1, index: 3 });
  expect(after).toBe(a);
  expect(actions).toEqual([]);
});
