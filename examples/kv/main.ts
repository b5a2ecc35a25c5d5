/**
 * `npm run kv`: start a local kv cluster, one process per node, and drive it from the keyboard.
 *
 *     npm run kv -- --nodes 3 --base-port 7000 --data-dir /tmp/kv
 *       [--raft-base-port 7100] [--heartbeat-ms 50] [--election-ticks 10] [--snapshot-every 10000]
 *
 * A new data directory forms a new cluster of n0..n<nodes-1>; an existing one is restarted: the
 * members this launcher last knew (kept in <data-dir>/launcher.json as nodes are added and
 * removed), or else every node-<i> directory in it and the first `--nodes` slots. The nodes'
 * output is shown here. Type:
 *
 *     status             every node's role, term, indices and members
 *     kill n1            kill -9 a node            restart n1   start it again from its files
 *     pause n1           SIGSTOP it                resume n1    SIGCONT it
 *     stop n1            SIGTERM it (graceful)
 *     add                start a fresh node in the next free slot and add it to the cluster
 *     remove n1          remove a node from the cluster, then stop it
 *     wipe n1            delete a stopped node's files (it may then only rejoin under a new id: add)
 *     quit               stop every node (gracefully) and exit; so do Ctrl-C and SIGTERM
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { KvClient } from './client.js';
import { LocalCluster, describeSlot } from './cluster.js';
import {
  USAGE_EXIT_CODE,
  UsageError,
  httpUrl,
  intFlag,
  nodeId,
  parseFlags,
  slotOf,
  stringFlag,
  type FlagSpec,
  type Topology,
} from './topology.js';

/** The flags of this command. */
const FLAGS: FlagSpec = {
  nodes: 'value',
  'base-port': 'value',
  'data-dir': 'value',
  host: 'value',
  'raft-base-port': 'value',
  'heartbeat-ms': 'value',
  'election-ticks': 'value',
  'snapshot-every': 'value',
};

/** The slots whose data directories exist under `dataDir`. */
function existingSlots(dataDir: string): number[] {
  if (!existsSync(dataDir)) return [];
  return readdirSync(dataDir)
    .map((name) => /^node-(\d+)$/.exec(name))
    .filter((m) => m !== null)
    .map((m) => Number(m[1]))
    .sort((a, b) => a - b);
}

/** The file where the launcher keeps the member slots. */
function membersFile(dataDir: string): string {
  return join(dataDir, 'launcher.json');
}

/** The member slots saved in `dataDir`, or null. */
function savedMembers(dataDir: string): number[] | null {
  try {
    const saved = JSON.parse(readFileSync(membersFile(dataDir), 'utf8')) as { members?: unknown };
    return Array.isArray(saved.members) ? saved.members.filter((m): m is number => Number.isSafeInteger(m)) : null;
  } catch {
    return null;
  }
}

/** Save the member slots in `dataDir`. */
function saveMembers(dataDir: string, members: ReadonlySet<number>): void {
  const list = [...members].sort((a, b) => a - b);
  writeFileSync(membersFile(dataDir), JSON.stringify({ members: list }) + '\n');
}

/** Print every running node's status line. */
async function printStatus(cluster: LocalCluster): Promise<void> {
  for (const slot of cluster.running()) {
    if (cluster.isPaused(slot)) {
      console.log(`  ${nodeId(slot)} paused`);
      continue;
    }
    const s = await cluster.status(slot);
    console.log(
      s === null
        ? `  ${nodeId(slot)} not answering`
        : `  ${s.id} ${s.role} term ${s.term} commit ${s.commitIndex} applied ${s.appliedIndex} snapshot ${s.snapshotIndex} voters ${s.members.voters.join(',')}`,
    );
  }
}

/** A client that talks to the running nodes. */
function clientFor(cluster: LocalCluster): KvClient {
  return new KvClient({ urls: () => cluster.running().map((s) => cluster.url(s)), deadlineMs: 90_000 });
}

/** The launcher's bookkeeping: the member slots, and every slot ever used (never reused). */
interface Book {
  readonly dataDir: string;
  readonly members: Set<number>;
  readonly used: Set<number>;
}

/** Start a fresh node in the next slot never used and add it. */
async function addNode(cluster: LocalCluster, book: Book): Promise<void> {
  let slot = 0;
  while (book.used.has(slot) || existsSync(join(book.dataDir, `node-${slot}`))) slot++;
  book.used.add(slot);
  await cluster.spawn(slot);
  console.log(`started ${describeSlot(cluster.topology, slot)}; adding it`);
  const client = clientFor(cluster);
  const a = await client.admin('POST', '/admin/members', { add: nodeId(slot) });
  client.close();
  console.log(`${a.status} ${JSON.stringify(a.json)}`);
  if (a.status !== 200) return;
  book.members.add(slot);
  saveMembers(book.dataDir, book.members);
}

/** Remove a node from the cluster, then stop it. */
async function removeNode(cluster: LocalCluster, book: Book, slot: number): Promise<void> {
  const client = clientFor(cluster);
  const a = await client.admin('POST', '/admin/members', { remove: nodeId(slot) });
  client.close();
  console.log(`${a.status} ${JSON.stringify(a.json)}`);
  if (a.status !== 200) return;
  book.members.delete(slot);
  saveMembers(book.dataDir, book.members);
  await cluster.stop(slot);
}

/** Carry out one typed command. */
async function perform(cluster: LocalCluster, book: Book, line: string): Promise<void> {
  const [cmd, arg] = line.trim().split(/\s+/);
  const slot = arg === undefined ? undefined : slotOf(arg);
  if (cmd === undefined || cmd === '') return;
  if (cmd === 'status') return printStatus(cluster);
  if (cmd === 'add') return addNode(cluster, book);
  if (slot === undefined) {
    console.log('commands: status, kill|restart|pause|resume|stop|remove|wipe n<i>, add, quit');
    return;
  }
  switch (cmd) {
    case 'kill':
      return cluster.kill(slot);
    case 'restart':
      return cluster.spawn(slot);
    case 'pause':
      return cluster.pause(slot);
    case 'resume':
      return cluster.resume(slot);
    case 'stop':
      console.log(`${nodeId(slot)} exited: ${String(await cluster.stop(slot))}`);
      return;
    case 'remove':
      return removeNode(cluster, book, slot);
    case 'wipe':
      return cluster.wipe(slot);
    default:
      console.log(`unknown command ${cmd}`);
  }
}

/** Start the cluster and serve the keyboard until quit (see the module comment). */
async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2), FLAGS);
  const nodes = intFlag(flags, 'nodes', 3, 1);
  const basePort = intFlag(flags, 'base-port', 7000, 1);
  const dataDir = stringFlag(flags, 'data-dir', '');
  if (dataDir === '') throw new UsageError('usage: npm run kv -- --nodes 3 --base-port 7000 --data-dir DIR');
  const topology: Topology = {
    host: stringFlag(flags, 'host', '127.0.0.1'),
    basePort,
    raftBasePort: intFlag(flags, 'raft-base-port', basePort + 100, 1),
    dataDir,
  };
  const existing = existingSlots(dataDir);
  mkdirSync(dataDir, { recursive: true });
  const first = Array.from({ length: nodes }, (_, i) => i);
  const slots = existing.length === 0 ? first : (savedMembers(dataDir) ?? [...new Set([...first, ...existing])]);
  slots.sort((a, b) => a - b);
  const cluster = new LocalCluster({
    topology,
    serverScript: join(__dirname, 'server.js'),
    heartbeatMs: intFlag(flags, 'heartbeat-ms', 50, 1),
    electionTicks: intFlag(flags, 'election-ticks', 10, 2),
    snapshotEvery: intFlag(flags, 'snapshot-every', 10_000, 1),
    output: 'inherit',
  });
  const book: Book = { dataDir, members: new Set(slots), used: new Set([...slots, ...existing]) };
  saveMembers(dataDir, book.members);
  let quitting = false;
  const quit = async (): Promise<void> => {
    if (quitting) return;
    quitting = true;
    console.log('stopping every node');
    await cluster.stopAll();
    process.exit(0);
  };
  process.on('SIGINT', () => void quit());
  process.on('SIGTERM', () => void quit());
  await cluster.start(slots, existing.length === 0);
  console.log(existing.length === 0 ? `formed a new cluster in ${dataDir}:` : `restarted the cluster in ${dataDir}:`);
  for (const slot of slots) console.log(`  ${describeSlot(topology, slot)}`);
  console.log(
    `leader: ${nodeId(await cluster.waitForLeader())}. Try: node build/examples/kv/client.js --base-port ${basePort} put greeting hello`,
  );
  console.log(
    `or curl -s ${httpUrl(topology, 0)}/status. Commands: status, kill|restart|pause|resume|stop|remove|wipe n<i>, add, quit`,
  );
  const rl = createInterface({ input: process.stdin });
  let queue = Promise.resolve();
  rl.on('line', (line) => {
    if (['quit', 'exit'].includes(line.trim())) {
      void quit();
      return;
    }
    queue = queue
      .then(() => perform(cluster, book, line))
      .catch((e: unknown) => console.log(`error: ${(e as Error).message}`));
  });
}

main().catch((e: unknown) => {
  console.error(e instanceof UsageError ? `kv: ${e.message}` : e instanceof Error ? e.message : e);
  process.exit(e instanceof UsageError ? USAGE_EXIT_CODE : 1);
});
