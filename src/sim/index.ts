/**
 * raftstep/sim — a deterministic cluster simulator for raftstep, and for applications built on it.
 *
 * It runs real nodes through `step` on a virtual clock, with timers, storage latency and crashes,
 * a faulty network, snapshots and membership changes; checks Raft's invariants after every event;
 * checks liveness once the faults stop; and records a trace that replays exactly (`raftstep/timetravel`
 * answers "what was node X's state after event N" from it: `createTimeline(recordingFromTrace(trace))`).
 * Nothing in it reads the real clock or an unseeded random source: the same seed and options give
 * the same run, event for event.
 *
 * Pure TypeScript with no I/O (the CLI and `trace-file` are the Node-only parts).
 */
export { simulate, Simulation, type SimPlugins, type SimResult, type SimSummary } from './simulator.js';
export { awaitLiveness, awaitReads, type LivenessReport, type ReadsReport } from './liveness.js';
export { ReadTracker, type ClientRead, type ReadsWorld } from './client-reads.js';
export {
  runSeeds,
  sweepOptions,
  emptyTotals,
  addSummary,
  mergeTotals,
  missingCoverage,
  type SweepTotals,
} from './sweep.js';
export {
  DEFAULT_OPTIONS,
  DEFAULT_RATES,
  DEFAULT_TIMING,
  FAULT_NAMES,
  FEATURES,
  SIM_FLOW_CONTROL,
  leaseSkewBound,
  nodeOptionsFor,
  normalizeOptions,
  parseFaults,
  skewOf,
  type FaultName,
  type FaultRates,
  type Features,
  type SimOptions,
  type SimOptionsInput,
  type Timing,
} from './options.js';
export {
  World,
  describeConfig,
  type ProposeOutcome,
  type ReadOutcome,
  type WorldInvariant,
  type WorldOptions,
} from './world.js';
export { SimNode, type NodeStatus } from './nodes.js';
export type { Packet } from './network.js';
export type { SimApplication, Stepper } from './plugins.js';
export type { Happening, WorldStats } from './stats.js';
export { Operator, MEMBERSHIP_CHANGES, type MembershipChange, type ChangeOutcome } from './operator.js';
export { Checker, type CheckedWorld, type Replica } from './checker.js';
export { SimViolation, describeViolation, type InvariantName, type Violation } from './violation.js';
export { traceFromHostEvents } from './from-host.js';
export {
  applyTraceEvent,
  parseTrace,
  replayTrace,
  serializeTrace,
  traceLines,
  TRACE_FORMAT,
  TRACE_VERSION,
  type ReplayMismatch,
  type ReplayReport,
  type Trace,
  type TraceCheck,
  type TraceEnd,
  type TraceEvent,
  type TraceHeader,
} from './trace.js';
export { describeSummary } from './describe.js';
export { MUTANTS, MUTANT_NAMES, stepFor, type MutantName } from './mutants.js';
export { hashState } from './hash.js';
export { Rng } from './rng.js';
export type { Machine, SnapshotData } from './storage.js';
