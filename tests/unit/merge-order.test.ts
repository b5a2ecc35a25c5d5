/**
 * `mergeActions` on action lists merged in any order, not only the order of the steps that produced
 * them. `mergeActions` is public: an application may merge whatever lists it holds, in whatever
 * order, and the result must still be something it can carry out — above all, no message that a
 * receiver's `step` would answer with `invalidEvent`.
 *
 * The case that needs a rule: `later` installs a snapshot (`compactLog`) of a newer term than some of
 * `earlier`'s messages, without the term-raising `saveHardState` that would have dropped the stale
 * calls (that one came in a list between the two, left out of the merge). Rebasing a message of term
 * 10 onto a snapshot of term 12 would make it claim a position of term 12, which `validateEvent`
 * refuses. The rule: a message of a term older than the snapshot's is stale and is dropped, whatever
 * its kind (see `mergeActions`).
 */
import { BASIC_OPTIONS } from '../../src/options.js';
import fc from 'fast-check';
import {
  TIMER_FOLLOWER,
  TIMER_HEARTBEAT,
  appendLog,
  broadcast,
  compactLog,
  mergeActions,
  mergeAll,
  saveHardState,
  send,
  type RaftActions,
} from '../../src/actions.js';
import type { RaftEvent } from '../../src/events.js';
import { appendCommands, appendTermStart, commandsAfter, emptyEntries } from '../../src/log.js';
import {
  appendEntriesCall,
  appendEntriesReply,
  requestVote,
  requestVoteReply,
  type Message,
} from '../../src/messages.js';
import { startNode } from '../../src/node.js';
import { positionAndConfigAt, type StepResult } from '../../src/state.js';
import { step } from '../../src/step.js';
import { validateEvent } from '../../src/validate.js';
import { Cluster, EXTENDED_WEIGHTS, choiceArb, nodeIds, runs, type ChoiceWeights } from '../properties/harness';
import { fcParams } from '../support/seed';
import { deepFreeze } from '../support/freeze';
import { Net, ofType, orderProblems } from './support';

/** The messages of a list, as sent (broadcasts and sends). */
function messagesOf(actions: RaftActions): Message[] {
  const out: Message[] = [];
  for (const a of actions) if (a.type === 'broadcast' || a.type === 'send') out.push(a.message);
  return out;
}

/** Why each message of `actions` is malformed (empty when every one is well-formed). */
function malformed(actions: RaftActions): string[] {
  const problems: string[] = [];
  for (const m of messagesOf(actions)) {
    const p = validateEvent(m);
    if (p !== null) problems.push(`${p}: ${JSON.stringify(m)}`);
  }
  return problems;
}

describe('a later compaction of a newer term than an earlier message', () => {
  test('regression: a term-10 AppendEntries merged with a term-12 compaction is dropped, not rebased into a malformed message', () => {
    const entries = commandsAfter(10, 40, 5); // (10,40) .. (10,45)
    const call = appendEntriesCall('a', 10, 40, entries);
    const earlier: RaftActions = deepFreeze([TIMER_HEARTBEAT, appendLog(entries), broadcast(call), send('c', call)]);
    const later: RaftActions = deepFreeze([compactLog(12, 50)]);
    const merged = mergeActions(earlier, later);
    expect(malformed(merged)).toEqual([]);
    // A receiver steps whatever the merged list sends; none of it may be refused as malformed.
    for (const m of messagesOf(merged)) {
      const [, actions] = step(startNode('b', BASIC_OPTIONS)[0], m);
      expect(ofType(actions, 'invalidEvent')).toEqual([]);
    }
    // The append lies wholly under the snapshot and the call is stale: only the compaction is left.
    expect(merged).toEqual([TIMER_HEARTBEAT, compactLog(12, 50)]);
  });

  test('every message kind of an older term is dropped alike; those of the snapshot term or newer are rebased', () => {
    const old: RaftActions = [
      broadcast(requestVote('a', 10, 10, 45)),
      send('b', appendEntriesCall('a', 10, 40, commandsAfter(10, 40, 5))),
      send('c', appendEntriesReply('a', 10, 10, 45)),
      send('d', requestVoteReply('a', 10, true)),
    ];
    const merged = mergeActions(deepFreeze(old), deepFreeze([compactLog(12, 50)]));
    expect(merged).toEqual([compactLog(12, 50)]);

    const current: RaftActions = [
      broadcast(requestVote('a', 12, 10, 45)),
      send('b', appendEntriesCall('a', 12, 40, commandsAfter(10, 40, 5))),
      send('c', appendEntriesReply('a', 12, 10, 45)),
      send('d', requestVoteReply('a', 12, true)),
    ];
    expect(mergeActions(deepFreeze(current), deepFreeze([compactLog(12, 50)]))).toEqual([
      compactLog(12, 50),
      broadcast(requestVote('a', 12, 12, 50)),
      send('b', appendEntriesCall('a', 12, 40, emptyEntries(12, 50))),
      send('c', appendEntriesReply('a', 12, 12, 50)),
      send('d', requestVoteReply('a', 12, true)),
    ]);
  });

  test('a message of an older term above the snapshot index is dropped too: the rule is about terms, not positions', () => {
    // A reply of term 1 reporting (1,9): an index above the snapshot's (2,5), but a position behind
    // it (a lower term), which a rebase could not raise to the snapshot's without exceeding term 1.
    const merged = mergeActions([send('q', appendEntriesReply('x', 1, 1, 9))], [compactLog(2, 5)]);
    expect(merged).toEqual([compactLog(2, 5)]);
  });

  test('the same list merged in step order: a term raise in between drops the stale call first, with the same result for it', () => {
    const call = appendEntriesCall('a', 10, 40, commandsAfter(10, 40, 5));
    const first: RaftActions = [TIMER_HEARTBEAT, broadcast(call)];
    const raise: RaftActions = [TIMER_FOLLOWER, saveHardState(12, 'b')];
    const snapshot: RaftActions = [compactLog(12, 50)];
    const inOrder = mergeAll([first, raise, snapshot]);
    const skipping = mergeActions(first, snapshot);
    expect(messagesOf(inOrder)).toEqual([]);
    expect(messagesOf(skipping)).toEqual(messagesOf(inOrder));
  });

  test('stepped: a deposed leader merges its last proposal with a later compaction on the new leader term', () => {
    // Every step's actions, per node (deliveries included).
    class Recording extends Net {
      readonly lists = new Map<string, RaftActions[]>();
      override step(id: string, event: RaftEvent): StepResult {
        const result = super.step(id, event);
        this.lists.set(id, [...(this.lists.get(id) ?? []), result[1]]);
        return result;
      }
    }
    const net = new Recording(['a', 'b', 'c']);
    net.step('a', { type: 'createCluster', voters: ['a', 'b', 'c'] });
    net.deliver(); // a leads term 1; (1,2) committed
    // a proposes (1,3); the proposal never reaches anyone.
    const [, proposal] = net.step('a', { type: 'propose' });
    net.drop();
    expect(messagesOf(proposal).map((m) => m.term)).toEqual([1]);
    // b is elected in term 2, overwrites a's (1,3) with its own term start (2,3), and commits it.
    net.step('b', { type: 'timeout' });
    net.deliver();
    net.step('b', { type: 'heartbeat' });
    net.deliver();
    const a = net.get('a');
    expect([a.term, a.role, a.commitIndex]).toEqual([2, 'follower', 3]);
    // a snapshots its state machine at its commit index (2,3).
    const [, compaction] = net.step('a', { type: 'snapshotInstalled', ...positionAndConfigAt(a, a.commitIndex)! });
    expect(compaction).toEqual([compactLog(2, 3)]);
    // Merged out of order (without the term-2 steps between them): the stale call is gone.
    const merged = mergeActions(deepFreeze(proposal), deepFreeze(compaction));
    expect(malformed(merged)).toEqual([]);
    expect(messagesOf(merged)).toEqual([]);
    // In step order the term raise drops the call too.
    const all = net.lists.get('a')!;
    const inOrder = mergeAll(all.slice(all.indexOf(proposal)));
    expect(malformed(inOrder)).toEqual([]);
    expect(messagesOf(inOrder).filter((m) => m.term < 2)).toEqual([]);
  });

  test('a compaction of the same term still rebases an AppendEntries onto the snapshot', () => {
    const e = appendCommands(appendTermStart(emptyEntries(1, 4), 2), 3); // (2,5) term start, 6..8 commands
    const merged = mergeActions([broadcast(appendEntriesCall('a', 2, 4, e))], [compactLog(2, 6)]);
    expect(merged).toEqual([compactLog(2, 6), broadcast(appendEntriesCall('a', 2, 4, commandsAfter(2, 6, 2)))]);
  });
});

// ---------------------------------------------------------------------------------------------
// Property: real action lists, merged in arbitrary orders

/** An action list under merge, with the range of steps it stems from (by position in the trace). */
interface Item {
  readonly actions: RaftActions;
  readonly first: number;
  readonly last: number;
  /** The node whose step gave the list; null for a merge result. */
  readonly node: string | null;
}

/** Elections, compaction and restarts more often than in the safety schedules: terms must move. */
const WEIGHTS: ChoiceWeights = { ...EXTENDED_WEIGHTS, timeout: 10, compact: 8, restart: 3 };

/** Schedules long enough for several terms and compactions. */
const longScheduleArb = fc.array(choiceArb(WEIGHTS), { minLength: 60, maxLength: 200, size: 'max' });

/**
 * A list to merge: the `k`-th list of the pool (modulo its length), or of the pool's lists that
 * compact the log, or of those holding a message of a term older than the newest compaction of the
 * pool: the lists the rebase rules are about (each kind falls back to the whole pool when it has
 * none).
 */
const pickArb = fc.record({
  kind: fc.constantFrom('any' as const, 'compacting' as const, 'older' as const),
  k: fc.nat({ max: 10_000 }),
});

/** A merge: the lists at `i` and `j` (modulo the pool) merged as `(earlier, later)`. */
const mergeOpArb = fc.record({ i: fc.nat({ max: 99 }), j: fc.nat({ max: 99 }) });

describe('merging real action lists in any order', () => {
  test('the result holds only well-formed messages, is canonical, leaves its inputs alone and never throws', () => {
    const coverage = { merges: 0, outOfOrder: 0, olderThanSnapshot: 0, crossNode: 0 };
    fc.assert(
      fc.property(
        longScheduleArb,
        fc.option(fc.nat({ max: 2 }), { nil: null }), // one node's lists, or every node's
        fc.array(pickArb, { minLength: 2, maxLength: 14 }),
        fc.array(mergeOpArb, { maxLength: 16 }),
        (schedule, node, picks, ops) => {
          const ids = nodeIds(3);
          const cluster = new Cluster(ids, { record: true });
          cluster.stepNode(ids[0]!, { type: 'createCluster', voters: ids });
          for (const c of schedule) cluster.run(c);
          // Step and restart records alike; frozen, so that any write to an input throws.
          const trace = cluster.trace.map((r, k) => ({ node: r.node, k, actions: deepFreeze(r.actions) }));
          const pool = node === null ? trace : trace.filter((r) => r.node === ids[node]);
          if (pool.length === 0) return;
          const compacting = pool.filter((r) => ofType(r.actions, 'compactLog').length > 0);
          const snapshotTerm = Math.max(0, ...compacting.map((r) => ofType(r.actions, 'compactLog')[0]!.term));
          const older = pool.filter((r) => messagesOf(r.actions).some((m) => m.term < snapshotTerm));
          const items: Item[] = picks.map((p) => {
            const kind = p.kind === 'compacting' ? compacting : p.kind === 'older' ? older : pool;
            const from = kind.length > 0 ? kind : pool;
            const r = from[p.k % from.length]!;
            return { actions: r.actions, first: r.k, last: r.k, node: r.node };
          });
          const merge = (x: Item, y: Item): Item => {
            const before = JSON.stringify([x.actions, y.actions]);
            let merged: RaftActions;
            try {
              merged = mergeActions(x.actions, y.actions);
            } catch (err) {
              throw new Error(`mergeActions threw on ${before}: ${String(err)}`, { cause: err });
            }
            expect(JSON.stringify([x.actions, y.actions])).toBe(before);
            const fail = (problem: string): never => {
              throw new Error(`${problem} in mergeActions(${before.slice(1, -1)}) = ${JSON.stringify(merged)}`);
            };
            const problems = [...malformed(merged), ...orderProblems(merged)];
            if (problems.length > 0) fail(problems.join('; '));
            // The rule itself: one step's compaction leaves no message of an older term in the result
            // (that step's own messages are of its node's term, at least the snapshot's).
            const snap = ofType(y.actions, 'compactLog')[0];
            if (snap !== undefined) {
              if (messagesOf(x.actions).some((m) => m.term < snap.term)) coverage.olderThanSnapshot++;
              if (y.node !== null && messagesOf(merged).some((m) => m.term < snap.term)) {
                fail(`a message older than the snapshot term ${snap.term} survived`);
              }
            }
            coverage.merges++;
            if (y.first < x.last) coverage.outOfOrder++;
            if (x.node !== null && y.node !== null && x.node !== y.node) coverage.crossNode++;
            return {
              actions: deepFreeze(merged),
              first: Math.min(x.first, y.first),
              last: Math.max(x.last, y.last),
              node: null,
            };
          };
          // Arbitrary merge trees: each operation merges two lists of the pool into one.
          for (const op of ops) {
            if (items.length < 2) break;
            const i = op.i % items.length;
            let j = op.j % items.length;
            if (j === i) j = (j + 1) % items.length;
            items[i] = merge(items[i]!, items[j]!);
            items.splice(j, 1);
          }
          // Then the rest, left to right.
          items.reduce((acc, it) => merge(acc, it));
        },
      ),
      fcParams('merge order: arbitrary merges of real action lists', runs(200)),
    );
    // eslint-disable-next-line no-console
    console.log(`[coverage] merge order: ${JSON.stringify(coverage)}`);
    if (process.env.FC_PATH) return;
    expect(coverage.outOfOrder).toBeGreaterThan(300);
    expect(coverage.olderThanSnapshot).toBeGreaterThan(20);
    expect(coverage.crossNode).toBeGreaterThan(10);
  });
});
