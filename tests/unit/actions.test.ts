/**
 * Merging the actions of several steps (src/actions.ts `mergeActions`), and splitting AppendEntries
 * messages (src/messages.ts), as in noraft's action.rs and message.rs tests.
 *
 * noraft keeps one pending `RaftActions` set per node and merges into it until the application drains
 * it; raftstep returns the actions of each step and lets the application merge them. The merged list
 * must be what the application would have to do had it not yet carried out the earlier one.
 */
import { BASIC_OPTIONS, DEFAULT_OPTIONS, type NodeOptions } from '../../src/options.js';
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import {
  TIMER_ELECTION,
  TIMER_FOLLOWER,
  TIMER_HEARTBEAT,
  appendLog,
  broadcast,
  commitAdvanced,
  compactLog,
  concurrentAppendLog,
  installSnapshot,
  invalidEvent,
  mergeActions,
  mergeAll,
  mergeMessages,
  rejected,
  saveHardState,
  send,
  type RaftAction,
  type RaftActions,
} from '../../src/actions.js';
import { makeConfig } from '../../src/config.js';
import type { RaftEvent } from '../../src/events.js';
import {
  appendCommands,
  appendConfig,
  appendTermStart,
  commandsAfter,
  emptyEntries,
  entryCount,
  lastPosition,
  prevPosition,
  spliceSuffix,
  type LogEntries,
} from '../../src/log.js';
import {
  appendEntriesCall,
  appendEntriesReply,
  isCall,
  preVote,
  readIndex,
  readIndexReply,
  requestVote,
  requestVoteReply,
  stripAppendEntriesPrefix,
  truncateAppendEntries,
  type Message,
} from '../../src/messages.js';
import { startNode } from '../../src/node.js';
import { positionAndConfigAt, type RaftState } from '../../src/state.js';
import { step, stepAll } from '../../src/step.js';
import { fcParams } from '../support/seed';
import { deepFreeze } from '../support/freeze';
import { freshDisk, store, type Disk } from '../support/host';
import {
  Net,
  RANK,
  build,
  buildOpArb,
  entriesArb,
  type BuildOp,
  idArb,
  messageArb,
  ofType,
  orderProblems,
  threeNodeCluster,
} from './support';

/**
 * A deep copy that shares nothing, not even within itself (`structuredClone` keeps an object used
 * twice as one object, which the pipelining shortcuts would still recognise as the proposal shape).
 */
const unshared = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

/** Commands `(prevIndex, prevIndex + n]` in term `term`. */
const cmds = (term: number, prevIndex: number, n: number): LogEntries => commandsAfter(term, prevIndex, n);
const ae = (term: number, commitIndex: number, entries: LogEntries): Message =>
  appendEntriesCall('a', term, commitIndex, entries);

describe('mergeActions, rule by rule', () => {
  test('the later timer and the later hard state win', () => {
    const merged = mergeActions([TIMER_ELECTION, saveHardState(2, 'a')], [TIMER_FOLLOWER, saveHardState(3, null)]);
    expect(merged).toEqual([TIMER_FOLLOWER, saveHardState(3, null)]);
    expect(mergeActions([TIMER_ELECTION, saveHardState(2, 'a')], [TIMER_HEARTBEAT])).toEqual([
      TIMER_HEARTBEAT,
      saveHardState(2, 'a'),
    ]);
  });

  test('appends join: a run continuing the earlier one extends it', () => {
    expect(mergeActions([appendLog(cmds(1, 0, 5))], [appendLog(cmds(1, 5, 3))])).toEqual([appendLog(cmds(1, 0, 8))]);
  });

  test('appends join: a run anchored inside the earlier one replaces its tail from the anchor', () => {
    const later = appendCommands(appendTermStart(emptyEntries(1, 4), 2), 1); // t2 @5, cmd @6
    const merged = mergeActions([appendLog(cmds(1, 2, 6))], [appendLog(later)]);
    expect(merged).toEqual([appendLog(appendCommands(appendTermStart(cmds(1, 2, 2), 2), 1))]);
  });

  test('appends join: a run anchored before the earlier one replaces it entirely', () => {
    const later = appendTermStart(emptyEntries(1, 3), 2);
    expect(mergeActions([appendLog(cmds(1, 5, 3))], [appendLog(later)])).toEqual([appendLog(later)]);
    const sameAnchor = cmds(1, 5, 1);
    expect(mergeActions([appendLog(cmds(1, 5, 3))], [appendLog(sameAnchor)])).toEqual([appendLog(sameAnchor)]);
  });

  test('appends after a gap stay two actions, in order', () => {
    expect(mergeActions([appendLog(cmds(1, 0, 2))], [appendLog(cmds(1, 4, 1))])).toEqual([
      appendLog(cmds(1, 0, 2)),
      appendLog(cmds(1, 4, 1)),
    ]);
  });

  test('commitAdvanced keeps the maximum', () => {
    expect(mergeActions([commitAdvanced(5)], [commitAdvanced(3)])).toEqual([commitAdvanced(5)]);
    expect(mergeActions([commitAdvanced(3)], [commitAdvanced(5)])).toEqual([commitAdvanced(5)]);
  });

  test('broadcast AppendEntries merge: the later term and commit index, the entries extended', () => {
    const merged = mergeActions([broadcast(ae(1, 2, cmds(1, 2, 2)))], [broadcast(ae(2, 3, cmds(1, 4, 2)))]);
    expect(merged).toEqual([broadcast(ae(2, 3, cmds(1, 2, 4)))]);
    // A heartbeat at the end of the pending entries only refreshes the commit index.
    const hb = mergeActions([broadcast(ae(1, 2, cmds(1, 2, 2)))], [broadcast(ae(1, 4, emptyEntries(1, 4)))]);
    expect(hb).toEqual([broadcast(ae(1, 4, cmds(1, 2, 2)))]);
  });

  test('broadcast AppendEntries whose anchor the pending entries do not hold: the later one replaces', () => {
    const later = ae(1, 3, cmds(1, 7, 1));
    expect(mergeActions([broadcast(ae(1, 2, cmds(1, 2, 2)))], [broadcast(later)])).toEqual([broadcast(later)]);
  });

  test('a later message that is not an AppendEntries replaces the pending one (and vice versa)', () => {
    const rv = requestVote('a', 2, 1, 4);
    expect(mergeActions([broadcast(ae(1, 2, cmds(1, 2, 2)))], [broadcast(rv)])).toEqual([broadcast(rv)]);
    const call = ae(2, 0, cmds(1, 4, 1));
    expect(mergeActions([broadcast(rv)], [broadcast(call)])).toEqual([broadcast(call)]);
    const reply = appendEntriesReply('a', 2, 1, 4);
    expect(mergeActions([send('b', requestVoteReply('a', 2, true))], [send('b', reply)])).toEqual([send('b', reply)]);
  });

  test('sends merge per destination; the result is sorted by destination', () => {
    const merged = mergeActions(
      [send('a', requestVoteReply('x', 1, true)), send('c', ae(1, 0, cmds(1, 0, 1)))],
      [send('c', ae(1, 1, cmds(1, 1, 1))), send('b', appendEntriesReply('x', 1, 0, 0))],
    );
    expect(merged).toEqual([
      send('a', requestVoteReply('x', 1, true)),
      send('b', appendEntriesReply('x', 1, 0, 0)),
      send('c', ae(1, 1, cmds(1, 0, 2))),
    ]);
  });

  test('snapshot transfers are deduplicated and sorted by destination', () => {
    const merged = mergeActions(
      [installSnapshot('c'), installSnapshot('d')],
      [installSnapshot('b'), installSnapshot('c')],
    );
    expect(merged).toEqual([installSnapshot('b'), installSnapshot('c'), installSnapshot('d')]);
  });

  test('rejected and invalidEvent reports are all kept, in order, after everything else', () => {
    const r1 = rejected('propose', 'notLeader', 'b', 1);
    const r2 = rejected('heartbeat', 'notLeader', null, 0);
    const bad = invalidEvent('count must be a positive safe integer');
    expect(mergeActions([r1, r1], [bad, commitAdvanced(1), r2])).toEqual([commitAdvanced(1), r1, r1, bad, r2]);
  });

  test('a later compaction rebases pending appends and AppendEntries onto the snapshot', () => {
    const merged = mergeActions([appendLog(cmds(1, 0, 8)), broadcast(ae(1, 2, cmds(1, 4, 4)))], [compactLog(1, 6)]);
    expect(merged).toEqual([compactLog(1, 6), appendLog(cmds(1, 6, 2)), broadcast(ae(1, 2, cmds(1, 6, 2)))]);
  });

  test("a compaction at an append's anchor index but with another term drops it (a superseded branch)", () => {
    // The call is of term 2, the snapshot's (an older call would be dropped: see merge-order.test.ts).
    const merged = mergeActions([appendLog(cmds(1, 5, 2)), broadcast(ae(2, 2, cmds(1, 5, 2)))], [compactLog(2, 5)]);
    expect(merged).toEqual([compactLog(2, 5), broadcast(ae(2, 2, emptyEntries(2, 5)))]);
    // The same anchor with the same term: nothing to rebase.
    const same = mergeActions([appendLog(cmds(1, 5, 2))], [compactLog(1, 5)]);
    expect(same).toEqual([compactLog(1, 5), appendLog(cmds(1, 5, 2))]);
  });

  test('compactions keep the furthest snapshot, whatever the order', () => {
    expect(mergeActions([compactLog(2, 10)], [compactLog(2, 6)])).toEqual([compactLog(2, 10)]);
    expect(mergeActions([compactLog(2, 6)], [compactLog(2, 10)])).toEqual([compactLog(2, 10)]);
  });

  test('an append that replaces the earlier one is concurrent only when both were', () => {
    // The later run is anchored before the earlier one, so it replaces it whole; merging never relaxes
    // the persistence rule of the earlier write.
    expect(mergeActions([appendLog(cmds(1, 5, 3))], [concurrentAppendLog(cmds(1, 3, 1))])).toEqual([
      appendLog(cmds(1, 3, 1)),
    ]);
    expect(mergeActions([concurrentAppendLog(cmds(1, 5, 3))], [appendLog(cmds(1, 3, 1))])).toEqual([
      appendLog(cmds(1, 3, 1)),
    ]);
    expect(mergeActions([concurrentAppendLog(cmds(1, 5, 3))], [concurrentAppendLog(cmds(1, 3, 1))])).toEqual([
      concurrentAppendLog(cmds(1, 3, 1)),
    ]);
  });

  test('a compaction below a pending append leaves that append as it was, concurrent or not', () => {
    expect(mergeActions([concurrentAppendLog(cmds(1, 6, 2))], [compactLog(1, 4)])).toEqual([
      compactLog(1, 4),
      concurrentAppendLog(cmds(1, 6, 2)),
    ]);
  });

  test('a pre-vote behind a later snapshot is rebased as a pre-vote, reporting the snapshot position', () => {
    expect(mergeActions([broadcast(preVote('a', 3, 1, 2))], [compactLog(2, 6)])).toEqual([
      compactLog(2, 6),
      broadcast(preVote('a', 3, 2, 6)),
    ]);
  });

  test('forwarded reads to one leader join their ids once each; answers to one follower join their lists', () => {
    const forwarded = mergeActions(
      [send('b', readIndex('a', 2, ['r1', 'r2']))],
      [send('b', readIndex('a', 2, ['r2', 'r3']))],
    );
    expect(forwarded).toEqual([send('b', readIndex('a', 2, ['r1', 'r2', 'r3']))]);
    // Reads forwarded in an older term went to a leader that is no more: the newer list replaces them.
    expect(mergeActions([send('b', readIndex('a', 2, ['r1']))], [send('b', readIndex('a', 3, ['r2']))])).toEqual([
      send('b', readIndex('a', 3, ['r2'])),
    ]);
    const answers = mergeActions(
      [send('b', readIndexReply('a', 2, [{ id: 'r1', index: 5 }]))],
      [send('b', readIndexReply('a', 2, [{ id: 'r2', index: 6 }]))],
    );
    expect(answers).toEqual([
      send(
        'b',
        readIndexReply('a', 2, [
          { id: 'r1', index: 5 },
          { id: 'r2', index: 6 },
        ]),
      ),
    ]);
  });

  test('merging with nothing returns the other list itself', () => {
    const a: RaftActions = [TIMER_HEARTBEAT, commitAdvanced(2)];
    expect(mergeActions(a, [])).toBe(a);
    expect(mergeActions([], a)).toBe(a);
  });
});

describe('stale calls when the later list raises the term (noraft: step-down purge)', () => {
  test('calls of older terms are dropped; replies, appends and snapshot transfers are kept', () => {
    const earlier: RaftActions = [
      appendLog(cmds(2, 3, 1)),
      broadcast(requestVote('a', 2, 2, 4)),
      send('x', appendEntriesReply('a', 2, 2, 4)),
      send('y', ae(2, 1, cmds(2, 4, 1))),
      installSnapshot('z'),
    ];
    const merged = mergeActions(earlier, [TIMER_FOLLOWER, saveHardState(3, null)]);
    expect(merged).toEqual([
      TIMER_FOLLOWER,
      saveHardState(3, null),
      appendLog(cmds(2, 3, 1)),
      send('x', appendEntriesReply('a', 2, 2, 4)),
      installSnapshot('z'),
    ]);
  });

  test('a same-term step-down (a leader that removed itself) keeps its calls', () => {
    const earlier: RaftActions = [broadcast(ae(3, 5, cmds(3, 5, 1))), send('y', requestVote('a', 3, 3, 6))];
    const merged = mergeActions(earlier, [TIMER_FOLLOWER, saveHardState(3, null)]);
    expect(merged).toEqual([TIMER_FOLLOWER, saveHardState(3, null), ...earlier]);
  });

  test('stepped: a candidate that steps down keeps its log write and its reply, drops its vote requests', () => {
    const [a, actions] = stepAll(startNode('a', BASIC_OPTIONS)[0], [
      { type: 'createCluster', voters: ['a', 'b', 'c'] }, // log write, candidate of term 1
      { type: 'timeout' }, // candidate of term 2: a new vote request
      { type: 'appendEntries', from: 'x', term: 1, commitIndex: 0, entries: emptyEntries(0, 0) }, // stale: reply
      { type: 'requestVote', from: 'b', term: 3, lastTerm: 0, lastIndex: 1 }, // step down, vote for b
    ]);
    expect(a.role).toBe('follower');
    expect(a.term).toBe(3);
    expect(actions).toEqual([
      TIMER_FOLLOWER,
      saveHardState(3, 'b'),
      appendLog(appendConfig(emptyEntries(0, 0), makeConfig(['a', 'b', 'c']))),
      send('b', requestVoteReply('a', 3, true)),
      send('x', appendEntriesReply('a', 2, 0, 1)),
    ]);
  });
});

// ---------------------------------------------------------------------------------------------
// Properties on random canonical lists

/** A list in canonical order: each kind at most once (sends and transfers once per peer), reports last. */
const canonicalArb = (withCompaction: boolean): fc.Arbitrary<RaftAction[]> =>
  fc
    .record({
      timer: fc.option(fc.constantFrom(TIMER_HEARTBEAT, TIMER_ELECTION, TIMER_FOLLOWER), { nil: undefined }),
      hard: fc.option(
        fc
          .record({ term: fc.nat({ max: 5 }), votedFor: fc.option(idArb, { nil: null }) })
          .map((h) => saveHardState(h.term, h.votedFor)),
        { nil: undefined },
      ),
      compact: withCompaction
        ? fc.option(
            fc
              .record({ term: fc.nat({ max: 4 }), index: fc.integer({ min: 1, max: 12 }) })
              .map((c) => compactLog(c.term, c.index)),
            {
              nil: undefined,
            },
          )
        : fc.constant(undefined),
      append: fc.option(entriesArb.map(appendLog), { nil: undefined }),
      commit: fc.option(fc.nat({ max: 20 }).map(commitAdvanced), { nil: undefined }),
      broadcast: fc.option(messageArb.map(broadcast), { nil: undefined }),
      sends: fc.uniqueArray(fc.record({ to: idArb, message: messageArb }), { selector: (s) => s.to, maxLength: 4 }),
      snaps: fc.uniqueArray(idArb, { maxLength: 3 }),
      reports: fc.array(
        fc.oneof(
          fc.constant(rejected('propose', 'notLeader', 'b', 2)),
          fc.constant(invalidEvent('event must be an object')),
        ),
        { maxLength: 2 },
      ),
    })
    .map((r) => {
      const out: RaftAction[] = [];
      for (const a of [r.timer, r.hard, r.compact, r.append, r.commit, r.broadcast]) if (a !== undefined) out.push(a);
      for (const s of [...r.sends].sort((x, y) => (x.to < y.to ? -1 : 1))) out.push(send(s.to, s.message));
      for (const to of [...r.snaps].sort()) out.push(installSnapshot(to));
      return out.concat(r.reports);
    });

const reports = (actions: RaftActions): RaftActions => actions.filter((a) => RANK[a.type] === 8);

describe('mergeActions, properties', () => {
  test('the result of merging canonical lists is in canonical order, whatever they hold', () => {
    fc.assert(
      fc.property(canonicalArb(true), canonicalArb(true), (a, b) => {
        const merged = mergeActions(a, b);
        expect(orderProblems(merged)).toEqual([]);
        expect(reports(merged)).toEqual([...reports(a), ...reports(b)]);
      }),
      fcParams('actions: merge keeps canonical order', 500),
    );
  });

  test('the later singles win, commit is the maximum, transfers are the union, stale calls are gone', () => {
    fc.assert(
      fc.property(canonicalArb(false), canonicalArb(false), (a, b) => {
        const merged = mergeActions(a, b);
        const last = <T extends RaftAction['type']>(
          l: RaftActions,
          t: T,
        ): Extract<RaftAction, { type: T }> | undefined => ofType(l, t)[0];
        expect(last(merged, 'setTimer')).toEqual(last(b, 'setTimer') ?? last(a, 'setTimer'));
        expect(last(merged, 'saveHardState')).toEqual(last(b, 'saveHardState') ?? last(a, 'saveHardState'));
        const commits = [...ofType(a, 'commitAdvanced'), ...ofType(b, 'commitAdvanced')].map((c) => c.commitIndex);
        expect(ofType(merged, 'commitAdvanced').map((c) => c.commitIndex)).toEqual(
          commits.length === 0 ? [] : [Math.max(...commits)],
        );
        const transfers = [
          ...new Set([...ofType(a, 'installSnapshot'), ...ofType(b, 'installSnapshot')].map((s) => s.to)),
        ].sort();
        expect(ofType(merged, 'installSnapshot').map((s) => s.to)).toEqual(transfers);
        // Per destination: the later message merged into the earlier one, unless the earlier was a stale call.
        const raised = last(b, 'saveHardState')?.term ?? 0;
        const live = (m: Message): boolean => !(isCall(m) && m.term < raised);
        const bOf = (l: RaftActions): Message | undefined => ofType(l, 'broadcast')[0]?.message;
        const bBefore = bOf(a) !== undefined && live(bOf(a)!) ? bOf(a) : undefined;
        const bAfter = bOf(b);
        expect(bOf(merged)).toEqual(
          bAfter === undefined ? bBefore : bBefore === undefined ? bAfter : mergeMessages(bBefore, bAfter),
        );
        for (const to of ['a', 'b', 'c', 'd', 'e']) {
          const before = ofType(a, 'send').find((s) => s.to === to);
          const after = ofType(b, 'send').find((s) => s.to === to);
          const got = ofType(merged, 'send').find((s) => s.to === to);
          const kept = before !== undefined && live(before.message) ? before.message : undefined;
          const want =
            after === undefined ? kept : kept === undefined ? after.message : mergeMessages(kept, after.message);
          expect(got?.message).toEqual(want);
        }
      }),
      fcParams('actions: merge rules on random lists', 300),
    );
  });

  test('mergeAll equals the left fold of mergeActions', () => {
    fc.assert(
      fc.property(fc.array(canonicalArb(true), { maxLength: 5 }), (lists) => {
        expect(mergeAll(lists)).toEqual(lists.reduce<RaftActions>((acc, l) => mergeActions(acc, l), []));
      }),
      fcParams('actions: mergeAll is the fold'),
    );
  });

  test('neither input is modified', () => {
    fc.assert(
      fc.property(canonicalArb(true), canonicalArb(true), (a, b) => {
        const before = JSON.stringify([a, b]);
        const merged = mergeActions(deepFreeze(a), deepFreeze(b)); // a write to a frozen input would throw
        expect(JSON.stringify([a, b])).toBe(before);
        expect(orderProblems(merged)).toEqual([]);
      }),
      fcParams('actions: inputs untouched'),
    );
  });
});

describe('mergeAll of a run of proposals (built at once) is the left fold of mergeActions', () => {
  // mergeAll joins a run of back-to-back proposals in one pass instead of pairwise; whatever the
  // run holds, the result must be the fold's. Each option set gives the lists another shape: with
  // the timer (basic), without it (defaults), concurrent appends (concurrentLeaderWrites).
  const optionSets: Array<[string, Partial<NodeOptions>]> = [
    ['basic options, each proposal re-arms the heartbeat', BASIC_OPTIONS],
    ['default options, no timer', DEFAULT_OPTIONS],
    ['concurrent leader writes', { ...DEFAULT_OPTIONS, concurrentLeaderWrites: true }],
  ];
  // Proposals of 1-3 commands, with now and then something that is not a plain proposal: a
  // configuration (its run carries a configuration), a heartbeat (a list of another shape).
  const eventArb: fc.Arbitrary<RaftEvent> = fc.oneof(
    { weight: 8, arbitrary: fc.integer({ min: 1, max: 3 }).map((count): RaftEvent => ({ type: 'propose', count })) },
    {
      weight: 1,
      arbitrary: fc.constant<RaftEvent>({ type: 'proposeConfig', config: makeConfig(['a', 'b', 'c'], [], ['d']) }),
    },
    { weight: 1, arbitrary: fc.constant<RaftEvent>({ type: 'heartbeat' }) },
  );

  test.each(optionSets)('%s', (_name, options) => {
    const leader = deepFreeze(threeNodeCluster(options).get('a'));
    expect(leader.role).toBe('leader');
    fc.assert(
      fc.property(fc.array(eventArb, { minLength: 1, maxLength: 12 }), (events) => {
        const lists: RaftActions[] = [];
        let s = leader;
        for (const e of events) {
          const [next, actions] = step(s, e);
          lists.push(actions);
          s = next;
        }
        const folded = lists.reduce<RaftActions>((acc, l) => mergeActions(acc, l), []);
        expect(mergeAll(lists)).toEqual(folded);
        expect(stepAll(leader, events)).toEqual([s, folded]);
      }),
      fcParams(`actions: mergeAll of proposal runs, ${_name}`, 100),
    );
  });
});

describe('pipelining: N proposals stepped back to back merge into one proposal of N', () => {
  function soloLeader(): RaftState {
    return step(startNode('a', BASIC_OPTIONS)[0], { type: 'createCluster', voters: ['a'] })[0];
  }
  function fiveNodeLeader(): RaftState {
    const net = new Net(['a', 'b', 'c', 'd', 'e']);
    net.step('a', { type: 'createCluster', voters: ['a', 'b', 'c', 'd', 'e'] });
    net.deliver();
    net.step('a', { type: 'propose', count: 3 });
    net.deliver(); // commit index 5 on the leader
    return net.get('a');
  }
  const leaders: Array<[string, () => RaftState]> = [
    ['a solo leader (commits at once)', soloLeader],
    ['the leader of three nodes', () => threeNodeCluster().get('a')],
    ['the leader of five nodes, with a commit index', fiveNodeLeader],
  ];

  test.each(leaders)('%s', (_name, makeLeader) => {
    const leader = deepFreeze(makeLeader());
    expect(leader.role).toBe('leader');
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 30 }), (n) => {
        const singles: RaftActions[] = [];
        let s = leader;
        for (let k = 0; k < n; k++) {
          const [next, actions] = step(s, { type: 'propose' });
          singles.push(actions);
          s = next;
        }
        const [batched, once] = step(leader, { type: 'propose', count: n });
        const merged = mergeAll(singles);
        expect(s).toEqual(batched);
        expect(merged).toEqual(once);
        // Spelled out: one append and one broadcast, both holding the n new entries.
        const [append] = ofType(merged, 'appendLog');
        expect(ofType(merged, 'appendLog')).toHaveLength(1);
        expect(prevPosition(append!.entries)).toEqual(lastPosition(leader.log));
        expect(entryCount(append!.entries)).toBe(n);
        for (const b of ofType(merged, 'broadcast')) {
          expect(b.message.type === 'appendEntries' && b.message.entries).toEqual(append!.entries);
        }
      }),
      fcParams(`actions: pipelining, ${_name}`, 30),
    );
  });
});

describe('pipelining fast path', () => {
  /** What a leader's proposal returns: the same run in the append and in the broadcast. */
  const proposal = (commitIndex: number, entries: LogEntries): RaftActions => [
    TIMER_HEARTBEAT,
    appendLog(entries),
    broadcast(appendEntriesCall('a', 2, commitIndex, entries)),
  ];

  test('two proposals merge into one run, with the later commit index', () => {
    const merged = mergeActions(proposal(2, cmds(2, 5, 1)), proposal(3, cmds(2, 6, 2)));
    expect(merged).toEqual(proposal(3, cmds(2, 5, 3)));
  });

  test('gives exactly what the general rules give (copies defeat the shortcut)', () => {
    fc.assert(
      fc.property(
        entriesArb,
        fc.array(buildOpArb, { minLength: 1, maxLength: 4 }),
        fc.nat(9),
        fc.nat(9),
        (e1, ops, c1, c2) => {
          const e2 = ops.reduce(build, emptyEntries(e1.lastTerm, e1.lastIndex));
          const fast = mergeActions(proposal(c1, e1), proposal(c2, e2));
          const general = mergeActions(unshared(proposal(c1, e1)), unshared(proposal(c2, e2)));
          expect(fast).toEqual(general);
        },
      ),
      fcParams('actions: pipelining fast path equals the general rules'),
    );
  });

  // Lists of the proposal shape and lists that only look like it: another first action, a message
  // whose run is not the append's, a run that does not start where the one before ends, another
  // term, a term start, a mix of concurrent and plain appends. The shortcuts (`mergeActions` on
  // two proposals, `mergeAll` on a run of them) must tell them apart and give the general rules'
  // result whatever they get.
  interface Shape {
    readonly first: 'timer' | 'none' | 'hardState' | 'compaction';
    readonly concurrent: boolean;
    readonly otherTerm: boolean;
    readonly anchor: 'end' | 'gap' | 'inside' | 'otherTerm';
    readonly message: 'same' | 'copy' | 'other';
    readonly ops: readonly BuildOp[];
    readonly commitIndex: number;
  }
  /** The lists of `shapes`, each anchored against where the one before ends. */
  function nearProposals(shapes: readonly Shape[]): RaftActions[] {
    let end = { term: 2, index: 4 };
    return shapes.map((sh) => {
      const anchor =
        sh.anchor === 'end'
          ? end
          : sh.anchor === 'gap'
            ? { term: end.term, index: end.index + 2 }
            : sh.anchor === 'inside'
              ? { term: end.term, index: end.index - 1 }
              : { term: end.term + 1, index: end.index };
      const entries = sh.ops.reduce(build, emptyEntries(anchor.term, anchor.index));
      end = lastPosition(entries);
      const carried =
        sh.message === 'same'
          ? entries
          : sh.message === 'copy'
            ? unshared(entries)
            : emptyEntries(anchor.term, anchor.index);
      const tail: RaftAction[] = [
        sh.concurrent ? concurrentAppendLog(entries) : appendLog(entries),
        broadcast(appendEntriesCall('a', sh.otherTerm ? 3 : 2, sh.commitIndex, carried)),
      ];
      if (sh.first === 'timer') return [TIMER_HEARTBEAT, ...tail];
      if (sh.first === 'hardState') return [saveHardState(2, 'a'), ...tail];
      if (sh.first === 'compaction') return [compactLog(1, 2), ...tail];
      return tail;
    });
  }
  /** The shortcuts' results on `lists` equal the general rules' (on copies that share nothing). */
  function expectGeneralRules(lists: readonly RaftActions[]): void {
    const same = (got: RaftActions, want: RaftActions): void => {
      if (!isDeepStrictEqual(got, want)) expect([lists, got]).toEqual([lists, want]); // names the lists
    };
    for (let i = 0; i + 1 < lists.length; i++) {
      same(mergeActions(lists[i]!, lists[i + 1]!), mergeActions(unshared(lists[i]!), unshared(lists[i + 1]!)));
    }
    same(
      mergeAll(lists),
      lists.map(unshared).reduce<RaftActions>((acc, l) => mergeActions(acc, l), []),
    );
  }
  /** Every combination of the values given for each field of a shape. */
  function shapes(choices: { readonly [K in keyof Shape]: readonly Shape[K][] }): Shape[] {
    let out: Shape[] = [{} as Shape];
    for (const key of Object.keys(choices) as (keyof Shape)[]) {
      out = out.flatMap((partial) => choices[key].map((value) => ({ ...partial, [key]: value })));
    }
    return out;
  }

  test('every pair of a proposal-like list and a list that may deviate from it in one or more ways', () => {
    const COMMANDS: readonly BuildOp[] = [{ op: 'commands', n: 2 }];
    const TERM_START: readonly BuildOp[] = [
      { op: 'termStart', delta: 1 },
      { op: 'commands', n: 1 },
    ];
    const firsts = shapes({
      first: ['timer', 'none', 'hardState'],
      concurrent: [false, true],
      otherTerm: [false],
      anchor: ['end'],
      message: ['same', 'other'],
      ops: [COMMANDS, TERM_START],
      commitIndex: [1],
    });
    const seconds = shapes({
      first: ['timer', 'none', 'hardState'],
      concurrent: [false, true],
      otherTerm: [false, true],
      anchor: ['end', 'gap', 'inside', 'otherTerm'],
      message: ['same', 'other'],
      ops: [COMMANDS, TERM_START],
      commitIndex: [2],
    });
    for (const a of firsts) for (const b of seconds) expectGeneralRules(nearProposals([a, b]));
  });

  test('random runs of proposal-like lists merge by the general rules, pairwise and in runs', () => {
    const shapeArb: fc.Arbitrary<Shape> = fc.record({
      first: fc.constantFrom<Shape['first']>(
        'timer',
        'timer',
        'timer',
        'none',
        'none',
        'none',
        'hardState',
        'compaction',
      ),
      concurrent: fc.boolean(),
      otherTerm: fc.constantFrom(false, false, false, false, true),
      anchor: fc.constantFrom<Shape['anchor']>('end', 'end', 'end', 'end', 'end', 'gap', 'inside', 'otherTerm'),
      message: fc.constantFrom<Shape['message']>('same', 'same', 'same', 'same', 'copy', 'other'),
      ops: fc.oneof(
        { weight: 3, arbitrary: fc.integer({ min: 1, max: 3 }).map((n): BuildOp[] => [{ op: 'commands', n }]) },
        { weight: 1, arbitrary: fc.array(buildOpArb, { minLength: 1, maxLength: 3 }) },
      ),
      commitIndex: fc.nat(9),
    });
    fc.assert(
      fc.property(fc.array(shapeArb, { minLength: 2, maxLength: 8 }), (s) => expectGeneralRules(nearProposals(s))),
      fcParams('actions: proposal-like runs merge by the general rules', 300),
    );
  });
});

describe('splitting AppendEntries (noraft message.rs)', () => {
  // t1 @3..4, t2 @5..6, anchored at (1, 2)
  const entries = appendCommands(appendTermStart(appendCommands(emptyEntries(1, 2), 2), 2), 1);
  const msg = appendEntriesCall('a', 2, 3, entries);
  const others: Message[] = [
    requestVote('a', 2, 1, 4),
    requestVoteReply('a', 2, true),
    appendEntriesReply('a', 2, 1, 4),
  ];

  test('truncateAppendEntries keeps at most the first n entries', () => {
    expect(truncateAppendEntries(msg, 0)).toEqual(appendEntriesCall('a', 2, 3, emptyEntries(1, 2)));
    expect(truncateAppendEntries(msg, -3)).toEqual(appendEntriesCall('a', 2, 3, emptyEntries(1, 2)));
    // A count that is not a safe integer counts as 0: the message becomes a heartbeat at its anchor.
    for (const bad of [NaN, 1.5, Infinity]) {
      expect(truncateAppendEntries(msg, bad)).toEqual(appendEntriesCall('a', 2, 3, emptyEntries(1, 2)));
    }
    expect(truncateAppendEntries(msg, 1)).toEqual(appendEntriesCall('a', 2, 3, cmds(1, 2, 1)));
    expect(truncateAppendEntries(msg, 4)).toBe(msg);
    expect(truncateAppendEntries(msg, 100)).toBe(msg);
    for (const m of others) expect(truncateAppendEntries(m, 0)).toBe(m);
  });

  test('stripAppendEntriesPrefix drops the first n entries; the anchor moves forward', () => {
    expect(stripAppendEntriesPrefix(msg, 0)).toBe(msg);
    expect(stripAppendEntriesPrefix(msg, -1)).toBe(msg);
    expect(stripAppendEntriesPrefix(msg, 1)).toEqual(
      appendEntriesCall('a', 2, 3, appendCommands(appendTermStart(appendCommands(emptyEntries(1, 3), 1), 2), 1)),
    );
    expect(stripAppendEntriesPrefix(msg, 3)).toEqual(appendEntriesCall('a', 2, 3, cmds(2, 5, 1)));
    expect(stripAppendEntriesPrefix(msg, 4)).toEqual(appendEntriesCall('a', 2, 3, emptyEntries(2, 6)));
    expect(stripAppendEntriesPrefix(msg, 100)).toEqual(appendEntriesCall('a', 2, 3, emptyEntries(2, 6)));
    for (const m of others) expect(stripAppendEntriesPrefix(m, 1)).toBe(m);
  });

  test('truncate(n) and strip(n) split a message in two that splice back to the original', () => {
    fc.assert(
      fc.property(entriesArb, fc.integer({ min: -1, max: 30 }), fc.nat({ max: 5 }), (e, n, commit) => {
        const m = appendEntriesCall('a', Math.max(e.lastTerm, 1), commit, e);
        const head = truncateAppendEntries(m, n);
        const tail = stripAppendEntriesPrefix(m, n);
        if (head.type !== 'appendEntries' || tail.type !== 'appendEntries') throw new Error('not an AppendEntries');
        for (const part of [head, tail]) {
          expect([part.from, part.term, part.commitIndex]).toEqual([m.from, m.term, m.commitIndex]);
        }
        expect(lastPosition(head.entries)).toEqual(prevPosition(tail.entries));
        expect(entryCount(head.entries)).toBe(Math.min(Math.max(n, 0), entryCount(e)));
        expect(spliceSuffix(head.entries, tail.entries)).toEqual(e);
      }),
      fcParams('messages: truncate + strip split'),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// Merging is transparent for storage, on real traces

type TraceChoice =
  | { readonly t: 'deliver' | 'drop'; readonly k: number }
  | { readonly t: 'timeout' | 'heartbeat' | 'compact' | 'drain'; readonly i: number }
  | { readonly t: 'propose'; readonly i: number; readonly n: number };

const traceChoiceArb: fc.Arbitrary<TraceChoice> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ t: fc.constant('deliver' as const), k: fc.nat(50) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('drop' as const), k: fc.nat(50) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constantFrom('timeout' as const, 'heartbeat' as const, 'compact' as const),
      i: fc.nat(2),
    }),
  },
  { weight: 3, arbitrary: fc.record({ t: fc.constant('drain' as const), i: fc.nat(2) }) },
  {
    weight: 3,
    arbitrary: fc.record({ t: fc.constant('propose' as const), i: fc.nat(2), n: fc.integer({ min: 1, max: 3 }) }),
  },
);

describe('merging is transparent for the application', () => {
  test("storing the merged actions stores what storing each step's actions in turn stores", () => {
    fc.assert(
      fc.property(fc.array(traceChoiceArb, { maxLength: 120, size: 'max' }), (choices) => {
        const ids = ['a', 'b', 'c'];
        const net = new Net(ids);
        const pending = new Map<string, RaftActions[]>(ids.map((id) => [id, []]));
        // What each node's storage holds, carried out the shared host's way (tests/support/host.ts).
        const oneByOne = new Map<string, Disk>(ids.map((id) => [id, freshDisk()]));
        const merged = new Map<string, Disk>(ids.map((id) => [id, freshDisk()]));
        const stepNode = (id: string, event: RaftEvent): void => {
          const [, actions] = net.step(id, event);
          expect(orderProblems(actions)).toEqual([]);
          pending.get(id)!.push(actions);
        };
        const drain = (id: string): void => {
          const lists = pending.get(id)!;
          const all = mergeAll(lists);
          expect(orderProblems(all)).toEqual([]);
          const snapshotConfig = net.get(id).snapshotConfig;
          for (const l of lists) store(oneByOne.get(id)!, l, snapshotConfig);
          store(merged.get(id)!, all, snapshotConfig);
          expect(merged.get(id)).toEqual(oneByOne.get(id));
          pending.set(id, []);
        };
        stepNode('a', { type: 'createCluster', voters: ids });
        for (const c of choices) {
          switch (c.t) {
            case 'deliver':
            case 'drop': {
              if (net.queue.length === 0) break;
              const [e] = net.queue.splice(c.k % net.queue.length, 1);
              if (c.t === 'deliver') stepNode(e!.to, e!.message);
              break;
            }
            case 'drain':
              drain(ids[c.i]!);
              break;
            case 'compact': {
              // Local compaction at the commit index, as an application would do it.
              const s = net.get(ids[c.i]!);
              if (s.commitIndex > s.log.prevIndex) {
                stepNode(s.id, { type: 'snapshotInstalled', ...positionAndConfigAt(s, s.commitIndex)! });
              }
              break;
            }
            case 'propose':
              stepNode(ids[c.i]!, { type: 'propose', count: c.n });
              break;
            case 'timeout':
            case 'heartbeat':
              stepNode(ids[c.i]!, { type: c.t });
              break;
          }
        }
        for (const id of ids) drain(id);
      }),
      fcParams('actions: merged storage equals step-by-step storage', 200),
    );
  });
});
