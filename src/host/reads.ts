/**
 * The reads a host is answering: each a read id the node was given (`{type: 'read', id}`), the
 * application's query, and the promise `read` returned.
 *
 * A read settles exactly once:
 * - on `readReady {id, index}`: answered from the state machine as soon as the applied index
 *   reaches `index` (at once if it already has; otherwise when `answerUpTo` gets there), so that the
 *   answer reflects every write acknowledged before the read was issued;
 * - on `rejected {request: 'read', id}`: rejected with the host's error for the refusal;
 * - when the host stops: rejected (`stopped`).
 * An exception of the query rejects the read with it.
 *
 * This module has no dependencies and runs in browsers.
 */

interface PendingRead<Q, A> {
  readonly query: Q;
  readonly resolve: (answer: A) => void;
  readonly reject: (error: unknown) => void;
}

/** The pending reads (see the module comment). */
export class ReadBook<Q, A> {
  private readonly reads = new Map<string, PendingRead<Q, A>>();
  /** Reads that are ready and wait for the applied index, sorted by read index. */
  private waits: { id: string; index: number }[] = [];

  /**
   * `answer` reads the state machine (it may throw); `served` is called for every read answered.
   */
  constructor(
    private readonly answer: (query: Q) => A,
    private readonly served: () => void,
  ) {}

  /** How many reads are pending. */
  get size(): number {
    return this.reads.size;
  }

  /** A read issued under `id`. */
  add(id: string, query: Q, resolve: (answer: A) => void, reject: (error: unknown) => void): void {
    this.reads.set(id, { query, resolve, reject });
  }

  /** `readReady {id, index}` came; the applied index is `applied`. */
  ready(id: string, index: number, applied: number): void {
    if (!this.reads.has(id)) return;
    if (index <= applied) {
      this.settle(id);
      return;
    }
    const waits = this.waits;
    let k = waits.length;
    while (k > 0 && waits[k - 1]!.index > index) k--;
    waits.splice(k, 0, { id, index });
  }

  /** The node refused the read `id`. */
  refused(id: string, error: unknown): void {
    const r = this.reads.get(id);
    if (r === undefined) return;
    this.reads.delete(id);
    r.reject(error);
  }

  /** The applied index reached `applied`: answer the ready reads it covers. */
  answerUpTo(applied: number): void {
    const waits = this.waits;
    let k = 0;
    while (k < waits.length && waits[k]!.index <= applied) k++;
    if (k === 0) return;
    for (const w of waits.splice(0, k)) this.settle(w.id);
  }

  /** Reject every pending read with `error`. */
  rejectAll(error: unknown): void {
    const reads = [...this.reads.values()];
    this.reads.clear();
    this.waits = [];
    for (const r of reads) r.reject(error);
  }

  private settle(id: string): void {
    const r = this.reads.get(id);
    if (r === undefined) return;
    this.reads.delete(id);
    let answer: A;
    try {
      answer = this.answer(r.query);
    } catch (e) {
      r.reject(e);
      return;
    }
    this.served();
    r.resolve(answer);
  }
}
