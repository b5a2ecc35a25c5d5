/**
 * A TCP proxy grid for partitions on one machine: with a topology's `proxyBasePort` set, node i
 * dials node j through `proxyPort(i, j)` (see ./topology.ts); this proxy, run by the load tool,
 * forwards each such link to node j's Raft port — unless the link is cut, in which case its
 * connections are destroyed and new ones are closed as soon as they are accepted. Links are
 * one-way (TcpTransport dials a peer to send to it), so a partition cuts both directions.
 */
import * as net from 'node:net';
import { proxyPort, raftAddress, type Topology } from './topology.js';

/** One proxied link: its listening server and its open connections. */
interface Link {
  readonly server: net.Server;
  readonly sockets: Set<net.Socket>;
}

/** The proxy grid of a topology (see the module comment). */
export class PartitionProxy {
  private readonly links = new Map<string, Link>();
  private readonly cut = new Set<string>();

  private constructor(private readonly topology: Topology & { proxyBasePort: number }) {}

  /** Start proxying every link between slots 0 .. slots - 1. */
  static async start(topology: Topology, slots: number): Promise<PartitionProxy> {
    const base = topology.proxyBasePort;
    if (base === undefined) throw new Error('PartitionProxy: the topology has no proxyBasePort');
    const proxy = new PartitionProxy({ ...topology, proxyBasePort: base });
    for (let from = 0; from < slots; from++) {
      for (let to = 0; to < slots; to++) if (from !== to) await proxy.listen(from, to);
    }
    return proxy;
  }

  /** Listen for link from → to. */
  private listen(from: number, to: number): Promise<void> {
    const name = `${from}>${to}`;
    const sockets = new Set<net.Socket>();
    const target = raftAddress(this.topology, to);
    const server = net.createServer((inbound) => {
      if (this.cut.has(name)) {
        inbound.destroy();
        return;
      }
      const outbound = net.connect(target.port, target.host);
      for (const s of [inbound, outbound]) {
        sockets.add(s);
        s.on('close', () => sockets.delete(s));
        s.on('error', () => undefined);
      }
      inbound.pipe(outbound);
      outbound.pipe(inbound);
      inbound.on('close', () => outbound.destroy());
      outbound.on('close', () => inbound.destroy());
    });
    this.links.set(name, { server, sockets });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: this.topology.host, port: proxyPort(this.topology, from, to) }, () => resolve());
    });
  }

  /** Cut every link between `side` and the other slots, both ways. */
  isolate(side: readonly number[]): void {
    for (const name of this.links.keys()) {
      const [from, to] = name.split('>').map(Number) as [number, number];
      if (side.includes(from) !== side.includes(to)) this.cutLink(name);
    }
  }

  /** Cut one link: destroy its connections and refuse new ones. */
  private cutLink(name: string): void {
    this.cut.add(name);
    for (const s of this.links.get(name)?.sockets ?? []) s.destroy();
  }

  /** Restore every link. */
  heal(): void {
    this.cut.clear();
  }

  /** True while some link is cut. */
  get partitioned(): boolean {
    return this.cut.size > 0;
  }

  /** Close every link. */
  async close(): Promise<void> {
    await Promise.all(
      [...this.links.values()].map(
        (l) =>
          new Promise<void>((resolve) => {
            for (const s of l.sockets) s.destroy();
            l.server.close(() => resolve());
          }),
      ),
    );
    this.links.clear();
  }
}
