/**
 * Support for the kv end-to-end tests: the node script built for child processes, local clusters
 * on free ports in temporary directories (always torn down), a ledger client whose appends must all
 * survive, and the history checks. Not a test file.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import * as ts from 'typescript';
import { LocalCluster, freeTopology, type ClusterOptions } from '../../examples/kv/cluster.js';
import { KvClient } from '../../examples/kv/client.js';
import { nowMicros, type HistoryRecord } from '../../examples/kv/workload.js';
import { checkHistory, describeOperation } from '../support/linearizability.js';

const ROOT = resolve(__dirname, '../..');
let built: string | null = null;

/**
 * Build examples/kv/server.ts and everything it imports into a temporary directory (transpiled
 * file by file, like ts-jest: no type check — `npm run typecheck` does that) and return the
 * server script's path. Built once per test file.
 */
export function buildServer(): string {
  if (built !== null) return built;
  const out = mkdtempSync(join(tmpdir(), 'kv-build-'));
  const todo = [join(ROOT, 'examples/kv/server.ts')];
  const done = new Set<string>();
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (done.has(file)) continue;
    done.add(file);
    const source = readFileSync(file, 'utf8');
    for (const m of source.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)) todo.push(resolve(dirname(file), `${m[1]}.ts`));
    const js = ts.transpileModule(source, {
      compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      fileName: file,
    }).outputText;
    const dest = join(out, relative(ROOT, file)).replace(/\.ts$/, '.js');
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, js);
  }
  built = join(out, 'examples/kv/server.js');
  return built;
}

/** A cluster for one test, and its teardown. */
export interface TestCluster {
  readonly cluster: LocalCluster;
  readonly dir: string;
  /** The URLs of the slots running now. */
  readonly urls: () => string[];
  /** Kill every node and delete the directory. */
  teardown(): Promise<void>;
}

/** Clusters not torn down yet (the test file's afterAll tears them all down). */
const live = new Set<TestCluster>();

/** Start a new cluster of slots 0 .. nodes - 1 on free ports, with fast timers. */
export async function startCluster(
  nodes: number,
  options: Partial<Omit<ClusterOptions, 'topology' | 'serverScript'>> = {},
): Promise<TestCluster> {
  const dir = mkdtempSync(join(tmpdir(), 'kv-e2e-'));
  const cluster = new LocalCluster({
    topology: await freeTopology(dir),
    serverScript: buildServer(),
    heartbeatMs: 25,
    electionTicks: 10,
    requestTimeoutMs: 2_000,
    output: 'files',
    ...options,
  });
  const t: TestCluster = {
    cluster,
    dir,
    urls: () => cluster.running().map((s) => cluster.url(s)),
    teardown: async () => {
      live.delete(t);
      await cluster.stopAll(true);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  live.add(t);
  await cluster.start(
    Array.from({ length: nodes }, (_, i) => i),
    true,
  );
  await cluster.waitForLeader();
  return t;
}

/** Tear down every cluster still running, and delete the build (for afterAll). */
export async function teardownAll(): Promise<void> {
  await Promise.all([...live].map((t) => t.teardown()));
  if (built !== null) rmSync(resolve(built, '../../..'), { recursive: true, force: true });
  built = null;
}

/**
 * A client appending `L<n>;` to the key `ledger`, one append after the other, until stopped. Its
 * records join the history; `verify` checks the key's final value against them.
 */
export class Ledger {
  readonly records: HistoryRecord[] = [];
  private running = true;
  private done: Promise<void> = Promise.resolve();

  /** Start appending through nodes `urls()`. */
  start(urls: () => readonly string[]): this {
    const client = new KvClient({ urls, clientId: 'ledger', deadlineMs: 20_000 });
    this.done = (async () => {
      for (let n = 1; this.running; n++) {
        const value = `L${n};`;
        const call = nowMicros();
        const r = await client.run({ op: 'append', key: 'ledger', value });
        this.records.push({
          client: 'ledger',
          op: 'append',
          key: 'ledger',
          value,
          expected: null,
          call,
          return: Math.max(call, nowMicros()),
          output: r.status === 'ok' ? r.output : null,
          status: r.status,
        });
      }
      client.close();
    })();
    return this;
  }

  /** Stop after the append in flight. */
  async stop(): Promise<HistoryRecord[]> {
    this.running = false;
    await this.done;
    return this.records;
  }

  /**
   * Problems with the final value of the ledger (empty when none): an acknowledged append missing,
   * an append known not applied present, a token appearing twice or out of order.
   */
  verify(final: string | null): string[] {
    const tokens = (final ?? '').split(';').filter((t) => t !== '');
    const problems: string[] = [];
    const present = new Set(tokens);
    if (present.size !== tokens.length) problems.push('a ledger append was applied twice');
    const order = tokens.map((t) => Number(t.slice(1)));
    if (order.some((n, i) => i > 0 && n <= order[i - 1]!)) problems.push(`ledger out of order: ${final}`);
    for (const r of this.records) {
      const token = r.value!.slice(0, -1);
      if (r.status === 'ok' && !present.has(token)) problems.push(`acknowledged append ${token} lost`);
      if (r.status === 'fail' && present.has(token)) problems.push(`append ${token} reported not applied, yet present`);
    }
    return problems;
  }
}

/** Read `key` through `urls` (a linearizable read, recorded). */
export async function readKey(urls: () => readonly string[], key: string): Promise<HistoryRecord> {
  const client = new KvClient({ urls, clientId: 'reader', deadlineMs: 20_000 });
  const call = nowMicros();
  const r = await client.run({ op: 'get', key });
  client.close();
  return {
    client: 'reader',
    op: 'get',
    key,
    value: null,
    expected: null,
    call,
    return: Math.max(call, nowMicros()),
    output: r.status === 'ok' ? r.output : null,
    status: r.status,
  };
}

/** A description of why `history` is not linearizable, or null when it is. */
export function linearizabilityProblem(history: readonly HistoryRecord[]): string | null {
  const r = checkHistory(history);
  if (r.linearizable === true) return null;
  const keys = r.keys
    .filter((k) => k.linearizable !== true)
    .map((k) => `${k.key}: ${String(k.linearizable)}${k.stuckAt ? ` at ${describeOperation(k.stuckAt)}` : ''}`);
  return `not linearizable (${String(r.linearizable)}): ${keys.join('; ')}`;
}

/** Counts of a history's statuses, e.g. "120 ok, 1 fail, 0 info". */
export function statusCounts(history: readonly HistoryRecord[]): { ok: number; fail: number; info: number } {
  const c = { ok: 0, fail: 0, info: 0 };
  for (const r of history) c[r.status]++;
  return c;
}
