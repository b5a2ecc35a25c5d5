/**
 * Time for the effects runner: the clock it arms the nodes' timers with and the in-memory network
 * schedules deliveries on. Injectable, so that tests and demos run on virtual time and replay
 * exactly: {@link createVirtualClock} runs nothing until it is advanced.
 *
 * This module imports only the host runtime's clock and runs in browsers.
 */
import { SYSTEM_CLOCK, type HostClock } from '../host/timers.js';

/**
 * A clock: the current time and one-shot timers — the host runtime's `HostClock` (`now()`,
 * `setTimeout(task, ms)` returning a handle, `clearTimeout(handle)`, a handle of a timer that
 * already fired being ignored), so that one clock drives both.
 */
export type RaftClock = HostClock;

/** The runtime's clock: `Date.now` and the global `setTimeout`/`clearTimeout` (the host runtime's `SYSTEM_CLOCK`). */
export const systemClock: RaftClock = SYSTEM_CLOCK;

/**
 * A clock on virtual time, for tests and demos: tasks run only when {@link VirtualClock.advance} or
 * {@link VirtualClock.runUntil} moves time past them, in order of due time and, for equal times, in
 * the order they were scheduled. Nothing depends on the real time, so a run replays exactly.
 */
export interface VirtualClock extends RaftClock {
  /** Run every task due within the next `ms` milliseconds (tasks they schedule too), then set the time to `now() + ms`. */
  advance(ms: number): void;
  /**
   * Run due tasks one at a time, moving time to each, until `done()` is true (checked before each
   * task) or the next task lies more than `maxMs` after the start; returns `done()`. The time is left
   * at the last task run (or at the limit, when the limit was reached).
   */
  runUntil(done: () => boolean, maxMs: number): boolean;
  /** The number of tasks scheduled and not yet run or cancelled. */
  readonly pending: number;
}

/** A scheduled task of the virtual clock (also its handle). */
interface Task {
  readonly at: number;
  readonly seq: number;
  readonly run: () => void;
  cancelled: boolean;
}

/** Create a virtual clock starting at `start` milliseconds (default 0). */
export function createVirtualClock(start = 0): VirtualClock {
  return new VirtualClockImpl(start);
}

/** The clock behind {@link createVirtualClock}: a binary min-heap of tasks by `(at, seq)`. */
class VirtualClockImpl implements VirtualClock {
  private time: number;
  private seq = 0;
  private readonly heap: Task[] = [];
  private live = 0;

  constructor(start: number) {
    if (!Number.isFinite(start)) throw new RangeError('createVirtualClock: start must be a finite number');
    this.time = start;
  }

  get pending(): number {
    return this.live;
  }

  now(): number {
    return this.time;
  }

  setTimeout(task: () => void, ms: number): unknown {
    const wait = Number.isFinite(ms) && ms > 0 ? ms : 0;
    const t: Task = { at: this.time + wait, seq: this.seq++, run: task, cancelled: false };
    this.push(t);
    this.live++;
    return t;
  }

  clearTimeout(handle: unknown): void {
    const t = handle as Task | null | undefined;
    if (t === null || t === undefined || typeof t !== 'object' || t.cancelled) return;
    t.cancelled = true;
    this.live--;
  }

  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError('advance: ms must be a non-negative number');
    const until = this.time + ms;
    for (;;) {
      const t = this.peek();
      if (t === undefined || t.at > until) break;
      this.runNext();
    }
    this.time = until;
  }

  runUntil(done: () => boolean, maxMs: number): boolean {
    const limit = this.time + maxMs;
    for (;;) {
      if (done()) return true;
      const t = this.peek();
      if (t === undefined || t.at > limit) {
        this.time = Math.max(this.time, limit);
        return done();
      }
      this.runNext();
    }
  }

  /** The earliest live task, dropping cancelled ones from the top. */
  private peek(): Task | undefined {
    while (this.heap.length > 0 && this.heap[0]!.cancelled) this.pop();
    return this.heap[0];
  }

  /** Run the earliest live task (the caller checked there is one). */
  private runNext(): void {
    const t = this.pop()!;
    this.live--;
    t.cancelled = true; // a handle of a task that ran is ignored by clearTimeout
    if (t.at > this.time) this.time = t.at;
    t.run();
  }

  private push(t: Task): void {
    const h = this.heap;
    h.push(t);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!before(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }

  private pop(): Task {
    const h = this.heap;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && before(h[l]!, h[m]!)) m = l;
        if (r < h.length && before(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

/** Heap order: earlier due time first, then earlier scheduling. */
function before(a: Task, b: Task): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
