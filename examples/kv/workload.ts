/**
 * The load tool's clients: N concurrent `KvClient`s doing random operations on a few keys, every
 * operation recorded as a history record (the checker's `Operation`: client, op, key, value,
 * expected, call, return in integer microseconds, output, status), and the summary of a history.
 *
 * Values are unique (`<client>-<n>` for put and cas, `<client>.<n>;` appended), so that a read
 * tells which write it saw. A `cas` expects a value recently seen on that key (or absence), so
 * that some of them swap.
 */
import { randomBytes } from 'node:crypto';
import type { Operation } from '../../tests/support/linearizability.js';
import { seededRandom } from '../../src/host/index.js';
import { KvClient, type KvOperation, type KvOutcome } from './client.js';

/** A history record: the checker's operation, with every field present (null where it does not apply). */
export interface HistoryRecord extends Operation {
  readonly client: string;
  readonly value: string | null;
  readonly expected: string | null;
  readonly return: number;
  readonly output: string | boolean | null;
}

/** Options of a workload. */
export interface WorkloadOptions {
  /** The nodes' URLs now (the list may change as nodes come and go). */
  readonly urls: () => readonly string[];
  readonly clients: number;
  /** Operations in all (shared by the clients). */
  readonly ops: number;
  /** Keys k0 .. k<keys - 1>. */
  readonly keys: number;
  readonly seed: number;
  /**
   * Prefix of the client ids (`<prefix>c<i>`). Ids must not repeat across workloads on one cluster:
   * the cluster deduplicates writes by client id and seq. Default: random.
   */
  readonly clientPrefix?: string;
  /** Per-operation retry deadline and per-attempt timeout (see KvClient). */
  readonly deadlineMs?: number;
  readonly attemptTimeoutMs?: number;
  /** Clients send each operation to a random node first (see KvClient's `sticky`). Default false. */
  readonly anyNode?: boolean;
  /** Counters the workload adds to, if given. */
  readonly stats?: WorkloadStats;
  /** Called with each record as it completes. */
  readonly onRecord?: (record: HistoryRecord) => void;
  /** Stop early when this returns true (checked before each operation). */
  readonly stop?: () => boolean;
}

/** Counters of a workload's clients. */
export interface WorkloadStats {
  /** HTTP attempts, redirects included. */
  attempts: number;
  /** Writes acknowledged after an earlier attempt's outcome was unknown (retried with the same x-seq). */
  retriedUnknown: number;
}

const START = process.hrtime.bigint();

/** Microseconds since this module was loaded (a monotonic clock shared by every client). */
export function nowMicros(): number {
  return Number((process.hrtime.bigint() - START) / 1000n);
}

/** The shared state of the clients: what was seen on each key, and the operation counter. */
interface Shared {
  readonly recent: Map<string, string[]>;
  issued: number;
}

/** Remember that `value` was seen on `key`. */
function saw(shared: Shared, key: string, value: string | null): void {
  if (value === null) return;
  const list = shared.recent.get(key) ?? [];
  list.push(value);
  if (list.length > 4) list.shift();
  shared.recent.set(key, list);
}

/** A random operation of client `c`, its `n`-th. */
function randomOperation(random: () => number, shared: Shared, keys: number, c: number, n: number): KvOperation {
  const key = `k${Math.floor(random() * keys)}`;
  const r = random();
  if (r < 0.35) return { op: 'get', key };
  if (r < 0.6) return { op: 'put', key, value: `${c}-${n}` };
  if (r < 0.75) return { op: 'append', key, value: `${c}.${n};` };
  if (r < 0.92) {
    const seen = shared.recent.get(key) ?? [];
    const expected = seen.length > 0 && random() < 0.85 ? seen[Math.floor(random() * seen.length)]! : null;
    return { op: 'cas', key, expected, value: `${c}-${n}` };
  }
  return { op: 'delete', key };
}

/** The record of operation `o`, called at `call`, ended as `outcome`. */
function recordOf(client: string, o: KvOperation, call: number, outcome: KvOutcome): HistoryRecord {
  return {
    client,
    op: o.op,
    key: o.key,
    value: 'value' in o ? o.value : null,
    expected: o.op === 'cas' ? o.expected : null,
    call,
    return: Math.max(call, nowMicros()),
    output: outcome.status === 'ok' ? outcome.output : null,
    status: outcome.status,
  };
}

/** Run the workload; resolves with the history, in completion order. */
export async function runWorkload(options: WorkloadOptions): Promise<HistoryRecord[]> {
  const shared: Shared = { recent: new Map(), issued: 0 };
  const history: HistoryRecord[] = [];
  const prefix = options.clientPrefix ?? `${randomBytes(3).toString('hex')}-`;
  const runClient = async (c: number): Promise<void> => {
    const random = seededRandom(options.seed * 1_000 + c);
    const client = new KvClient({
      urls: options.urls,
      clientId: `${prefix}c${c}`,
      sticky: options.anyNode !== true,
      ...(options.deadlineMs === undefined ? {} : { deadlineMs: options.deadlineMs }),
      ...(options.attemptTimeoutMs === undefined ? {} : { attemptTimeoutMs: options.attemptTimeoutMs }),
    });
    for (let n = 1; shared.issued < options.ops && options.stop?.() !== true; n++) {
      shared.issued++;
      const o = randomOperation(random, shared, options.keys, c, n);
      const call = nowMicros();
      const outcome = await client.run(o);
      const record = recordOf(client.id, o, call, outcome);
      if (options.stats !== undefined) {
        options.stats.attempts += outcome.attempts;
        if (outcome.status === 'ok' && outcome.retriedUnknown) options.stats.retriedUnknown++;
      }
      if (outcome.status === 'ok' && typeof outcome.output === 'string') saw(shared, o.key, outcome.output);
      if (outcome.status === 'ok' && o.op === 'put') saw(shared, o.key, o.value);
      history.push(record);
      options.onRecord?.(record);
    }
    client.close();
  };
  await Promise.all(Array.from({ length: options.clients }, (_, c) => runClient(c)));
  return history;
}

/** Read every key once more (after the faults are healed), recorded like the rest. */
export async function finalReads(
  urls: () => readonly string[],
  keys: number,
  onRecord?: (record: HistoryRecord) => void,
): Promise<HistoryRecord[]> {
  const client = new KvClient({ urls, clientId: 'final', deadlineMs: 30_000 });
  const out: HistoryRecord[] = [];
  for (let k = 0; k < keys; k++) {
    const o: KvOperation = { op: 'get', key: `k${k}` };
    const call = nowMicros();
    const record = recordOf(client.id, o, call, await client.run(o));
    out.push(record);
    onRecord?.(record);
  }
  client.close();
  return out;
}

/** Counts, throughput and latencies of a history. */
export interface HistorySummary {
  readonly ok: number;
  readonly fail: number;
  readonly info: number;
  /** Acknowledged operations per second over the span of the history. */
  readonly throughput: number;
  /** Latency of the acknowledged operations, in milliseconds. */
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly maxMs: number;
  /** Seconds from the first call to the last return. */
  readonly seconds: number;
}

/** The `q`-quantile (0..1) of sorted numbers. */
export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

/** Summarize a history (see HistorySummary). */
export function summarize(history: readonly HistoryRecord[]): HistorySummary {
  const count = (s: string): number => history.filter((r) => r.status === s).length;
  const latencies = history
    .filter((r) => r.status === 'ok')
    .map((r) => (r.return - r.call) / 1000)
    .sort((a, b) => a - b);
  const first = Math.min(...history.map((r) => r.call));
  const last = Math.max(...history.map((r) => r.return));
  const seconds = history.length === 0 ? 0 : (last - first) / 1e6;
  return {
    ok: latencies.length,
    fail: count('fail'),
    info: count('info'),
    throughput: seconds > 0 ? latencies.length / seconds : 0,
    p50Ms: quantile(latencies, 0.5),
    p99Ms: quantile(latencies, 0.99),
    maxMs: latencies[latencies.length - 1] ?? 0,
    seconds,
  };
}
