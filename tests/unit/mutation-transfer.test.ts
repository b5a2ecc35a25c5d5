/**
 * Leadership transfer (src/transfer.ts; Raft thesis §3.10) at its edges:
 * - the leader brings a lagging target up to date at once: entries from its match index when
 *   nothing is in flight to it, a snapshot when it is behind the leader's snapshot;
 * - `timeoutNow` makes a node campaign only when it comes from the leader of the node's term, the
 *   node is not that leader, and the node is a voter;
 * - a transfer is abandoned `electionTimeoutTicks` ticks after it started, whenever it started;
 * - while it runs, the leader refuses configuration changes (`transferInProgress`), as it refuses proposals.
 */
import { withNonVoters } from '../../src/config.js';
import { emptyEntries } from '../../src/log.js';
import { appendEntriesCall, timeoutNow } from '../../src/messages.js';
import { BASIC_OPTIONS } from '../../src/options.js';
import { latestConfig, positionAndConfigAt, type RaftState } from '../../src/state.js';
import { step } from '../../src/step.js';
import { clusterWithNonVoterD, threeNodeCluster, type Net } from './support';

const TICKS = BASIC_OPTIONS.electionTimeoutTicks;

/** The leader's transfer target (null: none, or not a leader). */
const transferTo = (s: RaftState): string | null => (s.role === 'leader' ? s.lead.transferTo : null);

/** The leader's match index for `id`. */
function matchOf(s: RaftState, id: string): number {
  if (s.role !== 'leader') throw new Error(`${s.id} does not lead`);
  return s.progress.match[s.progress.peers.indexOf(id)]!;
}

/**
 * a leads term 1 over a,b,c and has committed 3, which c lacks: the append to c was lost, and at the
 * next tick (c was heard from during the tick that ended) a counted it as lost, so nothing is in
 * flight to c. a's log ends at (1, 3); c's match index is 2.
 */
function cLagsWithNothingInFlight(): Net {
  const net = threeNodeCluster();
  net.step('a', { type: 'propose' });
  net.drop((e) => e.to === 'c');
  net.deliver();
  net.step('a', { type: 'timeout' });
  net.drop();
  const a = net.get('a');
  expect(a).toMatchObject({ role: 'leader', commitIndex: 3 });
  expect(matchOf(a, 'c')).toBe(2);
  return net;
}

describe('the leader brings a lagging transfer target up to date at once', () => {
  test('with the entries after its match index, when nothing is in flight to it', () => {
    const net = cLagsWithNothingInFlight();
    const [a, actions] = net.step('a', { type: 'transferLeadership', to: 'c' });
    expect(transferTo(a)).toBe('c');
    expect(actions).toHaveLength(1);
    expect(actions[0]).toMatchObject({
      type: 'send',
      to: 'c',
      message: { type: 'appendEntries', entries: { prevIndex: 2, lastIndex: 3 } },
    });
    // Its answer continues the transfer: c is up to date, a tells it to campaign.
    net.deliver((e) => e.message.type !== 'timeoutNow');
    expect(net.queue.map((e) => `${e.from}->${e.to} ${e.message.type}`)).toEqual(['a->c timeoutNow']);
  });

  test('with the entries after its match index when that is the leader’s snapshot index', () => {
    const net = cLagsWithNothingInFlight();
    const compact = positionAndConfigAt(net.get('a'), 2)!;
    net.step('a', { type: 'snapshotInstalled', ...compact });
    expect(net.get('a').log.prevIndex).toBe(2);
    const [, actions] = net.step('a', { type: 'transferLeadership', to: 'c' });
    expect(actions).toMatchObject([{ type: 'send', to: 'c', message: { type: 'appendEntries' } }]);
  });

  test('with a snapshot when it is behind the leader’s snapshot', () => {
    const net = cLagsWithNothingInFlight();
    const compact = positionAndConfigAt(net.get('a'), 3)!;
    net.step('a', { type: 'snapshotInstalled', ...compact });
    expect(net.get('a').log.prevIndex).toBe(3);
    const [a, actions] = net.step('a', { type: 'transferLeadership', to: 'c' });
    expect(transferTo(a)).toBe('c');
    expect(actions).toEqual([{ type: 'installSnapshot', to: 'c' }]);
  });
});

describe('timeoutNow: only from the leader of the node’s term, to a voter that does not lead', () => {
  test('from its leader, in its term: a follower campaigns at once, as a transfer', () => {
    const b = threeNodeCluster().get('b');
    const [after, actions] = step(b, timeoutNow('a', 1));
    expect(after).toMatchObject({ role: 'candidate', term: 2 });
    expect(actions).toContainEqual(expect.objectContaining({ type: 'broadcast' }));
  });

  test('from its leader, but of an older term: ignored', () => {
    // b follows a in term 2 (a heartbeat of term 2 from a).
    const b1 = threeNodeCluster().get('b');
    const [b] = step(b1, appendEntriesCall('a', 2, 2, emptyEntries(b1.log.lastTerm, b1.log.lastIndex)));
    expect(b).toMatchObject({ role: 'follower', term: 2, votedFor: 'a' });
    const [after, actions] = step(b, timeoutNow('a', 1));
    expect(after).toBe(b);
    expect(actions).toEqual([]);
  });

  test('from a node other than its leader: ignored', () => {
    const b = threeNodeCluster().get('b');
    const [after, actions] = step(b, timeoutNow('c', 1));
    expect(after).toBe(b);
    expect(actions).toEqual([]);
  });

  test('on the leader itself: ignored', () => {
    const a = threeNodeCluster().get('a');
    const [after, actions] = step(a, timeoutNow('b', 1));
    expect(after).toBe(a);
    expect(actions).toEqual([]);
  });

  test('a candidate of the term, which knows no leader to check the sender against, campaigns again', () => {
    const net = threeNodeCluster();
    net.step('b', { type: 'timeout' });
    const b = net.get('b');
    expect(b).toMatchObject({ role: 'candidate', term: 2, votedFor: 'b' });
    const [after] = step(b, timeoutNow('c', 2));
    expect(after).toMatchObject({ role: 'candidate', term: 3 });
  });

  test('on a non-voter, from its leader: ignored (it could not win)', () => {
    const net = clusterWithNonVoterD();
    const d = net.get('d');
    expect(d).toMatchObject({ role: 'follower', term: 1, votedFor: 'a', leaderAlive: true });
    expect(latestConfig(d).nonVoters).toEqual(['d']);
    const [after, actions] = step(d, timeoutNow('a', 1));
    expect(after).toBe(d);
    expect(actions).toEqual([]);
  });
});

describe('a transfer is abandoned electionTimeoutTicks ticks after it started', () => {
  test('counted from the tick it started at, not from the leader’s first tick', () => {
    const net = threeNodeCluster();
    // Every tick's messages are delivered, except timeoutNow, which is lost: c never campaigns.
    const tick = (): void => {
      net.step('a', { type: 'timeout' });
      net.deliver((e) => e.message.type !== 'timeoutNow');
      net.drop();
    };
    for (let t = 0; t < 5; t++) tick();
    // c is up to date: a sends timeoutNow at once (lost); the transfer runs on.
    net.step('a', { type: 'transferLeadership', to: 'c' });
    net.drop();
    for (let t = 1; t < TICKS; t++) {
      tick();
      expect(transferTo(net.get('a'))).toBe('c');
    }
    tick();
    expect(transferTo(net.get('a'))).toBeNull();
    expect(net.get('a').metrics.transfersAbandoned).toBe(1);
  });
});

describe('a leader handing leadership over takes no configuration change', () => {
  test('proposeConfig during a transfer is refused (transferInProgress), and nothing changes', () => {
    const net = threeNodeCluster();
    net.step('a', { type: 'transferLeadership', to: 'c' });
    net.drop();
    const handing = net.get('a');
    expect(transferTo(handing)).toBe('c');
    const config = withNonVoters(latestConfig(handing), ['d'], []);
    const [a, actions] = net.step('a', { type: 'proposeConfig', config });
    expect(a).toBe(handing);
    expect(actions).toEqual([
      { type: 'rejected', request: 'proposeConfig', reason: 'transferInProgress', leaderHint: 'a', count: 0, id: null },
    ]);
  });
});
