/**
 * The simulated world: nodes driven through `step`, each with the application around it — timers,
 * storage with latency, a network, and a replicated state machine — on a virtual clock.
 *
 * A world is made of parts, each in its own module, and composes them:
 * - the clock (`clock.ts`): virtual time, the agenda of everything scheduled, and the nodes' timers;
 * - the network (`network.ts`): packets in flight, drops, duplicates, reordering and cuts;
 * - the nodes (`nodes.ts`): every node ever started, and its start, crash, restart and shutdown;
 * - the executor (`executor.ts`): a node's step and the actions it asks for, carried out as a careful
 *   application must (the persistence rule, payloads, the state machine, snapshots);
 * - the journal (`journal.ts`): event numbers, the trace, the user's invariants, and reports;
 * - the {@link Checker}: Raft's invariants, after every event;
 * - the read tracker (`client-reads.ts`): client reads in flight, each answer checked against the
 *   committed history.
 * The counters they keep and the happenings they tell are in `stats.ts`; what a user plugs in (a
 * step wrapper, an application) is in `plugins.ts`.
 *
 * A failed check throws a `SimViolation`. The network either delivers by itself, with latency
 * and the enabled faults (`mode: 'auto'`, used by simulations), or keeps messages in flight until a
 * test delivers, drops or duplicates them (`mode: 'manual'`, used by the model-based tests).
 */
import {
  DEFAULT_OPTIONS as DEFAULT_NODE_OPTIONS,
  positionAndConfigAt,
  step as realStep,
  type ClusterConfig,
  type NodeOptions,
  type RaftEvent,
  type StepResult,
} from '../index.js';
import type { Agenda } from './heap.js';
import { Checker } from './checker.js';
import { ReadTracker, type ClientRead } from './client-reads.js';
import { Clock } from './clock.js';
import { Executor, type Incoming } from './executor.js';
import { Journal } from './journal.js';
import { Network, type Packet } from './network.js';
import { Nodes, type SimNode } from './nodes.js';
import {
  DEFAULT_RATES,
  DEFAULT_TIMING,
  FAULT_NAMES,
  type FaultName,
  type FaultRates,
  type SimOptions,
  type Timing,
} from './options.js';
import type { SimApplication, Stepper } from './plugins.js';
import { Rng } from './rng.js';
import { zeroStats, type Happening, type WorldStats } from './stats.js';
import type { SnapshotData } from './storage.js';
import type { Trace, TraceRecorder } from './trace.js';
import type { InvariantName } from './violation.js';

/** An invariant of your own over the whole world, checked after every event: a message when broken. */
export type WorldInvariant = (world: World) => string | null;

/**
 * What became of a client proposal: where its commands went, or why the node refused it (with the
 * leader it named, and the refused command ids, for the client to retry).
 */
export type ProposeOutcome =
  | {
      /** The node, as leader, appended every command of the proposal (not yet committed). */
      readonly accepted: true;
      /** The leader's term after the step: the term of the new entries. */
      readonly term: number;
      /** The log index of the first command appended. */
      readonly firstIndex: number;
      /** The log index of the last command appended: the commands hold `[firstIndex, lastIndex]`, in order. */
      readonly lastIndex: number;
    }
  | {
      /** Not accepted: the node refused the proposal, or did not append exactly its commands. */
      readonly accepted: false;
      /** The node the refusal named as leader (its `leaderHint`): where to retry; null when it named none. */
      readonly hint: string | null;
      /** The reason the node gave (`notLeader`, `transferInProgress`, ...), or null when it gave none. */
      readonly reason: string | null;
      /**
       * The ids of the refused commands, in proposal order: pass them to `propose` again to retry
       * the same commands.
       */
      readonly commands: readonly number[];
    };

/** What became of a client read at once: answered in the same step, refused, or still pending. */
export type ReadOutcome =
  | {
      /** The read's id, unique within the run (`r1`, `r2`, ...): the `id` of the `read` event. */
      readonly id: string;
      /** The node answered in the same step (`readReady`); the world has checked the answer. */
      readonly status: 'answered';
      /** The read index: the client reads the state machine once it has applied up to this index. */
      readonly index: number;
    }
  | {
      /** The read's id, unique within the run (`r1`, `r2`, ...): the `id` of the `read` event. */
      readonly id: string;
      /** The node refused the read in the same step (`rejected {request: 'read'}`). */
      readonly status: 'rejected';
      /** The reason the node gave (`notLeader`, ...). */
      readonly reason: string;
      /** The node the refusal named as leader (its `leaderHint`): where to retry; null when it named none. */
      readonly hint: string | null;
    }
  | {
      /** The read's id, unique within the run (`r1`, `r2`, ...): the `id` of the `read` event. */
      readonly id: string;
      /**
       * Neither answered nor refused yet: the node answers or refuses it in a later step (the world
       * checks an answer when it comes), or the read is lost if the node crashes or is shut down first.
       */
      readonly status: 'pending';
    };

/** How to build a world. */
export interface WorldOptions {
  /** The seed of the world's one random generator: the same seed and calls give the same world. */
  readonly seed: number;
  /** `auto`: the network delivers by itself; `manual`: messages wait in `inFlight`. Default auto. */
  readonly mode?: 'auto' | 'manual';
  /** Virtual durations; those left out take `DEFAULT_TIMING`'s (not checked here: see `normalizeOptions`). */
  readonly timing?: Partial<Timing>;
  /** Fault rates; those left out take `DEFAULT_RATES`' (not checked here: see `normalizeOptions`). */
  readonly rates?: Partial<FaultRates>;
  /** The network and snapshot faults applied in auto mode (drop, dup, reorder, snapshot loss). */
  readonly faults?: readonly FaultName[];
  /** Use this instead of `step` (e.g. a wrapper that breaks it, to test the checker). */
  readonly step?: Stepper;
  /** Your application, run on every replica (see `SimApplication`); none when left out. */
  readonly app?: SimApplication;
  /**
   * Your invariants over the whole world, checked after every event: a message (or an exception)
   * stops the world with an `application` violation naming the node of the event.
   */
  readonly invariants?: readonly WorldInvariant[];
  /** Record a trace (default true), with a checkpoint every `checkpointEvery` steps of a node. */
  readonly record?: boolean;
  /** How many steps of a node pass between two fingerprints of its state in the trace (default 64). */
  readonly checkpointEvery?: number;
  /** The options recorded in the trace header (simulations pass theirs). */
  readonly headerOptions?: SimOptions | null;
  /** The initial node ids recorded in the trace header. */
  readonly headerNodes?: readonly string[];
  /** The options every node starts and restarts with (the core's defaults when left out). */
  readonly nodeOptions?: NodeOptions;
  /**
   * Clock skew: every node started gets a timer rate drawn within `[1 - skew, 1 + skew]` (see
   * `SimNode.timerRate` and `leaseSkewBound`). Default 0: timers run at real time.
   */
  readonly skew?: number;
}

/** The simulated world. See the module comment. */
export class World {
  /** The seed the world was built with (`WorldOptions.seed`). */
  readonly seed: number;
  /** The world's only source of randomness, shared by all its parts (and the simulation around it). */
  readonly rng: Rng;
  /** The virtual durations in use: `WorldOptions.timing` over `DEFAULT_TIMING`. */
  readonly timing: Timing;
  /** The fault rates in use: `WorldOptions.rates` over `DEFAULT_RATES`. */
  readonly rates: FaultRates;
  /** The counters of what happened in the world so far (see `WorldStats`); every part adds to them. */
  readonly stats: WorldStats = zeroStats();
  /** Raft's invariants, checked after every event; a broken one throws a `SimViolation`. */
  readonly checker: Checker;
  /** The user's application, if any. */
  readonly app: SimApplication | null;
  /** Client commands by id (only with an application). */
  readonly commands = new Map<number, unknown>();
  /** Listeners told about every committed configuration (the operator's membership bookkeeping). */
  readonly onConfigCommitted: Array<(index: number, config: ClusterConfig) => void> = [];
  /** Listeners told about every newly committed index. */
  readonly onCommitted: Array<(index: number, term: number, payload: number) => void> = [];
  /** The client reads in flight, and their check against the committed history. */
  readonly reads: ReadTracker;
  private readonly clock: Clock;
  private readonly journal: Journal;
  private readonly network: Network;
  private readonly hosts: Nodes;
  private readonly executor: Executor;
  private commandSeq = 0;

  constructor(options: WorldOptions) {
    this.seed = options.seed;
    this.rng = new Rng(options.seed);
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
    this.rates = { ...DEFAULT_RATES, ...options.rates };
    this.app = options.app ?? null;
    const { rng, timing, rates, stats, app, commands } = this;
    const clock = (this.clock = new Clock(rng, timing));
    const invariants = (options.invariants ?? []).map((inv) => () => inv(this));
    const journal = (this.journal = new Journal(options, clock, invariants));
    const checker = (this.checker = new Checker(this));
    const reads = (this.reads = new ReadTracker({
      stats,
      get now() {
        return clock.now;
      },
      get events() {
        return journal.events;
      },
      maxCommit: () => checker.maxCommit,
      recorded: () => checker.recorded,
      life: (id) => this.hosts.get(id),
      fail: (invariant, message, nodes) => journal.fail(invariant, message, nodes),
    }));
    const skew = options.skew ?? 0;
    const timerRate = (): number => {
      if (skew <= 0) return 1;
      const rate = 1 - skew + 2 * skew * rng.next();
      stats.skewedNodes++;
      if (Math.abs(rate - 1) > stats.maxSkew) stats.maxSkew = Math.abs(rate - 1);
      return rate;
    };
    // What arrives over the network, and the actions of a restarted node, go to the executor (built
    // last: it needs the network and the nodes).
    const network = (this.network = new Network(
      { clock, rng, timing, rates, stats },
      { receive: (p) => this.executor.receive(p), transferEnded: (p) => this.executor.transferEnded(p) },
      options.mode ?? 'auto',
      options.faults ?? FAULT_NAMES,
    ));
    const nodes = (this.hosts = new Nodes({
      journal,
      checker,
      stats,
      app,
      execute: (h, state, actions) => this.executor.execute(h, state, actions, null, null),
      nodeOptions: options.nodeOptions ?? DEFAULT_NODE_OPTIONS,
      timerRate,
    }));
    const stepper = options.step ?? realStep;
    this.executor = new Executor({
      stepper,
      clock,
      network,
      nodes,
      journal,
      checker,
      stats,
      rng,
      timing,
      app,
      commands,
      reads,
    });
  }

  // ------------------------------------------------------------------------------------------
  // The parts' state

  /** Virtual time, in virtual milliseconds. */
  get now(): number {
    return this.clock.now;
  }

  /** Everything scheduled on the clock. */
  get agenda(): Agenda {
    return this.clock.agenda;
  }

  /** The number of the last event (steps, starts, restarts, crashes, shutdowns). */
  get events(): number {
    return this.journal.events;
  }

  /** The trace recorder (null when recording is off). */
  get recorder(): TraceRecorder | null {
    return this.journal.recorder;
  }

  /** Told about every noteworthy happening, in words (null: nobody listens, nothing is built). */
  get narrator(): ((h: Happening) => void) | null {
    return this.journal.narrator;
  }
  /** Set the listener told about every noteworthy happening (null: none). */
  set narrator(f: ((h: Happening) => void) | null) {
    this.journal.narrator = f;
  }

  /** `auto`: the network delivers by itself; `manual`: messages wait in `inFlight`. */
  get mode(): 'auto' | 'manual' {
    return this.network.mode;
  }
  /**
   * Switch the network's mode for the packets sent from now on; packets already in `inFlight` stay
   * there (`goAutomatic` also schedules them).
   */
  set mode(m: 'auto' | 'manual') {
    this.network.mode = m;
  }

  /** The network and snapshot faults applied in auto mode. */
  get faults(): ReadonlySet<FaultName> {
    return this.network.faults;
  }
  /** Set the network and snapshot faults applied in auto mode from now on. */
  set faults(f: ReadonlySet<FaultName>) {
    this.network.faults = f;
  }

  /** Manual mode: packets sent and not yet delivered, dropped or duplicated. */
  get inFlight(): Packet[] {
    return this.network.inFlight;
  }

  // ------------------------------------------------------------------------------------------
  // Queries and reports

  /** The node `id` (undefined when never started). */
  node(id: string): SimNode | undefined {
    return this.hosts.get(id);
  }

  /** Every node ever started, in start order. */
  nodes(): SimNode[] {
    return this.hosts.all();
  }

  /** The nodes that are up. */
  running(): SimNode[] {
    return this.hosts.running();
  }

  /** The running leader of the highest term, if any. */
  leader(): SimNode | null {
    return this.hosts.leader();
  }

  /** The trace recorded so far (null when recording is off). */
  trace(): Trace | null {
    return this.journal.trace();
  }

  /** A violation found now, by `invariant`, about `nodes` (throws a `SimViolation`). */
  fail(invariant: InvariantName, message: string, nodes: readonly string[]): never {
    return this.journal.fail(invariant, message, nodes);
  }

  /** Tell the narrator, if any. */
  tell(kind: Happening['kind'], text: string): void {
    this.journal.tell(kind, text);
  }

  // ------------------------------------------------------------------------------------------
  // Node lifecycle

  /** Start a fresh node (`startNode`): it waits for a leader, or for `createCluster`. */
  startNode(id: string): SimNode {
    return this.hosts.start(id);
  }

  /** Crash `id`: what was not durable is lost, and it stays down until `restart`. */
  crash(id: string): void {
    this.hosts.crash(id);
  }

  /** Restart `id` from its durable state only (`restartNode`). */
  restart(id: string): void {
    this.hosts.restart(id);
  }

  /** Shut `id` down for good (a node removed from the cluster). */
  shutdown(id: string): void {
    this.hosts.shutdown(id);
  }

  // ------------------------------------------------------------------------------------------
  // Stepping, and what clients and operators ask of nodes

  /**
   * Step `event` on the running node `id` and carry out the actions. `incoming` gives the payloads
   * of the commands the event brings (AppendEntries payloads, or a proposal's new commands);
   * `snapshot` is the snapshot a `snapshotInstalled` event installs.
   */
  stepNode(id: string, event: RaftEvent, incoming: Incoming = null, snapshot: SnapshotData | null = null): StepResult {
    return this.executor.step(this.hosts.mustBe(id, 'up'), event, incoming, snapshot);
  }

  /**
   * Start the nodes `ids` and form a cluster of them on the first, then run until its writes are
   * durable: a cluster whose founding configuration was lost in a crash never formed (an operator
   * would bootstrap it again), so faults start only after this.
   */
  bootstrap(ids: readonly string[]): void {
    for (const id of ids) this.startNode(id);
    this.createCluster(ids[0]!, ids);
    const founder = this.hosts.get(ids[0]!)!;
    while (founder.pending.length > 0 && this.runNext());
  }

  /** Form the cluster on the fresh node `id` with `voters`. */
  createCluster(id: string, voters: readonly string[]): StepResult {
    return this.stepNode(id, { type: 'createCluster', voters });
  }

  /**
   * A client proposes `count` new commands on `id` — or, given a list of command ids, those commands
   * again (a retry of a refused proposal): where they went, or, when the node refused, why, the
   * leader it named and the refused command ids.
   */
  propose(id: string, count: number | readonly number[]): ProposeOutcome {
    const h = this.hosts.mustBe(id, 'up');
    const first = h.state!.log.lastIndex + 1;
    let ids: readonly number[];
    if (typeof count === 'number') {
      const fresh: number[] = [];
      for (let k = 0; k < count; k++) fresh.push(this.newCommand());
      ids = fresh;
    } else ids = count;
    const n = ids.length;
    this.stats.proposals++;
    const [after, actions] = this.stepNode(id, { type: 'propose', count: n }, (i) => ids[i - first]);
    for (const a of actions) {
      if (a.type === 'rejected') {
        this.stats.proposalsRejected++;
        if (a.reason === 'transferInProgress') this.stats.proposalsRejectedByTransfer++;
        return { accepted: false, hint: a.leaderHint, reason: a.reason, commands: ids };
      }
    }
    if (after.log.lastIndex !== first + n - 1) return { accepted: false, hint: null, reason: null, commands: ids };
    this.stats.commandsProposed += n;
    return { accepted: true, term: after.term, firstIndex: first, lastIndex: after.log.lastIndex };
  }

  /**
   * A client reads on the running node `id` (`{type: 'read', id}` with a fresh read id). The read is
   * recorded first, with the highest commit index known anywhere, and its answer checked when it
   * comes (see `client-reads.ts`); returns what became of it in this step.
   */
  read(id: string): ReadOutcome {
    const h = this.hosts.mustBe(id, 'up');
    const r: ClientRead = this.reads.issue(id, h.incarnation);
    const [, actions] = this.stepNode(id, { type: 'read', id: r.id });
    for (const a of actions) {
      if (a.type === 'readReady' && a.id === r.id) return { id: r.id, status: 'answered', index: a.index };
      if (a.type === 'rejected' && a.request === 'read' && a.id === r.id) {
        return { id: r.id, status: 'rejected', reason: a.reason, hint: a.leaderHint };
      }
    }
    return { id: r.id, status: 'pending' };
  }

  /**
   * The operator asks the running node `id` (the leader, usually) to hand leadership to `to`
   * (`transferLeadership`). Returns the reason it refused, or null when it took the request.
   */
  transferLeadership(id: string, to: string): string | null {
    this.stats.transferRequests++;
    const [, actions] = this.stepNode(id, { type: 'transferLeadership', to });
    for (const a of actions) if (a.type === 'rejected') return a.reason;
    return null;
  }

  /**
   * Local compaction on `id`: save the state machine at its applied index (a committed index) and
   * step `snapshotInstalled` there, with the position and configuration from `positionAndConfigAt`.
   * Returns false when there is nothing new to compact or the node refused.
   */
  compact(id: string): boolean {
    const h = this.hosts.mustBe(id, 'up');
    const s = h.state!;
    const index = h.machine.index;
    if (index <= s.log.prevIndex) return false;
    const at = positionAndConfigAt(s, index);
    if (at === null) return false;
    const snap: SnapshotData = { term: at.term, index, config: at.config, machine: h.machine };
    const [, actions] = this.stepNode(
      id,
      { type: 'snapshotInstalled', term: at.term, index, config: at.config },
      null,
      snap,
    );
    if (!actions.some((a) => a.type === 'compactLog')) return false;
    this.stats.compactions++;
    this.tell('compaction', `${id} compacted its log into a snapshot at index ${index}`);
    return true;
  }

  /** Fire `id`'s timer now (what the clock does when it expires). */
  fireTimer(id: string): void {
    const h = this.hosts.mustBe(id, 'up');
    this.clock.disarm(h);
    this.stepNode(id, { type: 'timeout' });
  }

  /** A fresh client command id (and, with an application, its command). */
  newCommand(): number {
    const cmd = ++this.commandSeq;
    if (this.app !== null) this.commands.set(cmd, this.app.command(this.rng, cmd));
    return cmd;
  }

  /** @internal Called by the checker when index `index` is committed for the first time. */
  noteCommitted(index: number, term: number, payload: number, config: ClusterConfig | null): void {
    if (payload > 0) this.stats.commits++;
    if (index > this.stats.commitIndex) this.stats.commitIndex = index;
    for (const f of this.onCommitted) f(index, term, payload);
    if (config !== null) {
      if (config.newVoters.length === 0 && index > 1) this.stats.configChanges++;
      if (this.narrator !== null && index > 1)
        this.tell('config', `configuration committed at ${index}: ${describeConfig(config)}`);
      for (const f of this.onConfigCommitted) f(index, config);
    }
  }

  // ------------------------------------------------------------------------------------------
  // The network

  /** Deliver `p` now (it is dropped when its link is cut or its receiver is not up). */
  deliver(p: Packet): void {
    this.network.deliver(p);
  }

  /** Manual mode: deliver the in-flight packet at position `k` (modulo their number). */
  deliverInFlight(k: number): Packet | null {
    return this.network.deliverInFlight(k);
  }

  /** Manual mode: lose the in-flight packet at position `k` (modulo their number). */
  dropInFlight(k: number): Packet | null {
    return this.network.dropInFlight(k);
  }

  /** Manual mode: send the in-flight packet at position `k` once more. */
  duplicateInFlight(k: number): Packet | null {
    return this.network.duplicateInFlight(k);
  }

  /** True when messages from `from` to `to` are cut. */
  isBlocked(from: string, to: string): boolean {
    return this.network.isBlocked(from, to);
  }

  /**
   * Cut the links from every node of `a` to every node of `b` (and back, unless `oneWay`). Returns
   * the cut, to heal it alone with `healCut`.
   */
  cut(a: readonly string[], b: readonly string[], oneWay = false): string[] {
    return this.network.cut(a, b, oneWay);
  }

  /** Heal one cut made by `cut`. */
  healCut(links: readonly string[]): void {
    this.network.healCut(links);
  }

  /** Heal every cut. */
  heal(): void {
    this.network.heal();
  }

  /** True while some link is cut. */
  partitioned(): boolean {
    return this.network.partitioned();
  }

  /**
   * Turn a manual world into an automatic one from now on: packets in flight are scheduled for
   * delivery with ordinary latency (used to check liveness after a hand-driven run).
   */
  goAutomatic(): void {
    this.network.goAutomatic();
  }

  /** Turn the network faults (drop, dup, reorder, snapshot loss, slow nodes) off. */
  calmNetwork(): void {
    this.network.calm();
  }

  /**
   * Make `id` slow (the `slow` fault): its incoming queue holds at most `capacity` messages, more are
   * dropped, and it handles them one at a time (auto mode only; see `network.ts`).
   */
  setSlow(id: string, capacity: number): void {
    this.network.setSlow(id, capacity);
  }

  /** `id` is no longer slow. */
  clearSlow(id: string): void {
    this.network.clearSlow(id);
  }

  /** The nodes that are slow now. */
  slowNodes(): string[] {
    return this.network.slowNodes();
  }

  // ------------------------------------------------------------------------------------------
  // Time

  /** Process the next scheduled thing (timer, storage completion, delivery, ...). False when none. */
  runNext(): boolean {
    return this.clock.runNext();
  }

  /** Advance the clock by `ms`, running everything scheduled until then (in time order). */
  advance(ms: number): void {
    this.clock.advance(ms);
  }

  /** Schedule `run` after `delay` virtual milliseconds. */
  after(delay: number, run: () => void): void {
    this.clock.after(delay, run);
  }
}

/** A configuration in words. */
export function describeConfig(c: ClusterConfig): string {
  const list = (ids: readonly string[]): string => (ids.length === 0 ? 'none' : ids.join(' '));
  const joint = c.newVoters.length > 0 ? `, moving to voters ${list(c.newVoters)} (joint)` : '';
  return `voters ${list(c.voters)}${joint}${c.nonVoters.length > 0 ? `, non-voters ${list(c.nonVoters)}` : ''}`;
}
