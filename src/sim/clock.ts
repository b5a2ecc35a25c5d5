/**
 * Virtual time: the clock of a simulated world, the agenda of everything scheduled on it (storage
 * completions, deliveries, timers, the simulation's own ticks), and each node's one timer, armed
 * for a role-dependent duration with seeded jitter. Nothing here reads the real clock.
 */
import type { TimerWait } from '../index.js';
import { Agenda } from './heap.js';
import type { Timing } from './options.js';
import type { Rng } from './rng.js';

/** A node's one timer, as the clock sees it (a `SimNode` is one). */
export interface TimerSlot {
  /** When the armed timer fires (null: none armed). */
  timerAt: number | null;
  /** Bumped at every arming and disarming: an older arming does not fire. */
  timerGen: number;
  /** Bumped at every crash, restart and shutdown: a timer armed in an earlier life does not fire. */
  readonly incarnation: number;
  readonly status: string;
  /**
   * How fast this node's timers run against real time (the `skew` fault): a timer armed for `d`
   * fires after `d * timerRate`. 1 without skew.
   */
  readonly timerRate: number;
}

/** See the module comment. */
export class Clock {
  /** Virtual time, in virtual milliseconds. */
  now = 0;
  readonly agenda = new Agenda();

  constructor(
    private readonly rng: Rng,
    private readonly timing: Timing,
  ) {}

  /** Process the next scheduled thing (timer, storage completion, delivery, ...). False when none. */
  runNext(): boolean {
    const item = this.agenda.pop();
    if (item === undefined) return false;
    if (item.time > this.now) this.now = item.time;
    item.run();
    return true;
  }

  /** Advance the clock by `ms`, running everything scheduled until then (in time order). */
  advance(ms: number): void {
    const until = this.now + ms;
    while (this.agenda.peekTime() <= until) this.runNext();
    if (until > this.now) this.now = until;
  }

  /** Schedule `run` at virtual time `time`. */
  at(time: number, run: () => void): void {
    this.agenda.push(time, run);
  }

  /** Schedule `run` after `delay` virtual milliseconds. */
  after(delay: number, run: () => void): void {
    this.agenda.push(this.now + delay, run);
  }

  /**
   * Arm `slot`'s timer for `wait` (a heartbeat interval, or a randomized election or follower
   * timeout), scaled by the slot's `timerRate`, and call `fire` when it expires, unless the timer
   * was re-armed or disarmed, or its node left the `up` status or began another life, in the
   * meantime. A skewed heartbeat is rounded down and a skewed election timeout up: the direction
   * that keeps a lease safe (see `leaseSkewBound`).
   */
  arm(slot: TimerSlot, wait: TimerWait, fire: () => void): void {
    const t = this.timing;
    const base =
      wait === 'heartbeat'
        ? t.heartbeat
        : wait === 'election'
          ? this.rng.int(t.electionMin, t.electionMax)
          : this.rng.int(t.followerMin, t.followerMax);
    const rate = slot.timerRate;
    const d = rate === 1 ? base : wait === 'heartbeat' ? Math.floor(base * rate) : Math.ceil(base * rate);
    const gen = ++slot.timerGen;
    const life = slot.incarnation;
    const at = this.now + d;
    slot.timerAt = at;
    this.agenda.push(at, () => {
      if (slot.incarnation !== life || slot.timerGen !== gen || slot.status !== 'up') return;
      slot.timerAt = null;
      fire();
    });
  }

  /** Disarm `slot`'s timer (an armed one will not fire). */
  disarm(slot: TimerSlot): void {
    slot.timerAt = null;
    slot.timerGen++;
  }
}
