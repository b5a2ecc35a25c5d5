/**
 * A kv client: a library (`KvClient`, used by the load tool, the benchmark and the tests) and a
 * command line.
 *
 *     node build/examples/kv/client.js [--base-port 7000] [--nodes 3] [--url http://h:p,...] COMMAND
 *
 *     get KEY                    print the value (exit 1 when absent)
 *     put KEY VALUE
 *     append KEY SUFFIX          print the value after
 *     cas KEY EXPECTED VALUE     swap if the value is EXPECTED (--absent: if there is none; then
 *                                `cas KEY VALUE`); exit 1 when it did not swap
 *     delete KEY
 *     status                     every node's role, term, indices and members
 *     members add|remove ID      a membership change (see server.ts)
 *     transfer ID                hand leadership to ID
 *
 * The client tries the nodes in turn, follows 307 redirects to the leader, and retries until an
 * answer or its deadline: a write with the same `x-client`/`x-seq` each time (the cluster applies
 * it once), so a retry is safe even when an earlier attempt's fate is unknown. Each operation ends
 * `ok` (answered), `fail` (it definitely did not take effect) or `info` (a write that may have:
 * some attempt's answer was lost, and no later attempt settled it before the deadline).
 */
import { randomBytes } from 'node:crypto';
import * as http from 'node:http';
import { USAGE_EXIT_CODE, UsageError, boolFlag, intFlag, parseFlags, stringFlag, type FlagSpec } from './topology.js';

/** The flags of this command. */
const FLAGS: FlagSpec = {
  'base-port': 'value',
  host: 'value',
  url: 'value',
  nodes: 'value',
  'deadline-ms': 'value',
  absent: 'switch',
};

/** An operation on one key. */
export type KvOperation =
  | { readonly op: 'get'; readonly key: string }
  | { readonly op: 'put'; readonly key: string; readonly value: string }
  | { readonly op: 'append'; readonly key: string; readonly value: string }
  | { readonly op: 'cas'; readonly key: string; readonly expected: string | null; readonly value: string }
  | { readonly op: 'delete'; readonly key: string };

/** How an operation ended (see the module comment). */
export interface KvOutcome {
  readonly status: 'ok' | 'fail' | 'info';
  /** get: the value (null: absent); append: the value after; cas: whether it swapped; else null. */
  readonly output: string | boolean | null;
  /** HTTP attempts made (redirects included). */
  readonly attempts: number;
  /** A write retried after an attempt whose outcome was unknown (the cluster's deduplication made it safe). */
  readonly retriedUnknown: boolean;
  /** The last error, when not ok. */
  readonly error?: string;
}

/** Options of a `KvClient`. */
export interface KvClientOptions {
  /** The nodes' base URLs (e.g. http://127.0.0.1:7000), or a function giving the current list. */
  readonly urls: readonly string[] | (() => readonly string[]);
  /** This client's id for deduplication. Default: random. */
  readonly clientId?: string;
  /** How long one HTTP attempt may take. Default 2 s. */
  readonly attemptTimeoutMs?: number;
  /** How long an operation may keep retrying. Default 10 s. */
  readonly deadlineMs?: number;
  /** The HTTP agent (keep-alive by default, one per client). */
  readonly agent?: http.Agent;
  /**
   * Send each operation first to the node that answered the last one (default), or, when false,
   * to a random node (a follower redirects it): more redirects, and reads that reach every node.
   */
  readonly sticky?: boolean;
}

/** An HTTP answer: status, headers, and the body parsed as JSON (null when it is not JSON). */
export interface HttpAnswer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly json: Record<string, unknown> | null;
}

/** An HTTP attempt that got no answer; `sent` is false when the request certainly never arrived. */
export class HttpFailure extends Error {
  override readonly name = 'HttpFailure';

  constructor(
    message: string,
    readonly sent: boolean,
  ) {
    super(message);
  }
}

/** Errors raised before any byte could reach a server. */
const NOT_SENT = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

/** `bytes` parsed as a JSON object, or null. */
function parseJson(bytes: Buffer): Record<string, unknown> | null {
  try {
    const v: unknown = JSON.parse(bytes.toString('utf8'));
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** A short description of an error answer: status, error code and message. */
function describeAnswer(a: HttpAnswer): string {
  const text = (v: unknown): string => (typeof v === 'string' ? v : '');
  return `${a.status} ${text(a.json?.error)} ${text(a.json?.message)}`.trim();
}

/** One HTTP request with a timeout; rejects with an HttpFailure when no answer came. */
export function httpRequest(
  url: string,
  method: string,
  options: { body?: string; headers?: Record<string, string>; timeoutMs: number; agent?: http.Agent },
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers };
    if (options.body !== undefined) headers['content-length'] = String(Buffer.byteLength(options.body));
    let req: http.ClientRequest;
    try {
      req = http.request(url, { method, headers, agent: options.agent, timeout: options.timeoutMs }, onResponse);
    } catch (e) {
      reject(new HttpFailure(`cannot request ${url}: ${(e as Error).message}`, false));
      return;
    }
    req.on('timeout', () => req.destroy(new HttpFailure(`no answer within ${options.timeoutMs} ms`, true)));
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e instanceof HttpFailure) reject(e);
      else reject(new HttpFailure(`${e.code ?? ''} ${e.message}`.trim(), !NOT_SENT.has(e.code ?? '')));
    });
    req.end(options.body);
    function onResponse(res: http.IncomingMessage): void {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (e) => reject(new HttpFailure(e.message, true)));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, headers: res.headers, json: parseJson(Buffer.concat(chunks)) });
      });
    }
  });
}

/** The origin (scheme, host, port) of a URL. */
function originOf(url: string): string {
  return new URL(url).origin;
}

/** Resolve after `ms`. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The method, path and body of an operation's request. */
function requestOf(o: KvOperation): { method: string; path: string; body?: string } {
  const key = encodeURIComponent(o.key);
  switch (o.op) {
    case 'get':
      return { method: 'GET', path: `/kv/${key}` };
    case 'put':
      return { method: 'PUT', path: `/kv/${key}`, body: o.value };
    case 'append':
      return { method: 'POST', path: `/kv/${key}/append`, body: o.value };
    case 'cas':
      return { method: 'POST', path: `/kv/${key}/cas`, body: JSON.stringify({ expected: o.expected, value: o.value }) };
    case 'delete':
      return { method: 'DELETE', path: `/kv/${key}` };
  }
}

/** The output of a successful answer (see KvOutcome.output). */
function outputOf(o: KvOperation, json: Record<string, unknown> | null): string | boolean | null {
  const value = typeof json?.value === 'string' ? json.value : null;
  switch (o.op) {
    case 'get':
    case 'append':
      return value;
    case 'cas':
      return json?.ok === true;
    default:
      return null;
  }
}

/** What to do after an answer that is not a success. */
type Next =
  | { readonly kind: 'redirect'; readonly to: string }
  | { readonly kind: 'retry'; readonly applied: boolean | null }
  | { readonly kind: 'stop' };

/** Classify a non-success answer: follow, retry (noting whether the write may have applied), or give up. */
function nextAfter(a: HttpAnswer): Next {
  if (a.status === 307 && typeof a.headers.location === 'string') return { kind: 'redirect', to: a.headers.location };
  if (a.status === 503 || a.status === 504 || a.status === 500) {
    return { kind: 'retry', applied: a.json?.outcome === 'notApplied' ? false : null };
  }
  return { kind: 'stop' };
}

/** A kv client (see the module comment). One operation at a time per client. */
export class KvClient {
  readonly id: string;
  private seq = 0;
  /** Where the leader was last found. */
  private leader: string | null = null;
  private cursor = Math.floor(Math.random() * 1000);
  private readonly agent: http.Agent;

  constructor(private readonly options: KvClientOptions) {
    this.id = options.clientId ?? randomBytes(6).toString('hex');
    this.agent = options.agent ?? new http.Agent({ keepAlive: true });
  }

  /** The nodes' URLs now. */
  private urls(): readonly string[] {
    const u = this.options.urls;
    return typeof u === 'function' ? u() : u;
  }

  /** The next node to try when the leader is unknown (round robin; '' when there is none: the attempt fails). */
  private nextNode(): string {
    const urls = this.urls();
    return urls[this.cursor++ % urls.length] ?? '';
  }

  /** A random node ('' when there is none). */
  private randomNode(): string {
    const urls = this.urls();
    return urls[Math.floor(Math.random() * urls.length)] ?? '';
  }

  /** Close idle connections (call when done with the client). */
  close(): void {
    this.agent.destroy();
  }

  /** Run `o` until an answer or the deadline (see the module comment). */
  async run(o: KvOperation): Promise<KvOutcome> {
    const write = o.op !== 'get';
    const headers: Record<string, string> = write ? { 'x-client': this.id, 'x-seq': String(++this.seq) } : {};
    if (o.op === 'cas') headers['content-type'] = 'application/json';
    const { method, path, body } = requestOf(o);
    const deadline = Date.now() + (this.options.deadlineMs ?? 10_000);
    const timeoutMs = this.options.attemptTimeoutMs ?? 2_000;
    let target = this.options.sticky === false ? this.randomNode() : (this.leader ?? this.nextNode());
    let maybeApplied = false;
    let attempts = 0;
    let failures = 0;
    let error = '';
    while (Date.now() < deadline) {
      attempts++;
      let answer: HttpAnswer;
      try {
        answer = await httpRequest(target + path, method, { body, headers, timeoutMs, agent: this.agent });
      } catch (e) {
        const f = e as HttpFailure;
        maybeApplied ||= f.sent;
        error = `${target}: ${f.message}`;
        this.leader = null;
        target = this.nextNode();
        await sleep(Math.min(200, 10 * 2 ** Math.min(failures++, 5)));
        continue;
      }
      if (answer.status === 200 || (answer.status === 404 && o.op === 'get' && answer.json?.error === undefined)) {
        this.leader = originOf(target);
        return { status: 'ok', output: outputOf(o, answer.json), attempts, retriedUnknown: write && maybeApplied };
      }
      const next = nextAfter(answer);
      error = describeAnswer(answer);
      if (next.kind === 'stop') break;
      if (next.kind === 'redirect') {
        target = originOf(next.to);
        this.leader = target;
        if (attempts % 4 === 0) await sleep(20);
        continue;
      }
      maybeApplied ||= next.applied === null;
      this.leader = null;
      target = this.nextNode();
      await sleep(Math.min(200, 10 * 2 ** Math.min(failures++, 5)));
    }
    const status = write && maybeApplied ? 'info' : 'fail';
    return { status, output: null, attempts, retriedUnknown: write && maybeApplied, error };
  }

  /** An admin request (POST with a JSON body, or GET), following redirects; the final answer. */
  async admin(method: 'GET' | 'POST', path: string, body?: object): Promise<HttpAnswer> {
    const deadline = Date.now() + (this.options.deadlineMs ?? 10_000);
    let target = this.leader ?? this.nextNode();
    let last: HttpAnswer | null = null;
    let error = 'no attempt';
    while (Date.now() < deadline) {
      try {
        last = await httpRequest(target + path, method, {
          body: body === undefined ? undefined : JSON.stringify(body),
          headers: { 'content-type': 'application/json' },
          timeoutMs: 120_000,
          agent: this.agent,
        });
      } catch (e) {
        error = (e as Error).message;
        target = this.nextNode();
        await sleep(100);
        continue;
      }
      const next = nextAfter(last);
      if (next.kind === 'redirect') target = originOf(next.to);
      else if (next.kind === 'retry' && last.json?.error === 'noLeader') {
        target = this.nextNode();
        await sleep(100);
      } else return last;
    }
    if (last !== null) return last;
    throw new Error(`no node answered: ${error}`);
  }
}

/** The command line (see the module comment). */
async function main(): Promise<number> {
  const flags = parseFlags(process.argv.slice(2), FLAGS);
  const basePort = intFlag(flags, 'base-port', 7000, 1);
  const host = stringFlag(flags, 'host', '127.0.0.1');
  const urls = flags.values.has('url')
    ? stringFlag(flags, 'url', '').split(',')
    : Array.from({ length: intFlag(flags, 'nodes', 3, 1) }, (_, i) => `http://${host}:${basePort + i}`);
  const client = new KvClient({ urls, deadlineMs: intFlag(flags, 'deadline-ms', 10_000, 1) });
  try {
    return await command(client, urls, flags.positional, boolFlag(flags, 'absent'));
  } finally {
    client.close();
  }
}

/** Run one command line command; the exit code. */
async function command(
  client: KvClient,
  urls: readonly string[],
  args: readonly string[],
  absent: boolean,
): Promise<number> {
  const [cmd, a, b, c] = args;
  const usage = (): number => {
    console.error('usage: client.js get|put|append|cas|delete|status|members|transfer ... (see the file header)');
    return 2;
  };
  if (cmd === 'status') return printStatus(urls);
  if (cmd === 'members' && (a === 'add' || a === 'remove') && b !== undefined) {
    return printAnswer(await client.admin('POST', '/admin/members', { [a]: b }));
  }
  if (cmd === 'transfer' && a !== undefined)
    return printAnswer(await client.admin('POST', '/admin/transfer', { to: a }));
  if (a === undefined) return usage();
  let o: KvOperation;
  if (cmd === 'get' || cmd === 'delete') o = { op: cmd, key: a };
  else if ((cmd === 'put' || cmd === 'append') && b !== undefined) o = { op: cmd, key: a, value: b };
  else if (cmd === 'cas' && absent && b !== undefined) o = { op: 'cas', key: a, expected: null, value: b };
  else if (cmd === 'cas' && b !== undefined && c !== undefined) o = { op: 'cas', key: a, expected: b, value: c };
  else return usage();
  const r = await client.run(o);
  if (r.status !== 'ok') {
    console.error(`${r.status}: ${r.error ?? ''}`);
    return 3;
  }
  if (o.op === 'get') {
    if (r.output === null) console.error('(absent)');
    else console.log(r.output);
    return r.output === null ? 1 : 0;
  }
  if (o.op === 'cas') console.log(r.output === true ? 'swapped' : 'not swapped');
  else if (o.op === 'append') console.log(r.output);
  else console.log('ok');
  return o.op === 'cas' && r.output !== true ? 1 : 0;
}

/** Print an admin answer; exit code 0 on 200. */
function printAnswer(a: HttpAnswer): number {
  console.log(`${a.status} ${JSON.stringify(a.json)}`);
  return a.status === 200 ? 0 : 1;
}

/** Print one line per node of `urls`. */
async function printStatus(urls: readonly string[]): Promise<number> {
  for (const url of urls) {
    try {
      const a = await httpRequest(`${url}/status`, 'GET', { timeoutMs: 1_000 });
      const s = a.json as {
        id: string;
        role: string;
        term: number;
        commitIndex: number;
        appliedIndex: number;
        snapshotIndex: number;
        members: { voters: string[]; nonVoters: string[] };
      };
      console.log(
        `${url} ${s.id} ${s.role} term ${s.term} commit ${s.commitIndex} applied ${s.appliedIndex} snapshot ${s.snapshotIndex} voters ${s.members.voters.join(',')}${s.members.nonVoters.length > 0 ? ` non-voters ${s.members.nonVoters.join(',')}` : ''}`,
      );
    } catch (e) {
      console.log(`${url} down (${(e as Error).message})`);
    }
  }
  return 0;
}

if (require.main === module) {
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e instanceof UsageError ? `kv client: ${e.message}` : e instanceof Error ? e.message : e);
      process.exit(e instanceof UsageError ? USAGE_EXIT_CODE : 1);
    },
  );
}
