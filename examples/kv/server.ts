/**
 * kv — a replicated key-value service on raftstep: one process per node, each a `createHost` over
 * `FileStorage` (fsync'd files) and `TcpTransport`, serving HTTP with node:http.
 *
 * Run a local three-node cluster (each node a separate process; Ctrl-C stops them all):
 *
 *     npm run kv -- --nodes 3 --base-port 7000 --data-dir /tmp/kv
 *
 * Node n<i> serves HTTP on 7000 + i, Raft on 7100 + i (`--raft-base-port`), and keeps its files in
 * /tmp/kv/node-<i>; run it again with the same directory and the cluster comes back with its data.
 * Then, with curl or the bundled client (it follows redirects and retries):
 *
 *     node build/examples/kv/client.js put greeting hello          # PUT    /kv/greeting
 *     node build/examples/kv/client.js append greeting ', world'   # POST   /kv/greeting/append
 *     node build/examples/kv/client.js cas greeting 'hello, world' bye   # POST /kv/greeting/cas
 *     node build/examples/kv/client.js get greeting                # GET    /kv/greeting (linearizable)
 *     node build/examples/kv/client.js delete greeting             # DELETE /kv/greeting
 *     curl -s localhost:7000/status                                # role, term, indices, members, counters
 *
 * A follower answers with a 307 redirect to the leader (503 when no leader is known). Writes carry
 * `x-client` and `x-seq` headers and are deduplicated inside the replicated state machine, so a
 * client can retry a write whose answer it lost without applying it twice (./machine.ts). The routes
 * and error codes are in ./service.ts.
 *
 * Membership, while serving: start a node with an unused slot (it starts empty and waits for the
 * leader), then ask any node to add it — it joins as a non-voter, catches up (through a snapshot if
 * the log was compacted), and is promoted; remove a node the same way, then stop it:
 *
 *     node build/examples/kv/server.js --id n3 --base-port 7000 --data-dir /tmp/kv &
 *     node build/examples/kv/client.js members add n3
 *     node build/examples/kv/client.js members remove n0
 *
 * (In `npm run kv`, type `add` or `remove n0` instead: the launcher does both steps.) A node whose
 * files were lost must rejoin under a new id: remove the old one, add a new one.
 *
 * This file is one node's process: `node build/examples/kv/server.js --id n<i> --base-port P
 * --data-dir DIR [--raft-base-port R] [--bootstrap n0,n1,n2] [--heartbeat-ms 50]
 * [--election-ticks 10] [--snapshot-every 10000] [--request-timeout-ms 3000]
 * [--fsync threadPool|blocking] [--unsafe-local-reads]`. `--unsafe-local-reads` breaks
 * linearizability on purpose — every node answers reads from its own state at once — so that
 * `kv:load` can show the checker catching stale reads. `--fsync` says where the WAL's fsyncs run
 * (`FileStorageOptions.fsync`): `threadPool` (default) lets the event loop go on during each fsync;
 * `blocking` saves a thread-pool round trip per write, which made one writing client 5-35 % faster
 * here, but halved the rate of 16 and 256 clients, whose requests wait while the loop is blocked.
 * `--bootstrap` forms
 * a new cluster of those voters from this node if its storage is fresh (give it to one node of a
 * new cluster, once). SIGTERM (or SIGINT) shuts it down gracefully: it stops taking requests, hands
 * leadership to the most caught-up voter if it leads, stops the host (which finishes its storage
 * write) and exits 0. Started by a launcher over IPC (child_process.fork), it reports
 * `{type: 'ready'}` once it serves, and shuts down when the launcher goes away.
 */
import * as http from 'node:http';
import { followerMatchIndex } from '../../src/index.js';
import { createHost } from '../../src/host/index.js';
import { FileStorage, TcpTransport, type FsyncMode } from '../../src/node/index.js';
import { KvMachine } from './machine.js';
import { createHandler, type KvHost } from './service.js';
import {
  USAGE_EXIT_CODE,
  UsageError,
  boolFlag,
  httpAddress,
  httpUrl,
  intFlag,
  nodeDir,
  parseFlags,
  peerAddress,
  raftAddress,
  slotOf,
  stringFlag,
  type FlagSpec,
  type Flags,
  type Topology,
} from './topology.js';

/** The flags of this command. */
const FLAGS: FlagSpec = {
  id: 'value',
  'data-dir': 'value',
  'base-port': 'value',
  'raft-base-port': 'value',
  'proxy-base-port': 'value',
  host: 'value',
  bootstrap: 'value',
  fsync: 'value',
  'heartbeat-ms': 'value',
  'election-ticks': 'value',
  'snapshot-every': 'value',
  'request-timeout-ms': 'value',
  'unsafe-local-reads': 'switch',
};

/** A node's settings, from its command line. */
export interface ServerSettings {
  readonly id: string;
  readonly slot: number;
  readonly topology: Topology;
  readonly bootstrap: readonly string[] | null;
  readonly heartbeatMs: number;
  readonly electionTicks: number;
  readonly snapshotEvery: number;
  readonly requestTimeoutMs: number;
  /** `--fsync`: where the WAL's fsyncs run (see `FileStorageOptions.fsync`). */
  readonly fsync: FsyncMode;
  /** `--unsafe-local-reads`: deliberately broken reads (see ServiceContext), to test the checker. */
  readonly unsafeLocalReads: boolean;
}

/** The settings in `flags` (see the module comment); throws with a usage message when they are wrong. */
export function serverSettings(flags: Flags): ServerSettings {
  const id = stringFlag(flags, 'id', '');
  const slot = slotOf(id);
  const dataDir = stringFlag(flags, 'data-dir', '');
  if (slot === undefined || dataDir === '' || !flags.values.has('base-port')) {
    throw new UsageError('usage: server.js --id n<i> --base-port PORT --data-dir DIR [options] (see the file header)');
  }
  const basePort = intFlag(flags, 'base-port', 7000, 1);
  const proxy = flags.values.has('proxy-base-port') ? intFlag(flags, 'proxy-base-port', 0, 1) : undefined;
  const bootstrap = flags.values.get('bootstrap');
  const fsync = stringFlag(flags, 'fsync', 'threadPool');
  if (fsync !== 'blocking' && fsync !== 'threadPool') {
    throw new UsageError(`--fsync must be blocking or threadPool, not ${JSON.stringify(fsync)}`);
  }
  return {
    id,
    slot,
    topology: {
      host: stringFlag(flags, 'host', '127.0.0.1'),
      basePort,
      raftBasePort: intFlag(flags, 'raft-base-port', basePort + 100, 1),
      dataDir,
      ...(proxy === undefined ? {} : { proxyBasePort: proxy }),
    },
    bootstrap: bootstrap === undefined ? null : bootstrap.split(',').filter((s) => s !== ''),
    heartbeatMs: intFlag(flags, 'heartbeat-ms', 50, 1),
    electionTicks: intFlag(flags, 'election-ticks', 10, 2),
    snapshotEvery: intFlag(flags, 'snapshot-every', 10_000, 1),
    requestTimeoutMs: intFlag(flags, 'request-timeout-ms', 3_000, 1),
    fsync,
    unsafeLocalReads: boolFlag(flags, 'unsafe-local-reads'),
  };
}

/** Print a line prefixed with the node's id and the time. */
function logger(id: string): (line: string) => void {
  return (line) => console.log(`${new Date().toISOString().slice(11, 23)} ${id} ${line}`);
}

/** Open the node's storage and transport and start its host. */
async function startHost(s: ServerSettings, machine: KvMachine): Promise<KvHost> {
  return createHost({
    id: s.id,
    storage: await FileStorage.open(nodeDir(s.topology, s.slot), { fsync: s.fsync }),
    transport: new TcpTransport({
      id: s.id,
      listen: raftAddress(s.topology, s.slot),
      backoff: { minMs: 20, maxMs: 500 },
      connectTimeoutMs: 1_000,
    }),
    stateMachine: machine,
    options: {
      heartbeatMs: s.heartbeatMs,
      node: { electionTimeoutTicks: s.electionTicks },
      snapshot: { everyEntries: s.snapshotEvery },
      peerAddresses: (peer) => peerAddress(s.topology, s.slot, peer),
    },
  });
}

/** Listen on `port`; rejects on an error (a port in use). */
function listen(server: http.Server, host: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** The voter (not this node) the leader has replicated the most to, or null. */
function handOffTarget(host: KvHost): string | null {
  let best: string | null = null;
  let bestMatch = -1;
  for (const voter of host.status().members.voters) {
    const match = voter === host.id ? null : followerMatchIndex(host.state, voter);
    if (match !== null && match > bestMatch) {
      best = voter;
      bestMatch = match;
    }
  }
  return best;
}

/** If `host` leads, try to hand leadership to another voter (at most `ms`). */
async function handOff(host: KvHost, ms: number, log: (line: string) => void): Promise<void> {
  if (host.status().role !== 'leader') return;
  const to = handOffTarget(host);
  if (to === null) return;
  log(`handing leadership to ${to}`);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
  await Promise.race([host.transferLeadership(to).catch(() => undefined), timeout]);
  clearTimeout(timer);
}

/** Log the node's role and term whenever they change. */
function watchRole(host: KvHost, log: (line: string) => void): void {
  let last = '';
  setInterval(() => {
    const s = host.status();
    const now = `${s.role} in term ${s.term}${s.role === 'follower' && s.leader !== null ? ` (leader ${s.leader})` : ''}`;
    if (now !== last) log(now);
    last = now;
  }, 100).unref();
}

/** Run a node until it is told to stop (see the module comment). */
async function main(): Promise<void> {
  const s = serverSettings(parseFlags(process.argv.slice(2), FLAGS));
  const log = logger(s.id);
  const machine = new KvMachine();
  const host = await startHost(s, machine);
  if (s.bootstrap !== null) {
    await host.createCluster(s.bootstrap).then(
      () => log(`formed a new cluster of ${s.bootstrap!.join(', ')}`),
      () => log('not forming a cluster: the storage is not fresh'),
    );
  }
  const server = http.createServer(
    createHandler({
      host,
      machine,
      topology: s.topology,
      slot: s.slot,
      requestTimeoutMs: s.requestTimeoutMs,
      adminTimeoutMs: 60_000,
      log,
      unsafeLocalReads: s.unsafeLocalReads,
    }),
  );
  server.keepAliveTimeout = 10_000;
  const address = httpAddress(s.topology, s.slot);
  await listen(server, address.host, address.port);
  log(
    `serving ${httpUrl(s.topology, s.slot)}, raft on port ${raftAddress(s.topology, s.slot).port}, pid ${process.pid}`,
  );
  watchRole(host, log);

  let stopping = false;
  const shutdown = async (why: string, code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log(`shutting down (${why})`);
    setTimeout(() => process.exit(code), 5_000).unref();
    server.close();
    server.closeIdleConnections();
    await handOff(host, 1_000, log);
    await host.stop();
    server.closeAllConnections();
    process.exit(code);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM', 0));
  process.on('SIGINT', () => void shutdown('SIGINT', 0));
  void host.stopped.then((info) => {
    if (!stopping) log(`the host halted: ${info.kind}: ${info.reason}`);
    void shutdown('host halted', info.kind === 'stopped' ? 0 : 1);
  });
  if (process.send !== undefined) {
    process.on('disconnect', () => void shutdown('the launcher went away', 0));
    process.send({ type: 'ready', id: s.id, pid: process.pid, url: httpUrl(s.topology, s.slot) });
  }
}

if (require.main === module) {
  main().catch((e: unknown) => {
    console.error(e instanceof UsageError ? `kv server: ${e.message}` : e instanceof Error ? e.message : e);
    process.exit(e instanceof UsageError ? USAGE_EXIT_CODE : 1);
  });
}
