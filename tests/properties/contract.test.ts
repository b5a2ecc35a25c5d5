/**
 * The contract of `step` on random runs of small clusters: it is pure, never modifies its inputs,
 * deals in plain JSON data, returns the same state for an event that changes nothing, and keeps the
 * state small however long the log grows.
 *
 * The events are the ones a real application produces: `createCluster`, proposals, timeouts,
 * heartbeats, and the messages the nodes actually sent, delivered in any order, duplicated or lost
 * (see `harness.ts`), plus crashes and restarts.
 *
 * (a) Pure: replaying the same events gives deep-equal states and actions.
 * (b) Immutable: with every state and event deep-frozen before stepping, nothing throws and every
 *     result equals the unfrozen run's.
 * (c) Serializable: states and actions are plain JSON data at every step, and a state that went
 *     through `JSON.parse(JSON.stringify(...))` steps exactly like the original.
 * (d) An event that changes nothing returns the same state object.
 * (e) Small state: the state does not grow with the number of commands committed.
 */
import { BASIC_OPTIONS } from '../../src/options.js';
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import {
  restartNode,
  startNode,
  step,
  METRIC_NAMES,
  type Message,
  type RaftEvent,
  type RaftState,
  type StepResult,
} from '../../src/index.js';
import { fcParams } from '../support/seed';
import { deepFreeze } from '../support/freeze';
import { fail, type Stepper } from '../support/host';
import {
  Cluster,
  EXTENDED_WEIGHTS,
  nodeIds,
  notPlainJson,
  scheduleArb,
  type Choice,
  type StepRecord,
  runs,
} from './harness';

const RUNS = 100;
const STEPS = 200;

/** A cluster of `n` nodes of which the first `voters` form it. */
interface Setup {
  readonly n: number;
  readonly voters: number;
}

/** Run `schedule` on a fresh cluster and return the trace of every step. */
function runTrace({ n, voters }: Setup, schedule: readonly Choice[], stepper: Stepper = step): StepRecord[] {
  const ids = nodeIds(n);
  const cluster = new Cluster(ids, { stepper, record: true, voters: ids.slice(0, voters) });
  cluster.stepNode(ids[0]!, { type: 'createCluster', voters: cluster.voters });
  for (const c of schedule) cluster.run(c);
  return cluster.trace;
}

/**
 * A cluster and a schedule: 3 or 5 voters with the basic choices, or 3 voters and 2 spare nodes
 * with membership changes and log compaction as well.
 */
const runArb: fc.Arbitrary<[Setup, Choice[]]> = fc.oneof(
  fc.tuple(fc.constant({ n: 3, voters: 3 }), scheduleArb(STEPS)),
  fc.tuple(fc.constant({ n: 5, voters: 5 }), scheduleArb(STEPS)),
  fc.tuple(fc.constant({ n: 5, voters: 3 }), scheduleArb(STEPS, EXTENDED_WEIGHTS)),
);

function firstDifferentStep(a: readonly StepRecord[], b: readonly StepRecord[]): string {
  if (a.length !== b.length) return `the traces have ${a.length} and ${b.length} steps`;
  for (let i = 0; i < a.length; i++) {
    if (!isDeepStrictEqual(a[i], b[i])) {
      return `step ${i} on ${a[i]!.node} (${JSON.stringify(a[i]!.event)}): ${JSON.stringify([a[i]!.after, a[i]!.actions])} vs ${JSON.stringify([b[i]!.after, b[i]!.actions])}`;
    }
  }
  return 'no difference';
}

describe('contract', () => {
  test('(a) deterministic: the same events give deep-equal states and actions', () => {
    fc.assert(
      fc.property(runArb, ([setup, schedule]) => {
        const first = runTrace(setup, schedule);
        const second = runTrace(setup, schedule);
        if (!isDeepStrictEqual(first, second)) fail(`two runs differ: ${firstDifferentStep(first, second)}`);
        // Replaying the recorded events one by one, node by node, from fresh nodes.
        const states = new Map<string, RaftState>(nodeIds(setup.n).map((id) => [id, startNode(id, BASIC_OPTIONS)[0]]));
        for (const r of first) {
          let result: StepResult;
          if (r.event === null) {
            result = restartNode({
              options: BASIC_OPTIONS,
              id: r.node,
              term: r.after.term,
              votedFor: r.after.votedFor,
              log: r.after.log,
              snapshotConfig: r.after.snapshotConfig,
            });
          } else {
            const before = states.get(r.node)!;
            if (!isDeepStrictEqual(before, r.before)) fail(`replay diverged before ${JSON.stringify(r.event)}`);
            result = step(before, r.event);
          }
          if (!isDeepStrictEqual(result, [r.after, r.actions])) {
            fail(`replaying ${JSON.stringify(r.event)} on ${r.node} gave another result`);
          }
          states.set(r.node, result[0]);
        }
      }),
      fcParams('contract (a) deterministic', runs(RUNS)),
    );
  });

  test('(b) inputs are never mutated: deep-frozen states and events step exactly like unfrozen ones', () => {
    const frozenStep: Stepper = (s, e) => step(deepFreeze(s), deepFreeze(e));
    fc.assert(
      fc.property(runArb, ([setup, schedule]) => {
        const plain = runTrace(setup, schedule);
        let frozen: StepRecord[];
        try {
          frozen = runTrace(setup, schedule, frozenStep);
        } catch (err) {
          fail(`stepping frozen inputs threw: ${String(err)}`);
        }
        if (!isDeepStrictEqual(plain, frozen)) fail(`frozen run differs: ${firstDifferentStep(plain, frozen)}`);
        for (const r of frozen) {
          if (r.before !== null && !Object.isFrozen(r.before)) fail('the harness did not freeze a state');
        }
      }),
      fcParams('contract (b) frozen inputs', runs(RUNS)),
    );
  });

  test('(c) plain JSON, JSON round trip, and (d) no-op events return the same state', () => {
    const noOps = new Map<string, number>();
    let steps = 0;
    const checkedStep: Stepper = (state, event) => {
      steps++;
      const stateText = JSON.stringify(state);
      const eventText = JSON.stringify(event);
      const result = step(state, event);
      const [next, actions] = result;
      // The inputs are unchanged.
      if (JSON.stringify(state) !== stateText || JSON.stringify(event) !== eventText) fail('step modified its inputs');
      // States, events and actions are plain JSON data.
      const problem = notPlainJson(next, 'state') ?? notPlainJson(actions, 'actions') ?? notPlainJson(event, 'event');
      if (problem !== null) fail(`not plain JSON after ${eventText}: ${problem}`);
      // A JSON round trip of the state steps identically (and so does one of the event).
      for (const copy of [event, JSON.parse(eventText) as RaftEvent]) {
        const again = step(JSON.parse(stateText) as RaftState, copy);
        if (!isDeepStrictEqual(again, result)) {
          fail(
            `the JSON copy stepped differently on ${eventText}: ${JSON.stringify(again)} vs ${JSON.stringify(result)}`,
          );
        }
      }
      // A result deep-equal to the input is the input itself.
      if (next !== state && isDeepStrictEqual(next, state)) {
        fail(`${state.role} ${state.id} returned an equal but new state for ${eventText}`);
      }
      if (next === state) {
        const key = `${state.role}:${event.type}`;
        noOps.set(key, (noOps.get(key) ?? 0) + 1);
      }
      return result;
    };
    fc.assert(
      fc.property(runArb, ([setup, schedule]) => {
        runTrace(setup, schedule, checkedStep);
      }),
      fcParams('contract (c)+(d) per step', runs(RUNS)),
    );
    // eslint-disable-next-line no-console
    console.log(`[coverage] (c)+(d): ${steps} steps; same-state results by role:event ${JSON.stringify([...noOps])}`);
    if (process.env.FC_PATH) return;
    // The no-op check is not vacuous: these events commonly change nothing.
    expect(noOps.get('follower:heartbeat') ?? 0).toBeGreaterThan(0);
    expect(noOps.get('follower:appendEntries') ?? 0).toBeGreaterThan(0);
    expect(noOps.get('leader:appendEntriesReply') ?? 0).toBeGreaterThan(0);
  });

  describe('(d) specific no-op events', () => {
    /** A settled 3-node cluster: a leader, two followers, the last AppendEntries each follower got. */
    function settled(): { cluster: Cluster; leader: RaftState; followers: RaftState[]; lastAE: Map<string, Message> } {
      const ids = nodeIds(3);
      const cluster = new Cluster(ids, { record: true });
      cluster.stepNode('n1', { type: 'createCluster', voters: ids });
      cluster.settle();
      cluster.stepNode('n1', { type: 'propose', count: 5 });
      cluster.settle();
      cluster.stepNode('n1', { type: 'heartbeat' }); // the followers learn the commit index
      cluster.settle();
      const lastAE = new Map<string, Message>();
      for (const r of cluster.trace) if (r.event?.type === 'appendEntries') lastAE.set(r.node, r.event);
      const leader = cluster.leader()!;
      expect(leader.id).toBe('n1');
      for (const id of ['n2', 'n3']) expect(cluster.state(id).commitIndex).toBe(leader.commitIndex);
      return { cluster, leader, followers: ['n2', 'n3'].map((id) => cluster.state(id)), lastAE };
    }

    test('a heartbeat or a proposal on a follower is refused and returns the same state', () => {
      const { followers } = settled();
      for (const f of followers) {
        const [a] = step(f, { type: 'heartbeat' });
        expect(a).toBe(f);
        const [b, actions] = step(f, { type: 'propose', count: 2 });
        expect(b).toBe(f);
        expect(actions).toEqual([
          { type: 'rejected', request: 'propose', reason: 'notLeader', leaderHint: 'n1', count: 2, id: null },
        ]);
      }
    });

    test('a vote reply to a follower only counts it in the metrics', () => {
      const { followers, leader } = settled();
      const f = followers[0]!;
      const [next, actions] = step(f, { type: 'requestVoteReply', from: 'n3', term: leader.term, granted: true });
      expect(actions).toEqual([]);
      expect({ ...next, metrics: f.metrics }).toEqual(f);
      expect(next.metrics.requestVoteRepliesIgnoredWhileNotCandidate).toBe(
        f.metrics.requestVoteRepliesIgnoredWhileNotCandidate + 1,
      );
    });

    test('a duplicate AppendEntries that changes nothing returns the same state', () => {
      const { followers, lastAE } = settled();
      for (const f of followers) {
        const ae = lastAE.get(f.id)!;
        const [next, actions] = step(f, ae);
        expect(next).toEqual(f);
        expect(next).toBe(f);
        // It is still answered (the first reply may have been lost) and re-arms the timer.
        expect(actions.map((a) => a.type)).toEqual(['setTimer', 'send']);
      }
    });

    test('a heartbeat from the leader to an up-to-date follower returns the same state', () => {
      const { followers, leader } = settled();
      const [, actions] = step(leader, { type: 'heartbeat' });
      const hb = actions.find((a) => a.type === 'broadcast');
      expect(hb).toBeDefined();
      for (const f of followers) {
        const [next] = step(f, (hb as { message: Message }).message);
        expect(next).toBe(f);
      }
    });

    test('a repeated AppendEntries reply on the leader returns the same state', () => {
      const { cluster, leader } = settled();
      const reply = [...cluster.trace].reverse().find((r) => r.event?.type === 'appendEntriesReply')!.event!;
      const [next, actions] = step(leader, reply);
      expect(next).toBe(leader);
      expect(actions).toEqual([]);
    });
  });

  describe('(e) the state does not grow with the number of commands', () => {
    /** Commit `batches` proposals on a 3-node cluster and return every node's final state. */
    function commitBatches(batches: readonly number[]): RaftState[] {
      const ids = nodeIds(3);
      const cluster = new Cluster(ids);
      cluster.stepNode('n1', { type: 'createCluster', voters: ids });
      cluster.settle();
      for (const count of batches) {
        cluster.stepNode('n1', { type: 'propose', count });
        cluster.settle();
      }
      return ids.map((id) => cluster.state(id));
    }
    const digitsOnly = (s: RaftState): string => JSON.stringify(s).replace(/[0-9]+/g, '#');

    test('1,000 vs 100,000 committed commands: the leader states differ only in the digits of numbers', () => {
      const small = commitBatches(Array.from({ length: 10 }, () => 100));
      const large = commitBatches(Array.from({ length: 10 }, () => 10_000));
      const [ls, ll] = [small[0]!, large[0]!];
      expect(ls.role).toBe('leader');
      expect(ll.commitIndex).toBe(ls.commitIndex + 99_000);
      expect(ll.commitIndex).toBeGreaterThan(100_000);
      expect(digitsOnly(ll)).toBe(digitsOnly(ls));
      // Each of the (at most three) numbers that count entries gains two digits.
      const growth = JSON.stringify(ll).length - JSON.stringify(ls).length;
      expect(growth).toBeGreaterThan(0);
      expect(growth).toBeLessThanOrEqual(2 * 10);
      expect(JSON.stringify(ll).length).toBeLessThan(2_000);
      for (let k = 1; k < 3; k++) expect(digitsOnly(large[k]!)).toBe(digitsOnly(small[k]!));
    });

    test('for any batching, 100 times more commands give states of the same shape', () => {
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 1, maxLength: 8 }), (batches) => {
          const small = commitBatches(batches);
          const large = commitBatches(batches.map((b) => b * 100));
          for (let k = 0; k < 3; k++) {
            if (digitsOnly(small[k]!) !== digitsOnly(large[k]!)) {
              fail(`node ${k + 1}: ${JSON.stringify(small[k])} vs ${JSON.stringify(large[k])}`);
            }
          }
          // Only the counters of entries change; every metric is the same.
          for (let k = 0; k < 3; k++) {
            for (const m of METRIC_NAMES) expect(large[k]!.metrics[m]).toBe(small[k]!.metrics[m]);
          }
        }),
        fcParams('contract (e) state size', runs(50)),
      );
    });
  });
});
