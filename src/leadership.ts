/**
 * The records a node keeps for the protocol extensions: a leader's leadership bookkeeping (ticks,
 * leadership-check rounds, its lease, a leadership transfer) and the reads a node has accepted
 * and not yet answered. Types and their empty values only; the rules that use them live in
 * `check-quorum.ts`, `reads.ts` and `transfer.ts`.
 */

/**
 * What a leader counts beyond replication: its ticks, its leadership-check rounds, its lease, a
 * leadership transfer, and (with `concurrentLeaderWrites`) how much of its own log is durable. Time
 * is in ticks: heartbeat timeouts stepped since this node became leader (see `NodeOptions`).
 */
export interface Leadership {
  /** Heartbeat timeouts stepped since the election (0 at the election); the leader's clock. */
  readonly ticks: number;
  /** The last leadership-check round sent (0: none yet); rounds count up within a leadership. */
  readonly round: number;
  /** The tick (see `ticks`) at which `round` was sent. */
  readonly roundTick: number;
  /**
   * The highest round a majority of the voters acknowledged (each configuration, while joint); the
   * leader led when it sent that round. 0 until a round is confirmed.
   */
  readonly confirmed: number;
  /**
   * With lease reads, the lease holds while `ticks < leaseUntil` (0: no lease). Set when the latest
   * round sent is confirmed: its `roundTick` plus `electionTimeoutTicks` minus `leaseDriftTicks`.
   */
  readonly leaseUntil: number;
  /** The voter leadership is being handed to, or null when no transfer is running. */
  readonly transferTo: string | null;
  /** The tick at which the running transfer started (0 when none runs). */
  readonly transferTick: number;
  /**
   * With `concurrentLeaderWrites`, the highest index of the leader's log that the application
   * reported durable (`appendPersisted`) during this leadership, or the last index it held when
   * elected (everything before its term start is durable before the term start is): the index the
   * leader counts for itself towards a commit. Kept, but unused, with the option off.
   */
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

/** A read the node accepted and has not answered yet (see `ReadEvent`). */
export interface PendingRead {
  /** The id the application gave the read (on the node where it was issued). */
  readonly id: string;
  /**
   * On a leader, the follower that forwarded the read (its answer goes back there), or null when the
   * leader's own application issued it. Always null on a follower.
   */
  readonly from: string | null;
  /**
   * On a leader, the read index: the commit index when the leader took the read; -1 while the leader
   * waits to commit the first entry of its term. -1 on a follower (it only forwards).
   */
  readonly index: number;
  /**
   * On a leader, the leadership-check round whose confirmation answers the read; 0 until a round
   * covers it. 0 on a follower.
   */
  readonly round: number;
}

/** No reads (shared, frozen). */
export const NO_READS: readonly PendingRead[] = Object.freeze([]);
