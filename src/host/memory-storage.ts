/**
 * `MemoryStorage`: the {@link Storage} interface kept in memory, for tests, simulations and browsers.
 *
 * Nothing survives the process, but the contents survive `close`: {@link MemoryStorage.reopened}
 * gives a new storage over them, the way a host restarts a node from its disk. Every `Uint8Array`
 * is copied on the way in and on the way out, so a caller can never alias stored data.
 */
import type { LogEntries } from '../index.js';
import {
  checkPayloadRange,
  copyJson,
  EMPTY_STORED_META,
  ownedWrite,
  storedStatesAfter,
  type StoredMeta,
} from './storage.js';
import type { Storage, StoredNode, StoredSnapshot, StorageWrite } from './storage.js';

/** The contents of a memory storage, shared by the instances `reopened` creates. */
interface Contents {
  meta: StoredMeta;
  /** The payloads of `(base, base + payloads.length]`: always `(log.prevIndex, log.lastIndex]`. */
  base: number;
  payloads: Uint8Array[];
  /** The stored snapshot's data (null exactly when `meta.snapshot` is). */
  snapshotData: Uint8Array | null;
}

/**
 * A {@link Storage} in memory. Writes are checked exactly as `FileStorage` checks them (the rules of
 * `StorageWrite`); a refused batch changes nothing. Every method completes at once (its promise is
 * already settled), and "durable" means "stored in this object".
 */
export class MemoryStorage implements Storage {
  private contents: Contents = emptyContents();
  private closed = false;

  /**
   * A new storage over this one's contents, as after a restart: for tests of a host's recovery.
   * Close this one first (both would otherwise write the same contents).
   */
  reopened(): MemoryStorage {
    const next = new MemoryStorage();
    next.contents = this.contents;
    return next;
  }

  /** Everything stored; the log and snapshot are copies the caller may keep. */
  load(): Promise<StoredNode> {
    return this.run(() => this.storedNode());
  }

  /** Check the whole batch, then apply it (nothing of a refused batch is applied). */
  write(batch: readonly StorageWrite[]): Promise<void> {
    return this.run(() => {
      const c = this.contents;
      storedStatesAfter(c.meta, batch); // check the caller's writes first: it throws when one is refused
      const own = batch.map(ownedWrite);
      const states = storedStatesAfter(c.meta, own);
      for (let i = 0; i < own.length; i++) applyToContents(c, own[i]!, states[i]!.log);
      if (states.length > 0) c.meta = states[states.length - 1]!;
    });
  }

  /** Copies of the payloads of `(from, to]`; a `RangeError` when any is not held. */
  payloads(from: number, to: number): Promise<readonly Uint8Array[]> {
    return this.run(() => {
      const c = this.contents;
      checkPayloadRange(c.meta.log, from, to);
      return c.payloads.slice(from - c.base, to - c.base).map((p) => p.slice());
    });
  }

  /** A copy of the stored snapshot, or null. */
  snapshot(): Promise<StoredSnapshot | null> {
    return this.run(() => this.storedSnapshot());
  }

  /** Mark the storage closed: later calls reject. The contents stay for {@link reopened}. */
  close(): Promise<void> {
    return this.run(() => {
      this.closed = true;
    });
  }

  /** `body`'s result as a promise; a rejection when closed or when `body` throws. */
  private run<T>(body: () => T): Promise<T> {
    if (this.closed) return Promise.reject(new Error('MemoryStorage is closed'));
    try {
      return Promise.resolve(body());
    } catch (e) {
      return Promise.reject(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private storedNode(): StoredNode {
    const { hardState, log } = this.contents.meta;
    return { hardState: { ...hardState }, log: copyJson(log), snapshot: this.storedSnapshot() };
  }

  private storedSnapshot(): StoredSnapshot | null {
    const { meta, snapshotData } = this.contents;
    if (meta.snapshot === null || snapshotData === null) return null;
    return { ...meta.snapshot, config: copyJson(meta.snapshot.config), data: snapshotData.slice() };
  }
}

function emptyContents(): Contents {
  return { meta: EMPTY_STORED_META, base: 0, payloads: [], snapshotData: null };
}

/**
 * Apply one write, already checked, to the payloads and snapshot data; `log` is the stored log
 * after that write.
 */
function applyToContents(c: Contents, w: StorageWrite, log: LogEntries): void {
  switch (w.kind) {
    case 'append':
      c.payloads.length = w.entries.prevIndex - c.base;
      for (const p of w.payloads) c.payloads.push(p.slice());
      return;
    case 'snapshot':
      retainPayloads(c, log);
      c.snapshotData = w.snapshot.data.slice();
      return;
    default:
      return; // hardState: only in meta; compact: checked to change nothing
  }
}

/** Keep only the payloads of `(log.prevIndex, log.lastIndex]` (after a compaction). */
function retainPayloads(c: Contents, log: LogEntries): void {
  const from = log.prevIndex - c.base;
  const to = log.lastIndex - c.base;
  c.payloads = from < c.payloads.length ? c.payloads.slice(from, to) : [];
  c.base = log.prevIndex;
}
