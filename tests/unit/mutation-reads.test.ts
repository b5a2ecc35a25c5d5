/**
 * Linearizable reads (src/reads.ts; Raft thesis §6.4) at their edges, beyond the scenario files:
 * - a forwarded read has no read index on its follower until the leader answers, and the leader keys
 *   the reads it holds by origin and id: a re-forwarded read is taken once;
 * - the answers: at once on a single voter and under a lease (a forwarded read still goes back to its
 *   follower), never from a lease while a transfer runs, and only for the rounds a majority
 *   confirmed (a commit answers none); a confirmation starts a new round only for reads that wait
 *   for one, and a late acknowledgement of a confirmed round starts none;
 * - who follows a leadership check, and which replies and answers count;
 * - a node gives up the reads it holds when its term, its role or its leader's liveness changes.
 */
import { toJointConsensus } from '../../src/config.js';
import { emptyEntries } from '../../src/log.js';
import { leadershipCheck, leadershipCheckReply, readIndex, readIndexReply } from '../../src/messages.js';
import { BASIC_OPTIONS, DEFAULT_OPTIONS } from '../../src/options.js';
import { leaseHolds } from '../../src/reads.js';
import { startNode } from '../../src/node.js';
import { latestConfig, type LeaderState, type RaftState } from '../../src/state.js';
import { step } from '../../src/step.js';
import { Net, clusterWithNonVoterD, ofType, threeNodeCluster } from './support';

const LEASE = { ...DEFAULT_OPTIONS, leaseReads: true };
const CHECK_QUORUM = { ...BASIC_OPTIONS, checkQuorum: true };

/** `s`, which must lead. */
function leader(s: RaftState): LeaderState {
  if (s.role !== 'leader') throw new Error(`${s.id} is ${s.role}, not leader`);
  return s;
}

/** The `rejected` action of read `id` given up because the leader changed, with `hint`. */
function leaderChanged(id: string, hint: string | null): object {
  return { type: 'rejected', request: 'read', reason: 'leaderChanged', leaderHint: hint, count: 0, id };
}

/** The rounds of the leadership checks broadcast by `actions`. */
function roundsSent(actions: readonly { type: string; message?: { type: string; round?: number } }[]): number[] {
  return actions.flatMap((a) =>
    a.type === 'broadcast' && a.message?.type === 'leadershipCheck' ? [a.message.round!] : [],
  );
}

/** True for a leadership check, or a reply to one, of round `round`. */
function isRound(m: { type: string; round?: number }, round: number): boolean {
  return (m.type === 'leadershipCheck' || m.type === 'leadershipCheckReply') && m.round === round;
}

/** A three-node cluster led by a (lease reads on) whose lease holds after one confirmed round. */
function leasedCluster(): Net {
  const net = threeNodeCluster(LEASE);
  net.step('a', { type: 'timeout' });
  net.deliver();
  expect(leaseHolds(leader(net.get('a')))).toBe(true);
  return net;
}

describe('a forwarded read and the reads a leader holds', () => {
  test('a read forwarded by a follower has no read index there (-1) until its leader answers', () => {
    const net = threeNodeCluster();
    const [b, actions] = net.step('b', { type: 'read', id: 'r1' });
    expect(b.reads).toEqual([{ id: 'r1', from: null, index: -1, round: 0 }]);
    expect(actions).toEqual([{ type: 'send', to: 'a', message: readIndex('b', 1, ['r1']) }]);
  });

  test('the leader tells its own read from a forwarded read with the same id', () => {
    const net = threeNodeCluster();
    net.step('b', { type: 'read', id: 'x' });
    net.deliver((e) => e.message.type === 'readIndex');
    const [a, actions] = net.step('a', { type: 'read', id: 'x' });
    expect(ofType(actions, 'rejected')).toEqual([]);
    expect(a.reads.map((r) => [r.from, r.id])).toEqual([
      ['b', 'x'],
      [null, 'x'],
    ]);
  });

  test('a read forwarded again (with a heartbeat) that the leader holds is taken once: the same state, no actions', () => {
    const net = threeNodeCluster();
    net.step('b', { type: 'read', id: 'r1' });
    net.deliver((e) => e.message.type === 'readIndex');
    const held = net.get('a');
    expect(held.reads).toEqual([{ id: 'r1', from: 'b', index: 2, round: 1 }]);
    const [again, actions] = net.step('a', readIndex('b', 1, ['r1']));
    expect(again).toBe(held);
    expect(actions).toEqual([]);
  });

  test('a forwarded read of an older term is refused (index -1), not taken', () => {
    const net = threeNodeCluster();
    const before = net.get('a');
    const [a, actions] = net.step('a', readIndex('b', 0, ['x']));
    expect(a.reads).toEqual([]);
    expect(a.term).toBe(before.term);
    expect(actions).toEqual([{ type: 'send', to: 'b', message: readIndexReply('a', 1, [{ id: 'x', index: -1 }]) }]);
  });
});

describe('when a leader answers at once', () => {
  test('the only voter answers a read at once, with its commit index', () => {
    const net = new Net(['a']);
    net.step('a', { type: 'createCluster', voters: ['a'] });
    net.deliver();
    const a = leader(net.get('a'));
    const [after, actions] = net.step('a', { type: 'read', id: 'r1' });
    expect(actions).toEqual([{ type: 'readReady', id: 'r1', index: a.commitIndex }]);
    expect(after.reads).toEqual([]);
  });

  test('under a lease, a forwarded read is answered to its follower (readIndexReply), not as the leader’s own', () => {
    const net = leasedCluster();
    net.step('b', { type: 'read', id: 'r1' });
    const forwarded = net.take((e) => e.message.type === 'readIndex');
    const [a, actions] = net.step('a', forwarded.message);
    expect(actions).toEqual([{ type: 'send', to: 'b', message: readIndexReply('a', 1, [{ id: 'r1', index: 2 }]) }]);
    expect(a.reads).toEqual([]);
  });

  test('no lease read while a leadership transfer runs: the read waits for a round', () => {
    const net = leasedCluster();
    net.step('a', { type: 'transferLeadership', to: 'b' });
    net.drop();
    expect(leaseHolds(leader(net.get('a')))).toBe(false);
    const [a, actions] = net.step('a', { type: 'read', id: 'r1' });
    expect(ofType(actions, 'readReady')).toEqual([]);
    expect(roundsSent(actions)).toHaveLength(1);
    expect(a.reads).toHaveLength(1);
  });
});

describe('rounds: which reads a confirmation answers, and when it starts another', () => {
  /** a holds r1 in round 1 and r2 in round 2 (sent at the next tick); nothing delivered yet. */
  function twoRounds(): Net {
    const net = threeNodeCluster();
    net.step('a', { type: 'read', id: 'r1' });
    net.step('a', { type: 'read', id: 'r2' });
    net.step('a', { type: 'timeout' });
    expect(net.get('a').reads.map((r) => [r.id, r.round])).toEqual([
      ['r1', 1],
      ['r2', 2],
    ]);
    return net;
  }

  test('confirming round 1 answers its reads only; a read of round 2 stays, and no third round starts', () => {
    const net = twoRounds();
    net.deliver((e) => e.from === 'a' && e.to === 'b' && e.message.type === 'leadershipCheck' && e.message.round === 1);
    const reply = net.take((e) => e.to === 'a' && e.message.type === 'leadershipCheckReply');
    const [a, actions] = net.step('a', reply.message);
    expect(ofType(actions, 'readReady')).toEqual([{ type: 'readReady', id: 'r1', index: 2 }]);
    expect(roundsSent(actions)).toEqual([]);
    expect(a.reads).toEqual([{ id: 'r2', from: null, index: 2, round: 2 }]);
  });

  test('a confirmed round answers the reads of several followers with one readIndexReply each, in id order', () => {
    // r0 opens round 1; c's and b's reads arrive while it is out, so both join round 2.
    const net = threeNodeCluster();
    net.step('a', { type: 'read', id: 'r0' });
    net.step('c', { type: 'read', id: 'fc' });
    net.step('b', { type: 'read', id: 'fb' });
    net.deliver((e) => e.message.type === 'readIndex');
    expect(net.get('a').reads.map((r) => [r.from, r.round])).toEqual([
      [null, 1],
      ['c', 0],
      ['b', 0],
    ]);
    net.deliver((e) => (e.to === 'b' || e.from === 'b') && isRound(e.message, 1));
    net.deliver((e) => e.to === 'b' && isRound(e.message, 2));
    const reply = net.take((e) => e.to === 'a' && isRound(e.message, 2));
    const [a, actions] = net.step('a', reply.message);
    expect(a.reads).toEqual([]);
    expect(actions).toEqual([
      { type: 'send', to: 'b', message: readIndexReply('a', 1, [{ id: 'fb', index: 2 }]) },
      { type: 'send', to: 'c', message: readIndexReply('a', 1, [{ id: 'fc', index: 2 }]) },
    ]);
  });

  test('a late acknowledgement of a round already confirmed starts no round, even with reads waiting', () => {
    // Round 1 is confirmed by b; r2 goes out in round 2 and r3 waits for the next; c's
    // acknowledgement of round 1 then arrives.
    const net = threeNodeCluster();
    net.step('a', { type: 'read', id: 'r1' });
    net.deliver((e) => (e.to === 'b' || e.from === 'b') && isRound(e.message, 1));
    net.step('a', { type: 'read', id: 'r2' });
    net.step('a', { type: 'read', id: 'r3' });
    expect(net.get('a').reads.map((r) => [r.id, r.round])).toEqual([
      ['r2', 2],
      ['r3', 0],
    ]);
    net.deliver((e) => e.to === 'c' && isRound(e.message, 1));
    const late = net.take((e) => e.from === 'c' && isRound(e.message, 1));
    const [a, actions] = net.step('a', late.message);
    expect(actions).toEqual([]);
    expect(leader(a).lead).toMatchObject({ round: 2, confirmed: 1 });
    expect(a.reads.map((r) => [r.id, r.round])).toEqual([
      ['r2', 2],
      ['r3', 0],
    ]);
  });

  test('a reply of an older term, or from a node the leader does not track, is ignored', () => {
    const net = threeNodeCluster();
    net.step('a', { type: 'read', id: 'r1' });
    const held = net.get('a');
    for (const m of [leadershipCheckReply('b', 0, 1), leadershipCheckReply('z', 1, 1)]) {
      const [a, actions] = net.step('a', m);
      expect(a).toBe(held);
      expect(actions).toEqual([]);
    }
  });

  test('a second acknowledgement of the same round changes nothing: the same state', () => {
    const net = threeNodeCluster();
    net.step('a', { type: 'read', id: 'r1' });
    net.deliver((e) => e.to === 'b' || e.from === 'b');
    const confirmed = net.get('a');
    expect(confirmed.reads).toEqual([]);
    const [again, actions] = net.step('a', leadershipCheckReply('b', 1, 1));
    expect(again).toBe(confirmed);
    expect(actions).toEqual([]);
  });

  test('without lease reads, a confirmed round does not set a lease', () => {
    const net = threeNodeCluster();
    const before = leader(net.get('a')).lead.leaseUntil;
    net.step('a', { type: 'read', id: 'r1' });
    net.deliver();
    const a = leader(net.get('a'));
    expect(a.lead.confirmed).toBe(1);
    expect(a.lead.leaseUntil).toBe(before);
  });

  test('with lease reads, confirming an older round while a newer one is out does not renew the lease', () => {
    const net = leasedCluster();
    const before = leader(net.get('a')).lead;
    net.step('a', { type: 'timeout' }); // round 2
    net.step('a', { type: 'timeout' }); // round 3
    const sent = leader(net.get('a')).lead;
    expect(sent.round).toBe(before.round + 2);
    net.deliver((e) => e.to === 'b' && e.message.type === 'leadershipCheck' && e.message.round === before.round + 1);
    const reply = net.take((e) => e.to === 'a' && e.message.type === 'leadershipCheckReply');
    const a = leader(net.step('a', reply.message)[0]);
    expect(a.lead.confirmed).toBe(before.round + 1);
    expect(a.lead.leaseUntil).toBe(before.leaseUntil);
  });
});

describe('reads are answered by rounds, not by commits', () => {
  test('under a lease renewed after it arrived, a read waiting for its round is not answered by a commit', () => {
    // a's lease runs out (the rounds of ticks 2-9 are lost but the last), r1 arrives while round k
    // is out, round k then renews the lease and r1 goes out in round k + 1, which is not answered.
    const net = leasedCluster();
    const expiry = leader(net.get('a')).lead.leaseUntil;
    while (leader(net.get('a')).lead.ticks < expiry) {
      net.drop();
      net.step('a', { type: 'timeout' });
    }
    expect(leaseHolds(leader(net.get('a')))).toBe(false);
    const k = leader(net.get('a')).lead.round;
    net.step('a', { type: 'read', id: 'r1' });
    expect(net.get('a').reads).toEqual([{ id: 'r1', from: null, index: 2, round: 0 }]);
    net.deliver((e) => !isRound(e.message, k + 1));
    const renewed = leader(net.get('a'));
    expect(leaseHolds(renewed)).toBe(true);
    expect(renewed.reads).toEqual([{ id: 'r1', from: null, index: 2, round: k + 1 }]);
    net.step('a', { type: 'propose' });
    net.deliver((e) => e.message.type === 'appendEntries' || e.message.type === 'appendEntriesReply');
    const committed = leader(net.get('a'));
    expect(committed.commitIndex).toBe(3);
    expect(committed.reads).toEqual(renewed.reads);
    expect(committed.metrics.readsReady).toBe(renewed.metrics.readsReady);
  });
});

describe('a leader left as its only voter', () => {
  test('answers the reads that waited for the removed voters’ acknowledgements at its next tick', () => {
    // a and b; r1 goes out in round 1 (lost); then b is removed, and a is the only voter.
    const net = new Net(['a', 'b']);
    net.step('a', { type: 'createCluster', voters: ['a', 'b'] });
    net.deliver();
    net.step('a', { type: 'read', id: 'r1' });
    net.drop();
    net.step('a', { type: 'proposeConfig', config: toJointConsensus(latestConfig(net.get('a')), [], ['b']) });
    net.deliver((e) => e.message.type === 'appendEntries' || e.message.type === 'appendEntriesReply');
    const alone = leader(net.get('a'));
    expect(latestConfig(alone)).toMatchObject({ voters: ['a'], newVoters: [] });
    expect(alone.commitIndex).toBe(alone.log.lastIndex);
    expect(alone.reads).toEqual([{ id: 'r1', from: null, index: 2, round: 1 }]);
    const [a, actions] = net.step('a', { type: 'timeout' });
    expect(ofType(actions, 'readReady')).toEqual([{ type: 'readReady', id: 'r1', index: 2 }]);
    expect(a.reads).toEqual([]);
    expect(leader(a).lead).toMatchObject({ round: alone.lead.round + 1, confirmed: alone.lead.round + 1 });
  });
});

describe('a leader that is its only voter from the start, its own write not yet durable', () => {
  test('a lease round at its tick confirms alone, and keeps the read that waits for the first commit', () => {
    // With concurrent leader writes, the only voter counts its term start only once it is durable:
    // until then a read has no index, and the lease round of each tick must leave it waiting.
    const [fresh] = startNode('a', { leaseReads: true, concurrentLeaderWrites: true });
    const [led] = step(fresh, { type: 'createCluster', voters: ['a'] });
    const [reading] = step(led, { type: 'read', id: 'r1' });
    expect(reading.reads).toEqual([{ id: 'r1', from: null, index: -1, round: 0 }]);
    const [ticked, actions] = step(reading, { type: 'timeout' });
    expect(ofType(actions, 'readReady')).toEqual([]);
    expect(leader(ticked).lead.confirmed).toBe(leader(ticked).lead.round);
    expect(ticked.reads).toEqual([{ id: 'r1', from: null, index: -1, round: 0 }]);
    const [done, more] = step(ticked, { type: 'appendPersisted', term: 1, index: 2 });
    expect(ofType(more, 'readReady')).toEqual([{ type: 'readReady', id: 'r1', index: 2 }]);
    expect(done.reads).toEqual([]);
  });
});

/**
 * Lease reads on: c's timer fires first (it stops believing in a, and its own pre-vote is lost),
 * then b wins term 2 with c's vote; b's term-start entry is not acknowledged (nothing in flight), so
 * a read on b has no index yet.
 */
function leaderWithoutItsTermStart(): Net {
  const net = threeNodeCluster(LEASE);
  net.step('c', { type: 'timeout' });
  net.drop();
  net.step('b', { type: 'timeout' });
  net.deliver((e) => e.to !== 'a' && e.from !== 'a' && e.message.type !== 'appendEntries');
  expect(net.get('b')).toMatchObject({ role: 'leader', term: 2 });
  net.drop();
  return net;
}

describe('a read that waits for the leader’s first commit of its term joins no round', () => {
  test('with lease reads, lease rounds confirm without answering it or starting another round', () => {
    const net = leaderWithoutItsTermStart();
    net.step('b', { type: 'read', id: 'r1' });
    expect(net.get('b').reads).toEqual([{ id: 'r1', from: null, index: -1, round: 0 }]);
    net.step('b', { type: 'timeout' }); // a lease round, without r1
    net.drop((e) => e.message.type !== 'leadershipCheck');
    expect(net.get('b').reads).toEqual([{ id: 'r1', from: null, index: -1, round: 0 }]);
    net.deliver((e) => e.to === 'c' && e.message.type === 'leadershipCheck');
    const reply = net.take((e) => e.to === 'b' && e.message.type === 'leadershipCheckReply');
    const [b, actions] = net.step('b', reply.message);
    expect(leader(b).lead.confirmed).toBe(leader(b).lead.round);
    expect(actions).toEqual([]);
    expect(b.reads).toEqual([{ id: 'r1', from: null, index: -1, round: 0 }]);
  });
});

describe('a read that waited for the first commit, once it comes', () => {
  test('under a lease, the commit answers it at once, in the step that commits', () => {
    // r1 waits with no index on b, and a lease round is confirmed by c.
    const net = leaderWithoutItsTermStart();
    net.step('b', { type: 'read', id: 'r1' });
    net.step('b', { type: 'timeout' });
    net.drop((e) => e.message.type !== 'leadershipCheck');
    net.deliver((e) => e.to === 'c' && e.message.type === 'leadershipCheck');
    net.step('b', net.take((e) => e.to === 'b' && e.message.type === 'leadershipCheckReply').message);
    expect(leaseHolds(leader(net.get('b')))).toBe(true);
    net.drop();
    // The term start reaches c (a heartbeat shows c behind; b sends what it lacks); c's
    // acknowledgement commits it, and r1 is answered by that step, from the lease.
    net.step('b', { type: 'heartbeat' });
    const start = net.get('b').log.lastIndex;
    let answer: unknown[] = [];
    for (let k = 0; k < 4 && net.get('b').commitIndex < start; k++) {
      net.deliver((e) => e.to === 'c');
      const reply = net.take((e) => e.to === 'b' && e.message.type === 'appendEntriesReply');
      answer = ofType(net.step('b', reply.message)[1], 'readReady');
    }
    expect(net.get('b').commitIndex).toBe(start);
    expect(answer).toEqual([{ type: 'readReady', id: 'r1', index: start }]);
    expect(net.get('b').reads).toEqual([]);
  });
});

describe('who follows a leadership check', () => {
  test('a check of an older term gets this node’s term back, and changes nothing', () => {
    const net = threeNodeCluster();
    net.step('b', { type: 'timeout' }); // b campaigns in term 2
    net.drop();
    const candidate = net.get('b');
    const [b, actions] = net.step('b', leadershipCheck('a', 1, 1));
    expect(b).toBe(candidate);
    expect(actions).toEqual([{ type: 'send', to: 'a', message: leadershipCheckReply('b', 2, 1) }]);
  });

  test('a leader ignores a check of its own term from another node', () => {
    const net = threeNodeCluster();
    const a = net.get('a');
    const [after, actions] = net.step('a', leadershipCheck('b', 1, 1));
    expect(after).toBe(a);
    expect(actions).toEqual([]);
  });

  test('a follower of the checking leader, hearing from it, keeps its state and only answers', () => {
    const net = threeNodeCluster();
    const b = net.get('b');
    expect(b).toMatchObject({ role: 'follower', votedFor: 'a', leaderAlive: true });
    const [after, actions] = net.step('b', leadershipCheck('a', 1, 1));
    expect(after).toBe(b);
    expect(actions).toEqual([
      { type: 'setTimer', wait: 'follower' },
      { type: 'send', to: 'a', message: leadershipCheckReply('b', 1, 1) },
    ]);
  });

  test('a candidate of the same term follows the checking node, saving its vote for it', () => {
    const net = threeNodeCluster();
    net.step('b', { type: 'timeout' }); // b campaigns in term 2
    net.drop();
    const [b, actions] = net.step('b', leadershipCheck('c', 2, 1));
    expect(b).toMatchObject({ role: 'follower', term: 2, votedFor: 'c', leaderAlive: true });
    expect(actions).toEqual([
      { type: 'setTimer', wait: 'follower' },
      { type: 'saveHardState', term: 2, votedFor: 'c' },
      { type: 'send', to: 'c', message: leadershipCheckReply('b', 2, 1) },
    ]);
  });

  test('a follower that voted for the checking node, not hearing from it yet, now counts it alive', () => {
    const net = threeNodeCluster();
    net.step('c', { type: 'timeout' }); // c campaigns in term 2
    net.deliver((e) => e.to === 'b' && e.message.type === 'requestVote');
    const voted = net.get('b');
    expect(voted).toMatchObject({ role: 'follower', term: 2, votedFor: 'c', leaderAlive: false });
    const [b, actions] = net.step('b', leadershipCheck('c', 2, 1));
    expect(b).toMatchObject({ role: 'follower', term: 2, votedFor: 'c', leaderAlive: true });
    expect(actions).toEqual([
      { type: 'setTimer', wait: 'follower' },
      { type: 'send', to: 'c', message: leadershipCheckReply('b', 2, 1) },
    ]);
  });
});

describe('answers to forwarded reads on the follower', () => {
  /** b holds r1 and r2, forwarded to a (the messages are lost). */
  function bHoldsTwo(): Net {
    const net = threeNodeCluster();
    net.step('b', { type: 'read', id: 'r1' });
    net.step('b', { type: 'read', id: 'r2' });
    net.drop();
    return net;
  }

  test('an answer settles the read it names, and only that one', () => {
    const net = bHoldsTwo();
    const [b, actions] = net.step('b', readIndexReply('a', 1, [{ id: 'r2', index: 2 }]));
    expect(actions).toEqual([{ type: 'readReady', id: 'r2', index: 2 }]);
    expect(b.reads.map((r) => r.id)).toEqual(['r1']);
  });

  test('an answer for a read the follower does not hold is ignored: the same state, no actions', () => {
    const net = bHoldsTwo();
    const held = net.get('b');
    const [b, actions] = net.step('b', readIndexReply('a', 1, [{ id: 'zz', index: 2 }]));
    expect(b).toBe(held);
    expect(actions).toEqual([]);
  });
});

describe('a node gives up the reads it holds', () => {
  test('a leader that steps down refuses the forwarded reads it held, one answer per follower, in id order', () => {
    const net = threeNodeCluster();
    net.step('c', { type: 'read', id: 'fc' });
    net.step('b', { type: 'read', id: 'fb' });
    net.deliver((e) => e.message.type === 'readIndex');
    net.drop();
    expect(net.get('a').reads.map((r) => r.from)).toEqual(['c', 'b']);
    // A message of term 2 makes a step down.
    const [a, actions] = net.step('a', { type: 'appendEntriesReply', from: 'c', term: 2, lastTerm: 1, lastIndex: 2 });
    expect(a).toMatchObject({ role: 'follower', term: 2 });
    expect(ofType(actions, 'send')).toEqual([
      { type: 'send', to: 'b', message: readIndexReply('a', 2, [{ id: 'fb', index: -1 }]) },
      { type: 'send', to: 'c', message: readIndexReply('a', 2, [{ id: 'fc', index: -1 }]) },
    ]);
  });

  test('a leader that steps down for check-quorum, in its term, rejects its own reads', () => {
    const net = threeNodeCluster(CHECK_QUORUM);
    net.step('a', { type: 'read', id: 'r1' });
    net.drop();
    let rejected: unknown[] = [];
    for (let t = 0; t < 3 * CHECK_QUORUM.electionTimeoutTicks && net.get('a').role === 'leader'; t++) {
      rejected = ofType(net.step('a', { type: 'timeout' })[1], 'rejected');
      net.drop();
    }
    expect(net.get('a')).toMatchObject({ role: 'follower', term: 1, reads: [] });
    expect(rejected).toEqual([leaderChanged('r1', null)]);
  });

  test('a leader deposed by check-quorum still votes for itself in its term: a read on it is refused, not sent to itself', () => {
    const net = threeNodeCluster(CHECK_QUORUM);
    net.drop();
    for (let t = 0; t < 3 * CHECK_QUORUM.electionTimeoutTicks && net.get('a').role === 'leader'; t++) {
      net.step('a', { type: 'timeout' });
      net.drop();
    }
    expect(net.get('a')).toMatchObject({ role: 'follower', term: 1, votedFor: 'a' });
    const [a, actions] = net.step('a', { type: 'read', id: 'r2' });
    expect(actions).toEqual([
      { type: 'rejected', request: 'read', reason: 'notLeader', leaderHint: null, count: 0, id: 'r2' },
    ]);
    expect(a.reads).toEqual([]);
  });

  test('a follower that votes again for the same node in a new term rejects the read it forwarded', () => {
    // b votes for a in term 1 and forwards a read to it while a campaigns; a campaigns again in term 2.
    const net = new Net(['a', 'b', 'c']);
    net.step('a', { type: 'createCluster', voters: ['a', 'b', 'c'] });
    net.deliver((e) => e.to === 'b' && e.message.type === 'requestVote');
    net.drop();
    expect(net.get('b')).toMatchObject({ role: 'follower', term: 1, votedFor: 'a', leaderAlive: false });
    net.step('b', { type: 'read', id: 'r1' });
    net.drop();
    net.step('a', { type: 'timeout' });
    const vote = net.take((e) => e.to === 'b' && e.message.type === 'requestVote');
    const [b, actions] = net.step('b', vote.message);
    expect(b).toMatchObject({ role: 'follower', term: 2, votedFor: 'a', reads: [] });
    expect(ofType(actions, 'rejected')).toEqual([leaderChanged('r1', 'a')]);
  });

  test('a follower that voted for one node and then hears from another leader of that term rejects its read', () => {
    // b votes for c in term 2 and forwards a read to it; then a, which won term 2, reaches b.
    const net = threeNodeCluster();
    net.step('c', { type: 'timeout' });
    net.deliver((e) => e.to === 'b' && e.message.type === 'requestVote');
    net.drop();
    net.step('b', { type: 'read', id: 'r1' });
    net.drop();
    expect(net.get('b')).toMatchObject({ term: 2, votedFor: 'c', reads: [{ id: 'r1' }] });
    const [b, actions] = net.step('b', {
      type: 'appendEntries',
      from: 'a',
      term: 2,
      commitIndex: 2,
      entries: emptyEntries(1, 2),
    });
    expect(b).toMatchObject({ role: 'follower', term: 2, votedFor: 'a', reads: [] });
    expect(ofType(actions, 'rejected')).toEqual([leaderChanged('r1', 'a')]);
  });

  test('a non-voter whose election timer fires (it cannot campaign) rejects the read it forwarded', () => {
    const net = clusterWithNonVoterD();
    net.step('a', { type: 'heartbeat' });
    net.deliver();
    expect(net.get('d')).toMatchObject({ role: 'follower', votedFor: 'a', leaderAlive: true });
    net.step('d', { type: 'read', id: 'r1' });
    net.drop();
    const [d, actions] = net.step('d', { type: 'timeout' });
    expect(d).toMatchObject({ role: 'follower', leaderAlive: false, reads: [] });
    expect(ofType(actions, 'rejected')).toEqual([leaderChanged('r1', 'a')]);
  });
});
