/**
 * Repair by term: a follower whose log diverges from the leader's, by any number of entries in any
 * number of old terms, is brought in line in at most three round trips (a heartbeat and its reply,
 * then at most two AppendEntries and their replies), never one entry per round trip.
 */
import fc from 'fast-check';
import { makeConfig } from '../../src/config.js';
import {
  appendCommands,
  appendConfig,
  appendTermStart,
  containsPosition,
  emptyEntries,
  type LogEntries,
} from '../../src/log.js';
import type { Message } from '../../src/messages.js';
import { ZERO_METRICS } from '../../src/metrics.js';
import { DEFAULT_OPTIONS } from '../../src/options.js';
import { progressFor } from '../../src/progress.js';
import { initialFollower, toCandidate, toLeader, type RaftState } from '../../src/state.js';
import { step } from '../../src/step.js';
import { fcParams } from '../support/seed';

const CONFIG = makeConfig(['f', 'l', 'x']);

/** A log: the configuration at 1, then runs of `[term, count]` (each run starts with a term start). */
function logOf(prefix: LogEntries, runs: ReadonlyArray<readonly [number, number]>): LogEntries {
  let log = prefix;
  for (const [term, count] of runs) log = appendCommands(appendTermStart(log, term), count);
  return log;
}

/** The leader `l` of `term` holding `log` (committed up to the end of `committed`). */
function leaderWith(log: LogEntries, term: number, committed: number): RaftState {
  const follower = initialFollower({
    options: DEFAULT_OPTIONS,
    leaderAlive: false,
    id: 'l',
    term: term - 1,
    votedFor: null,
    commitIndex: committed,
    log,
    snapshotConfig: makeConfig([]),
    metrics: ZERO_METRICS,
  });
  const candidate = toCandidate(follower, term, ZERO_METRICS);
  return toLeader(candidate, progressFor(CONFIG, 'l', null), ZERO_METRICS);
}

/** The follower `f` of `l` in `term` holding `log`. */
function followerWith(log: LogEntries, term: number): RaftState {
  return initialFollower({
    options: DEFAULT_OPTIONS,
    leaderAlive: false,
    id: 'f',
    term,
    votedFor: 'l',
    commitIndex: 0,
    log,
    snapshotConfig: makeConfig([]),
    metrics: ZERO_METRICS,
  });
}

/** The message `actions` send to `to`, if any. */
function messageTo(actions: ReturnType<typeof step>[1], to: string): Message | null {
  for (const a of actions) {
    if (a.type === 'send' && a.to === to) return a.message;
    if (a.type === 'broadcast') return a.message;
  }
  return null;
}

/**
 * Heartbeat from the leader, then messages back and forth until the leader sends nothing more.
 * Returns the round trips taken and the two final states.
 */
function repair(leader: RaftState, follower: RaftState): { trips: number; leader: RaftState; follower: RaftState } {
  let [l, actions] = step(leader, { type: 'heartbeat' });
  let f = follower;
  let call = messageTo(actions, 'f');
  let trips = 0;
  while (call !== null && trips < 50) {
    trips++;
    const [f2, replies] = step(f, call);
    f = f2;
    const reply = messageTo(replies, 'l');
    if (reply === null) break;
    [l, actions] = step(l, reply);
    call = messageTo(actions, 'f');
  }
  return { trips, leader: l, follower: f };
}

describe('repair by term', () => {
  test('a thousand divergent entries of an old term: two round trips', () => {
    const prefix = appendCommands(appendTermStart(appendConfig(emptyEntries(0, 0), CONFIG), 1), 5);
    const leaderLog = logOf(prefix, [
      [3, 40],
      [4, 0],
    ]);
    const followerLog = logOf(prefix, [[2, 1000]]);
    const { trips, follower } = repair(leaderWith(leaderLog, 4, prefix.lastIndex), followerWith(followerLog, 4));
    expect(trips).toBe(2);
    expect(follower.log.lastIndex).toBe(leaderLog.lastIndex);
  });

  // Terms are chosen so that the logs are ones Raft can produce: a shared prefix, then the leader's
  // runs in even terms and the follower's in odd terms (no term is written by two leaders), all
  // below the leader's current term, whose term-start entry ends the leader's log.
  const runs = (max: number) =>
    fc.array(fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 0, max: 300 })), { maxLength: max });

  function diverged(
    shared: ReadonlyArray<readonly [number, number]>,
    leaderRuns: ReadonlyArray<readonly [number, number]>,
    followerRuns: ReadonlyArray<readonly [number, number]>,
    extra: number,
  ): { trips: number; leaderLog: LogEntries; follower: LogEntries } {
    let term = 0;
    const sharedRuns = shared.map(([step, count]) => [(term += 2 * step), count] as const);
    let lt = term;
    const leaderOwn = leaderRuns.map(([step, count]) => [(lt += 2 * step), count] as const);
    let ft = term + 1;
    const followerOwn = followerRuns.map(([step, count], i) => [(ft += i === 0 ? 0 : 2 * step), count] as const);
    const prefix = logOf(appendConfig(emptyEntries(0, 0), CONFIG), sharedRuns);
    const current = Math.max(lt, ft) + 1;
    const leaderLog = appendTermStart(logOf(prefix, leaderOwn), current);
    const followerLog = appendCommands(logOf(prefix, followerOwn), extra);
    const result = repair(leaderWith(leaderLog, current, prefix.lastIndex), followerWith(followerLog, current));
    return { trips: result.trips, leaderLog, follower: result.follower.log };
  }

  test('a divergent tail of one old term, of any length, after any history: at most three round trips', () => {
    fc.assert(
      fc.property(
        runs(6),
        runs(6),
        runs(1),
        fc.integer({ min: 0, max: 1000 }),
        (shared, leaderRuns, followerRuns, extra) => {
          const { trips, leaderLog, follower } = diverged(shared, leaderRuns, followerRuns, extra);
          expect(follower.lastIndex).toBe(leaderLog.lastIndex);
          expect(containsPosition(leaderLog, follower.lastTerm, follower.lastIndex)).toBe(true);
          expect(trips).toBeLessThanOrEqual(3);
        },
      ),
      fcParams('repair by term: one divergent term in at most three round trips'),
    );
  });

  test('divergent tails over several old terms: one round trip per divergent term at most, plus two', () => {
    // Each round trip skips at least a whole term of the follower's divergent tail (or finds the
    // match), so the repair is bounded by the number of terms, never by the number of entries.
    fc.assert(
      fc.property(
        runs(6),
        runs(6),
        runs(6),
        fc.integer({ min: 0, max: 1000 }),
        (shared, leaderRuns, followerRuns, extra) => {
          const { trips, leaderLog, follower } = diverged(shared, leaderRuns, followerRuns, extra);
          expect(follower.lastIndex).toBe(leaderLog.lastIndex);
          expect(containsPosition(leaderLog, follower.lastTerm, follower.lastIndex)).toBe(true);
          expect(trips).toBeLessThanOrEqual(2 + Math.max(1, followerRuns.length));
        },
      ),
      fcParams('repair by term: bounded by the divergent terms'),
    );
  });
});
