/**
 * Simulation options: what to simulate, which faults to inject and how often, and the timings of
 * the virtual world. Options are plain JSON, recorded in every trace header.
 */

import { BASIC_OPTIONS, DEFAULT_OPTIONS as DEFAULT_NODE_OPTIONS, type NodeOptions } from '../index.js';
import type { MutantName } from './mutants.js';

/** The faults the simulator can inject. */
export type FaultName = 'drop' | 'dup' | 'reorder' | 'partition' | 'crash' | 'snapshot' | 'membership';

/** Every fault, in the order they are listed. */
export const FAULT_NAMES: readonly FaultName[] = Object.freeze([
  'drop',
  'dup',
  'reorder',
  'partition',
  'crash',
  'snapshot',
  'membership',
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
}

/** Virtual durations, in virtual milliseconds. Ranges are uniform, bounds included. */
export interface Timing {
  /** A leader's heartbeat interval (`setTimer` with `wait: 'heartbeat'`). */
  readonly heartbeat: number;
  /** A candidate's election timeout range (`wait: 'election'`). */
  readonly electionMin: number;
  readonly electionMax: number;
  /** A follower's timeout range (`wait: 'follower'`): longer than the heartbeat. */
  readonly followerMin: number;
  readonly followerMax: number;
  /** One-way network latency range. */
  readonly latencyMin: number;
  readonly latencyMax: number;
  /** The most a reordered message is delayed beyond its latency. */
  readonly reorderDelay: number;
  /** Time for one storage write to become durable. */
  readonly storageMin: number;
  readonly storageMax: number;
  /** Time for a snapshot transfer. */
  readonly snapshotMin: number;
  readonly snapshotMax: number;
  /** Time between two client proposals. */
  readonly proposeMin: number;
  readonly proposeMax: number;
  /** How often the fault injector considers starting a fault. */
  readonly faultTick: number;
  /** How long a partition lasts. */
  readonly partitionMin: number;
  readonly partitionMax: number;
  /** How long a crashed node stays down. */
  readonly downMin: number;
  readonly downMax: number;
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
  readonly rates: FaultRates;
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
   * The protocol extensions the nodes run: `all` (raftstep's defaults: pre-vote, check-quorum, flow
   * control) or `none` (the base protocol, as raftstep 0.1 and noraft). See `nodeOptionsFor`.
   */
  readonly features: Features;
}

/** Which protocol extensions simulated nodes run (see `SimOptions.features`). */
export type Features = 'all' | 'none';

/**
 * The node options of a simulation: the extensions `features` selects, and an election timeout in
 * ticks that the simulated timers keep (a follower's timer is at least `followerMin`, so at least
 * `followerMin / heartbeat` heartbeat intervals: what `NodeOptions.electionTimeoutTicks` requires).
 */
export function nodeOptionsFor(o: SimOptions): NodeOptions {
  if (o.features === 'none') return BASIC_OPTIONS;
  const ticks = Math.max(2, Math.floor(o.timing.followerMin / o.timing.heartbeat));
  return {
    ...DEFAULT_NODE_OPTIONS,
    electionTimeoutTicks: ticks,
    leaseDriftTicks: Math.min(DEFAULT_NODE_OPTIONS.leaseDriftTicks, ticks - 1),
  };
}

/** Options as given by a caller: anything left out takes its default. */
export type SimOptionsInput = Partial<Omit<SimOptions, 'rates' | 'timing' | 'faults'>> & {
  readonly rates?: Partial<FaultRates>;
  readonly timing?: Partial<Timing>;
  readonly faults?: readonly FaultName[] | string;
};

export const DEFAULT_RATES: FaultRates = Object.freeze({
  drop: 0.05,
  duplicate: 0.03,
  reorder: 0.1,
  partition: 0.06,
  crash: 0.05,
  compact: 0.12,
  snapshotLoss: 0.2,
  membership: 0.08,
});

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
});

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
  if (o.features !== 'all' && o.features !== 'none') {
    throw new RangeError(`features must be "all" or "none", not ${JSON.stringify(o.features)}`);
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
