/**
 * The simulator's agenda: a binary min-heap of things to do, ordered by virtual time and then by the
 * order they were scheduled in (so equal times keep a deterministic FIFO order).
 */

/** One scheduled thing to do. */
export interface Scheduled {
  readonly time: number;
  readonly seq: number;
  readonly run: () => void;
}

export class Agenda {
  private readonly items: Scheduled[] = [];
  private seq = 0;

  get size(): number {
    return this.items.length;
  }

  /** Schedule `run` at virtual time `time`. */
  push(time: number, run: () => void): void {
    const item: Scheduled = { time, seq: this.seq++, run };
    const a = this.items;
    a.push(item);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(item, a[p]!)) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = item;
  }

  /** The time of the next item, or Infinity when there is none. */
  peekTime(): number {
    return this.items.length === 0 ? Infinity : this.items[0]!.time;
  }

  /** Remove and return the next item (undefined when empty). */
  pop(): Scheduled | undefined {
    const a = this.items;
    if (a.length === 0) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      let i = 0;
      const n = a.length;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && before(a[r]!, a[l]!) ? r : l;
        if (!before(a[c]!, last)) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }

  clear(): void {
    this.items.length = 0;
  }
}

function before(x: Scheduled, y: Scheduled): boolean {
  return x.time < y.time || (x.time === y.time && x.seq < y.seq);
}
