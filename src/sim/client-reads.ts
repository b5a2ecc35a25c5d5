/**
 * Client reads and their check against the committed history (linearizability).
 *
 * A client issues a read (`{type: 'read', id}`) on any node; the node answers `readReady {id,
 * index}` (the application then applies up to `index` and reads its state machine) or refuses it
 * (`rejected {request: 'read', id}`). Each read is recorded when it is issued, with its *floor*: the
 * end of the committed record by then, the highest index some replica had applied (the checker's
 * `recorded`). A write is acknowledged to its client once it is applied, so every write
 * acknowledged before the read was issued lies at or below the floor, and a linearizable answer
 * must be at least the floor. (Not the highest commit index any node reached: a single voter
 * commits an entry as it appends it, before the entry is durable, and a crash can take both back;
 * applying waits for durability.) The checks:
 *
 * - At the answer: `index >= floor` (no stale read) and `index <= maxCommit` (the index is known
 *   committed somewhere: the application will not wait for, or read, an entry that is not
 *   committed). A follower answers with its leader's read index, which it may not hold yet: the
 *   application waits until it has applied that far, so its own log is not checked.
 * - At the end of a run: every answered index is in the committed record (some replica applied it),
 *   so the read's value is the state machine of the one committed history at that index.
 * - An answer or refusal for a read the node does not hold (never issued there, or answered
 *   already) breaks raftstep's contract.
 * - After healing, no read stays unanswered on a node that has been up since it was issued
 *   (`awaitReads`): reads are never dropped silently. A read whose node crashed or was shut down is
 *   lost with it (counted, not a violation: its answer had nowhere to go).
 *
 * Refusals are counted, never violations.
 */
import type { InvariantName } from './violation.js';
import type { WorldStats } from './stats.js';

/** A read a client issued and the node has not answered yet. */
export interface ClientRead {
  /** The read's id, unique within the run (`r1`, `r2`, ...). */
  readonly id: string;
  /** The node it was issued on. */
  readonly node: string;
  /** That node's life (incarnation) when the read was issued: a crash ends it. */
  readonly life: number;
  /** Virtual time at which it was issued, in virtual milliseconds. */
  readonly issuedAt: number;
  /** The number of the event that issued it (the `read` step). */
  readonly issuedEvent: number;
  /** The end of the committed record when the read was issued: the answer's lower bound. */
  readonly floor: number;
}

/** What the tracker needs from the world around it (a `World` provides it). */
export interface ReadsWorld {
  /** The world's counters; the tracker adds to `reads`, `readsChecked`, `readsRejected` and `readsLost`. */
  readonly stats: WorldStats;
  /** Virtual time now, in virtual milliseconds. */
  readonly now: number;
  /** The number of the last event. */
  readonly events: number;
  /** The highest commit index any node ever had. */
  maxCommit(): number;
  /** The highest index of the committed record (applied by some replica). */
  recorded(): number;
  /** The node `id`'s status and life, or undefined when it never started. */
  life(id: string):
    | {
        /** Where the node is in its life: `up`, `down` or `removed` (a `NodeStatus`); only `up` answers reads. */
        readonly status: string;
        /**
         * The node's life: bumped at every crash, restart and shutdown (`SimNode.incarnation`). A read
         * issued in another life than the current one is lost.
         */
        readonly incarnation: number;
      }
    | undefined;
  /** Report a violation (throws). */
  fail(invariant: InvariantName, message: string, nodes: readonly string[]): never;
}

/** See the module comment. */
export class ReadTracker {
  private readonly pending = new Map<string, ClientRead>();
  private seq = 0;
  /** The highest index any read was answered with (checked against the record at the end). */
  private highestAnswer = 0;
  private highestAnswerRead = '';

  constructor(private readonly world: ReadsWorld) {}

  /** Record a new read on `node` (in its life `life`), before it is stepped; returns it. */
  issue(node: string, life: number): ClientRead {
    const w = this.world;
    const read: ClientRead = {
      id: `r${++this.seq}`,
      node,
      life,
      issuedAt: w.now,
      issuedEvent: w.events + 1,
      floor: w.recorded(),
    };
    this.pending.set(read.id, read);
    w.stats.reads++;
    return read;
  }

  /** The read `id`, still unanswered (undefined when not pending). */
  get(id: string): ClientRead | undefined {
    return this.pending.get(id);
  }

  /** `node` answered read `id` with `index` (a `readReady` action): check it (see the module comment). */
  answered(node: string, id: string, index: number): void {
    const w = this.world;
    const r = this.take(node, id, `readReady {id: ${id}, index: ${index}}`);
    if (index < r.floor) {
      w.fail(
        'linearizableRead',
        `${node} answered read ${id} with index ${index}, but index ${r.floor} was already committed and applied when ` +
          `the read was issued (t=${r.issuedAt} ms, event ${r.issuedEvent}): a stale read`,
        [node],
      );
    }
    const known = w.maxCommit();
    if (index > known) {
      w.fail(
        'linearizableRead',
        `${node} answered read ${id} with index ${index}, but no node knows anything above ${known} committed`,
        [node],
      );
    }
    if (index > this.highestAnswer) {
      this.highestAnswer = index;
      this.highestAnswerRead = id;
    }
    w.stats.readsChecked++;
  }

  /** `node` refused read `id` (a `rejected` action for a read): counted. */
  refused(node: string, id: string, reason: string): void {
    this.take(node, id, `rejected {request: 'read', id: ${id}, reason: ${reason}}`);
    this.world.stats.readsRejected++;
  }

  /**
   * The reads still waiting for an answer on a node that has been up since they were issued.
   * Reads whose node crashed or was shut down meanwhile are dropped here and counted as lost.
   */
  unresolved(): ClientRead[] {
    const out: ClientRead[] = [];
    for (const r of this.pending.values()) {
      const h = this.world.life(r.node);
      if (h === undefined || h.incarnation !== r.life || h.status !== 'up') {
        this.pending.delete(r.id);
        this.world.stats.readsLost++;
      } else out.push(r);
    }
    return out;
  }

  /**
   * The end of a run: every answered index is in the committed record (see the module comment).
   * Call it once the run has settled (after `awaitLiveness`, which commits a later entry).
   */
  checkAnswersCommitted(): void {
    const w = this.world;
    if (this.highestAnswer > w.recorded()) {
      w.fail(
        'linearizableRead',
        `read ${this.highestAnswerRead} was answered with index ${this.highestAnswer}, ` +
          `but the committed record ends at ${w.recorded()}`,
        [],
      );
    }
  }

  /** Take the pending read `id` issued on `node`, or fail: the node answered a read it does not hold. */
  private take(node: string, id: string, what: string): ClientRead {
    const r = this.pending.get(id);
    if (r === undefined || r.node !== node) {
      this.world.fail(
        'contract',
        `${node} reported ${what}, a read it does not hold` +
          (r === undefined ? ' (never issued there, or answered already)' : ` (it was issued on ${r.node})`),
        [node],
      );
    }
    this.pending.delete(id);
    return r;
  }
}
