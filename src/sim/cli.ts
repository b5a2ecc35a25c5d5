#!/usr/bin/env node
/// <reference types="node" />
/**
 * The simulator's command line (Node only).
 *
 *     npm run sim -- --seed S --nodes K --steps N --faults LIST --features all|none|lease [--trace FILE] [--json]
 *     npm run sim -- --replay FILE [--at N [--node ID]]
 *     npm run sim:sweep -- --seeds N [--from S] [--nodes K|A-B] [--steps N] [--faults LIST] [--features F] [--workers W] [--json]
 *
 * A run prints a progress bar while stdout is a terminal, then a summary in words and, with
 * `--json`, one final JSON line. It exits with status 1 when an invariant was violated (the failing
 * run's trace is written, to `--trace FILE` or to `traces/sim-seed-S.ndjson`), 2 on a usage error.
 */
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';
import { describeSummary } from './describe.js';
import {
  DEFAULT_OPTIONS,
  FAULT_NAMES,
  FEATURES,
  normalizeOptions,
  parseFaults,
  type FaultName,
  type Features,
  type SimOptionsInput,
} from './options.js';
import { MUTANT_NAMES, type MutantName } from './mutants.js';
import { simulate, type SimSummary } from './simulator.js';
import { addSummary, emptyTotals, missingCoverage, sweepOptions, type SweepTotals } from './sweep.js';
import { createTimeline } from '../timetravel/timeline.js';
import { recordingFromTrace } from '../timetravel/from-trace.js';
import { replayTrace, type Trace, type TraceEvent } from './trace.js';
import { defaultTracePath, readTraceFile, traceDirProblem, traceFileProblem, writeTraceFile } from './trace-file.js';
import { describeViolation } from './violation.js';

/** Where the CLI reads and writes; the real process by default, replaced in tests. */
export interface CliIO {
  out(text: string): void;
  err(text: string): void;
  /** True when `out` is a terminal (progress bars are drawn only then). */
  readonly tty: boolean;
  /** Wall-clock milliseconds (only for the progress bar and timings). */
  now(): number;
  readTrace(file: string): Trace;
  writeTrace(file: string, trace: Trace): void;
  /** Why a trace could not be written to `file` (checked before a run starts), or null. */
  checkTracePath(file: string): string | null;
  /** Why traces could not be written into the folder `dir`, or null. */
  checkTraceDir(dir: string): string | null;
  /**
   * Run sweep jobs, calling `onResult` for each as it finishes; resolves once all are done. The
   * default starts worker threads on this script; tests run the jobs in-process.
   */
  runJobs?: (jobs: JobSource, workers: number, onResult: (reply: SweepReply) => void) => Promise<void>;
}

export const processIO: CliIO = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  tty: process.stdout.isTTY === true,
  now: () => Date.now(),
  readTrace: readTraceFile,
  writeTrace: writeTraceFile,
  checkTracePath: traceFileProblem,
  checkTraceDir: traceDirProblem,
};

const USAGE = `raftstep simulator

  npm run sim -- [--seed S] [--nodes K] [--steps N] [--faults LIST] [--features F] [--trace FILE] [--json]
      Simulate K nodes (1-9, default ${DEFAULT_OPTIONS.nodes}) for N events (default ${DEFAULT_OPTIONS.steps}) under the
      faults in LIST (comma-separated: ${FAULT_NAMES.join(',')}; or all, none; default all), then heal the
      network and check that a leader commits a new proposal and that every read still in flight is
      answered or refused. Invariants are checked after every event, every read answer against the
      committed history.
      --features F chooses the protocol the nodes run: all (default: pre-vote, check-quorum, flow
      control, concurrent leader writes; clients read through ReadIndex on leaders and followers, the
      operator transfers leadership), lease (all, plus lease reads), or none (the base protocol: no
      reads, no transfers).
      Faults: slow makes a follower slow for a while (a bounded incoming queue, slow handling); skew
      runs every node's timers at its own rate, within the bound a lease tolerates; transfer has the
      operator hand leadership to a random voter (features all and lease only).
      --trace FILE writes the trace; a failing run always writes one (traces/sim-seed-S.ndjson by default).
      --json prints one final JSON line with the run's numbers. Exit status 1 on a violation.

      --mutant NAME runs every node with a deliberately broken step, to watch the checks catch it
      (${MUTANT_NAMES.join(', ')}).

  npm run sim -- --replay FILE [--at N [--node ID]] [--json]
      Replay a trace through step and verify every recorded state fingerprint (the trace's header
      carries the options, features and mutant included). With --at, print the state of every node
      (or of ID) right after event N, without re-running the simulation.

  npm run sim:sweep -- --seeds N [--from S] [--nodes K|A-B] [--steps N] [--faults LIST] [--features F]
                       [--workers W] [--mutant NAME] [--traces DIR] [--json]
      Run N seeds (from S, default 1) on W worker threads (default 2); failing runs write their traces
      to DIR (default traces/). With --mutant every seed runs the broken step, to see how often the
      checks catch it. Exit status 1 when any seed found a violation.

  Long runs show their progress (a bar with the time left on a terminal, a line every 5 s
  otherwise; --quiet hides it). Every bad input is one line and exit status 2, before anything runs;
  an option that does not apply to the mode is bad input. Installed from npm: npx raftstep-sim ...
`;

type Args = Map<string, string | true>;

function parseArgs(argv: readonly string[]): Args {
  const args: Args = new Map();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new UsageError(`unexpected argument "${a}"`);
    const eq = a.indexOf('=');
    if (eq > 0) {
      args.set(a.slice(2, eq), a.slice(eq + 1));
    } else {
      const next = argv[i + 1];
      if (next !== undefined && !next.startsWith('--')) {
        args.set(a.slice(2), next);
        i++;
      } else args.set(a.slice(2), true);
    }
  }
  return args;
}

class UsageError extends Error {}

/** The options each mode takes; an option given to a mode that does not take it is a usage error. */
const MODES = {
  run: ['seed', 'nodes', 'steps', 'faults', 'features', 'trace', 'json', 'quiet', 'mutant'],
  replay: ['replay', 'at', 'node', 'json'],
  sweep: [
    'sweep',
    'seeds',
    'from',
    'nodes',
    'steps',
    'faults',
    'features',
    'workers',
    'json',
    'quiet',
    'traces',
    'mutant',
  ],
} as const;
type Mode = keyof typeof MODES;
const KNOWN = new Set<string>(['help', ...MODES.run, ...MODES.replay, ...MODES.sweep]);
const MODE_NAMES: Record<Mode, string> = { run: 'a single run', replay: '--replay', sweep: 'a sweep' };

/** The first option of `args` that `mode` does not take, as a usage error. */
function checkModeOptions(args: Args, mode: Mode): void {
  const allowed = new Set<string>(MODES[mode]);
  for (const k of args.keys()) {
    if (allowed.has(k)) continue;
    const owners = (Object.keys(MODES) as Mode[]).filter((m) => (MODES[m] as readonly string[]).includes(k));
    throw new UsageError(
      `--${k} does not apply to ${MODE_NAMES[mode]} (only to ${owners.map((m) => MODE_NAMES[m]).join(' and ')})`,
    );
  }
}

function int(args: Args, key: string, fallback: number): number {
  const v = args.get(key);
  if (v === undefined) return fallback;
  if (v === true || !/^-?\d+$/.test(v)) throw new UsageError(`--${key} needs an integer`);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new UsageError(`--${key} is out of range`);
  return n;
}

function str(args: Args, key: string): string | undefined {
  const v = args.get(key);
  if (v === true) throw new UsageError(`--${key} needs a value`);
  return v;
}

function faultsOf(args: Args): FaultName[] {
  const v = args.get('faults');
  if (v === undefined) return FAULT_NAMES.slice();
  if (v === true) throw new UsageError('--faults needs a list');
  try {
    return parseFaults(v);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

function featuresOf(args: Args): Features {
  const v = str(args, 'features');
  if (v === undefined) return DEFAULT_OPTIONS.features;
  if (!(FEATURES as readonly string[]).includes(v)) {
    throw new UsageError(`unknown features "${v}" (known: ${FEATURES.join(', ')})`);
  }
  return v as Features;
}

function mutantOf(args: Args): MutantName | null {
  const v = str(args, 'mutant');
  if (v === undefined) return null;
  if (!(MUTANT_NAMES as readonly string[]).includes(v)) {
    throw new UsageError(`unknown mutant "${v}" (known: ${MUTANT_NAMES.join(', ')})`);
  }
  return v as MutantName;
}

/**
 * Run the CLI with `argv` (the arguments after the script). Returns the exit status (a promise for
 * a sweep, which runs on worker threads).
 */
export function runCli(argv: readonly string[], io: CliIO = processIO): number | Promise<number> {
  let args: Args;
  try {
    args = parseArgs(argv);
    for (const k of args.keys()) if (!KNOWN.has(k)) throw new UsageError(`unknown option --${k}`);
    if (args.has('help')) {
      io.out(USAGE);
      return 0;
    }
    const mode: Mode = args.has('replay') ? 'replay' : args.has('sweep') || args.has('seeds') ? 'sweep' : 'run';
    checkModeOptions(args, mode);
    if (mode === 'replay') return replayCommand(args, io);
    if (mode === 'sweep') return sweepCommand(args, io);
    return simCommand(args, io);
  } catch (err) {
    if (!(err instanceof UsageError || err instanceof RangeError)) throw err;
    io.err(`error: ${err.message} (see --help)\n`);
    return 2;
  }
}

// ---------------------------------------------------------------------------------------------
// One run

function simCommand(args: Args, io: CliIO): number {
  const options: SimOptionsInput = {
    seed: int(args, 'seed', DEFAULT_OPTIONS.seed),
    nodes: int(args, 'nodes', DEFAULT_OPTIONS.nodes),
    steps: int(args, 'steps', DEFAULT_OPTIONS.steps),
    faults: faultsOf(args),
    features: featuresOf(args),
    mutant: mutantOf(args),
  };
  const traceFile = str(args, 'trace');
  // Where the trace would go, checked before the run: a failing run always writes one.
  const tracePath = traceFile ?? defaultTracePath(options.seed!);
  const problem = io.checkTracePath(tracePath);
  if (problem !== null) {
    throw new UsageError(
      traceFile !== undefined ? `--trace ${JSON.stringify(traceFile)}: ${problem}` : `${tracePath}: ${problem}`,
    );
  }
  const json = args.has('json');
  const progress = args.has('quiet') ? null : new Progress(io, 'events');
  const started = io.now();
  const result = simulate(options, {
    onProgress:
      progress === null
        ? undefined
        : (events, steps, phase) => progress.report(events, steps, phase === 'calm' ? 'healing' : ''),
    progressEvery: 250,
  });
  progress?.clear();
  const s = result.summary;
  io.out(describeSummary(s) + '\n');
  io.out(`  (${((io.now() - started) / 1000).toFixed(2)} s of wall time)\n`);
  let written: string | null = null;
  if (result.trace !== null && (traceFile !== undefined || result.violation !== null)) {
    written = traceFile ?? defaultTracePath(s.seed);
    io.writeTrace(written, result.trace);
    io.out(`trace written to ${written} (${result.trace.events.length} events)\n`);
  }
  if (result.violation !== null) {
    io.out(`replay it with: npm run sim -- --replay ${written ?? '<trace>'}\n`);
    io.out(`inspect a node: npm run sim -- --replay ${written ?? '<trace>'} --at ${result.violation.event}\n`);
  }
  if (json) io.out(JSON.stringify({ ...s, trace: written }) + '\n');
  return result.violation === null ? 0 : 1;
}

// ---------------------------------------------------------------------------------------------
// Replay and time travel

/** The nodes of `trace`, in order of first appearance. */
function traceNodes(trace: Trace): string[] {
  return [...new Set(trace.events.map((e) => e.node))];
}

/**
 * `--replay FILE --at N [--node ID]`: every node's state (or ID's) right after event N, from a
 * timeline (raftstep/timetravel) of the trace's events up to N, replayed with the run's step.
 */
function timeTravelCommand(file: string, trace: Trace, n: number, node: string | undefined, io: CliIO): number {
  const nodes = traceNodes(trace);
  if (node !== undefined && !nodes.includes(node)) {
    io.err(`error: the trace has no node ${JSON.stringify(node)} (it has ${nodes.join(', ')})\n`);
    return 2;
  }
  let lines: string[];
  try {
    const upTo: Trace = { ...trace, events: trace.events.filter((e) => e.n <= n), checks: [], end: null };
    const timeline = createTimeline(recordingFromTrace(upTo, { verify: false }));
    const stateOf = (id: string) => (timeline.nodes.includes(id) ? timeline.stateAt(timeline.length, id) : null);
    lines = (node === undefined ? nodes : [node]).map((id) => `${id}: ${JSON.stringify(stateOf(id))}\n`);
  } catch (err) {
    // The timeline names the recording event; the step's or restart's own error says what failed.
    const cause = (err as Error).cause;
    const why = cause instanceof Error ? cause.message : (err as Error).message;
    io.err(`error: ${file} cannot be replayed up to event ${n}: ${why}\n`);
    return 2;
  }
  const e: TraceEvent | undefined = trace.events.find((ev) => ev.n === n);
  const last = trace.events.length === 0 ? 0 : trace.events[trace.events.length - 1]!.n;
  io.out(
    e === undefined
      ? `after event ${n} (the trace has events 1..${last}):\n`
      : `after event ${n} (t=${e.t} ms, ${describeTraceEvent(e)}):\n`,
  );
  for (const line of lines) io.out(line);
  return 0;
}

function replayCommand(args: Args, io: CliIO): number {
  const file = str(args, 'replay');
  if (file === undefined) throw new UsageError('--replay needs a trace file');
  if (args.has('node') && !args.has('at')) throw new UsageError('--node needs --at');
  if (args.has('at')) int(args, 'at', 0);
  let trace: Trace;
  try {
    trace = io.readTrace(file);
  } catch (err) {
    io.err(`error: cannot read ${file}: ${(err as Error).message}\n`);
    return 2;
  }
  const at = args.get('at');
  const node = str(args, 'node');
  if (at !== undefined) return timeTravelCommand(file, trace, int(args, 'at', 0), node, io);
  const started = io.now();
  const report = replayTrace(trace);
  const h = trace.header;
  const what =
    h.options === null
      ? `seed ${h.seed}`
      : `seed ${h.seed}, ${h.options.nodes} node${h.options.nodes === 1 ? '' : 's'}, faults ${h.options.faults.join(',') || 'none'}`;
  io.out(
    `replayed ${report.events} events of ${report.nodes.length} nodes (${what}) in ${((io.now() - started) / 1000).toFixed(2)} s\n`,
  );
  if (report.error !== null) io.out(`replay stopped: ${report.error}\n`);
  if (report.mismatches.length === 0 && report.error === null) {
    io.out(
      `every state matches the recording (${report.compared} fingerprints compared; the hash chain over every line of the file holds)\n`,
    );
  } else {
    io.out(`${report.mismatches.length} of ${report.compared} fingerprints DIFFER; the first ones:\n`);
    for (const m of report.mismatches.slice(0, 5)) {
      io.out(`  after event ${m.n}, ${m.node}: recorded ${m.expected}, replayed ${m.actual}\n`);
    }
  }
  const v = trace.end?.violation;
  if (v !== null && v !== undefined && typeof v === 'object') {
    io.out(`the recorded run ended with: ${describeViolation(v as Parameters<typeof describeViolation>[0])}\n`);
  }
  if (args.has('json')) {
    io.out(
      JSON.stringify({
        ok: report.ok,
        events: report.events,
        compared: report.compared,
        mismatches: report.mismatches.length,
      }) + '\n',
    );
  }
  return report.ok ? 0 : 1;
}

function describeTraceEvent(e: Trace['events'][number]): string {
  if ('step' in e) return `${e.node} stepped ${e.step.type}${'from' in e.step ? ` from ${e.step.from}` : ''}`;
  if ('start' in e) return `${e.node} started`;
  if ('restart' in e) return `${e.node} restarted`;
  if ('crash' in e) return `${e.node} crashed`;
  return `${e.node} shut down`;
}

// ---------------------------------------------------------------------------------------------
// Sweeps

/** One seed of a sweep, as sent to a worker. */
export interface SweepJob {
  readonly seed: number;
  readonly options: SimOptionsInput;
  readonly traceDir: string;
}

/** A worker's answer: the seed's summary, and where its trace went (failing runs only). */
export interface SweepReply {
  readonly seed: number;
  readonly summary: SimSummary;
  readonly trace: string | null;
}

/** The jobs of a sweep, made one at a time (a sweep of a hundred million seeds holds one job). */
export interface JobSource {
  readonly total: number;
  next(): SweepJob | null;
}

function sweepCommand(args: Args, io: CliIO): Promise<number> {
  const count = int(args, 'seeds', 100);
  const from = int(args, 'from', 1);
  const workers = int(args, 'workers', 2);
  const steps = int(args, 'steps', DEFAULT_OPTIONS.steps);
  const faults = faultsOf(args);
  const features = featuresOf(args);
  const mutant = mutantOf(args);
  const traceDir = str(args, 'traces') ?? 'traces';
  const nodesArg = str(args, 'nodes') ?? '5';
  const range = /^(\d+)-(\d+)$/.exec(nodesArg);
  const nodes: number | [number, number] =
    range !== null ? [Number(range[1]), Number(range[2])] : /^\d+$/.test(nodesArg) ? Number(nodesArg) : NaN;
  if (
    typeof nodes === 'number' ? !(nodes >= 1 && nodes <= 9) : !(nodes[0] >= 1 && nodes[1] <= 9 && nodes[0] <= nodes[1])
  ) {
    throw new UsageError('--nodes must be 1-9, or a range A-B within 1-9');
  }
  if (count < 1) throw new UsageError('--seeds must be at least 1');
  if (from < 0) throw new UsageError('--from must be 0 or more');
  if (from > Number.MAX_SAFE_INTEGER - (count - 1)) {
    throw new UsageError(`--from ${from} with --seeds ${count} goes past the largest seed, ${Number.MAX_SAFE_INTEGER}`);
  }
  if (!(workers >= 1 && workers <= 64)) throw new UsageError('--workers must be 1-64');
  if (!(steps >= 1)) throw new UsageError('--steps must be at least 1');
  const dirProblem = io.checkTraceDir(traceDir);
  if (dirProblem !== null) throw new UsageError(`--traces ${JSON.stringify(traceDir)}: ${dirProblem}`);
  // Any option problem (the same for every seed) shows up here, before a worker starts.
  simulateOptionsProblem(sweepOptions(from, { nodes, steps, faults, features, mutant }));

  let next = 0;
  const jobs: JobSource = {
    total: count,
    next: () => {
      if (next >= count) return null;
      const seed = from + next++;
      return { seed, options: sweepOptions(seed, { nodes, steps, faults, features, mutant }), traceDir };
    },
  };
  const totals = emptyTotals();
  const progress = args.has('quiet') ? null : new Progress(io, 'seeds');
  const started = io.now();
  let done = 0;
  const onResult = (reply: SweepReply): void => {
    done++;
    addSummary(totals, reply.summary, reply.trace);
    if (reply.summary.violation !== null) {
      progress?.clear();
      io.out(
        `seed ${reply.seed}: ${describeViolation(reply.summary.violation)} (trace: ${reply.trace ?? 'not recorded'})\n`,
      );
    }
    progress?.report(done, count, `${totals.violations.length} failing`);
  };
  const running =
    io.runJobs !== undefined ? io.runJobs(jobs, workers, onResult) : runJobsOnWorkers(jobs, workers, onResult);
  return running.then(() => {
    progress?.clear();
    const what = { from, count, steps, faults, features, nodes: nodesArg, mutant };
    return finishSweep(io, totals, args.has('json'), started, what);
  });
}

/** A run with these options would be refused: say why, as a usage error (nothing has run yet). */
function simulateOptionsProblem(options: SimOptionsInput): void {
  try {
    normalizeOptions(options);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

/** Run the jobs on `workers` worker threads started on this script. */
function runJobsOnWorkers(jobs: JobSource, workers: number, onResult: (reply: SweepReply) => void): Promise<void> {
  const entry = process.argv[1];
  if (entry === undefined) return Promise.reject(new UsageError('cannot find the CLI script to start workers'));
  return new Promise<void>((resolve, reject) => {
    let live = 0;
    const feed = (w: Worker): void => {
      const job = jobs.next();
      if (job !== null) {
        w.postMessage(job);
        return;
      }
      live--;
      void w.terminate();
      if (live === 0) resolve();
    };
    const n = Math.min(workers, jobs.total);
    for (let k = 0; k < n; k++) {
      const w = new Worker(entry, { workerData: { raftstepSimWorker: true } });
      live++;
      w.on('message', (reply: SweepReply) => {
        onResult(reply);
        feed(w);
      });
      w.on('error', reject);
      feed(w);
    }
  });
}

function finishSweep(
  io: CliIO,
  t: SweepTotals,
  json: boolean,
  started: number,
  what: {
    from: number;
    count: number;
    steps: number;
    faults: readonly string[];
    features: Features;
    nodes: string;
    mutant: MutantName | null;
  },
): number {
  const secs = (io.now() - started) / 1000;
  const s = t.sums;
  const get = (k: string): number => s[k] ?? 0;
  io.out(
    `sweep: ${t.seeds} seeds (${what.from}..${what.from + what.count - 1}), ${what.nodes} nodes, ${what.steps} steps, ` +
      `faults ${what.faults.join(',') || 'none'}, features ${what.features}` +
      `${what.mutant === null ? '' : `, every node running the mutant ${what.mutant}`}: ` +
      `${t.violations.length} with a violation, ${secs.toFixed(1)} s\n`,
  );
  io.out(
    `  ${get('events')} events; ${get('elections')} elections, ${get('leaderChanges')} leader changes, highest term ${t.maxTerm}; ` +
      `${get('commits')} commands committed\n`,
  );
  io.out(
    `  faults: ${get('drops')} drops, ${get('duplicates')} duplicates, ${get('reordered')} reordered, ${get('partitions')} partitions, ` +
      `${get('crashes')} crashes, ${get('restarts')} restarts\n`,
  );
  io.out(
    `  snapshots: ${get('compactions')} compactions, ${get('snapshotsInstalled')} installed, ${get('snapshotsLost')} lost; ` +
      `membership: ${get('configChanges')} changes committed, ${get('nodesAdded')} added, ${get('promotions')} promoted, ${get('nodesRemoved')} removed\n`,
  );
  if (what.features !== 'none') {
    io.out(
      `  reads: ${get('reads')} issued, ${get('readsChecked')} answered and checked against the committed history, ` +
        `${get('readsRejected')} refused, ${get('readsLost')} lost with their node; ${get('preVotes')} pre-votes, ` +
        `${get('transfers')} transfers (${get('transfersCompleted')} completed), ${get('checkQuorumStepDowns')} check-quorum step-downs\n`,
    );
    io.out(
      `  slow followers: ${get('slowEpisodes')} (${get('slowDrops')} messages dropped by their queues), most entries in flight ` +
        `to one follower ${t.maxInflight}; ${get('skewedNodes')} nodes with skewed timers\n`,
    );
  }
  io.out(`  liveness: slowest recovery after healing ${t.maxLivenessTook} ms of virtual time\n`);
  const missing = what.faults.length === FAULT_NAMES.length ? missingCoverage(t, what.features) : [];
  if (missing.length > 0) io.out(`  not exercised: ${missing.join(', ')}\n`);
  for (const v of t.violations)
    io.out(`  FAILED seed ${v.seed}: ${describeViolation(v.violation)} (trace: ${v.trace ?? '-'})\n`);
  if (json) {
    io.out(
      JSON.stringify({
        seeds: t.seeds,
        violations: t.violations.length,
        failedSeeds: t.violations.map((v) => v.seed),
        totals: t.sums,
        runsWithSeveralTerms: t.runsWithSeveralTerms,
        runsWithConfigChange: t.runsWithConfigChange,
        runsWithSnapshot: t.runsWithSnapshot,
        maxTerm: t.maxTerm,
        maxInflight: t.maxInflight,
        maxLivenessTook: t.maxLivenessTook,
        wallSeconds: secs,
      }) + '\n',
    );
  }
  return t.violations.length === 0 ? 0 : 1;
}

function sweepWorker(): void {
  const port = parentPort!;
  port.on('message', (job: SweepJob) => {
    const r = simulate(job.options);
    let trace: string | null = null;
    if (r.violation !== null && r.trace !== null) {
      trace = defaultTracePath(job.seed, job.traceDir);
      writeTraceFile(trace, r.trace);
    }
    const reply: SweepReply = { seed: job.seed, summary: r.summary, trace };
    port.postMessage(reply);
  });
}

// ---------------------------------------------------------------------------------------------
// Progress

/**
 * Progress of a long run: on a terminal, a bar redrawn in place with the share done and an estimate
 * of the time left; off a terminal (a log, a CI job), one line every few seconds. `clear` removes
 * the bar before anything else is printed.
 */
class Progress {
  private last: number;
  private readonly started: number;
  private drawn = false;

  constructor(
    private readonly io: CliIO,
    private readonly unit: string,
  ) {
    this.started = io.now();
    this.last = this.started;
  }

  report(done: number, total: number, note: string): void {
    const now = this.io.now();
    const every = this.io.tty ? 80 : 5000;
    if (now - this.last < every || done >= total) return;
    this.last = now;
    const frac = total <= 0 ? 1 : Math.min(1, done / total);
    const eta = frac > 0 ? ((now - this.started) * (1 - frac)) / frac / 1000 : NaN;
    const left = Number.isFinite(eta) ? `, about ${formatSeconds(eta)} left` : '';
    const counts = `${done}/${total} ${this.unit}${note === '' ? '' : `, ${note}`}${left}`;
    if (this.io.tty) {
      const width = 30;
      const filled = Math.round(frac * width);
      this.io.out(
        `\r[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${String(Math.round(frac * 100)).padStart(3)}% ${counts}\x1b[K`,
      );
      this.drawn = true;
    } else {
      this.io.out(`progress: ${String(Math.round(frac * 100)).padStart(3)}% ${counts}\n`);
    }
  }

  clear(): void {
    if (this.drawn) this.io.out('\r\x1b[K');
    this.drawn = false;
  }
}

function formatSeconds(s: number): string {
  if (s < 90) return `${Math.max(1, Math.round(s))} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

// ---------------------------------------------------------------------------------------------
// Entry

const worker = !isMainThread && (workerData as { raftstepSimWorker?: boolean } | null)?.raftstepSimWorker === true;
if (worker) {
  sweepWorker();
} else if (isMainThread && /([\\/]sim[\\/]cli\.js|[\\/]raftstep-sim(\.cmd)?)$/.test(process.argv[1] ?? '')) {
  const status = runCli(process.argv.slice(2));
  if (typeof status === 'number') process.exitCode = status;
  else
    status.then(
      (s) => (process.exitCode = s),
      (err: unknown) => {
        process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
        process.exitCode = 2;
      },
    );
}
