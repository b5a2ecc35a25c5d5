/**
 * `step` is total: whatever it is given, it returns a result and never throws; a malformed event
 * changes nothing and is answered by one `invalidEvent` action.
 *
 * (a) Any value as an event — `fc.jsonValue()`, `fc.anything()`, and objects built from the real
 *     field names — on fresh, follower, candidate and leader states: `step` never throws; a rejected
 *     event yields exactly `[sameState, [invalidEvent]]`, and only `validateEvent` rejects (never the
 *     safety net of `step` catching a crash); an accepted event leaves a plain-JSON state.
 * (b) Real messages produced by a cluster, with one field anywhere in the tree (entries.termStarts
 *     and entries.configs included) replaced by a wrong-typed, negative, fractional, NaN, infinite,
 *     huge, missing or extra value: either still well-formed, or `[sameState, [invalidEvent]]`.
 *     Negative, fractional, NaN and non-safe-integer numbers, non-string node ids and missing fields
 *     are always rejected.
 * (c) Garbage as the state argument: `step` never throws.
 * (d) Well-formed messages that Raft ignores are ignored as noraft ignores them and counted in the
 *     one metric noraft counts them in; nothing else changes.
 */
import { BASIC_OPTIONS } from '../../src/options.js';
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import {
  METRIC_NAMES,
  emptyEntries,
  followerMatchIndex,
  makeConfig,
  restartNode,
  startNode,
  step,
  validateEvent,
  type RaftActions,
  type Message,
  type MetricName,
  type RaftEvent,
  type RaftState,
} from '../../src/index.js';
import { fcParams } from '../support/seed';
import { deepFreeze } from '../support/freeze';
import { fail } from '../support/host';
import { Cluster, jsonClone, nodeIds, notPlainJson, scheduleArb, runs } from './harness';

// ---------------------------------------------------------------------------------------------
// Fixtures: real states and real messages from cluster runs

interface Delivery {
  readonly state: RaftState;
  readonly message: Message;
}

/** States of every role and the messages delivered to them, from a scripted run and random runs. */
function buildFixtures(): { states: RaftState[]; deliveries: Delivery[] } {
  const ids = nodeIds(3);
  const runs: Cluster[] = [];
  // A scripted run: election, commits, a leader change with a divergent tail to repair.
  const c = new Cluster(ids, { record: true });
  c.stepNode('n1', { type: 'createCluster', voters: ids });
  c.settle();
  c.stepNode('n1', { type: 'propose', count: 3 });
  c.settle();
  c.stepNode('n1', { type: 'propose', count: 2 }); // never delivered: n1's tail will diverge
  c.inFlight.length = 0;
  c.stepNode('n2', { type: 'timeout' });
  c.settle();
  c.stepNode('n2', { type: 'propose', count: 4 });
  c.settle();
  c.stepNode('n3', { type: 'timeout' }); // a candidate, left with its votes undelivered
  runs.push(c);
  // Random runs (the schedules depend on the printed seed).
  const { seed } = fcParams<unknown>('validation fixtures');
  for (const schedule of fc.sample(scheduleArb(150), { seed, numRuns: 12 })) {
    const r = new Cluster(nodeIds(3), { record: true });
    r.stepNode('n1', { type: 'createCluster', voters: r.ids.slice() });
    for (const choice of schedule) r.run(choice);
    runs.push(r);
  }
  const states: RaftState[] = [startNode('n1', BASIC_OPTIONS)[0]];
  const deliveries: Delivery[] = [];
  for (const run of runs) {
    for (const rec of run.trace) {
      states.push(rec.after);
      if (rec.before !== null && rec.event !== null && 'from' in rec.event) {
        deliveries.push({ state: rec.before, message: rec.event });
      }
    }
  }
  return { states, deliveries };
}

const { states: STATES, deliveries: DELIVERIES } = buildFixtures();
const byRole = (role: RaftState['role']): RaftState[] => STATES.filter((s) => s.role === role && s.log.lastIndex > 0);
const FRESH = startNode('n1', BASIC_OPTIONS)[0];
const FOLLOWERS = byRole('follower');
const CANDIDATES = byRole('candidate');
const LEADERS = byRole('leader');

test('the fixtures hold every role and every message shape', () => {
  expect(FOLLOWERS.length).toBeGreaterThan(0);
  expect(CANDIDATES.length).toBeGreaterThan(0);
  expect(LEADERS.length).toBeGreaterThan(0);
  const types = new Set(DELIVERIES.map((d) => d.message.type));
  expect([...types].sort()).toEqual(['appendEntries', 'appendEntriesReply', 'requestVote', 'requestVoteReply']);
  const ae = DELIVERIES.map((d) => d.message).filter((m) => m.type === 'appendEntries');
  expect(ae.some((m) => m.entries.termStarts.length > 0)).toBe(true);
  expect(ae.some((m) => m.entries.configs.length > 0)).toBe(true);
});

/** A state of each kind the properties run against. */
const someState = fc.oneof(
  fc.constant(FRESH),
  fc.constantFrom(...FOLLOWERS),
  fc.constantFrom(...CANDIDATES),
  fc.constantFrom(...LEADERS),
);

/**
 * The outcome of stepping `event`: fine when accepted, or exactly `[state, [invalidEvent]]` when
 * rejected, and then only because `validateEvent` found a problem (not because `step` caught a crash).
 * Returns whether the event was rejected.
 */
function checkTotal(state: RaftState, event: unknown): boolean {
  let result: ReturnType<typeof step>;
  try {
    result = step(state, event as RaftEvent);
  } catch (err) {
    fail(`step threw ${String(err)} on ${safeShow(event)}`);
  }
  const [next, actions] = result;
  const problem = validateEvent(event);
  const invalid = actions.filter((a) => a.type === 'invalidEvent');
  if (problem !== null) {
    if (next !== state) fail(`a rejected event (${problem}) changed the state: ${safeShow(event)}`);
    if (!isDeepStrictEqual(actions, [{ type: 'invalidEvent', reason: problem }])) {
      fail(`a rejected event (${problem}) gave ${JSON.stringify(actions)}`);
    }
    return true;
  }
  if (invalid.length > 0) {
    // The one rejection that needs the state: a proposal that would overflow the log index.
    const reasons = invalid.map((a) => (a as { reason: string }).reason);
    if (!reasons.every((r) => r.startsWith('count would take'))) {
      fail(`a well-formed event was rejected (${reasons.join('; ')}): ${safeShow(event)}`);
    }
    if (next !== state || actions.length !== 1) fail('a rejected proposal changed the state');
    return true;
  }
  // The state stays plain JSON whatever the event carried. Actions may hand back the event's own
  // data (an `appendLog` of the entries received), so they are plain when the event was.
  const notJson =
    notPlainJson(next, 'state') ?? (notPlainJson(event) === null ? notPlainJson(actions, 'actions') : null);
  if (notJson !== null) fail(`accepting ${safeShow(event)} left non-JSON data: ${notJson}`);
  return false;
}

function safeShow(x: unknown): string {
  try {
    return (
      JSON.stringify(x, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? String(v) : v)) ?? String(x)
    );
  } catch {
    return Object.prototype.toString.call(x);
  }
}

// ---------------------------------------------------------------------------------------------
// (a) Any value as an event

const EVENT_TYPES = [
  'appendEntries',
  'appendEntriesReply',
  'requestVote',
  'requestVoteReply',
  'propose',
  'heartbeat',
  'timeout',
  'createCluster',
  'proposeConfig',
  'snapshotInstalled',
];
const FIELD_NAMES = [
  'type',
  'from',
  'term',
  'lastTerm',
  'lastIndex',
  'granted',
  'commitIndex',
  'entries',
  'prevTerm',
  'prevIndex',
  'termStarts',
  'configs',
  'index',
  'config',
  'voters',
  'newVoters',
  'nonVoters',
  'count',
];
const interestingLeaf = fc.oneof(
  fc.constantFrom(...EVENT_TYPES),
  fc.constantFrom('n1', 'n2', 'n3', '', 'x'),
  fc.integer({ min: -3, max: 10 }),
  fc.constantFrom(NaN, Infinity, -Infinity, 0.5, -0, 2 ** 53, Number.MAX_SAFE_INTEGER, 1e300),
  fc.boolean(),
  fc.constant(null),
);
/** Objects shaped from the real field names, with any values: they reach deep into validation. */
const eventLike = fc.anything({
  key: fc.constantFrom(...FIELD_NAMES),
  values: [interestingLeaf],
  maxDepth: 4,
  maxKeys: 8,
  withBoxedValues: true,
  withNullPrototype: true,
  withSparseArray: true,
});
/** Objects with a valid type tag and random fields. */
const taggedEvent = fc
  .tuple(fc.constantFrom(...EVENT_TYPES), fc.dictionary(fc.constantFrom(...FIELD_NAMES), eventLike, { maxKeys: 6 }))
  .map(([type, fields]) => ({ ...fields, type }));
const wildValue = fc.anything({
  withBigInt: true,
  withBoxedValues: true,
  withDate: true,
  withMap: true,
  withSet: true,
  withNullPrototype: true,
  withObjectString: true,
  withSparseArray: true,
  withTypedArray: true,
  withUnicodeString: true,
});

describe('(a) step is total on any event', () => {
  test('fc.jsonValue(), fc.anything() and event-like objects never make it throw', () => {
    let rejected = 0;
    let accepted = 0;
    fc.assert(
      fc.property(someState, fc.oneof(fc.jsonValue(), wildValue, eventLike, taggedEvent), (state, event) => {
        if (checkTotal(state, event)) rejected++;
        else accepted++;
      }),
      fcParams('validation (a) any event', runs(3000)),
    );
    // eslint-disable-next-line no-console
    console.log(`[coverage] (a): ${rejected} rejected, ${accepted} accepted`);
    if (!process.env.FC_PATH) expect(accepted).toBeGreaterThan(0);
  });

  test('hostile events: throwing getters, proxies, revoked proxies, cyclic objects', () => {
    const throwsNullProto = {
      get type(): string {
        throw Object.create(null);
      },
    };
    const throwsString = {
      get type(): string {
        // eslint-disable-next-line @typescript-eslint/only-throw-error -- hostile code throws anything
        throw 'nope';
      },
    };
    const trap = new Proxy(
      {},
      {
        get() {
          throw new Error('trap');
        },
        getPrototypeOf() {
          throw new Error('trap');
        },
      },
    );
    const { proxy: revoked, revoke } = Proxy.revocable({ type: 'timeout' }, {});
    revoke();
    const cyclic: Record<string, unknown> = { type: 'appendEntries', from: 'n2', term: 1, commitIndex: 0 };
    cyclic.entries = cyclic;
    for (const state of [FRESH, FOLLOWERS[0]!, CANDIDATES[0]!, LEADERS[0]!]) {
      for (const event of [throwsNullProto, throwsString, trap, revoked, cyclic]) {
        expect(() => step(state, event as unknown as RaftEvent)).not.toThrow();
        const [next, actions] = step(state, event as unknown as RaftEvent);
        expect(next).toBe(state);
        expect(actions).toHaveLength(1);
        expect(actions[0]!.type).toBe('invalidEvent');
      }
    }
  });
});

// ---------------------------------------------------------------------------------------------
// (b) Mutated real messages

type Path = readonly (string | number)[];

/** Every path to a value inside `x` (not `x` itself). */
function pathsOf(x: unknown, prefix: Path = []): Path[] {
  if (typeof x !== 'object' || x === null) return [];
  const out: Path[] = [];
  const keys: (string | number)[] = Array.isArray(x) ? x.map((_, i) => i) : Object.keys(x);
  for (const k of keys) {
    const p = [...prefix, k];
    out.push(p);
    out.push(...pathsOf((x as Record<string | number, unknown>)[k], p));
  }
  return out;
}

/** Every path to an object (where an extra key can be added), `[]` included. */
function objectPathsOf(x: unknown): Path[] {
  return [[], ...pathsOf(x)].filter((p) => {
    const v = getAt(x, p);
    return typeof v === 'object' && v !== null && !Array.isArray(v);
  });
}

function getAt(x: unknown, path: Path): unknown {
  let v = x;
  for (const k of path) v = (v as Record<string | number, unknown>)[k];
  return v;
}

/** A deep copy of `x` (plain JSON) with the value at `path` replaced, or deleted when `value` is DELETE. */
function withAt(x: unknown, path: Path, value: unknown): unknown {
  const copy = jsonClone(x);
  const parent = getAt(copy, path.slice(0, -1)) as Record<string | number, unknown>;
  const key = path[path.length - 1]!;
  if (value === DELETE) {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key];
  } else {
    parent[key] = value;
  }
  return copy;
}
const DELETE = Symbol('delete');

type BadKind = 'negative' | 'fractional' | 'nan' | 'infinite' | 'unsafe' | 'huge' | 'wrongType' | 'string' | 'missing';

const badValue: fc.Arbitrary<{ kind: BadKind; value: unknown }> = fc.oneof(
  fc.constantFrom(-1, -2, -1000, -Number.MAX_SAFE_INTEGER).map((value) => ({ kind: 'negative' as const, value })),
  fc.constantFrom(0.5, 1.5, 2.25, 1e-9, 3 + 2 ** -30).map((value) => ({ kind: 'fractional' as const, value })),
  fc.constant({ kind: 'nan' as const, value: NaN }),
  fc.constantFrom(Infinity, -Infinity).map((value) => ({ kind: 'infinite' as const, value })),
  fc.constantFrom(2 ** 53, 2 ** 53 + 2, 1e300, Number.MAX_VALUE).map((value) => ({ kind: 'unsafe' as const, value })),
  fc.constantFrom(Number.MAX_SAFE_INTEGER, 2 ** 40, 0, 1, 7).map((value) => ({ kind: 'huge' as const, value })), // well-formed numbers: may be accepted
  fc
    .constantFrom<unknown>(null, true, false, {}, [], [1], undefined, 0n, '1', () => 1, new Map(), new Date(0))
    .map((value) => ({ kind: 'wrongType' as const, value })),
  fc.constantFrom('', 'n1', 'n2', 'n9', 'zz').map((value) => ({ kind: 'string' as const, value })),
  fc.constant({ kind: 'missing' as const, value: DELETE as unknown }),
);

const ID_LISTS = new Set(['voters', 'newVoters', 'nonVoters']);

/** True when `path` names a node id: `from`, or an element of a voter list. */
function isIdPath(path: Path): boolean {
  const last = path[path.length - 1];
  if (last === 'from') return true;
  const parent = path[path.length - 2];
  return typeof last === 'number' && typeof parent === 'string' && ID_LISTS.has(parent);
}

/** Events beyond messages: the application's requests, which also carry fields. */
const REQUESTS: Delivery[] = [
  { state: FRESH, message: { type: 'createCluster', voters: ['n1', 'n2', 'n3'] } as unknown as Message },
  { state: LEADERS[0]!, message: { type: 'propose', count: 3 } as unknown as Message },
  {
    state: LEADERS[0]!,
    message: { type: 'proposeConfig', config: makeConfig(['n1', 'n2', 'n3'], [], ['n4']) } as unknown as Message,
  },
  {
    state: FOLLOWERS.find((s) => s.commitIndex > 1) ?? FOLLOWERS[0]!,
    message: {
      type: 'snapshotInstalled',
      term: 1,
      index: 2,
      config: makeConfig(['n1', 'n2', 'n3']),
    } as unknown as Message,
  },
];

describe('(b) mutated real messages are well-formed or rejected without a change', () => {
  test('one field replaced anywhere in the tree', () => {
    const seen = { rejected: 0, accepted: 0, termStarts: 0, configs: 0 };
    const target = fc.constantFrom(...DELIVERIES, ...REQUESTS).chain((d) =>
      fc.record({
        d: fc.constant(d),
        path: fc.constantFrom(...pathsOf(d.message)),
        bad: badValue,
      }),
    );
    fc.assert(
      fc.property(target, ({ d, path, bad }) => {
        const event = withAt(d.message, path, bad.value);
        const original = getAt(d.message, path);
        const rejected = checkTotal(d.state, event);
        if (rejected) seen.rejected++;
        else seen.accepted++;
        if (path.includes('termStarts')) seen.termStarts++;
        if (path.includes('configs')) seen.configs++;
        const where = `${path.join('.')} (${JSON.stringify(original)}) set to ${safeShow(bad.value)} in ${safeShow(d.message)}`;
        const numericField = typeof original === 'number';
        const inArray = typeof path[path.length - 1] === 'number';
        // propose's count is optional (it defaults to 1), and so is requestVote's transfer flag (false):
        // leaving them out, or undefined, is fine.
        const optional = path.length === 1 && (path[0] === 'count' || path[0] === 'transfer');
        const absent = bad.kind === 'missing' || bad.value === undefined;
        const invalidNumber = ['negative', 'fractional', 'nan', 'infinite', 'unsafe'].includes(bad.kind);
        if (numericField && invalidNumber && !rejected) fail(`accepted a bad number: ${where}`);
        if (numericField && bad.kind === 'wrongType' && !(optional && absent) && !rejected) {
          fail(`accepted a non-number: ${where}`);
        }
        const removedFromList = inArray && bad.kind === 'missing';
        if (isIdPath(path) && !removedFromList && (typeof bad.value !== 'string' || bad.value === '') && !rejected) {
          fail(`accepted a bad node id: ${where}`);
        }
        if (bad.kind === 'missing' && !inArray && !optional && !rejected) fail(`accepted a missing field: ${where}`);
      }),
      fcParams('validation (b) mutated messages', runs(4000)),
    );
    // eslint-disable-next-line no-console
    console.log(`[coverage] (b) replaced: ${JSON.stringify(seen)}`);
    if (!process.env.FC_PATH) {
      expect(seen.termStarts).toBeGreaterThan(50);
      expect(seen.configs).toBeGreaterThan(50);
      expect(seen.accepted).toBeGreaterThan(0);
    }
  });

  test('one extra key added to any object of the tree', () => {
    const target = fc.constantFrom(...DELIVERIES, ...REQUESTS).chain((d) =>
      fc.record({
        d: fc.constant(d),
        path: fc.constantFrom(...objectPathsOf(d.message)),
        key: fc.constantFrom('extra', 'payloads', '__proto__', 'constructor', 'toString'),
        value: fc.oneof(
          wildValue,
          badValue.map((b) => b.value),
        ),
      }),
    );
    fc.assert(
      fc.property(target, ({ d, path, key, value }) => {
        const event = jsonClone(d.message) as unknown as Record<string, unknown>;
        const obj = getAt(event, path) as Record<string, unknown>;
        Object.defineProperty(obj, key, { value, enumerable: true, configurable: true, writable: true });
        checkTotal(d.state, event);
      }),
      fcParams('validation (b) extra keys', runs(2000)),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// (c) Garbage states

describe('(c) garbage as the state argument never makes step throw', () => {
  const validEvents: RaftEvent[] = [
    { type: 'timeout' },
    { type: 'heartbeat' },
    { type: 'propose', count: 2 },
    { type: 'createCluster', voters: ['n1', 'n2'] },
    ...DELIVERIES.slice(0, 40).map((d) => d.message),
  ];
  const anyEvent = fc.oneof(fc.constantFrom(...validEvents), wildValue);

  test('null, {}, arrays, primitives, proxies', () => {
    const hostile = new Proxy(
      {},
      {
        get() {
          throw Object.create(null);
        },
      },
    );
    const garbage: unknown[] = [null, undefined, {}, [], [1, 2], 'n1', 0, NaN, true, Object.create(null)];
    garbage.push({ halted: null }, { halted: 'x' }, { halted: null, role: 'leader' }, Object.freeze({}), hostile);
    for (const state of garbage) {
      for (const event of validEvents) {
        expect(() => step(state as RaftState, event)).not.toThrow();
      }
    }
  });

  test('fc.anything() as the state', () => {
    fc.assert(
      fc.property(fc.oneof(wildValue, eventLike), anyEvent, (state, event) => {
        step(state as RaftState, event as RaftEvent);
      }),
      fcParams('validation (c) garbage states', runs(1000)),
    );
  });

  test('real states with one field corrupted', () => {
    const target = fc
      .constantFrom(...STATES.filter((_, i) => i % 7 === 0))
      .chain((s) => fc.record({ s: fc.constant(s), path: fc.constantFrom(...pathsOf(s)), bad: badValue }));
    fc.assert(
      fc.property(target, anyEvent, ({ s, path, bad }, event) => {
        step(withAt(s, path, bad.value) as RaftState, event as RaftEvent);
      }),
      fcParams('validation (c) corrupted states', runs(1000)),
    );
  });
});

// ---------------------------------------------------------------------------------------------
// (d) Ignored messages and their metrics

/**
 * Step `m` on `s` and check that it only bumped `counter` (by one), changed nothing else in the
 * state, and gave `actions`.
 */
function expectIgnored(s: RaftState, m: Message, counter: MetricName | null, actions: RaftActions): void {
  const [next, got] = step(deepFreeze(s), deepFreeze(m));
  if (!isDeepStrictEqual(got, actions)) fail(`${JSON.stringify(m)} on ${s.role}: actions ${JSON.stringify(got)}`);
  if (counter === null) {
    if (next !== s) fail(`${JSON.stringify(m)} on ${s.role} should change nothing`);
    return;
  }
  if (!isDeepStrictEqual({ ...next, metrics: s.metrics }, s)) {
    fail(`${JSON.stringify(m)} on ${s.role} changed more than its metrics`);
  }
  for (const name of METRIC_NAMES) {
    const want = s.metrics[name] + (name === counter ? 1 : 0);
    if (next.metrics[name] !== want)
      fail(`${JSON.stringify(m)} on ${s.role}: ${name} is ${next.metrics[name]}, want ${want}`);
  }
}

const PEERS = ['n1', 'n2', 'n3'];
/** A sender other than `s` itself. */
const otherThan = (s: RaftState): fc.Arbitrary<string> => fc.constantFrom(...PEERS.filter((p) => p !== s.id));
const withTerm = (states: RaftState[]): RaftState[] => states.filter((s) => s.term > 0);
const anyRole = withTerm([...FOLLOWERS, ...CANDIDATES, ...LEADERS]);

/** A well-formed message of any type from `from` with term `term`. */
function messageArb(from: string, term: number): fc.Arbitrary<Message> {
  const pos = fc
    .tuple(fc.integer({ min: 0, max: term }), fc.integer({ min: 0, max: 50 }))
    .map(([t, i]): [number, number] => (i === 0 ? [0, 0] : [t, i]));
  return fc.oneof(
    pos.map(([lastTerm, lastIndex]) => ({ type: 'requestVote' as const, from, term, lastTerm, lastIndex })),
    fc.boolean().map((granted) => ({ type: 'requestVoteReply' as const, from, term, granted })),
    pos.map(([lastTerm, lastIndex]) => ({ type: 'appendEntriesReply' as const, from, term, lastTerm, lastIndex })),
    fc.tuple(pos, fc.nat(60)).map(([[t, i], commitIndex]) => ({
      type: 'appendEntries' as const,
      from,
      term,
      commitIndex,
      entries: emptyEntries(t, i),
    })),
  );
}

describe('(d) well-formed messages that Raft ignores are counted in the metrics', () => {
  const params = (name: string) => fcParams<unknown>(`validation (d) ${name}`, runs(200));

  test('a message from the node itself: selfMessagesIgnored', () => {
    const arb = fc.constantFrom(...anyRole).chain((s) =>
      fc.tuple(
        fc.constant(s),
        fc.nat(s.term + 3).chain((t) => messageArb(s.id, t)),
      ),
    );
    fc.assert(
      fc.property(arb, ([s, m]) => expectIgnored(s, m, 'selfMessagesIgnored', [])),
      params('self'),
    );
  });

  test('a vote request from an older term: refused with the current term, requestVoteCallsRejectedByOldTerm', () => {
    const arb = fc
      .constantFrom(...anyRole)
      .chain((s) => fc.tuple(fc.constant(s), otherThan(s), fc.nat(s.term - 1), fc.nat(30)));
    fc.assert(
      fc.property(arb, ([s, from, term, lastIndex]) => {
        const m: Message = { type: 'requestVote', from, term, lastTerm: lastIndex === 0 ? 0 : term, lastIndex };
        const reply: Message = { type: 'requestVoteReply', from: s.id, term: s.term, granted: false };
        expectIgnored(s, m, 'requestVoteCallsRejectedByOldTerm', [{ type: 'send', to: from, message: reply }]);
      }),
      params('old vote request'),
    );
  });

  test('AppendEntries from an older term: answered with the current term, appendEntriesCallsRejectedByOldTerm', () => {
    const arb = fc
      .constantFrom(...anyRole)
      .chain((s) => fc.tuple(fc.constant(s), otherThan(s), fc.nat(s.term - 1), fc.nat(30), fc.nat(30)));
    fc.assert(
      fc.property(arb, ([s, from, term, prevIndex, commitIndex]) => {
        const m: Message = {
          type: 'appendEntries',
          from,
          term,
          commitIndex,
          entries: emptyEntries(prevIndex === 0 ? 0 : term, prevIndex),
        };
        const reply: Message = {
          type: 'appendEntriesReply',
          from: s.id,
          term: s.term,
          lastTerm: s.log.lastTerm,
          lastIndex: s.log.lastIndex,
        };
        expectIgnored(s, m, 'appendEntriesCallsRejectedByOldTerm', [{ type: 'send', to: from, message: reply }]);
      }),
      params('old AppendEntries'),
    );
  });

  test('an AppendEntries reply from an older term: appendEntriesRepliesIgnoredFromOldTerms', () => {
    const arb = fc
      .constantFrom(...anyRole)
      .chain((s) => fc.tuple(fc.constant(s), otherThan(s), fc.nat(s.term - 1), fc.nat(80)));
    fc.assert(
      fc.property(arb, ([s, from, term, lastIndex]) => {
        const m: Message = { type: 'appendEntriesReply', from, term, lastTerm: lastIndex === 0 ? 0 : term, lastIndex };
        expectIgnored(s, m, 'appendEntriesRepliesIgnoredFromOldTerms', []);
      }),
      params('old AppendEntries reply'),
    );
  });

  test('an AppendEntries reply to a follower or candidate: appendEntriesRepliesIgnoredWhileNotLeader', () => {
    const arb = fc
      .constantFrom(...withTerm([...FOLLOWERS, ...CANDIDATES]))
      .chain((s) => fc.tuple(fc.constant(s), otherThan(s), fc.nat(80)));
    fc.assert(
      fc.property(arb, ([s, from, lastIndex]) => {
        const m: Message = {
          type: 'appendEntriesReply',
          from,
          term: s.term,
          lastTerm: lastIndex === 0 ? 0 : s.term,
          lastIndex,
        };
        expectIgnored(s, m, 'appendEntriesRepliesIgnoredWhileNotLeader', []);
      }),
      params('reply to non-leader'),
    );
  });

  test('an AppendEntries reply from a node the leader does not track: appendEntriesRepliesIgnoredFromUnknownNodes', () => {
    const arb = fc
      .constantFrom(...LEADERS)
      .chain((s) => fc.tuple(fc.constant(s), fc.constantFrom('n4', 'n9', 'stranger'), fc.nat(80)));
    fc.assert(
      fc.property(arb, ([s, from, lastIndex]) => {
        const m: Message = {
          type: 'appendEntriesReply',
          from,
          term: s.term,
          lastTerm: lastIndex === 0 ? 0 : s.term,
          lastIndex,
        };
        expectIgnored(s, m, 'appendEntriesRepliesIgnoredFromUnknownNodes', []);
      }),
      params('reply from unknown node'),
    );
  });

  test('an AppendEntries reply behind the match index: appendEntriesRepliesIgnoredBehindMatchIndex', () => {
    const cases = LEADERS.flatMap((s) =>
      s.progress!.peers.filter((p) => followerMatchIndex(s, p)! > 0).map((p) => [s, p] as const),
    );
    expect(cases.length).toBeGreaterThan(0);
    const arb = fc
      .constantFrom(...cases)
      .chain(([s, p]) =>
        fc.tuple(fc.constant(s), fc.constant(p), fc.nat(followerMatchIndex(s, p)! - 1), fc.nat(s.term)),
      );
    fc.assert(
      fc.property(arb, ([s, from, lastIndex, lastTerm]) => {
        const m: Message = {
          type: 'appendEntriesReply',
          from,
          term: s.term,
          lastTerm: lastIndex === 0 ? 0 : lastTerm,
          lastIndex,
        };
        expectIgnored(s, m, 'appendEntriesRepliesIgnoredBehindMatchIndex', []);
      }),
      params('reply behind match index'),
    );
  });

  test("an AppendEntries reply beyond the leader's log, in the leader's own term: appendEntriesRepliesAheadOfLeader", () => {
    // Only the leader writes entries of its term, so no correct follower holds one beyond its log.
    // (A longer log from older terms is a divergent tail: the leader repairs it, see the scenarios.)
    const arb = fc
      .constantFrom(...LEADERS)
      .chain((s) => fc.tuple(fc.constant(s), otherThan(s), fc.integer({ min: 1, max: 30 })));
    fc.assert(
      fc.property(arb, ([s, from, ahead]) => {
        const m: Message = {
          type: 'appendEntriesReply',
          from,
          term: s.term,
          lastTerm: s.term,
          lastIndex: s.log.lastIndex + ahead,
        };
        expectIgnored(s, m, 'appendEntriesRepliesAheadOfLeader', []);
      }),
      params('reply ahead of leader'),
    );
  });

  test('a vote reply to a non-candidate: requestVoteRepliesIgnoredWhileNotCandidate', () => {
    const arb = fc
      .constantFrom(...withTerm([...FOLLOWERS, ...LEADERS]))
      .chain((s) => fc.tuple(fc.constant(s), otherThan(s), fc.nat(s.term), fc.boolean()));
    fc.assert(
      fc.property(arb, ([s, from, term, granted]) => {
        const m: Message = { type: 'requestVoteReply', from, term, granted };
        expectIgnored(s, m, 'requestVoteRepliesIgnoredWhileNotCandidate', []);
      }),
      params('vote reply to non-candidate'),
    );
  });

  test('a granted vote from an older term: requestVoteRepliesIgnoredFromOldTerms; a refusal changes nothing', () => {
    const arb = fc
      .constantFrom(...CANDIDATES.filter((s) => s.term > 1))
      .chain((s) => fc.tuple(fc.constant(s), otherThan(s), fc.nat(s.term - 1)));
    fc.assert(
      fc.property(arb, ([s, from, term]) => {
        expectIgnored(
          s,
          { type: 'requestVoteReply', from, term, granted: true },
          'requestVoteRepliesIgnoredFromOldTerms',
          [],
        );
        expectIgnored(s, { type: 'requestVoteReply', from, term, granted: false }, null, []);
        expectIgnored(s, { type: 'requestVoteReply', from, term: s.term, granted: false }, null, []);
      }),
      params('old vote reply'),
    );
  });

  test('a vote request from a candidate whose log is behind: requestVoteCallsRejectedByLog', () => {
    const arb = fc
      .constantFrom(...anyRole.filter((s) => s.log.lastIndex > 1))
      .chain((s) =>
        fc.tuple(fc.constant(s), otherThan(s), fc.nat(s.log.lastIndex - 1), fc.nat(s.log.lastTerm), fc.boolean()),
      );
    fc.assert(
      fc.property(arb, ([s, from, shorter, olderTerm, sameTerm]) => {
        // Behind: an older last term, or the same last term and a shorter log.
        const [lastTerm, lastIndex] =
          sameTerm || olderTerm === s.log.lastTerm ? [s.log.lastTerm, shorter] : [olderTerm, s.log.lastIndex + 5];
        const m: Message = {
          type: 'requestVote',
          from,
          term: s.term,
          lastTerm: lastIndex === 0 ? 0 : lastTerm,
          lastIndex,
        };
        expectIgnored(s, m, 'requestVoteCallsRejectedByLog', []);
      }),
      params('vote request behind'),
    );
  });

  test('a vote request when the vote went to another node: requestVoteCallsRejectedByExistingVote', () => {
    const voted = anyRole.filter((s) => s.votedFor !== null);
    const arb = fc
      .constantFrom(...voted)
      .chain((s) => fc.tuple(fc.constant(s), fc.constantFrom(...PEERS.filter((p) => p !== s.id && p !== s.votedFor))));
    fc.assert(
      fc.property(arb, ([s, from]) => {
        const m: Message = {
          type: 'requestVote',
          from,
          term: s.term,
          lastTerm: s.term,
          lastIndex: s.log.lastIndex + 10,
        };
        expectIgnored(s, m, 'requestVoteCallsRejectedByExistingVote', []);
      }),
      params('vote request, already voted'),
    );
  });

  test('AppendEntries of its own term on a leader: sameTermAppendEntriesCallsReceivedByLeader', () => {
    const arb = fc
      .constantFrom(...LEADERS)
      .chain((s) => fc.tuple(fc.constant(s), otherThan(s), fc.nat(s.log.lastIndex), fc.nat(60)));
    fc.assert(
      fc.property(arb, ([s, from, prevIndex, commitIndex]) => {
        const m: Message = {
          type: 'appendEntries',
          from,
          term: s.term,
          commitIndex,
          entries: emptyEntries(prevIndex === 0 ? 0 : s.term, prevIndex),
        };
        expectIgnored(s, m, 'sameTermAppendEntriesCallsReceivedByLeader', []);
      }),
      params('same-term AppendEntries on leader'),
    );
  });

  test('a message with a higher term: termAdvancesFromMessages, and the node follows that term', () => {
    const arb = fc
      .constantFrom(...anyRole)
      .chain((s) =>
        fc
          .tuple(fc.constant(s), otherThan(s), fc.integer({ min: s.term + 1, max: s.term + 5 }))
          .chain(([s, from, t]) => fc.tuple(fc.constant(s), messageArb(from, t))),
      );
    fc.assert(
      fc.property(arb, ([s, m]) => {
        const [next, actions] = step(s, m);
        expect(next.term).toBe(m.term);
        expect(next.role).toBe('follower');
        expect(next.metrics.termAdvancesFromMessages).toBe(s.metrics.termAdvancesFromMessages + 1);
        expect(actions.some((a) => a.type === 'saveHardState' && a.term === m.term)).toBe(true);
      }),
      params('higher term'),
    );
  });
});

describe('a halted node', () => {
  test('after LocalSnapshotMismatch it answers every event with the same state and the fatal action', () => {
    const [s] = restartNode({
      options: BASIC_OPTIONS,
      id: 'n2',
      term: 3,
      votedFor: null,
      log: emptyEntries(2, 5),
      snapshotConfig: makeConfig(['n1', 'n2', 'n3']),
    });
    const m: Message = { type: 'appendEntries', from: 'n1', term: 3, commitIndex: 5, entries: emptyEntries(3, 5) };
    const [halted, actions] = step(s, m);
    expect(actions).toHaveLength(1);
    expect(actions[0]!.type).toBe('fatal');
    expect(halted.halted).not.toBeNull();
    fc.assert(
      fc.property(
        fc.oneof(fc.constantFrom<unknown>(m, { type: 'timeout' }, { type: 'propose' }), wildValue),
        (event) => {
          const [next, again] = step(halted, event as RaftEvent);
          expect(next).toBe(halted);
          expect(again).toEqual(actions);
        },
      ),
      fcParams('validation halted node', runs(200)),
    );
  });
});
