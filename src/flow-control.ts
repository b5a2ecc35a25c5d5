/**
 * Flow control (option `flowControl`, on by default; etcd's Progress tracker and inflight window).
 *
 * Rules, on the leader:
 * - It counts, per follower, the AppendEntries carrying entries that it sent and that were not
 *   answered yet (`progress.inflight`). Every reply counts one as answered; a reply showing the
 *   follower up to date counts all of them.
 * - A follower with `maxInflightAppends` in flight is paused: new entries go to the others only
 *   (one `send` each instead of a `broadcast`), and it gets them once it answers. A follower that
 *   never answers thus costs at most `maxInflightAppends` messages and nothing in memory but a count.
 * - A reply from a follower that is behind gets what it lacks only when nothing is in flight to it
 *   any more (what is in flight will bring it up to date otherwise), at most `maxEntriesPerAppend`
 *   entries per message; its answer brings the next part.
 * - At every tick, a follower heard from during the tick that ended counts as having nothing in
 *   flight (what it lacks was lost, or is about to arrive), so a lost message costs at most a tick.
 *
 * With flow control off, every reply from a follower that is behind gets everything it lacks at
 * once, and nobody is paused (raftstep 0.1, noraft).
 */
import { keepFirst, type LogEntries } from './log.js';
import { pausedSlots, type LeaderProgress } from './progress.js';
import type { LeaderState } from './state.js';

/** `entries` cut to `maxEntriesPerAppend` when flow control is on. */
export function limitEntries(s: LeaderState, entries: LogEntries): LogEntries {
  return s.options.flowControl ? keepFirst(entries, s.options.maxEntriesPerAppend) : entries;
}

/**
 * The slots of `progress` paused by flow control (sorted), or null when none is (or flow control
 * is off): who a new append must not go to.
 */
export function pausedFollowers(s: LeaderState, progress: LeaderProgress): readonly number[] | null {
  return s.options.flowControl ? pausedSlots(progress, s.options.maxInflightAppends) : null;
}

/**
 * True when the leader answers a reply from a follower that is behind by sending what it lacks:
 * always without flow control, else only when nothing is in flight to it (`remaining` appends,
 * counting this reply as the answer to one).
 */
export function shouldCatchUp(s: LeaderState, remaining: number): boolean {
  return !s.options.flowControl || remaining === 0;
}
