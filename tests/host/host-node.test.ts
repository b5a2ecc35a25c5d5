/**
 * `createHost` on the Node implementations: three hosts on `TcpTransport` (127.0.0.1) and
 * `FileStorage` (a temporary directory each), on real time with short timers. A cluster forms,
 * commits and reads; a follower is stopped, the log is compacted past it, and it restarts from its
 * files and catches up through a snapshot streamed over TCP.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHost, type HostOptions } from '../../src/host/host.js';
import { seededRandom } from '../../src/host/memory-transport.js';
import type { PeerAddress } from '../../src/host/transport.js';
import { FileStorage } from '../../src/node/file-storage.js';
import { TcpTransport } from '../../src/node/tcp-transport.js';
import { BASE_SEED } from '../support/seed.js';
import { KvMachine, printSeed, set, type KvHost } from './support-host.js';

const HOST = '127.0.0.1';
const SEED = BASE_SEED;
printSeed('host-node', SEED);

/** A port free right now (the OS picks it; closed again before use). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen({ host: HOST, port: 0 }, () => {
      const a = server.address() as net.AddressInfo;
      server.close(() => resolve(a.port));
    });
  });
}

/** Wait (real time) until `pred()` holds; throws after `ms`. */
async function until(pred: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > end) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const OPTIONS: HostOptions = {
  heartbeatMs: 20,
  node: { electionTimeoutTicks: 5 },
  snapshot: { everyEntries: 10 },
  snapshotChunkBytes: 64,
};

describe('createHost on TcpTransport and FileStorage', () => {
  const ids = ['n1', 'n2', 'n3'];
  let dir = '';
  let addresses: Record<string, PeerAddress> = {};
  const hosts = new Map<string, KvHost>();
  const machines = new Map<string, KvMachine>();
  let starts = 0;

  async function start(id: string): Promise<KvHost> {
    const machine = new KvMachine();
    machines.set(id, machine);
    const host = await createHost({
      id,
      storage: await FileStorage.open(join(dir, id)),
      transport: new TcpTransport({
        id,
        listen: addresses[id]!,
        backoff: { minMs: 5, maxMs: 40 },
        connectTimeoutMs: 1_000,
        // A short queue: frames for a peer that is down are mostly dropped, as on a long outage
        // (otherwise the restarted follower would catch up from the frames queued for it).
        maxQueueFrames: 4,
      }),
      stateMachine: machine,
      options: { ...OPTIONS, peerAddresses: addresses },
      random: seededRandom(SEED + ++starts),
    });
    hosts.set(id, host);
    return host;
  }

  function leader(): KvHost | undefined {
    return [...hosts.values()].find((h) => h.status().role === 'leader' && h.status().halted === null);
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'raftstep-host-'));
    addresses = {};
    for (const id of ids) addresses[id] = { host: HOST, port: await freePort() };
  });

  afterAll(async () => {
    for (const h of hosts.values()) await h.stop();
    await rm(dir, { recursive: true, force: true });
  });

  test('forms, commits, reads, and a restarted follower catches up from its files and a snapshot', async () => {
    for (const id of ids) await start(id);
    await hosts.get('n1')!.createCluster(ids);
    await until(() => leader() !== undefined, 5_000, 'a leader');
    let l = leader()!;
    expect(await l.propose(set('a', '1'))).toBeNull();
    expect(await l.propose(set('a', '2'))).toBe('1');
    const follower = [...hosts.values()].find((h) => h !== l)!;
    expect(await follower.read('a')).toBe('2');

    await follower.stop();
    hosts.delete(follower.id);
    for (let i = 0; i < 30; i++) {
      l = leader()!;
      await l.propose(set(`k${i}`, String(i)));
    }
    l = leader()!;
    expect(l.status().snapshotIndex).toBeGreaterThan(5);

    const back = await start(follower.id);
    const commit = l.status().commitIndex;
    await until(() => back.status().appliedIndex >= commit, 5_000, 'the restarted follower catching up');
    expect(machines.get(follower.id)!.dump()).toBe(machines.get(l.id)!.dump());
    expect(back.status().stats.snapshots.snapshotsInstalled).toBe(1);
    expect(l.status().stats.snapshots.chunksSent).toBeGreaterThan(3);
    expect(await back.read('k29')).toBe('29');
  });
});
