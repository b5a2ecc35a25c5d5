/**
 * noraft's node metrics (src/metrics.ts), one situation per counter, driven through `step` as in
 * noraft's node.rs unit tests; and the leader's view of its followers (`followerMatchIndex`).
 *
 * Each scenario builds a node in a situation (by stepping nodes and carrying messages by hand), then
 * steps one event. That step must raise exactly the scenario's counter by one and leave the other
 * other counters alone. The same scenarios, started from a counter at Number.MAX_SAFE_INTEGER, check
 * saturation.
 */
import { BASIC_OPTIONS, DEFAULT_OPTIONS } from '../../src/options.js';
import { makeConfig } from '../../src/config.js';
import type { RaftEvent } from '../../src/events.js';
import { appendCommands, appendConfig, appendTermStart, emptyEntries, since } from '../../src/log.js';
import {
  appendEntriesCall,
  appendEntriesReply,
  preVote,
  preVoteReply,
  requestVote,
  requestVoteReply,
  timeoutNow,
} from '../../src/messages.js';
import { METRIC_NAMES, ZERO_METRICS, bump, bumpBy, type MetricName, type Metrics } from '../../src/metrics.js';
import { restartNode, startNode } from '../../src/node.js';
import { followerMatchIndex, type RaftState } from '../../src/state.js';
import { step } from '../../src/step.js';
import { Net, ofType, threeNodeCluster, type Envelope } from './support';

/** A node in a situation, the event to step, and what else the step must do. */
interface Scenario {
  readonly before: RaftState;
  readonly event: RaftEvent;
  readonly then?: (after: RaftState, actions: ReturnType<typeof step>[1], before: RaftState) => void;
}

const to = (id: string) => (e: Envelope) => e.to === id;
const from = (id: string) => (e: Envelope) => e.from === id;

/**
 * Five nodes. `a` leads term 1 and sends entries 3..4 to `b` only, then is cut off. `c` wins term 2
 * with the votes of `d` and `e` (b refuses: its log is longer), appends its term start at 3 and two
 * commands, none of which reaches `b`. Finally `c`'s heartbeat reaches `b`, which cannot place it
 * (index 5 is past its end) and answers with its last position (1, 4): in flight, not delivered.
 *
 * Returns the network; `b` holds [.., (1,3), (1,4)], `c` holds [.., (2,3), (2,4), (2,5)].
 */
function divergedFollower(): { net: Net; reply: Envelope } {
  const ids = ['a', 'b', 'c', 'd', 'e'];
  const net = new Net(ids);
  net.step('a', { type: 'createCluster', voters: ids });
  net.deliver();
  net.step('a', { type: 'propose', count: 2 });
  net.deliver((e) => (e.from === 'a' && e.to === 'b') || (e.from === 'b' && e.to === 'a'));
  net.drop(); // the other copies are lost; `a` is cut off from here on
  const isolated = (e: Envelope): boolean => e.from === 'a' || e.to === 'a';
  net.step('c', { type: 'timeout' });
  // b sees the vote request (and refuses it) but none of c's AppendEntries.
  net.deliver((e) => !isolated(e) && !(e.to === 'b' && e.message.type === 'appendEntries'));
  expect(net.get('c').role).toBe('leader');
  net.step('c', { type: 'propose', count: 2 });
  net.deliver((e) => !isolated(e) && e.to !== 'b');
  net.drop();
  net.step('c', { type: 'heartbeat' });
  net.deliver((e) => e.to === 'b' && e.from === 'c');
  const reply = net.take((e) => e.from === 'b' && e.to === 'c');
  net.drop();
  return { net, reply };
}

/** A three-node cluster whose leader `b` won term 2 after `a` led term 1. */
function secondTermLeader(): Net {
  const net = threeNodeCluster();
  net.step('b', { type: 'timeout' });
  net.deliver();
  expect(net.get('b').role).toBe('leader');
  expect(net.get('b').term).toBe(2);
  return net;
}

const SCENARIOS: Record<MetricName, () => Scenario> = {
  selfMessagesIgnored: () => ({
    // A message that claims to come from the node itself (a loop in the transport) is dropped.
    before: threeNodeCluster().get('b'),
    event: requestVote('b', 7, 1, 2),
    then: (after, actions, before) => {
      expect(actions).toEqual([]);
      expect(after.term).toBe(before.term);
    },
  }),

  termAdvancesFromMessages: () => ({
    // A follower hears of a newer term from a candidate: it adopts the term (and here also votes).
    before: threeNodeCluster().get('b'),
    event: requestVote('c', 2, 1, 2),
    then: (after) => {
      expect(after.term).toBe(2);
      expect(after.votedFor).toBe('c');
    },
  }),

  requestVoteCallsRejectedByOldTerm: () => {
    // b moved to term 2 (it voted for c); a's late vote request of term 1 gets an explicit "no".
    const net = threeNodeCluster();
    net.step('b', requestVote('c', 2, 1, 2));
    return {
      before: net.get('b'),
      event: requestVote('a', 1, 1, 2),
      then: (_after, actions) =>
        expect(actions).toEqual([{ type: 'send', to: 'a', message: requestVoteReply('b', 2, false) }]),
    };
  },

  requestVoteCallsRejectedByLog: () => ({
    // A candidate whose log is behind (it lacks the term start at 2) is refused silently. The log
    // is checked before the vote, so only this counter moves although b already voted for a.
    before: threeNodeCluster().get('b'),
    event: requestVote('c', 1, 0, 1),
    then: (_after, actions) => expect(actions).toEqual([]),
  }),

  requestVoteCallsRejectedByExistingVote: () => ({
    // b voted for (and follows) a in term 1: another candidate of term 1 is refused silently.
    before: threeNodeCluster().get('b'),
    event: requestVote('c', 1, 1, 2),
    then: (after, actions) => {
      expect(actions).toEqual([]);
      expect(after.votedFor).toBe('a');
    },
  }),

  requestVoteRepliesIgnoredFromOldTerms: () => {
    // A candidate that timed out into term 2 receives a vote granted for its term-1 candidacy.
    const net = new Net(['a', 'b', 'c']);
    net.step('a', { type: 'createCluster', voters: ['a', 'b', 'c'] });
    net.step('a', { type: 'timeout' });
    return {
      before: net.get('a'),
      event: requestVoteReply('b', 1, true),
      then: (after) => {
        expect(after.role).toBe('candidate');
        expect(after.votes).toEqual(['a']);
      },
    };
  },

  requestVoteRepliesIgnoredWhileNotCandidate: () => ({
    // The leader receives a vote it no longer needs. (threeNodeCluster's leader already counted one
    // such late vote, from c, while forming the cluster.)
    before: threeNodeCluster().get('a'),
    event: requestVoteReply('c', 1, true),
    then: (after, actions) => {
      expect(after.role).toBe('leader');
      expect(actions).toEqual([]);
    },
  }),

  termJumpsRefused: () => ({
    // A vote request claiming a term more than 2^32 above b's: adopting it would let one message
    // push the cluster's term to the top of the safe integers. It is ignored; b keeps its term.
    before: threeNodeCluster().get('b'),
    event: requestVote('c', 2 ** 32 + 2, 1, 2),
    then: (after, actions) => {
      expect(after.term).toBe(1);
      expect(actions).toEqual([]);
    },
  }),

  requestVoteRepliesIgnoredFromNonVoters: () => {
    // A candidate of term 1 receives a granted vote from a node outside its configuration: it is
    // not kept (a stream of such votes must not grow the state) and it does not count.
    const net = new Net(['a', 'b', 'c']);
    net.step('a', { type: 'createCluster', voters: ['a', 'b', 'c'] });
    return {
      before: net.get('a'),
      event: requestVoteReply('zz', 1, true),
      then: (after, actions) => {
        expect(after.role).toBe('candidate');
        expect(after.votes).toEqual(['a']);
        expect(actions).toEqual([]);
      },
    };
  },

  appendEntriesCallsRejectedByOldTerm: () => {
    // b moved to term 2; the deposed leader's heartbeat of term 1 is answered with term 2.
    const net = threeNodeCluster();
    net.step('b', requestVote('c', 2, 1, 2));
    return {
      before: net.get('b'),
      event: appendEntriesCall('a', 1, 2, emptyEntries(1, 2)),
      then: (after, actions) => {
        expect(actions).toEqual([{ type: 'send', to: 'a', message: appendEntriesReply('b', 2, 1, 2) }]);
        expect(after.votedFor).toBe('c');
      },
    };
  },

  sameTermAppendEntriesCallsReceivedByLeader: () => ({
    // Two leaders in one term cannot happen in correct Raft; the leader ignores the call.
    before: threeNodeCluster().get('a'),
    event: appendEntriesCall('c', 1, 2, emptyEntries(1, 2)),
    then: (after, actions) => {
      expect(after.role).toBe('leader');
      expect(actions).toEqual([]);
    },
  }),

  logDivergencesDetectedByFollower: () => {
    // c's probe says "(2, 4)"; b holds index 4 with term 1: it drops its divergent tail from 4 on.
    const { net } = divergedFollower();
    return {
      before: net.get('b'),
      event: appendEntriesCall('c', 2, 3, emptyEntries(2, 4)),
      then: (after, actions) => {
        expect(after.log.lastIndex).toBe(3);
        expect(ofType(actions, 'send')).toEqual([{ type: 'send', to: 'c', message: appendEntriesReply('b', 2, 1, 3) }]);
        expect(ofType(actions, 'appendLog')).toEqual([]); // the truncation is stored with the next append
      },
    };
  },

  appendEntriesRepliesIgnoredFromOldTerms: () => ({
    // b leads term 2; a reply c sent to a in term 1 arrives late (here: to b).
    before: secondTermLeader().get('b'),
    event: appendEntriesReply('c', 1, 1, 2),
  }),

  appendEntriesRepliesIgnoredWhileNotLeader: () => ({
    // Only a leader counts replies (a same-term reply reaches a follower only after a leader removed itself).
    before: threeNodeCluster().get('b'),
    event: appendEntriesReply('c', 1, 1, 2),
  }),

  appendEntriesRepliesIgnoredFromUnknownNodes: () => ({
    // A node outside the configuration (say, one removed earlier) replies.
    before: threeNodeCluster().get('a'),
    event: appendEntriesReply('z', 1, 1, 2),
  }),

  appendEntriesRepliesIgnoredBehindMatchIndex: () => {
    // b's match index is 2; its first reply, "(0, 0)", was duplicated in the network and arrives again.
    const net = threeNodeCluster();
    return {
      before: net.get('a'),
      event: appendEntriesReply('b', 1, 0, 0),
      then: (after, actions) => {
        expect(followerMatchIndex(after, 'b')).toBe(2);
        expect(actions).toEqual([]);
      },
    };
  },

  appendEntriesRepliesAheadOfLeader: () => ({
    // A reply claiming index 9 while the leader's log ends at 2 (a follower with a stale, longer
    // log from an older term, or a bogus one): ignored until the leader's log grows past it.
    before: threeNodeCluster().get('a'),
    event: appendEntriesReply('b', 1, 1, 9),
    then: (after, actions) => {
      expect(actions).toEqual([]);
      expect(followerMatchIndex(after, 'b')).toBe(2);
    },
  }),

  logDivergencesDetectedByLeader: () => {
    // c receives b's "(1, 4)"; c holds index 4 with term 2, and its term 2 starts at 3: b's entries
    // up to 4 are all of term 1 at most, so the logs can match at 2 at best. c sends from there.
    const { net, reply } = divergedFollower();
    return {
      before: net.get('c'),
      event: reply.message,
      then: (_after, actions) => {
        expect(reply.message).toEqual(appendEntriesReply('b', 2, 1, 4));
        const from2 = since(net.get('c').log, 1, 2)!;
        expect(actions).toEqual([{ type: 'send', to: 'b', message: appendEntriesCall('c', 2, 5, from2) }]);
      },
    };
  },

  electionsStarted: () => ({
    // A voter's timer fires: it campaigns in the next term.
    before: threeNodeCluster().get('b'),
    event: { type: 'timeout' },
    then: (after) => {
      expect(after.role).toBe('candidate');
      expect(after.term).toBe(2);
    },
  }),

  leadershipsStarted: () => {
    // The candidate's second vote (its own plus b's) is a majority of three.
    const net = new Net(['a', 'b', 'c']);
    net.step('a', { type: 'createCluster', voters: ['a', 'b', 'c'] });
    return {
      before: net.get('a'),
      event: requestVoteReply('b', 1, true),
      then: (after) => expect(after.role).toBe('leader'),
    };
  },

  // The extensions (pre-vote, check-quorum, leadership transfer, reads), on a cluster with the
  // default options.

  preVotesStarted: () => ({
    // A follower's election timer fires: it asks for pre-votes at term 2 without leaving term 1.
    before: threeNodeCluster(DEFAULT_OPTIONS).get('b'),
    event: { type: 'timeout' },
    then: (after, actions) => {
      expect(after.role).toBe('preCandidate');
      expect(after.term).toBe(1);
      expect(ofType(actions, 'broadcast').map((b) => b.message)).toEqual([preVote('b', 2, 1, 2)]);
      expect(ofType(actions, 'saveHardState')).toEqual([]);
    },
  }),

  preVotesRefusedWhileLeaderAlive: () => ({
    // b hears from its leader: c's pre-vote gets no answer and nothing changes but the counter.
    before: threeNodeCluster(DEFAULT_OPTIONS).get('b'),
    event: preVote('c', 2, 1, 2),
    then: (after, actions, before) => {
      expect(actions).toEqual([]);
      expect(after.term).toBe(before.term);
    },
  }),

  preVotesRefusedByLog: () => {
    // b's timer fired (it is a pre-candidate itself, no live leader): c's log lacks entry 2.
    const net = threeNodeCluster(DEFAULT_OPTIONS);
    net.step('b', { type: 'timeout' });
    return {
      before: net.get('b'),
      event: preVote('c', 2, 0, 1),
      then: (_after, actions) =>
        expect(actions).toEqual([{ type: 'send', to: 'c', message: preVoteReply('b', 1, false) }]),
    };
  },

  voteRequestsIgnoredWhileLeaderAlive: () => ({
    // Check-quorum: b hears from its leader, so c's vote request of term 2 is ignored, term and all.
    before: threeNodeCluster(DEFAULT_OPTIONS).get('b'),
    event: requestVote('c', 2, 1, 2),
    then: (after, actions) => {
      expect(actions).toEqual([]);
      expect(after.term).toBe(1);
    },
  }),

  checkQuorumStepDowns: () => {
    // The leader hears from nobody for a whole election timeout (10 ticks): at the tenth it steps
    // down in its term, keeping its vote for itself.
    const net = threeNodeCluster(DEFAULT_OPTIONS);
    for (let t = 0; t < 9; t++) {
      net.step('a', { type: 'timeout' });
      net.drop();
    }
    return {
      before: net.get('a'),
      event: { type: 'timeout' },
      then: (after, actions) => {
        expect(after.role).toBe('follower');
        expect(after.term).toBe(1);
        expect(after.votedFor).toBe('a');
        expect(actions).toEqual([{ type: 'setTimer', wait: 'follower' }]);
      },
    };
  },

  transfersStarted: () => ({
    // b is up to date: the leader tells it to campaign at once.
    before: threeNodeCluster(DEFAULT_OPTIONS).get('a'),
    event: { type: 'transferLeadership', to: 'b' },
    then: (after, actions) => {
      expect(after.role === 'leader' && after.lead.transferTo).toBe('b');
      expect(actions).toEqual([{ type: 'send', to: 'b', message: timeoutNow('a', 1) }]);
    },
  }),

  transfersAbandoned: () => {
    // Every timeoutNow is lost (the leader sends one again whenever b answers up to date); ten
    // ticks later (heartbeats answered, so check-quorum is content) the leader gives the transfer
    // up and takes proposals again.
    const net = threeNodeCluster(DEFAULT_OPTIONS);
    const lost = (e: Envelope): boolean => e.message.type === 'timeoutNow';
    net.step('a', { type: 'transferLeadership', to: 'b' });
    net.drop(lost);
    for (let t = 0; t < 9; t++) {
      net.step('a', { type: 'timeout' });
      net.deliver((e) => !lost(e));
      net.drop(lost);
    }
    return {
      before: net.get('a'),
      event: { type: 'timeout' },
      then: (after) => expect(after.role === 'leader' && after.lead.transferTo).toBe(null),
    };
  },

  readsReady: () => {
    // A read on the leader: one leadership check; b's acknowledgement makes a majority.
    const net = threeNodeCluster(DEFAULT_OPTIONS);
    net.step('a', { type: 'read', id: 'r1' });
    net.deliver((e) => e.to === 'b');
    const ack = net.take((e) => e.from === 'b' && e.to === 'a');
    return {
      before: net.get('a'),
      event: ack.message,
      then: (_after, actions) =>
        expect(ofType(actions, 'readReady')).toEqual([{ type: 'readReady', id: 'r1', index: 2 }]),
    };
  },

  readsRejected: () => {
    // A second read with the id of one in flight is refused, and never confused with the first.
    const net = threeNodeCluster(DEFAULT_OPTIONS);
    net.step('a', { type: 'read', id: 'r1' });
    return {
      before: net.get('a'),
      event: { type: 'read', id: 'r1' },
      then: (after, actions, before) => {
        expect(actions).toEqual([
          { type: 'rejected', request: 'read', reason: 'duplicateRead', leaderHint: 'a', count: 0, id: 'r1' },
        ]);
        expect(after.reads).toEqual(before.reads);
      },
    };
  },
};

/** The counters that differ between two metrics records, with their values. */
function changed(before: Metrics, after: Metrics): Partial<Record<MetricName, number>> {
  const out: Partial<Record<MetricName, number>> = {};
  for (const name of METRIC_NAMES) if (after[name] !== before[name]) out[name] = after[name];
  return out;
}

describe('each counter counts its situation, and nothing else moves', () => {
  test('there are twenty-nine counters, and a scenario for each', () => {
    expect(METRIC_NAMES).toHaveLength(29);
    expect(Object.keys(SCENARIOS).sort()).toEqual([...METRIC_NAMES].sort());
  });

  test.each(METRIC_NAMES.map((name) => [name]))('%s', (name) => {
    const { before, event, then } = SCENARIOS[name]();
    const [after, actions] = step(before, event);
    expect(ofType(actions, 'invalidEvent')).toEqual([]);
    expect(changed(before.metrics, after.metrics)).toEqual({ [name]: before.metrics[name] + 1 });
    then?.(after, actions, before);
  });

  test.each(METRIC_NAMES.map((name) => [name]))('%s saturates at Number.MAX_SAFE_INTEGER', (name) => {
    const { before, event } = SCENARIOS[name]();
    const full: RaftState = { ...before, metrics: { ...before.metrics, [name]: Number.MAX_SAFE_INTEGER } };
    const [after, actions] = step(full, event);
    expect(ofType(actions, 'invalidEvent')).toEqual([]);
    expect(after.metrics).toEqual(full.metrics);
    expect(after.metrics[name]).toBe(Number.MAX_SAFE_INTEGER);
  });
});

describe('counters beyond single steps', () => {
  test('a non-voter (here: a node outside any cluster) that times out starts no election', () => {
    const [after, actions] = step(startNode('z', BASIC_OPTIONS)[0], { type: 'timeout' });
    expect(after.metrics).toEqual(ZERO_METRICS);
    expect(actions).toEqual([]);
  });

  test('a candidate (it voted for itself) refuses a rival of the same term: an existing vote', () => {
    const net = threeNodeCluster();
    net.step('b', { type: 'timeout' }); // b campaigns in term 2
    const [after, actions] = step(net.get('b'), requestVote('c', 2, 1, 2));
    expect(actions).toEqual([]);
    expect(after.role).toBe('candidate');
    expect(changed(net.get('b').metrics, after.metrics)).toEqual({ requestVoteCallsRejectedByExistingVote: 1 });
  });

  test('vote refusals count nothing: not as votes, not as stale replies', () => {
    const net = new Net(['a', 'b', 'c']);
    net.step('a', { type: 'createCluster', voters: ['a', 'b', 'c'] });
    net.step('a', { type: 'timeout' }); // candidate of term 2
    let a = net.get('a');
    for (const refusal of [
      requestVoteReply('b', 2, false),
      requestVoteReply('c', 2, false),
      requestVoteReply('b', 1, false),
    ]) {
      const [next, actions] = step(a, refusal);
      expect(actions).toEqual([]);
      a = next;
    }
    expect(a.role).toBe('candidate');
    expect(a.votes).toEqual(['a']);
    expect(a.metrics).toEqual(net.get('a').metrics);
  });

  test('a solo voter creating its cluster starts one election and one leadership in one step', () => {
    const [after] = step(startNode('a', BASIC_OPTIONS)[0], { type: 'createCluster', voters: ['a'] });
    expect(changed(ZERO_METRICS, after.metrics)).toEqual({ electionsStarted: 1, leadershipsStarted: 1 });
  });

  test('counters survive role changes: leader -> follower -> candidate -> leader', () => {
    const net = threeNodeCluster();
    const leader = net.get('a');
    expect(changed(ZERO_METRICS, leader.metrics)).toEqual({
      electionsStarted: 1,
      leadershipsStarted: 1,
      requestVoteRepliesIgnoredWhileNotCandidate: 1, // c's vote arrived after b's made a the leader
    });
    net.step('a', requestVote('b', 2, 1, 2)); // step down, vote for b
    expect(net.get('a').role).toBe('follower');
    net.step('a', { type: 'timeout' }); // campaign in term 3
    expect(net.get('a').role).toBe('candidate');
    net.step('a', requestVoteReply('c', 3, true));
    expect(net.get('a').role).toBe('leader');
    expect(changed(ZERO_METRICS, net.get('a').metrics)).toEqual({
      electionsStarted: 2,
      leadershipsStarted: 2,
      requestVoteRepliesIgnoredWhileNotCandidate: 1,
      termAdvancesFromMessages: 1,
    });
  });

  test('start and restart begin at zero (counters are not persisted)', () => {
    expect(startNode('a', BASIC_OPTIONS)[0].metrics).toEqual(ZERO_METRICS);
    const busy = threeNodeCluster().get('a');
    expect(busy.metrics).not.toEqual(ZERO_METRICS);
    const [restarted] = restartNode({
      options: BASIC_OPTIONS,
      id: busy.id,
      term: busy.term,
      votedFor: busy.votedFor,
      log: busy.log,
      snapshotConfig: busy.snapshotConfig,
    });
    expect(restarted.metrics).toEqual(ZERO_METRICS);
  });
});

describe('followerMatchIndex: what the leader knows each follower holds', () => {
  test('null on followers and candidates, for unknown ids, and for the leader itself', () => {
    const net = threeNodeCluster();
    expect(followerMatchIndex(net.get('b'), 'a')).toBeNull();
    expect(followerMatchIndex(net.get('b'), 'c')).toBeNull();
    const [candidate] = step(net.get('b'), { type: 'timeout' });
    expect(followerMatchIndex(candidate, 'a')).toBeNull();
    const leader = net.get('a');
    expect(followerMatchIndex(leader, 'a')).toBeNull();
    expect(followerMatchIndex(leader, 'z')).toBeNull();
    expect(followerMatchIndex(leader, 'b')).toBe(2);
  });

  test('0 for every member at the start of a tenure: voters, new joint voters and non-voters', () => {
    // A node restarted with a joint configuration (a, b, c -> a, b, d) and a non-voter e.
    const joint = makeConfig(['a', 'b', 'c'], ['a', 'b', 'd'], ['e']);
    const log = appendCommands(appendConfig(appendTermStart(emptyEntries(0, 0), 1), joint), 3);
    let [a] = restartNode({
      options: BASIC_OPTIONS,
      id: 'a',
      term: 1,
      votedFor: null,
      log,
      snapshotConfig: makeConfig([]),
    });
    [a] = step(a, { type: 'timeout' });
    [a] = step(a, requestVoteReply('b', 2, true)); // b is in both voter sets: a majority of each
    expect(a.role).toBe('leader');
    for (const id of ['b', 'c', 'd', 'e']) expect(followerMatchIndex(a, id)).toBe(0);
    expect(followerMatchIndex(a, 'a')).toBeNull();
  });

  test('advances on a good reply, never regresses on a delayed one', () => {
    const net = threeNodeCluster();
    net.step('a', { type: 'propose', count: 3 }); // entries 3..5
    const [, first] = net.step('b', net.take((e) => e.to === 'b').message);
    const reply = ofType(first, 'send')[0]!.message;
    expect(reply).toEqual(appendEntriesReply('b', 1, 1, 5));
    net.step('a', { type: 'propose' }); // entry 6
    net.deliver((e) => e.to === 'b' || from('b')(e));
    expect(followerMatchIndex(net.get('a'), 'b')).toBe(6);
    // The earlier reply "(1, 5)" arrives late.
    const [after] = step(net.get('a'), reply);
    expect(followerMatchIndex(after, 'b')).toBe(6);
    expect(after.metrics.appendEntriesRepliesIgnoredBehindMatchIndex).toBe(1);
  });

  test('null after step-down; reset to 0 on re-election', () => {
    const net = threeNodeCluster();
    expect(followerMatchIndex(net.get('a'), 'b')).toBe(2);
    net.step('a', requestVote('c', 2, 0, 1)); // a newer term: a steps down (and refuses: c's log is behind)
    expect(net.get('a').role).toBe('follower');
    expect(followerMatchIndex(net.get('a'), 'b')).toBeNull();
    net.drop();
    net.step('a', { type: 'timeout' });
    net.deliver(to('b'));
    net.deliver(to('a'));
    const leader = net.get('a');
    expect(leader.role).toBe('leader');
    expect(leader.term).toBe(3);
    expect(followerMatchIndex(leader, 'b')).toBe(0);
    expect(followerMatchIndex(leader, 'c')).toBe(0);
  });

  test('null for a member removed from the configuration, 0 once it is added back', () => {
    const net = new Net(['a', 'b', 'c', 'x']);
    net.step('a', { type: 'createCluster', voters: ['a', 'b', 'c'] });
    net.deliver();
    net.step('a', { type: 'proposeConfig', config: makeConfig(['a', 'b', 'c'], [], ['x']) });
    net.deliver();
    expect(followerMatchIndex(net.get('a'), 'x')).toBe(3);
    net.step('a', { type: 'proposeConfig', config: makeConfig(['a', 'b', 'c']) });
    expect(followerMatchIndex(net.get('a'), 'x')).toBeNull();
    net.deliver((e) => e.to !== 'x');
    net.drop();
    net.step('a', { type: 'proposeConfig', config: makeConfig(['a', 'b', 'c'], [], ['x']) });
    expect(followerMatchIndex(net.get('a'), 'x')).toBe(0);
  });
});

describe('a saturated counter', () => {
  test('stays at 2^53 - 1, and bumping it returns the same metrics object (a step that changes nothing keeps its state)', () => {
    const saturated: Metrics = { ...ZERO_METRICS, electionsStarted: Number.MAX_SAFE_INTEGER };
    expect(bump(saturated, 'electionsStarted')).toBe(saturated);
    expect(bumpBy(saturated, 'electionsStarted', 5)).toBe(saturated);
    const below: Metrics = { ...ZERO_METRICS, electionsStarted: Number.MAX_SAFE_INTEGER - 1 };
    expect(bumpBy(below, 'electionsStarted', 5).electionsStarted).toBe(Number.MAX_SAFE_INTEGER);
  });
});
