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

/** True for a non-negative safe integer: a term, an index or a count. */
export function isNatural(x: unknown): x is number {
  return typeof x === 'number' && Number.isSafeInteger(x) && x >= 0;
}

type Obj = Record<string, unknown>;

function isObject(x: unknown): x is Obj {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** The problem with `event`, or null when it is a well-formed event. */
export function validateEvent(event: unknown): string | null {
  if (!isObject(event)) return 'event must be an object';
  switch (event.type) {
    case 'appendEntries':
      return checkFields(event, 'from', 'term') ?? checkNatural(event, 'commitIndex') ?? checkAppendEntries(event);
    case 'appendEntriesReply':
    case 'requestVote':
      return checkFields(event, 'from', 'term') ?? checkLastPosition(event);
    case 'requestVoteReply':
      return checkFields(event, 'from', 'term') ?? (typeof event.granted === 'boolean' ? null : 'granted must be a boolean');
    case 'propose':
      if (event.count === undefined) return null;
      return isNatural(event.count) && event.count > 0 ? null : 'count must be a positive safe integer';
    case 'heartbeat':
    case 'timeout':
      return null;
    case 'createCluster':
      return checkIdList(event.voters, 'voters');
    default:
      return typeof event.type === 'string' ? `unknown event type "${event.type}"` : 'event.type must be a string';
  }
}

function checkFields(m: Obj, fromKey: 'from', termKey: 'term'): string | null {
  if (!isNodeId(m[fromKey])) return `${fromKey} must be a non-empty string`;
  return checkNatural(m, termKey);
}

function checkNatural(o: Obj, key: string, where = ''): string | null {
  return isNatural(o[key]) ? null : `${where}${key} must be a non-negative safe integer`;
}

function checkLastPosition(m: Obj): string | null {
  const problem = checkNatural(m, 'lastTerm') ?? checkNatural(m, 'lastIndex');
  if (problem !== null) return problem;
  if ((m.lastTerm as number) > (m.term as number)) return 'lastTerm must not exceed term';
  return checkAnchor(m.lastTerm as number, m.lastIndex as number, '');
}

function checkAppendEntries(m: Obj): string | null {
  const problem = validateLogEntries(m.entries, 'entries.');
  if (problem !== null) return problem;
  if (((m.entries as Obj).lastTerm as number) > (m.term as number)) return 'entries.lastTerm must not exceed term';
  return null;
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
  const p =
    checkNatural(x, 'prevTerm', where) ??
    checkNatural(x, 'prevIndex', where) ??
    checkNatural(x, 'lastTerm', where) ??
    checkNatural(x, 'lastIndex', where);
  if (p !== null) return p;
  const prevTerm = x.prevTerm as number;
  const prevIndex = x.prevIndex as number;
  const lastTerm = x.lastTerm as number;
  const lastIndex = x.lastIndex as number;
  if (prevIndex > lastIndex) return `${where}prevIndex must not exceed lastIndex`;
  const anchor = checkAnchor(prevTerm, prevIndex, where);
  if (anchor !== null) return anchor;
  const starts = x.termStarts;
  if (!Array.isArray(starts)) return `${where}termStarts must be an array`;
  let index = prevIndex;
  let term = prevTerm;
  for (let i = 0; i < starts.length; i++) {
    const s: unknown = starts[i];
    const at = `${where}termStarts[${i}].`;
    if (!isObject(s)) return `${at.slice(0, -1)} must be an object`;
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
  const configs = x.configs;
  if (!Array.isArray(configs)) return `${where}configs must be an array`;
  index = prevIndex;
  for (let i = 0; i < configs.length; i++) {
    const c: unknown = configs[i];
    const at = `${where}configs[${i}].`;
    if (!isObject(c)) return `${at.slice(0, -1)} must be an object`;
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
