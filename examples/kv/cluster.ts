/**
 * A local kv cluster as child processes: start nodes (child_process.fork of the compiled
 * ./server.js), kill -9 them, pause and resume them (SIGSTOP, SIGCONT), restart them from their
 * data directories, wipe them, stop them gracefully (SIGTERM), and ask them for their status.
 * Used by the launcher (`npm run kv`), the load tool, the benchmark and the end-to-end tests.
 *
 * No orphans: every child is forked with an IPC channel and shuts itself down when the channel
 * closes (its launcher died, even by kill -9); and the launcher kills every child it still has when
 * it exits. A paused child cannot notice its launcher dying, so `stopAll` resumes before it stops.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, rmSync } from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import { join } from 'node:path';
import { httpUrl, nodeDir, nodeId, raftAddress, slotOf, type Topology } from './topology.js';

/** How to run the nodes. */
export interface ClusterOptions {
  readonly topology: Topology;
  /** The compiled server script (build/examples/kv/server.js, or a test's build). */
  readonly serverScript: string;
  /** Node tuning, passed on each node's command line. */
  readonly heartbeatMs?: number;
  readonly electionTicks?: number;
  readonly snapshotEvery?: number;
  readonly requestTimeoutMs?: number;
  /**
   * Where the nodes' output goes: 'inherit' (this process's, each line prefixed by the node),
   * 'files' (`<dataDir>/node-<i>.log`, appended), or 'ignore'. Default 'files'.
   */
  readonly output?: 'inherit' | 'files' | 'ignore';
  /** More flags for every node's command line (e.g. --unsafe-local-reads). */
  readonly extraArgs?: readonly string[];
  /** How long a node may take to report ready. Default 15 s. */
  readonly readyTimeoutMs?: number;
}

/** A node process of the cluster. */
interface NodeProcess {
  readonly slot: number;
  readonly child: ChildProcess;
  readonly exited: Promise<number | string>;
  paused: boolean;
}

/** What GET /status answers (the fields the tools use). */
export interface NodeStatus {
  readonly id: string;
  readonly role: string;
  readonly term: number;
  readonly leader: string | null;
  readonly commitIndex: number;
  readonly appliedIndex: number;
  readonly snapshotIndex: number;
  readonly members: { voters: string[]; newVoters: string[]; nonVoters: string[] };
  readonly stats: { snapshots: { snapshotsInstalled: number; snapshotsTaken: number } };
}

/** Child processes alive across every cluster of this process, killed on exit. */
const everyChild = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kill every child still running (synchronous: for process exit). */
export function killAllChildren(): void {
  for (const child of everyChild) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  everyChild.clear();
}

/** Make sure children die with this process (on exit, and on SIGINT/SIGTERM when nobody else handles them). */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', killAllChildren);
}

/** A local cluster (see the module comment). Slots are node numbers: node n<i> is slot i. */
export class LocalCluster {
  private readonly nodes = new Map<number, NodeProcess>();
  private readonly agent = new http.Agent({ keepAlive: false });

  constructor(readonly options: ClusterOptions) {
    installExitHook();
  }

  /** The cluster's layout. */
  get topology(): Topology {
    return this.options.topology;
  }

  /** The slots with a running (possibly paused) process. */
  running(): number[] {
    return [...this.nodes.keys()].sort((a, b) => a - b);
  }

  /** True when slot `slot` has a process. */
  isRunning(slot: number): boolean {
    return this.nodes.has(slot);
  }

  /** True when slot `slot`'s process is paused (SIGSTOP). */
  isPaused(slot: number): boolean {
    return this.nodes.get(slot)?.paused ?? false;
  }

  /** The pid of slot `slot`'s process, if running. */
  pid(slot: number): number | undefined {
    return this.nodes.get(slot)?.child.pid;
  }

  /** The HTTP base URL of slot `slot`. */
  url(slot: number): string {
    return httpUrl(this.topology, slot);
  }

  /** Start slots `slots` (a new cluster of them when `bootstrap`: slot 0 of the list forms it). */
  async start(slots: readonly number[], bootstrap: boolean): Promise<void> {
    const voters = slots.map(nodeId);
    await Promise.all(slots.map((slot, k) => this.spawn(slot, bootstrap && k === 0 ? voters : null)));
  }

  /**
   * Start slot `slot`'s process from its data directory (fresh when there is none), and wait until
   * it serves. `bootstrap`: the voters of a new cluster to form (see server.ts).
   */
  async spawn(slot: number, bootstrap: readonly string[] | null = null): Promise<void> {
    if (this.nodes.has(slot)) throw new Error(`${nodeId(slot)} is already running`);
    const o = this.options;
    const t = o.topology;
    const args = [
      ['--id', nodeId(slot)],
      ['--base-port', String(t.basePort)],
      ['--raft-base-port', String(t.raftBasePort)],
      ['--host', t.host],
      ['--data-dir', t.dataDir],
      t.proxyBasePort === undefined ? [] : ['--proxy-base-port', String(t.proxyBasePort)],
      bootstrap === null ? [] : ['--bootstrap', bootstrap.join(',')],
      o.heartbeatMs === undefined ? [] : ['--heartbeat-ms', String(o.heartbeatMs)],
      o.electionTicks === undefined ? [] : ['--election-ticks', String(o.electionTicks)],
      o.snapshotEvery === undefined ? [] : ['--snapshot-every', String(o.snapshotEvery)],
      o.requestTimeoutMs === undefined ? [] : ['--request-timeout-ms', String(o.requestTimeoutMs)],
      o.extraArgs ?? [],
    ].flat();
    const output = o.output ?? 'files';
    const fd = output === 'files' ? openSync(join(t.dataDir, `node-${slot}.log`), 'a') : null;
    const stdio = output === 'inherit' ? 'pipe' : fd === null ? 'ignore' : fd;
    let child: ChildProcess;
    try {
      child = fork(o.serverScript, args, { execArgv: [], stdio: ['ignore', stdio, stdio, 'ipc'] });
    } finally {
      if (fd !== null) closeSync(fd);
    }
    everyChild.add(child);
    if (output === 'inherit') {
      child.stdout?.pipe(process.stdout);
      child.stderr?.pipe(process.stderr);
    }
    const exited = new Promise<number | string>((resolve) =>
      child.once('exit', (code, signal) => {
        everyChild.delete(child);
        if (this.nodes.get(slot)?.child === child) this.nodes.delete(slot);
        resolve(signal ?? code ?? 0);
      }),
    );
    this.nodes.set(slot, { slot, child, exited, paused: false });
    await this.ready(slot, child, exited);
  }

  /** Wait for `child`'s ready message; kill it and reject when it exits or times out first. */
  private ready(slot: number, child: ChildProcess, exited: Promise<number | string>): Promise<void> {
    const ms = this.options.readyTimeoutMs ?? 15_000;
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${nodeId(slot)} did not start within ${ms} ms`));
      }, ms);
      child.on('message', (m: { type?: string }) => {
        if (m?.type !== 'ready') return;
        clearTimeout(timer);
        resolve();
      });
      void exited.then((how) => {
        clearTimeout(timer);
        reject(new Error(`${nodeId(slot)} exited (${how}) before it was ready; see its log`));
      });
    });
  }

  /** kill -9 slot `slot` and wait until it is gone. */
  async kill(slot: number): Promise<void> {
    const node = this.nodes.get(slot);
    if (node === undefined) return;
    node.child.kill('SIGKILL');
    await node.exited;
  }

  /** Pause slot `slot` (SIGSTOP). */
  pause(slot: number): void {
    const node = this.nodes.get(slot);
    if (node === undefined || node.paused) return;
    node.child.kill('SIGSTOP');
    node.paused = true;
  }

  /** Resume slot `slot` (SIGCONT). */
  resume(slot: number): void {
    const node = this.nodes.get(slot);
    if (node === undefined || !node.paused) return;
    node.child.kill('SIGCONT');
    node.paused = false;
  }

  /**
   * Stop slot `slot` gracefully (SIGTERM), kill -9 it after `ms`; resolves once it is gone, with its
   * exit code (or the signal that ended it; null when it was not running).
   */
  async stop(slot: number, ms = 8_000): Promise<number | string | null> {
    const node = this.nodes.get(slot);
    if (node === undefined) return null;
    this.resume(slot);
    node.child.kill('SIGTERM');
    const timer = setTimeout(() => node.child.kill('SIGKILL'), ms);
    const how = await node.exited;
    clearTimeout(timer);
    return how;
  }

  /** Delete slot `slot`'s data directory (its process must be gone). */
  wipe(slot: number): void {
    if (this.nodes.has(slot)) throw new Error(`${nodeId(slot)} is running`);
    rmSync(nodeDir(this.topology, slot), { recursive: true, force: true });
  }

  /** Stop every node (resumed first), gracefully unless `kill`. */
  async stopAll(kill = false): Promise<void> {
    await Promise.all(this.running().map((slot) => (kill ? (this.resume(slot), this.kill(slot)) : this.stop(slot))));
  }

  /** GET /status of slot `slot`, or null when it does not answer within `ms`. */
  status(slot: number, ms = 1_000): Promise<NodeStatus | null> {
    return new Promise((resolve) => {
      const req = http.get(`${this.url(slot)}/status`, { agent: this.agent, timeout: ms }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          try {
            resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as NodeStatus);
          } catch {
            resolve(null);
          }
        });
        res.on('error', () => resolve(null));
      });
      req.on('timeout', () => req.destroy());
      req.on('error', () => resolve(null));
    });
  }

  /** The slot of the node that leads (by its own status), or null. */
  async leader(): Promise<number | null> {
    const candidates = this.running().filter((s) => !this.isPaused(s));
    const statuses = await Promise.all(candidates.map((s) => this.status(s)));
    let best: NodeStatus | null = null;
    for (const st of statuses)
      if (st !== null && st.role === 'leader' && (best === null || st.term > best.term)) best = st;
    return best === null ? null : (slotOf(best.id) ?? null);
  }

  /** Wait until some running node leads; its slot. Throws after `ms`. */
  async waitForLeader(ms = 15_000): Promise<number> {
    const end = Date.now() + ms;
    for (;;) {
      const l = await this.leader();
      if (l !== null) return l;
      if (Date.now() > end) throw new Error(`no leader within ${ms} ms`);
      await sleep(50);
    }
  }

  /** Wait until `pred` holds of slot `slot`'s status. Throws after `ms`. */
  async waitForStatus(slot: number, pred: (s: NodeStatus) => boolean, what: string, ms = 15_000): Promise<NodeStatus> {
    const end = Date.now() + ms;
    for (;;) {
      const s = await this.status(slot);
      if (s !== null && pred(s)) return s;
      if (Date.now() > end) throw new Error(`${nodeId(slot)}: ${what} did not happen within ${ms} ms`);
      await sleep(50);
    }
  }
}

/** Resolve after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** True when `port` on `host` can be listened on right now. */
function portFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

/**
 * A base port B such that B .. B + span - 1 are all free on `host` now (tried from random bases
 * between 20000 and 60000). For tests and the load tool: pick a layout no other run is using.
 */
export async function findFreePortRange(host: string, span: number, attempts = 50): Promise<number> {
  for (let a = 0; a < attempts; a++) {
    const base = 20_000 + Math.floor(Math.random() * (40_000 - span));
    let free = true;
    for (let p = base; p < base + span && free; p++) free = await portFree(host, p);
    if (free) return base;
  }
  throw new Error(`no ${span} consecutive free ports found`);
}

/** The topology of a cluster on free ports: HTTP at B, Raft at B + 100, a proxy grid at B + 200 when asked. */
export async function freeTopology(dataDir: string, proxy = false, host = '127.0.0.1'): Promise<Topology> {
  const base = await findFreePortRange(host, proxy ? 200 + 16 * 16 : 120);
  return {
    host,
    basePort: base,
    raftBasePort: base + 100,
    dataDir,
    ...(proxy ? { proxyBasePort: base + 200 } : {}),
  };
}

/** The node ids `raftAddress` knows, for messages: slot `slot` as `n<i> (raft host:port)`. */
export function describeSlot(t: Topology, slot: number): string {
  const a = raftAddress(t, slot);
  return `${nodeId(slot)} (${httpUrl(t, slot)}, raft ${a.host}:${a.port})`;
}
