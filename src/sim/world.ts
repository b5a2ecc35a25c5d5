/**
 * The simulated world: nodes driven through `step`, each with the application around it — timers,
 * storage with latency, a network, and a replicated state machine — on a virtual clock.
 *
 * The world carries out every action as a careful application must (README, "What to do for each
 * action"):
 * - `setTimer` arms the node's one timer for a role-dependent duration with seeded jitter;
 * - storage writes (`saveHardState`, `appendLog`, `compactLog`) apply at once to what the
 *   application has written and become durable after a latency, in order;
 * - everything after a storage write that leaves the node — messages, snapshot transfers, and the
 *   application of committed entries — waits until every write before it is durable (a crash loses
 *   both the unfinished writes and what waited for them);
 * - a restart comes from the durable state only;
 * - command payloads travel with AppendEntries messages and are stored by index.
 *
 * After every event the {@link Checker} checks Raft's invariants; a failure throws a
 * {@link SimViolation}. The network either delivers by itself, with latency and the enabled
 * faults (`mode: 'auto'`, used by simulations), or keeps messages in flight until a test delivers,
 * drops or duplicates them (`mode: 'manual'`, used by the model-based tests).
 */
import {
  peersOf,
  positionAndConfigAt,
  restartNode,
  startNode,
  step as realStep,
  type Actions,
  type ClusterConfig,
  type LogEntries,
  type Message,
  type PersistedState,
  type RaftEvent,
  type RaftState,
  type StepResult,
  type TimerWait,
} from '../index.js';
import { Agenda } from './heap.js';
import { hashState, mix } from './hash.js';
import { Checker, forEachEntry, ENTRY_COMMAND } from './checker.js';
import {
  DEFAULT_RATES,
  DEFAULT_TIMING,
  FAULT_NAMES,
  type FaultName,
  type FaultRates,
  type SimOptions,
  type Timing,
} from './options.js';
import { Rng } from './rng.js';
import { Store, type Machine, type SnapshotData, type Write } from './storage.js';
import { TRACE_FORMAT, TRACE_VERSION, TraceRecorder, type Trace } from './trace.js';
import { SimViolation, type InvariantName, type Violation } from './violation.js';

/** A function with the signature of `step`: the real one, or a wrapper around it. */
export type Stepper = (state: RaftState, event: RaftEvent) => StepResult;

/**
 * Your application, run by every simulated replica: a pure state machine and a command generator.
 * The simulator applies committed commands to each replica and checks that every replica reaches
 * the same state at the same index (by `fingerprint`), and your own invariant (`check`).
 */
export interface SimApplication<S = unknown, C = unknown> {
  /** The state of a fresh replica. */
  readonly initial: S;
  /** Apply one committed command (pure: return the next state, do not modify `state`). */
  apply(state: S, command: C, index: number): S;
  /** A new client command; `rng` is the simulation's seeded generator (use no other randomness). */
  command(rng: Rng, id: number): C;
  /** A string that is equal for equal states (default: `JSON.stringify`). */
  fingerprint?(state: S): string;
  /** Your invariant on one replica right after it applied `index`: a message when it is broken. */
  check?(state: S, index: number): string | null;
}

/** An invariant of your own over the whole world, checked after every event: a message when broken. */
export type WorldInvariant = (world: World) => string | null;

/** Something noteworthy that happened, in words (see `World.narrator`). */
export interface Happening {
  /** Virtual time, in virtual milliseconds. */
  readonly time: number;
  /** The number of the last event. */
  readonly event: number;
  readonly kind:
    | 'leader'
    | 'crash'
    | 'restart'
    | 'shutdown'
    | 'partition'
    | 'heal'
    | 'compaction'
    | 'snapshot'
    | 'membership'
    | 'config'
    | 'liveness';
  readonly text: string;
}

/** What became of a client proposal. */
export type ProposeOutcome =
  | { readonly accepted: true; readonly term: number; readonly firstIndex: number; readonly lastIndex: number }
  | { readonly accepted: false; readonly hint: string | null };

/** Where a node is in its life. */
export type NodeStatus = 'up' | 'down' | 'removed';

/** Something a node sends out once the storage writes before it are durable. */
type Outbound =
  | { readonly k: 'msg'; readonly to: string; readonly message: Message; readonly payloads: readonly number[] | null }
  | { readonly k: 'snap'; readonly to: string; readonly snapshot: SnapshotData }
  | { readonly k: 'apply'; readonly commitIndex: number; readonly term: number };

/** A message or a snapshot transfer on the network. */
export interface Packet {
  readonly id: number;
  readonly from: string;
  readonly to: string;
  /** The Raft message, or null for a snapshot transfer. */
  readonly message: Message | null;
  /** For AppendEntries: the payload of each entry `(prevIndex, lastIndex]` (0 for non-commands). */
  readonly payloads: readonly number[] | null;
  /** For a snapshot transfer: the snapshot. */
  readonly snapshot: SnapshotData | null;
  readonly sentAt: number;
}

/** One simulated node and the application around it. */
export class SimNode {
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
  /** @internal Outbound items held until the writes before them are durable. */
  outbox: Array<{ barrier: number; out: Outbound }> = [];
  /** @internal */ timerGen = 0;
  /** @internal Snapshot transfers in flight from this node: receiver -> packet id. */
  transfers = new Map<string, number>();
  /** When the armed timer fires (null: none armed). */
  timerAt: number | null = null;
  /** @internal */ stepsSinceCheck = 0;
  /** Membership bookkeeping of the operator: where the configuration adding this node sits. */
  addedAt: { term: number; index: number } | null = null;
  /** True once a committed configuration included this node. */
  committedMember = false;

  constructor(
    readonly id: string,
    machine: Machine,
  ) {
    this.state = startNode(id);
    this.machine = machine;
  }
}

/** Counters of what happened in a world. */
export interface WorldStats {
  /** Messages and snapshot transfers handed to the network. */
  sent: number;
  delivered: number;
  /** Messages lost at random (the `drop` fault). */
  dropped: number;
  /** Messages lost to a partition. */
  partitionDrops: number;
  /** Messages that arrived at a node that was down or removed. */
  downDrops: number;
  duplicates: number;
  reordered: number;
  partitions: number;
  crashes: number;
  /** Crashes that lost writes not yet durable, and the writes they lost. */
  crashesLosingWrites: number;
  lostWrites: number;
  restarts: number;
  /** Snapshot transfers sent, lost, and installed by their receiver. */
  snapshotsSent: number;
  snapshotsLost: number;
  snapshotsInstalled: number;
  /** Local compactions (a node snapshotting its own state machine). */
  compactions: number;
  /** Client proposals (events), commands they carried, and proposals refused. */
  proposals: number;
  commandsProposed: number;
  proposalsRejected: number;
  /** Configuration proposals the leader took; configuration changes committed (final configs). */
  configProposals: number;
  configChanges: number;
  nodesAdded: number;
  nodesRemoved: number;
  promotions: number;
  /** Elections started, leaders elected, elected leaders that differ from the previous one. */
  elections: number;
  leaderships: number;
  leaderChanges: number;
  maxTerm: number;
  /** Client commands committed (applied first by some replica), and the highest committed index. */
  commits: number;
  commitIndex: number;
}

function zeroStats(): WorldStats {
  return {
    sent: 0,
    delivered: 0,
    dropped: 0,
    partitionDrops: 0,
    downDrops: 0,
    duplicates: 0,
    reordered: 0,
    partitions: 0,
    crashes: 0,
    crashesLosingWrites: 0,
    lostWrites: 0,
    restarts: 0,
    snapshotsSent: 0,
    snapshotsLost: 0,
    snapshotsInstalled: 0,
    compactions: 0,
    proposals: 0,
    commandsProposed: 0,
    proposalsRejected: 0,
    configProposals: 0,
    configChanges: 0,
    nodesAdded: 0,
    nodesRemoved: 0,
    promotions: 0,
    elections: 0,
    leaderships: 0,
    leaderChanges: 0,
    maxTerm: 0,
    commits: 0,
    commitIndex: 0,
  };
}

/** How to build a world. */
export interface WorldOptions {
  readonly seed: number;
  /** `auto`: the network delivers by itself; `manual`: messages wait in `inFlight`. Default auto. */
  readonly mode?: 'auto' | 'manual';
  readonly timing?: Partial<Timing>;
  readonly rates?: Partial<FaultRates>;
  /** The network and snapshot faults applied in auto mode (drop, dup, reorder, snapshot loss). */
  readonly faults?: readonly FaultName[];
  /** Use this instead of `step` (e.g. a wrapper that breaks it, to test the checker). */
  readonly step?: Stepper;
  readonly app?: SimApplication;
  readonly invariants?: readonly WorldInvariant[];
  /** Record a trace (default true), with a checkpoint every `checkpointEvery` steps of a node. */
  readonly record?: boolean;
  readonly checkpointEvery?: number;
  /** The options recorded in the trace header (simulations pass theirs). */
  readonly headerOptions?: SimOptions | null;
  /** The initial node ids recorded in the trace header. */
  readonly headerNodes?: readonly string[];
}

/** The simulated world. See the module comment. */
export class World {
  readonly seed: number;
  mode: 'auto' | 'manual';
  readonly rng: Rng;
  readonly timing: Timing;
  readonly rates: FaultRates;
  faults: ReadonlySet<FaultName>;
  readonly stats: WorldStats = zeroStats();
  readonly checker: Checker;
  readonly agenda = new Agenda();
  /** Manual mode: packets sent and not yet delivered, dropped or duplicated. */
  readonly inFlight: Packet[] = [];
  readonly recorder: TraceRecorder | null;
  /** The user's application, if any. */
  readonly app: SimApplication | null;
  /** Client commands by id (only with an application). */
  readonly commands = new Map<number, unknown>();
  /** Virtual time, in virtual milliseconds. */
  now = 0;
  /** The number of the last event (steps, starts, restarts, crashes, shutdowns). */
  events = 0;
  private readonly hosts = new Map<string, SimNode>();
  private readonly stepper: Stepper;
  private readonly invariants: readonly WorldInvariant[];
  private readonly checkpointEvery: number;
  private readonly blocked = new Map<string, number>();
  private readonly linkLast = new Map<string, number>();
  private packetSeq = 0;
  private commandSeq = 0;
  /** Listeners told about every committed configuration (the operator's membership bookkeeping). */
  readonly onConfigCommitted: Array<(index: number, config: ClusterConfig) => void> = [];
  /** Listeners told about every newly committed index. */
  readonly onCommitted: Array<(index: number, term: number, payload: number) => void> = [];
  /** Told about every noteworthy happening, in words (null: nobody listens, nothing is built). */
  narrator: ((h: Happening) => void) | null = null;

  constructor(options: WorldOptions) {
    this.seed = options.seed;
    this.mode = options.mode ?? 'auto';
    this.rng = new Rng(options.seed);
    this.timing = { ...DEFAULT_TIMING, ...options.timing };
    this.rates = { ...DEFAULT_RATES, ...options.rates };
    this.faults = new Set(options.faults ?? FAULT_NAMES);
    this.stepper = options.step ?? realStep;
    this.app = options.app ?? null;
    this.invariants = options.invariants ?? [];
    this.checkpointEvery = options.checkpointEvery ?? 64;
    this.recorder =
      options.record === false
        ? null
        : new TraceRecorder({
            type: 'header',
            format: TRACE_FORMAT,
            version: TRACE_VERSION,
            seed: options.seed,
            options: options.headerOptions ?? null,
            nodes: options.headerNodes ?? [],
          });
    this.checker = new Checker(this);
  }

  // ------------------------------------------------------------------------------------------
  // Queries

  /** The node `id` (undefined when never started). */
  node(id: string): SimNode | undefined {
    return this.hosts.get(id);
  }

  /** Every node ever started, in start order. */
  nodes(): SimNode[] {
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

  /** The trace recorded so far (null when recording is off). */
  trace(): Trace | null {
    return this.recorder === null ? null : this.recorder.trace();
  }

  /** A violation found now, by `invariant`, about `nodes` (throws). */
  fail(invariant: InvariantName, message: string, nodes: readonly string[]): never {
    const v: Violation = { invariant, message, nodes, event: this.events, time: this.now, seed: this.seed };
    throw new SimViolation(v);
  }

  /** Tell the narrator, if any. */
  tell(kind: Happening['kind'], text: string): void {
    this.narrator?.({ time: this.now, event: this.events, kind, text });
  }

  // ------------------------------------------------------------------------------------------
  // Node lifecycle

  /** Start a fresh node (`startNode`): it waits for a leader, or for `createCluster`. */
  startNode(id: string): SimNode {
    if (this.hosts.has(id)) throw new Error(`node ${id} already exists`);
    const h = new SimNode(id, this.initialMachine());
    this.hosts.set(id, h);
    this.record(h, { start: true });
    this.checker.onStart(h);
    this.afterEvent(h);
    return h;
  }

  /** Crash `id`: what was not durable is lost, and it stays down until `restart`. */
  crash(id: string): void {
    const h = this.mustBe(id, 'up');
    this.stats.crashes++;
    if (h.pending.length > 0) {
      this.stats.crashesLosingWrites++;
      this.stats.lostWrites += h.pending.length;
    }
    this.checker.onCrash(h);
    if (this.narrator !== null) {
      this.tell('crash', `${id} crashed (${h.pending.length} writes not yet durable were lost)`);
    }
    this.bury(h, 'down');
    this.record(h, { crash: true });
    this.afterEvent(h);
  }

  /** Restart `id` from its durable state only (`restartNode`). */
  restart(id: string): void {
    const h = this.mustBe(id, 'down');
    const d = h.durable;
    const persisted: PersistedState = {
      id,
      term: d.term,
      votedFor: d.votedFor,
      log: d.log,
      snapshotConfig: d.snapshotConfig,
    };
    let result: StepResult;
    try {
      result = restartNode(persisted);
    } catch (err) {
      return this.fail('contract', `restartNode refused the durable state: ${errorText(err)}`, [id]);
    }
    this.stats.restarts++;
    h.status = 'up';
    h.state = result[0];
    h.machine = d.snapshot?.machine ?? this.initialMachine();
    h.live = d.clone();
    this.record(h, { restart: persisted });
    if (this.narrator !== null) {
      this.tell(
        'restart',
        `${id} restarted from its durable state (term ${d.term}, log up to ${d.log.lastIndex}, snapshot at ${d.log.prevIndex})`,
      );
    }
    this.checker.onRestart(h);
    this.execute(h, result[0], result[1], null, null);
    this.afterEvent(h);
  }

  /** Shut `id` down for good (a node removed from the cluster). */
  shutdown(id: string): void {
    const h = this.hosts.get(id);
    if (h === undefined || h.status === 'removed') return;
    this.stats.nodesRemoved++;
    this.tell('shutdown', `${id} was shut down: it is no longer a member`);
    this.bury(h, 'removed');
    this.record(h, { shutdown: true });
    this.afterEvent(h);
  }

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

  // ------------------------------------------------------------------------------------------
  // Stepping

  /**
   * Step `event` on the running node `id` and carry out the actions. `incoming` gives the payloads
   * of the commands the event brings (AppendEntries payloads, or a proposal's new commands);
   * `snapshot` is the snapshot a `snapshotInstalled` event installs.
   */
  stepNode(
    id: string,
    event: RaftEvent,
    incoming: ((index: number) => number | undefined) | null = null,
    snapshot: SnapshotData | null = null,
  ): StepResult {
    const h = this.mustBe(id, 'up');
    const before = h.state!;
    this.record(h, { step: event });
    let result: StepResult;
    try {
      result = this.stepper(before, event);
    } catch (err) {
      return this.fail('contract', `step threw on ${event.type}: ${errorText(err)}`, [id]);
    }
    const [after, actions] = result;
    h.state = after;
    this.checker.afterStep(h, before, after, event);
    this.execute(h, after, actions, incoming, snapshot);
    if (this.recorder !== null && ++h.stepsSinceCheck >= this.checkpointEvery) {
      h.stepsSinceCheck = 0;
      this.recorder.checks.push({ check: this.events, node: id, hash: hashState(after) });
    }
    this.afterEvent(h);
    return result;
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
   * A client proposes `count` new commands on `id`: where they went, or, when the node refused, the
   * leader it named.
   */
  propose(id: string, count: number): ProposeOutcome {
    const h = this.mustBe(id, 'up');
    const first = h.state!.log.lastIndex + 1;
    const ids: number[] = [];
    for (let k = 0; k < count; k++) ids.push(this.newCommand());
    this.stats.proposals++;
    const [after, actions] = this.stepNode(id, { type: 'propose', count }, (i) => ids[i - first]);
    for (const a of actions) {
      if (a.type === 'rejected') {
        this.stats.proposalsRejected++;
        return { accepted: false, hint: a.leaderHint };
      }
    }
    if (after.log.lastIndex !== first + count - 1) return { accepted: false, hint: null };
    this.stats.commandsProposed += count;
    return { accepted: true, term: after.term, firstIndex: first, lastIndex: after.log.lastIndex };
  }

  /**
   * Local compaction on `id`: save the state machine at its applied index (a committed index) and
   * step `snapshotInstalled` there, with the position and configuration from `positionAndConfigAt`.
   * Returns false when there is nothing new to compact or the node refused.
   */
  compact(id: string): boolean {
    const h = this.mustBe(id, 'up');
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
    const h = this.mustBe(id, 'up');
    h.timerAt = null;
    h.timerGen++;
    this.stepNode(id, { type: 'timeout' });
  }

  /** A fresh client command id (and, with an application, its command). */
  newCommand(): number {
    const cmd = ++this.commandSeq;
    if (this.app !== null) this.commands.set(cmd, this.app.command(this.rng, cmd));
    return cmd;
  }

  private initialMachine(): Machine {
    return { index: 0, hash: 0, app: this.app === null ? null : this.app.initial };
  }

  private mustBe(id: string, status: NodeStatus): SimNode {
    const h = this.hosts.get(id);
    if (h === undefined) throw new Error(`no node ${id}`);
    if (h.status !== status) throw new Error(`node ${id} is ${h.status}, not ${status}`);
    return h;
  }

  private record(
    h: SimNode,
    what: { start: true } | { step: RaftEvent } | { restart: PersistedState } | { crash: true } | { shutdown: true },
  ): void {
    const n = ++this.events;
    if (this.recorder !== null) this.recorder.events.push({ n, t: this.now, node: h.id, ...what } as never);
  }

  private afterEvent(h: SimNode): void {
    for (const inv of this.invariants) {
      let problem: string | null;
      try {
        problem = inv(this);
      } catch (err) {
        problem = `invariant threw: ${errorText(err)}`;
      }
      if (problem !== null) this.fail('application', problem, [h.id]);
    }
  }

  // ------------------------------------------------------------------------------------------
  // Carrying out actions

  private execute(
    h: SimNode,
    after: RaftState,
    actions: Actions,
    incoming: ((index: number) => number | undefined) | null,
    snapshot: SnapshotData | null,
  ): void {
    for (const a of actions) {
      switch (a.type) {
        case 'setTimer':
          this.armTimer(h, a.wait);
          break;
        case 'saveHardState':
          this.write(h, { k: 'hard', term: a.term, votedFor: a.votedFor });
          break;
        case 'compactLog':
          if (snapshot === null || snapshot.term !== a.term || snapshot.index !== a.index) {
            this.fail('contract', `compactLog (${a.term}, ${a.index}) for a snapshot the application did not install`, [
              h.id,
            ]);
          }
          this.write(h, { k: 'snapshot', snapshot });
          break;
        case 'appendLog': {
          const payloads = this.payloadsFor(h, a.entries, incoming);
          if (!this.write(h, { k: 'append', entries: a.entries, payloads })) {
            const e = a.entries;
            const l = h.live.log;
            this.fail(
              'contract',
              `appendLog anchored at (${e.prevTerm}, ${e.prevIndex}) outside the stored log (${l.prevTerm}, ${l.prevIndex})..(${l.lastTerm}, ${l.lastIndex})`,
              [h.id],
            );
          }
          break;
        }
        case 'commitAdvanced':
          this.emit(h, { k: 'apply', commitIndex: a.commitIndex, term: after.term });
          break;
        case 'broadcast': {
          const payloads = this.attach(h, a.message);
          for (const to of peersOf(after)) this.emit(h, { k: 'msg', to, message: a.message, payloads });
          break;
        }
        case 'send':
          if (a.to === h.id) this.fail('contract', `a message to itself: ${a.message.type}`, [h.id]);
          this.emit(h, { k: 'msg', to: a.to, message: a.message, payloads: this.attach(h, a.message) });
          break;
        case 'installSnapshot': {
          const snap = h.live.snapshot;
          if (snap === null) this.fail('contract', `installSnapshot to ${a.to} without a snapshot`, [h.id]);
          this.emit(h, { k: 'snap', to: a.to, snapshot: snap });
          break;
        }
        case 'rejected':
          break;
        case 'invalidEvent':
          this.fail('contract', `invalidEvent for a well-formed event: ${a.reason}`, [h.id]);
          break;
        case 'fatal':
          this.fail('contract', `fatal: ${a.reason}`, [h.id]);
      }
    }
  }

  /** The payloads of an append: from the event (`incoming`) for commands; 0 for the other entries. */
  private payloadsFor(h: SimNode, e: LogEntries, incoming: ((index: number) => number | undefined) | null): number[] {
    const out = new Array<number>(e.lastIndex - e.prevIndex);
    forEachEntry(e, e.prevIndex + 1, e.lastIndex, (i, _term, kind) => {
      if (kind !== ENTRY_COMMAND) {
        out[i - e.prevIndex - 1] = 0;
        return;
      }
      const p = incoming === null ? undefined : incoming(i);
      if (p === undefined || p <= 0)
        this.fail('contract', `appendLog holds a command at ${i} that the event did not bring`, [h.id]);
      out[i - e.prevIndex - 1] = p;
    });
    return out;
  }

  /** The payloads to send along with `m` (AppendEntries only). */
  private attach(h: SimNode, m: Message): readonly number[] | null {
    if (m.type !== 'appendEntries') return null;
    const e = m.entries;
    return e.lastIndex === e.prevIndex ? EMPTY : h.live.payloads.range(e.prevIndex, e.lastIndex);
  }

  private write(h: SimNode, w: Write): boolean {
    if (!h.live.apply(w)) return false;
    const seq = ++h.writeSeq;
    h.pending.push({ seq, write: w });
    const done = Math.max(this.now, h.lastWriteDone) + this.rng.int(this.timing.storageMin, this.timing.storageMax);
    h.lastWriteDone = done;
    const life = h.incarnation;
    this.agenda.push(done, () => this.writeDone(h, life, seq));
    return true;
  }

  private writeDone(h: SimNode, life: number, seq: number): void {
    if (h.incarnation !== life) return;
    while (h.pending.length > 0 && h.pending[0]!.seq <= seq) {
      const w = h.pending.shift()!.write;
      if (w.k === 'hard' && w.term < h.durable.term) {
        this.fail('termMonotonic', `durable term would go from ${h.durable.term} down to ${w.term}`, [h.id]);
      }
      h.durable.apply(w);
    }
    while (h.outbox.length > 0 && h.outbox[0]!.barrier <= seq) this.dispatch(h, h.outbox.shift()!.out);
  }

  /** Send `out` now, or hold it until every write issued so far is durable. */
  private emit(h: SimNode, out: Outbound): void {
    if (h.pending.length > 0) h.outbox.push({ barrier: h.writeSeq, out });
    else this.dispatch(h, out);
  }

  private dispatch(h: SimNode, out: Outbound): void {
    switch (out.k) {
      case 'apply':
        this.applyCommitted(h, out.commitIndex, out.term);
        return;
      case 'msg':
        this.transmit({
          id: ++this.packetSeq,
          from: h.id,
          to: out.to,
          message: out.message,
          payloads: out.payloads,
          snapshot: null,
          sentAt: this.now,
        });
        return;
      case 'snap': {
        // One transfer per follower at a time: a careful application does not start another while
        // one is in flight (the leader asks again on every reply until the follower caught up).
        if (h.transfers.has(out.to)) return;
        const id = ++this.packetSeq;
        h.transfers.set(out.to, id);
        this.stats.snapshotsSent++;
        this.transmit({
          id,
          from: h.id,
          to: out.to,
          message: null,
          payloads: null,
          snapshot: out.snapshot,
          sentAt: this.now,
        });
      }
    }
  }

  /** A snapshot transfer ended (installed, refused or lost): its sender may start another. */
  private transferEnded(p: Packet): void {
    const from = this.hosts.get(p.from);
    if (from !== undefined && from.transfers.get(p.to) === p.id) from.transfers.delete(p.to);
  }

  private armTimer(h: SimNode, wait: TimerWait): void {
    const t = this.timing;
    const d =
      wait === 'heartbeat'
        ? t.heartbeat
        : wait === 'election'
          ? this.rng.int(t.electionMin, t.electionMax)
          : this.rng.int(t.followerMin, t.followerMax);
    const gen = ++h.timerGen;
    const life = h.incarnation;
    const at = this.now + d;
    h.timerAt = at;
    this.agenda.push(at, () => {
      if (h.incarnation !== life || h.timerGen !== gen || h.status !== 'up') return;
      h.timerAt = null;
      this.stepNode(h.id, { type: 'timeout' });
    });
  }

  // ------------------------------------------------------------------------------------------
  // The state machine

  /** Apply the committed entries up to `commitIndex` (known in `term`) on `h`'s state machine. */
  private applyCommitted(h: SimNode, commitIndex: number, term: number): void {
    const s = h.state;
    if (s === null) return;
    const from = h.machine.index + 1;
    if (commitIndex < from) return;
    const log = s.log;
    if (from <= log.prevIndex || commitIndex > log.lastIndex) {
      this.fail(
        'stateMachineSafety',
        `cannot apply (${from}..${commitIndex}]: the log holds (${log.prevIndex}..${log.lastIndex}]`,
        [h.id],
      );
    }
    let hash = h.machine.hash;
    let app = h.machine.app;
    const appDef = this.app;
    const payloads = h.live.payloads;
    forEachEntry(log, from, commitIndex, (i, t, kind, config) => {
      let payload = 0;
      if (kind === ENTRY_COMMAND) {
        const p = payloads.get(i);
        if (p === undefined || p <= 0)
          this.fail('stateMachineSafety', `committed command at ${i} has no payload`, [h.id]);
        payload = p;
        hash = mix(hash, p);
        if (appDef !== null) {
          try {
            app = appDef.apply(app, this.commands.get(p), i);
          } catch (err) {
            this.fail('application', `apply threw at ${i}: ${errorText(err)}`, [h.id]);
          }
        }
      }
      this.checker.committed(h, i, t, kind, payload, config, hash, app, appDef);
    });
    h.machine = { index: commitIndex, hash, app };
    this.checker.commitKnown(h, term, commitIndex);
  }

  /** @internal Called by the checker when index `i` is committed for the first time. */
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

  private installSnapshot(h: SimNode, snap: SnapshotData): void {
    const [, actions] = this.stepNode(
      h.id,
      { type: 'snapshotInstalled', term: snap.term, index: snap.index, config: snap.config },
      null,
      snap,
    );
    if (!actions.some((a) => a.type === 'compactLog')) return;
    this.stats.snapshotsInstalled++;
    this.tell('snapshot', `${h.id} installed a snapshot at index ${snap.index} sent by the leader`);
    if (snap.index > h.machine.index) h.machine = snap.machine;
    this.checker.snapshotInstalled(h, snap);
  }

  // ------------------------------------------------------------------------------------------
  // The network

  private transmit(p: Packet): void {
    this.stats.sent++;
    if (this.mode === 'manual') {
      this.inFlight.push(p);
      return;
    }
    const t = this.timing;
    if (p.snapshot !== null) {
      // A transfer takes time; a lost one is noticed by its sender when it would have arrived.
      const at = this.now + this.rng.int(t.snapshotMin, t.snapshotMax);
      if (this.isBlocked(p.from, p.to) || (this.faults.has('snapshot') && this.rng.chance(this.rates.snapshotLoss))) {
        this.stats.snapshotsLost++;
        this.agenda.push(at, () => this.transferEnded(p));
        return;
      }
      if (this.faults.has('dup') && this.rng.chance(this.rates.duplicate)) {
        this.stats.duplicates++;
        this.agenda.push(at + this.rng.int(t.latencyMin, t.latencyMax), () => this.deliver(p));
      }
      this.agenda.push(at, () => this.deliver(p));
      return;
    }
    if (this.isBlocked(p.from, p.to)) {
      this.stats.partitionDrops++;
      return;
    }
    if (this.faults.has('drop') && this.rng.chance(this.rates.drop)) {
      this.stats.dropped++;
      return;
    }
    const copies = this.faults.has('dup') && this.rng.chance(this.rates.duplicate) ? 2 : 1;
    if (copies === 2) this.stats.duplicates++;
    const reorder = this.faults.has('reorder');
    const link = p.from + '>' + p.to;
    for (let c = 0; c < copies; c++) {
      let at = this.now + this.rng.int(t.latencyMin, t.latencyMax);
      if (reorder && this.rng.chance(this.rates.reorder)) {
        at += this.rng.int(1, Math.max(1, t.reorderDelay));
        this.stats.reordered++;
      } else if (!reorder) {
        // Without the reorder fault, links are FIFO.
        const last = this.linkLast.get(link) ?? 0;
        if (at < last) at = last;
        this.linkLast.set(link, at);
      }
      this.agenda.push(at, () => this.deliver(p));
    }
  }

  /** Deliver `p` now (it is dropped when its link is cut or its receiver is not up). */
  deliver(p: Packet): void {
    if (p.snapshot !== null) this.transferEnded(p);
    if (this.isBlocked(p.from, p.to)) {
      this.stats.partitionDrops++;
      return;
    }
    const h = this.hosts.get(p.to);
    if (h === undefined || h.status !== 'up') {
      this.stats.downDrops++;
      return;
    }
    this.stats.delivered++;
    if (p.snapshot !== null) {
      this.installSnapshot(h, p.snapshot);
      return;
    }
    const m = p.message!;
    let incoming: ((index: number) => number | undefined) | null = null;
    if (m.type === 'appendEntries' && p.payloads !== null) {
      const base = m.entries.prevIndex + 1;
      const payloads = p.payloads;
      incoming = (i) => payloads[i - base];
    }
    this.stepNode(p.to, m, incoming);
  }

  /** Manual mode: deliver the in-flight packet at position `k` (modulo their number). */
  deliverInFlight(k: number): Packet | null {
    if (this.inFlight.length === 0) return null;
    const p = this.inFlight.splice(k % this.inFlight.length, 1)[0]!;
    this.deliver(p);
    return p;
  }

  /** Manual mode: lose the in-flight packet at position `k` (modulo their number). */
  dropInFlight(k: number): Packet | null {
    if (this.inFlight.length === 0) return null;
    const p = this.inFlight.splice(k % this.inFlight.length, 1)[0]!;
    if (p.snapshot !== null) {
      this.stats.snapshotsLost++;
      this.transferEnded(p);
    } else this.stats.dropped++;
    return p;
  }

  /** Manual mode: send the in-flight packet at position `k` once more. */
  duplicateInFlight(k: number): Packet | null {
    if (this.inFlight.length === 0) return null;
    const p = this.inFlight[k % this.inFlight.length]!;
    this.inFlight.push(p);
    this.stats.duplicates++;
    return p;
  }

  /** True when messages from `from` to `to` are cut. */
  isBlocked(from: string, to: string): boolean {
    return this.blocked.size > 0 && (this.blocked.get(from + '>' + to) ?? 0) > 0;
  }

  /**
   * Cut the links from every node of `a` to every node of `b` (and back, unless `oneWay`). Returns
   * the cut, to heal it alone with `healCut`.
   */
  cut(a: readonly string[], b: readonly string[], oneWay = false): string[] {
    const links: string[] = [];
    for (const x of a) {
      for (const y of b) {
        if (x === y) continue;
        links.push(x + '>' + y);
        if (!oneWay) links.push(y + '>' + x);
      }
    }
    for (const l of links) this.blocked.set(l, (this.blocked.get(l) ?? 0) + 1);
    this.stats.partitions++;
    return links;
  }

  /** Heal one cut made by `cut`. */
  healCut(links: readonly string[]): void {
    for (const l of links) {
      const c = (this.blocked.get(l) ?? 0) - 1;
      if (c <= 0) this.blocked.delete(l);
      else this.blocked.set(l, c);
    }
  }

  /** Heal every cut. */
  heal(): void {
    this.blocked.clear();
  }

  /** True while some link is cut. */
  partitioned(): boolean {
    return this.blocked.size > 0;
  }

  // ------------------------------------------------------------------------------------------
  // Time

  /** Process the next scheduled thing (timer, storage completion, delivery, ...). False when none. */
  runNext(): boolean {
    const item = this.agenda.pop();
    if (item === undefined) return false;
    if (item.time > this.now) this.now = item.time;
    item.run();
    return true;
  }

  /** Advance the clock by `ms`, running everything scheduled until then (in time order). */
  advance(ms: number): void {
    const until = this.now + ms;
    while (this.agenda.peekTime() <= until) this.runNext();
    if (until > this.now) this.now = until;
  }

  /** Schedule `run` after `delay` virtual milliseconds. */
  after(delay: number, run: () => void): void {
    this.agenda.push(this.now + delay, run);
  }

  /**
   * Turn a manual world into an automatic one from now on: packets in flight are scheduled for
   * delivery with ordinary latency (used to check liveness after a hand-driven run).
   */
  goAutomatic(): void {
    this.mode = 'auto';
    const packets = this.inFlight.splice(0);
    for (const p of packets) {
      this.stats.sent--; // transmit counts it again
      this.transmit(p);
    }
  }

  /** Turn the network faults (drop, dup, reorder, snapshot loss) off. */
  calmNetwork(): void {
    this.faults = new Set();
  }
}

const EMPTY: readonly number[] = Object.freeze([]);

/** A configuration in words. */
export function describeConfig(c: ClusterConfig): string {
  const list = (ids: readonly string[]): string => (ids.length === 0 ? 'none' : ids.join(' '));
  const joint = c.newVoters.length > 0 ? `, moving to voters ${list(c.newVoters)} (joint)` : '';
  return `voters ${list(c.voters)}${joint}${c.nonVoters.length > 0 ? `, non-voters ${list(c.nonVoters)}` : ''}`;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
