/**
 * Durable storage for one raftstep node: what a host writes the core's storage actions through, and
 * the rules every implementation enforces.
 *
 * The core asks for three kinds of storage action (`saveHardState`, `compactLog`, `appendLog`); the
 * host adds the command payloads (raftstep never sees them) and the snapshots it takes or receives,
 * and writes them as {@link StorageWrite}s. A {@link Storage} makes a batch of writes durable at once
 * (one flush per batch), reads payloads back for replication and application, and gives back
 * everything at restart as a {@link StoredNode}, ready for the core's `restartNode`.
 *
 * The checks shared by every implementation are here ({@link applyStorageWrite}), so that the
 * in-memory storage (`./memory-storage.ts`) and the file-backed one (`../node/file-storage.ts`)
 * accept and refuse exactly the same writes.
 *
 * One invariant follows from the rules: when a snapshot is stored, the log is anchored at its
 * position (`log.prevTerm/prevIndex === snapshot.term/index`); without one, at `(0, 0)`.
 *
 * This module imports only the core and runs in browsers.
 */
import {
  MAX_POSITION,
  applyToStoredLog,
  containsPosition,
  emptyEntries,
  validateConfig,
  validateLogEntries,
  type ClusterConfig,
  type LogEntries,
} from '../index.js';

/** The term and vote a node must find again after a restart (the core's `saveHardState`). */
export interface HardState {
  /** The node's current term: an integer from 0 to 2^53 - 2. Never decreases across writes. */
  readonly term: number;
  /** The node voted for (or follows) in `term`: a non-empty node id, or null. */
  readonly votedFor: string | null;
}

/**
 * A snapshot of the application's state machine covering the log up to `(term, index)`, with the
 * cluster configuration in effect there (the `snapshotConfig` `restartNode` needs).
 */
export interface StoredSnapshot {
  /** The term of the entry at `index`. `term` is 0 exactly when `index` is 0. */
  readonly term: number;
  /** The last log index the snapshot covers: an integer from 0 to 2^53 - 2. */
  readonly index: number;
  /** The configuration in effect at `index` (it satisfies the core's `ClusterConfig` contract). */
  readonly config: ClusterConfig;
  /** The state machine, serialized by the application: opaque bytes, any length. */
  readonly data: Uint8Array;
}

/**
 * What a node finds in its storage when it starts. Empty storage: term 0, votedFor null, log
 * emptyEntries(0,0), snapshot null.
 *
 * Restart the node with `restartNode({id, term: hardState.term, votedFor: hardState.votedFor, log,
 * snapshotConfig: snapshot?.config ?? EMPTY_CONFIG})` and the state machine from `snapshot.data`.
 */
export interface StoredNode {
  /** The last hard state written (term 0, no vote, when none was). */
  readonly hardState: HardState;
  /**
   * The stored log: every append and compaction replayed, anchored at the snapshot's position (at
   * `(0, 0)` without a snapshot). The payloads of `(log.prevIndex, log.lastIndex]` are all held.
   */
  readonly log: LogEntries;
  /** The latest snapshot saved, or null. */
  readonly snapshot: StoredSnapshot | null;
}

/** The core's `saveHardState`: store the term and the vote. */
export interface HardStateWrite {
  /** Always `'hardState'`. */
  readonly kind: 'hardState';
  /** The new term: an integer from 0 to 2^53 - 2, not below the stored term (else refused). */
  readonly term: number;
  /** The vote in `term`: null or a non-empty node id (else refused). */
  readonly votedFor: string | null;
}

/**
 * The core's `appendLog`, with the payloads: truncate the stored log after `entries`' anchor (as
 * `applyToStoredLog` does), then append the entries and store their payloads by index.
 */
export interface AppendWrite {
  /** Always `'append'`. */
  readonly kind: 'append';
  /**
   * The `appendLog` action's entries. Refused when they break the `LogEntries` contract or when the
   * stored log does not hold their anchor (a gap, a divergent anchor, or an anchor inside the
   * snapshot; the snapshot's own position is the log's anchor and counts as held).
   */
  readonly entries: LogEntries;
  /**
   * One payload per index in `(entries.prevIndex, entries.lastIndex]`, in order; entries that hold
   * no command (term starts, configurations) get an empty `Uint8Array`. Refused when the count
   * differs or one is not a `Uint8Array`.
   */
  readonly payloads: readonly Uint8Array[];
}

/**
 * Save a snapshot (taken locally or received from the leader); the log is then compacted up to its
 * index: if the log holds the position `(snapshot.term, snapshot.index)` its tail after that is
 * kept, otherwise the whole log is replaced by an empty run anchored at the snapshot.
 */
export interface SnapshotWrite {
  /** Always `'snapshot'`. */
  readonly kind: 'snapshot';
  /**
   * The snapshot. Refused when its position or configuration is malformed, when its `data` is not a
   * `Uint8Array`, or when it is older than the stored snapshot (a lower index or term, or the same
   * index with another term). One at the stored snapshot's position replaces its data.
   */
  readonly snapshot: StoredSnapshot;
}

/**
 * The core's `compactLog` action `{term, index}`: forget entries up to index (the snapshot at that
 * position has already been written). The `snapshot` write already compacted the log, so this is a
 * check that changes nothing: accepted when `index` is at or below the log's anchor and does not
 * contradict it; refused when `index` lies beyond the stored snapshot (no snapshot covers it: write
 * the snapshot first) or names the anchor's index with another term.
 */
export interface CompactWrite {
  /** Always `'compact'`. */
  readonly kind: 'compact';
  /** The term of the entry at `index`. */
  readonly term: number;
  /** The last index the snapshot covers. */
  readonly index: number;
}

/** One write to a node's storage. A batch of them is applied in order by {@link Storage.write}. */
export type StorageWrite = HardStateWrite | AppendWrite | SnapshotWrite | CompactWrite;

/**
 * A node's durable storage. Calls may be issued without waiting for earlier ones: an implementation
 * runs them one at a time, in the order they were called.
 */
export interface Storage {
  /**
   * Read everything back; called once before any write. Rejects when the stored data is corrupt or
   * inconsistent (the error names what and where): the node must not start from it.
   */
  load(): Promise<StoredNode>;
  /**
   * Apply the writes in order; when the promise resolves they are all durable (one fsync/flush per
   * batch, not per entry). A rejected promise means the storage is unusable (the node must stop);
   * nothing after a failed write may be assumed durable.
   *
   * A batch that breaks the rules of {@link StorageWrite} is rejected with an `Error` naming the
   * first bad write, before anything of it is applied; that rejection leaves the storage as it was
   * and usable (it reports a bug in the caller, which should still stop the node).
   */
  write(batch: readonly StorageWrite[]): Promise<void>;
  /**
   * The payloads of the entries (from, to], in order. Rejects with a RangeError naming the range
   * if any is not held (compacted or beyond the end). `from === to` gives an empty list. The arrays
   * returned belong to the caller.
   */
  payloads(from: number, to: number): Promise<readonly Uint8Array[]>;
  /** The latest snapshot saved, or null. Its `data` belongs to the caller. */
  snapshot(): Promise<StoredSnapshot | null>;
  /** Flush and release files. Further calls reject. */
  close(): Promise<void>;
}

/** A snapshot's position and configuration, without its data: what the write rules look at. */
export type SnapshotMeta = Omit<StoredSnapshot, 'data'>;

/** A {@link StoredNode} without the snapshot's data: the state the write rules check against. */
export interface StoredMeta {
  /** As in {@link StoredNode.hardState}. */
  readonly hardState: HardState;
  /** As in {@link StoredNode.log}. */
  readonly log: LogEntries;
  /** The stored snapshot's position and configuration, or null. */
  readonly snapshot: SnapshotMeta | null;
}

/** What empty storage holds: term 0, no vote, the empty log at `(0, 0)`, no snapshot. */
export const EMPTY_STORED_META: StoredMeta = Object.freeze({
  hardState: Object.freeze({ term: 0, votedFor: null }),
  log: emptyEntries(0, 0),
  snapshot: null,
});

/**
 * The stored state after `write`, checked against the rules of {@link StorageWrite}. Pure: neither
 * argument is modified (the result shares the caller's `entries` and `config` objects; copy them
 * first if the caller may still modify them).
 *
 * Throws an `Error` describing the problem when the write is refused.
 */
export function applyStorageWrite(meta: StoredMeta, write: StorageWrite): StoredMeta {
  if (typeof write !== 'object' || write === null) throw new Error('a write must be an object');
  switch (write.kind) {
    case 'hardState':
      return { ...meta, hardState: checkedHardState(meta.hardState, write.term, write.votedFor) };
    case 'append':
      return { ...meta, log: appendedLog(meta.log, write.entries, write.payloads) };
    case 'snapshot':
      return snapshotSaved(meta, write.snapshot);
    case 'compact':
      checkCompaction(meta, write.term, write.index);
      return meta;
    default:
      throw new Error(`unknown write kind ${JSON.stringify((write as { kind?: unknown }).kind)}`);
  }
}

/**
 * The stored state after each write of `batch`: element `i` is the state after `batch[i]` (so the
 * list is as long as the batch). Throws an `Error` naming the first refused write
 * (`write[i] (kind): problem`) when one is, or when `batch` is not an array.
 */
export function storedStatesAfter(meta: StoredMeta, batch: readonly StorageWrite[]): StoredMeta[] {
  if (!Array.isArray(batch)) throw new Error('storage write refused: the batch must be an array of writes');
  const writes: readonly StorageWrite[] = batch;
  const out: StoredMeta[] = [];
  let next = meta;
  for (let i = 0; i < writes.length; i++) {
    try {
      next = applyStorageWrite(next, writes[i]!);
    } catch (e) {
      throw new Error(`storage write refused: write[${i}] (${kindOf(writes[i])}): ${messageOf(e)}`, { cause: e });
    }
    out.push(next);
  }
  return out;
}

/**
 * Check a payload range `(from, to]` against a stored log; throws a `RangeError` naming the range
 * and what the log holds when any index in it is not held.
 */
export function checkPayloadRange(log: LogEntries, from: number, to: number): void {
  const integers = Number.isSafeInteger(from) && Number.isSafeInteger(to);
  if (!integers || from > to || from < log.prevIndex || to > log.lastIndex) {
    throw new RangeError(
      `payloads (${String(from)}, ${String(to)}] are not held: the storage holds (${log.prevIndex}, ${log.lastIndex}]`,
    );
  }
}

/**
 * A deep copy of plain JSON data (a log, a configuration, a {@link StoredMeta}), sharing nothing
 * with `x`: how implementations keep what callers pass and hand out what they keep. (Through JSON
 * rather than `structuredClone`: logs are small JSON, and the copy is made of this realm's objects.)
 */
export function copyJson<T>(x: T): T {
  return JSON.parse(JSON.stringify(x)) as T;
}

/**
 * A copy of a checked write whose log entries and snapshot configuration share nothing with the
 * caller's (JSON copies, as large as the write itself, never the whole log). Its `Uint8Array`s are
 * still the caller's: copy or encode them before the caller can change them.
 */
export function ownedWrite(w: StorageWrite): StorageWrite {
  switch (w.kind) {
    case 'append':
      return { kind: 'append', entries: copyJson(w.entries), payloads: w.payloads };
    case 'snapshot':
      return { kind: 'snapshot', snapshot: { ...w.snapshot, config: copyJson(w.snapshot.config) } };
    default:
      return { ...w };
  }
}

/** True for an integer in `[0, 2^53 - 2]`: a term or an index. */
function isNatural(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= MAX_POSITION;
}

/** The hard state to store, or an error: the term must be natural and not decrease. */
function checkedHardState(current: HardState, term: number, votedFor: string | null): HardState {
  if (!isNatural(term)) throw new Error('term must be an integer from 0 to 2^53 - 2');
  if (votedFor !== null && (typeof votedFor !== 'string' || votedFor.length === 0)) {
    throw new Error('votedFor must be null or a non-empty string');
  }
  if (term < current.term) throw new Error(`term ${term} is below the stored term ${current.term}`);
  return { term, votedFor };
}

/** The log after an append, or an error when the entries, payloads or anchor are wrong. */
function appendedLog(log: LogEntries, entries: LogEntries, payloads: readonly Uint8Array[]): LogEntries {
  const problem = validateLogEntries(entries, 'entries.');
  if (problem !== null) throw new Error(problem);
  checkPayloads(entries, payloads);
  if (!containsPosition(log, entries.prevTerm, entries.prevIndex)) {
    throw new Error(
      `the stored log (${log.prevTerm},${log.prevIndex})..(${log.lastTerm},${log.lastIndex}) ` +
        `does not hold the anchor (${entries.prevTerm},${entries.prevIndex})`,
    );
  }
  return applyToStoredLog(log, { type: 'appendLog', entries });
}

/** An error unless `payloads` holds exactly one `Uint8Array` per entry of `entries`. */
function checkPayloads(entries: LogEntries, payloads: readonly Uint8Array[]): void {
  if (!Array.isArray(payloads)) throw new Error('payloads must be an array of Uint8Array');
  const count = entries.lastIndex - entries.prevIndex;
  if (payloads.length !== count) {
    throw new Error(
      `${payloads.length} payloads for the ${count} entries (${entries.prevIndex}, ${entries.lastIndex}]`,
    );
  }
  for (let i = 0; i < count; i++) {
    if (!(payloads[i] instanceof Uint8Array)) {
      throw new Error(`payloads[${i}] (index ${entries.prevIndex + 1 + i}) is not a Uint8Array`);
    }
  }
}

/** The stored state after saving `snap`, or an error when it is malformed or older than the stored one. */
function snapshotSaved(meta: StoredMeta, snap: StoredSnapshot): StoredMeta {
  if (typeof snap !== 'object' || snap === null) throw new Error('snapshot must be an object');
  const { term, index, config, data } = snap;
  const position = validateLogEntries(emptyEntries(term, index), 'snapshot.');
  if (position !== null) throw new Error(position);
  const badConfig = validateConfig(config, 'snapshot.config.');
  if (badConfig !== null) throw new Error(badConfig);
  if (!(data instanceof Uint8Array)) throw new Error('snapshot.data must be a Uint8Array');
  const current = meta.snapshot;
  if (current !== null && isOlderSnapshot(term, index, current)) {
    throw new Error(`snapshot (${term},${index}) is older than the stored snapshot (${current.term},${current.index})`);
  }
  const log = applyToStoredLog(meta.log, { type: 'compactLog', term, index });
  return { ...meta, log, snapshot: { term, index, config } };
}

/** True when `(term, index)` may not replace `current`: behind it, or the same index with another term. */
function isOlderSnapshot(term: number, index: number, current: SnapshotMeta): boolean {
  if (index < current.index || term < current.term) return true;
  return index === current.index && term !== current.term;
}

/** An error unless a compaction to `(term, index)` is already done by the stored snapshot. */
function checkCompaction(meta: StoredMeta, term: number, index: number): void {
  const position = validateLogEntries(emptyEntries(term, index), 'compaction ');
  if (position !== null) throw new Error(position);
  const log = meta.log;
  if (index > log.prevIndex) {
    const s = meta.snapshot;
    const held = s === null ? 'no snapshot is stored' : `the stored snapshot is at (${s.term},${s.index})`;
    throw new Error(`no snapshot covers (${term},${index}): ${held}; write the snapshot first`);
  }
  if (index === log.prevIndex && term !== log.prevTerm) {
    throw new Error(`compaction (${term},${index}) contradicts the log's anchor (${log.prevTerm},${log.prevIndex})`);
  }
}

/** The `kind` of a write for an error message (whatever the value is). */
function kindOf(write: unknown): string {
  if (typeof write !== 'object' || write === null) return typeof write;
  return String((write as { kind?: unknown }).kind);
}

/** The message of a thrown value. */
function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
