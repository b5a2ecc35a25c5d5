/**
 * The leader's tick (src/check-quorum.ts): check-quorum counts a strict majority of each voter set
 * (Raft thesis §6.2; etcd's CheckQuorum), and a tick sends a leadership-check round only for reads
 * that have a read index (reads waiting for the leader's first commit of its term wait for that
 * commit, not for a round; Raft thesis §6.4).
 */
import { toJointConsensus } from '../../src/config.js';
import { BASIC_OPTIONS } from '../../src/options.js';
import { latestConfig } from '../../src/state.js';
import { Net, ofType, threeNodeCluster, type Envelope } from './support';

const CHECK_QUORUM = { ...BASIC_OPTIONS, checkQuorum: true };
const TICKS = CHECK_QUORUM.electionTimeoutTicks;

/** A cluster of `ids` (check-quorum on) that `ids[0]` formed and leads in term 1. */
function cluster(ids: string[]): Net {
  const net = new Net(ids, CHECK_QUORUM);
  net.step(ids[0]!, { type: 'createCluster', voters: ids });
  net.deliver();
  expect(net.get(ids[0]!).role).toBe('leader');
  return net;
}

/**
 * `ticks` heartbeat ticks on `leader`; after each, only the messages between it and `answering`
 * are delivered, the others are lost. Returns the tick at which it stopped leading, or null.
 */
function tickWith(net: Net, leader: string, answering: readonly string[], ticks: number): number | null {
  const between = (e: Envelope): boolean =>
    (e.from === leader && answering.includes(e.to)) || (e.to === leader && answering.includes(e.from));
  for (let t = 1; t <= ticks; t++) {
    net.step(leader, { type: 'timeout' });
    net.deliver(between);
    net.drop();
    if (net.get(leader).role !== 'leader') return t;
  }
  return null;
}

describe('check-quorum needs more than half of the voters, the leader included', () => {
  test('four voters: hearing from two followers (3 of 4) keeps the leader', () => {
    expect(tickWith(cluster(['a', 'b', 'c', 'd']), 'a', ['b', 'c'], 3 * TICKS)).toBeNull();
  });

  test('four voters: hearing from one follower (2 of 4, half) is not a majority: the leader steps down', () => {
    const net = cluster(['a', 'b', 'c', 'd']);
    const at = tickWith(net, 'a', ['b'], 3 * TICKS);
    expect(at).not.toBeNull();
    expect(at!).toBeLessThanOrEqual(TICKS + 1);
    expect(net.get('a')).toMatchObject({ role: 'follower', term: 1, votedFor: 'a' });
    expect(net.get('a').metrics.checkQuorumStepDowns).toBe(1);
  });

  test('while joint, the new voter set must be heard from too', () => {
    // a,b,c -> a,d,e; d and e never answer (they do not even exist), b and c always do.
    const net = cluster(['a', 'b', 'c']);
    const config = toJointConsensus(latestConfig(net.get('a')), ['d', 'e'], ['b', 'c']);
    net.step('a', { type: 'proposeConfig', config });
    expect(latestConfig(net.get('a'))).toEqual(config);
    const at = tickWith(net, 'a', ['b', 'c'], 3 * TICKS);
    expect(at).not.toBeNull();
    expect(net.get('a').metrics.checkQuorumStepDowns).toBe(1);
  });
});

describe('a tick sends a leadership-check round only for reads that have a read index', () => {
  test('a read taken before the leader’s first commit of its term waits for that commit, not for a round', () => {
    // b wins term 2; its term-start entry is not acknowledged yet, so its commit index (2) is of
    // term 1 and a read gets no read index.
    const net = threeNodeCluster();
    net.step('b', { type: 'timeout' });
    net.deliver((e) => e.message.type === 'requestVote' || e.message.type === 'requestVoteReply');
    expect(net.get('b')).toMatchObject({ role: 'leader', term: 2 });
    net.drop();
    const [withRead, readActions] = net.step('b', { type: 'read', id: 'r1' });
    expect(readActions).toEqual([]);
    expect(withRead.reads).toEqual([{ id: 'r1', from: null, index: -1, round: 0 }]);
    const [ticked, actions] = net.step('b', { type: 'timeout' });
    // The heartbeat only: no round, and the read still waits.
    expect(ofType(actions, 'broadcast').map((a) => a.message.type)).toEqual(['appendEntries']);
    expect(ticked.role === 'leader' && ticked.lead.round).toBe(withRead.role === 'leader' && withRead.lead.round);
    expect(ticked.reads).toEqual(withRead.reads);
  });
});

describe('a tick re-sends a round for reads that wait, even when no read belongs to the round in flight', () => {
  test('a read that arrived while a read-less round was in flight goes out at the next tick', () => {
    const net = threeNodeCluster();
    const roundOf = (e: Envelope, round: number): boolean =>
      (e.message.type === 'leadershipCheck' || e.message.type === 'leadershipCheckReply') && e.message.round === round;
    // r1 goes out in round 1; the round is not answered within a tick, so the tick sends round 2.
    net.step('a', { type: 'read', id: 'r1' });
    net.step('a', { type: 'timeout' });
    const a = net.get('a');
    expect(a.role === 'leader' && a.lead.round).toBe(2);
    // Round 1's answers arrive late and confirm it: r1 is answered. Round 2 (no read in it) is lost.
    const before = net.get('a');
    net.deliver((e) => roundOf(e, 1));
    expect(net.get('a').reads).toEqual([]);
    expect(net.get('a').metrics.readsReady).toBe(before.metrics.readsReady + 1);
    net.drop();
    // r2 arrives while round 2 is in flight: it waits for the next round.
    const [waiting, actions] = net.step('a', { type: 'read', id: 'r2' });
    expect(actions).toEqual([]);
    expect(waiting.reads).toMatchObject([{ id: 'r2', round: 0 }]);
    // The next tick sends round 3 with r2 in it, which the followers confirm.
    const [ticked, tickActions] = net.step('a', { type: 'timeout' });
    expect(ofType(tickActions, 'broadcast').map((a) => a.message.type)).toContain('leadershipCheck');
    expect(ticked.reads).toMatchObject([{ id: 'r2', round: 3 }]);
    net.deliver((e) => roundOf(e, 3));
    expect(net.get('a').reads).toEqual([]);
  });
});
