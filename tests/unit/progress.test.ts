/**
 * The leader's view of its followers (src/progress.ts), rule by rule, and what counts as hearing
 * from a follower for check-quorum (src/check-quorum.ts): any reply of the current term the leader
 * can attribute, even one it cannot place in its log; never a message it only sent.
 */
import { TIMER_HEARTBEAT } from '../../src/actions.js';
import { makeConfig } from '../../src/config.js';
import { DEFAULT_OPTIONS } from '../../src/options.js';
import {
  TRACKING,
  afterCheckReply,
  afterReply,
  afterSendTo,
  afterTick,
  heardFrom,
  pausedSlots,
  progressFor,
  withAppendsSent,
  type LeaderProgress,
} from '../../src/progress.js';
import { positionAndConfigAt } from '../../src/state.js';
import { Net, ofType, type Envelope } from './support';

/** Progress of leader `a` over peers b, c, d, e with the given columns (the rest zero). */
function progress(columns: Partial<Pick<LeaderProgress, 'match' | 'heard' | 'acked' | 'sent'>>): LeaderProgress {
  return { ...progressFor(makeConfig(['a', 'b', 'c', 'd', 'e']), 'a', null), ...columns };
}

describe('afterReply: a reply the leader can place', () => {
  const p = progress({ match: [5, 5, 5, 5], heard: [3, 3, 3, 3], sent: [TRACKING, 9, TRACKING, 7] });

  test('changes nothing: the same object', () => {
    expect(afterReply(p, 1, 5, 3, 9)).toBe(p);
  });

  test.each([
    ['the match index', 6, 3, 9, { match: [5, 6, 5, 5] }],
    ['the tick heard at', 5, 4, 9, { heard: [3, 4, 3, 3] }],
    ['what was sent', 5, 3, 8, { sent: [TRACKING, 8, TRACKING, 7] }],
  ])('changes %s alone: a new object with that column changed', (_what, index, tick, sent, changed) => {
    const next = afterReply(p, 1, index, tick, sent);
    expect(next).not.toBe(p);
    expect(next).toEqual({ ...p, ...changed });
  });
});

describe('afterCheckReply: a leadership-check acknowledgement', () => {
  const p = progress({ heard: [3, 3, 3, 3], acked: [2, 2, 2, 2] });

  test('of a round acknowledged already, at the tick heard at: the same object', () => {
    expect(afterCheckReply(p, 0, 2, 3)).toBe(p);
    expect(afterCheckReply(p, 0, 1, 3)).toBe(p);
  });

  test('of a round acknowledged already, at a later tick: heard again, the round kept (the same column)', () => {
    for (const round of [2, 1]) {
      const next = afterCheckReply(p, 0, round, 4);
      expect(next).toEqual({ ...p, heard: [4, 3, 3, 3] });
      expect(next.acked).toBe(p.acked);
    }
  });

  test('of a newer round, at the tick heard at: the round counted, the heard column kept', () => {
    const next = afterCheckReply(p, 3, 3, 3);
    expect(next).toEqual({ ...p, acked: [2, 2, 2, 3] });
    expect(next.heard).toBe(p.heard);
  });

  test('of a newer round at a later tick: both', () => {
    expect(afterCheckReply(p, 2, 5, 6)).toEqual({ ...p, heard: [3, 3, 6, 3], acked: [2, 2, 5, 2] });
  });
});

describe('afterSendTo', () => {
  test('records what was sent to that slot, and nothing else', () => {
    const p = progress({ heard: [3, 3, 3, 3], sent: [TRACKING, 9, TRACKING, 7] });
    const next = afterSendTo(p, 3, 12);
    expect(next).toEqual({ ...p, sent: [TRACKING, 9, TRACKING, 12] });
    expect(next.heard).toBe(p.heard);
  });
});

describe('heardFrom', () => {
  const p = progress({ heard: [3, 3, 3, 3] });
  test('at the tick it was heard at already: the same object; otherwise that slot moves', () => {
    expect(heardFrom(p, 2, 3)).toBe(p);
    expect(heardFrom(p, 2, 7)).toEqual({ ...p, heard: [3, 3, 7, 3] });
  });
});

describe('pausedSlots: who a new append must not go to (flow control)', () => {
  test('a tracking follower counts up to the leader last index; one being probed, up to what it was sent', () => {
    // Window of 10 at last index 20. b: tracking, 10 behind (paused). c: probed, sent 1 (that is
    // the index 1, not the tracking mark), so 1 in flight though 20 behind. d: tracking, 9 behind.
    // e: probed, 10 in flight.
    const p = progress({ match: [10, 0, 11, 5], sent: [TRACKING, 1, TRACKING, 15] });
    expect(pausedSlots(p, 10, 20)).toEqual([0, 3]);
  });

  test('a follower being probed is judged by what it was sent, also when it comes before any paused one', () => {
    // b: probed, sent 1 though 20 behind (not paused). c: tracking, 10 behind (paused).
    const p = progress({ match: [0, 10, 20, 20], sent: [1, TRACKING, TRACKING, TRACKING] });
    expect(pausedSlots(p, 10, 20)).toEqual([1]);
  });

  test('null when none is paused, also one short of the window', () => {
    const p = progress({ match: [11, 11, 11, 11], sent: [TRACKING, TRACKING, TRACKING, 20] });
    expect(pausedSlots(p, 10, 20)).toBeNull();
    expect(pausedSlots(p, 9, 20)).toEqual([0, 1, 2, 3]);
  });
});

describe('withAppendsSent: an append from last index 20 to 25', () => {
  test('every slot tracking and none paused: the same object', () => {
    const p = progress({ sent: [TRACKING, TRACKING, TRACKING, TRACKING] });
    expect(withAppendsSent(p, null, 20, 25)).toBe(p);
  });

  test('paused slots keep what they were sent (a tracking one: the last index before); the others get the append', () => {
    // b paused and tracking, c probed, d paused and probed, e tracking.
    const p = progress({ sent: [TRACKING, 12, 14, TRACKING] });
    expect(withAppendsSent(p, [0, 2], 20, 25).sent).toEqual([20, 25, 14, TRACKING]);
  });

  test('nothing changes when the only paused slot is probed and the others track: the same object', () => {
    const p = progress({ sent: [TRACKING, 14, TRACKING, TRACKING] });
    expect(withAppendsSent(p, [1], 20, 25)).toBe(p);
  });
});

describe('afterTick: what was sent to a follower heard from during the tick that ended counts as lost', () => {
  // Tick 7 ended; last index 20.
  test('heard from and missing entries: sent falls back to its match index (probe)', () => {
    const p = progress({ match: [15, 15, 20, 15], heard: [7, 6, 7, 7], sent: [TRACKING, TRACKING, TRACKING, 18] });
    // b: heard, 5 in flight -> 15. c: not heard during tick 7 -> unchanged. d: heard, nothing in
    // flight -> unchanged. e: heard, probed with 3 in flight -> 15.
    expect(afterTick(p, 7, 20).sent).toEqual([15, TRACKING, TRACKING, 15]);
  });

  test('nothing in flight to anyone heard from: the same object', () => {
    const p = progress({ match: [20, 15, 17, 20], heard: [7, 6, 7, 7], sent: [TRACKING, TRACKING, 17, TRACKING] });
    expect(afterTick(p, 7, 20)).toBe(p);
  });
});

describe('check-quorum: what counts as hearing from a follower', () => {
  const OPTIONS = { ...DEFAULT_OPTIONS, electionTimeoutTicks: 5 };
  const between =
    (x: string, y: string) =>
    (e: Envelope): boolean =>
      (e.from === x && e.to === y) || (e.from === y && e.to === x);

  test('a follower waiting for a snapshot still answers for its leader (it must not be deposed)', () => {
    const net = new Net(['a', 'b', 'c'], OPTIONS);
    net.step('a', { type: 'createCluster', voters: ['a', 'b', 'c'] });
    net.deliver();
    // b is cut off while a and c commit more, and a compacts its log past b's last entry.
    for (let i = 0; i < 3; i++) {
      net.step('a', { type: 'propose', count: 2 });
      net.drop((e) => e.to === 'b' || e.from === 'b');
      net.deliver();
    }
    const a = net.get('a');
    const { term, config } = positionAndConfigAt(a, a.commitIndex)!;
    net.step('a', { type: 'snapshotInstalled', term, index: a.commitIndex, config });
    expect(net.get('a').log.prevIndex).toBeGreaterThan(net.get('b').log.lastIndex);
    // Now c is cut off and b is back: a and b are a majority, but b needs a snapshot, which
    // takes longer than an election timeout to arrive.
    let snapshotsAsked = 0;
    for (let t = 0; t < 3 * OPTIONS.electionTimeoutTicks; t++) {
      const [, actions] = net.step('a', { type: 'timeout' });
      snapshotsAsked += ofType(actions, 'installSnapshot').length;
      net.drop((e) => e.to === 'c' || e.from === 'c');
      for (let round = 0; round < 2; round++) {
        for (const e of net.queue.filter(between('a', 'b'))) {
          net.queue.splice(net.queue.indexOf(e), 1);
          const [, out] = net.step(e.to, e.message);
          snapshotsAsked += ofType(out, 'installSnapshot').length;
        }
      }
      expect(net.get('a').role).toBe('leader');
    }
    expect(snapshotsAsked).toBeGreaterThan(0);
    expect(net.get('a').metrics.checkQuorumStepDowns).toBe(0);
  });

  test('the target of a leadership transfer, sent entries but silent, is not heard from', () => {
    const net = new Net(['a', 'b', 'c'], OPTIONS);
    net.step('a', { type: 'createCluster', voters: ['a', 'b', 'c'] });
    net.deliver();
    // c falls silent and behind; a keeps committing with b.
    net.step('a', { type: 'propose' });
    net.drop((e) => e.to === 'c' || e.from === 'c');
    net.deliver();
    net.step('a', { type: 'timeout' });
    net.drop((e) => e.to === 'c' || e.from === 'c');
    net.deliver();
    const before = net.get('a');
    if (before.role !== 'leader') throw new Error('a must lead');
    const k = before.progress.peers.indexOf('c');
    expect(before.progress.heard[k]).toBeLessThan(before.lead.ticks);
    const [after, actions] = net.step('a', { type: 'transferLeadership', to: 'c' });
    expect(ofType(actions, 'send').map((s) => s.to)).toEqual(['c']); // what c lacks
    expect(after.role === 'leader' && after.progress.heard[k]).toBe(before.progress.heard[k]);
  });
});

describe('flow control: a tracking follower whose reply shows no progress', () => {
  test('could not place what it received (a message was lost): it gets what it lacks at once, not a tick later', () => {
    const net = new Net(['a', 'b', 'c'], DEFAULT_OPTIONS);
    net.step('a', { type: 'createCluster', voters: ['a', 'b', 'c'] });
    net.deliver();
    const start = net.get('a').log.lastIndex;
    net.step('a', { type: 'propose' });
    net.drop((e) => e.to === 'c'); // the entry start + 1 never reaches c
    net.deliver();
    net.step('a', { type: 'propose' });
    const [, reply] = net.step('c', net.take((e) => e.to === 'c').message);
    // c cannot place start + 2 without start + 1: it answers with its last index, its match index.
    const answer = ofType(reply, 'send')[0]!.message;
    expect(answer.type === 'appendEntriesReply' && answer.lastIndex).toBe(start);
    const [, actions] = net.step('a', answer);
    const resend = ofType(actions, 'send').filter((s) => s.to === 'c');
    expect(resend).toHaveLength(1);
    const m = resend[0]!.message;
    expect(m.type === 'appendEntries' && [m.entries.prevIndex, m.entries.lastIndex]).toEqual([start, start + 2]);
  });
});

describe('flow control without check-quorum', () => {
  test('an append that skips a paused follower still re-arms the heartbeat timer (sends count as heartbeats)', () => {
    const net = new Net(['a', 'b', 'c'], { ...DEFAULT_OPTIONS, checkQuorum: false, maxInflightEntries: 2 });
    net.step('a', { type: 'createCluster', voters: ['a', 'b', 'c'] });
    net.deliver();
    // c stops answering: after two entries in flight it is paused.
    for (let i = 0; i < 2; i++) {
      net.step('a', { type: 'propose' });
      net.drop((e) => e.to === 'c' || e.from === 'c');
      net.deliver();
    }
    const [, actions] = net.step('a', { type: 'propose' });
    expect(actions.map((x) => x.type)).toEqual(['setTimer', 'appendLog', 'send']);
    expect(actions[0]).toEqual(TIMER_HEARTBEAT);
    expect(ofType(actions, 'send').map((x) => x.to)).toEqual(['b']);
  });
});
