/**
 * `npm run bench:kv`: the kv service on loopback with fsync — three node processes, default timers
 * — under 1, 16 and 256 concurrent clients: writes per second with p50/p99 latency, then
 * linearizable reads per second; and the same load against a local three-member etcd (3.4, its
 * JSON gateway: POST /v3/kv/put and /v3/kv/range, base64 keys; reads linearizable, etcd's default),
 * side by side, when `etcd` is on the PATH; and the platform floor (./floor.ts: the same three
 * processes with no Raft, a durable append on each and group commit), which bounds what any service
 * on Node can do here.
 *
 *     npm run bench:kv -- [--seconds 5] [--warmup 10] [--concurrency 1,16,256] [--no-etcd] [--no-floor]
 *
 * Each client sends one request at a time, straight to the leader, over keep-alive HTTP; writes
 * put 64-byte values on 1,000 keys. The three systems run side by side for the whole benchmark;
 * each is warmed up first (`--warmup`, not measured), then each row is measured on each system in
 * turn, so that the systems compared in a row meet the same machine. Not part of CI; the figures
 * depend on the disk's fsync.
 */
import { fork, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KvClient, httpRequest } from './client.js';
import { LocalCluster, findFreePortRange, freeTopology, sleep } from './cluster.js';
import { USAGE_EXIT_CODE, UsageError, boolFlag, intFlag, parseFlags, stringFlag, type FlagSpec } from './topology.js';

/** The flags of this command. */
const FLAGS: FlagSpec = {
  seconds: 'value',
  warmup: 'value',
  concurrency: 'value',
  'no-etcd': 'switch',
  'no-floor': 'switch',
};
import { quantile } from './workload.js';

/** One measurement: operations per second and latency quantiles (ms). */
interface Figures {
  readonly perSecond: number;
  readonly p50: number;
  readonly p99: number;
  readonly errors: number;
}

/** One operation of client `c`, its `i`-th; resolves true when it succeeded. */
type Op = (c: number, i: number) => Promise<boolean>;

/** Run `op` from `clients` concurrent clients for `seconds`; the figures. */
async function measure(clients: number, seconds: number, op: Op): Promise<Figures> {
  const latencies: number[] = [];
  let errors = 0;
  const end = Date.now() + seconds * 1000;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      for (let i = 0; Date.now() < end; i++) {
        const t0 = process.hrtime.bigint();
        const ok = await op(c, i).catch(() => false);
        if (ok) latencies.push(Number(process.hrtime.bigint() - t0) / 1e6);
        else errors++;
      }
    }),
  );
  const elapsed = Number(process.hrtime.bigint() - started) / 1e9;
  latencies.sort((a, b) => a - b);
  return {
    perSecond: latencies.length / elapsed,
    p50: quantile(latencies, 0.5),
    p99: quantile(latencies, 0.99),
    errors,
  };
}

/** A 64-byte value. */
const VALUE = 'v'.repeat(64);

/** The load a system under test offers: a write and a read of client c's i-th operation. */
interface Target {
  readonly name: string;
  readonly write: Op;
  readonly read: Op;
  stop(): Promise<void>;
}

/** The kv service: a three-node cluster, clients talking to the leader. */
async function kvTarget(dir: string, clients: number, agent: http.Agent): Promise<Target> {
  const cluster = new LocalCluster({
    topology: await freeTopology(join(dir, 'kv')),
    serverScript: join(__dirname, 'server.js'),
    output: 'files',
  });
  mkdirSync(join(dir, 'kv'), { recursive: true });
  await cluster.start([0, 1, 2], true);
  const leader = cluster.url(await cluster.waitForLeader());
  const kvs = Array.from(
    { length: clients },
    (_, c) => new KvClient({ urls: [leader], clientId: `bench${c}`, agent, attemptTimeoutMs: 10_000 }),
  );
  return {
    name: 'raftstep kv',
    write: async (c, i) =>
      (await kvs[c]!.run({ op: 'put', key: `key${(c * 7919 + i) % 1000}`, value: VALUE })).status === 'ok',
    read: async (c, i) => (await kvs[c]!.run({ op: 'get', key: `key${(c * 7919 + i) % 1000}` })).status === 'ok',
    stop: () => cluster.stopAll(),
  };
}

/**
 * The platform floor (./floor.ts): the same three-process shape with no Raft in it, so the figures
 * say what Node, the disk's fsync and loopback HTTP and TCP allow on this machine.
 */
async function floorTarget(dir: string, agent: http.Agent): Promise<Target> {
  const base = await findFreePortRange('127.0.0.1', 3);
  const script = join(__dirname, 'floor.js');
  const own: ChildProcess[] = [];
  const start = (args: string[]): Promise<ChildProcess> =>
    new Promise((ready, fail) => {
      const child = fork(script, args, { stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
      children.add(child);
      own.push(child);
      child.once('exit', (code) => fail(new Error(`floor.js ${args[0]} exited with ${code}`)));
      child.stdout!.once('data', () => ready(child));
    });
  await start(['follower', String(base + 1), join(dir, 'floor-1')]);
  await start(['follower', String(base + 2), join(dir, 'floor-2')]);
  await start(['leader', String(base), join(dir, 'floor-0'), String(base + 1), String(base + 2)]);
  const url = `http://127.0.0.1:${base}`;
  const call = async (method: 'PUT' | 'GET', key: string): Promise<boolean> => {
    const a = await httpRequest(`${url}/kv/${key}`, method, {
      body: method === 'PUT' ? VALUE : undefined,
      timeoutMs: 10_000,
      agent,
    });
    return a.status === 200;
  };
  return {
    name: 'platform floor (no Raft)',
    write: (c, i) => call('PUT', `key${(c * 7919 + i) % 1000}`),
    read: (c, i) => call('GET', `key${(c * 7919 + i) % 1000}`),
    stop: () => stopChildren(own, 200),
  };
}

/** Base64 of a UTF-8 string. */
function b64(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64');
}

/** Children to kill when this process exits. */
const children = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of children) c.kill('SIGKILL');
});

/** SIGTERM `own` (children of one target), then give them `ms` to exit. */
async function stopChildren(own: readonly ChildProcess[], ms: number): Promise<void> {
  for (const c of own) {
    c.kill('SIGTERM');
    children.delete(c);
  }
  await sleep(ms);
}

/** Start a three-member etcd cluster on free ports; its client URLs and processes. */
async function startEtcd(dir: string): Promise<{ urls: string[]; own: ChildProcess[] }> {
  const base = await findFreePortRange('127.0.0.1', 6);
  const peers = [0, 1, 2].map((i) => `e${i}=http://127.0.0.1:${base + 3 + i}`).join(',');
  const urls: string[] = [];
  const own: ChildProcess[] = [];
  for (let i = 0; i < 3; i++) {
    const client = `http://127.0.0.1:${base + i}`;
    const peer = `http://127.0.0.1:${base + 3 + i}`;
    const child = spawn(
      'etcd',
      [
        ['--name', `e${i}`],
        ['--data-dir', join(dir, `etcd-${i}`)],
        ['--listen-client-urls', client],
        ['--advertise-client-urls', client],
        ['--listen-peer-urls', peer],
        ['--initial-advertise-peer-urls', peer],
        ['--initial-cluster', peers],
        ['--initial-cluster-state', 'new'],
        ['--initial-cluster-token', 'bench'],
        ['--log-level', 'error'],
      ].flat(),
      { stdio: 'ignore' },
    );
    children.add(child);
    own.push(child);
    urls.push(client);
  }
  return { urls, own };
}

/** The client URL of etcd's leader (via /v3/maintenance/status); waits for one. */
async function etcdLeader(urls: readonly string[], agent: http.Agent): Promise<string> {
  const end = Date.now() + 30_000;
  while (Date.now() < end) {
    for (const url of urls) {
      const a = await httpRequest(`${url}/v3/maintenance/status`, 'POST', {
        body: '{}',
        timeoutMs: 1_000,
        agent,
      }).catch(() => null);
      const json = a?.json as { header?: { member_id?: string }; leader?: string } | null | undefined;
      if (json?.leader !== undefined && json.leader === json.header?.member_id) return url;
    }
    await sleep(200);
  }
  throw new Error('etcd elected no leader within 30 s');
}

/** etcd: a three-member cluster, clients talking to the leader through the JSON gateway. */
async function etcdTarget(dir: string, agent: http.Agent): Promise<Target> {
  const { urls, own } = await startEtcd(dir);
  const leader = await etcdLeader(urls, agent);
  const post = async (path: string, body: object): Promise<boolean> => {
    const a = await httpRequest(`${leader}${path}`, 'POST', { body: JSON.stringify(body), timeoutMs: 10_000, agent });
    return a.status === 200;
  };
  return {
    name: 'etcd',
    write: (c, i) => post('/v3/kv/put', { key: b64(`key${(c * 7919 + i) % 1000}`), value: b64(VALUE) }),
    read: (c, i) => post('/v3/kv/range', { key: b64(`key${(c * 7919 + i) % 1000}`) }),
    stop: () => stopChildren(own, 500),
  };
}

/** A figure as a table cell. */
function cell(f: Figures | undefined): string {
  if (f === undefined) return '—';
  const errors = f.errors > 0 ? `, ${f.errors} errors` : '';
  return `${f.perSecond.toFixed(0)}/s  p50 ${f.p50.toFixed(1)} ms  p99 ${f.p99.toFixed(1)} ms${errors}`;
}

/** The rows of the benchmark: writes at each concurrency, then reads at each. */
function rowsOf(levels: readonly number[]): { name: string; clients: number; op: 'write' | 'read' }[] {
  const name = (what: string, c: number): string => `${what}, ${c} client${c === 1 ? '' : 's'}`;
  return [
    ...levels.map((c) => ({ name: name('writes', c), clients: c, op: 'write' as const })),
    ...levels.map((c) => ({ name: name('linearizable reads', c), clients: c, op: 'read' as const })),
  ];
}

/**
 * Warm `target` up for `seconds`, not measured (half writes, half reads, from up to 16 clients): a
 * Node process compiles its hot code as it runs, so a cold one would measure V8's compiler along
 * with the system (a Go server such as etcd has nothing to warm up, and loses nothing by it).
 */
async function warmUp(target: Target, levels: readonly number[], seconds: number): Promise<void> {
  if (seconds <= 0) return;
  const clients = Math.min(16, Math.max(...levels));
  await measure(clients, seconds / 2, target.write);
  await measure(clients, seconds / 2, target.read);
}

/** Run the benchmark (see the module comment). */
async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), FLAGS);
  const seconds = intFlag(flags, 'seconds', 5, 1);
  const warmup = intFlag(flags, 'warmup', 10, 0);
  const levels = stringFlag(flags, 'concurrency', '1,16,256').split(',').map(Number);
  if (!levels.every((c) => Number.isSafeInteger(c) && c >= 1)) {
    throw new UsageError('--concurrency must be a comma-separated list of integers >= 1');
  }
  const withEtcd = !boolFlag(flags, 'no-etcd') && spawnSync('etcd', ['--version']).status === 0;
  const withFloor = !boolFlag(flags, 'no-floor');
  const dir = mkdtempSync(join(tmpdir(), 'kv-bench-'));
  const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  const results: { name: string; rows: Map<string, Figures> }[] = [];
  const targets: Target[] = [];
  try {
    // Every system runs for the whole benchmark, and each row is measured on each system in turn:
    // the machine's other tenants change from minute to minute, and so the systems compared in a
    // row meet the same machine.
    targets.push(await kvTarget(dir, Math.max(...levels), agent));
    if (withEtcd) targets.push(await etcdTarget(dir, agent));
    else console.log('etcd: not on the PATH (or --no-etcd): skipped');
    if (withFloor) targets.push(await floorTarget(dir, agent));
    for (const t of targets) {
      await warmUp(t, levels, warmup);
      results.push({ name: t.name, rows: new Map() });
    }
    for (const row of rowsOf(levels)) {
      for (let k = 0; k < targets.length; k++) {
        const t = targets[k]!;
        const f = await measure(row.clients, seconds, row.op === 'write' ? t.write : t.read);
        results[k]!.rows.set(row.name, f);
        console.log(`${t.name}: ${row.name}: ${cell(f)}`);
      }
    }
  } finally {
    for (const t of targets) await t.stop();
    agent.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`\n${seconds} s per row after ${warmup} s of warm-up, 3 nodes on loopback, fsync on`);
  const rows = [...results[0]!.rows.keys()];
  const width = Math.max(...rows.map((r) => r.length));
  console.log(`${''.padEnd(width)}  ${results.map((r) => r.name.padEnd(44)).join('')}`);
  for (const row of rows)
    console.log(`${row.padEnd(width)}  ${results.map((r) => cell(r.rows.get(row)).padEnd(44)).join('')}`);
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    if (e instanceof UsageError) {
      console.error(`bench:kv: ${e.message}`);
      process.exit(USAGE_EXIT_CODE);
    }
    console.error(e instanceof Error ? (e.stack ?? e.message) : e);
    process.exit(1);
  },
);
