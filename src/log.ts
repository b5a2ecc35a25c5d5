/**
 * The compressed Raft log.
 *
 * raftstep never stores command payloads. A run of log entries is described by its anchor (the
 * position just before the first entry), its last position, the indices where a new term starts
 * (the entry a new leader appends at the start of its term) and the indices that hold cluster
 * configurations. Every other index in the run holds a command whose payload the application keeps,
 * keyed by log index. The size of a run therefore grows with the number of leader changes and
 * configuration changes, never with the number of commands.
 *
 * All functions here are pure and return new objects; inputs are never modified.
 */
import {
  concatItems,
  firstWhere,
  forEachItemBetween,
  itemAt,
  itemsAbove,
  itemsUpTo,
  lastAtOrBelow,
  lastItem,
  NO_ITEMS,
  pushItem,
  type Chunked,
} from './chunks.js';
import type { ClusterConfig } from './config.js';

/** A log position: the term of an entry and its index. Index 0 with term 0 is "before the first entry". */
export interface LogPosition {
  /** The term of the entry at `index` (0 at index 0). */
  readonly term: number;
  /** The entry's log index; the first entry has index 1, and 0 is the position before it. */
  readonly index: number;
}

/** The entry at `index` starts term `term` (a new leader's first entry, Raft's no-op entry). */
export interface TermStart {
  /** The index of the entry that starts the term. */
  readonly index: number;
  /** The term that starts there; every entry from `index` up to the next term start is of this term. */
  readonly term: number;
}

/** The entry at `index` holds the cluster configuration `config`. */
export interface ConfigEntry {
  /** The index of the configuration entry (never also a term start: an entry is one or the other). */
  readonly index: number;
  /**
   * The configuration the entry holds. A node goes by the latest one in its log as soon as it is
   * appended, committed or not (see `latestConfig`).
   */
  readonly config: ClusterConfig;
}

/**
 * A contiguous run of log entries `(prevIndex, lastIndex]`, anchored at `(prevTerm, prevIndex)`.
 *
 * Each field states its part of the contract; a run that breaks it (as an event or in the state
 * given to `restartNode`) makes `step` answer `invalidEvent` and `restartNode` throw. An empty run
 * (`prevIndex === lastIndex`) is an anchor only: as a message it is a heartbeat or a probe, as a
 * storage action it means "truncate after the anchor".
 */
export interface LogEntries {
  /**
   * The term of the anchor, the entry at `prevIndex` (Raft's prevLogTerm in an AppendEntries);
   * 0 when `prevIndex` is 0.
   */
  readonly prevTerm: number;
  /** The index of the anchor: the run holds the entries after it. At most `lastIndex`. */
  readonly prevIndex: number;
  /** The term of the last entry: the term of the last term start, or `prevTerm` when there is none. */
  readonly lastTerm: number;
  /** The index of the last entry; equal to `prevIndex` for an empty run. */
  readonly lastIndex: number;
  /**
   * The entries that start a new term, sorted by index, strictly inside `(prevIndex, lastIndex]`,
   * with strictly increasing terms above `prevTerm`. An entry is of the term of the last term start
   * at or below its index, or of `prevTerm` when there is none. Kept in chunks of at most
   * `CHUNK_SIZE` (256) so that a long log appends a term start without copying its history (see
   * `chunks.ts`; `flatItems` gives them as one array).
   */
  readonly termStarts: Chunked<TermStart>;
  /** The entries that hold a cluster configuration, sorted by index, strictly inside `(prevIndex, lastIndex]`. */
  readonly configs: readonly ConfigEntry[];
}

/** What one log entry is. Commands carry no payload: the application keeps it by index. */
export type LogEntry =
  | {
      /**
       * An application command: neither a term start nor a configuration entry. Its payload is the
       * application's, kept under the entry's index.
       */
      readonly kind: 'command';
      /** The term of the entry: the term of the last term start at or below its index, else `prevTerm`. */
      readonly term: number;
    }
  | {
      /** The entry a new leader appends first in its term (Raft's no-op entry); it carries nothing. */
      readonly kind: 'termStart';
      /** The term the entry starts (the new leader's term). */
      readonly term: number;
    }
  | {
      /** An entry that holds a cluster configuration (a membership change). */
      readonly kind: 'config';
      /** The term of the entry: the term of the last term start at or below its index, else `prevTerm`. */
      readonly term: number;
      /** The configuration the entry holds; nodes go by it from when it is appended (see `ConfigEntry`). */
      readonly config: ClusterConfig;
    };

/**
 * The highest index a log may reach: 2^53 - 2, so that the index after it is still a safe integer.
 * Terms have the same bound (see `MAX_POSITION` in `validate.ts`).
 */
export const MAX_INDEX = Number.MAX_SAFE_INTEGER - 1;

/**
 * Indices kept free above the last command a leader accepts, for the entries the protocol itself
 * appends (a new leader's term start, configuration entries): 2^20. A log filled with commands up to
 * `MAX_INDEX - RESERVED_INDICES` can still elect leaders and change membership a million times.
 */
export const RESERVED_INDICES = 2 ** 20;

/** True when `n` more entries fit in the log without passing `limit` (default {@link MAX_INDEX}). */
export function hasRoomFor(log: LogEntries, n: number, limit = MAX_INDEX): boolean {
  return log.lastIndex <= limit - n;
}

const NO_TERM_STARTS: Chunked<TermStart> = NO_ITEMS;
const NO_CONFIGS: readonly ConfigEntry[] = Object.freeze([]);

/** The one constructor of {@link LogEntries}; every run is built here so all share one shape. */
export function makeEntries(
  prevTerm: number,
  prevIndex: number,
  lastTerm: number,
  lastIndex: number,
  termStarts: Chunked<TermStart>,
  configs: readonly ConfigEntry[],
): LogEntries {
  return {
    prevTerm,
    prevIndex,
    lastTerm,
    lastIndex,
    termStarts: termStarts.length === 0 ? NO_TERM_STARTS : termStarts,
    configs: configs.length === 0 ? NO_CONFIGS : configs,
  };
}

/** An empty run anchored at `(term, index)`. */
export function emptyEntries(term: number, index: number): LogEntries {
  return makeEntries(term, index, term, index, NO_TERM_STARTS, NO_CONFIGS);
}

/** `count` commands appended to a run, in its last term. `count` must be a positive integer. */
export function appendCommands(log: LogEntries, count: number): LogEntries {
  return makeEntries(log.prevTerm, log.prevIndex, log.lastTerm, log.lastIndex + count, log.termStarts, log.configs);
}

/** A run of `count` fresh commands right after `(term, index)` — what a proposal replicates. */
export function commandsAfter(term: number, index: number, count: number): LogEntries {
  return makeEntries(term, index, term, index + count, NO_TERM_STARTS, NO_CONFIGS);
}

/** The run with a term-start entry for `term` appended. `term` must exceed `log.lastTerm`. */
export function appendTermStart(log: LogEntries, term: number): LogEntries {
  const index = log.lastIndex + 1;
  return makeEntries(log.prevTerm, log.prevIndex, term, index, pushItem(log.termStarts, { index, term }), log.configs);
}

/** The run with a configuration entry appended. */
export function appendConfig(log: LogEntries, config: ClusterConfig): LogEntries {
  const index = log.lastIndex + 1;
  return makeEntries(
    log.prevTerm,
    log.prevIndex,
    log.lastTerm,
    index,
    log.termStarts,
    log.configs.concat({ index, config }),
  );
}

/** Number of entries in the run. */
export function entryCount(log: LogEntries): number {
  return log.lastIndex - log.prevIndex;
}

/**
 * The term of the entry at `index`, or -1 when `index` is outside `[prevIndex, lastIndex]`.
 * The anchor itself counts: `termAt(log, log.prevIndex) === log.prevTerm`.
 */
export function termAt(log: LogEntries, index: number): number {
  if (index < log.prevIndex || index > log.lastIndex) return -1;
  // The common case first, kept small for the JIT: no term start in the run.
  return log.termStarts.length === 0 ? log.prevTerm : termAmongStarts(log, index);
}

/** `termAt` for an index of a run with term starts: the last term, or a binary search. */
function termAmongStarts(log: LogEntries, index: number): number {
  if (index === log.lastIndex) return log.lastTerm;
  const starts = log.termStarts;
  const chunk = starts[starts.length - 1]!;
  const last = chunk[chunk.length - 1]!;
  if (last.index <= index) return last.term;
  const start = lastAtOrBelow(starts, index);
  return start === undefined ? log.prevTerm : start.term;
}

/**
 * The first position in `items` (sorted by index) whose index exceeds `index`, or `items.length`:
 * a binary search, so that no lookup is linear in the number of term starts or configurations.
 */
export function firstAbove(items: readonly { readonly index: number }[], index: number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (items[mid]!.index <= index) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The highest index `j` in `[prevIndex, maxIndex]` whose entry has a term `<= term`, or -1 when
 * there is none (the anchor's own term is above `term`). `maxIndex` must lie in
 * `[prevIndex, lastIndex]`. A binary search over the term starts.
 *
 * This is how the leader and a follower find where their logs can still match (Raft's log matching:
 * terms never decrease along a log). A peer whose entry at `i` has term `t` holds only terms `<= t`
 * up to `i`, so none of our entries of a term above `t` can be one it holds: the highest index that
 * can still match is the last one before our first term start above `t`.
 */
export function lastIndexWithTermAtMost(log: LogEntries, term: number, maxIndex: number): number {
  if (termAt(log, maxIndex) <= term) return maxIndex;
  if (log.prevTerm > term) return -1;
  // The first term start with a term above `term` (terms strictly increase along the starts); it
  // exists, since the term at maxIndex is above `term` and the anchor's is not.
  const above = firstWhere(log.termStarts, (s) => s.term > term);
  return above === undefined ? -1 : above.index - 1;
}

/** True when the run holds `(term, index)`; the anchor counts as held. */
export function containsPosition(log: LogEntries, term: number, index: number): boolean {
  if (index === log.lastIndex) return term === log.lastTerm;
  // (termAt answers -1 outside the run: a position of term -1 is never held.)
  const t = termAt(log, index);
  return t === term && t >= 0;
}

/** True when `index` lies in `[prevIndex, lastIndex]`. */
export function containsIndex(log: LogEntries, index: number): boolean {
  return index >= log.prevIndex && index <= log.lastIndex;
}

/** The entry at `index`, or null outside `(prevIndex, lastIndex]`. */
export function entryAt(log: LogEntries, index: number): LogEntry | null {
  if (index <= log.prevIndex || index > log.lastIndex) return null;
  const term = termAt(log, index);
  if (itemAt(log.termStarts, index) !== undefined) return { kind: 'termStart', term };
  const configs = log.configs;
  const c = firstAbove(configs, index) - 1;
  if (c >= 0 && configs[c]!.index === index) return { kind: 'config', term, config: configs[c]!.config };
  return { kind: 'command', term };
}

/**
 * Call `visit(index, term, kind, config)` for every entry of `log` with index in `[from, to]`, in
 * index order, in one pass and without allocating: the way to walk a range of a long log (applying
 * committed commands, attaching payloads to a message). `kind` is `'command'`, `'termStart'` or
 * `'config'`; `config` is the configuration of a `'config'` entry, else null. The range is clipped to
 * `(prevIndex, lastIndex]`: indices outside it (compacted, or not yet appended) are not visited.
 */
export function forEachEntry(
  log: LogEntries,
  from: number,
  to: number,
  visit: (index: number, term: number, kind: LogEntry['kind'], config: ClusterConfig | null) => void,
): void {
  const first = from > log.prevIndex ? from : log.prevIndex + 1;
  const last = to < log.lastIndex ? to : log.lastIndex;
  if (first > last) return;
  const configs = log.configs;
  let ci = firstAbove(configs, first - 1);
  const before = lastAtOrBelow(log.termStarts, first - 1);
  let term = before === undefined ? log.prevTerm : before.term;
  let next = first;
  /** Visit the entries `[next, end]`, all of term `term` and none a term start. */
  const visitUpTo = (end: number): void => {
    for (let i = next; i <= end; i++) {
      if (ci < configs.length && configs[ci]!.index === i) visit(i, term, 'config', configs[ci++]!.config);
      else visit(i, term, 'command', null);
    }
    next = end + 1;
  };
  forEachItemBetween(log.termStarts, first, last, (start) => {
    visitUpTo(start.index - 1);
    term = start.term;
    visit(start.index, term, 'termStart', null);
    next = start.index + 1;
  });
  visitUpTo(last);
}

/** Every entry of the run with its position, in index order (for tests, tools and small runs). */
export function listEntries(log: LogEntries): Array<
  {
    /** The entry's log index, in `(prevIndex, lastIndex]`. */
    index: number;
  } & LogEntry
> {
  const out: Array<{ index: number } & LogEntry> = [];
  for (let i = log.prevIndex + 1; i <= log.lastIndex; i++) out.push({ index: i, ...entryAt(log, i)! });
  return out;
}

/** Keep only the entries with index `<= index` (no-op when `index >= lastIndex`). `index` must be `>= prevIndex`. */
export function truncateAfter(log: LogEntries, index: number): LogEntries {
  if (index >= log.lastIndex) return log;
  const lastTerm = termAt(log, index);
  return makeEntries(
    log.prevTerm,
    log.prevIndex,
    lastTerm,
    index,
    itemsUpTo(log.termStarts, index),
    keepUpTo(log.configs, index),
  );
}

/**
 * The part of the run after the position `(term, index)`, or null when the run does not hold that
 * position. `since(log, log.lastTerm, log.lastIndex)` is an empty run at the end.
 */
export function since(log: LogEntries, term: number, index: number): LogEntries | null {
  if (!containsPosition(log, term, index)) return null;
  if (index === log.prevIndex) return log;
  return makeEntries(
    term,
    index,
    log.lastTerm,
    log.lastIndex,
    itemsAbove(log.termStarts, index),
    keepAbove(log.configs, index),
  );
}

/**
 * Replace everything after `suffix`'s anchor by `suffix` — without checking that the anchor is
 * held. Callers check with {@link containsPosition} first (see {@link appendSuffix}).
 */
export function spliceSuffix(log: LogEntries, suffix: LogEntries): LogEntries {
  if (suffix.prevIndex === log.lastIndex && suffix.termStarts.length === 0 && suffix.configs.length === 0) {
    // The common case on every hot path: commands appended at the end.
    return makeEntries(log.prevTerm, log.prevIndex, suffix.lastTerm, suffix.lastIndex, log.termStarts, log.configs);
  }
  const cut = suffix.prevIndex;
  const termStarts = concatItems(itemsUpTo(log.termStarts, cut), suffix.termStarts);
  const configs = joinRuns(log.configs, cut, suffix.configs);
  return makeEntries(log.prevTerm, log.prevIndex, suffix.lastTerm, suffix.lastIndex, termStarts, configs);
}

/** The items of a sorted list with index `<= index` (the list itself when that is all of them). */
function keepUpTo<T extends { readonly index: number }>(items: readonly T[], index: number): readonly T[] {
  const n = items.length;
  if (n === 0 || items[n - 1]!.index <= index) return items;
  return items.slice(0, firstAbove(items, index));
}

/** The items of a sorted list with index `> index` (the list itself when that is all of them). */
function keepAbove<T extends { readonly index: number }>(items: readonly T[], index: number): readonly T[] {
  const n = items.length;
  if (n === 0 || items[0]!.index > index) return items;
  return items.slice(firstAbove(items, index));
}

/** The items of `kept` up to `cut`, followed by `added` (whose indices are all above `cut`). */
function joinRuns<T extends { readonly index: number }>(
  kept: readonly T[],
  cut: number,
  added: readonly T[],
): readonly T[] {
  const head = keepUpTo(kept, cut);
  if (added.length === 0) return head;
  return head.length === 0 ? added : head.concat(added);
}

/**
 * noraft's `append_suffix`: when the run holds `suffix`'s anchor, replace everything after it by
 * `suffix` (an empty suffix truncates) and return the new run; otherwise return null. (Applications rebuild a
 * stored log with `applyToStoredLog`, which throws where this returns null.)
 */
export function appendSuffix(log: LogEntries, suffix: LogEntries): LogEntries | null {
  if (!containsPosition(log, suffix.prevTerm, suffix.prevIndex)) return null;
  return spliceSuffix(log, suffix);
}

/**
 * The part of `remote` (entries sent by a leader) that `local` does not already hold.
 *
 * Precondition: `local` holds `remote`'s anchor but not its last position. Returns the suffix of
 * `remote` after the last position both runs share, found by a binary search over `remote`'s term starts.
 */
export function stripCommonPrefix(remote: LogEntries, local: LogEntries): LogEntries {
  // The common case, kept small for the JIT: `remote` starts right where `local` ends.
  if (remote.prevIndex === local.lastIndex && remote.prevTerm === local.lastTerm) return remote;
  return stripOverlap(remote, local);
}

/** `stripCommonPrefix` when `remote` does not start at `local`'s last position. */
function stripOverlap(remote: LogEntries, local: LogEntries): LogEntries {
  const fromLocalEnd = since(remote, local.lastTerm, local.lastIndex);
  if (fromLocalEnd !== null) return fromLocalEnd;
  if (remote.termStarts.length === 0) return remote;
  // The first of remote's term starts that local does not hold: every one before it is held (log
  // matching), so whether one is held is monotone along the list and a binary search finds it.
  const differs = firstWhere(remote.termStarts, (s) => !containsPosition(local, s.term, s.index));
  const held =
    differs === undefined ? lastItem(remote.termStarts)! : lastAtOrBelow(remote.termStarts, differs.index - 1);
  const commonTerm = held === undefined ? remote.prevTerm : held.term;
  let commonIndex = held === undefined ? remote.prevIndex : held.index;
  // The run of term `commonTerm` may continue in both logs up to just before the differing start.
  if (
    differs !== undefined &&
    differs.index - 1 > commonIndex &&
    containsPosition(local, commonTerm, differs.index - 1)
  ) {
    commonIndex = differs.index - 1;
  }
  return since(remote, commonTerm, commonIndex) ?? remote;
}

/**
 * Remove the first `n` entries of a run (its anchor moves forward). `n <= 0` returns the run;
 * `n >= entryCount` returns the empty run at its last position.
 */
export function dropFirst(log: LogEntries, n: number): LogEntries {
  if (n <= 0) return log;
  const index = Math.min(log.prevIndex + n, log.lastIndex);
  return since(log, termAt(log, index), index)!;
}

/** Keep at most the first `n` entries of a run (`n >= 0`). */
export function keepFirst(log: LogEntries, n: number): LogEntries {
  return truncateAfter(log, log.prevIndex + Math.max(0, n));
}

/** The position of the anchor. */
export function prevPosition(log: LogEntries): LogPosition {
  return { term: log.prevTerm, index: log.prevIndex };
}

/** The position of the last entry (the anchor when the run is empty). */
export function lastPosition(log: LogEntries): LogPosition {
  return { term: log.lastTerm, index: log.lastIndex };
}

/** Lexicographic comparison of positions `(t1, i1)` and `(t2, i2)`: Raft's "at least as up to date". */
export function comparePositions(t1: number, i1: number, t2: number, i2: number): number {
  if (t1 !== t2) return t1 < t2 ? -1 : 1;
  return i1 === i2 ? 0 : i1 < i2 ? -1 : 1;
}
