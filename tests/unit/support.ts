/**
 * Shared helpers of the unit tests: a tiny hand-driven network, and arbitraries for log runs,
 * configurations and messages. Not a test file (jest only runs `*.test.ts`).
 */
import fc from 'fast-check';
import { appendCommands, appendConfig, appendTermStart, emptyEntries, type LogEntries } from '../../src/log.js';
import { makeConfig, withNonVoters, type ClusterConfig } from '../../src/config.js';
import type { RaftAction, RaftActions } from '../../src/actions.js';
import type { RaftEvent } from '../../src/events.js';
import type { Message } from '../../src/messages.js';
import { latestConfig, type RaftState, type StepResult } from '../../src/state.js';
import { deepFreeze } from '../support/freeze';
import { Host } from '../support/host';
import { BASIC_OPTIONS, type NodeOptions } from '../../src/options.js';

// ---------------------------------------------------------------------------------------------
// A hand-driven network

/** A message on the wire. */
export interface Envelope {
  readonly from: string;
  readonly to: string;
  readonly message: Message;
}

/**
 * Nodes plus a FIFO of messages in flight. Nothing happens unless a test says so: `step` a node,
 * `deliver` the messages a predicate selects (including the ones their delivery produces), `drop`
 * or `take` messages. The nodes run on the shared test host (tests/support/host.ts), which carries
 * out their actions (storage durable at once, before the messages leave); the unit tests only look
 * at states, actions and messages. Snapshot transfers are not modelled: they are not delivered.
 */
export class Net {
  private readonly host: Host;
  queue: Envelope[] = [];

  constructor(ids: readonly string[], nodeOptions: Partial<NodeOptions> = BASIC_OPTIONS) {
    this.host = new Host(ids, { nodeOptions });
  }

  get(id: string): RaftState {
    return this.host.state(id);
  }

  /** Step node `id` with `event`, keep its new state and put its messages on the wire. */
  step(id: string, event: RaftEvent): StepResult {
    const done = this.host.step(id, [event]);
    for (const o of done.out) if (o.kind === 'msg') this.queue.push({ from: o.from, to: o.to, message: o.message });
    return [done.after, done.actions];
  }

  /** Deliver, in FIFO order, every queued message matching `pred` (also the ones this produces). */
  deliver(pred: (e: Envelope) => boolean = () => true): number {
    let n = 0;
    for (;;) {
      const k = this.queue.findIndex((e) => pred(e) && this.host.has(e.to));
      if (k < 0) return n;
      const [e] = this.queue.splice(k, 1);
      this.step(e!.to, e!.message);
      n++;
    }
  }

  /** Lose every queued message matching `pred`. */
  drop(pred: (e: Envelope) => boolean = () => true): void {
    this.queue = this.queue.filter((e) => !pred(e));
  }

  /** Remove and return the first queued message matching `pred` (it must exist). */
  take(pred: (e: Envelope) => boolean): Envelope {
    const k = this.queue.findIndex(pred);
    if (k < 0) throw new Error('no such message in flight');
    return this.queue.splice(k, 1)[0]!;
  }
}

/**
 * A three-node cluster a, b, c: `a` formed it and leads term 1; every log is
 * `[config{a,b,c} @1 (term 0), termStart @2 (term 1)]`; the leader has committed index 2 and knows
 * both followers hold it. No message is in flight.
 */
export function threeNodeCluster(nodeOptions: Partial<NodeOptions> = BASIC_OPTIONS): Net {
  const net = new Net(['a', 'b', 'c'], nodeOptions);
  net.step('a', { type: 'createCluster', voters: ['a', 'b', 'c'] });
  net.deliver();
  return net;
}

/**
 * Four nodes a, b, c, d: `a` formed a cluster of voters a, b, c and leads term 1, then added `d` as
 * a non-voter; every message delivered, so `d` follows `a`.
 */
export function clusterWithNonVoterD(nodeOptions: Partial<NodeOptions> = BASIC_OPTIONS): Net {
  const net = new Net(['a', 'b', 'c', 'd'], nodeOptions);
  net.step('a', { type: 'createCluster', voters: ['a', 'b', 'c'] });
  net.deliver();
  net.step('a', { type: 'proposeConfig', config: withNonVoters(latestConfig(net.get('a')), ['d'], []) });
  net.deliver();
  return net;
}

/** The actions of type `type`. */
export function ofType<T extends RaftAction['type']>(
  actions: RaftActions,
  type: T,
): Array<Extract<RaftAction, { type: T }>> {
  return actions.filter((a): a is Extract<RaftAction, { type: T }> => a.type === type);
}

// ---------------------------------------------------------------------------------------------
// Arbitraries

/** A small pool of configurations for configuration entries. */
export const CONFIG_POOL: readonly ClusterConfig[] = deepFreeze([
  makeConfig(['a']),
  makeConfig(['a', 'b', 'c']),
  makeConfig(['a', 'b', 'c'], ['a', 'b', 'd']),
  makeConfig(['a', 'b'], [], ['x']),
]);

/** One step of building a log run. */
export type BuildOp =
  | { readonly op: 'commands'; readonly n: number }
  | { readonly op: 'termStart'; readonly delta: number }
  | { readonly op: 'config'; readonly c: number };

export const buildOpArb: fc.Arbitrary<BuildOp> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ op: fc.constant('commands' as const), n: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('termStart' as const), delta: fc.integer({ min: 1, max: 2 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('config' as const), c: fc.nat({ max: CONFIG_POOL.length - 1 }) }),
  },
);

/** Apply one building step to a run. */
export function build(log: LogEntries, op: BuildOp): LogEntries {
  switch (op.op) {
    case 'commands':
      return appendCommands(log, op.n);
    case 'termStart':
      return appendTermStart(log, log.lastTerm + op.delta);
    case 'config':
      return appendConfig(log, CONFIG_POOL[op.c]!);
  }
}

/** A valid anchor: index 0 has term 0. */
export const anchorArb: fc.Arbitrary<{ term: number; index: number }> = fc
  .record({ term: fc.nat({ max: 3 }), index: fc.nat({ max: 6 }) })
  .map(({ term, index }) => ({ term: index === 0 ? 0 : term, index }));

/** A random valid run: an anchor and a few entries. */
export const entriesArb: fc.Arbitrary<LogEntries> = fc
  .tuple(anchorArb, fc.array(buildOpArb, { maxLength: 6 }))
  .map(([a, ops]) => ops.reduce(build, emptyEntries(a.term, a.index)));

export const idArb = fc.constantFrom('a', 'b', 'c', 'd', 'e');

/** Any message (not necessarily one a correct node would send). */
export const messageArb: fc.Arbitrary<Message> = fc.oneof(
  fc.record({
    type: fc.constant('requestVote' as const),
    from: idArb,
    term: fc.nat({ max: 5 }),
    lastTerm: fc.nat({ max: 5 }),
    lastIndex: fc.nat({ max: 20 }),
  }),
  fc.record({
    type: fc.constant('requestVoteReply' as const),
    from: idArb,
    term: fc.nat({ max: 5 }),
    granted: fc.boolean(),
  }),
  fc.record({
    type: fc.constant('appendEntries' as const),
    from: idArb,
    term: fc.nat({ max: 5 }),
    commitIndex: fc.nat({ max: 20 }),
    entries: entriesArb,
  }),
  fc.record({
    type: fc.constant('appendEntriesReply' as const),
    from: idArb,
    term: fc.nat({ max: 5 }),
    lastTerm: fc.nat({ max: 5 }),
    lastIndex: fc.nat({ max: 20 }),
  }),
);

// ---------------------------------------------------------------------------------------------
// The canonical order of actions

/**
 * The canonical order of action types, written out here rather than read from the library, so that
 * the tests check the library against it.
 */
export const RANK: Record<RaftAction['type'], number> = {
  setTimer: 0,
  saveHardState: 1,
  compactLog: 2,
  appendLog: 3,
  commitAdvanced: 4,
  broadcast: 5,
  send: 6,
  installSnapshot: 7,
  readReady: 8,
  rejected: 8,
  invalidEvent: 8,
  fatal: 8,
  internalError: 8,
};
const SINGLE = new Set<RaftAction['type']>(['setTimer', 'saveHardState', 'compactLog', 'commitAdvanced', 'broadcast']);

/** What keeps `actions` from being in canonical order (empty when it is). */
export function orderProblems(actions: RaftActions): string[] {
  const problems: string[] = [];
  const seen = new Set<RaftAction['type']>();
  for (let k = 0; k < actions.length; k++) {
    const a = actions[k]!;
    if (SINGLE.has(a.type) && seen.has(a.type)) problems.push(`${a.type} twice`);
    seen.add(a.type);
    if (k === 0) continue;
    const b = actions[k - 1]!;
    if (RANK[b.type] > RANK[a.type]) problems.push(`${b.type} before ${a.type}`);
    if ((a.type === 'send' && b.type === 'send') || (a.type === 'installSnapshot' && b.type === 'installSnapshot')) {
      if (!(b.to < a.to)) problems.push(`${a.type} to ${b.to} before ${a.to}`);
    }
  }
  return problems;
}
