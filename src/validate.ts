/**
 * The checks at the boundary that make `step` total: every event is checked for shape before any
 * rule of Raft looks at it, and a malformed one is answered with the first problem found.
 *
 * Well-formed means: an object with a known `type`; node ids are non-empty strings; terms, indices
 * and counts are integers from 0 to {@link MAX_POSITION} (so that a node can always add 1 to any of
 * them and stay a safe integer); log runs and configurations satisfy the contracts documented on
 * `LogEntries` and `ClusterConfig`; and nothing a correct peer cannot send (entries or positions
 * from a term above the message's own term).
 *
 * Each check is also a parser: it reads every field of the event exactly once and returns a plain
 * copy of what it found (or the problem, as a string). The rules only ever see these copies, so an
 * event built from getters, proxies or objects with hidden keys can neither change between the check
 * and its use nor leave anything but plain data in the state. (On the hot path, `step` reads the
 * scalar fields of `appendEntries` and `appendEntriesReply` once each and has them checked here; the
 * rules then take those values, and a plain copy of the entries, instead of a copy of the message.)
 */
import type { ClusterConfig } from './config.js';
import type {
  AppendPersistedEvent,
  CreateClusterEvent,
  HeartbeatEvent,
  ProposeEvent,
  ProposeConfigEvent,
  RaftEvent,
  ReadEvent,
  SnapshotInstalledEvent,
  TimeoutEvent,
  TransferLeadershipEvent,
} from './events.js';
import { NO_ITEMS, toChunks } from './chunks.js';
import { makeEntries, type ConfigEntry, type LogEntries, type TermStart } from './log.js';
import {
  appendEntriesCall,
  appendEntriesReply,
  leadershipCheck,
  leadershipCheckReply,
  preVote,
  preVoteReply,
  readIndex,
  readIndexReply,
  requestVote,
  requestVoteReply,
  timeoutNow,
  type AppendEntries,
  type AppendEntriesReply,
  type ExtensionMessage,
  type ReadAnswer,
  type RequestVote,
  type RequestVoteReply,
} from './messages.js';

/**
 * The highest term, index or count an event may carry: `Number.MAX_SAFE_INTEGER - 1` (2^53 - 2).
 * A node must always be able to add 1 to its term (to campaign) and to its last index (to append)
 * without leaving the safe integers, so the top value itself is refused everywhere: in messages, in
 * `snapshotInstalled`, in `propose` counts and in the persisted state given to `restartNode`.
 */
export const MAX_POSITION = Number.MAX_SAFE_INTEGER - 1;

/** True for a non-empty string, the only kind of node id. */
export function isNodeId(x: unknown): x is string {
  return typeof x === 'string' && x.length > 0;
}

// Module constants: isNatural runs for every number of every message.
// (MAX_POSITION itself would be read as `exports.MAX_POSITION` in the CommonJS build: a property
// load on every check instead of a constant.)
const floor = Math.floor;
const MAX = Number.MAX_SAFE_INTEGER - 1;

/** True for an integer in `[0, MAX_POSITION]`: a term, an index or a count. */
export function isNatural(x: unknown): x is number {
  return typeof x === 'number' && x >= 0 && x <= MAX && floor(x) === x;
}

/** The text of a problem with a number: `what` must be an integer in `[0, MAX_POSITION]`. */
function notNatural(what: string): string {
  return `${what} must be an integer from 0 to 2^53 - 2`;
}

type Obj = Record<string, unknown>;

/** What the parsers look into: a non-null object that is not an array. */
export type EventObject = Obj;

/** True for a value the parsers can look into (see {@link EventObject}). */
export function isEventObject(x: unknown): x is EventObject {
  return isObject(x);
}

/** The problem reported for an event that is not an object. */
export const NOT_AN_OBJECT = 'event must be an object';

function isObject(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** A parse result: the plain copy, or the problem found (a string). */
export type Parsed<T> = T | string;

/**
 * The problem with `event`, or null when it is a well-formed event: the checks `step` runs (see
 * `parseEvent` in `validate.ts`). Never throws: an event whose fields cannot be read is malformed too.
 */
export function validateEvent(event: unknown): string | null {
  try {
    const r = parseEvent(event);
    return typeof r === 'string' ? r : null;
  } catch (err) {
    return unreadable(err);
  }
}

/** The problem reported for an event whose fields threw when read (a getter or a proxy trap). */
export function unreadable(err: unknown): string {
  let what: string;
  try {
    what = err instanceof Error ? String(err.message) : String(err);
  } catch {
    what = 'an exception that cannot be described';
  }
  return `event could not be read: ${what}`;
}

const HEARTBEAT: HeartbeatEvent = Object.freeze({ type: 'heartbeat' });
const TIMEOUT: TimeoutEvent = Object.freeze({ type: 'timeout' });
const PROPOSE_ONE: ProposeEvent = Object.freeze({ type: 'propose', count: 1 });

/**
 * A plain copy of `event` when it is well-formed, else its problem (a string). Reads each field of
 * the event once. May throw when reading a field throws (a getter, a proxy): `step` reports that as
 * a malformed event.
 */
export function parseEvent(event: unknown): Parsed<RaftEvent> {
  if (!isObject(event)) return NOT_AN_OBJECT;
  const type = event.type;
  switch (type) {
    case 'appendEntries':
      return readAppendEntries(event);
    case 'appendEntriesReply':
    case 'requestVote':
      return readPositionMessage(event, type);
    case 'requestVoteReply':
      return readVoteReply(event);
    case 'propose':
      return parsePropose(event);
    case 'heartbeat':
      return HEARTBEAT;
    case 'timeout':
      return TIMEOUT;
    case 'createCluster':
      return readCreateCluster(event);
    case 'proposeConfig':
      return readProposeConfig(event);
    case 'snapshotInstalled':
      return readSnapshotInstalled(event);
    default:
      return isExtensionType(type) ? readExtension(event, type) : unknownTypeProblem(type);
  }
}

/** The event types of the protocol extensions: their messages and the application's requests. */
export type ExtensionType = ExtensionMessage['type'] | 'read' | 'transferLeadership' | 'appendPersisted';

const EXTENSION_TYPES: ReadonlySet<unknown> = new Set<ExtensionType>([
  'preVote',
  'preVoteReply',
  'timeoutNow',
  'leadershipCheck',
  'leadershipCheckReply',
  'readIndex',
  'readIndexReply',
  'read',
  'transferLeadership',
  'appendPersisted',
]);

/** True when `type` names an event of the protocol extensions (see {@link ExtensionType}). */
export function isExtensionType(type: unknown): type is ExtensionType {
  return EXTENSION_TYPES.has(type);
}

/** An extension message or request (see {@link ExtensionType}), copied; or its problem. Never throws. */
export function parseExtension(
  event: EventObject,
  type: ExtensionType,
): Parsed<ExtensionMessage | ReadEvent | TransferLeadershipEvent | AppendPersistedEvent> {
  try {
    return readExtension(event, type);
  } catch (err) {
    return unreadable(err);
  }
}

function readExtension(
  event: EventObject,
  type: ExtensionType,
): Parsed<ExtensionMessage | ReadEvent | TransferLeadershipEvent | AppendPersistedEvent> {
  if (type === 'read') {
    const id = event.id;
    return isNodeId(id) ? { type: 'read', id } : 'id must be a non-empty string';
  }
  if (type === 'transferLeadership') {
    const to = event.to;
    return isNodeId(to) ? { type: 'transferLeadership', to } : 'to must be a non-empty string';
  }
  if (type === 'appendPersisted') {
    const term = event.term;
    const index = event.index;
    if (!isNatural(term)) return notNatural('term');
    if (!isNatural(index)) return notNatural('index');
    return { type: 'appendPersisted', term, index };
  }
  const from = event.from;
  const term = event.term;
  if (!isNodeId(from)) return 'from must be a non-empty string';
  if (!isNatural(term)) return notNatural('term');
  switch (type) {
    case 'preVote': {
      const lastTerm = event.lastTerm;
      const lastIndex = event.lastIndex;
      const problem = positionMessageProblem(from, term, lastTerm, lastIndex);
      return problem ?? preVote(from, term, lastTerm as number, lastIndex as number);
    }
    case 'preVoteReply': {
      const granted = event.granted;
      return typeof granted === 'boolean' ? preVoteReply(from, term, granted) : 'granted must be a boolean';
    }
    case 'timeoutNow':
      return timeoutNow(from, term);
    case 'leadershipCheck':
    case 'leadershipCheckReply': {
      const round = event.round;
      if (!isNatural(round) || round < 1) return 'round must be an integer from 1 to 2^53 - 2';
      return type === 'leadershipCheck' ? leadershipCheck(from, term, round) : leadershipCheckReply(from, term, round);
    }
    case 'readIndex': {
      const ids = readIds(event.ids);
      return typeof ids === 'string' ? ids : readIndex(from, term, ids);
    }
    case 'readIndexReply': {
      const reads = readAnswers(event.reads);
      return typeof reads === 'string' ? reads : readIndexReply(from, term, reads);
    }
  }
}

/** A non-empty list of read ids without duplicates, copied; or its problem. */
function readIds(x: unknown): Parsed<readonly string[]> {
  if (!Array.isArray(x)) return 'ids must be an array of read ids';
  const list = x as readonly unknown[];
  const n = list.length;
  if (n === 0) return 'ids must not be empty';
  const out: string[] = [];
  const seen = new Set<string>();
  for (let i = 0; i < n; i++) {
    const id = list[i];
    if (!isNodeId(id)) return `ids[${i}] must be a non-empty string`;
    if (seen.has(id)) return `ids[${i}] repeats "${id}"`;
    seen.add(id);
    out.push(id);
  }
  return out;
}

/** A non-empty list of read answers `{id, index}` (index -1 for a refusal), copied; or its problem. */
function readAnswers(x: unknown): Parsed<readonly ReadAnswer[]> {
  if (!Array.isArray(x)) return 'reads must be an array of {id, index}';
  const list = x as readonly unknown[];
  const n = list.length;
  if (n === 0) return 'reads must not be empty';
  const out: ReadAnswer[] = [];
  for (let i = 0; i < n; i++) {
    const a = list[i];
    if (!isObject(a)) return `reads[${i}] must be an object`;
    const id = a.id;
    const index = a.index;
    if (!isNodeId(id)) return `reads[${i}].id must be a non-empty string`;
    if (index !== -1 && !isNatural(index)) return `reads[${i}].index must be -1 or an integer from 0 to 2^53 - 2`;
    out.push({ id, index });
  }
  return out;
}

// The parsers `step` calls. Each reads its event inside a try, so that a getter or a proxy trap that
// throws makes the event malformed (`event could not be read: ...`) and never reaches a rule.
// (`appendEntries` and `appendEntriesReply`, the hot path, are read by `step` itself, inside its own
// try, and checked with `appendEntriesProblem`, `parseAppendedEntries` and `positionMessageProblem`:
// their rules take the values read, so that no copy of the message is built.)

/** An `appendEntriesReply` or `requestVote` message, copied; or its problem. Never throws. */
export function parsePositionMessage(
  event: EventObject,
  type: 'appendEntriesReply' | 'requestVote',
): Parsed<AppendEntriesReply | RequestVote> {
  try {
    return readPositionMessage(event, type);
  } catch (err) {
    return unreadable(err);
  }
}

/** A `requestVoteReply` message, copied; or its problem. Never throws. */
export function parseVoteReply(event: EventObject): Parsed<RequestVoteReply> {
  try {
    return readVoteReply(event);
  } catch (err) {
    return unreadable(err);
  }
}

/** The command count of a `propose` event (1 when absent); or its problem. Never throws. */
export function parseProposeCount(event: EventObject): Parsed<number> {
  try {
    return readProposeCount(event);
  } catch (err) {
    return unreadable(err);
  }
}

/** A `createCluster` event, copied; or its problem. Never throws. */
export function parseCreateCluster(event: EventObject): Parsed<CreateClusterEvent> {
  try {
    return readCreateCluster(event);
  } catch (err) {
    return unreadable(err);
  }
}

/** A `proposeConfig` event, copied; or its problem. Never throws. */
export function parseProposeConfig(event: EventObject): Parsed<ProposeConfigEvent> {
  try {
    return readProposeConfig(event);
  } catch (err) {
    return unreadable(err);
  }
}

/** A `snapshotInstalled` event, copied; or its problem. Never throws. */
export function parseSnapshotInstalled(event: EventObject): Parsed<SnapshotInstalledEvent> {
  try {
    return readSnapshotInstalled(event);
  } catch (err) {
    return unreadable(err);
  }
}

// Messages are read field by field with plain property reads: these run on every hot path.

/** An `appendEntries` message, copied; or its problem. */
function readAppendEntries(event: EventObject): Parsed<AppendEntries> {
  const from = event.from;
  const term = event.term;
  const commitIndex = event.commitIndex;
  const problem = appendEntriesProblem(from, term, commitIndex);
  if (problem !== null) return problem;
  const entries = parseAppendedEntries(event.entries, term as number);
  if (typeof entries === 'string') return entries;
  return appendEntriesCall(from as string, term as number, commitIndex as number, entries);
}

/**
 * The problem with the fields of an `appendEntries` message other than its entries (already read,
 * once, by the caller), or null. When null, `from` is a node id and `term` and `commitIndex` are
 * naturals (see {@link isNatural}).
 */
export function appendEntriesProblem(from: unknown, term: unknown, commitIndex: unknown): string | null {
  if (!isNodeId(from)) return 'from must be a non-empty string';
  if (!isNatural(term)) return notNatural('term');
  if (!isNatural(commitIndex)) return notNatural('commitIndex');
  return null;
}

/**
 * The entries of an `appendEntries` message of `term` (a natural), copied; or their problem. Reads
 * each field of `x` once; may throw when a read throws.
 */
export function parseAppendedEntries(x: unknown, term: number): Parsed<LogEntries> {
  const entries = parseLogEntries(x, 'entries.');
  if (typeof entries === 'string') return entries;
  return entries.lastTerm > term ? 'entries.lastTerm must not exceed term' : entries;
}

/** An `appendEntriesReply` or `requestVote` message (both carry a position), copied; or its problem. */
function readPositionMessage(
  event: EventObject,
  type: 'appendEntriesReply' | 'requestVote',
): Parsed<AppendEntriesReply | RequestVote> {
  const from = event.from;
  const term = event.term;
  const lastTerm = event.lastTerm;
  const lastIndex = event.lastIndex;
  const problem = positionMessageProblem(from, term, lastTerm, lastIndex);
  if (problem !== null) return problem;
  if (type === 'appendEntriesReply') {
    return appendEntriesReply(from as string, term as number, lastTerm as number, lastIndex as number);
  }
  const transfer = event.transfer;
  if (transfer !== undefined && typeof transfer !== 'boolean') return 'transfer must be a boolean when present';
  return requestVote(from as string, term as number, lastTerm as number, lastIndex as number, transfer === true);
}

/**
 * The problem with the fields of an `appendEntriesReply` or `requestVote` message (already read,
 * once, by the caller), or null. When null, `from` is a node id and the others are naturals (see
 * {@link isNatural}) with `lastTerm <= term` and a possible position `(lastTerm, lastIndex)`.
 */
export function positionMessageProblem(
  from: unknown,
  term: unknown,
  lastTerm: unknown,
  lastIndex: unknown,
): string | null {
  if (!isNodeId(from)) return 'from must be a non-empty string';
  if (!isNatural(term)) return notNatural('term');
  if (!isNatural(lastTerm)) return notNatural('lastTerm');
  if (!isNatural(lastIndex)) return notNatural('lastIndex');
  if (lastTerm > term) return 'lastTerm must not exceed term';
  return anchorProblem(lastTerm, lastIndex, '');
}

/** A `requestVoteReply` message, copied; or its problem. */
function readVoteReply(event: EventObject): Parsed<RequestVoteReply> {
  const from = event.from;
  const term = event.term;
  const granted = event.granted;
  if (!isNodeId(from)) return 'from must be a non-empty string';
  if (!isNatural(term)) return notNatural('term');
  if (typeof granted !== 'boolean') return 'granted must be a boolean';
  return requestVoteReply(from, term, granted);
}

/** The command count of a `propose` event (1 when absent); or its problem. */
function readProposeCount(event: EventObject): Parsed<number> {
  const count = event.count;
  if (count === undefined) return 1;
  return isNatural(count) && count > 0 ? count : 'count must be an integer from 1 to 2^53 - 2';
}

/** A `propose` event, copied (`count` 1 when absent); or its problem. */
export function parsePropose(event: EventObject): Parsed<ProposeEvent> {
  const count = event.count;
  if (count === undefined || count === 1) return PROPOSE_ONE;
  return isNatural(count) && count > 0 ? { type: 'propose', count } : 'count must be an integer from 1 to 2^53 - 2';
}

/** The voters of a `createCluster` event, copied; or its problem. */
function readCreateCluster(event: EventObject): Parsed<CreateClusterEvent> {
  const voters = parseSortedIds(event.voters, 'voters');
  return typeof voters === 'string' ? voters : { type: 'createCluster', voters };
}

/** The configuration of a `proposeConfig` event, copied; or its problem. */
function readProposeConfig(event: EventObject): Parsed<ProposeConfigEvent> {
  const config = parseConfig(event.config, 'config.');
  return typeof config === 'string' ? config : { type: 'proposeConfig', config };
}

/** A `snapshotInstalled` event, copied; or its problem. */
function readSnapshotInstalled(event: EventObject): Parsed<SnapshotInstalledEvent> {
  const term = event.term;
  const index = event.index;
  if (!isNatural(term)) return notNatural('term');
  if (!isNatural(index)) return notNatural('index');
  const anchor = anchorProblem(term, index, '');
  if (anchor !== null) return anchor;
  const config = parseConfig(event.config, 'config.');
  return typeof config === 'string' ? config : { type: 'snapshotInstalled', term, index, config };
}

/** The problem with an event whose `type` is none of the known ones. */
export function unknownTypeProblem(type: unknown): string {
  return typeof type === 'string' ? `unknown event type "${type}"` : 'event.type must be a string';
}

/**
 * True for a plain object (or one without prototype) with exactly `keys` own properties: the
 * objects inside log runs and configurations may carry nothing else.
 */
function isRecordOf(o: Obj, keys: number): boolean {
  const proto: unknown = Object.getPrototypeOf(o);
  return (proto === Object.prototype || proto === null) && Reflect.ownKeys(o).length === keys;
}

function anchorProblem(term: number, index: number, where: string): string | null {
  return index === 0 && term !== 0 ? `${where}position (${term}, 0) is impossible: index 0 has term 0` : null;
}

const NO_CONFIGS: readonly ConfigEntry[] = Object.freeze([]);

/**
 * A log run, copied, when it satisfies the `LogEntries` contract; otherwise its problem. `where`
 * prefixes the field names in the message.
 */
export function parseLogEntries(x: unknown, where = ''): Parsed<LogEntries> {
  if (!isObject(x)) return `${where.slice(0, -1) || 'entries'} must be an object`;
  const prevTerm = x.prevTerm;
  const prevIndex = x.prevIndex;
  const lastTerm = x.lastTerm;
  const lastIndex = x.lastIndex;
  const startsIn = x.termStarts;
  const configsIn = x.configs;
  const starts = Array.isArray(startsIn) ? (startsIn as readonly unknown[]) : null;
  const configs = Array.isArray(configsIn) ? (configsIn as readonly unknown[]) : null;
  const startCount = starts === null ? -1 : starts.length;
  const configCount = configs === null ? -1 : configs.length;
  // The common case, kept small: a run of commands in one term (what every proposal replicates).
  if (
    startCount === 0 &&
    configCount === 0 &&
    isNatural(prevTerm) &&
    isNatural(prevIndex) &&
    lastTerm === prevTerm &&
    isNatural(lastIndex) &&
    prevIndex <= lastIndex &&
    (prevIndex !== 0 || prevTerm === 0)
  ) {
    return makeEntries(prevTerm, prevIndex, lastTerm, lastIndex, NO_ITEMS, NO_CONFIGS);
  }
  return parseRun({ prevTerm, prevIndex, lastTerm, lastIndex, starts, startCount, configs, configCount }, where);
}

/** The fields of a log run as read (once) by {@link parseLogEntries}. */
interface RunFields {
  readonly prevTerm: unknown;
  readonly prevIndex: unknown;
  readonly lastTerm: unknown;
  readonly lastIndex: unknown;
  readonly starts: readonly unknown[] | null;
  readonly startCount: number;
  readonly configs: readonly unknown[] | null;
  readonly configCount: number;
}

/** The general case of {@link parseLogEntries}: every check, with the problem named. */
function parseRun(r: RunFields, where: string): Parsed<LogEntries> {
  const { prevTerm, prevIndex, lastTerm, lastIndex } = r;
  if (!isNatural(prevTerm)) return notNatural(`${where}prevTerm`);
  if (!isNatural(prevIndex)) return notNatural(`${where}prevIndex`);
  if (!isNatural(lastTerm)) return notNatural(`${where}lastTerm`);
  if (!isNatural(lastIndex)) return notNatural(`${where}lastIndex`);
  if (prevIndex > lastIndex) return `${where}prevIndex must not exceed lastIndex`;
  const anchor = anchorProblem(prevTerm, prevIndex, where);
  if (anchor !== null) return anchor;
  if (r.starts === null) return `${where}termStarts must be an array of chunks (arrays of term starts)`;
  if (r.configs === null) return `${where}configs must be an array`;
  const starts =
    r.startCount === 0 ? [] : parseTermStarts(r.starts, r.startCount, prevIndex, prevTerm, lastIndex, where);
  if (typeof starts === 'string') return starts;
  const last = starts.length === 0 ? prevTerm : starts[starts.length - 1]!.term;
  if (last !== lastTerm) return `${where}lastTerm must be the term of the last term start (or prevTerm)`;
  const configs =
    r.configCount === 0
      ? NO_CONFIGS
      : parseConfigEntries(r.configs, r.configCount, prevIndex, lastIndex, starts, where);
  if (typeof configs === 'string') return configs;
  return makeEntries(prevTerm, prevIndex, lastTerm, lastIndex, toChunks(starts), configs);
}

/** The problem with a log run, or null when it satisfies the `LogEntries` contract. */
export function validateLogEntries(x: unknown, where = ''): string | null {
  const r = parseLogEntries(x, where);
  return typeof r === 'string' ? r : null;
}

/**
 * The term starts of a run, read from their chunks into one flat copy (the caller re-chunks it, so
 * any chunking is accepted: chunks of any size, empty ones included), or their problem.
 */
function parseTermStarts(
  chunks: readonly unknown[],
  chunkCount: number,
  prevIndex: number,
  prevTerm: number,
  lastIndex: number,
  where: string,
): Parsed<TermStart[]> {
  const out: TermStart[] = [];
  let index = prevIndex;
  let term = prevTerm;
  for (let c = 0; c < chunkCount; c++) {
    const chunk: unknown = chunks[c];
    if (!Array.isArray(chunk)) return `${where}termStarts[${c}] must be an array (a chunk of term starts)`;
    const list = chunk as readonly unknown[];
    const n = list.length;
    for (let i = 0; i < n; i++) {
      const s: unknown = list[i];
      const at = `${where}termStarts[${c}][${i}]`;
      if (!isObject(s)) return `${at} must be an object`;
      if (!isRecordOf(s, 2)) return `${at} must be a plain object holding only index and term`;
      const si = s.index;
      const st = s.term;
      if (!isNatural(si)) return notNatural(`${at}.index`);
      if (!isNatural(st)) return notNatural(`${at}.term`);
      if (si <= index || si > lastIndex) return `${at}.index must be increasing and within (prevIndex, lastIndex]`;
      if (st <= term) return `${at}.term must be increasing and above prevTerm`;
      out.push({ index: si, term: st });
      index = si;
      term = st;
    }
  }
  return out;
}

function parseConfigEntries(
  list: readonly unknown[],
  n: number,
  prevIndex: number,
  lastIndex: number,
  starts: readonly TermStart[],
  where: string,
): Parsed<readonly ConfigEntry[]> {
  const out: ConfigEntry[] = new Array<ConfigEntry>(n);
  let index = prevIndex;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const c: unknown = list[i];
    const at = `${where}configs[${i}]`;
    if (!isObject(c)) return `${at} must be an object`;
    if (!isRecordOf(c, 2)) return `${at} must be a plain object holding only index and config`;
    const ci = c.index;
    if (!isNatural(ci)) return notNatural(`${at}.index`);
    if (ci <= index || ci > lastIndex) return `${at}.index must be increasing and within (prevIndex, lastIndex]`;
    while (s < starts.length && starts[s]!.index < ci) s++;
    if (s < starts.length && starts[s]!.index === ci)
      return `${at}.index is a term start: an entry is one or the other`;
    const config = parseConfig(c.config, `${at}.config.`);
    if (typeof config === 'string') return config;
    out[i] = { index: ci, config };
    index = ci;
  }
  return out;
}

/**
 * A cluster configuration, copied, when it satisfies the `ClusterConfig` contract (each list sorted
 * ascending without duplicates, no non-voter among the voters); otherwise its problem. Linear in the
 * size of the lists.
 */
export function parseConfig(x: unknown, where = ''): Parsed<ClusterConfig> {
  const what = where.slice(0, -1) || 'config';
  if (!isObject(x)) return `${what} must be an object`;
  if (!isRecordOf(x, 3)) return `${what} must hold only voters, newVoters and nonVoters`;
  const voters = parseSortedIds(x.voters, `${where}voters`);
  if (typeof voters === 'string') return voters;
  const newVoters = parseSortedIds(x.newVoters, `${where}newVoters`);
  if (typeof newVoters === 'string') return newVoters;
  const nonVoters = parseSortedIds(x.nonVoters, `${where}nonVoters`);
  if (typeof nonVoters === 'string') return nonVoters;
  const shared = firstShared(nonVoters, voters) ?? firstShared(nonVoters, newVoters);
  if (shared !== null) return `${where}nonVoters must not contain a voter ("${shared}")`;
  return { voters, newVoters, nonVoters };
}

/** The problem with a cluster configuration, or null when it satisfies the `ClusterConfig` contract. */
export function validateConfig(x: unknown, where = ''): string | null {
  const r = parseConfig(x, where);
  return typeof r === 'string' ? r : null;
}

/** The first id two sorted lists share, or null: one merge pass. */
function firstShared(a: readonly string[], b: readonly string[]): string | null {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const x = a[i]!;
    const y = b[j]!;
    if (x === y) return x;
    if (x < y) i++;
    else j++;
  }
  return null;
}

/** A list of node ids sorted ascending without duplicates, copied; or its problem. */
function parseSortedIds(x: unknown, what: string): Parsed<readonly string[]> {
  if (!Array.isArray(x)) return `${what} must be an array of node ids`;
  const list = x as readonly unknown[];
  const n = list.length;
  const out: string[] = new Array<string>(n);
  for (let i = 0; i < n; i++) {
    const id = list[i];
    if (!isNodeId(id)) return `${what}[${i}] must be a non-empty string`;
    if (i > 0 && !(out[i - 1]! < id)) return `${what} must be sorted ascending without duplicates`;
    out[i] = id;
  }
  return out;
}
