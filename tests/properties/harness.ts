/**
 * A small in-memory cluster for the property tests: nodes, instantly durable storage, and a network
 * whose every delivery, duplication, loss, timeout, proposal and crash is chosen by a generated
 * schedule. The schedule is plain data (a list of {@link Choice}), so fast-check shrinks it well and a
 * failure replays exactly.
 *
 * The nodes run on the shared test host (tests/support/host.ts), which checks what the application
 * can see of the contract on every step ("honest actions"): storage actions come before messages,
 * every `appendLog` is anchored inside the stored log, the stored state equals the node's, and (every
 * event here being well-formed) no `invalidEvent` or `fatal` answer comes back.
 */
import fc from 'fast-check';
import {
  latestConfig,
  positionAndConfigAt,
  step,
  toJointConsensus,
  withNonVoters,
  type RaftActions,
  type ClusterConfig,
  type Message,
  type RaftEvent,
  type RaftState,
  type SnapshotInstalledEvent,
  type StepResult,
} from '../../src/index.js';
import { Host, transferEvent, type Carried, type Stepper } from '../support/host';

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
  readonly message: Message | SnapshotInstalledEvent;
}

/** One call of `step` (or one restart, with `event === null`). */
export interface StepRecord {
  readonly node: string;
  readonly before: RaftState | null;
  readonly event: RaftEvent | null;
  readonly after: RaftState;
  readonly actions: RaftActions;
}

export interface ClusterOptions {
  /** How to call `step` (contract tests wrap it); `step` by default. */
  stepper?: Stepper;
  /** Keep every step in `trace`. */
  record?: boolean;
  /** The initial voters (the other nodes start outside the cluster); all nodes by default. */
  voters?: readonly string[];
}

/**
 * The nodes run on the shared test host (tests/support/host.ts), which carries out their actions
 * with instantly durable storage and checks the persistence rule; every event here is well-formed,
 * so an `invalidEvent` or `fatal` answer is a violation too. This class only schedules.
 */
export class Cluster {
  readonly ids: readonly string[];
  readonly host: Host;
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
  private readonly record: boolean;

  /** The voters `createCluster` names: every node unless `options.voters` says otherwise. */
  readonly voters: readonly string[];

  constructor(ids: readonly string[], options: ClusterOptions = {}) {
    this.ids = ids;
    this.voters = options.voters ?? ids;
    this.record = options.record ?? false;
    this.host = new Host(ids, { step: options.stepper ?? step, wellFormed: true });
  }

  state(id: string): RaftState {
    return this.host.state(id);
  }

  /** Step `event` on node `id` and carry out the actions (storage is durable at once). */
  stepNode(id: string, event: RaftEvent): StepResult {
    const done = this.host.step(id, [event]);
    this.counts.steps++;
    if (this.record)
      this.trace.push({ node: id, before: done.before, event, after: done.after, actions: done.actions });
    this.send(done);
    return [done.after, done.actions];
  }

  /** Crash node `id` and bring it back from what it stored. */
  restart(id: string): void {
    const done = this.host.restart(id);
    this.counts.restarts++;
    if (this.record) this.trace.push({ node: id, before: null, event: null, after: done.after, actions: done.actions });
    this.send(done);
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
            // toJointConsensus refuses a change that leaves no voters: no application can propose it.
            if (!config.voters.some((v) => v !== j)) return false;
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
    for (const id of this.ids) {
      const s = this.state(id);
      if (s.role === 'leader' && (best === null || s.term > best.term)) best = s;
    }
    return best;
  }

  /** Put what the host let out on the wire; count refusals. */
  private send(done: Carried): void {
    for (const a of done.actions) if (a.type === 'rejected') this.counts.rejected++;
    for (const o of done.out) {
      if (o.kind === 'msg') {
        this.inFlight.push({ from: o.from, to: o.to, message: o.message });
      } else {
        this.counts.snapshotsSent++;
        this.inFlight.push({ from: o.from, to: o.to, message: transferEvent(o) });
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Plain data helpers

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
