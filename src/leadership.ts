/**
 * The records a node keeps for the protocol extensions: a leader's leadership bookkeeping (ticks,
 * leadership-check rounds, its lease, a leadership transfer) and the reads a node has accepted
 * and not yet answered. Types and their empty values only; the rules that use them live in
 * `check-quorum.ts`, `reads.ts` and `transfer.ts`.
 */

/**
 * What a leader counts beyond replication. Time is in ticks: heartbeat timeouts stepped since this
 * node became leader (see `NodeOptions`).
 *
 * - `ticks`: heartbeat timeouts since the election.
 * - `round`: the last leadership-check round sent (0: none yet); rounds count up within a leadership.
 * - `roundTick`: the tick at which `round` was sent.
 * - `confirmed`: the highest round a majority of the voters acknowledged (each configuration, while
 *   joint); the leader led when it sent that round.
 * - `leaseUntil`: with lease reads, the lease holds while `ticks < leaseUntil` (0: no lease).
 * - `transferTo`: the voter leadership is being handed to, or null.
 * - `transferTick`: the tick at which that transfer started.
 * - `persisted`: with `concurrentLeaderWrites`, the highest index of the leader's log that the
 *   application reported durable (`appendPersisted`) during this leadership, or the last index it
 *   held when elected (everything before its term start is durable before the term start is): the
 *   index the leader counts for itself towards a commit. Kept, but unused, with the option off.
 */
export interface Leadership {
  readonly ticks: number;
  readonly round: number;
  readonly roundTick: number;
  readonly confirmed: number;
  readonly leaseUntil: number;
  readonly transferTo: string | null;
  readonly transferTick: number;
  readonly persisted: number;
}

/** A new leader's bookkeeping: tick 0, no round, no lease, no transfer, nothing persisted (frozen). */
export const NEW_LEADERSHIP: Leadership = Object.freeze({
  ticks: 0,
  round: 0,
  roundTick: 0,
  confirmed: 0,
  leaseUntil: 0,
  transferTo: null,
  transferTick: 0,
  persisted: 0,
});

/**
 * A read the node accepted and has not answered yet (see `ReadEvent`).
 *
 * - `id`: the id the application gave it (on the node where it was issued).
 * - `from`: on a leader, the follower that forwarded it (its answer goes back there), or null when
 *   the leader's own application issued it. Always null on a follower.
 * - `index`: on a leader, the read index: the commit index when the leader took the read; -1 while
 *   the leader waits to commit the first entry of its term. -1 on a follower (it only forwards).
 * - `round`: on a leader, the leadership-check round whose confirmation answers the read; 0 until a
 *   round covers it. 0 on a follower.
 */
export interface PendingRead {
  readonly id: string;
  readonly from: string | null;
  readonly index: number;
  readonly round: number;
}

/** No reads (shared, frozen). */
export const NO_READS: readonly PendingRead[] = Object.freeze([]);
