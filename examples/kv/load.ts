/**
 * `npm run kv:load`: start a local kv cluster (separate processes, a temporary data directory),
 * drive it with concurrent clients while a nemesis kills, pauses and partitions nodes, record every
 * operation, and check the history for linearizability.
 *
 *     npm run kv:load -- --nodes 3 --clients 8 --ops 2000 --history /tmp/h.ndjson --nemesis kill,pause
 *       [--nemesis kill,pause,partition] [--keys 5] [--seed N] [--data-dir DIR] [--keep]
 *       [--heartbeat-ms 25] [--election-ticks 10] [--snapshot-every 200] [--deadline-ms 15000]
 *       [--any-node] [--unsafe-local-reads]
 *
 * The history file gets one JSON line per operation: {"client","op","key","value","expected",
 * "call","return","output","status"} with call/return in integer microseconds (for an `info`
 * operation, `return` is when the client gave up; the checker treats it as +infinity). After the
 * clients finish, the nemesis heals everything, every key is read once more (recorded too), and
 * the history is checked with tests/support/linearizability.ts. Exit code: 0 linearizable, 1 not,
 * 2 undecided (the search ran out of steps).
 *
 * The partition nemesis routes all Raft traffic through a proxy in this process (./proxy.ts).
 * `--any-node` makes the clients send each operation to a random node first (followers redirect).
 * `--unsafe-local-reads` starts the nodes with deliberately stale reads (see server.ts): with
 * `--any-node`, the check then fails.
 */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkHistory, describeOperation, type CheckResult } from '../../tests/support/linearizability.js';
import { seededRandom } from '../../src/host/index.js';
import { LocalCluster, freeTopology } from './cluster.js';
import { Nemesis, type FaultKind } from './nemesis.js';
import { PartitionProxy } from './proxy.js';
import {
  USAGE_EXIT_CODE,
  UsageError,
  boolFlag,
  intFlag,
  parseFlags,
  stringFlag,
  type FlagSpec,
  type Flags,
} from './topology.js';
import { finalReads, runWorkload, summarize, type HistoryRecord, type WorkloadStats } from './workload.js';

/** The load tool's settings, from its command line. */
interface LoadSettings {
  readonly nodes: number;
  readonly clients: number;
  readonly ops: number;
  readonly keys: number;
  readonly seed: number;
  readonly history: string | null;
  readonly nemesis: FaultKind[];
  readonly dataDir: string | null;
  readonly keep: boolean;
  readonly heartbeatMs: number;
  readonly electionTicks: number;
  readonly snapshotEvery: number;
  readonly deadlineMs: number;
  readonly unsafeLocalReads: boolean;
  readonly anyNode: boolean;
}

/** The flags of this command. */
const FLAGS: FlagSpec = {
  nodes: 'value',
  clients: 'value',
  ops: 'value',
  keys: 'value',
  seed: 'value',
  history: 'value',
  nemesis: 'value',
  'data-dir': 'value',
  keep: 'switch',
  'heartbeat-ms': 'value',
  'election-ticks': 'value',
  'snapshot-every': 'value',
  'deadline-ms': 'value',
  'unsafe-local-reads': 'switch',
  'any-node': 'switch',
};

/** The settings in `flags`; throws a UsageError on an unknown nemesis. */
function loadSettings(flags: Flags): LoadSettings {
  const nemesis = stringFlag(flags, 'nemesis', '')
    .split(',')
    .filter((s) => s !== '');
  for (const k of nemesis) {
    if (!['kill', 'pause', 'partition'].includes(k))
      throw new UsageError(`unknown nemesis ${k} (kill, pause, partition)`);
  }
  return {
    nodes: intFlag(flags, 'nodes', 3, 1),
    clients: intFlag(flags, 'clients', 8, 1),
    ops: intFlag(flags, 'ops', 2_000, 1),
    keys: intFlag(flags, 'keys', 5, 1),
    seed: intFlag(flags, 'seed', Date.now() % 1_000_000, 0),
    history: flags.values.get('history') ?? null,
    nemesis: nemesis as FaultKind[],
    dataDir: flags.values.get('data-dir') ?? null,
    keep: boolFlag(flags, 'keep'),
    heartbeatMs: intFlag(flags, 'heartbeat-ms', 25, 1),
    electionTicks: intFlag(flags, 'election-ticks', 10, 2),
    snapshotEvery: intFlag(flags, 'snapshot-every', 200, 1),
    deadlineMs: intFlag(flags, 'deadline-ms', 15_000, 1),
    unsafeLocalReads: boolFlag(flags, 'unsafe-local-reads'),
    anyNode: boolFlag(flags, 'any-node'),
  };
}

/** Print the summary of a run. */
function report(
  s: LoadSettings,
  history: readonly HistoryRecord[],
  nemesis: Nemesis,
  stats: WorkloadStats,
  check: CheckResult,
  elapsed: number,
): void {
  const sum = summarize(history);
  const verdict = check.linearizable === true ? 'yes' : check.linearizable === false ? 'NO' : 'undecided';
  console.log(
    `kv:load  ${s.nodes} nodes, ${s.clients} clients, ${s.keys} keys, seed ${s.seed}, nemesis ${s.nemesis.join(',') || 'none'}`,
  );
  console.log(
    `ops:         ${history.length} (${sum.ok} ok, ${sum.fail} fail, ${sum.info} info) in ${sum.seconds.toFixed(1)} s`,
  );
  console.log(`throughput:  ${sum.throughput.toFixed(0)} ok ops/s`);
  console.log(
    `latency:     p50 ${sum.p50Ms.toFixed(1)} ms, p99 ${sum.p99Ms.toFixed(1)} ms, max ${sum.maxMs.toFixed(0)} ms (ok ops)`,
  );
  console.log(`nemesis:     ${nemesis.describe()}`);
  console.log(
    `clients:     ${stats.attempts} HTTP attempts; ${stats.retriedUnknown} writes acknowledged after a retry of unknown outcome (deduplicated)`,
  );
  const steps = check.keys.reduce((a, k) => a + k.steps, 0);
  console.log(`linearizable: ${verdict} (${check.keys.length} keys, ${steps} search steps, ${check.elapsedMs} ms)`);
  for (const k of check.keys) {
    if (k.linearizable === true) continue;
    console.log(`  key ${k.key}: ${k.linearizable === false ? 'not linearizable' : 'undecided'}`);
    if (k.stuckAt !== undefined)
      console.log(`    stuck at ${describeOperation(k.stuckAt)}; value could be ${JSON.stringify(k.stuckValue)}`);
  }
  console.log(`total:       ${(elapsed / 1000).toFixed(1)} s`);
}

/** Run the load (see the module comment); the exit code. */
async function main(): Promise<number> {
  const started = Date.now();
  const s = loadSettings(parseFlags(process.argv.slice(2), FLAGS));
  const dataDir = s.dataDir ?? mkdtempSync(join(tmpdir(), 'kv-load-'));
  const partition = s.nemesis.includes('partition');
  const topology = await freeTopology(dataDir, partition);
  const proxy = partition ? await PartitionProxy.start(topology, s.nodes) : undefined;
  const cluster = new LocalCluster({
    topology,
    serverScript: join(__dirname, 'server.js'),
    heartbeatMs: s.heartbeatMs,
    electionTicks: s.electionTicks,
    snapshotEvery: s.snapshotEvery,
    output: 'files',
    extraArgs: s.unsafeLocalReads ? ['--unsafe-local-reads'] : [],
  });
  const out = s.history === null ? null : createWriteStream(s.history);
  const write = (r: HistoryRecord): void => void out?.write(JSON.stringify(r) + '\n');
  const slots = Array.from({ length: s.nodes }, (_, i) => i);
  const urls = (): string[] => slots.map((i) => cluster.url(i));
  try {
    await cluster.start(slots, true);
    await cluster.waitForLeader();
    console.log(`cluster up in ${dataDir} (HTTP ${topology.basePort}.., Raft ${topology.raftBasePort}..)`);
    const random = seededRandom(s.seed);
    const nemesis = new Nemesis(cluster, {
      kinds: s.nemesis,
      random,
      ...(proxy === undefined ? {} : { proxy }),
      log: (line) => console.log(`nemesis: ${line}`),
    });
    nemesis.start();
    const stats: WorkloadStats = { attempts: 0, retriedUnknown: 0 };
    const history = await runWorkload({
      urls,
      clients: s.clients,
      ops: s.ops,
      keys: s.keys,
      seed: s.seed,
      deadlineMs: s.deadlineMs,
      anyNode: s.anyNode,
      stats,
      onRecord: write,
    });
    await nemesis.stop();
    await cluster.waitForLeader(30_000);
    history.push(...(await finalReads(urls, s.keys, write)));
    await new Promise<void>((resolve) => (out === null ? resolve() : out.end(resolve)));
    const check = checkHistory(history);
    report(s, history, nemesis, stats, check, Date.now() - started);
    if (s.history !== null) console.log(`history:     ${s.history}`);
    return check.linearizable === true ? 0 : check.linearizable === false ? 1 : 2;
  } finally {
    await cluster.stopAll();
    await proxy?.close();
    if (!s.keep && s.dataDir === null) rmSync(dataDir, { recursive: true, force: true });
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof UsageError) {
      console.error(`kv:load: ${e.message}`);
      process.exit(USAGE_EXIT_CODE);
    }
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);
