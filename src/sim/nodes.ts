/**
 * The nodes of a simulated world and their lives. A {@link SimNode} is one node with the
 * application around it: its Raft state, its storage (what was written and what is durable), its
 * state machine, and the work it has waiting. {@link Nodes} keeps every node ever started and
 * carries out the events of a node's life:
 * - start: a fresh node (`startNode`), waiting for a leader or for `createCluster`;
 * - crash: what was not durable is lost, and so is everything that waited for it;
 * - restart: from the durable state only (`restartNode`);
 * - shutdown: a node removed from the cluster, for good.
 * Each of these is an event: it is numbered and recorded by the journal and told to the checker.
 */
import {
  restartNode,
  startNode,
  type RaftActions,
  type Message,
  type PersistedState,
  type NodeOptions,
  type RaftState,
  type StepResult,
} from '../index.js';
import type { Checker } from './checker.js';
import { errorText, type Journal } from './journal.js';
import type { SimApplication } from './plugins.js';
import type { WorldStats } from './stats.js';
import { Store, type Machine, type SnapshotData, type Write } from './storage.js';

/** Where a node is in its life. */
export type NodeStatus = 'up' | 'down' | 'removed';

/** Something a node sends out once the storage writes before it are durable. */
export type Outbound =
  | { readonly k: 'msg'; readonly to: string; readonly message: Message; readonly payloads: readonly number[] | null }
  | { readonly k: 'snap'; readonly to: string; readonly snapshot: SnapshotData }
  | { readonly k: 'apply'; readonly commitIndex: number; readonly term: number };

/** One simulated node and the application around it. */
export class SimNode {
  /** Where the node is in its life: `up` (running), `down` (crashed, to restart) or `removed` (shut down for good). */
  status: NodeStatus = 'up';
  /** The node's Raft state; null while it is down or removed. */
  state: RaftState | null;
  /** Bumped at every crash, restart and shutdown: work scheduled for an earlier life is dropped. */
  incarnation = 0;
  /** What the application has written (durable or not). */
  live = new Store();
  /** What is durable: all that survives a crash. */
  durable = new Store();
  /** The live state machine (lost in a crash; rebuilt from the durable snapshot, then re-applied). */
  machine: Machine;
  /** @internal Writes not yet durable, in order. */
  pending: Array<{ seq: number; write: Write }> = [];
  /** @internal */ writeSeq = 0;
  /** @internal */ lastWriteDone = 0;
  /**
   * @internal The last write that what follows it must wait for: every write but a `concurrent`
   * append (see `AppendLog.concurrent`).
   */
  barrierSeq = 0;
  /** @internal Outbound items held until the writes before them are durable. */
  outbox: Array<{ barrier: number; out: Outbound }> = [];
  /** @internal */ timerGen = 0;
  /** @internal Snapshot transfers in flight from this node: receiver -> packet id. */
  transfers = new Map<string, number>();
  /** When the armed timer fires (null: none armed). */
  timerAt: number | null = null;
  /** @internal */ stepsSinceCheck = 0;
  /** Membership bookkeeping of the operator: where the configuration adding this node sits. */
  addedAt: {
    /** The term of the configuration entry that adds this node (the leader's term when it proposed it). */
    term: number;
    /** The log index of that configuration entry. */
    index: number;
  } | null = null;
  /** True once a committed configuration included this node. */
  committedMember = false;
  /** How fast this node's timers run against real time (the `skew` fault; 1 without). */
  timerRate = 1;

  constructor(
    /** The node's id, fixed for all its lives (crashes and restarts keep it). */
    readonly id: string,
    machine: Machine,
    options: NodeOptions,
  ) {
    this.state = startNode(id, options)[0];
    this.machine = machine;
  }
}

/** What the nodes' lives touch in the rest of the world. */
export interface NodesParts {
  readonly journal: Journal;
  readonly checker: Checker;
  readonly stats: WorldStats;
  readonly app: SimApplication | null;
  /** Carry out the actions a restarted node asks for (`restartNode`'s), as after any step. */
  readonly execute: (node: SimNode, state: RaftState, actions: RaftActions) => void;
  /** The options every node starts and restarts with. */
  readonly nodeOptions: NodeOptions;
  /** The timer rate of a node being started (see `SimNode.timerRate`); it keeps it for good. */
  readonly timerRate: () => number;
}

/** See the module comment. */
export class Nodes {
  private readonly hosts = new Map<string, SimNode>();

  constructor(private readonly parts: NodesParts) {}

  // ------------------------------------------------------------------------------------------
  // Queries

  /** The node `id` (undefined when never started). */
  get(id: string): SimNode | undefined {
    return this.hosts.get(id);
  }

  /** Every node ever started, in start order. */
  all(): SimNode[] {
    return [...this.hosts.values()];
  }

  /** The nodes that are up. */
  running(): SimNode[] {
    const out: SimNode[] = [];
    for (const h of this.hosts.values()) if (h.status === 'up') out.push(h);
    return out;
  }

  /** The running leader of the highest term, if any. */
  leader(): SimNode | null {
    let best: SimNode | null = null;
    for (const h of this.hosts.values()) {
      const s = h.state;
      if (h.status === 'up' && s !== null && s.role === 'leader' && (best === null || s.term > best.state!.term))
        best = h;
    }
    return best;
  }

  /** The node `id`, which must be `status` (throws otherwise: a bug in the caller). */
  mustBe(id: string, status: NodeStatus): SimNode {
    const h = this.hosts.get(id);
    if (h === undefined) throw new Error(`no node ${id}`);
    if (h.status !== status) throw new Error(`node ${id} is ${h.status}, not ${status}`);
    return h;
  }

  // ------------------------------------------------------------------------------------------
  // Lives

  /** Start a fresh node (`startNode`): it waits for a leader, or for `createCluster`. */
  start(id: string): SimNode {
    if (this.hosts.has(id)) throw new Error(`node ${id} already exists`);
    const { journal, checker } = this.parts;
    const options = this.parts.nodeOptions;
    const h = new SimNode(id, this.initialMachine(), options);
    h.timerRate = this.parts.timerRate();
    this.hosts.set(id, h);
    journal.record(id, { start: true, options });
    checker.onStart(h);
    journal.afterEvent(id);
    return h;
  }

  /** Crash `id`: what was not durable is lost, and it stays down until `restart`. */
  crash(id: string): void {
    const { journal, checker, stats } = this.parts;
    const h = this.mustBe(id, 'up');
    stats.crashes++;
    if (h.pending.length > 0) {
      stats.crashesLosingWrites++;
      stats.lostWrites += h.pending.length;
    }
    checker.onCrash(h);
    if (journal.narrator !== null) {
      journal.tell('crash', `${id} crashed (${h.pending.length} writes not yet durable were lost)`);
    }
    this.bury(h, 'down');
    journal.record(id, { crash: true });
    journal.afterEvent(id);
  }

  /** Restart `id` from its durable state only (`restartNode`). */
  restart(id: string): void {
    const { journal, checker, stats } = this.parts;
    const h = this.mustBe(id, 'down');
    const d = h.durable;
    const persisted: PersistedState = {
      id,
      term: d.term,
      votedFor: d.votedFor,
      log: d.log,
      snapshotConfig: d.snapshotConfig,
      options: this.parts.nodeOptions,
    };
    let result: StepResult;
    try {
      result = restartNode(persisted);
    } catch (err) {
      return journal.fail('contract', `restartNode refused the durable state: ${errorText(err)}`, [id]);
    }
    stats.restarts++;
    h.status = 'up';
    h.state = result[0];
    h.machine = d.snapshot?.machine ?? this.initialMachine();
    h.live = d.clone();
    journal.record(id, { restart: persisted });
    if (journal.narrator !== null) {
      journal.tell(
        'restart',
        `${id} restarted from its durable state (term ${d.term}, log up to ${d.log.lastIndex}, snapshot at ${d.log.prevIndex})`,
      );
    }
    checker.onRestart(h);
    this.parts.execute(h, result[0], result[1]);
    journal.afterEvent(id);
  }

  /** Shut `id` down for good (a node removed from the cluster). Nothing happens when it is already. */
  shutdown(id: string): void {
    const { journal, stats } = this.parts;
    const h = this.hosts.get(id);
    if (h === undefined || h.status === 'removed') return;
    stats.nodesRemoved++;
    journal.tell('shutdown', `${id} was shut down: it is no longer a member`);
    this.bury(h, 'removed');
    journal.record(id, { shutdown: true });
    journal.afterEvent(id);
  }

  /** The end of a life: everything not durable is gone, and work scheduled for it will not run. */
  private bury(h: SimNode, status: NodeStatus): void {
    h.status = status;
    h.state = null;
    h.incarnation++;
    h.pending = [];
    h.outbox = [];
    h.transfers = new Map();
    h.timerAt = null;
    h.live = h.durable.clone();
    h.machine = this.initialMachine();
  }

  /** The state machine of a fresh replica. */
  private initialMachine(): Machine {
    const app = this.parts.app;
    return { index: 0, hash: 0, app: app === null ? null : app.initial };
  }
}
