/**
 * `proposeCommands` (src/proposals.ts): a proposal stepped like `step(state, {type: 'propose',
 * count})`, returning `[state, actions, proposal]` where `proposal` says where the commands went —
 * `{term, firstIndex, lastIndex}` — or is null when the node refused them (not the leader: a
 * `rejected` action with the reason and the leader hint) or the count was invalid (`invalidEvent`).
 */
import { BASIC_OPTIONS } from '../../src/options.js';
import fc from 'fast-check';
import {
  commitStatus,
  emptyEntries,
  entryAt,
  leaderHint,
  makeConfig,
  proposeCommands,
  restartNode,
  startNode,
  step,
  termAt,
  type RaftActions,
  type RaftState,
} from '../../src/index.js';
import { appendCommands } from '../../src/log.js';
import { deepFreeze } from '../support/freeze';
import { fcParams } from '../support/seed';
import { ofType, threeNodeCluster, type Net } from './support';

/** `a`, leader of a cluster of one: it commits its own entries in the step that appends them. */
function soloLeader(): RaftState {
  return step(startNode('a', BASIC_OPTIONS)[0], { type: 'createCluster', voters: ['a'] })[0];
}

/** The leader `a` of a settled three-node cluster, with the network around it. */
function threeNodeLeader(): { net: Net; leader: RaftState } {
  const net = threeNodeCluster();
  return { net, leader: net.get('a') };
}

function follower(): RaftState {
  return threeNodeCluster().get('b');
}

/** `b` after its election timer fired: a candidate of term 2, no leader known. */
function candidate(): RaftState {
  return step(follower(), { type: 'timeout' })[0];
}

/** Every entry of `[from, to]` is a command of `term`. */
function expectCommands(s: RaftState, term: number, from: number, to: number): void {
  for (let i = from; i <= to; i++) expect(entryAt(s.log, i)).toEqual({ kind: 'command', term });
}

describe('proposeCommands on a leader', () => {
  test('a solo leader: one command by default, appended after the log and committed in the same step', () => {
    const leader = soloLeader();
    const last = leader.log.lastIndex;
    const [next, actions, proposal] = proposeCommands(leader);
    expect(proposal).toEqual({ term: leader.term, firstIndex: last + 1, lastIndex: last + 1 });
    expect(next.log.lastIndex).toBe(last + 1);
    expectCommands(next, leader.term, last + 1, last + 1);
    expect(ofType(actions, 'appendLog').map((a) => a.entries.lastIndex)).toEqual([last + 1]);
    expect(ofType(actions, 'commitAdvanced')).toEqual([{ type: 'commitAdvanced', commitIndex: last + 1 }]);
    expect(commitStatus(next, { term: proposal!.term, index: proposal!.lastIndex })).toBe('committed');
  });

  test('a solo leader: count commands take count consecutive indices of its term', () => {
    const leader = soloLeader();
    const last = leader.log.lastIndex;
    const [next, actions, proposal] = proposeCommands(leader, 5);
    expect(proposal).toEqual({ term: leader.term, firstIndex: last + 1, lastIndex: last + 5 });
    expectCommands(next, leader.term, last + 1, last + 5);
    expect(ofType(actions, 'appendLog')[0]!.entries).toMatchObject({ prevIndex: last, lastIndex: last + 5 });
    // A second proposal goes right after the first.
    const [, , second] = proposeCommands(next, 2);
    expect(second).toEqual({ term: leader.term, firstIndex: last + 6, lastIndex: last + 7 });
  });

  test('the leader of three nodes: the commands are sent to both followers and commit once they answer', () => {
    const { net, leader } = threeNodeLeader();
    const last = leader.log.lastIndex;
    const [next, actions, proposal] = proposeCommands(leader, 3);
    expect(proposal).toEqual({ term: leader.term, firstIndex: last + 1, lastIndex: last + 3 });
    expectCommands(next, leader.term, last + 1, last + 3);
    expect(ofType(actions, 'commitAdvanced')).toEqual([]); // not before a majority holds them
    const [broadcast] = ofType(actions, 'broadcast');
    expect(broadcast!.message).toMatchObject({ type: 'appendEntries', term: leader.term });
    expect(broadcast!.message.type === 'appendEntries' && broadcast!.message.entries.lastIndex).toBe(last + 3);
    const position = { term: proposal!.term, index: proposal!.lastIndex };
    expect(commitStatus(next, position)).toBe('inProgress');
    // The same step through the network: the followers store the commands, the leader commits them.
    const [stepped] = net.step('a', { type: 'propose', count: 3 });
    expect(stepped).toEqual(next);
    net.deliver();
    expect(net.get('a').commitIndex).toBe(last + 3);
    expect(commitStatus(net.get('a'), position)).toBe('committed');
    for (const id of ['b', 'c']) expect(termAt(net.get(id).log, last + 3)).toBe(leader.term);
  });

  test('commitStatus of a position compacted into the snapshot is unknown (its term is gone)', () => {
    // A follower restarted from a snapshot at index 5 (term 1), then 3 more entries.
    const log = appendCommands(emptyEntries(1, 5), 3);
    const [s] = restartNode({
      options: BASIC_OPTIONS,
      id: 'b',
      term: 1,
      votedFor: null,
      log,
      snapshotConfig: makeConfig(['a', 'b', 'c']),
    });
    expect(commitStatus(s, { term: 1, index: 4 })).toBe('unknown');
    expect(commitStatus(s, { term: 1, index: 5 })).toBe('committed'); // the snapshot's own position
    expect(commitStatus(s, { term: 1, index: 7 })).toBe('inProgress');
  });

  test('commitStatus of a position past the commit index, of a term older than the committed entry’s, is rejected', () => {
    // Committed up to index 5 in term 2 (a snapshot there): an entry of term 1 can no longer be
    // written after it, since terms never go down along a log; one of term 2 or later still can.
    const [s] = restartNode({
      options: BASIC_OPTIONS,
      id: 'b',
      term: 2,
      votedFor: null,
      log: appendCommands(emptyEntries(2, 5), 3),
      snapshotConfig: makeConfig(['a', 'b', 'c']),
    });
    expect(s.commitIndex).toBe(5);
    expect(commitStatus(s, { term: 1, index: 6 })).toBe('rejected');
    expect(commitStatus(s, { term: 1, index: 9 })).toBe('rejected');
    expect(commitStatus(s, { term: 2, index: 7 })).toBe('inProgress');
    expect(commitStatus(s, { term: 3, index: 9 })).toBe('inProgress');
  });
});

describe('proposeCommands refused', () => {
  test('on a follower: rejected (notLeader) with the leader it follows as the hint; nothing changes', () => {
    const f = follower();
    expect(leaderHint(f)).toBe('a');
    const [next, actions, proposal] = proposeCommands(f, 2);
    expect(proposal).toBeNull();
    expect(next).toBe(f);
    expect(actions).toEqual([
      { type: 'rejected', request: 'propose', reason: 'notLeader', leaderHint: 'a', count: 2, id: null },
    ]);
  });

  test('on a candidate: rejected (notLeader) with no leader to name; nothing changes', () => {
    const c = candidate();
    expect(c.role).toBe('candidate');
    const [next, actions, proposal] = proposeCommands(c);
    expect(proposal).toBeNull();
    expect(next).toBe(c);
    expect(actions).toEqual([
      { type: 'rejected', request: 'propose', reason: 'notLeader', leaderHint: null, count: 1, id: null },
    ]);
  });

  const badCounts: Array<[string, unknown]> = [
    ['zero', 0],
    ['negative', -1],
    ['fractional', 1.5],
    ['NaN', NaN],
    ['infinite', Infinity],
    ['beyond the safe integers', 2 ** 53],
    ['a string', '3'],
    ['null', null],
  ];

  test.each(badCounts)(
    'a count that is not a positive safe integer (%s): invalidEvent, nothing changes',
    (_name, count) => {
      for (const s of [soloLeader(), threeNodeLeader().leader, follower(), candidate()]) {
        const [next, actions, proposal] = proposeCommands(s, count as number);
        expect(proposal).toBeNull();
        expect(next).toBe(s);
        const [invalid] = ofType(actions, 'invalidEvent');
        expect(actions).toEqual([invalid]); // that one action only
        expect(invalid!.reason).toMatch(/count/);
      }
    },
  );

  test('a valid count that would take the log past the indices commands may use: invalidEvent, nothing changes', () => {
    const leader = soloLeader();
    const [next, actions, proposal] = proposeCommands(leader, Number.MAX_SAFE_INTEGER - 10);
    expect(proposal).toBeNull();
    expect(next).toBe(leader);
    expect(ofType(actions, 'invalidEvent')).toHaveLength(1);
    expect(actions).toHaveLength(1);
  });
});

describe('proposeCommands is step with a propose event', () => {
  test('the same state and actions as step(state, {type: "propose", count}), and a proposal exactly when the log grew', () => {
    const states: RaftState[] = [
      soloLeader(),
      threeNodeLeader().leader,
      follower(),
      candidate(),
      startNode('z', BASIC_OPTIONS)[0],
    ];
    const countArb = fc.oneof(
      { weight: 4, arbitrary: fc.integer({ min: 1, max: 1000 }) },
      { weight: 1, arbitrary: fc.integer({ min: -3, max: 0 }) },
      { weight: 1, arbitrary: fc.constantFrom(0.5, NaN, Infinity, 2 ** 53, Number.MAX_SAFE_INTEGER - 1) },
    );
    fc.assert(
      fc.property(fc.constantFrom(...states), countArb, (s, count) => {
        const frozen = deepFreeze(s); // proposeCommands never writes to its input
        const [next, actions, proposal] = proposeCommands(frozen, count);
        const expected = step(frozen, { type: 'propose', count });
        expect([next, actions]).toEqual(expected);
        if (next.log.lastIndex === s.log.lastIndex) {
          expect(proposal).toBeNull();
          expect(rejectedOrInvalid(actions)).toBe(true);
        } else {
          expect(proposal).toEqual({
            term: s.term,
            firstIndex: s.log.lastIndex + 1,
            lastIndex: s.log.lastIndex + count,
          });
          expectCommands(next, s.term, proposal!.firstIndex, proposal!.lastIndex);
        }
      }),
      fcParams('proposeCommands vs step'),
    );
  });

  test('without a count it proposes one command, as step does for {type: "propose"}', () => {
    for (const s of [soloLeader(), threeNodeLeader().leader, follower(), candidate()]) {
      const [next, actions] = proposeCommands(s);
      expect([next, actions]).toEqual(step(s, { type: 'propose' }));
      expect([next, actions]).toEqual(step(s, { type: 'propose', count: 1 }));
    }
  });
});

function rejectedOrInvalid(actions: RaftActions): boolean {
  return actions.length === 1 && (actions[0]!.type === 'rejected' || actions[0]!.type === 'invalidEvent');
}
