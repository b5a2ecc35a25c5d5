/**
 * A small in-memory cluster for the property tests: nodes, instantly durable storage, and a network
 * whose every delivery, duplication, loss, timeout, proposal and crash is chosen by a generated
 * schedule. The schedule is plain data (a list of {@link Choice}), so fast-check shrinks it well and a
 * failure replays exactly.
 *
 * The harness itself checks what the application can see of the contract on every step ("honest
 * actions"): storage actions come before messages, every `appendLog` is anchored inside the stored
 * log, the stored hard state equals the node's term and vote, and a well-formed event never gets an
 * `invalidEvent` or `fatal` answer.
 */
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import {
  EMPTY_CONFIG,
  appendSuffix,
  applyToStoredLog,
  emptyEntries,
  latestConfig,
  peersOf,
  positionAndConfigAt,
  restartNode,
  startNode,
  step,
  termAt,
  toJointConsensus,
  withNonVoters,
  type Action,
  type Actions,
  type ClusterConfig,
  type LogEntries,
  type Message,
  type RaftEvent,
  type RaftState,
  type SnapshotInstalled,
  type StepResult,
} from '../../src/index.js';

// ---------------------------------------------------------------------------------------------
// The schedule

/** One scheduling decision. Indices are taken modulo the number of nodes / in-flight messages. */
export type Choice =
  | { readonly t: 'deliver'; readonly k: number }
  | { readonly t: 'duplicate'; readonly k: number }
  | { readonly t: 'drop'; readonly k: number }
  | { readonly t: 'timeout'; readonly i: number }
  | { readonly t: 'propose'; readonly i: number; readonly count: number }
  | { readonly t: 'heartbeat'; readonly i: number }
  | { readonly t: 'restart'; readonly i: number }
  | { readonly t: 'createCluster'; readonly i: number }
  | { readonly t: 'compact'; readonly i: number }
  | { readonly t: 'reconfigure'; readonly i: number; readonly op: ReconfigureOp; readonly j: number };

/** A membership change proposed on node i about node j (see `Cluster.run`). */
export type ReconfigureOp = 'addVoter' | 'removeVoter' | 'addNonVoter' | 'removeNonVoter';

export interface ChoiceWeights {
  deliver: number;
  duplicate: number;
  drop: number;
  timeout: number;
  propose: number;
  heartbeat: number;
  restart: number;
  createCluster: number;
  /** Local compaction at the commit index (snapshots); 0 in the basic schedules. */
  compact?: number;
  /** Membership changes; 0 in the basic schedules. */
  reconfigure?: number;
}

export const DEFAULT_WEIGHTS: ChoiceWeights = {
  deliver: 55,
  duplicate: 4,
  drop: 7,
  timeout: 7,
  propose: 12,
  heartbeat: 6,
  restart: 2,
  createCluster: 1,
};

/** The basic weights plus log compaction and membership changes. */
export const EXTENDED_WEIGHTS: ChoiceWeights = { ...DEFAULT_WEIGHTS, compact: 4, reconfigure: 5 };

/** An arbitrary scheduling decision. */
export function choiceArb(w: ChoiceWeights = DEFAULT_WEIGHTS): fc.Arbitrary<Choice> {
  const k = fc.nat({ max: 1000 });
  const i = fc.nat({ max: 99 });
  const arbs: Array<{ weight: number; arbitrary: fc.Arbitrary<Choice> }> = [
    { weight: w.deliver, arbitrary: k.map((k) => ({ t: 'deliver' as const, k })) },
    { weight: w.duplicate, arbitrary: k.map((k) => ({ t: 'duplicate' as const, k })) },
    { weight: w.drop, arbitrary: k.map((k) => ({ t: 'drop' as const, k })) },
    { weight: w.timeout, arbitrary: i.map((i) => ({ t: 'timeout' as const, i })) },
    {
      weight: w.propose,
      arbitrary: fc.record({ t: fc.constant('propose' as const), i, count: fc.integer({ min: 1, max: 3 }) }),
    },
    { weight: w.heartbeat, arbitrary: i.map((i) => ({ t: 'heartbeat' as const, i })) },
    { weight: w.restart, arbitrary: i.map((i) => ({ t: 'restart' as const, i })) },
    { weight: w.createCluster, arbitrary: i.map((i) => ({ t: 'createCluster' as const, i })) },
    { weight: w.compact ?? 0, arbitrary: i.map((i) => ({ t: 'compact' as const, i })) },
    {
      weight: w.reconfigure ?? 0,
      arbitrary: fc.record({
        t: fc.constant('reconfigure' as const),
        i,
        op: fc.constantFrom<ReconfigureOp>('addVoter', 'removeVoter', 'addNonVoter', 'removeNonVoter'),
        j: i,
      }),
    },
  ];
  return fc.oneof(...arbs.filter((a) => a.weight > 0));
}

/** An arbitrary schedule of up to `maxLength` decisions. */
export function scheduleArb(maxLength: number, w: ChoiceWeights = DEFAULT_WEIGHTS): fc.Arbitrary<Choice[]> {
  return fc.array(choiceArb(w), { minLength: 1, maxLength, size: 'max' });
}

/**
 * `n` runs, times PROPS_SCALE when set (e.g. `PROPS_SCALE=20 npx jest tests/properties` for a long
 * bug hunt; the default keeps the folder within its time budget).
 */
export function runs(n: number): number {
  const scale = Number(process.env.PROPS_SCALE ?? 1);
  return Math.max(1, Math.round(n * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}

export function nodeIds(n: number): string[] {
  return Array.from({ length: n }, (_, k) => `n${k + 1}`);
}

// ---------------------------------------------------------------------------------------------
// The cluster

/**
 * Something on the wire: a Raft message, or a snapshot transfer (after an `installSnapshot` action),
 * which the receiver steps as `snapshotInstalled` once it arrives.
 */
export interface Envelope {
  readonly from: string;
  readonly to: string;
  readonly message: Message | SnapshotInstalled;
}

/**
 * What the node durably stored: the last hard state, the log rebuilt from its `appendLog` actions
 * (with `appendSuffix`) and `compactLog` actions, and the configuration of its snapshot.
 */
export interface Stored {
  term: number;
  votedFor: string | null;
  log: LogEntries;
  snapshotConfig: ClusterConfig;
}

/** One call of `step` (or one restart, with `event === null`). */
export interface StepRecord {
  readonly node: string;
  readonly before: RaftState | null;
  readonly event: RaftEvent | null;
  readonly after: RaftState;
  readonly actions: Actions;
}

export type Stepper = (state: RaftState, event: RaftEvent) => StepResult;

export interface ClusterOptions {
  /** How to call `step` (contract tests wrap it); `step` by default. */
  stepper?: Stepper;
  /** Keep every step in `trace`. */
  record?: boolean;
  /** The initial voters (the other nodes start outside the cluster); all nodes by default. */
  voters?: readonly string[];
}

/** A violation of the contract or of a Raft invariant: the message says which. */
export class Violation extends Error {
  override name = 'Violation';
}

export function fail(message: string): never {
  throw new Violation(message);
}

const STORAGE = new Set<Action['type']>(['saveHardState', 'compactLog', 'appendLog']);
const MESSAGES = new Set<Action['type']>(['broadcast', 'send', 'installSnapshot']);

export class Cluster {
  readonly ids: readonly string[];
  readonly states = new Map<string, RaftState>();
  readonly stored = new Map<string, Stored>();
  /** Messages in flight, in send order (deliveries pick any of them). */
  readonly inFlight: Envelope[] = [];
  readonly trace: StepRecord[] = [];
  /** Counters for coverage. */
  readonly counts = {
    delivered: 0,
    duplicated: 0,
    dropped: 0,
    restarts: 0,
    rejected: 0,
    steps: 0,
    snapshotsSent: 0,
    compactions: 0,
    configsProposed: 0,
  };
  private readonly stepper: Stepper;
  private readonly record: boolean;

  /** The voters `createCluster` names: every node unless `options.voters` says otherwise. */
  readonly voters: readonly string[];

  constructor(ids: readonly string[], options: ClusterOptions = {}) {
    this.ids = ids;
    this.voters = options.voters ?? ids;
    this.stepper = options.stepper ?? step;
    this.record = options.record ?? false;
    for (const id of ids) {
      this.states.set(id, startNode(id));
      this.stored.set(id, { term: 0, votedFor: null, log: emptyEntries(0, 0), snapshotConfig: EMPTY_CONFIG });
    }
  }

  state(id: string): RaftState {
    return this.states.get(id)!;
  }

  /** Step `event` on node `id` and carry out the actions (storage is durable at once). */
  stepNode(id: string, event: RaftEvent): StepResult {
    const before = this.state(id);
    const [after, actions] = this.stepper(before, event);
    this.counts.steps++;
    this.states.set(id, after);
    if (this.record) this.trace.push({ node: id, before, event, after, actions });
    this.execute(id, after, actions, event);
    return [after, actions];
  }

  /** Crash node `id` and bring it back from what it stored. */
  restart(id: string): void {
    const s = this.stored.get(id)!;
    const [after, actions] = restartNode({
      id,
      term: s.term,
      votedFor: s.votedFor,
      log: s.log,
      snapshotConfig: s.snapshotConfig,
    });
    this.counts.restarts++;
    this.states.set(id, after);
    if (this.record) this.trace.push({ node: id, before: null, event: null, after, actions });
    this.execute(id, after, actions, null);
  }

  /** Carry out one scheduling decision. Returns false when it had nothing to act on. */
  run(c: Choice): boolean {
    const n = this.ids.length;
    switch (c.t) {
      case 'deliver':
      case 'duplicate':
      case 'drop': {
        if (this.inFlight.length === 0) return false;
        const k = c.k % this.inFlight.length;
        const env = this.inFlight[k]!;
        if (c.t === 'duplicate') {
          this.inFlight.push(env);
          this.counts.duplicated++;
          return true;
        }
        this.inFlight.splice(k, 1);
        if (c.t === 'drop') {
          this.counts.dropped++;
          return true;
        }
        this.counts.delivered++;
        this.stepNode(env.to, env.message);
        return true;
      }
      case 'timeout':
        this.stepNode(this.ids[c.i % n]!, { type: 'timeout' });
        return true;
      case 'propose':
        this.stepNode(this.ids[c.i % n]!, { type: 'propose', count: c.count });
        return true;
      case 'heartbeat':
        this.stepNode(this.ids[c.i % n]!, { type: 'heartbeat' });
        return true;
      case 'restart':
        this.restart(this.ids[c.i % n]!);
        return true;
      case 'createCluster':
        this.stepNode(this.ids[c.i % n]!, { type: 'createCluster', voters: this.voters.slice() });
        return true;
      case 'compact': {
        // The application snapshots its state machine at the commit index and tells the node.
        const s = this.state(this.ids[c.i % n]!);
        if (s.commitIndex <= s.log.prevIndex) return false;
        const at = positionAndConfigAt(s, s.commitIndex)!;
        this.counts.compactions++;
        this.stepNode(s.id, { type: 'snapshotInstalled', term: at.term, index: at.index, config: at.config });
        return true;
      }
      case 'reconfigure': {
        // Proposed on the newest leader when there is one (elsewhere it is only refused), else on node i.
        const s = this.leader() ?? this.state(this.ids[c.i % n]!);
        const config = latestConfig(s);
        const j = this.ids[c.j % n]!;
        let next: ClusterConfig;
        switch (c.op) {
          case 'addVoter':
            next = toJointConsensus(config, [j], []);
            break;
          case 'removeVoter':
            next = toJointConsensus(config, [], [j]);
            break;
          case 'addNonVoter':
            next = withNonVoters(config, [j], []);
            break;
          case 'removeNonVoter':
            next = withNonVoters(config, [], [j]);
            break;
        }
        this.counts.configsProposed++;
        this.stepNode(s.id, { type: 'proposeConfig', config: next });
        return true;
      }
    }
  }

  /** Deliver every message in flight, oldest first, until the network is quiet (or `limit` deliveries). */
  settle(limit = 100_000): void {
    for (let i = 0; i < limit && this.inFlight.length > 0; i++) this.run({ t: 'deliver', k: 0 });
  }

  /** The node that leads in the highest term, if any. */
  leader(): RaftState | null {
    let best: RaftState | null = null;
    for (const s of this.states.values()) if (s.role === 'leader' && (best === null || s.term > best.term)) best = s;
    return best;
  }

  private execute(id: string, after: RaftState, actions: Actions, event: RaftEvent | null): void {
    const stored = this.stored.get(id)!;
    let sentSomething = false;
    for (const a of actions) {
      if (STORAGE.has(a.type) && sentSomething) {
        fail(`${id}: storage action ${a.type} after a message in ${JSON.stringify(actions.map((x) => x.type))}`);
      }
      if (MESSAGES.has(a.type)) sentSomething = true;
      switch (a.type) {
        case 'setTimer':
        case 'commitAdvanced':
          break;
        case 'saveHardState':
          stored.term = a.term;
          stored.votedFor = a.votedFor;
          break;
        case 'appendLog': {
          const log = appendSuffix(stored.log, a.entries);
          if (log === null) {
            fail(`${id}: appendLog anchored at (${a.entries.prevTerm}, ${a.entries.prevIndex}) outside the stored log`);
          }
          stored.log = log;
          break;
        }
        case 'compactLog':
          stored.log = applyToStoredLog(stored.log, a);
          stored.snapshotConfig = after.snapshotConfig;
          break;
        case 'broadcast':
          for (const to of peersOf(after)) this.inFlight.push({ from: id, to, message: a.message });
          break;
        case 'send':
          if (a.to === id) fail(`${id}: sends a message to itself`);
          this.inFlight.push({ from: id, to: a.to, message: a.message });
          break;
        case 'installSnapshot': {
          const log = after.log;
          if (log.prevIndex === 0) fail(`${id}: installSnapshot to ${a.to} although it never compacted its log`);
          this.counts.snapshotsSent++;
          const install: SnapshotInstalled = {
            type: 'snapshotInstalled',
            term: log.prevTerm,
            index: log.prevIndex,
            config: after.snapshotConfig,
          };
          this.inFlight.push({ from: id, to: a.to, message: install });
          break;
        }
        case 'rejected':
          this.counts.rejected++;
          break;
        case 'invalidEvent':
        case 'fatal':
          fail(`${id}: ${a.type} (${a.reason}) for the well-formed event ${JSON.stringify(event)}`);
      }
    }
    // Storage is instantly durable: what the node stored is what it holds.
    if (stored.term !== after.term || stored.votedFor !== after.votedFor) {
      fail(
        `${id}: stored hard state (${stored.term}, ${stored.votedFor}) differs from the state's ` +
          `(${after.term}, ${after.votedFor}) after ${JSON.stringify(event)}`,
      );
    }
    // The in-memory log may be shorter than the stored one (a follower truncates a divergent tail
    // in memory and persists the truncation with its next append), but it is always a prefix of it.
    const log = after.log;
    if (stored.log.lastIndex < log.lastIndex || !agreeUpTo(stored.log, log, log.lastIndex)) {
      fail(`${id}: the log in memory ${showLog(log)} is not a prefix of the stored log ${showLog(stored.log)}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Log comparison

/**
 * True when two logs hold the same entries at every index in `[1, upTo]` that both still hold (both
 * must reach `upTo`; below the later snapshot only its position can be compared): the same term
 * everywhere — compared with `termAt` at the first common index and at every term start of either
 * log, which is where the term can change — and the same configuration entries.
 */
export function agreeUpTo(a: LogEntries, b: LogEntries, upTo: number): boolean {
  if (upTo <= 0) return true;
  if (a.lastIndex < upTo || b.lastIndex < upTo) return false;
  const snapshot = Math.max(a.prevIndex, b.prevIndex);
  const lo = Math.max(snapshot, 1);
  if (lo > upTo) return true;
  if (termAt(a, lo) !== termAt(b, lo)) return false;
  for (const s of a.termStarts) if (s.index >= lo && s.index <= upTo && termAt(b, s.index) !== s.term) return false;
  for (const s of b.termStarts) if (s.index >= lo && s.index <= upTo && termAt(a, s.index) !== s.term) return false;
  const ca = a.configs.filter((c) => c.index > snapshot && c.index <= upTo);
  const cb = b.configs.filter((c) => c.index > snapshot && c.index <= upTo);
  return isDeepStrictEqual(JSON.parse(JSON.stringify(ca)), JSON.parse(JSON.stringify(cb)));
}

export function showLog(l: LogEntries): string {
  const starts = l.termStarts.map((s) => `${s.term}@${s.index}`).join(',');
  return `(${l.prevTerm},${l.prevIndex})..(${l.lastTerm},${l.lastIndex})[${starts}]`;
}

// ---------------------------------------------------------------------------------------------
// Plain data helpers

/** Freeze `x` and everything reachable from it. */
export function deepFreeze<T>(x: T, seen: WeakSet<object> = FROZEN): T {
  if (typeof x !== 'object' || x === null || seen.has(x)) return x;
  seen.add(x);
  for (const key of Reflect.ownKeys(x)) deepFreeze((x as Record<PropertyKey, unknown>)[key], seen);
  Object.freeze(x);
  return x;
}
const FROZEN = new WeakSet<object>();

/**
 * The first place where `x` is not plain JSON data as the contract defines it (objects with the
 * plain prototype or none, dense arrays, strings, booleans, null, safe integers), or null when it is.
 */
export function notPlainJson(x: unknown, path = '$'): string | null {
  switch (typeof x) {
    case 'string':
    case 'boolean':
      return null;
    case 'number':
      return Number.isSafeInteger(x) ? null : `${path} is the number ${x}`;
    case 'object': {
      if (x === null) return null;
      if (Array.isArray(x)) {
        if (Object.getPrototypeOf(x) !== Array.prototype) return `${path} is an exotic array`;
        for (let i = 0; i < x.length; i++) {
          if (!(i in x)) return `${path}[${i}] is a hole`;
          const p = notPlainJson(x[i], `${path}[${i}]`);
          if (p !== null) return p;
        }
        return null;
      }
      const proto: unknown = Object.getPrototypeOf(x);
      if (proto !== Object.prototype && proto !== null) return `${path} is not a plain object`;
      for (const key of Reflect.ownKeys(x)) {
        if (typeof key !== 'string') return `${path} has a symbol key`;
        const p = notPlainJson((x as Record<string, unknown>)[key], `${path}.${key}`);
        if (p !== null) return p;
      }
      return null;
    }
    default:
      return `${path} is ${typeof x}`;
  }
}

export function jsonClone<T>(x: T): T {
  return JSON.parse(JSON.stringify(x)) as T;
}
