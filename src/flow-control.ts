/**
 * Flow control (option `flowControl`, on by default; etcd's Progress tracker and inflight window,
 * counted in entries).
 *
 * Rules, on the leader (etcd's probe and replicate states):
 * - Per follower it keeps `progress.sent`: `TRACKING` (replicate) for a follower whose last answer
 *   showed it up to date, which gets every append as it comes; otherwise (probe) the highest index
 *   sent to it. A new leader probes every follower; a follower becomes tracking when it answers up
 *   to date. Entries after a follower's match index up to what was sent are in flight.
 * - A follower with `maxInflightEntries` entries in flight is paused: new entries go to the others
 *   only (one `send` each instead of a `broadcast`), and it gets them once it answers. A follower
 *   that never answers thus costs a bounded number of entries and messages, and nothing in memory
 *   but two numbers.
 * - A reply from a follower that is behind gets what it lacks (at most `maxEntriesPerAppend`
 *   entries per message; its answer brings the next part) when the follower is being probed, or
 *   when, tracking, its reply shows no progress since its last one (it could not place what it
 *   received: a message was lost). A tracking follower's reply showing progress with more still in
 *   flight gets nothing: what is in flight follows.
 * - At every tick, a follower heard from during the tick that ended and still missing entries sent
 *   to it goes back to being probed: a lost message costs at most a tick.
 *
 * Counting entries, not messages, keeps the rules exact when the application merges the actions of
 * several steps into one message (`mergeActions`): N proposals stepped back to back and merged
 * leave the same state as one proposal of N.
 *
 * With flow control off, every reply from a follower that is behind gets everything it lacks at
 * once, and nobody is paused (raftstep 0.1, noraft).
 */
import { keepFirst, type LogEntries } from './log.js';
import { pausedSlots, TRACKING, type LeaderProgress } from './progress.js';
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
  return s.options.flowControl ? pausedSlots(progress, s.options.maxInflightEntries, s.log.lastIndex) : null;
}

/**
 * True when the leader answers a reply from the follower in slot `k`, which is behind at
 * `lastIndex`, by sending what it lacks: always without flow control; else when the follower is
 * being probed, or when, tracking, the reply shows no progress since its last one (it could not
 * place what it received: a gap, or entries lost on the way) rather than progress with more still
 * on the way.
 */
export function shouldCatchUp(s: LeaderState, k: number, lastIndex: number): boolean {
  const p = s.progress;
  return !s.options.flowControl || p.sent[k] !== TRACKING || lastIndex === p.match[k];
}

/**
 * How many commands, in all, proposals stepped back to back on the leader `s` can append before
 * flow control would pause a follower: within that, every one of them goes to every follower and
 * leaves each follower's progress as one proposal of their sum would (see `joinableCommands`).
 * `Number.MAX_SAFE_INTEGER` with flow control off; 0 when a follower is paused already.
 *
 * Why the bound is exact: the check before a proposal sees as in flight to slot `k` the leader's
 * last index at that point minus `match[k]`, or less (a follower being probed was sent at most the
 * leader's last index, and is sent every append that is not paused). Before the last proposal of
 * `n` commands in all, that last index is at most `lastIndex + n - 1`; so `n` may reach
 * `maxInflightEntries - (lastIndex - match[k])` for each slot (for a tracking follower, one more
 * would pause it before a last proposal of one command).
 */
export function commandsBeforePause(s: LeaderState): number {
  if (!s.options.flowControl) return Number.MAX_SAFE_INTEGER;
  const match = s.progress.match;
  const lastIndex = s.log.lastIndex;
  let behind = 0;
  for (let k = 0; k < match.length; k++) behind = Math.max(behind, lastIndex - match[k]!);
  return Math.max(s.options.maxInflightEntries - behind, 0);
}
