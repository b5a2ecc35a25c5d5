/**
 * Batching the core's actions into storage writes: the part of a host's executor that decides what
 * one `storage.write` holds.
 *
 * Every step's actions (but its outcomes: `readReady`, `rejected`, `invalidEvent`, `fatal`,
 * `internalError`, which the host handles at once) join the open batch with the core's
 * `mergeActions`. When the executor is idle it closes the open batch and carries it out; while it
 * carries one out (awaiting the storage), later steps join the next open batch. So one write, one
 * fsync, covers every step taken while the previous write was in flight: N concurrent proposals
 * cost a handful of writes, not N.
 *
 * Closing a batch turns its storage actions into one list of {@link StorageWrite}s, in the order
 * hard state, snapshots, then compactions and appends in the actions' order (the storage's own
 * order, `FileStorage`'s phases), with the payloads of every append taken from the payload cache
 * there and then — before any later step can overwrite them. A batch also records the node's state
 * when it closed (its log describes every entry the batch commits), and the snapshot the host must
 * restore its state machine from once the write is durable (a snapshot installed from a leader).
 *
 * Carrying a batch out (./node-executor.ts): write; restore the installed snapshot, if any; send the
 * messages (AppendEntries with their payloads); apply the committed entries; start snapshot
 * transfers. Messages therefore leave only once every storage action before them is durable —
 * except in a `concurrent` batch, whose only writes are a leader's own appends marked `concurrent`
 * (the core's `concurrentLeaderWrites`): its messages leave first, then it is written, and while it
 * is written a later batch that writes nothing (a commit its followers made) may be carried out.
 *
 * This module imports only the core and the host's own modules, and runs in browsers.
 */
import {
  forEachEntry,
  mergeActions,
  type RaftAction,
  type RaftActions,
  type LogEntries,
  type RaftState,
} from '../index.js';
import type { PayloadCache } from './payload-cache.js';
import type { StorageWrite, StoredSnapshot } from './storage.js';

/** A batch closed for execution. */
export interface ClosedBatch {
  /** The writes, for one `storage.write` (empty: nothing to write). */
  readonly writes: readonly StorageWrite[];
  /** The merged actions (storage, commit, messages, snapshot transfers; and the last `setTimer`, ignored). */
  readonly actions: RaftActions;
  /** The node's state when the batch closed. */
  readonly state: RaftState;
  /** A leader's snapshot to restore the state machine from once the writes are durable, or null. */
  readonly install: StoredSnapshot | null;
  /** How many steps the batch merges. */
  readonly steps: number;
  /**
   * True when every storage action of the batch is a `concurrent` append (a leader's own entries,
   * with `concurrentLeaderWrites`): its messages may leave while it is written.
   */
  readonly concurrent: boolean;
}

/**
 * True for the outcomes among the actions: `readReady`, `rejected`, `invalidEvent`, `fatal` and
 * `internalError` report something and ask for nothing to be carried out.
 */
export function isOutcome(a: RaftAction): boolean {
  switch (a.type) {
    case 'readReady':
    case 'rejected':
    case 'invalidEvent':
    case 'fatal':
    case 'internalError':
      return true;
    default:
      return false;
  }
}

/** True for the actions a batch carries (everything but the outcomes, which are handled at once). */
export function isBatched(a: RaftAction): boolean {
  return !isOutcome(a);
}

/** The open batch: steps join it until the executor closes it. */
export class BatchQueue {
  private actions: RaftActions = [];
  private snapshots: StoredSnapshot[] = [];
  private install: StoredSnapshot | null = null;
  private steps = 0;

  /** True when the open batch holds anything to carry out. */
  get pending(): boolean {
    return this.actions.length > 0 || this.snapshots.length > 0;
  }

  /** True when the open batch writes to storage (a snapshot, hard state, a compaction or an append). */
  get writes(): boolean {
    return this.snapshots.length > 0 || this.actions.some(isStorage);
  }

  /** Merge a step's actions (outcomes are left out) into the open batch. */
  add(actions: RaftActions): void {
    let batched = actions;
    for (const a of actions) {
      if (!isBatched(a)) {
        batched = actions.filter(isBatched);
        break;
      }
    }
    this.steps++;
    if (batched.length === 0) return;
    this.actions = mergeActions(this.actions, batched);
  }

  /**
   * Add a snapshot write (before the compaction the same step returned). `install`: it came from a
   * leader, and the state machine must be restored from it once it is durable.
   */
  addSnapshot(snapshot: StoredSnapshot, install: boolean): void {
    this.snapshots.push(snapshot);
    if (install) this.install = snapshot;
  }

  /** Drop the open batch (the host stopped). */
  clear(): void {
    this.actions = [];
    this.snapshots = [];
    this.install = null;
    this.steps = 0;
  }

  /**
   * Close the open batch for execution, `state` being the node's state now, and start a new one.
   * Throws an Error when the cache lacks a payload an append needs (a bug in the host).
   */
  close(state: RaftState, cache: PayloadCache): ClosedBatch {
    const actions = this.actions;
    const writes: StorageWrite[] = [];
    for (const a of actions)
      if (a.type === 'saveHardState') writes.push({ kind: 'hardState', term: a.term, votedFor: a.votedFor });
    for (const s of this.snapshots) writes.push({ kind: 'snapshot', snapshot: s });
    for (const a of actions) {
      if (a.type === 'compactLog') writes.push({ kind: 'compact', term: a.term, index: a.index });
      else if (a.type === 'appendLog')
        writes.push({ kind: 'append', entries: a.entries, payloads: appendPayloads(a.entries, cache) });
    }
    const concurrent =
      writes.length > 0 && this.snapshots.length === 0 && actions.every((a) => !isStorage(a) || isConcurrentAppend(a));
    const batch: ClosedBatch = { writes, actions, state, install: this.install, steps: this.steps, concurrent };
    this.clear();
    return batch;
  }
}

/** True for the actions that write to storage. */
function isStorage(a: RaftAction): boolean {
  return a.type === 'saveHardState' || a.type === 'compactLog' || a.type === 'appendLog';
}

function isConcurrentAppend(a: RaftAction): boolean {
  return a.type === 'appendLog' && a.concurrent === true;
}

const EMPTY = new Uint8Array(0);

/** The payloads of an append's entries, from the cache (empty for entries that hold no command). */
function appendPayloads(entries: LogEntries, cache: PayloadCache): Uint8Array[] {
  const out: Uint8Array[] = [];
  let missing = -1;
  forEachEntry(entries, entries.prevIndex + 1, entries.lastIndex, (index, term, kind) => {
    if (kind !== 'command') {
      out.push(EMPTY);
      return;
    }
    const p = cache.get(index, term);
    if (p === undefined) {
      if (missing < 0) missing = index;
      out.push(EMPTY);
    } else out.push(p);
  });
  if (missing >= 0) throw new Error(`host: no payload for the entry at index ${missing} of an append`);
  return out;
}
