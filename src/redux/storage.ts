/**
 * Storage for the effects runner: what it writes the core's storage actions through, with the
 * command payloads raftstep never sees.
 *
 * {@link RaftStorage} is the runner's port: synchronous (the in-memory store, so a test or a demo
 * runs deterministically within one dispatch) or asynchronous (a returned promise: messages wait for
 * it, as the persistence rule asks). {@link createMemoryRaftStorage} keeps plain objects in memory,
 * JSON-serializable with its commands. (To run the nodes on the host runtime's `Storage` —
 * `MemoryStorage`, `FileStorage` — use the host executor, ./host-executor.ts, which also brings the
 * transport, snapshots and the runtime's batching.)
 *
 * This module imports only the core and runs in browsers.
 */
import {
  EMPTY_CONFIG,
  applyToStoredLog,
  emptyEntries,
  type ClusterConfig,
  type LogEntries,
  type NodeOptions,
} from '../index.js';

/** A value now, or a promise of it: what the runner's ports may return. */
export type MaybePromise<T> = T | PromiseLike<T>;

/**
 * One write of a node's storage: the core's `saveHardState`, `compactLog` and `appendLog` actions,
 * the append with the commands of its entries. (The host runtime's `StorageWrite`, with commands
 * instead of bytes and without snapshots.)
 */
export type RaftWrite<Command> =
  | {
      /** `saveHardState`: store the term and the vote. */
      readonly kind: 'hardState';
      /** The new term. */
      readonly term: number;
      /** The vote in `term`. */
      readonly votedFor: string | null;
    }
  | {
      /** `appendLog`: truncate the stored log after `entries.prevIndex`, then append. */
      readonly kind: 'append';
      /** The entries, as the action gave them. */
      readonly entries: LogEntries;
      /** The command of each entry of `(entries.prevIndex, entries.lastIndex]`; undefined for entries without one. */
      readonly payloads: readonly (Command | undefined)[];
    }
  | {
      /** `compactLog`: drop the stored entries up to `index`. */
      readonly kind: 'compact';
      /** The term of the entry at `index`. */
      readonly term: number;
      /** The last index the snapshot covers. */
      readonly index: number;
    };

/**
 * What a node restarts from: `restartNode`'s argument without the id (the slice's `restarted`
 * action carries it).
 */
export interface RaftPersisted {
  /** The last term saved. */
  readonly term: number;
  /** The last vote saved. */
  readonly votedFor: string | null;
  /** The stored log (anchored at the snapshot, or at `(0, 0)`). */
  readonly log: LogEntries;
  /** The configuration at the snapshot (`EMPTY_CONFIG` without one). */
  readonly snapshotConfig: ClusterConfig;
  /** The node's options (they are configuration, not stored: defaults when left out). */
  readonly options?: Partial<NodeOptions>;
}

/**
 * The runner's storage port, for every node of a store. Calls for one node are made one at a time:
 * the runner waits for a returned promise before the next call for that node.
 */
export interface RaftStorage<Command> {
  /** Make `writes` durable, in order. Throwing (or rejecting) stops the node. */
  write(node: string, writes: readonly RaftWrite<Command>[]): MaybePromise<void>;
  /** The commands of the stored entries `(from, to]` (undefined for entries without one). */
  payloads(node: string, from: number, to: number): MaybePromise<readonly (Command | undefined)[]>;
  /** What `node` restarts from (empty storage: term 0, no vote, the empty log). */
  load(node: string): MaybePromise<RaftPersisted>;
}

/** The stored contents of one node in a {@link MemoryRaftStorage}, as JSON. */
export interface MemoryRaftNodeJson<Command> {
  /** The last term saved. */
  readonly term: number;
  /** The last vote saved. */
  readonly votedFor: string | null;
  /** The stored log. */
  readonly log: LogEntries;
  /** The commands of `(log.prevIndex, log.lastIndex]`, in order (null for entries without one). */
  readonly payloads: readonly (Command | null)[];
}

/** In-memory storage for every node of a store. */
export interface MemoryRaftStorage<Command> extends RaftStorage<Command> {
  /** Every node's contents, as JSON (persist it next to the Redux state to rehydrate both). */
  toJSON(): Record<string, MemoryRaftNodeJson<Command>>;
}

/**
 * Storage in memory: every write applied at once (synchronously), "durable" meaning "in this
 * object". Appends are checked as `applyToStoredLog` checks them (a write whose anchor the stored
 * log does not hold throws). `from` restores what {@link MemoryRaftStorage.toJSON} gave.
 */
export function createMemoryRaftStorage<Command = unknown>(
  from?: Readonly<Record<string, MemoryRaftNodeJson<Command>>>,
): MemoryRaftStorage<Command> {
  return new MemoryStore<Command>(from);
}

/** One node's stored contents. */
interface Stored<Command> {
  term: number;
  votedFor: string | null;
  log: LogEntries;
  /** The commands of `(log.prevIndex, log.lastIndex]`. */
  payloads: (Command | undefined)[];
}

class MemoryStore<Command> implements MemoryRaftStorage<Command> {
  private readonly nodes = new Map<string, Stored<Command>>();

  constructor(from?: Readonly<Record<string, MemoryRaftNodeJson<Command>>>) {
    if (from === undefined) return;
    for (const [id, n] of Object.entries(from)) {
      this.nodes.set(id, {
        term: n.term,
        votedFor: n.votedFor,
        log: n.log,
        payloads: n.payloads.map((p) => (p === null ? undefined : p)),
      });
    }
  }

  write(node: string, writes: readonly RaftWrite<Command>[]): void {
    const s = this.of(node);
    for (const w of writes) {
      switch (w.kind) {
        case 'hardState':
          s.term = w.term;
          s.votedFor = w.votedFor;
          break;
        case 'append': {
          s.log = applyToStoredLog(s.log, { type: 'appendLog', entries: w.entries });
          s.payloads.length = w.entries.prevIndex - s.log.prevIndex;
          for (const p of w.payloads) s.payloads.push(p);
          break;
        }
        case 'compact': {
          const before = s.log.prevIndex;
          s.log = applyToStoredLog(s.log, { type: 'compactLog', term: w.term, index: w.index });
          s.payloads = s.payloads.slice(Math.min(s.log.prevIndex - before, s.payloads.length));
          if (s.log.lastIndex === s.log.prevIndex) s.payloads = [];
          break;
        }
      }
    }
  }

  payloads(node: string, from: number, to: number): readonly (Command | undefined)[] {
    const s = this.of(node);
    if (!(from >= s.log.prevIndex && to <= s.log.lastIndex && from <= to)) {
      throw new RangeError(
        `payloads (${from}, ${to}] of ${node} are not held: the storage holds (${s.log.prevIndex}, ${s.log.lastIndex}]`,
      );
    }
    return s.payloads.slice(from - s.log.prevIndex, to - s.log.prevIndex);
  }

  load(node: string): RaftPersisted {
    const s = this.of(node);
    return { term: s.term, votedFor: s.votedFor, log: s.log, snapshotConfig: EMPTY_CONFIG };
  }

  toJSON(): Record<string, MemoryRaftNodeJson<Command>> {
    const out: Record<string, MemoryRaftNodeJson<Command>> = {};
    for (const [id, s] of this.nodes) {
      out[id] = {
        term: s.term,
        votedFor: s.votedFor,
        log: s.log,
        payloads: s.payloads.map((p) => (p === undefined ? null : p)),
      };
    }
    return out;
  }

  private of(node: string): Stored<Command> {
    let s = this.nodes.get(node);
    if (s === undefined) {
      s = { term: 0, votedFor: null, log: emptyEntries(0, 0), payloads: [] };
      this.nodes.set(node, s);
    }
    return s;
  }
}
