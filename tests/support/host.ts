/**
 * The test host: the application's side of the contract, written once for every test cluster (the
 * unit tests' hand-driven network, the property and membership clusters, the scenario driver). Each
 * suite keeps its own network and scheduling; this module carries out what a node asks for. Not a
 * test file.
 *
 * How a node's actions are carried out (README, "What to do for each action"):
 * - the list must be in the canonical order, so that every storage action comes before every
 *   message (the persistence rule); a storage action after a message is a violation;
 * - storage is durable at once: `saveHardState` stores the term and the vote; `appendLog` and
 *   `compactLog` are applied to the stored log with `applyToStoredLog` (which refuses an append not
 *   anchored in it); a `compactLog` at or above the stored snapshot also stores the snapshot's
 *   configuration (the application saved the snapshot with it before stepping `snapshotInstalled`);
 * - only then do messages leave: a `broadcast` goes to `peersOf(state)` after the step, a `send` to
 *   its peer (never to the node itself), and an `installSnapshot {to}` becomes a snapshot transfer
 *   carrying the sender's snapshot as it is after the step (position and configuration), which the
 *   receiver steps as `snapshotInstalled`;
 * - `setTimer` arms the node's one timer (cancelling the armed one); with a clock (see
 *   `HostOptions.timerDuration`) it is due that many time units after the host's `now`, and
 *   `advance` moves time on and says whose timers fired;
 * - `internalError` is always a violation; `invalidEvent` and `fatal` are violations when the host
 *   is told that every event is well-formed and every node healthy (`wellFormed`).
 *
 * After every step the stored state must equal the node's (storage is instantly durable): the same
 * term and vote, the same snapshot position and configuration, and the log in memory a prefix of the
 * stored log (it may be shorter: a follower truncates a divergent tail in memory and persists the
 * truncation with its next append).
 *
 * A restart rebuilds the node with `restartNode` from what it stored, and carries out the actions.
 */
import {
  EMPTY_CONFIG,
  applyToStoredLog,
  configsEqual,
  emptyEntries,
  peersOf,
  BASIC_OPTIONS,
  restartNode,
  startNode,
  type NodeOptions,
  step,
  stepAll,
  type RaftAction,
  type RaftActions,
  type ClusterConfig,
  type LogEntries,
  type Message,
  type RaftEvent,
  type RaftState,
  type SnapshotInstalledEvent,
  type StepResult,
  type TimerWait,
} from '../../src/index.js';
import { sameEntries, showLog } from './logs.js';

/** A violation of the contract or of a Raft invariant, found by a host or the checker. */
export class Violation extends Error {
  override name = 'Violation';
}

export function fail(message: string): never {
  throw new Violation(message);
}

/** What a node stored durably: everything `restartNode` needs besides the id. */
export interface Disk {
  term: number;
  votedFor: string | null;
  log: LogEntries;
  snapshotConfig: ClusterConfig;
}

/** The disk of a fresh node. */
export function freshDisk(): Disk {
  return { term: 0, votedFor: null, log: emptyEntries(0, 0), snapshotConfig: EMPTY_CONFIG };
}

/** A Raft message on its way. */
export interface Packet {
  readonly kind: 'msg';
  readonly from: string;
  readonly to: string;
  readonly message: Message;
}

/** A snapshot transfer asked for by an `installSnapshot` action: the sender's snapshot then. */
export interface Transfer {
  readonly kind: 'snap';
  readonly from: string;
  readonly to: string;
  readonly term: number;
  readonly index: number;
  readonly config: ClusterConfig;
}

/** What leaves a node once its storage is durable. */
export type Outgoing = Packet | Transfer;

/** The event the receiver of a snapshot transfer steps. */
export function transferEvent(t: Transfer): SnapshotInstalledEvent {
  return { type: 'snapshotInstalled', term: t.term, index: t.index, config: t.config };
}

const STORAGE: ReadonlySet<RaftAction['type']> = new Set(['saveHardState', 'compactLog', 'appendLog']);
const MESSAGES: ReadonlySet<RaftAction['type']> = new Set(['broadcast', 'send', 'installSnapshot']);

/**
 * Carry out the storage actions of `actions` on `disk`, in order, as durable storage does; refuses
 * (with a {@link Violation}) a storage action that comes after a message, and an append that is not
 * anchored in the stored log. `snapshotConfig` is the configuration of the snapshot a `compactLog`
 * stands for (the node's `snapshotConfig` after the step).
 */
export function store(disk: Disk, actions: RaftActions, snapshotConfig: ClusterConfig): void {
  let sent = false;
  for (const a of actions) {
    if (MESSAGES.has(a.type)) sent = true;
    if (!STORAGE.has(a.type)) continue;
    if (sent) {
      fail(
        `persistence rule broken: storage action ${a.type} after a message in [${actions.map((x) => x.type).join()}]`,
      );
    }
    switch (a.type) {
      case 'saveHardState':
        disk.term = a.term;
        disk.votedFor = a.votedFor;
        break;
      case 'compactLog':
      case 'appendLog':
        if (a.type === 'compactLog' && a.index >= disk.log.prevIndex) disk.snapshotConfig = snapshotConfig;
        try {
          disk.log = applyToStoredLog(disk.log, a);
        } catch (err) {
          fail(err instanceof Error ? err.message : String(err));
        }
        break;
    }
  }
}

/** How the host calls `step` for one event, and for several merged. */
export type Stepper = (state: RaftState, event: RaftEvent) => StepResult;
export type BatchStepper = (state: RaftState, events: readonly RaftEvent[]) => StepResult;

export interface HostOptions {
  /** How to step one event (wrappers check the contract, mutants break Raft); `step` by default. */
  step?: Stepper;
  /** How to step several events at once, merging their actions; `stepAll` by default. */
  stepAll?: BatchStepper;
  /** Every event stepped is well-formed and no node may halt: `invalidEvent` and `fatal` are violations. */
  wellFormed?: boolean;
  /**
   * The options every node starts with (kept across restarts). `BASIC_OPTIONS` by default: the
   * scenario and unit suites specify the base protocol; the property suites run with the defaults too.
   */
  nodeOptions?: Partial<NodeOptions>;
  /**
   * A clock for suites that model time: how many time units a timer armed with `wait` on node `id`
   * runs before it fires. When given, every `setTimer` records when the timer is due (`timerDue`,
   * the host's `now` plus the duration) and {@link Host.advance} moves time on. Without it timers
   * only record their kind, and fire when the suite says so.
   */
  timerDuration?: (id: string, wait: TimerWait) => number;
}

/** A node of the host: its state in memory, its disk, its timer. */
export interface HostNode {
  readonly id: string;
  state: RaftState;
  readonly disk: Disk;
  timer: TimerWait | null;
  /** With a clock (`HostOptions.timerDuration`): when the armed timer fires; null otherwise. */
  timerDue: number | null;
  /** How many times it restarted (the checker notices restarts by this). */
  restarts: number;
}

/** One step (or restart) carried out. */
export interface Carried {
  readonly id: string;
  /** The state before: the one stepped, or the one lost in the crash. */
  readonly before: RaftState;
  readonly after: RaftState;
  readonly actions: RaftActions;
  /** What left the node, in order, once its storage was durable. */
  readonly out: readonly Outgoing[];
}

export class Host {
  private readonly nodes = new Map<string, HostNode>();
  private readonly stepOne: Stepper;
  private readonly stepMany: BatchStepper;
  private readonly wellFormed: boolean;
  private readonly nodeOptions: Partial<NodeOptions>;
  private readonly timerDuration: ((id: string, wait: TimerWait) => number) | null;
  /** The time, in the units of `HostOptions.timerDuration` (0 until {@link advance} moves it). */
  now = 0;

  constructor(ids: readonly string[] = [], options: HostOptions = {}) {
    this.stepOne = options.step ?? step;
    this.stepMany = options.stepAll ?? stepAll;
    this.wellFormed = options.wellFormed ?? false;
    this.nodeOptions = options.nodeOptions ?? BASIC_OPTIONS;
    this.timerDuration = options.timerDuration ?? null;
    for (const id of ids) this.add(id);
  }

  /** Every node, in the order they were added. */
  get ids(): string[] {
    return [...this.nodes.keys()];
  }

  /**
   * Start a fresh node (`startNode`) with an empty disk, with `options` (the host's `nodeOptions`
   * by default; kept across restarts).
   */
  add(id: string, options: Partial<NodeOptions> = this.nodeOptions): HostNode {
    if (this.nodes.has(id)) throw new Error(`node ${id} already exists`);
    const [state, actions] = startNode(id, options);
    const n: HostNode = { id, state, disk: freshDisk(), timer: null, timerDue: null, restarts: 0 };
    this.nodes.set(id, n);
    this.carryOut(n, actions, () => `${id} at its start`);
    return n;
  }

  has(id: string): boolean {
    return this.nodes.has(id);
  }

  node(id: string): HostNode {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  state(id: string): RaftState {
    return this.node(id).state;
  }

  /** Step `events` on node `id` (several: merged, as one batch) and carry out the actions. */
  step(id: string, events: readonly RaftEvent[]): Carried {
    const n = this.node(id);
    const before = n.state;
    const [after, actions] = events.length === 1 ? this.stepOne(before, events[0]!) : this.stepMany(before, events);
    n.state = after;
    const out = this.carryOut(n, actions, () => `${id} after ${JSON.stringify(events)}: ${JSON.stringify(actions)}`);
    return { id, before, after, actions, out };
  }

  /** Crash node `id` (its memory and timer are lost) and bring it back from its disk. */
  restart(id: string): Carried {
    const n = this.node(id);
    const before = n.state;
    const [after, actions] = restartNode({ id, ...n.disk, options: before.options });
    n.state = after;
    n.timer = null;
    n.timerDue = null;
    n.restarts++;
    const out = this.carryOut(n, actions, () => `${id} restarting: ${JSON.stringify(actions)}`);
    return { id, before, after, actions, out };
  }

  /**
   * With a clock: move time on by one unit and return the nodes whose timers are now due (earliest
   * first, then in the order the nodes were added), their timers disarmed (they fired). The caller
   * steps `{type: 'timeout'}` on each of them that runs; that step arms the timer again.
   */
  advance(): string[] {
    if (this.timerDuration === null) throw new Error('advance: this host has no clock (HostOptions.timerDuration)');
    this.now++;
    const due = [...this.nodes.values()].filter((n) => n.timerDue !== null && n.timerDue <= this.now);
    due.sort((x, y) => x.timerDue! - y.timerDue!);
    for (const n of due) {
      n.timer = null;
      n.timerDue = null;
    }
    return due.map((n) => n.id);
  }

  /** Storage first (durable at once), then what leaves the node; see the module comment. */
  private carryOut(n: HostNode, actions: RaftActions, what: () => string): Outgoing[] {
    const id = n.id;
    const s = n.state;
    try {
      store(n.disk, actions, s.snapshotConfig);
    } catch (err) {
      fail(`${id}: ${err instanceof Error ? err.message : String(err)}; ${what()}`);
    }
    const out: Outgoing[] = [];
    for (const a of actions) {
      switch (a.type) {
        case 'setTimer':
          n.timer = a.wait;
          if (this.timerDuration !== null) n.timerDue = this.now + this.timerDuration(id, a.wait);
          break;
        case 'broadcast':
          for (const to of peersOf(s)) out.push({ kind: 'msg', from: id, to, message: a.message });
          break;
        case 'send':
          if (a.to === id) fail(`${id} sends a message to itself: ${what()}`);
          out.push({ kind: 'msg', from: id, to: a.to, message: a.message });
          break;
        case 'installSnapshot': {
          const log = s.log;
          if (log.prevIndex === 0) fail(`${id}: installSnapshot to ${a.to} although it has no snapshot: ${what()}`);
          out.push({
            kind: 'snap',
            from: id,
            to: a.to,
            term: log.prevTerm,
            index: log.prevIndex,
            config: s.snapshotConfig,
          });
          break;
        }
        case 'internalError':
          fail(`${id}: internalError (${a.reason}) on ${a.event}: ${what()}`);
          break;
        case 'invalidEvent':
        case 'fatal':
          if (this.wellFormed) fail(`${id}: ${a.type} (${a.reason}) for well-formed events: ${what()}`);
          break;
        default:
          break;
      }
    }
    checkDurable(id, n.disk, s, what);
    return out;
  }
}

/** Storage is instantly durable: the disk holds what the node holds (see the module comment). */
function checkDurable(id: string, disk: Disk, s: RaftState, what: () => string): void {
  if (disk.term !== s.term || disk.votedFor !== s.votedFor) {
    fail(
      `${id}: stored hard state (${disk.term}, ${disk.votedFor}) differs from (${s.term}, ${s.votedFor}); ${what()}`,
    );
  }
  const log = s.log;
  if (disk.log.prevIndex !== log.prevIndex || disk.log.prevTerm !== log.prevTerm) {
    fail(
      `${id}: stored snapshot (${disk.log.prevTerm},${disk.log.prevIndex}) differs from the state's ${showLog(log)}`,
    );
  }
  if (!configsEqual(disk.snapshotConfig, s.snapshotConfig)) {
    fail(`${id}: stored snapshot configuration differs from the state's; ${what()}`);
  }
  if (disk.log.lastIndex < log.lastIndex || !sameEntries(disk.log, log, log.prevIndex, log.lastIndex)) {
    fail(`${id}: the log in memory ${showLog(log)} is not a prefix of the stored log ${showLog(disk.log)}; ${what()}`);
  }
}
