/**
 * Time for a host: the clock it reads and arms timers with (injectable, so tests run on virtual
 * time), and the node's one Raft timer.
 *
 * The core counts time in ticks (one tick = one heartbeat interval). The host arms the node's timer
 * as `setTimer {wait}` asks: `heartbeat` for `heartbeatMs`; `election` and `follower` for a random
 * duration drawn uniformly from `[electionTimeoutTicks × heartbeatMs, 2 × electionTimeoutTicks ×
 * heartbeatMs)` with the injected `random`, anew every time (a fixed follower timeout makes nodes time
 * out together and split their votes; a shorter one breaks what check-quorum and lease reads assume).
 *
 * This module has no dependencies beyond the timer functions every JavaScript runtime has, and runs
 * in browsers.
 */
import type { TimerWait } from '../index.js';

/** The clock a host uses: the current time and one-shot timers. */
export interface HostClock {
  /** The current time in milliseconds (only differences matter; recorded as `t` in host events). */
  now(): number;
  /** Call `fn` once after `ms` milliseconds; returns a handle for `clearTimeout`. */
  setTimeout(fn: () => void, ms: number): unknown;
  /** Cancel a timer armed by `setTimeout` (a handle of a timer that already fired is ignored). */
  clearTimeout(handle: unknown): void;
}

/** The runtime's clock: `Date.now`, `setTimeout`, `clearTimeout`. */
export const SYSTEM_CLOCK: HostClock = Object.freeze({
  now: () => Date.now(),
  setTimeout: (fn: () => void, ms: number): unknown => setTimeout(fn, ms),
  clearTimeout: (handle: unknown): void => clearTimeout(handle as Parameters<typeof clearTimeout>[0]),
});

/**
 * An election or follower wait in milliseconds: uniform in `[base, 2 × base)` with `base =
 * electionTimeoutTicks × heartbeatMs`, from `random` (a value outside [0, 1) is clamped into it).
 */
export function electionWaitMs(heartbeatMs: number, electionTimeoutTicks: number, random: () => number): number {
  const base = heartbeatMs * electionTimeoutTicks;
  let r = random();
  if (!(r >= 0)) r = 0;
  if (r >= 1) r = 0.999999;
  return Math.floor(base + r * base);
}

/**
 * The node's one timer: `arm(wait)` cancels the armed timer and arms it again; when it fires,
 * `fire` is called (the host steps `{type: 'timeout'}`). A timer cancelled or re-armed never fires.
 */
export class NodeTimer {
  private handle: unknown = null;
  private armed = false;
  private generation = 0;
  /** The wait of the armed timer, or null. */
  wait: TimerWait | null = null;
  /** When the armed timer fires (clock time), or null. */
  due: number | null = null;

  constructor(
    private readonly clock: HostClock,
    private readonly heartbeatMs: number,
    private readonly electionTimeoutTicks: number,
    private readonly random: () => number,
    private readonly fire: () => void,
  ) {}

  /** Cancel any armed timer and arm it for `wait`. */
  arm(wait: TimerWait): void {
    this.cancel();
    const ms =
      wait === 'heartbeat'
        ? this.heartbeatMs
        : electionWaitMs(this.heartbeatMs, this.electionTimeoutTicks, this.random);
    const generation = ++this.generation;
    this.wait = wait;
    this.due = this.clock.now() + ms;
    this.armed = true;
    this.handle = this.clock.setTimeout(() => {
      if (generation !== this.generation) return;
      this.armed = false;
      this.wait = null;
      this.due = null;
      this.fire();
    }, ms);
  }

  /** Cancel the armed timer, if any. */
  cancel(): void {
    this.generation++;
    if (this.armed) this.clock.clearTimeout(this.handle);
    this.armed = false;
    this.handle = null;
    this.wait = null;
    this.due = null;
  }
}
