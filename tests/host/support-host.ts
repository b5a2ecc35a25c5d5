/**
 * Test support for `createHost`: a virtual clock, a small key-value state machine, a storage that
 * counts (and can fail) writes, a transport that records what it sends, and an in-process cluster
 * of hosts on `createMemoryNetwork` and `MemoryStorage`, all on virtual time and seeded randomness.
 */
import { createHost, type Host, type HostOptions } from '../../src/host/host.js';
import type { HostEventRecord } from '../../src/host/event-log.js';
import type { StateMachine } from '../../src/host/state-machine.js';
import type { HostClock } from '../../src/host/timers.js';
import { MemoryStorage } from '../../src/host/memory-storage.js';
import {
  createMemoryNetwork,
  seededRandom,
  type MemoryNetwork,
  type MemoryNetworkOptions,
} from '../../src/host/memory-transport.js';
import type { Storage, StorageWrite, StoredNode, StoredSnapshot } from '../../src/host/storage.js';
import type { Deliver, PeerAddress, Transport, TransportStats } from '../../src/host/transport.js';

/** Let every pending microtask, and the I/O callbacks they lead to, run. */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A virtual clock: timers fire only when `advance` moves time past them. */
export class FakeClock implements HostClock {
  private time = 0;
  private seq = 0;
  private readonly timers = new Map<number, { due: number; fn: () => void }>();

  now(): number {
    return this.time;
  }

  setTimeout(fn: () => void, ms: number): unknown {
    const id = ++this.seq;
    this.timers.set(id, { due: this.time + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: unknown): void {
    this.timers.delete(handle as number);
  }

  /** Move time forward by `ms`, firing every timer due on the way (in order), settling between. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms;
    for (;;) {
      await settle();
      let nextId = -1;
      let next: { due: number; fn: () => void } | undefined;
      for (const [id, t] of this.timers) {
        if (t.due <= end && (next === undefined || t.due < next.due || (t.due === next.due && id < nextId))) {
          next = t;
          nextId = id;
        }
      }
      if (next === undefined) break;
      this.timers.delete(nextId);
      this.time = next.due;
      next.fn();
    }
    this.time = end;
    await settle();
  }

  /** Advance in steps of `stepMs` until `pred()` holds; throws after `maxMs` of virtual time. */
  async until(pred: () => boolean, maxMs = 10_000, what = 'the condition', stepMs = 10): Promise<void> {
    const end = this.time + maxMs;
    await settle();
    while (!pred()) {
      if (this.time >= end) throw new Error(`${what} did not happen within ${maxMs} ms of virtual time`);
      await this.advance(stepMs);
    }
  }

  /** Advance until `promise` settles (or `maxMs` passes: throws), and return its outcome. */
  async settled<T>(
    promise: Promise<T>,
    maxMs = 10_000,
  ): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
    let outcome: { ok: true; value: T } | { ok: false; error: unknown } | null = null;
    promise.then(
      (value) => (outcome = { ok: true, value }),
      (error: unknown) => (outcome = { ok: false, error }),
    );
    await this.until(() => outcome !== null, maxMs, 'the promise settling');
    return outcome!;
  }

  /** Advance until `promise` resolves and return its value (rethrows its rejection). */
  async resolve<T>(promise: Promise<T>, maxMs = 10_000): Promise<T> {
    const r = await this.settled(promise, maxMs);
    if (!r.ok) throw r.error;
    return r.value;
  }
}

/** A key-value command. */
export type KvCommand =
  | { readonly op: 'set'; readonly key: string; readonly value: string }
  | { readonly op: 'del'; readonly key: string }
  | { readonly op: 'fail' };

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A key-value store: `set` and `del` return the previous value, `fail` throws. It records the
 * indices it applied, to check that each entry is applied once, in order.
 */
export class KvMachine implements StateMachine<KvCommand, string | null, string, string | null> {
  map = new Map<string, string>();
  /** The indices applied since creation or the last restore. */
  readonly applied: number[] = [];
  restores = 0;

  /** `agreement`, when given, is shared by every replica: the command applied at each index, and disagreements found. */
  constructor(private readonly agreement?: Agreement) {}

  apply(command: KvCommand, index: number): string | null {
    const last = this.applied[this.applied.length - 1];
    if (last !== undefined && index <= last) throw new Error(`applied ${index} after ${last}`);
    this.applied.push(index);
    if (this.agreement !== undefined) {
      const text = JSON.stringify(command);
      const seen = this.agreement.commands.get(index);
      if (seen === undefined) this.agreement.commands.set(index, text);
      else if (seen !== text) this.agreement.violations.push(`index ${index}: ${seen} and ${text}`);
    }
    switch (command.op) {
      case 'set': {
        const previous = this.map.get(command.key) ?? null;
        this.map.set(command.key, command.value);
        return previous;
      }
      case 'del': {
        const previous = this.map.get(command.key) ?? null;
        this.map.delete(command.key);
        return previous;
      }
      case 'fail':
        throw new Error('the command failed');
    }
  }

  query(key: string): string | null {
    return this.map.get(key) ?? null;
  }

  snapshot(): Uint8Array {
    return encoder.encode(JSON.stringify([...this.map].sort()));
  }

  restore(bytes: Uint8Array): void {
    this.map = new Map(JSON.parse(decoder.decode(bytes)) as [string, string][]);
    this.applied.length = 0;
    this.restores++;
  }

  /** The store as sorted JSON, to compare replicas. */
  dump(): string {
    return JSON.stringify([...this.map].sort());
  }
}

/** What replicas applied at each index, to check that they all apply the same command there. */
export interface Agreement {
  readonly commands: Map<number, string>;
  readonly violations: string[];
}

/** A storage wrapper that counts writes and can be told to fail them. */
export class CountingStorage implements Storage {
  writes = 0;
  failWrites: Error | null = null;
  /** When set, every write waits for it first (e.g. a virtual-clock delay: a slow disk). */
  delay: (() => Promise<void>) | null = null;

  constructor(readonly inner: MemoryStorage) {}

  load(): Promise<StoredNode> {
    return this.inner.load();
  }
  async write(batch: readonly StorageWrite[]): Promise<void> {
    this.writes++;
    if (this.delay !== null) await this.delay();
    if (this.failWrites !== null) throw this.failWrites;
    return this.inner.write(batch);
  }
  payloads(from: number, to: number): Promise<readonly Uint8Array[]> {
    return this.inner.payloads(from, to);
  }
  snapshot(): Promise<StoredSnapshot | null> {
    return this.inner.snapshot();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

/** A transport wrapper that records every frame sent (to, bytes). */
export class SpyTransport implements Transport {
  readonly sent: { to: string; frame: Uint8Array }[] = [];

  constructor(readonly inner: Transport) {}

  start(deliver: Deliver): Promise<void> {
    return this.inner.start(deliver);
  }
  send(to: string, frame: Uint8Array): boolean {
    this.sent.push({ to, frame });
    return this.inner.send(to, frame);
  }
  setPeers(peers: Readonly<Record<string, PeerAddress>>): void {
    this.inner.setPeers(peers);
  }
  close(): Promise<void> {
    return this.inner.close();
  }
  stats(): TransportStats {
    return this.inner.stats();
  }
}

/** The host type the tests use. */
export type KvHost = Host<KvCommand, string | null, string, string | null>;

/** Options of a test cluster. */
export interface ClusterOptions {
  /** The seed of every random choice (election timeouts); print it. */
  readonly seed: number;
  readonly hostOptions?: HostOptions;
  readonly network?: MemoryNetworkOptions;
}

/** One node of a test cluster: its storage, state machine, host (null while down) and transport spy. */
export interface TestNode {
  readonly id: string;
  storage: CountingStorage;
  machine: KvMachine;
  host: KvHost | null;
  spy: SpyTransport | null;
}

/** An in-process cluster of hosts on virtual time. */
export class TestCluster {
  readonly clock = new FakeClock();
  readonly net: MemoryNetwork;
  readonly nodes = new Map<string, TestNode>();
  /** Every host's records, in the order they happened. */
  readonly records: HostEventRecord[] = [];
  /** The command every replica applied at each index (see `KvMachine`). */
  readonly agreement: Agreement = { commands: new Map(), violations: [] };
  private starts = 0;

  constructor(readonly options: ClusterOptions) {
    this.net = createMemoryNetwork(options.network);
  }

  /** Start (or restart, from its storage) node `id`; `fresh` gives it new, empty storage. */
  async start(
    id: string,
    fresh = false,
    hostOptions: HostOptions | undefined = this.options.hostOptions,
  ): Promise<KvHost> {
    let node = this.nodes.get(id);
    if (node !== undefined && node.host !== null) throw new Error(`${id} is running`);
    if (node === undefined || fresh) {
      node = {
        id,
        storage: new CountingStorage(new MemoryStorage()),
        machine: new KvMachine(this.agreement),
        host: null,
        spy: null,
      };
      this.nodes.set(id, node);
    } else {
      node.storage = new CountingStorage(node.storage.inner.reopened());
      node.machine = new KvMachine(this.agreement);
    }
    const spy = new SpyTransport(this.net.transport(id));
    node.spy = spy;
    node.host = await createHost({
      id,
      storage: node.storage,
      transport: spy,
      stateMachine: node.machine,
      options: hostOptions,
      random: seededRandom(this.options.seed * 31 + ++this.starts),
      clock: this.clock,
      onEvent: (r) => this.records.push(r),
    });
    return node.host;
  }

  /** Stop node `id`'s host (its storage survives for a restart). */
  async stop(id: string): Promise<void> {
    const node = this.node(id);
    const host = node.host;
    if (host === null) return;
    node.host = null;
    await host.stop();
  }

  node(id: string): TestNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  host(id: string): KvHost {
    const h = this.node(id).host;
    if (h === null) throw new Error(`${id} is not running`);
    return h;
  }

  /** The running hosts. */
  running(): KvHost[] {
    return [...this.nodes.values()].flatMap((n) => (n.host === null ? [] : [n.host]));
  }

  /** The running leader of the highest term, or undefined. */
  leader(): KvHost | undefined {
    let best: KvHost | undefined;
    for (const h of this.running()) {
      const s = h.state;
      if (s.role === 'leader' && (best === undefined || s.term > best.state.term)) best = h;
    }
    return best;
  }

  /** Wait (virtual time) until one running host leads and every running member knows it. */
  async stableLeader(maxMs = 20_000, among?: readonly string[]): Promise<KvHost> {
    let found: KvHost | undefined;
    await this.clock.until(
      () => {
        const l = this.leader();
        if (l === undefined || (among !== undefined && !among.includes(l.id))) return false;
        const members = new Set([...l.state.log.configs.flatMap((c) => [...c.config.voters, ...c.config.newVoters])]);
        for (const h of this.running()) {
          if (h === l || (among !== undefined && !among.includes(h.id))) continue;
          if (members.size > 0 && !members.has(h.id) && !l.status().members.nonVoters.includes(h.id)) continue;
          if (h.status().leader !== l.id || h.state.term !== l.state.term) return false;
        }
        found = l;
        return true;
      },
      maxMs,
      'a stable leader',
    );
    return found!;
  }

  /** Start `ids`, form a cluster of them from the first, and wait for a leader. */
  async form(ids: readonly string[]): Promise<KvHost> {
    for (const id of ids) await this.start(id);
    await this.clock.resolve(this.host(ids[0]!).createCluster(ids));
    return this.stableLeader();
  }

  /** Wait until every running host (or those of `ids`) applied `index`. */
  async appliedEverywhere(index: number, ids?: readonly string[], maxMs = 20_000): Promise<void> {
    const hosts = ids === undefined ? this.running() : ids.map((id) => this.host(id));
    await this.clock.until(
      () => hosts.every((h) => h.status().appliedIndex >= index),
      maxMs,
      `every host applying ${index} (applied: ${hosts.map((h) => `${h.id}=${h.status().appliedIndex}`).join(' ')})`,
    );
  }

  /** Stop every host. */
  async stopAll(): Promise<void> {
    for (const id of this.nodes.keys()) await this.stop(id);
  }
}

/** A `set` command. */
export function set(key: string, value: string): KvCommand {
  return { op: 'set', key, value };
}

/** Print a test's seed, so that a failure can be replayed (FC_SEED=<seed>). */
export function printSeed(name: string, seed: number): void {
  process.stdout.write(`[seed] ${name}: FC_SEED=${seed}\n`);
}
