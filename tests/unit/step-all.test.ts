/**
 * `stepAll` (src/step.ts): stepping a list of events gives exactly the left fold of `step` and
 * `mergeActions`, on any state and any events. `stepAll` takes a shortcut for runs of proposals on
 * a leader (one proposal of their sum, see `joinableCommands` in src/replication.ts); these
 * properties are what allows it, so the states here are chosen to sit on the shortcut's edges:
 * followers near the flow-control limit or being probed, reads pending, a transfer under way, a
 * single voter, a leader that lost its leadership, a log near its last index.
 */
import fc from 'fast-check';
import { mergeActions, type RaftActions } from '../../src/actions.js';
import { makeConfig } from '../../src/config.js';
import type { RaftEvent } from '../../src/events.js';
import { MAX_INDEX, RESERVED_INDICES } from '../../src/log.js';
import { BASIC_OPTIONS, DEFAULT_OPTIONS, type NodeOptions } from '../../src/options.js';
import { joinableCommands } from '../../src/replication.js';
import { halt, type RaftState, type StepResult } from '../../src/state.js';
import { step, stepAll } from '../../src/step.js';
import { deepFreeze } from '../support/freeze';
import { fcParams } from '../support/seed';
import { Net } from './support';

/** The oracle: each event stepped on its own, the lists merged pairwise from the left. */
function foldSteps(state: RaftState, events: readonly RaftEvent[]): StepResult {
  let s = state;
  let acc: RaftActions = [];
  for (const e of events) {
    const [next, actions] = step(s, e);
    acc = mergeActions(acc, actions);
    s = next;
  }
  return [s, acc];
}

const IDS = ['a', 'b', 'c', 'd', 'e'];

/** What happens to the cluster before the events under test reach node `a`. */
type HistoryOp =
  | { readonly op: 'propose'; readonly count: number }
  | { readonly op: 'deliver'; readonly n: number }
  | { readonly op: 'dropTo'; readonly to: string }
  | { readonly op: 'event'; readonly to: string; readonly event: RaftEvent };

const historyOpArb: fc.Arbitrary<HistoryOp> = fc.oneof(
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 6 }).map((count): HistoryOp => ({ op: 'propose', count })) },
  { weight: 4, arbitrary: fc.integer({ min: 1, max: 12 }).map((n): HistoryOp => ({ op: 'deliver', n })) },
  { weight: 1, arbitrary: fc.constantFrom(...IDS).map((to): HistoryOp => ({ op: 'dropTo', to })) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(
        fc.constantFrom(...IDS),
        fc.constantFrom<RaftEvent>(
          { type: 'heartbeat' },
          { type: 'timeout' },
          { type: 'read', id: 'r0' },
          { type: 'transferLeadership', to: 'b' },
        ),
      )
      .map(([to, event]): HistoryOp => ({ op: 'event', to, event })),
  },
);

/** Node `a` after `a` formed a cluster of `size` and `history` happened; the messages left in flight to it. */
function nodeAfter(
  size: number,
  options: Partial<NodeOptions>,
  history: readonly HistoryOp[],
): { a: RaftState; inbox: RaftEvent[] } {
  const ids = IDS.slice(0, size);
  const net = new Net(ids, options);
  net.step('a', { type: 'createCluster', voters: ids });
  net.deliver();
  for (const h of history) {
    if (h.op === 'propose') net.step('a', { type: 'propose', count: h.count });
    else if (h.op === 'deliver') {
      for (let k = 0; k < h.n && net.queue.length > 0; k++) {
        const e = net.queue.shift()!;
        net.step(e.to, e.message);
      }
    } else if (h.op === 'dropTo') net.drop((e) => e.to === h.to);
    else if (ids.includes(h.to)) net.step(h.to, h.event);
  }
  return { a: net.get('a'), inbox: net.queue.filter((e) => e.to === 'a').map((e) => e.message) };
}

/** The events under test: mostly proposals, with everything that can break a run in between. */
function eventsArb(inbox: readonly RaftEvent[]): fc.Arbitrary<RaftEvent[]> {
  const others: Array<fc.Arbitrary<RaftEvent>> = [
    fc.constantFrom<RaftEvent>(
      { type: 'heartbeat' },
      { type: 'timeout' },
      { type: 'read', id: 'r1' },
      { type: 'transferLeadership', to: 'c' },
      { type: 'proposeConfig', config: makeConfig(['a', 'b', 'c'], [], ['d']) },
    ),
    // Malformed proposals and events: each is reported on its own and ends a run.
    fc.constantFrom<unknown>(
      { type: 'propose', count: 0 },
      { type: 'propose', count: 'x' },
      null,
      42,
      {
        type: 'propose',
        get count(): number {
          throw new Error('unreadable count');
        },
      },
      {
        get type(): string {
          throw new Error('unreadable type');
        },
      },
    ) as fc.Arbitrary<RaftEvent>,
  ];
  if (inbox.length > 0) others.push(fc.constantFrom(...inbox));
  return fc.array(
    fc.oneof(
      { weight: 10, arbitrary: fc.integer({ min: 1, max: 4 }).map((count): RaftEvent => ({ type: 'propose', count })) },
      { weight: 2, arbitrary: fc.constant<RaftEvent>({ type: 'propose' }) },
      { weight: 3, arbitrary: fc.oneof(...others) },
    ),
    { minLength: 0, maxLength: 16 },
  );
}

const optionSets: Array<[string, Partial<NodeOptions>]> = [
  ['basic options (no flow control; every append re-arms the heartbeat)', BASIC_OPTIONS],
  ['default options', DEFAULT_OPTIONS],
  ['a window of 3 entries in flight', { ...DEFAULT_OPTIONS, maxInflightEntries: 3, maxEntriesPerAppend: 2 }],
  [
    'a window of 8, concurrent leader writes',
    { ...DEFAULT_OPTIONS, maxInflightEntries: 8, concurrentLeaderWrites: true },
  ],
  ['flow control off', { ...DEFAULT_OPTIONS, flowControl: false }],
];

describe('stepAll is the left fold of step and mergeActions', () => {
  test.each(optionSets)('%s', (name, options) => {
    let joinable = 0;
    let cases = 0;
    const scenario = fc
      .record({
        size: fc.constantFrom(1, 3, 5),
        history: fc.array(historyOpArb, { maxLength: 14 }),
        halted: fc.integer({ min: 0, max: 9 }).map((n) => n === 0),
      })
      .chain(({ size, history, halted }) => {
        const { a, inbox } = nodeAfter(size, options, history);
        const given = halted ? halt(a, 'halted by the test') : a;
        return fc.record({ a: fc.constant(deepFreeze(given)), events: eventsArb(inbox) });
      });
    fc.assert(
      fc.property(scenario, ({ a, events }) => {
        cases++;
        if (joinableCommands(a) > 0) joinable++;
        expect(stepAll(a, events)).toEqual(foldSteps(a, events));
      }),
      fcParams(`stepAll: the fold of step, ${name}`, 150),
    );
    process.stdout.write(`[coverage] stepAll, ${name}: ${joinable} of ${cases} states could join a run\n`);
  });

  test('a run is cut where the log runs out of room for commands; the rest is refused one by one', () => {
    const net = new Net(['a', 'b', 'c'], { ...DEFAULT_OPTIONS, flowControl: false });
    net.step('a', { type: 'createCluster', voters: ['a', 'b', 'c'] });
    net.deliver();
    const room = MAX_INDEX - RESERVED_INDICES - net.get('a').log.lastIndex;
    // Undelivered: with flow control off, entries in flight do not bound a run.
    net.step('a', { type: 'propose', count: room - 5 });
    const a = deepFreeze(net.get('a'));
    expect(joinableCommands(a)).toBe(5);
    const events: RaftEvent[] = [2, 2, 2, 1, 1].map((count) => ({ type: 'propose', count }));
    const [after, actions] = stepAll(a, events);
    expect([after, actions]).toEqual(foldSteps(a, events));
    // 2 + 2 fit, then the proposal of 2 does not (1 index left), the next 1 does, the last does not.
    expect(after.log.lastIndex).toBe(MAX_INDEX - RESERVED_INDICES);
    expect(actions.filter((x) => x.type === 'invalidEvent')).toHaveLength(2);
  });

  test('a run is cut where flow control would pause a follower; the rest skips it', () => {
    // Window of 4 entries; follower c never answers, so after 4 entries in flight it is paused.
    const options = { ...DEFAULT_OPTIONS, maxInflightEntries: 4 };
    const net = new Net(['a', 'b', 'c'], options);
    net.step('a', { type: 'createCluster', voters: ['a', 'b', 'c'] });
    net.deliver();
    const a = deepFreeze(net.get('a'));
    expect(joinableCommands(a)).toBe(4);
    const events: RaftEvent[] = Array.from({ length: 7 }, (): RaftEvent => ({ type: 'propose' }));
    const [after, actions] = stepAll(a, events);
    expect([after, actions]).toEqual(foldSteps(a, events));
    // The first four go to both followers in one broadcast; the last three to no one (both paused).
    expect(actions.map((x) => x.type)).toEqual(['appendLog', 'broadcast']);
    const broadcast = actions[1]!;
    expect(
      broadcast.type === 'broadcast' &&
        broadcast.message.type === 'appendEntries' &&
        broadcast.message.entries.lastIndex,
    ).toBe(a.log.lastIndex + 4);
    expect(after.log.lastIndex).toBe(a.log.lastIndex + 7);
    expect(joinableCommands(after)).toBe(0);
  });
});

describe('stepAll reads the events of a joined run once', () => {
  // A proposal whose fields count their reads. `step` reads an event's fields once; stepAll reads
  // each event of a run it joins once too (its type and count), and steps a list of one event as
  // `step` does. (A lone proposal followed by other events is read once to look for a run, and
  // once more by `step`.)
  function counted(reads: number[], k: number): RaftEvent {
    return {
      get type(): 'propose' {
        reads[k]!++;
        return 'propose';
      },
      get count(): number {
        reads[k]!++;
        return 1;
      },
    } as RaftEvent;
  }

  test.each([
    ['one proposal alone', [], 1, []],
    ['a run of two', [], 2, []],
    ['a run of six', [], 6, []],
    [
      'a run after a heartbeat, then a lone proposal after another',
      [{ type: 'heartbeat' }],
      2,
      [{ type: 'heartbeat' }],
    ],
  ] as Array<[string, RaftEvent[], number, RaftEvent[]]>)('%s', (_name, before, n, after) => {
    const net = new Net(['a', 'b', 'c'], DEFAULT_OPTIONS);
    net.step('a', { type: 'createCluster', voters: ['a', 'b', 'c'] });
    net.deliver();
    const a = deepFreeze(net.get('a'));
    const reads = Array.from({ length: n + 1 }, () => 0);
    const run = Array.from({ length: n }, (_, k) => counted(reads, k));
    const events = [...before, ...run, ...after, ...(after.length > 0 ? [counted(reads, n)] : [])];
    const result = stepAll(a, events);
    // Each field read once: type and count.
    expect(reads.slice(0, n)).toEqual(run.map(() => 2));
    if (after.length > 0) expect(reads[n]).toBe(2);
    const plain = events.map((e) => (before.includes(e) || after.includes(e) ? e : { type: 'propose' as const }));
    expect(result).toEqual(foldSteps(a, plain));
  });

  test('up to the exact edge of the flow-control window', () => {
    const net = new Net(['a', 'b', 'c'], { ...DEFAULT_OPTIONS, maxInflightEntries: 4 });
    net.step('a', { type: 'createCluster', voters: ['a', 'b', 'c'] });
    net.deliver();
    const a = deepFreeze(net.get('a'));
    expect(joinableCommands(a)).toBe(4);
    const reads = [0, 0, 0, 0];
    stepAll(
      a,
      reads.map((_, k) => counted(reads, k)),
    );
    expect(reads).toEqual([2, 2, 2, 2]);
  });
});
