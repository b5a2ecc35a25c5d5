/**
 * The kv service end to end, with real processes: each node a child process (examples/kv/server.ts,
 * built into a temporary directory) on FileStorage and TcpTransport, on free local ports, with fast
 * timers; clients over HTTP. Every test records its history (clients doing random operations on a
 * few keys, plus a ledger client appending tokens to one key) and checks that it is linearizable
 * and that every acknowledged append survived.
 *
 * - the HTTP protocol itself: redirects, deduplicated retries, errors, no leader, SIGTERM;
 * - kill -9 the leader during writes, restart it from its files;
 * - kill -9 every node during writes, restart them all;
 * - wipe a node: remove it, add a fresh node under a new id, which catches up through a snapshot,
 *   then make it necessary for the quorum and let it lead;
 * - add a node and remove the leader while clients are writing.
 *
 * Nodes are always killed afterwards (afterAll), and each shuts itself down if this process dies.
 */
import { sleep } from '../../examples/kv/cluster.js';
import { KvClient, httpRequest, type HttpAnswer } from '../../examples/kv/client.js';
import { nodeId } from '../../examples/kv/topology.js';
import { runWorkload, type HistoryRecord } from '../../examples/kv/workload.js';
import { BASE_SEED } from '../support/seed.js';
import {
  Ledger,
  buildServer,
  linearizabilityProblem,
  readKey,
  startCluster,
  statusCounts,
  teardownAll,
  type TestCluster,
} from './support.js';

// eslint-disable-next-line no-console
console.log(`[seed] kv e2e: FC_SEED=${BASE_SEED}`);

const KEYS = 3;

beforeAll(() => {
  buildServer();
});

afterAll(async () => {
  await teardownAll();
});

/**
 * Random operations by `clients` clients, `ops` in all (or until `stop()`), through the cluster's
 * running nodes.
 */
function workload(
  t: TestCluster,
  clients: number,
  ops: number,
  seed: number,
  stop?: () => boolean,
): Promise<HistoryRecord[]> {
  return runWorkload({ urls: t.urls, clients, ops, keys: KEYS, seed, deadlineMs: 20_000, ...(stop ? { stop } : {}) });
}

/** Read every key and the ledger once more, check the ledger and the whole history. */
async function finish(t: TestCluster, history: HistoryRecord[], ledger: Ledger): Promise<void> {
  for (let k = 0; k < KEYS; k++) history.push(await readKey(t.urls, `k${k}`));
  const final = await readKey(t.urls, 'ledger');
  expect(final.status).toBe('ok');
  history.push(final, ...ledger.records);
  expect(ledger.verify(final.output as string | null)).toEqual([]);
  expect(ledger.records.filter((r) => r.status === 'ok').length).toBeGreaterThan(5);
  expect(linearizabilityProblem(history)).toBeNull();
  const counts = statusCounts(history);
  expect(counts.ok).toBeGreaterThan(history.length / 2);
}

/** The cluster's leader slot. */
function leader(t: TestCluster): Promise<number> {
  return t.cluster.waitForLeader(15_000);
}

/** One request to a node, no redirects followed. */
function request(
  t: TestCluster,
  slot: number,
  method: string,
  path: string,
  body?: string,
  headers: Record<string, string> = {},
): Promise<HttpAnswer> {
  return httpRequest(t.cluster.url(slot) + path, method, { body, headers, timeoutMs: 5_000 });
}

test('the HTTP protocol: redirects, retried writes applied once, errors, no leader, SIGTERM', async () => {
  const t = await startCluster(3);
  const l = await leader(t);
  const follower = [0, 1, 2].find((s) => s !== l)!;
  const get = await request(t, follower, 'GET', '/kv/x');
  expect(get.status).toBe(307);
  expect(get.headers.location).toBe(`${t.cluster.url(l)}/kv/x`);
  const put = await request(t, follower, 'PUT', '/kv/x', 'a');
  expect(put.status).toBe(307);
  // The same write twice (a client retrying after a lost answer): applied once, same answer.
  const as = (seq: number): Record<string, string> => ({ 'x-client': 'tester', 'x-seq': String(seq) });
  for (let i = 0; i < 2; i++) {
    expect((await request(t, l, 'PUT', '/kv/x', 'a', as(1))).json).toMatchObject({ ok: true, prev: null, value: 'a' });
  }
  for (let i = 0; i < 2; i++) {
    expect((await request(t, l, 'POST', '/kv/x/append', '!', as(2))).json).toMatchObject({ value: 'a!' });
  }
  expect((await request(t, l, 'GET', '/kv/x')).json).toEqual({ key: 'x', value: 'a!' });
  const stale = await request(t, l, 'PUT', '/kv/x', 'late', as(1));
  expect(stale.status).toBe(409);
  expect(stale.json).toMatchObject({ error: 'staleSeq', outcome: 'notApplied' });
  // cas: JSON body; a mismatch is an answer, not an error.
  const cas = (body: string): Promise<HttpAnswer> =>
    request(t, l, 'POST', '/kv/x/cas', body, { 'content-type': 'application/json' });
  expect((await cas('{"expected":"zzz","value":"b"}')).json).toMatchObject({ ok: false, value: 'a!' });
  expect((await cas('{"expected":"a!","value":"b"}')).json).toMatchObject({ ok: true, value: 'b' });
  expect((await cas('{"expected":null,"value":"c"}')).json).toMatchObject({ ok: false, value: 'b' });
  expect((await cas('not json')).status).toBe(400);
  expect((await request(t, l, 'DELETE', '/kv/x')).json).toMatchObject({ ok: true, prev: 'b', value: null });
  expect((await request(t, l, 'GET', '/kv/x')).status).toBe(404);
  expect((await request(t, l, 'GET', '/nope')).status).toBe(404);
  expect((await request(t, l, 'PUT', '/kv/x', 'v', { 'x-seq': 'abc' })).status).toBe(400);
  const status = await request(t, follower, 'GET', '/status');
  expect(status.json).toMatchObject({ id: nodeId(follower), role: 'follower', leader: nodeId(l) });
  // SIGTERM on the leader: it hands leadership over and exits 0.
  expect(await t.cluster.stop(l)).toBe(0);
  const next = await leader(t);
  expect(next).not.toBe(l);
  // One node left of three: no leader, 503.
  await t.cluster.kill(next);
  const last = [0, 1, 2].find((s) => s !== l && s !== next)!;
  await t.cluster.waitForStatus(last, (s) => s.leader === null, 'losing the leader');
  const lonely = await request(t, last, 'PUT', '/kv/x', 'v');
  expect(lonely.status).toBe(503);
  expect(lonely.json).toMatchObject({ error: 'noLeader', outcome: 'notApplied' });
  await t.teardown();
});

test('kill -9 the leader during writes, restart it from its files', async () => {
  const t = await startCluster(3, { snapshotEvery: 100 });
  const ledger = new Ledger().start(t.urls);
  let stop = false;
  const load = workload(t, 4, 100_000, BASE_SEED, () => stop);
  await sleep(400);
  const first = await leader(t);
  await t.cluster.kill(first);
  await sleep(700);
  const second = await leader(t);
  expect(second).not.toBe(first);
  await t.cluster.spawn(first);
  await sleep(500);
  stop = true;
  const history = await load;
  await ledger.stop();
  await finish(t, history, ledger);
  // The restarted node caught up.
  const commit = (await t.cluster.status(second))!.commitIndex;
  await t.cluster.waitForStatus(first, (s) => s.appliedIndex >= commit, 'catching up');
  await t.teardown();
});

test('kill -9 every node during writes, restart them all: nothing acknowledged is lost', async () => {
  const t = await startCluster(3, { snapshotEvery: 50 });
  // The clients keep every node's address while all are down (and retry until they are back).
  const all = (): string[] => [0, 1, 2].map((s) => t.cluster.url(s));
  const ledger = new Ledger().start(all);
  let stop = false;
  const load = runWorkload({ urls: all, clients: 4, ops: 100_000, keys: KEYS, seed: BASE_SEED + 1, stop: () => stop });
  await sleep(500);
  await Promise.all([0, 1, 2].map((s) => t.cluster.kill(s)));
  expect(t.cluster.running()).toEqual([]);
  await sleep(300);
  await Promise.all([0, 1, 2].map((s) => t.cluster.spawn(s)));
  await leader(t);
  await sleep(500);
  stop = true;
  const history = await load;
  await ledger.stop();
  await finish(t, history, ledger);
  await t.teardown();
});

test('a wiped node rejoins under a new id and catches up through a snapshot', async () => {
  const t = await startCluster(3, { snapshotEvery: 40 });
  const ledger = new Ledger().start(t.urls);
  const history = await workload(t, 4, 300, BASE_SEED + 3);
  // Wipe a follower: kill it, delete its files, remove it from the cluster.
  const l = await leader(t);
  const wiped = [0, 1, 2].find((s) => s !== l)!;
  await t.cluster.kill(wiped);
  t.cluster.wipe(wiped);
  const admin = new KvClient({ urls: t.urls, deadlineMs: 30_000 });
  const removed = await admin.admin('POST', '/admin/members', { remove: nodeId(wiped) });
  expect(removed.status).toBe(200);
  history.push(...(await workload(t, 4, 100, BASE_SEED + 4)));
  // A fresh node under a new id joins, as a non-voter first, then as a voter.
  await t.cluster.spawn(3);
  const added = await admin.admin('POST', '/admin/members', { add: 'n3' });
  expect(added.status).toBe(200);
  expect((added.json as { members: { voters: string[] } }).members.voters).toContain('n3');
  const commit = (await t.cluster.status(await leader(t)))!.commitIndex;
  const joined = await t.cluster.waitForStatus(3, (s) => s.appliedIndex >= commit, 'n3 catching up');
  expect(joined.stats.snapshots.snapshotsInstalled).toBeGreaterThanOrEqual(1);
  // Kill the other original follower: the quorum now needs n3. Then let n3 lead and serve.
  const other = [0, 1, 2].find((s) => s !== wiped && s !== l)!;
  await t.cluster.kill(other);
  history.push(...(await workload(t, 2, 60, BASE_SEED + 5)));
  const moved = await admin.admin('POST', '/admin/transfer', { to: 'n3' });
  expect(moved.status).toBe(200);
  expect(await leader(t)).toBe(3);
  await ledger.stop();
  admin.close();
  await finish(t, history, ledger);
  await t.teardown();
});

test('add a node and remove the leader while clients are writing', async () => {
  const t = await startCluster(3, { snapshotEvery: 100 });
  const ledger = new Ledger().start(t.urls);
  let stop = false;
  const load = workload(t, 4, 100_000, BASE_SEED + 6, () => stop);
  const admin = new KvClient({ urls: t.urls, deadlineMs: 30_000 });
  await sleep(200);
  await t.cluster.spawn(3);
  const added = await admin.admin('POST', '/admin/members', { add: 'n3' });
  expect(added.status).toBe(200);
  const old = await leader(t);
  const removed = await admin.admin('POST', '/admin/members', { remove: nodeId(old) });
  expect(removed.status).toBe(200);
  expect((removed.json as { members: { voters: string[] } }).members.voters).not.toContain(nodeId(old));
  expect(await t.cluster.stop(old)).toBe(0);
  await sleep(500);
  stop = true;
  const history = await load;
  expect(await leader(t)).not.toBe(old);
  await ledger.stop();
  admin.close();
  await finish(t, history, ledger);
  await t.teardown();
});
