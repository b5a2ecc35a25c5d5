/**
 * The load tool's nemesis: one fault at a time, the kinds in turn, each on a random node or on the
 * leader (half the time each), then healed, then a quiet spell, until stopped.
 *
 * - `kill`: kill -9 the node, leave it down for a while, restart it from its data directory;
 * - `pause`: SIGSTOP the node, then SIGCONT it (a process that stops without dying: its timers and
 *   sockets resume late, as after a long GC pause or a VM freeze);
 * - `partition`: cut the node off from the others through the proxy grid (./proxy.ts), then heal.
 *   Clients still reach every node's HTTP port; only Raft traffic is cut.
 */
import type { LocalCluster } from './cluster.js';
import type { PartitionProxy } from './proxy.js';
import { nodeId } from './topology.js';

/** The faults the nemesis knows. */
export type FaultKind = 'kill' | 'pause' | 'partition';

/** What the nemesis did. */
export interface NemesisStats {
  kills: number;
  leaderKills: number;
  pauses: number;
  leaderPauses: number;
  partitions: number;
  leaderPartitions: number;
  restarts: number;
}

/** Options of a nemesis. */
export interface NemesisOptions {
  readonly kinds: readonly FaultKind[];
  /** Uniform numbers in [0, 1). */
  readonly random: () => number;
  /** How long a fault lasts, and the quiet time between faults: [min, max] milliseconds. */
  readonly faultMs?: readonly [number, number];
  readonly quietMs?: readonly [number, number];
  /** The proxy, for `partition`. */
  readonly proxy?: PartitionProxy;
  /** Called with a line per fault. */
  readonly log?: (line: string) => void;
}

/** The nemesis (see the module comment). */
export class Nemesis {
  readonly stats: NemesisStats = {
    kills: 0,
    leaderKills: 0,
    pauses: 0,
    leaderPauses: 0,
    partitions: 0,
    leaderPartitions: 0,
    restarts: 0,
  };
  private running = false;
  private loop: Promise<void> = Promise.resolve();
  private wake: (() => void) | null = null;
  private faults = 0;

  constructor(
    private readonly cluster: LocalCluster,
    private readonly options: NemesisOptions,
  ) {
    if (options.kinds.includes('partition') && options.proxy === undefined) {
      throw new Error('the partition nemesis needs a proxy');
    }
  }

  /** Start injecting faults. */
  start(): void {
    if (this.running || this.options.kinds.length === 0) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stop, and heal everything: resume paused nodes, restart killed ones, heal the partition. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** A random duration in `range`. */
  private between(range: readonly [number, number]): number {
    return range[0] + Math.floor(this.options.random() * (range[1] - range[0]));
  }

  /** Sleep `ms`, or less when stopped. */
  private nap(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done(): void {
        clearTimeout(timer);
        resolve();
      }
      this.wake = done;
    });
  }

  /** The fault loop. */
  private async run(): Promise<void> {
    while (this.running) {
      await this.nap(this.between(this.options.quietMs ?? [200, 1000]));
      if (!this.running) break;
      const kind = this.options.kinds[this.faults++ % this.options.kinds.length]!;
      const leader = await this.cluster.leader();
      const running = this.cluster.running();
      const onLeader = leader !== null && this.options.random() < 0.5;
      const slot = onLeader ? leader : running[Math.floor(this.options.random() * running.length)];
      if (slot === undefined) continue;
      await this.inject(kind, slot, slot === leader);
    }
  }

  /** Inject one fault on `slot` and heal it. */
  private async inject(kind: FaultKind, slot: number, isLeader: boolean): Promise<void> {
    const s = this.stats;
    const what = `${nodeId(slot)}${isLeader ? ' (leader)' : ''}`;
    const ms = this.between(this.options.faultMs ?? [300, 1500]);
    this.options.log?.(`${kind} ${what} for ${ms} ms`);
    switch (kind) {
      case 'kill':
        s.kills++;
        if (isLeader) s.leaderKills++;
        await this.cluster.kill(slot);
        await this.nap(ms);
        await this.cluster.spawn(slot);
        s.restarts++;
        return;
      case 'pause':
        s.pauses++;
        if (isLeader) s.leaderPauses++;
        this.cluster.pause(slot);
        await this.nap(ms);
        this.cluster.resume(slot);
        return;
      case 'partition':
        s.partitions++;
        if (isLeader) s.leaderPartitions++;
        this.options.proxy!.isolate([slot]);
        await this.nap(ms);
        this.options.proxy!.heal();
        return;
    }
  }

  /** One line describing what was done. */
  describe(): string {
    const s = this.stats;
    const parts = [
      `${s.kills} kills (${s.leaderKills} of the leader), ${s.restarts} restarts`,
      `${s.pauses} pauses (${s.leaderPauses} of the leader)`,
      `${s.partitions} partitions (${s.leaderPartitions} isolating the leader)`,
    ];
    return parts.join(', ');
  }
}
