/**
 * Simulation options: what to simulate, which faults to inject and how often, and the timings of
 * the virtual world. Options are plain JSON, recorded in every trace header.
 */

import { BASIC_OPTIONS, DEFAULT_OPTIONS as DEFAULT_NODE_OPTIONS, type NodeOptions } from '../index.js';
import type { MutantName } from './mutants.js';

/**
 * The faults the simulator can inject:
 * - `drop`, `dup`, `reorder`: the network loses, duplicates and reorders messages;
 * - `partition`: symmetric splits, isolated nodes, one-way cuts;
 * - `crash`: a node crashes (losing what was not durable) and restarts from its durable state;
 * - `snapshot`: nodes compact their logs, and snapshot transfers get lost;
 * - `membership`: the operator adds, promotes and removes nodes;
 * - `slow`: a follower becomes slow for a while: its incoming queue holds at most
 *   `SimOptions.slowQueue` messages (more are dropped) and it takes `timing.slowServiceMin..Max`
 *   to handle each one;
 * - `skew`: every node's timers run at their own rate, a factor within `1 ± SimOptions.skew` of
 *   real time (by default the largest skew a lease tolerates: see {@link leaseSkewBound});
 * - `transfer`: the operator hands leadership to a random voter (`transferLeadership`; only with
 *   the protocol extensions on, see `SimOptions.features`).
 */
export type FaultName =
  'drop' | 'dup' | 'reorder' | 'partition' | 'crash' | 'snapshot' | 'membership' | 'slow' | 'skew' | 'transfer';

/** Every fault, in the order they are listed. */
export const FAULT_NAMES: readonly FaultName[] = Object.freeze([
  'drop',
  'dup',
  'reorder',
  'partition',
  'crash',
  'snapshot',
  'membership',
  'slow',
  'skew',
  'transfer',
]);

/**
 * How often each fault strikes. Network rates are per message; the others are the chance per
 * fault tick (`timing.faultTick` of virtual time) that one more such fault starts.
 */
export interface FaultRates {
  /** A message is lost. */
  readonly drop: number;
  /** A message is delivered twice. */
  readonly duplicate: number;
  /** A message is delayed by up to `timing.reorderDelay` more, so later ones overtake it. */
  readonly reorder: number;
  /** A partition starts (symmetric split, one node isolated, or a one-way cut). */
  readonly partition: number;
  /** A node crashes (losing what was not durable) and restarts later from its durable state. */
  readonly crash: number;
  /** A node compacts its log into a snapshot at its applied index. */
  readonly compact: number;
  /** A snapshot transfer is lost. */
  readonly snapshotLoss: number;
  /** The operator changes the membership (add, remove or promote a node). */
  readonly membership: number;
  /** A follower becomes slow (bounded incoming queue, slow handling) for `timing.slowMin..Max`. */
  readonly slow: number;
  /** The operator asks the leader to hand leadership to a random voter. */
  readonly transfer: number;
}

/**
 * Virtual durations, in virtual milliseconds: integers from 0 to 10^9 (`normalizeOptions` throws a
 * `RangeError` otherwise). A duration drawn from a `...Min`/`...Max` pair is uniform over the range,
 * bounds included, and each range must have min <= max.
 */
export interface Timing {
  /** A leader's heartbeat interval (`setTimer` with `wait: 'heartbeat'`): positive, below `followerMin`. */
  readonly heartbeat: number;
  /** The shortest election timeout of a candidate (`wait: 'election'`): positive. */
  readonly electionMin: number;
  /** The longest election timeout of a candidate (`wait: 'election'`). */
  readonly electionMax: number;
  /** The shortest timeout of a follower (`wait: 'follower'`): longer than the heartbeat. */
  readonly followerMin: number;
  /** The longest timeout of a follower (`wait: 'follower'`). */
  readonly followerMax: number;
  /** The shortest one-way network latency of a message. */
  readonly latencyMin: number;
  /** The longest one-way network latency of a message (before any reordering delay). */
  readonly latencyMax: number;
  /** The most a reordered message is delayed beyond its latency. */
  readonly reorderDelay: number;
  /** The shortest time for one storage write to become durable. */
  readonly storageMin: number;
  /** The longest time for one storage write to become durable. */
  readonly storageMax: number;
  /** The shortest time a snapshot transfer takes (to arrive, or to be noticed lost). */
  readonly snapshotMin: number;
  /** The longest time a snapshot transfer takes (to arrive, or to be noticed lost). */
  readonly snapshotMax: number;
  /** The shortest time between two client proposals: positive. */
  readonly proposeMin: number;
  /** The longest time between two client proposals. */
  readonly proposeMax: number;
  /** How often the fault injector considers starting a fault: positive. */
  readonly faultTick: number;
  /** The shortest time a partition lasts. */
  readonly partitionMin: number;
  /** The longest time a partition lasts. */
  readonly partitionMax: number;
  /** The shortest time a crashed node stays down. */
  readonly downMin: number;
  /** The longest time a crashed node stays down. */
  readonly downMax: number;
  /** The shortest time between two client reads (protocol extensions on only; see `SimOptions.features`): positive. */
  readonly readMin: number;
  /** The longest time between two client reads. */
  readonly readMax: number;
  /** The shortest time a follower stays slow (the `slow` fault). */
  readonly slowMin: number;
  /** The longest time a follower stays slow (the `slow` fault). */
  readonly slowMax: number;
  /** The shortest time a slow follower takes to handle one incoming message (they are handled one after another). */
  readonly slowServiceMin: number;
  /** The longest time a slow follower takes to handle one incoming message. */
  readonly slowServiceMax: number;
}

/** Everything that defines a run. The same options give the same run, event for event. */
export interface SimOptions {
  /** The seed of the run's one random generator. */
  readonly seed: number;
  /** The initial number of voters (1–9). */
  readonly nodes: number;
  /** Events (node steps, starts, restarts, crashes) to run with faults before healing. */
  readonly steps: number;
  /** The faults to inject. */
  readonly faults: readonly FaultName[];
  /** How often each fault strikes (see `FaultRates`): each a probability in [0, 1]. */
  readonly rates: FaultRates;
  /** The virtual durations of the world (see `Timing`). */
  readonly timing: Timing;
  /** Most commands in one client proposal. */
  readonly maxBatch: number;
  /** Most members (voters and non-voters) the membership driver lets the cluster have (≤ 9). */
  readonly maxMembers: number;
  /**
   * Liveness bound: after the faults stop and the network heals, a leader must be elected and a
   * new proposal commit within this much virtual time.
   */
  readonly livenessTimeout: number;
  /** Record the trace (the events each node stepped). */
  readonly record: boolean;
  /** Record a state fingerprint every this many steps of each node. */
  readonly checkpointEvery: number;
  /** Run every node with a deliberately broken step (see `MUTANTS`), or null for the real one. */
  readonly mutant: MutantName | null;
  /**
   * The protocol extensions the nodes run (see `nodeOptionsFor`):
   * - `all`: raftstep's defaults (pre-vote, check-quorum, flow control) plus concurrent leader
   *   writes (the host runtime's setting: a leader writes while it sends), and the workload and faults
   *   that exercise them: clients read (ReadIndex, on the leader and through followers), the operator
   *   transfers leadership (fault `transfer`);
   * - `lease`: `all` plus lease reads (`NodeOptions.leaseReads`): a leader answers reads at once
   *   while its lease holds;
   * - `none`: the base protocol, as raftstep 0.1 and noraft; no reads, no transfers.
   */
  readonly features: Features;
  /**
   * The most messages a slow follower's incoming queue holds (the `slow` fault): a message that
   * arrives while it holds this many is dropped.
   */
  readonly slowQueue: number;
  /**
   * The clock skew of the `skew` fault: every node's timers run at a rate drawn within
   * `[1 - skew, 1 + skew]` of real time. Null: {@link leaseSkewBound}, the largest skew under
   * which a lease is safe. Larger values are allowed, to show that leases then fail.
   */
  readonly skew: number | null;
}

/** Which protocol extensions simulated nodes run (see `SimOptions.features`). */
export type Features = 'all' | 'none' | 'lease';

/** Every value of {@link Features}. */
export const FEATURES: readonly Features[] = Object.freeze(['all', 'none', 'lease']);

/**
 * Flow control's bounds in simulations (features on): far below raftstep's defaults, so that a slow
 * or unreachable follower does reach them in a run of a few thousand events.
 */
export const SIM_FLOW_CONTROL = Object.freeze({
  /** `NodeOptions.maxInflightEntries` in simulations: at most 64 entries in flight to one follower. */
  maxInflightEntries: 64,
  /** `NodeOptions.maxEntriesPerAppend` in simulations: at most 16 entries per catch-up AppendEntries. */
  maxEntriesPerAppend: 16,
});

/**
 * The node options of a simulation: the extensions `features` selects, an election timeout in
 * ticks that the simulated timers keep (a follower's timer is at least `followerMin`, so at least
 * `followerMin / heartbeat` heartbeat intervals: what `NodeOptions.electionTimeoutTicks` requires),
 * a lease drift margin of at least one tick, and flow control's small simulation bounds
 * ({@link SIM_FLOW_CONTROL}).
 */
export function nodeOptionsFor(o: Pick<SimOptions, 'features' | 'timing'>): NodeOptions {
  if (o.features === 'none') return BASIC_OPTIONS;
  const ticks = Math.max(2, Math.floor(o.timing.followerMin / o.timing.heartbeat));
  return {
    ...DEFAULT_NODE_OPTIONS,
    ...SIM_FLOW_CONTROL,
    electionTimeoutTicks: ticks,
    leaseDriftTicks: Math.max(1, Math.min(DEFAULT_NODE_OPTIONS.leaseDriftTicks, ticks - 1)),
    leaseReads: o.features === 'lease',
    concurrentLeaderWrites: true,
  };
}

/**
 * The largest clock skew a lease tolerates, as a relative deviation `s` of every node's timer rate
 * from real time (each node's rate within `[1 - s, 1 + s]`).
 *
 * A leader's lease lasts `E - D` of its ticks (`E = electionTimeoutTicks`, `D = leaseDriftTicks`)
 * from the tick at or before which it sent the leadership check a majority acknowledged: at most
 * `(E - D) * heartbeat * rateL` of real time after sending it. A follower that acknowledged that
 * check ignores vote requests and refuses pre-votes until its election timer fires, at least
 * `followerMin * rateF` after the acknowledgement (which comes after the sending). No other leader
 * can be elected while the lease holds when `(E - D) * heartbeat * rateL <= followerMin * rateF`
 * for any two nodes, that is when `(1 + s) / (1 - s) <= followerMin / ((E - D) * heartbeat)`:
 *
 *     s <= (followerMin - (E - D) * heartbeat) / (followerMin + (E - D) * heartbeat)
 *
 * With the default timing (heartbeat 50, followerMin 300, so E = 6 and D = 2) that is 0.2. The
 * simulated timers round in the safe direction (a heartbeat down, an election timeout up). Zero
 * when leases are off or `D` leaves no margin.
 */
export function leaseSkewBound(o: Pick<SimOptions, 'features' | 'timing'>): number {
  const n = nodeOptionsFor({ ...o, features: 'lease' });
  const lease = (n.electionTimeoutTicks - n.leaseDriftTicks) * o.timing.heartbeat;
  const f = o.timing.followerMin;
  return f <= lease ? 0 : (f - lease) / (f + lease);
}

/** The skew the `skew` fault applies with these options (see `SimOptions.skew`). */
export function skewOf(o: Pick<SimOptions, 'features' | 'timing' | 'skew' | 'faults'>): number {
  if (!o.faults.includes('skew')) return 0;
  return o.skew ?? leaseSkewBound(o);
}

/** Options as given by a caller: anything left out takes its default (`faults` may be a list in words). */
export type SimOptionsInput = Partial<Omit<SimOptions, 'rates' | 'timing' | 'faults'>> & {
  /**
   * Fault rates to change, each a probability in [0, 1]; the rates left out (or undefined) take
   * their value in `DEFAULT_RATES`.
   */
  readonly rates?: Partial<FaultRates>;
  /**
   * Virtual durations to change, in virtual milliseconds: each an integer from 0 to 10^9, min <= max
   * in every range (see `Timing` for each one's own bounds); those left out (or undefined) take
   * `DEFAULT_TIMING`'s.
   */
  readonly timing?: Partial<Timing>;
  /**
   * The faults to inject: a list of names, or the same in words for `parseFaults` (`'drop,dup'`,
   * `'all'`, `'none'`; an unknown name throws a RangeError). Kept in `FAULT_NAMES` order; every
   * fault when left out.
   */
  readonly faults?: readonly FaultName[] | string;
};

/** The default fault rates (see {@link FaultRates}). */
export const DEFAULT_RATES: FaultRates = Object.freeze({
  drop: 0.05,
  duplicate: 0.03,
  reorder: 0.1,
  partition: 0.06,
  crash: 0.05,
  compact: 0.12,
  snapshotLoss: 0.2,
  membership: 0.08,
  slow: 0.05,
  transfer: 0.04,
});

/** The default virtual timings (see {@link Timing}): a 50 ms heartbeat, followers waiting 300-450 ms. */
export const DEFAULT_TIMING: Timing = Object.freeze({
  heartbeat: 50,
  electionMin: 150,
  electionMax: 300,
  followerMin: 300,
  followerMax: 450,
  latencyMin: 1,
  latencyMax: 10,
  reorderDelay: 40,
  storageMin: 1,
  storageMax: 6,
  snapshotMin: 20,
  snapshotMax: 120,
  proposeMin: 5,
  proposeMax: 40,
  faultTick: 100,
  partitionMin: 200,
  partitionMax: 1500,
  downMin: 100,
  downMax: 1500,
  readMin: 10,
  readMax: 60,
  slowMin: 500,
  slowMax: 2500,
  slowServiceMin: 10,
  slowServiceMax: 40,
});

/** The default options of a run (see {@link SimOptions}): five nodes, 5,000 events, every fault, features `all`. */
export const DEFAULT_OPTIONS: SimOptions = Object.freeze({
  seed: 1,
  nodes: 5,
  steps: 5000,
  faults: FAULT_NAMES,
  rates: DEFAULT_RATES,
  timing: DEFAULT_TIMING,
  maxBatch: 3,
  maxMembers: 9,
  livenessTimeout: 10_000,
  record: true,
  checkpointEvery: 64,
  mutant: null,
  features: 'all',
  slowQueue: 8,
  skew: null,
});

/**
 * Parse a fault list: names separated by commas (`drop,dup,partition`), `all`, or `none` (or an
 * empty string). Throws a RangeError naming an unknown fault.
 */
export function parseFaults(list: string): FaultName[] {
  const names = list
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (names.length === 0 || (names.length === 1 && names[0] === 'none')) return [];
  if (names.includes('all')) return FAULT_NAMES.slice();
  const out: FaultName[] = [];
  for (const n of names) {
    const name = n === 'duplicate' ? 'dup' : n === 'snapshots' ? 'snapshot' : n;
    if (!(FAULT_NAMES as readonly string[]).includes(name)) {
      throw new RangeError(`unknown fault "${n}" (known: ${FAULT_NAMES.join(', ')}, all, none)`);
    }
    if (!out.includes(name as FaultName)) out.push(name as FaultName);
  }
  return FAULT_NAMES.filter((f) => out.includes(f));
}

/** The full options for `input`: defaults filled in, values checked (throws a RangeError). */
export function normalizeOptions(input: SimOptionsInput = {}): SimOptions {
  const faults = typeof input.faults === 'string' ? parseFaults(input.faults) : (input.faults ?? FAULT_NAMES);
  const d = DEFAULT_OPTIONS;
  // Built field by field: options go into trace headers, so nothing but these keys may slip in.
  const o: SimOptions = {
    seed: input.seed ?? d.seed,
    nodes: input.nodes ?? d.nodes,
    steps: input.steps ?? d.steps,
    faults: FAULT_NAMES.filter((f) => faults.includes(f)),
    rates: pick(DEFAULT_RATES, input.rates),
    timing: pick(DEFAULT_TIMING, input.timing),
    maxBatch: input.maxBatch ?? d.maxBatch,
    maxMembers: input.maxMembers ?? d.maxMembers,
    livenessTimeout: input.livenessTimeout ?? d.livenessTimeout,
    record: input.record ?? d.record,
    checkpointEvery: input.checkpointEvery ?? d.checkpointEvery,
    mutant: input.mutant ?? d.mutant,
    features: input.features ?? d.features,
    slowQueue: input.slowQueue ?? d.slowQueue,
    skew: input.skew ?? d.skew,
  };
  const int = (name: string, v: number, lo: number, hi: number): void => {
    if (!Number.isSafeInteger(v) || v < lo || v > hi)
      throw new RangeError(`${name} must be an integer in [${lo}, ${hi}]`);
  };
  int('seed', o.seed, -(2 ** 53) + 1, 2 ** 53 - 1);
  int('nodes', o.nodes, 1, 9);
  int('steps', o.steps, 0, Number.MAX_SAFE_INTEGER);
  int('maxBatch', o.maxBatch, 1, 1_000_000);
  int('maxMembers', o.maxMembers, o.nodes, 9);
  int('livenessTimeout', o.livenessTimeout, 1, Number.MAX_SAFE_INTEGER);
  int('checkpointEvery', o.checkpointEvery, 1, Number.MAX_SAFE_INTEGER);
  if (!FEATURES.includes(o.features)) {
    throw new RangeError(`features must be one of ${FEATURES.join(', ')}, not ${JSON.stringify(o.features)}`);
  }
  int('slowQueue', o.slowQueue, 1, 1_000_000);
  if (o.skew !== null && !(typeof o.skew === 'number' && o.skew >= 0 && o.skew < 1)) {
    throw new RangeError('skew must be null or a number in [0, 1)');
  }
  if (o.timing.heartbeat < 1) throw new RangeError('timing.heartbeat must be at least 1');
  if (o.mutant !== null && !MUTANT_LIST.includes(o.mutant)) {
    throw new RangeError(`unknown mutant "${String(o.mutant)}" (known: ${MUTANT_LIST.join(', ')})`);
  }
  for (const [k, v] of Object.entries(o.rates)) {
    if (typeof v !== 'number' || !(v >= 0 && v <= 1)) throw new RangeError(`rates.${k} must be in [0, 1]`);
  }
  for (const [k, v] of Object.entries(o.timing)) int(`timing.${k}`, v as number, 0, 1e9);
  const t = o.timing;
  if (t.electionMin > t.electionMax || t.followerMin > t.followerMax || t.latencyMin > t.latencyMax) {
    throw new RangeError('timing ranges must have min <= max');
  }
  if (t.storageMin > t.storageMax || t.snapshotMin > t.snapshotMax || t.proposeMin > t.proposeMax) {
    throw new RangeError('timing ranges must have min <= max');
  }
  if (t.partitionMin > t.partitionMax || t.downMin > t.downMax)
    throw new RangeError('timing ranges must have min <= max');
  if (t.readMin > t.readMax || t.slowMin > t.slowMax || t.slowServiceMin > t.slowServiceMax)
    throw new RangeError('timing ranges must have min <= max');
  if (t.readMin <= 0) throw new RangeError('timing.readMin must be positive');
  if (t.heartbeat <= 0 || t.heartbeat >= t.followerMin) {
    throw new RangeError('timing.heartbeat must be positive and below timing.followerMin');
  }
  if (t.faultTick <= 0 || t.proposeMin <= 0 || t.electionMin <= 0) {
    throw new RangeError('timing.faultTick, proposeMin and electionMin must be positive');
  }
  return o;
}

// Kept here rather than imported, so that options do not depend on the mutants' code.
const MUTANT_LIST: readonly string[] = [
  'votesWithoutLogCheck',
  'commitsOnAMinority',
  'winsWithOneVote',
  'believesStaleReplies',
  'readBeforeRound',
  'preVoteWhileLeaderAlive',
  'countsOwnWriteAtOnce',
];

/** `defaults` with the known keys of `given` that are defined. */
function pick<T extends object>(defaults: T, given: Partial<T> | undefined): T {
  const out = { ...defaults };
  if (given === undefined) return out;
  for (const k of Object.keys(defaults) as Array<keyof T>) {
    const v = given[k];
    if (v !== undefined) out[k] = v as T[keyof T];
  }
  return out;
}
