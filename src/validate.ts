/**
 * The checks at the boundary that make `step` total: every event is checked for shape before any
 * rule of Raft looks at it, and a malformed one is answered with the first problem found.
 *
 * Well-formed means: a plain object with a known `type`; node ids are non-empty strings; terms,
 * indices and counts are non-negative safe integers; log runs and configurations satisfy the
 * contracts documented on `LogEntries` and `ClusterConfig`; and nothing a correct peer cannot send
 * (entries or positions from a term above the message's own term).
 */

/** True for a non-empty string, the only kind of node id. */
export function isNodeId(x: unknown): x is string {
  return typeof x === 'string' && x.length > 0;
}

// Module constants: isNatural runs for every number of every message.
const MAX_SAFE = Number.MAX_SAFE_INTEGER;
const floor = Math.floor;

/** True for a non-negative safe integer: a term, an index or a count. */
export function isNatural(x: unknown): x is number {
  return typeof x === 'number' && x >= 0 && x <= MAX_SAFE && floor(x) === x;
}

type Obj = Record<string, unknown>;

/**
 * What `step` can look into: a non-null object that is not an array. Anything else is answered
 * with {@link NOT_AN_OBJECT}.
 */
export type EventObject = Obj;

/** The problem reported for an event that is not an object. */
export const NOT_AN_OBJECT = 'event must be an object';

/** True for a value `step` can look into (see {@link EventObject}). */
export function isEventObject(x: unknown): x is EventObject {
  return isObject(x);
}

function isObject(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * The problem with `event`, or null when it is a well-formed event. `step` runs the same checks,
 * one event type at a time (the `...Problem` functions below, each for an object whose `type` is
 * already known).
 */
export function validateEvent(event: unknown): string | null {
  if (!isObject(event)) return NOT_AN_OBJECT;
  switch (event.type) {
    case 'appendEntries':
      return appendEntriesProblem(event);
    case 'appendEntriesReply':
    case 'requestVote':
      return positionMessageProblem(event);
    case 'requestVoteReply':
      return voteReplyProblem(event);
    case 'propose':
      return proposeProblem(event);
    case 'heartbeat':
    case 'timeout':
      return null;
    case 'createCluster':
      return createClusterProblem(event);
    case 'proposeConfig':
      return proposeConfigProblem(event);
    case 'snapshotInstalled':
      return snapshotInstalledProblem(event);
    default:
      return unknownTypeProblem(event);
  }
}

// Messages are checked field by field with plain property reads: these run on every hot path.

/** The problem with an `appendEntries` message, or null. */
export function appendEntriesProblem(event: EventObject): string | null {
  const e = event as { from: unknown; term: unknown; commitIndex: unknown; entries: unknown };
  if (!isNodeId(e.from)) return 'from must be a non-empty string';
  if (!isNatural(e.term)) return 'term must be a non-negative safe integer';
  if (!isNatural(e.commitIndex)) return 'commitIndex must be a non-negative safe integer';
  const problem = validateLogEntries(e.entries, 'entries.');
  if (problem !== null) return problem;
  return (e.entries as { lastTerm: number }).lastTerm > e.term ? 'entries.lastTerm must not exceed term' : null;
}

/** The problem with an `appendEntriesReply` or `requestVote` message (both carry a position), or null. */
export function positionMessageProblem(event: EventObject): string | null {
  const e = event as { from: unknown; term: unknown; lastTerm: unknown; lastIndex: unknown };
  if (!isNodeId(e.from)) return 'from must be a non-empty string';
  if (!isNatural(e.term)) return 'term must be a non-negative safe integer';
  if (!isNatural(e.lastTerm)) return 'lastTerm must be a non-negative safe integer';
  if (!isNatural(e.lastIndex)) return 'lastIndex must be a non-negative safe integer';
  if (e.lastTerm > e.term) return 'lastTerm must not exceed term';
  return checkAnchor(e.lastTerm, e.lastIndex, '');
}

/** The problem with a `requestVoteReply` message, or null. */
export function voteReplyProblem(event: EventObject): string | null {
  const e = event as { from: unknown; term: unknown; granted: unknown };
  if (!isNodeId(e.from)) return 'from must be a non-empty string';
  if (!isNatural(e.term)) return 'term must be a non-negative safe integer';
  return typeof e.granted === 'boolean' ? null : 'granted must be a boolean';
}

/** The problem with a `propose` event, or null. */
export function proposeProblem(event: EventObject): string | null {
  const count = event.count;
  if (count === undefined) return null;
  return isNatural(count) && count > 0 ? null : 'count must be a positive safe integer';
}

/** The problem with a `createCluster` event, or null. */
export function createClusterProblem(event: EventObject): string | null {
  return checkIdList(event.voters, 'voters');
}

/** The problem with a `proposeConfig` event, or null. */
export function proposeConfigProblem(event: EventObject): string | null {
  return validateConfig(event.config, 'config.');
}

/** The problem with a `snapshotInstalled` event, or null. */
export function snapshotInstalledProblem(event: EventObject): string | null {
  const e = event as { term: unknown; index: unknown; config: unknown };
  if (!isNatural(e.term)) return 'term must be a non-negative safe integer';
  if (!isNatural(e.index)) return 'index must be a non-negative safe integer';
  return checkAnchor(e.term, e.index, '') ?? validateConfig(e.config, 'config.');
}

/** The problem with an event whose `type` is none of the known ones. */
export function unknownTypeProblem(event: EventObject): string {
  return typeof event.type === 'string' ? `unknown event type "${event.type}"` : 'event.type must be a string';
}

/**
 * True for a plain object (or one without prototype) with exactly `keys` own properties. The objects
 * inside log runs and configurations are kept in the state as they arrive, so they may carry
 * nothing else: no extra data, and nothing that is not JSON.
 */
function isRecordOf(o: Obj, keys: number): boolean {
  const proto: unknown = Object.getPrototypeOf(o);
  return (proto === Object.prototype || proto === null) && Reflect.ownKeys(o).length === keys;
}

function checkNatural(o: Obj, key: string, where = ''): string | null {
  return isNatural(o[key]) ? null : `${where}${key} must be a non-negative safe integer`;
}

function checkAnchor(term: number, index: number, where: string): string | null {
  return index === 0 && term !== 0 ? `${where}position (${term}, 0) is impossible: index 0 has term 0` : null;
}

/**
 * The problem with a log run, or null when it satisfies the `LogEntries` contract. `where`
 * prefixes the field names in the message.
 */
export function validateLogEntries(x: unknown, where = ''): string | null {
  if (!isObject(x)) return `${where.slice(0, -1) || 'entries'} must be an object`;
  const e = x as { prevTerm: unknown; prevIndex: unknown; lastTerm: unknown; lastIndex: unknown; termStarts: unknown };
  const prevTerm = e.prevTerm;
  const prevIndex = e.prevIndex;
  const lastTerm = e.lastTerm;
  const lastIndex = e.lastIndex;
  if (!isNatural(prevTerm)) return `${where}prevTerm must be a non-negative safe integer`;
  if (!isNatural(prevIndex)) return `${where}prevIndex must be a non-negative safe integer`;
  if (!isNatural(lastTerm)) return `${where}lastTerm must be a non-negative safe integer`;
  if (!isNatural(lastIndex)) return `${where}lastIndex must be a non-negative safe integer`;
  if (prevIndex > lastIndex) return `${where}prevIndex must not exceed lastIndex`;
  const anchor = checkAnchor(prevTerm, prevIndex, where);
  if (anchor !== null) return anchor;
  const starts = e.termStarts;
  if (!Array.isArray(starts)) return `${where}termStarts must be an array`;
  if (starts.length === 0 && prevTerm === lastTerm) return checkConfigs(x, prevIndex, lastIndex, where);
  let index = prevIndex;
  let term = prevTerm;
  for (let i = 0; i < starts.length; i++) {
    const s: unknown = starts[i];
    const at = `${where}termStarts[${i}].`;
    if (!isObject(s)) return `${at.slice(0, -1)} must be an object`;
    if (!isRecordOf(s, 2)) return `${at.slice(0, -1)} must be a plain object holding only index and term`;
    const q = checkNatural(s, 'index', at) ?? checkNatural(s, 'term', at);
    if (q !== null) return q;
    if ((s.index as number) <= index || (s.index as number) > lastIndex) {
      return `${at}index must be increasing and within (prevIndex, lastIndex]`;
    }
    if ((s.term as number) <= term) return `${at}term must be increasing and above prevTerm`;
    index = s.index as number;
    term = s.term as number;
  }
  if (term !== lastTerm) return `${where}lastTerm must be the term of the last term start (or prevTerm)`;
  return checkConfigs(x, prevIndex, lastIndex, where);
}

function checkConfigs(x: Obj, prevIndex: number, lastIndex: number, where: string): string | null {
  const configs = x.configs;
  if (!Array.isArray(configs)) return `${where}configs must be an array`;
  let index = prevIndex;
  for (let i = 0; i < configs.length; i++) {
    const c: unknown = configs[i];
    const at = `${where}configs[${i}].`;
    if (!isObject(c)) return `${at.slice(0, -1)} must be an object`;
    if (!isRecordOf(c, 2)) return `${at.slice(0, -1)} must be a plain object holding only index and config`;
    const q = checkNatural(c, 'index', at);
    if (q !== null) return q;
    if ((c.index as number) <= index || (c.index as number) > lastIndex) {
      return `${at}index must be increasing and within (prevIndex, lastIndex]`;
    }
    index = c.index as number;
    const cp = validateConfig(c.config, `${at}config.`);
    if (cp !== null) return cp;
  }
  return null;
}

/** The problem with a cluster configuration, or null when it satisfies the `ClusterConfig` contract. */
export function validateConfig(x: unknown, where = ''): string | null {
  if (!isObject(x)) return `${where.slice(0, -1) || 'config'} must be an object`;
  if (!isRecordOf(x, 3)) return `${where.slice(0, -1) || 'config'} must hold only voters, newVoters and nonVoters`;
  const p =
    checkSortedIds(x.voters, `${where}voters`) ??
    checkSortedIds(x.newVoters, `${where}newVoters`) ??
    checkSortedIds(x.nonVoters, `${where}nonVoters`);
  if (p !== null) return p;
  const nonVoters = x.nonVoters as string[];
  for (const id of nonVoters) {
    if ((x.voters as string[]).includes(id) || (x.newVoters as string[]).includes(id)) {
      return `${where}nonVoters must not contain a voter ("${id}")`;
    }
  }
  return null;
}

function checkIdList(x: unknown, what: string): string | null {
  if (!Array.isArray(x)) return `${what} must be an array of node ids`;
  for (let i = 0; i < x.length; i++) if (!isNodeId(x[i])) return `${what}[${i}] must be a non-empty string`;
  return null;
}

function checkSortedIds(x: unknown, what: string): string | null {
  const p = checkIdList(x, what);
  if (p !== null) return p;
  const ids = x as string[];
  for (let i = 1; i < ids.length; i++) {
    if (!(ids[i - 1]! < ids[i]!)) return `${what} must be sorted ascending without duplicates`;
  }
  return null;
}
