/**
 * The HTTP side of a kv node (node:http, no framework): routes requests to the node's host.
 *
 * | request | on the leader |
 * |---|---|
 * | `GET /kv/:key` | a linearizable read (`host.read`): 200 `{key, value}`, 404 when absent |
 * | `PUT /kv/:key` (body: the value) | 200 `{key, ok, prev, value}` |
 * | `POST /kv/:key/append` (body: the suffix) | 200, `value` is the value after |
 * | `POST /kv/:key/cas` (JSON `{expected, value}`; `expected: null`: must be absent) | 200, `ok` says whether it swapped |
 * | `DELETE /kv/:key` | 200, `prev` is what was deleted |
 * | `GET /status` | `host.status()` plus the node's URL, pid and key count (any node) |
 * | `POST /admin/members` (JSON `{add: id}` or `{remove: id}`) | a membership change; 200 `{members}` |
 * | `POST /admin/transfer` (JSON `{to: id}`) | hand leadership to `to`; 200 |
 *
 * A node that does not lead answers every request but `/status` with a 307 redirect to the leader's
 * URL (the same path), or 503 `{error: "noLeader"}` when it knows no leader. Keys are one path
 * segment, percent-encoded.
 *
 * Writes carry `x-client` (an id) and `x-seq` (a positive integer, one more per write) headers;
 * the state machine deduplicates them (./machine.ts), so a client retries a write with the same
 * headers until it has an answer. Errors are JSON `{error, message, outcome}`, where `outcome` says
 * what the client may assume: `notApplied` (the write did not and will not take effect: retry
 * freely) or `unknown` (it may take effect: retry with the same x-seq). Status codes: 400 bad
 * request, 404 no such route, 409 stale x-seq, 413 too large, 503 unavailable (`noLeader`,
 * `overwritten`, `rejected`, `stopped`, ...), 504 timeout (`outcome: unknown`).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { followerMatchIndex, type ClusterConfig } from '../../src/index.js';
import { HostError, type Host } from '../../src/host/index.js';
import type { KvCommand, KvMachine, KvResult } from './machine.js';
import { httpUrl, slotOf, type Topology } from './topology.js';

/** A kv node's host. */
export type KvHost = Host<KvCommand, KvResult, string, string | null>;

/** What the request handler works with. */
export interface ServiceContext {
  readonly host: KvHost;
  readonly machine: KvMachine;
  readonly topology: Topology;
  /** This node's slot. */
  readonly slot: number;
  /** How long a write or read may wait for the cluster before answering 504. */
  readonly requestTimeoutMs: number;
  /** How long a membership change may take (the new node catching up included). */
  readonly adminTimeoutMs: number;
  /** Log a line (membership changes). */
  readonly log: (line: string) => void;
  /**
   * Deliberately broken, to show the checker at work: answer GET /kv/:key from this node's state
   * machine at once, on any node, without a ReadIndex round (stale reads).
   */
  readonly unsafeLocalReads?: boolean;
}

/** The largest request body accepted, in bytes. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** What a request handler answers: a status, a JSON body, and headers. */
interface Reply {
  readonly status: number;
  readonly body: unknown;
  readonly headers?: Record<string, string>;
}

/** An error reply (see the module comment). */
function errorReply(
  status: number,
  error: string,
  message: string,
  outcome: 'notApplied' | 'unknown',
  extra: object = {},
): Reply {
  return { status, body: { error, message, outcome, ...extra } };
}

/** Build the request listener of a node's HTTP server. */
export function createHandler(ctx: ServiceContext): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    route(ctx, req).then(
      (reply) => send(res, reply),
      (e: unknown) => send(res, errorReply(500, 'internal', messageOf(e), 'unknown')),
    );
  };
}

/** Write `reply` as JSON. */
function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(reply.body) + '\n';
  res.writeHead(reply.status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    ...reply.headers,
  });
  res.end(text);
}

/** The message of anything thrown. */
function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** A path split into decoded segments; null when one is not valid percent-encoding. */
function segments(url: string): string[] | null {
  const path = url.split('?')[0]!;
  try {
    return path
      .split('/')
      .filter((s) => s !== '')
      .map((s) => decodeURIComponent(s));
  } catch {
    return null;
  }
}

/** Dispatch a request (see the table in the module comment). */
async function route(ctx: ServiceContext, req: IncomingMessage): Promise<Reply> {
  const parts = segments(req.url ?? '/');
  const method = req.method ?? 'GET';
  if (parts === null) {
    req.resume();
    return errorReply(400, 'badPath', 'the path is not valid percent-encoding', 'notApplied');
  }
  if (parts.length === 1 && parts[0] === 'status' && method === 'GET') return { status: 200, body: status(ctx) };
  const kv = parts[0] === 'kv' && parts.length >= 2 && parts.length <= 3;
  const admin = parts[0] === 'admin' && parts.length === 2 && method === 'POST';
  if (!kv && !admin) {
    req.resume();
    return errorReply(404, 'notFound', `no route for ${method} ${req.url}`, 'notApplied');
  }
  if (ctx.unsafeLocalReads === true && kv && parts.length === 2 && method === 'GET') {
    req.resume();
    const value = ctx.machine.query(parts[1]!);
    return { status: value === null ? 404 : 200, body: { key: parts[1], value } };
  }
  const away = notLeading(ctx, req);
  if (away !== null) {
    req.resume();
    return away;
  }
  if (admin) return adminRequest(ctx, parts[1]!, req);
  return kvRequest(ctx, method, parts[1]!, parts[2], req);
}

/** A redirect to the leader, a 503 when none is known, or null when this node leads. */
function notLeading(ctx: ServiceContext, req: IncomingMessage): Reply | null {
  const s = ctx.host.status();
  if (s.role === 'leader' && s.halted === null) return null;
  return redirect(ctx, s.leader, req.url ?? '/');
}

/** A 307 to `leader`'s URL, or a 503 when it is unknown (or this node, which does not lead). */
function redirect(ctx: ServiceContext, leader: string | null, path: string): Reply {
  const slot = leader === null ? undefined : slotOf(leader);
  if (slot === undefined || slot === ctx.slot) {
    return {
      ...errorReply(503, 'noLeader', 'no leader is known; retry shortly', 'notApplied'),
      headers: { 'retry-after': '1' },
    };
  }
  const location = httpUrl(ctx.topology, slot) + path;
  return { status: 307, body: { leader, location }, headers: { location } };
}

/** The node's status for GET /status. */
function status(ctx: ServiceContext): object {
  return {
    ...ctx.host.status(),
    url: httpUrl(ctx.topology, ctx.slot),
    pid: process.pid,
    keys: ctx.machine.size,
    clients: ctx.machine.clientCount,
  };
}

/** Read a request body as UTF-8, at most MAX_BODY_BYTES; null when it is longer. */
function readBody(req: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(size > MAX_BODY_BYTES ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** Parse a JSON object body; a string is the error to answer. */
async function readJson(req: IncomingMessage): Promise<Record<string, unknown> | string> {
  const text = await readBody(req);
  if (text === null) return 'the body is too large';
  try {
    const v: unknown = JSON.parse(text);
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : 'not an object';
  } catch (e) {
    return `the body is not JSON: ${messageOf(e)}`;
  }
}

/** The client id and seq of a write, undefined without them, or an error reply. */
function clientOf(req: IncomingMessage): { client: string; seq: number } | undefined | Reply {
  const client = req.headers['x-client'];
  const seqText = req.headers['x-seq'];
  if (client === undefined && seqText === undefined) return undefined;
  const seq = Number(seqText);
  if (typeof client !== 'string' || client === '' || client.length > 256 || !Number.isSafeInteger(seq) || seq < 1) {
    return errorReply(400, 'badClient', 'x-client and x-seq go together: an id and a positive integer', 'notApplied');
  }
  return { client, seq };
}

/** A request that waited longer than it may. */
class RequestTimeout extends Error {
  override readonly name = 'RequestTimeout';
}

/** Settle with `promise`, or reject with a RequestTimeout after `ms`. */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new RequestTimeout(`no answer within ${ms} ms`)), ms);
    promise.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e instanceof Error ? e : new Error(String(e)));
      },
    );
  });
}

/** The reply for a failed request (see the module comment for the codes). */
function failureReply(ctx: ServiceContext, e: unknown, path: string): Reply {
  if (e instanceof RequestTimeout) return errorReply(504, 'timeout', e.message, 'unknown');
  if (!(e instanceof HostError)) return errorReply(500, 'internal', messageOf(e), 'unknown');
  switch (e.code) {
    case 'notLeader':
      return redirect(ctx, e.leaderHint, path);
    case 'rejected':
      return errorReply(503, 'rejected', e.message, 'notApplied', { reason: e.reason });
    case 'overwritten':
      return errorReply(503, 'overwritten', e.message, 'notApplied');
    case 'tooLarge':
      return errorReply(413, 'tooLarge', e.message, 'notApplied');
    default:
      return errorReply(503, e.code, e.message, 'unknown');
  }
}

/** A request under /kv/:key. */
async function kvRequest(
  ctx: ServiceContext,
  method: string,
  key: string,
  action: string | undefined,
  req: IncomingMessage,
): Promise<Reply> {
  const path = req.url ?? '/';
  if (action === undefined && method === 'GET') {
    req.resume();
    try {
      const value = await withTimeout(ctx.host.read(key), ctx.requestTimeoutMs);
      return { status: value === null ? 404 : 200, body: { key, value } };
    } catch (e) {
      return failureReply(ctx, e, path);
    }
  }
  const command = await commandOf(method, key, action, req);
  if ('status' in command) return command;
  return propose(ctx, command, path);
}

/** The write a request asks for, or an error reply. */
async function commandOf(
  method: string,
  key: string,
  action: string | undefined,
  req: IncomingMessage,
): Promise<KvCommand | Reply> {
  const who = clientOf(req);
  if (who !== undefined && 'status' in who) {
    req.resume();
    return who;
  }
  const id = who ?? {};
  if (action === undefined && method === 'DELETE') {
    req.resume();
    return { op: 'delete', key, ...id };
  }
  if (action === undefined && method === 'PUT') {
    const value = await readBody(req);
    return value === null ? tooLarge() : { op: 'put', key, value, ...id };
  }
  if (action === 'append' && method === 'POST') {
    const value = await readBody(req);
    return value === null ? tooLarge() : { op: 'append', key, value, ...id };
  }
  if (action === 'cas' && method === 'POST') {
    const body = await readJson(req);
    if (typeof body === 'string') return errorReply(400, 'badBody', body, 'notApplied');
    const { expected, value } = body;
    if ((expected !== null && typeof expected !== 'string') || typeof value !== 'string') {
      return errorReply(400, 'badBody', 'cas needs {expected: string | null, value: string}', 'notApplied');
    }
    return { op: 'cas', key, expected, value, ...id };
  }
  req.resume();
  return errorReply(404, 'notFound', `no route for ${method} ${req.url}`, 'notApplied');
}

/** The reply to a body over MAX_BODY_BYTES. */
function tooLarge(): Reply {
  return errorReply(413, 'tooLarge', `the body is over ${MAX_BODY_BYTES} bytes`, 'notApplied');
}

/** Replicate a write and answer with its result. */
async function propose(ctx: ServiceContext, command: KvCommand, path: string): Promise<Reply> {
  try {
    const result = await withTimeout(ctx.host.propose(command), ctx.requestTimeoutMs);
    if (result.stale === true) {
      return errorReply(409, 'staleSeq', 'x-seq is older than this client’s last write', 'notApplied');
    }
    return { status: 200, body: { key: command.key, ok: result.ok, prev: result.prev, value: result.value } };
  } catch (e) {
    return failureReply(ctx, e, path);
  }
}

/** POST /admin/members and /admin/transfer. */
async function adminRequest(ctx: ServiceContext, what: string, req: IncomingMessage): Promise<Reply> {
  const body = await readJson(req);
  if (typeof body === 'string') return errorReply(400, 'badBody', body, 'notApplied');
  const path = req.url ?? '/';
  try {
    if (what === 'members') {
      const { add, remove } = body;
      const id = typeof add === 'string' ? add : typeof remove === 'string' ? remove : null;
      if (id === null || slotOf(id) === undefined || (add !== undefined) === (remove !== undefined)) {
        return errorReply(400, 'badBody', 'give {add: id} or {remove: id}, ids of the form n<i>', 'notApplied');
      }
      const members = await (add !== undefined ? addMember(ctx, id) : removeMember(ctx, id));
      return { status: 200, body: { members } };
    }
    if (what === 'transfer') {
      const to = body.to;
      if (typeof to !== 'string') return errorReply(400, 'badBody', 'give {to: id}', 'notApplied');
      await withTimeout(ctx.host.transferLeadership(to), ctx.adminTimeoutMs);
      return { status: 200, body: { leader: to } };
    }
    return errorReply(404, 'notFound', `no admin route ${what}`, 'notApplied');
  } catch (e) {
    return failureReply(ctx, e, path);
  }
}

/**
 * Add `id` as a voter: first as a non-voter, until it has caught up with the commit index of the
 * moment it was added (through a snapshot, if the log was compacted), then promoted. Resolves with
 * the final configuration.
 */
async function addMember(ctx: ServiceContext, id: string): Promise<ClusterConfig> {
  const host = ctx.host;
  const members = host.status().members;
  if (members.voters.includes(id)) return members;
  if (!members.nonVoters.includes(id)) {
    ctx.log(`adding ${id} as a non-voter`);
    await withTimeout(host.changeMembership({ addNonVoters: [id] }), ctx.adminTimeoutMs);
  }
  const target = host.status().commitIndex;
  const deadline = Date.now() + ctx.adminTimeoutMs;
  for (;;) {
    const match = followerMatchIndex(host.state, id);
    if (match === null)
      throw new HostError('notLeader', 'leadership was lost while adding a node', host.status().leader);
    if (match >= target) break;
    if (Date.now() > deadline) throw new RequestTimeout(`${id} did not catch up within ${ctx.adminTimeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  ctx.log(`${id} caught up to ${target}: promoting it to voter`);
  return withTimeout(host.changeMembership({ addVoters: [id] }), ctx.adminTimeoutMs);
}

/** Remove `id` (a voter, through joint consensus, or a non-voter). Resolves with the final configuration. */
async function removeMember(ctx: ServiceContext, id: string): Promise<ClusterConfig> {
  const members = ctx.host.status().members;
  const change = members.voters.includes(id)
    ? { removeVoters: [id] }
    : members.nonVoters.includes(id)
      ? { removeNonVoters: [id] }
      : null;
  if (change === null) return members;
  ctx.log(`removing ${id}`);
  return withTimeout(ctx.host.changeMembership(change), ctx.adminTimeoutMs);
}
