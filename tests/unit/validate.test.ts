/**
 * What a well-formed event is, field by field: the specification of `validate.ts`.
 *
 * - Every event type has a well-formed example here; it is accepted and read into a plain copy
 *   that holds exactly its fields (extra keys are dropped).
 * - Every field of every example, broken in every way its kind allows (missing, null, the wrong
 *   type, negative, fractional, NaN, infinite, past the top of the range), is refused with a reason
 *   that names that field: the exact text `step` gives as the `invalidEvent` reason.
 * - The rules between fields (a last term above the message's term, impossible positions, term
 *   starts and configuration entries out of order, unsorted or shared id lists, repeated read ids)
 *   each have their own row, with the range's edges accepted where they should be.
 * - The exported parsers never throw: a field that throws when read makes the event unreadable.
 */
import {
  MAX_POSITION,
  NOT_AN_OBJECT,
  isEventObject,
  isExtensionType,
  isNatural,
  isNodeId,
  parseConfig,
  parseCreateCluster,
  parseEvent,
  parseExtension,
  parseLogEntries,
  parsePositionMessage,
  parsePropose,
  parseProposeConfig,
  parseProposeCount,
  parseSnapshotInstalled,
  parseVoteReply,
  unknownTypeProblem,
  unreadable,
  validateConfig,
  validateEvent,
  validateLogEntries,
  type EventObject,
} from '../../src/validate.js';
import { flatItems } from '../../src/chunks.js';
import type { LogEntries } from '../../src/log.js';

type Example = Readonly<Record<string, unknown>>;

const CONFIG = { voters: ['a', 'b', 'c'], newVoters: ['b', 'e'], nonVoters: ['d'] };
/** A run after (1, 3) up to (3, 8): term 2 starts at 5, a configuration at 6, term 3 starts at 7. */
const ENTRIES = {
  prevTerm: 1,
  prevIndex: 3,
  lastTerm: 3,
  lastIndex: 8,
  termStarts: [
    [
      { index: 5, term: 2 },
      { index: 7, term: 3 },
    ],
  ],
  configs: [{ index: 6, config: CONFIG }],
};

/** One well-formed event of every type. */
const EXAMPLES: Readonly<Record<string, Example>> = {
  appendEntries: { type: 'appendEntries', from: 'a', term: 4, commitIndex: 2, entries: ENTRIES },
  appendEntriesReply: { type: 'appendEntriesReply', from: 'b', term: 4, lastTerm: 3, lastIndex: 8 },
  requestVote: { type: 'requestVote', from: 'c', term: 5, lastTerm: 3, lastIndex: 8, transfer: true },
  requestVoteReply: { type: 'requestVoteReply', from: 'b', term: 5, granted: false },
  propose: { type: 'propose', count: 7 },
  heartbeat: { type: 'heartbeat' },
  timeout: { type: 'timeout' },
  createCluster: { type: 'createCluster', voters: ['a', 'b', 'c'] },
  proposeConfig: { type: 'proposeConfig', config: CONFIG },
  snapshotInstalled: { type: 'snapshotInstalled', term: 3, index: 9, config: CONFIG },
  preVote: { type: 'preVote', from: 'c', term: 6, lastTerm: 3, lastIndex: 8 },
  preVoteReply: { type: 'preVoteReply', from: 'a', term: 6, granted: true },
  timeoutNow: { type: 'timeoutNow', from: 'a', term: 4 },
  leadershipCheck: { type: 'leadershipCheck', from: 'a', term: 4, round: 12 },
  leadershipCheckReply: { type: 'leadershipCheckReply', from: 'b', term: 4, round: 12 },
  readIndex: { type: 'readIndex', from: 'b', term: 4, ids: ['r1', 'r2'] },
  readIndexReply: {
    type: 'readIndexReply',
    from: 'a',
    term: 4,
    reads: [
      { id: 'r1', index: 8 },
      { id: 'r2', index: -1 },
    ],
  },
  read: { type: 'read', id: 'r3' },
  transferLeadership: { type: 'transferLeadership', to: 'c' },
  appendPersisted: { type: 'appendPersisted', term: 4, index: 8 },
};

/** The kinds of scalar field, and the values each must refuse. */
type Kind = 'nodeId' | 'natural' | 'boolean' | 'optionalBoolean' | 'round' | 'count';

const NOT_NATURAL: readonly unknown[] = [
  undefined,
  null,
  -1,
  0.5,
  NaN,
  Infinity,
  -Infinity,
  MAX_POSITION + 1,
  '1',
  true,
  [],
  {},
];
const BAD: Readonly<Record<Kind, readonly unknown[]>> = {
  nodeId: [undefined, null, '', 1, true, {}, ['a']],
  natural: NOT_NATURAL,
  boolean: [undefined, null, 0, 1, 'true', {}],
  optionalBoolean: [null, 0, 1, 'true', {}],
  round: [...NOT_NATURAL, 0],
  count: [null, 0, -1, 0.5, NaN, Infinity, MAX_POSITION + 1, '2', true, {}],
};
const TEXT: Readonly<Record<Kind, string>> = {
  nodeId: 'must be a non-empty string',
  natural: 'must be an integer from 0 to 2^53 - 2',
  boolean: 'must be a boolean',
  optionalBoolean: 'must be a boolean when present',
  round: 'must be an integer from 1 to 2^53 - 2',
  count: 'must be an integer from 1 to 2^53 - 2',
};

/** The scalar fields of every event type and their kinds (the lists, runs and configurations below). */
const SCALARS: Readonly<Record<string, Readonly<Record<string, Kind>>>> = {
  appendEntries: { from: 'nodeId', term: 'natural', commitIndex: 'natural' },
  appendEntriesReply: { from: 'nodeId', term: 'natural', lastTerm: 'natural', lastIndex: 'natural' },
  requestVote: {
    from: 'nodeId',
    term: 'natural',
    lastTerm: 'natural',
    lastIndex: 'natural',
    transfer: 'optionalBoolean',
  },
  requestVoteReply: { from: 'nodeId', term: 'natural', granted: 'boolean' },
  propose: { count: 'count' },
  heartbeat: {},
  timeout: {},
  createCluster: {},
  proposeConfig: {},
  snapshotInstalled: { term: 'natural', index: 'natural' },
  preVote: { from: 'nodeId', term: 'natural', lastTerm: 'natural', lastIndex: 'natural' },
  preVoteReply: { from: 'nodeId', term: 'natural', granted: 'boolean' },
  timeoutNow: { from: 'nodeId', term: 'natural' },
  leadershipCheck: { from: 'nodeId', term: 'natural', round: 'round' },
  leadershipCheckReply: { from: 'nodeId', term: 'natural', round: 'round' },
  readIndex: { from: 'nodeId', term: 'natural' },
  readIndexReply: { from: 'nodeId', term: 'natural' },
  read: { id: 'nodeId' },
  transferLeadership: { to: 'nodeId' },
  appendPersisted: { term: 'natural', index: 'natural' },
};

/** A copy of `base` with `changes` applied (a field set to `undefined` is removed). */
function changed(base: object, changes: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete out[key];
    else out[key] = value;
  }
  return out;
}

/** The example of `type` with `changes` applied (see {@link changed}). */
function edit(type: string, changes: Record<string, unknown>): Record<string, unknown> {
  return changed(EXAMPLES[type]!, changes);
}

/** `appendEntries` with its entries edited (see {@link changed}). */
function withEntries(changes: Record<string, unknown>): Record<string, unknown> {
  return edit('appendEntries', { entries: changed(ENTRIES, changes) });
}

/** `[what is broken, the event, the reason]`: an event `validateEvent` must refuse, and why. */
type Row = readonly [string, unknown, string];

/** Every row's event is refused with exactly its reason; the failure lists the rows that were not. */
function expectRows(rows: readonly Row[]): void {
  const wrong = rows
    .map(([what, event, reason]) => [what, validateEvent(event), reason] as const)
    .filter(([, got, reason]) => got !== reason)
    .map(([what, got, reason]) => `${what}: got ${got}, want ${reason}`);
  expect(wrong).toEqual([]);
}

/** Term starts in chunks, each start given as `[index, term]`. */
function startsIn(...chunks: [number, number][][]): unknown {
  return chunks.map((c) => c.map(([index, term]) => ({ index, term })));
}

/** A configuration entry of a run at `index`. */
function configAt(index: number, config: unknown = CONFIG): unknown {
  return { index, config };
}

/** An object whose `key` throws `thrown` when read. */
function throwingOn(base: object, key: string, thrown: unknown): EventObject {
  const o: Record<string, unknown> = { ...base };
  Object.defineProperty(o, key, {
    enumerable: true,
    get() {
      throw thrown;
    },
  });
  return o;
}

/** A log run with its term starts flattened, to compare runs whatever their chunking. */
function flat(e: LogEntries): unknown {
  return { ...e, termStarts: flatItems(e.termStarts) };
}

describe('every event type has a well-formed shape', () => {
  test('the examples and the field tables name the same twenty event types; any other type is refused', () => {
    expect(Object.keys(EXAMPLES).sort()).toEqual(Object.keys(SCALARS).sort());
    expect(Object.keys(EXAMPLES)).toHaveLength(20);
    expect(validateEvent({ type: 'noSuchEvent' })).toBe('unknown event type "noSuchEvent"');
  });

  test.each(Object.keys(EXAMPLES))('%s: accepted, and read into a plain copy of exactly its fields', (type) => {
    const example = EXAMPLES[type]!;
    expect(validateEvent(example)).toBeNull();
    const parsed = parseEvent({ ...example, extra: 'dropped' });
    expect(typeof parsed).toBe('object');
    const copy = parsed as unknown as Record<string, unknown>;
    if (type === 'appendEntries') {
      expect({ ...copy, entries: flat(copy.entries as LogEntries) }).toEqual({
        ...example,
        entries: flat(ENTRIES as unknown as LogEntries),
      });
    } else {
      expect(copy).toEqual(example);
    }
    if (Object.keys(example).length > 1) expect(copy).not.toBe(example);
    expect(Object.keys(copy)).not.toContain('extra');
  });

  test('absent optional fields take their defaults: propose counts 1, requestVote is no transfer', () => {
    expect(parseEvent({ type: 'propose' })).toEqual({ type: 'propose', count: 1 });
    expect(parseEvent({ type: 'propose', count: 1 })).toEqual({ type: 'propose', count: 1 });
    expect(parsePropose({ type: 'propose' })).toEqual({ type: 'propose', count: 1 });
    expect(parseProposeCount({ type: 'propose' })).toBe(1);
    expect(parseProposeCount({ type: 'propose', count: 5 })).toBe(5);
    expect(parseEvent(edit('requestVote', { transfer: undefined }))).toEqual({
      ...EXAMPLES.requestVote,
      transfer: false,
    });
    expect(parseEvent(edit('requestVote', { transfer: false }))).toEqual({ ...EXAMPLES.requestVote, transfer: false });
  });

  test('heartbeat and timeout carry nothing but their type', () => {
    expect(parseEvent({ type: 'heartbeat', term: 'ignored' })).toEqual({ type: 'heartbeat' });
    expect(parseEvent({ type: 'timeout', from: 5 })).toEqual({ type: 'timeout' });
  });
});

describe('a broken field is refused with a reason that names it', () => {
  const rows: Row[] = [];
  for (const [type, fields] of Object.entries(SCALARS)) {
    for (const [field, kind] of Object.entries(fields)) {
      for (const bad of BAD[kind]) {
        rows.push([`${type}.${field} = ${String(bad)}`, edit(type, { [field]: bad }), `${field} ${TEXT[kind]}`]);
      }
    }
  }

  test(`${rows.length} broken scalar fields over every event type`, () => {
    expectRows(rows);
  });

  test('the range of a term, an index or a count ends at MAX_POSITION, 2^53 - 2', () => {
    expect(MAX_POSITION).toBe(2 ** 53 - 2);
    expect(isNatural(0)).toBe(true);
    expect(isNatural(MAX_POSITION)).toBe(true);
    expect(isNatural(MAX_POSITION + 1)).toBe(false);
    expect(validateEvent(edit('requestVote', { term: MAX_POSITION }))).toBeNull();
    expect(validateEvent(edit('propose', { count: MAX_POSITION }))).toBeNull();
    expect(validateEvent(edit('leadershipCheck', { round: 1 }))).toBeNull();
    expect(validateEvent(edit('leadershipCheckReply', { round: MAX_POSITION }))).toBeNull();
    expect(validateEvent(edit('appendPersisted', { term: 0, index: 0 }))).toBeNull();
  });

  test('node ids are non-empty strings, anything else is not', () => {
    expect(isNodeId('x')).toBe(true);
    for (const bad of BAD.nodeId) expect(isNodeId(bad)).toBe(false);
  });

  test('an event that is not an object, or whose type is not a known string', () => {
    expect(NOT_AN_OBJECT).toBe('event must be an object');
    for (const bad of [null, undefined, [], [{ type: 'timeout' }], 'timeout', 5, true]) {
      expect(validateEvent(bad)).toBe('event must be an object');
    }
    expect(validateEvent({})).toBe('event.type must be a string');
    expect(validateEvent({ type: 5 })).toBe('event.type must be a string');
    expect(validateEvent({ type: 'Timeout' })).toBe('unknown event type "Timeout"');
    expect(unknownTypeProblem(undefined)).toBe('event.type must be a string');
    expect(isEventObject({})).toBe(true);
    expect(isEventObject(Object.create(null))).toBe(true);
    for (const bad of [null, [], 'x', 1]) expect(isEventObject(bad)).toBe(false);
  });

  test('the extension types are exactly those of the extensions', () => {
    const extensions = ['preVote', 'preVoteReply', 'timeoutNow', 'leadershipCheck', 'leadershipCheckReply'];
    extensions.push('readIndex', 'readIndexReply', 'read', 'transferLeadership', 'appendPersisted');
    for (const type of Object.keys(EXAMPLES)) expect(isExtensionType(type)).toBe(extensions.includes(type));
  });
});

describe('positions', () => {
  test('a last term above the term, and a position of index 0 with a term, are impossible', () => {
    expectRows([
      ['requestVote lastTerm > term', edit('requestVote', { lastTerm: 6 }), 'lastTerm must not exceed term'],
      ['preVote lastTerm > term', edit('preVote', { lastTerm: 7 }), 'lastTerm must not exceed term'],
      ['reply lastTerm > term', edit('appendEntriesReply', { lastTerm: 5 }), 'lastTerm must not exceed term'],
      [
        'reply at (2, 0)',
        edit('appendEntriesReply', { lastTerm: 2, lastIndex: 0 }),
        'position (2, 0) is impossible: index 0 has term 0',
      ],
      [
        'snapshot at (3, 0)',
        edit('snapshotInstalled', { index: 0 }),
        'position (3, 0) is impossible: index 0 has term 0',
      ],
    ]);
    for (const ok of [
      edit('requestVote', { lastTerm: 5 }),
      edit('appendEntriesReply', { lastTerm: 0, lastIndex: 0 }),
      edit('preVote', { lastTerm: 0, lastIndex: 4 }),
      edit('snapshotInstalled', { term: 0, index: 0 }),
    ]) {
      expect(validateEvent(ok)).toBeNull();
    }
  });
});

describe('log runs (the entries of appendEntries)', () => {
  test('each field of the run, broken, is named with its path', () => {
    const rows: Row[] = [];
    for (const field of ['prevTerm', 'prevIndex', 'lastTerm', 'lastIndex']) {
      for (const bad of NOT_NATURAL) {
        rows.push([`${field} = ${String(bad)}`, withEntries({ [field]: bad }), `entries.${field} ${TEXT.natural}`]);
      }
    }
    expectRows(rows);
    expect(validateEvent(edit('appendEntries', { entries: undefined }))).toBe('entries must be an object');
    expect(validateEvent(edit('appendEntries', { entries: [] }))).toBe('entries must be an object');
    expect(parseLogEntries(null)).toBe('entries must be an object');
    expect(parseLogEntries({ ...ENTRIES, lastIndex: -1 })).toBe('lastIndex must be an integer from 0 to 2^53 - 2');
  });

  test('the rules of a run', () => {
    expectRows([
      ['lastTerm above term', edit('appendEntries', { term: 2 }), 'entries.lastTerm must not exceed term'],
      ['prevIndex > lastIndex', withEntries({ prevIndex: 9 }), 'entries.prevIndex must not exceed lastIndex'],
      [
        'a one-term run, prevIndex > lastIndex',
        withEntries({ prevTerm: 3, prevIndex: 9, termStarts: [], configs: [] }),
        'entries.prevIndex must not exceed lastIndex',
      ],
      [
        'a one-term run at (3, 0)',
        withEntries({ prevTerm: 3, prevIndex: 0, termStarts: [], configs: [] }),
        'entries.position (3, 0) is impossible: index 0 has term 0',
      ],
      [
        'a one-term run whose lastTerm is not prevTerm',
        withEntries({ prevTerm: 2, termStarts: [], configs: [] }),
        'entries.lastTerm must be the term of the last term start (or prevTerm)',
      ],
      [
        'a term start in a run whose lastTerm is prevTerm',
        withEntries({ prevTerm: 3, lastTerm: 3, termStarts: startsIn([[5, 4]]), configs: [] }),
        'entries.lastTerm must be the term of the last term start (or prevTerm)',
      ],
      [
        'lastTerm not the last start',
        withEntries({ termStarts: startsIn([[5, 2]]) }),
        'entries.lastTerm must be the term of the last term start (or prevTerm)',
      ],
      [
        'termStarts missing',
        withEntries({ termStarts: undefined }),
        'entries.termStarts must be an array of chunks (arrays of term starts)',
      ],
      ['configs missing', withEntries({ configs: {} }), 'entries.configs must be an array'],
      [
        'a chunk that is not an array',
        withEntries({ termStarts: [[{ index: 5, term: 2 }], { index: 7, term: 3 }] }),
        'entries.termStarts[1] must be an array (a chunk of term starts)',
      ],
      [
        'a start that is not an object',
        withEntries({ termStarts: [[], [{ index: 5, term: 2 }, 7]] }),
        'entries.termStarts[1][1] must be an object',
      ],
      [
        'a start with an extra key',
        withEntries({ termStarts: [[{ index: 5, term: 2, extra: 1 }]] }),
        'entries.termStarts[0][0] must be a plain object holding only index and term',
      ],
      [
        'a start that is a class instance',
        withEntries({ termStarts: [[new (class {})()]] }),
        'entries.termStarts[0][0] must be a plain object holding only index and term',
      ],
      [
        'a start without a term',
        withEntries({ termStarts: [[{ index: 5, at: 2 }]] }),
        'entries.termStarts[0][0].term must be an integer from 0 to 2^53 - 2',
      ],
      [
        'a start index that is not a natural',
        withEntries({ termStarts: [[{ index: 5.5, term: 2 }]] }),
        'entries.termStarts[0][0].index must be an integer from 0 to 2^53 - 2',
      ],
      [
        'a start at prevIndex',
        withEntries({ termStarts: startsIn([[3, 2]], [[7, 3]]) }),
        'entries.termStarts[0][0].index must be increasing and within (prevIndex, lastIndex]',
      ],
      [
        'starts out of order',
        withEntries({ termStarts: startsIn([[7, 2]], [[7, 3]]) }),
        'entries.termStarts[1][0].index must be increasing and within (prevIndex, lastIndex]',
      ],
      [
        'a start past lastIndex',
        withEntries({ termStarts: startsIn([[5, 2]], [[9, 3]]) }),
        'entries.termStarts[1][0].index must be increasing and within (prevIndex, lastIndex]',
      ],
      [
        'a start of prevTerm',
        withEntries({ termStarts: startsIn([[5, 1]]) }),
        'entries.termStarts[0][0].term must be increasing and above prevTerm',
      ],
      [
        'starts whose terms do not rise',
        withEntries({ termStarts: startsIn([[5, 3]], [[7, 3]]) }),
        'entries.termStarts[1][0].term must be increasing and above prevTerm',
      ],
      [
        'a configuration entry that is not an object',
        withEntries({ configs: [null] }),
        'entries.configs[0] must be an object',
      ],
      [
        'a configuration entry with an extra key',
        withEntries({ configs: [{ index: 6, config: CONFIG, term: 2 }] }),
        'entries.configs[0] must be a plain object holding only index and config',
      ],
      [
        'a configuration entry without an index',
        withEntries({ configs: [{ at: 6, config: CONFIG }] }),
        'entries.configs[0].index must be an integer from 0 to 2^53 - 2',
      ],
      [
        'a configuration entry at prevIndex',
        withEntries({ configs: [configAt(3)] }),
        'entries.configs[0].index must be increasing and within (prevIndex, lastIndex]',
      ],
      [
        'configuration entries out of order',
        withEntries({ configs: [configAt(6), configAt(6)] }),
        'entries.configs[1].index must be increasing and within (prevIndex, lastIndex]',
      ],
      [
        'a configuration entry past lastIndex',
        withEntries({ configs: [configAt(9)] }),
        'entries.configs[0].index must be increasing and within (prevIndex, lastIndex]',
      ],
      [
        'a configuration entry at a term start',
        withEntries({ configs: [configAt(4), configAt(7)] }),
        'entries.configs[1].index is a term start: an entry is one or the other',
      ],
      [
        'a configuration entry with a broken configuration',
        withEntries({ configs: [configAt(6, { ...CONFIG, voters: ['b', 'a'] })] }),
        'entries.configs[0].config.voters must be sorted ascending without duplicates',
      ],
    ]);
  });

  test('runs at the edges are accepted, in any chunking', () => {
    for (const ok of [
      withEntries({ termStarts: [[], [{ index: 5, term: 2 }], [], [{ index: 7, term: 3 }]] }),
      withEntries({ termStarts: [[{ index: 4, term: 2 }], [{ index: 8, term: 3 }]] }),
      withEntries({ configs: [configAt(4), configAt(8)] }),
      withEntries({ prevTerm: 3, prevIndex: 8, termStarts: [], configs: [] }),
      withEntries({ prevTerm: 3, prevIndex: 8, termStarts: [[]], configs: [] }),
      withEntries({ prevTerm: 0, prevIndex: 0, lastTerm: 0, lastIndex: 0, termStarts: [], configs: [] }),
      withEntries({ prevTerm: 3, lastTerm: 3, termStarts: [], configs: [configAt(4)] }),
    ]) {
      expect(validateEvent(ok)).toBeNull();
    }
    const read = parseLogEntries({ ...ENTRIES, termStarts: [[], [{ index: 5, term: 2 }], [{ index: 7, term: 3 }]] });
    expect(flat(read as LogEntries)).toEqual(flat(ENTRIES as unknown as LogEntries));
    expect(validateLogEntries(ENTRIES)).toBeNull();
    expect(validateLogEntries({ ...ENTRIES, configs: 1 }, 'log.')).toBe('log.configs must be an array');
    expect(validateLogEntries({ ...ENTRIES, configs: 1 })).toBe('configs must be an array');
  });
});

describe('configurations and id lists', () => {
  test('each list of a configuration, broken, is named with its path', () => {
    const rows: Row[] = [];
    for (const list of ['voters', 'newVoters', 'nonVoters']) {
      const config = (value: unknown): unknown => edit('proposeConfig', { config: { ...CONFIG, [list]: value } });
      rows.push([`${list} missing`, config(undefined), `config.${list} must be an array of node ids`]);
      rows.push([`${list} a string`, config('a'), `config.${list} must be an array of node ids`]);
      rows.push([`${list} with an empty id`, config(['f', '']), `config.${list}[1] must be a non-empty string`]);
      rows.push([`${list} with a number`, config([1]), `config.${list}[0] must be a non-empty string`]);
      rows.push([`${list} unsorted`, config(['g', 'f']), `config.${list} must be sorted ascending without duplicates`]);
      rows.push([`${list} repeated`, config(['f', 'f']), `config.${list} must be sorted ascending without duplicates`]);
    }
    expectRows(rows);
  });

  test('the rules of a configuration', () => {
    const proposing = (config: unknown): unknown => edit('proposeConfig', { config });
    expectRows([
      ['not an object', proposing(['a']), 'config must be an object'],
      ['missing', edit('proposeConfig', { config: undefined }), 'config must be an object'],
      ['an extra key', proposing({ ...CONFIG, learners: [] }), 'config must hold only voters, newVoters and nonVoters'],
      [
        'a key short',
        proposing({ voters: ['a'], newVoters: [] }),
        'config must hold only voters, newVoters and nonVoters',
      ],
      [
        'a class instance',
        proposing(Object.assign(new (class {})(), CONFIG)),
        'config must hold only voters, newVoters and nonVoters',
      ],
      [
        'a voter also a non-voter',
        proposing({ ...CONFIG, nonVoters: ['c', 'd'] }),
        'config.nonVoters must not contain a voter ("c")',
      ],
      [
        'a new voter also a non-voter',
        proposing({ ...CONFIG, nonVoters: ['d', 'e'] }),
        'config.nonVoters must not contain a voter ("e")',
      ],
      [
        'a snapshot with a broken configuration',
        edit('snapshotInstalled', { config: { ...CONFIG, voters: [''] } }),
        'config.voters[0] must be a non-empty string',
      ],
      [
        'createCluster without voters',
        edit('createCluster', { voters: undefined }),
        'voters must be an array of node ids',
      ],
      [
        'createCluster with a number',
        edit('createCluster', { voters: ['a', 2] }),
        'voters[1] must be a non-empty string',
      ],
      [
        'createCluster unsorted',
        edit('createCluster', { voters: ['b', 'a'] }),
        'voters must be sorted ascending without duplicates',
      ],
    ]);
    expect(validateConfig({ voters: [], newVoters: [], nonVoters: [] })).toBeNull();
    expect(validateConfig({ voters: ['a', 'c'], newVoters: ['b'], nonVoters: ['ab', 'bb', 'd'] })).toBeNull();
    expect(validateConfig(null)).toBe('config must be an object');
    expect(validateConfig({ ...CONFIG, voters: 'a' })).toBe('voters must be an array of node ids');
    expect(validateConfig({ ...CONFIG, nonVoters: ['a'] }, 'snap.config.')).toBe(
      'snap.config.nonVoters must not contain a voter ("a")',
    );
    const noPrototype = Object.assign(Object.create(null) as object, CONFIG);
    expect(parseConfig(noPrototype)).toEqual(CONFIG);
    expect(parseConfig([])).toBe('config must be an object');
  });

  test('read ids: a non-empty list of distinct non-empty strings', () => {
    const ids = (value: unknown): unknown => edit('readIndex', { ids: value });
    expectRows([
      ['missing', ids(undefined), 'ids must be an array of read ids'],
      ['a string', ids('r1'), 'ids must be an array of read ids'],
      ['empty', ids([]), 'ids must not be empty'],
      ['an empty id', ids(['r1', '']), 'ids[1] must be a non-empty string'],
      ['a number', ids([7]), 'ids[0] must be a non-empty string'],
      ['repeated', ids(['r1', 'r2', 'r1']), 'ids[2] repeats "r1"'],
    ]);
    expect(parseEvent(ids(['z', 'a']))).toEqual({ ...EXAMPLES.readIndex, ids: ['z', 'a'] });
  });

  test('read answers: a non-empty list of {id, index}, index -1 for a refusal', () => {
    const reads = (value: unknown): unknown => edit('readIndexReply', { reads: value });
    const want = (i: number): string => `reads[${i}].index must be -1 or an integer from 0 to 2^53 - 2`;
    expectRows([
      ['missing', reads(undefined), 'reads must be an array of {id, index}'],
      ['an object', reads({ id: 'r1', index: 1 }), 'reads must be an array of {id, index}'],
      ['empty', reads([]), 'reads must not be empty'],
      ['an answer that is not an object', reads([{ id: 'r1', index: 1 }, 'r2']), 'reads[1] must be an object'],
      ['an answer that is an array', reads([['r1', 1]]), 'reads[0] must be an object'],
      ['an empty id', reads([{ id: '', index: 1 }]), 'reads[0].id must be a non-empty string'],
      ['no index', reads([{ id: 'r1' }]), want(0)],
      [
        'index -2',
        reads([
          { id: 'r1', index: 0 },
          { id: 'r2', index: -2 },
        ]),
        want(1),
      ],
      ['index 1.5', reads([{ id: 'r1', index: 1.5 }]), want(0)],
      ['index past the range', reads([{ id: 'r1', index: MAX_POSITION + 1 }]), want(0)],
    ]);
    const edges = [
      { id: 'r1', index: 0 },
      { id: 'r2', index: MAX_POSITION },
      { id: 'r3', index: -1 },
    ];
    expect(parseEvent(reads(edges))).toEqual({ ...EXAMPLES.readIndexReply, reads: edges });
  });
});

describe('the exported parsers never throw', () => {
  const boom = new Error('boom');
  test.each([
    ['parseExtension', () => parseExtension(throwingOn(EXAMPLES.preVote!, 'lastIndex', boom), 'preVote')],
    [
      'parsePositionMessage',
      () => parsePositionMessage(throwingOn(EXAMPLES.requestVote!, 'transfer', boom), 'requestVote'),
    ],
    ['parseVoteReply', () => parseVoteReply(throwingOn(EXAMPLES.requestVoteReply!, 'granted', boom))],
    ['parseProposeCount', () => parseProposeCount(throwingOn(EXAMPLES.propose!, 'count', boom))],
    ['parseCreateCluster', () => parseCreateCluster(throwingOn(EXAMPLES.createCluster!, 'voters', boom))],
    ['parseProposeConfig', () => parseProposeConfig(throwingOn(EXAMPLES.proposeConfig!, 'config', boom))],
    ['parseSnapshotInstalled', () => parseSnapshotInstalled(throwingOn(EXAMPLES.snapshotInstalled!, 'index', boom))],
    ['validateEvent', () => validateEvent(throwingOn(EXAMPLES.appendEntries!, 'entries', boom))],
  ])('%s: a field that throws when read makes the event unreadable', (_name, parse) => {
    expect(parse()).toBe('event could not be read: boom');
  });

  test('each parser returns the copy, or the problem, of a readable event', () => {
    const copies: [unknown, unknown][] = [
      [parseExtension(EXAMPLES.read!, 'read'), EXAMPLES.read],
      [parseExtension(EXAMPLES.transferLeadership!, 'transferLeadership'), EXAMPLES.transferLeadership],
      [parsePositionMessage(EXAMPLES.appendEntriesReply!, 'appendEntriesReply'), EXAMPLES.appendEntriesReply],
      [parsePositionMessage(EXAMPLES.requestVote!, 'requestVote'), EXAMPLES.requestVote],
      [parseVoteReply(EXAMPLES.requestVoteReply!), EXAMPLES.requestVoteReply],
      [parseCreateCluster(EXAMPLES.createCluster!), EXAMPLES.createCluster],
      [parseProposeConfig(EXAMPLES.proposeConfig!), EXAMPLES.proposeConfig],
      [parseSnapshotInstalled(EXAMPLES.snapshotInstalled!), EXAMPLES.snapshotInstalled],
    ];
    for (const [got, want] of copies) expect(got).toEqual(want);
    expect(parseVoteReply(edit('requestVoteReply', { granted: 1 }))).toBe('granted must be a boolean');
    expect(parseExtension(edit('read', { id: '' }), 'read')).toBe('id must be a non-empty string');
  });

  test('what is thrown is described when it can be', () => {
    expect(unreadable(new TypeError('no such field'))).toBe('event could not be read: no such field');
    expect(unreadable('a string')).toBe('event could not be read: a string');
    expect(unreadable(42)).toBe('event could not be read: 42');
    const undescribable = {
      toString(): string {
        throw new Error('not this either');
      },
    };
    expect(unreadable(undescribable)).toBe('event could not be read: an exception that cannot be described');
    const badMessage = Object.defineProperty(new Error(), 'message', {
      get(): string {
        throw new Error('nor this');
      },
    });
    expect(unreadable(badMessage)).toBe('event could not be read: an exception that cannot be described');
  });
});
