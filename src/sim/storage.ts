/**
 * A simulated node's storage, as an application keeps it: the hard state (term and vote), the log
 * as raftstep describes it (rebuilt from `appendLog` and `compactLog` actions), the command
 * payloads by index, and the latest snapshot (its position, configuration and state machine).
 *
 * The same {@link Store} type holds two views of one node's disk: what the application has written
 * (applied at once, durable or not) and what is durable (what survives a crash). Writes reach the
 * durable view in order, after their latency.
 */
import {
  EMPTY_CONFIG,
  containsPosition,
  emptyEntries,
  flatItems,
  toChunks,
  type ClusterConfig,
  type LogEntries,
} from '../index.js';
// Not public: the simulator needs the null of a missing anchor rather than applyToStoredLog's error.
import { appendSuffix } from '../log.js';

/** The replicated state machine of a simulated node at some log index. */
export interface Machine {
  /** The last log index applied. */
  readonly index: number;
  /** The hash chain of every command payload applied, in order. */
  readonly hash: number;
  /** The state of the user's application (see `SimApplication`), or null without one. */
  readonly app: unknown;
}

/** A snapshot: the log position it covers, the configuration there, and the state machine there. */
export interface SnapshotData {
  /** The term of the last entry the snapshot covers. */
  readonly term: number;
  /** The index of the last entry the snapshot covers. */
  readonly index: number;
  /** The configuration in effect at `index`. */
  readonly config: ClusterConfig;
  /** The state machine saved with the snapshot: every entry up to `index` applied. */
  readonly machine: Machine;
}

/** One storage write, as the application issues it. */
export type Write =
  | { readonly k: 'hard'; readonly term: number; readonly votedFor: string | null }
  | { readonly k: 'append'; readonly entries: LogEntries; readonly payloads: readonly number[] }
  | { readonly k: 'snapshot'; readonly snapshot: SnapshotData };

/**
 * Command payloads by log index, for the indices after `base` (the snapshot index). A payload is a
 * positive command id; 0 marks an entry without a command (a term start or a configuration).
 */
export class PayloadLog {
  constructor(
    private base = 0,
    private items: number[] = [],
  ) {}

  /** The payload at `index`, or undefined when this store does not hold it. */
  get(index: number): number | undefined {
    const k = index - this.base - 1;
    return k >= 0 && k < this.items.length ? this.items[k] : undefined;
  }

  get lastIndex(): number {
    return this.base + this.items.length;
  }

  /** Drop everything after `index`, then store `payloads` for the indices `index + 1, ...`. */
  write(index: number, payloads: readonly number[]): void {
    const keep = index - this.base;
    if (keep < 0) {
      this.base = index;
      this.items = [];
    } else if (keep < this.items.length) {
      this.items.length = keep;
    } else {
      while (this.items.length < keep) this.items.push(0);
    }
    for (let i = 0; i < payloads.length; i++) this.items.push(payloads[i]!);
  }

  /** Forget everything up to `index`; with `keepTail` false, everything after it too. */
  compact(index: number, keepTail: boolean): void {
    if (!keepTail || index >= this.base + this.items.length) this.items = [];
    else if (index > this.base) this.items = this.items.slice(index - this.base);
    else return;
    this.base = index;
  }

  /** The payloads for the indices `(from, to]` (0 where none is held). */
  range(from: number, to: number): number[] {
    const out = new Array<number>(Math.max(0, to - from));
    for (let i = from + 1; i <= to; i++) out[i - from - 1] = this.get(i) ?? 0;
    return out;
  }

  clone(): PayloadLog {
    return new PayloadLog(this.base, this.items.slice());
  }
}

/** One view of a node's disk. */
export class Store {
  term = 0;
  votedFor: string | null = null;
  log: LogEntries = emptyEntries(0, 0);
  snapshot: SnapshotData | null = null;
  payloads = new PayloadLog();

  /**
   * Apply `w`. Returns false, changing nothing, when an append is anchored outside the stored log
   * (an application that receives such an action has a bug, or raftstep broke its contract).
   */
  apply(w: Write): boolean {
    switch (w.k) {
      case 'hard':
        this.term = w.term;
        this.votedFor = w.votedFor;
        return true;
      case 'append': {
        const log = appendSuffix(this.log, w.entries);
        if (log === null) return false;
        this.log = log;
        this.payloads.write(w.entries.prevIndex, w.payloads);
        return true;
      }
      case 'snapshot': {
        const s = w.snapshot;
        const keep = containsPosition(this.log, s.term, s.index);
        if (s.index < this.log.prevIndex) return true; // older than what is stored: nothing to do
        this.log = keep ? sinceOrSelf(this.log, s.term, s.index) : emptyEntries(s.term, s.index);
        this.payloads.compact(s.index, keep);
        this.snapshot = s;
        return true;
      }
    }
  }

  /** The configuration at the snapshot position (empty without a snapshot). */
  get snapshotConfig(): ClusterConfig {
    return this.snapshot?.config ?? EMPTY_CONFIG;
  }

  clone(): Store {
    const c = new Store();
    c.term = this.term;
    c.votedFor = this.votedFor;
    c.log = this.log;
    c.snapshot = this.snapshot;
    c.payloads = this.payloads.clone();
    return c;
  }
}

/** The part of `log` after `(term, index)`, which `log` holds. */
function sinceOrSelf(log: LogEntries, term: number, index: number): LogEntries {
  if (index === log.prevIndex) return log;
  // appendSuffix of an empty run at the position truncates nothing; rebuild the anchor by hand.
  const termStarts = toChunks(flatItems(log.termStarts).filter((s) => s.index > index));
  const configs = log.configs.filter((c) => c.index > index);
  return { prevTerm: term, prevIndex: index, lastTerm: log.lastTerm, lastIndex: log.lastIndex, termStarts, configs };
}
