/**
 * What the simulator reports when a check fails.
 */

/** The invariants and contracts the simulator checks. */
export type InvariantName =
  /** At most one leader per term. */
  | 'electionSafety'
  /** A vote goes only to a candidate whose log is at least as up to date as the voter's. */
  | 'electionRestriction'
  /** A leader was voted for by a majority of its configuration's voters (each set while joint). */
  | 'electedByMajority'
  /** A leader's commit index is held by a majority of its configuration's voters (each set while joint). */
  | 'committedByMajority'
  /** Logs that hold an entry of the same index and term hold the same entries up to it. */
  | 'logMatching'
  /** A leader never overwrites or drops entries of its log during its tenure. */
  | 'leaderAppendOnly'
  /** A leader holds every entry committed in an earlier term. */
  | 'leaderCompleteness'
  /** Every replica applies the same command at each index, and snapshots agree with that. */
  | 'stateMachineSafety'
  /** A node's current term never decreases (nor does its durable term). */
  | 'termMonotonic'
  /** A node's commit index never decreases while it runs. */
  | 'commitMonotonic'
  /** A leader's match index for a follower never decreases within its tenure. */
  | 'matchIndexMonotonic'
  /** After healing, a leader is elected and a new proposal commits within the bound. */
  | 'liveness'
  /**
   * A read is answered with an index at least the highest commit index any node had when the read
   * was issued, and no higher than what some node knows committed (linearizability).
   */
  | 'linearizableRead'
  /** Lease reads off: a leader answers a read only after a majority acknowledged a leadership check sent after the read arrived. */
  | 'leadershipConfirmed'
  /** Every read is answered or refused: after healing, no read stays pending on a node that is up. */
  | 'readAnswered'
  /** A node that hears from a live leader (it leads, or its leader's messages reset its timer) grants no pre-vote. */
  | 'preVoteRestriction'
  /** Flow control: a leader never has more than `maxInflightEntries + maxEntriesPerAppend` entries in flight to a follower. */
  | 'inflightBound'
  /** raftstep's contract with the application (actions well-formed, never invalid or fatal). */
  | 'contract'
  /** `step` never reports an `internalError` (a rule threw on a valid event: a bug in raftstep). */
  | 'noInternalError'
  /** An invariant of the user's application (`SimApplication.check`, `invariants`). */
  | 'application';

/** A failed check: which invariant, where, when, and how to reproduce it. */
export interface Violation {
  /** The invariant or contract that failed. */
  readonly invariant: InvariantName;
  /** What was found, in words (values and positions included). */
  readonly message: string;
  /** The nodes involved. */
  readonly nodes: readonly string[];
  /** The number of the event after which it was found (see traces). */
  readonly event: number;
  /** Virtual time, in virtual milliseconds. */
  readonly time: number;
  /** The run's seed. */
  readonly seed: number;
}

/** Thrown inside a world when a check fails; simulations catch it and report the violation. */
export class SimViolation extends Error {
  /** Always `'SimViolation'`, so that the error names itself in stack traces and logs. */
  override name = 'SimViolation';
  constructor(
    /** The failed check; the error's `message` is `describeViolation` of it. */
    readonly violation: Violation,
  ) {
    super(describeViolation(violation));
  }
}

/** One line saying what failed, where and how to reproduce it. */
export function describeViolation(v: Violation): string {
  const who = v.nodes.length === 0 ? '' : ` [${v.nodes.join(', ')}]`;
  return `${v.invariant} violated at event ${v.event} (t=${v.time} ms, seed ${v.seed})${who}: ${v.message}`;
}
