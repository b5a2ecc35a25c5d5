/**
 * `npm run bench`: the benchmark of `docs/benchmark.md` and a few more measurements, each in fresh
 * node processes running the compiled scripts next to this one.
 *
 * - throughput: the workload per configuration, repeated in fresh processes (each warms up first,
 *   then times one run and checks the counts against the expected counts); median, min, max.
 * - memory: heap after 1k and 1M committed commands in a 3-node cluster (forced GC).
 * - latency: percentiles of single `step` calls (proposal, AppendEntries, reply) at 3 and 7 nodes.
 * - groups: G independent 3-node groups in one process doing heartbeat rounds.
 * - history: single steps and the batch-1 loop of a 3-node cluster whose logs hold a long history
 *   (1e3 to 1e5 term starts in 1e6 entries; see longhistory.ts), a fresh process per case and run,
 *   median of 3 runs (--quick: 1e3 and 1e5, one run).
 *
 * Options:
 *   --json          one JSON line per configuration on stdout; the table goes to stderr
 *   --quick         a reduced set that runs in well under a minute (CI smoke test; never asserts speed)
 *   --reps=N        throughput repetitions per configuration (default 5; --quick: 1)
 *   --only=a,b      run only these sections: throughput, memory, latency, groups, history, reads
 *
 * Exits non-zero, naming the configuration, when a child process fails (a count differs from the
 * expected counts, a round does not commit, the nodes disagree at the end). Speed is never asserted.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { round, spread } from './stats.js';
import { expectedCounts } from './workload.js';

type Section = 'throughput' | 'memory' | 'latency' | 'groups' | 'history' | 'reads';
const SECTIONS: readonly Section[] = ['throughput', 'memory', 'latency', 'groups', 'history', 'reads'];

interface Options {
  json: boolean;
  quick: boolean;
  reps: number;
  only: ReadonlySet<Section>;
}

function parseArgs(argv: readonly string[]): Options {
  let json = false;
  let quick = false;
  let reps: number | null = null;
  let only: Set<Section> = new Set(SECTIONS);
  for (const arg of argv) {
    if (arg === '--json') json = true;
    else if (arg === '--quick') quick = true;
    else if (arg.startsWith('--reps=')) {
      reps = Number(arg.slice('--reps='.length));
      if (!Number.isSafeInteger(reps) || reps < 1) throw new Error(`bad ${arg}`);
    } else if (arg.startsWith('--only=')) {
      const names = arg.slice('--only='.length).split(',');
      for (const n of names) if (!SECTIONS.includes(n as Section)) throw new Error(`unknown section ${n} in ${arg}`);
      only = new Set(names as Section[]);
    } else if (arg === '--help' || arg === '-h') {
      process.stderr.write(
        'usage: npm run bench -- [--json] [--quick] [--reps=N] [--only=throughput,memory,latency,groups,history,reads]\n',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${arg} (try --help)`);
  }
  return { json, quick, reps: reps ?? (quick ? 1 : 5), only };
}

// ---------------------------------------------------------------------------------------------------
// Configurations

/**
 * perCommand: the workload, each round's proposals stepped with `stepAll`; oneByOne: the same rounds
 * with each proposal stepped by `step` and the actions merged by `mergeActions` (no joined run: the
 * cost of a host that merges by hand, shown next to the workload's rows); multi: one event proposing
 * the whole batch.
 */
type Mode = 'perCommand' | 'oneByOne' | 'multi';

interface ThroughputConfig {
  mode: Mode;
  nodes: number;
  /** Commands per round; 'all' proposes all n in one round. */
  batch: number | 'all';
  n: number;
  /** n for --quick. */
  quickN: number;
  /** noraft's ns per command (min, max of its medians) from `docs/benchmark.md`, where it has the row. */
  noraft: readonly [number, number] | null;
}

const THROUGHPUT: readonly ThroughputConfig[] = [
  { mode: 'perCommand', nodes: 3, batch: 1, n: 1_000_000, quickN: 100_000, noraft: [1305, 1349] },
  { mode: 'perCommand', nodes: 3, batch: 1, n: 100_000, quickN: 20_000, noraft: [1270, 1410] },
  { mode: 'perCommand', nodes: 3, batch: 10, n: 100_000, quickN: 20_000, noraft: [270, 390] },
  { mode: 'perCommand', nodes: 3, batch: 100, n: 100_000, quickN: 20_000, noraft: [128, 298] },
  { mode: 'perCommand', nodes: 3, batch: 'all', n: 100_000, quickN: 20_000, noraft: [184, 257] },
  { mode: 'perCommand', nodes: 5, batch: 1, n: 100_000, quickN: 20_000, noraft: [2267, 2361] },
  { mode: 'perCommand', nodes: 5, batch: 100, n: 100_000, quickN: 20_000, noraft: [126, 224] },
  { mode: 'oneByOne', nodes: 3, batch: 100, n: 100_000, quickN: 20_000, noraft: [128, 298] },
  { mode: 'oneByOne', nodes: 5, batch: 100, n: 100_000, quickN: 20_000, noraft: [126, 224] },
  { mode: 'multi', nodes: 3, batch: 100, n: 1_000_000, quickN: 100_000, noraft: null },
  { mode: 'multi', nodes: 5, batch: 100, n: 1_000_000, quickN: 100_000, noraft: null },
];

/** The aim for one event proposing many commands: at most 20 ns per command at batch 100. */
const MULTI_TARGET_NS = 20;

interface Plan {
  /** Warm-up of a perCommand child, in commands; of a multi child, in rounds. */
  warmupCommands: number;
  warmupRounds: number;
  memory: { small: number; large: number; warmup: number };
  latency: { nodes: readonly number[]; rounds: number; warmupRounds: number };
  groups: { g: number; rounds: number; segments: number; warmupRounds: number }[];
  history: HistoryPlan;
  /** The reads section (see reads.ts): reads per round, timed reads, warm-up reads, per configuration. */
  reads: { mode: 'round' | 'lease'; perRound: number; n: number; warmup: number }[];
  childTimeoutMs: number;
}

/** The long-history section (see longhistory.ts): one fresh process per term-start count, case and run. */
interface HistoryPlan {
  termStarts: readonly number[];
  entries: number;
  reps: number;
  /** Warm-up of the single-step cases and of the throughput case, then the timed part, in ms. */
  stepWarmupMs: number;
  throughputWarmupMs: number;
  timedMs: number;
}

const FULL: Plan = {
  warmupCommands: 200_000,
  warmupRounds: 50_000,
  memory: { small: 1_000, large: 1_000_000, warmup: 200_000 },
  latency: { nodes: [3, 7], rounds: 100_000, warmupRounds: 100_000 },
  groups: [
    { g: 1_000, rounds: 400, segments: 5, warmupRounds: 500 },
    { g: 10_000, rounds: 40, segments: 5, warmupRounds: 50 },
  ],
  history: {
    termStarts: [1_000, 10_000, 100_000],
    entries: 1_000_000,
    reps: 3,
    stepWarmupMs: 50,
    throughputWarmupMs: 200,
    timedMs: 100,
  },
  reads: [
    { mode: 'round', perRound: 1, n: 100_000, warmup: 50_000 },
    { mode: 'round', perRound: 100, n: 1_000_000, warmup: 200_000 },
    { mode: 'lease', perRound: 1, n: 2_000_000, warmup: 500_000 },
  ],
  childTimeoutMs: 10 * 60_000,
};

const QUICK: Plan = {
  warmupCommands: 50_000,
  warmupRounds: 5_000,
  memory: { small: 1_000, large: 100_000, warmup: 50_000 },
  latency: { nodes: [3, 7], rounds: 10_000, warmupRounds: 10_000 },
  groups: [{ g: 1_000, rounds: 50, segments: 3, warmupRounds: 50 }],
  history: {
    termStarts: [1_000, 100_000],
    entries: 1_000_000,
    reps: 1,
    stepWarmupMs: 30,
    throughputWarmupMs: 100,
    timedMs: 50,
  },
  reads: [
    { mode: 'round', perRound: 1, n: 10_000, warmup: 5_000 },
    { mode: 'round', perRound: 100, n: 100_000, warmup: 20_000 },
    { mode: 'lease', perRound: 1, n: 200_000, warmup: 50_000 },
  ],
  childTimeoutMs: 2 * 60_000,
};

/**
 * Warm-up of a perCommand child, in commands: at least `plan.warmupCommands`, and at least
 * `plan.warmupRounds` rounds where that stays under 10 × `plan.warmupCommands` (at batch 100, 2,000
 * warm-up rounds leave the message paths colder than the proposal path, and the timed run slower).
 */
function perCommandWarmup(plan: Plan, batch: number): number {
  return Math.max(plan.warmupCommands, Math.min(plan.warmupRounds * batch, 10 * plan.warmupCommands));
}

// ---------------------------------------------------------------------------------------------------
// Child processes

class ChildFailed extends Error {}

/** CPU time of the whole machine so far (Linux /proc/stat, in clock ticks); null elsewhere. */
function machineCpu(): { busy: number; total: number } | null {
  try {
    const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
    const total = fields.reduce((a, b) => a + b, 0);
    const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
    return { busy: total - idle, total };
  } catch {
    return null;
  }
}

/**
 * How many CPUs were busy, on average, between `since` and now (the benchmark's own child accounts for
 * about 1): a measure of how quiet the machine was. null where /proc/stat is not available.
 */
function busyCpus(since: { busy: number; total: number } | null): number | null {
  const now = machineCpu();
  if (since === null || now === null || now.total === since.total) return null;
  return round(((now.busy - since.busy) / (now.total - since.total)) * os.cpus().length, 2);
}

/** The busy-CPU figure of the last child run (see `busyCpus`). */
let lastBusyCpus: number | null = null;

/** Run a compiled bench script in a fresh node process; its stdout's JSON lines. */
function runChild(plan: Plan, script: string, args: readonly (string | number)[], nodeFlags: string[] = []): unknown[] {
  const argv = [...nodeFlags, path.join(__dirname, script), ...args.map(String)];
  const cpu = machineCpu();
  const r = spawnSync(process.execPath, argv, {
    encoding: 'utf8',
    timeout: plan.childTimeoutMs,
    maxBuffer: 64 * 1024 * 1024,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  lastBusyCpus = busyCpus(cpu);
  const cmd = `node ${argv.map((a) => path.relative(process.cwd(), a) || a).join(' ')}`;
  if (r.error !== undefined) throw new ChildFailed(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) {
    const how = r.signal !== null ? `signal ${r.signal}` : `exit ${r.status}`;
    throw new ChildFailed(`${cmd} failed (${how}):\n${r.stderr.trim()}`);
  }
  if (r.stderr.trim() !== '') process.stderr.write(r.stderr);
  return r.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as unknown);
}

function progress(msg: string): void {
  process.stderr.write(`  ${msg}\n`);
}

// ---------------------------------------------------------------------------------------------------
// Sections

interface ThroughputRun {
  nodes: number;
  batch: number;
  n: number;
  mode: Mode;
  ns: number;
  cpuNs: number;
  messages: number;
  appendActions: number;
  broadcasts: number;
  sends: number;
}

interface Output {
  json: (line: Record<string, unknown>) => void;
  table: string[];
}

function throughput(opts: Options, plan: Plan, out: Output): void {
  const configs = THROUGHPUT.map((c) => ({ ...c, n: opts.quick ? c.quickN : c.n }));
  const runs: ThroughputRun[][] = configs.map(() => []);
  const busy: (number | null)[][] = configs.map(() => []);
  // Repetitions go round-robin over the configurations, so that a burst of load from other processes
  // spoils one run of several configurations rather than every run of one.
  for (let rep = 0; rep < opts.reps; rep++) {
    configs.forEach((c, i) => {
      const batch = c.batch === 'all' ? c.n : c.batch;
      const warm = c.mode === 'multi' ? plan.warmupRounds : perCommandWarmup(plan, batch);
      const [r] = runChild(plan, 'throughput.js', [c.nodes, c.batch, c.n, c.mode, warm]) as ThroughputRun[];
      if (r === undefined) throw new ChildFailed('throughput.js printed no result');
      runs[i]!.push(r);
      busy[i]!.push(lastBusyCpus);
      progress(
        `throughput ${c.mode} ${c.nodes} nodes batch ${c.batch} n ${c.n}: run ${rep + 1}/${opts.reps}: ` +
          `${(r.ns / c.n).toFixed(1)} ns/cmd (busy CPUs ${lastBusyCpus ?? '?'})`,
      );
    });
  }

  const rows: string[][] = [];
  configs.forEach((c, i) => {
    const rs = runs[i]!;
    const first = rs[0]!;
    // The child checked its counts against the expected counts; check what it reported too.
    const expected = expectedCounts(c.nodes, c.n, c.batch === 'all' ? c.n : c.batch);
    for (const r of rs) {
      const same = (['messages', 'appendActions', 'broadcasts', 'sends'] as const).every((k) => r[k] === expected[k]);
      if (!same) {
        throw new ChildFailed(
          `throughput ${c.mode} ${c.nodes} nodes batch ${c.batch} n ${c.n}: counts ${JSON.stringify(r)} ` +
            `differ from the expected ${JSON.stringify(expected)}`,
        );
      }
    }
    const perCmd = rs.map((r) => r.ns / c.n);
    const t = spread(perCmd);
    const msgsPerSec = Math.round(first.messages / ((t.median * c.n) / 1e9));
    const line: Record<string, unknown> = {
      kind: 'throughput',
      mode: c.mode,
      nodes: c.nodes,
      batch: first.batch,
      n: c.n,
      nsPerCmd: { median: round(t.median, 1), min: round(t.min, 1), max: round(t.max, 1) },
      msgsPerSec,
      messages: first.messages,
      appendActions: first.appendActions,
      broadcasts: first.broadcasts,
      sends: first.sends,
    };
    let ratio: number | null = null;
    if (c.noraft !== null) {
      ratio = t.median / ((c.noraft[0] + c.noraft[1]) / 2);
      line.noraft = c.noraft;
      line.ratio = round(ratio, 2);
    }
    if (c.mode === 'multi') line.targetNsPerCmd = MULTI_TARGET_NS;
    line.allAtOnce = c.batch === 'all';
    const cpu = spread(rs.map((r) => r.cpuNs / c.n));
    line.cpuNsPerCmd = { median: round(cpu.median, 1), min: round(cpu.min, 1), max: round(cpu.max, 1) };
    line.reps = rs.length;
    line.runs = perCmd.map((x) => round(x, 1));
    line.warmup =
      c.mode === 'multi' ? { rounds: plan.warmupRounds } : { commands: perCommandWarmup(plan, first.batch) };
    line.busyCpus = busy[i]!;
    out.json(line);
    rows.push([
      c.mode,
      String(c.nodes),
      String(c.batch),
      fmtInt(c.n),
      t.median.toFixed(1),
      `${t.min.toFixed(0)}–${t.max.toFixed(0)}`,
      c.batch === 1 ? `${(msgsPerSec / 1e6).toFixed(2)} M` : '',
      c.noraft !== null ? `${fmtInt(c.noraft[0])}–${fmtInt(c.noraft[1])}` : `(aim ≤ ${MULTI_TARGET_NS})`,
      ratio !== null ? ratio.toFixed(2) : '',
      Math.max(...busy[i]!.map((b) => b ?? NaN)).toFixed(1),
      `${fmtInt(first.messages)} / ${fmtInt(first.appendActions)} / ${fmtInt(first.broadcasts)} / ${fmtInt(first.sends)}`,
    ]);
  });
  out.table.push(
    `Throughput: ns per command, median of ${opts.reps} fresh process${opts.reps === 1 ? '' : 'es'} (each warmed up: ` +
      `≥ ${fmtInt(plan.warmupCommands)} commands, multi: ${fmtInt(plan.warmupRounds)} rounds); counts match the expected counts`,
    ...table(
      [
        'mode',
        'nodes',
        'batch',
        'N',
        'ns/cmd',
        'min–max',
        'msgs/s',
        'noraft ns/cmd',
        'ratio',
        'busy',
        'msgs / appends / bcasts / sends',
      ],
      rows,
      [false, true, true, true, true, true, true, true, true, true, true],
    ),
    '(busy: the most CPUs the machine had busy during one run of the row, this benchmark included: ~1.0 is quiet)',
    '',
  );
}

interface MemoryResult {
  nodes: number;
  small: number;
  large: number;
  heapBefore: number;
  heapSmall: number;
  heapLarge: number;
  stateJsonBytesSmall: number;
  stateJsonBytesLarge: number;
  rssLarge: number;
}

function memory(plan: Plan, out: Output): void {
  const { small, large, warmup } = plan.memory;
  const [r] = runChild(plan, 'memory.js', [small, large, warmup], ['--expose-gc']) as MemoryResult[];
  if (r === undefined) throw new ChildFailed('memory.js printed no result');
  const s = countLabel(r.small);
  const l = countLabel(r.large);
  const growth = r.heapLarge - r.heapSmall;
  out.json({
    kind: 'memory',
    nodes: r.nodes,
    [`heapAfter${s}`]: r.heapSmall,
    [`heapAfter${l}`]: r.heapLarge,
    heapGrowth: growth,
    [`stateJsonBytes${s}`]: r.stateJsonBytesSmall,
    [`stateJsonBytes${l}`]: r.stateJsonBytesLarge,
    [`rssAfter${l}`]: r.rssLarge,
    heapBeforeFirstCommand: r.heapBefore,
    busyCpus: lastBusyCpus,
  });
  progress(`memory: heap ${fmtInt(r.heapSmall)} B after ${s}, ${fmtInt(r.heapLarge)} B after ${l}`);
  out.table.push(
    `Memory: ${r.nodes}-node cluster, all states held, heap used after forced GC (aim: growth ≤ 1 MiB)`,
    ...table(
      ['committed', 'heap used', 'state JSON (3 nodes)'],
      [
        [s, fmtBytes(r.heapSmall), `${fmtInt(r.stateJsonBytesSmall)} B`],
        [l, fmtBytes(r.heapLarge), `${fmtInt(r.stateJsonBytesLarge)} B`],
        ['growth', `${growth >= 0 ? '+' : ''}${fmtBytes(growth)}`, ''],
      ],
      [false, true, true],
    ),
    `(rss after ${l}: ${fmtBytes(r.rssLarge)})`,
    '',
  );
}

interface LatencyResult {
  nodes: number;
  event: string;
  samples: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
  mean: number;
  timerOverheadNs: number;
}

function latency(plan: Plan, out: Output): void {
  const rows: string[][] = [];
  let overhead = 0;
  for (const nodes of plan.latency.nodes) {
    const results = runChild(plan, 'latency.js', [
      nodes,
      plan.latency.rounds,
      plan.latency.warmupRounds,
    ]) as LatencyResult[];
    if (results.length !== 3) throw new ChildFailed(`latency.js ${nodes}: expected 3 results`);
    for (const r of results) {
      out.json({ kind: 'latency', unit: 'ns', ...r, busyCpus: lastBusyCpus });
      overhead = r.timerOverheadNs;
      rows.push([
        String(r.nodes),
        r.event,
        fmtInt(r.samples),
        fmtInt(r.p50),
        fmtInt(r.p90),
        fmtInt(r.p99),
        fmtInt(r.p999),
        fmtInt(r.max),
        r.mean.toFixed(0),
      ]);
    }
    progress(`latency: ${nodes} nodes done`);
  }
  out.table.push(
    `Latency of single step calls, ns (batch 1, after ${fmtInt(plan.latency.warmupRounds)} warm-up rounds; ` +
      `includes ~${overhead} ns of timer overhead)`,
    ...table(['nodes', 'step', 'samples', 'p50', 'p90', 'p99', 'p99.9', 'max', 'mean'], rows, [
      true,
      false,
      true,
      true,
      true,
      true,
      true,
      true,
      true,
    ]),
    '',
  );
}

interface GroupsResult {
  groups: number;
  nodesPerGroup: number;
  rounds: number;
  warmupRounds: number;
  nsPerGroupRound: { median: number; min: number; max: number };
  segments: number[];
  messages: number;
  heapPerGroup: number;
  heapPerGroupFormed: number;
  stateJsonBytesPerGroup: number;
}

interface ReadsResult {
  mode: 'round' | 'lease';
  readsPerRound: number;
  reads: number;
  nsPerRead: number;
  readsPerSecond: number;
  messages: number;
}

/** Linearizable reads (reads.ts): one fresh process per configuration. */
function reads(plan: Plan, out: Output): void {
  const rows: string[][] = [];
  for (const c of plan.reads) {
    const [r] = runChild(plan, 'reads.js', [c.mode, c.perRound, c.n, c.warmup]) as ReadsResult[];
    if (r === undefined) throw new ChildFailed('reads.js printed no result');
    out.json({ kind: 'reads', ...r, busyCpus: lastBusyCpus });
    rows.push([
      r.mode === 'lease' ? 'lease read' : `ReadIndex, ${fmtInt(r.readsPerRound)} per round`,
      fmtInt(r.reads),
      r.nsPerRead.toFixed(0),
      fmtInt(r.readsPerSecond),
      (r.messages / r.reads).toFixed(2),
    ]);
    progress(`reads: ${c.mode} ${c.perRound} done: ${r.nsPerRead.toFixed(0)} ns per read`);
  }
  out.table.push(
    'Linearizable reads on a 3-node leader (default options; lease reads on for the lease row), one process',
    ...table(['reads', 'count', 'ns/read', 'reads/s', 'messages/read'], rows, [false, true, true, true, true]),
    'A round: the reads stepped on the leader (actions merged), the leadership check and two acknowledgements',
    'delivered; reads that arrive while a round is in flight go in the next one. Lease: answered at once.',
    '',
  );
}

function groups(plan: Plan, out: Output): void {
  const rows: string[][] = [];
  for (const g of plan.groups) {
    const [r] = runChild(
      plan,
      'groups.js',
      [g.g, g.rounds, g.segments, g.warmupRounds],
      ['--expose-gc'],
    ) as GroupsResult[];
    if (r === undefined) throw new ChildFailed('groups.js printed no result');
    out.json({ kind: 'groups', ...r, busyCpus: lastBusyCpus });
    const t = r.nsPerGroupRound;
    rows.push([
      fmtInt(r.groups),
      fmtInt(r.rounds),
      t.median.toFixed(0),
      `${t.min.toFixed(0)}–${t.max.toFixed(0)}`,
      fmtInt(r.heapPerGroup),
      fmtInt(r.stateJsonBytesPerGroup),
    ]);
    progress(`groups: ${fmtInt(g.g)} done: ${t.median.toFixed(0)} ns per group-round`);
  }
  out.table.push(
    'Many groups: independent 3-node groups in one process, heartbeat rounds (heartbeat, 2 calls, 2 replies)',
    ...table(['groups', 'rounds', 'ns/group-round', 'min–max', 'heap B/group', 'state JSON B/group'], rows, [
      true,
      true,
      true,
      true,
      true,
      true,
    ]),
    '',
  );
}

type HistoryCase = 'duplicateCall' | 'termStartCall' | 'pipelinedReply' | 'throughput';

/** The cases of longhistory.ts, with their column headings. */
const HISTORY_CASES: readonly { name: HistoryCase; column: string }[] = [
  { name: 'duplicateCall', column: '(a) duplicate call' },
  { name: 'termStartCall', column: '(b) term-start call' },
  { name: 'pipelinedReply', column: '(c) pipelined reply' },
  { name: 'throughput', column: '(d) batch 1, ns/cmd' },
];

interface HistoryResult {
  case: HistoryCase;
  nodes: number;
  termStarts: number;
  entries: number;
  warmupSteps: number;
  steps: number;
  ns: number;
  nsPerStep: number;
  cpuNsPerStep: number;
  counts?: { messages: number; appendActions: number; broadcasts: number; sends: number };
}

function history(plan: Plan, out: Output): void {
  const h = plan.history;
  const key = (t: number, c: HistoryCase): string => `${t} ${c}`;
  const runs = new Map<string, HistoryResult[]>();
  const busy = new Map<string, (number | null)[]>();
  // Round-robin over the configurations, as for throughput.
  for (let rep = 0; rep < h.reps; rep++) {
    for (const t of h.termStarts) {
      for (const { name } of HISTORY_CASES) {
        const warm = name === 'throughput' ? h.throughputWarmupMs : h.stepWarmupMs;
        const [r] = runChild(plan, 'longhistory.js', [name, t, h.entries, warm, h.timedMs]) as HistoryResult[];
        if (r === undefined) throw new ChildFailed('longhistory.js printed no result');
        if (r.case !== name || r.termStarts !== t || !(r.steps > 0)) {
          throw new ChildFailed(`longhistory.js ${name} ${t}: unexpected result ${JSON.stringify(r)}`);
        }
        if (name === 'throughput') {
          // The child checked its counts against the expected counts; check what it reported too.
          const expected = expectedCounts(r.nodes, r.steps, 1);
          if (JSON.stringify(r.counts) !== JSON.stringify(expected)) {
            throw new ChildFailed(
              `long history ${fmtInt(t)} term starts, throughput: counts ${JSON.stringify(r.counts)} ` +
                `differ from the expected ${JSON.stringify(expected)}`,
            );
          }
        }
        const k = key(t, name);
        runs.set(k, [...(runs.get(k) ?? []), r]);
        busy.set(k, [...(busy.get(k) ?? []), lastBusyCpus]);
        progress(
          `long history ${fmtInt(t)} term starts, ${name}: run ${rep + 1}/${h.reps}: ` +
            `${fmtNs(r.nsPerStep)} ns/${name === 'throughput' ? 'cmd' : 'step'} (busy CPUs ${lastBusyCpus ?? '?'})`,
        );
      }
    }
  }

  const rows: string[][] = [];
  for (const t of h.termStarts) {
    const line: Record<string, unknown> = {
      kind: 'longHistory',
      nodes: 3,
      termStarts: t,
      entries: h.entries,
      unit: 'ns per step (throughput: per command)',
    };
    const row = [fmtInt(t)];
    let maxBusy = -Infinity;
    for (const { name } of HISTORY_CASES) {
      const rs = runs.get(key(t, name))!;
      const per = rs.map((r) => r.nsPerStep);
      const sp = spread(per);
      const entry: Record<string, unknown> = {
        median: round(sp.median, 1),
        min: round(sp.min, 1),
        max: round(sp.max, 1),
        runs: per.map((x) => round(x, 1)),
        cpuNsMedian: round(spread(rs.map((r) => r.cpuNsPerStep)).median, 1),
        steps: rs.map((r) => r.steps),
        busyCpus: busy.get(key(t, name))!,
      };
      if (name === 'throughput') entry.counts = rs.map((r) => r.counts);
      line[name] = entry;
      row.push(rs.length === 1 ? fmtNs(sp.median) : `${fmtNs(sp.median)} (${fmtNs(sp.min)}–${fmtNs(sp.max)})`);
      for (const b of busy.get(key(t, name))!) if (b !== null) maxBusy = Math.max(maxBusy, b);
    }
    line.reps = h.reps;
    line.warmupMs = { steps: h.stepWarmupMs, throughput: h.throughputWarmupMs };
    line.timedMs = h.timedMs;
    out.json(line);
    row.push(maxBusy === -Infinity ? '?' : maxBusy.toFixed(1));
    rows.push(row);
  }
  out.table.push(
    `Long history: 3 nodes whose logs of ${fmtInt(h.entries)} entries hold T term starts (T leader changes, ` +
      'none compacted)',
    `ns per step, median of ${h.reps} fresh process${h.reps === 1 ? '' : 'es'}${h.reps === 1 ? '' : ' (min–max)'} ` +
      `per cell, each timed for ≥ ${h.timedMs} ms after a warm-up of ${h.stepWarmupMs} ms ` +
      `((d): ${h.throughputWarmupMs} ms)`,
    ...table(['T', ...HISTORY_CASES.map((c) => c.column), 'busy'], rows, [true, true, true, true, true, true]),
    '(a) follower, a retransmitted AppendEntries it already holds: 8 commands anchored a tenth of the way into the log',
    "(b) follower, a new leader's first AppendEntries: one new term start at the end of the log",
    '(c) leader, a repeated reply one entry behind its last index (no progress): the missing entry is sent again',
    "(d) the workload's batch-1 loop on this cluster, ns per command; counts match the expected counts",
    '',
  );
}

// ---------------------------------------------------------------------------------------------------
// Formatting

/** ns with three significant digits at most below 1,000, grouped above: 83.1, 506, 665,278. */
function fmtNs(ns: number): string {
  return ns < 100 ? ns.toFixed(1) : fmtInt(ns);
}

function fmtInt(x: number): string {
  return Math.round(x).toLocaleString('en-US');
}

function fmtBytes(b: number): string {
  const a = Math.abs(b);
  if (a >= 1024 * 1024) return `${(b / (1024 * 1024)).toFixed(2)} MiB`;
  if (a >= 1024) return `${(b / 1024).toFixed(1)} KiB`;
  return `${b} B`;
}

/** 1000 → "1k", 1000000 → "1M", 100000 → "100k". */
function countLabel(n: number): string {
  if (n % 1_000_000 === 0) return `${n / 1_000_000}M`;
  if (n % 1_000 === 0) return `${n / 1_000}k`;
  return String(n);
}

function table(header: string[], rows: string[][], rightAlign: boolean[]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const fmt = (cells: string[]): string =>
    cells
      .map((c, i) => (rightAlign[i] === true ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)];
}

// ---------------------------------------------------------------------------------------------------

function main(): void {
  const started = process.hrtime.bigint();
  const cpuAtStart = machineCpu();
  const opts = parseArgs(process.argv.slice(2));
  const plan = opts.quick ? QUICK : FULL;
  const out: Output = {
    json: (line) => {
      if (opts.json) process.stdout.write(`${JSON.stringify(line)}\n`);
    },
    table: [],
  };
  const cpus = os.cpus();
  const meta = {
    kind: 'meta',
    node: process.version,
    cpus: cpus.length,
    cpuModel: cpus[0]?.model ?? 'unknown',
    loadavg: os.loadavg().map((x) => round(x, 2)),
    quick: opts.quick,
    reps: opts.reps,
    date: new Date().toISOString(),
  };
  out.json(meta);
  process.stderr.write(
    `raftstep bench${opts.quick ? ' --quick' : ''}: node ${meta.node}, ${meta.cpus} CPUs (${meta.cpuModel}), ` +
      `load ${meta.loadavg.join(' ')}\n`,
  );

  try {
    if (opts.only.has('throughput')) throughput(opts, plan, out);
    if (opts.only.has('memory')) memory(plan, out);
    if (opts.only.has('latency')) latency(plan, out);
    if (opts.only.has('groups')) groups(plan, out);
    if (opts.only.has('history')) history(plan, out);
    if (opts.only.has('reads')) reads(plan, out);
  } catch (err) {
    process.stderr.write(out.table.join('\n') + '\n');
    process.stderr.write(`\nBENCHMARK FAILED: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }

  const seconds = round(Number(process.hrtime.bigint() - started) / 1e9, 1);
  const busyOverall = busyCpus(cpuAtStart);
  out.json({ kind: 'done', seconds, busyCpus: busyOverall, loadavg: os.loadavg().map((x) => round(x, 2)) });
  out.table.push(
    `Done in ${seconds} s; on average ${busyOverall ?? '?'} of ${os.cpus().length} CPUs busy (this benchmark ` +
      `included); load average now ${os
        .loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}.`,
  );
  const text = '\n' + out.table.join('\n') + '\n';
  if (opts.json) process.stderr.write(text);
  else process.stdout.write(text);
}

main();
