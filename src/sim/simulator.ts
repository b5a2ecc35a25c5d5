/**
 * Simulations: a cluster run on a virtual clock under seeded faults, then healed, with every
 * invariant checked after every event and liveness checked at the end.
 *
 * A run has two phases:
 * 1. Faults, for `steps` events: a client proposes commands to whoever it believes leads; the fault
 *    injector partitions the network (symmetric splits, isolated nodes, one-way cuts) and heals it,
 *    crashes nodes and restarts them from their durable state, has nodes compact their logs (and
 *    leaders then send snapshots, which take time and can be lost), and changes the membership;
 *    the network drops, duplicates and reorders messages.
 * 2. Calm: every fault stops, every cut heals, crashed nodes restart. Within `livenessTimeout` of
 *    virtual time a leader must be elected and a new proposal must commit.
 *
 * The first violation stops the run; the result names the seed, the invariant, the nodes and the
 * event number, and the trace (when recorded) replays the run.
 */
import { hashState } from './hash.js';
import { awaitLiveness, type LivenessReport } from './liveness.js';
import { stepFor } from './mutants.js';
import { MEMBERSHIP_CHANGES, Operator } from './operator.js';
import { nodeOptionsFor, normalizeOptions, type SimOptions, type SimOptionsInput } from './options.js';
import type { Trace } from './trace.js';
import { SimViolation, type Violation } from './violation.js';
import type { SimApplication, Stepper } from './plugins.js';
import type { Happening } from './stats.js';
import { World, type WorldInvariant } from './world.js';

/** What a simulation can be given besides its (JSON) options. */
export interface SimPlugins {
  /**
   * Use this instead of `step` on every node (a wrapper around the real one). It is not recorded
   * in the trace: replay with the same one (`replayTrace(trace, step)`).
   */
  readonly step?: Stepper;
  /** Your application, run on every replica (see `SimApplication`). */
  readonly app?: SimApplication;
  /** Your own invariants over the world, checked after every event. */
  readonly invariants?: readonly WorldInvariant[];
  /** Called every `progressEvery` events (default 500) with the events run so far. */
  readonly onProgress?: (events: number, steps: number, phase: 'faults' | 'calm') => void;
  /** Told about every noteworthy happening, in words (elections, partitions, crashes, ...). */
  readonly onHappening?: (h: Happening) => void;
  readonly progressEvery?: number;
}

/** The numbers of a run (this is the CLI's `--json` line). */
export interface SimSummary {
  readonly seed: number;
  readonly nodes: number;
  readonly steps: number;
  readonly faults: string;
  /** The mutant every node ran, if any. */
  readonly mutant: string | null;
  /** Events run in all (faults and calm). */
  readonly events: number;
  /** Virtual time at the end, in virtual milliseconds. */
  readonly virtualTime: number;
  readonly elections: number;
  readonly leaderships: number;
  readonly leaderChanges: number;
  readonly maxTerm: number;
  /** Client commands committed. */
  readonly commits: number;
  readonly commitIndex: number;
  /** Client proposals (`propose` events, each of one or more commands) and the commands they carried. */
  readonly proposals: number;
  readonly commandsProposed: number;
  /** Proposals refused by a node that was not leader (the client then tries the hinted leader). */
  readonly proposalsRejected: number;
  readonly messages: number;
  /** Messages lost to the drop fault. */
  readonly drops: number;
  readonly partitionDrops: number;
  readonly duplicates: number;
  readonly reordered: number;
  readonly partitions: number;
  readonly crashes: number;
  /** Crashes that lost storage writes not yet durable. */
  readonly crashesLosingWrites: number;
  readonly restarts: number;
  readonly compactions: number;
  readonly snapshotsSent: number;
  readonly snapshotsLost: number;
  readonly snapshotsInstalled: number;
  /** Committed configuration changes (final configurations; a voter change counts once). */
  readonly configChanges: number;
  readonly configProposals: number;
  readonly nodesAdded: number;
  readonly nodesRemoved: number;
  readonly promotions: number;
  readonly liveness: LivenessReport | null;
  /** 0, or 1 when the run stopped on a violation. */
  readonly violations: number;
  readonly violation: Violation | null;
}

/** The outcome of a simulation. */
export interface SimResult {
  readonly options: SimOptions;
  readonly summary: SimSummary;
  readonly violation: Violation | null;
  /** The recorded trace (null when `record` is off). */
  readonly trace: Trace | null;
  /** The world at the end, to inspect. */
  readonly world: World;
}

/** Run one simulation. Deterministic: the same options (and plugins) give the same run. */
export function simulate(input: SimOptionsInput = {}, plugins: SimPlugins = {}): SimResult {
  const options = normalizeOptions(input);
  return new Simulation(options, plugins).run();
}

/** One simulation run; {@link simulate} is the usual way in. */
export class Simulation {
  readonly world: World;
  readonly operator: Operator;
  private phase: 'faults' | 'calm' | 'done' = 'faults';
  private readonly ids: string[];
  private clientTarget: string | null = null;
  private readonly activeCuts = new Set<string[]>();
  private liveness: LivenessReport | null = null;

  constructor(
    readonly options: SimOptions,
    private readonly plugins: SimPlugins = {},
  ) {
    this.ids = Array.from({ length: options.nodes }, (_, k) => `n${k + 1}`);
    this.world = new World({
      seed: options.seed,
      mode: 'auto',
      timing: options.timing,
      rates: options.rates,
      faults: options.faults,
      record: options.record,
      checkpointEvery: options.checkpointEvery,
      headerOptions: options,
      headerNodes: this.ids,
      nodeOptions: nodeOptionsFor(options),
      step: plugins.step ?? stepFor(options),
      ...(plugins.app !== undefined ? { app: plugins.app } : {}),
      ...(plugins.invariants !== undefined ? { invariants: plugins.invariants } : {}),
    });
    if (plugins.onHappening !== undefined) this.world.narrator = plugins.onHappening;
    this.operator = new Operator(
      this.world,
      { maxMembers: options.maxMembers, minVoters: Math.min(3, options.nodes) },
      options.nodes + 1,
    );
  }

  /** Run to the end (or to the first violation). */
  run(): SimResult {
    const w = this.world;
    const o = this.options;
    let violation: Violation | null = null;
    const every = this.plugins.progressEvery ?? 500;
    let nextProgress = every;
    const progress = (): void => {
      if (w.events >= nextProgress) {
        nextProgress = w.events + every;
        this.plugins.onProgress?.(w.events, o.steps, this.phase === 'faults' ? 'faults' : 'calm');
      }
    };
    try {
      w.bootstrap(this.ids);
      this.scheduleClient();
      w.after(o.timing.faultTick, () => this.faultTick());
      while (w.events < o.steps && w.runNext()) progress();
      // Calm: every fault stops, the network heals, crashed nodes restart; then liveness.
      this.phase = 'calm';
      this.activeCuts.clear();
      w.tell(
        'heal',
        'the faults stop: every partition heals, the network stops losing, duplicating and reordering, crashed nodes restart',
      );
      const l = awaitLiveness(w, o.livenessTimeout, progress);
      this.liveness = l;
      w.tell(
        'liveness',
        `leader ${l.leader} (term ${l.term}) committed a new proposal ${l.took} ms after the faults stopped`,
      );
    } catch (err) {
      if (!(err instanceof SimViolation)) throw err;
      violation = err.violation;
    }
    this.phase = 'done';
    const summary = this.summary(violation);
    const rec = w.recorder;
    if (rec !== null) {
      const hashes: Record<string, string> = {};
      for (const h of w.nodes()) hashes[h.id] = hashState(h.state);
      rec.end = { type: 'end', events: w.events, time: w.now, hashes, summary, violation };
    }
    return { options: o, summary, violation, trace: w.trace(), world: w };
  }

  // ------------------------------------------------------------------------------------------
  // The client

  private scheduleClient(): void {
    const t = this.options.timing;
    this.world.after(this.world.rng.int(t.proposeMin, t.proposeMax), () => this.clientTick());
  }

  private clientTick(): void {
    if (this.phase !== 'faults') return;
    const w = this.world;
    let target = this.clientTarget === null ? undefined : w.node(this.clientTarget);
    if (target === undefined || target.status !== 'up') {
      const up = w.running();
      target = up.length === 0 ? undefined : w.rng.pick(up);
    }
    if (target !== undefined) {
      const placed = w.propose(target.id, w.rng.int(1, this.options.maxBatch));
      if (placed.accepted) this.clientTarget = target.id;
      else this.clientTarget = placed.hint !== null && placed.hint !== target.id ? placed.hint : null;
    }
    this.scheduleClient();
  }

  // ------------------------------------------------------------------------------------------
  // Faults

  private faultTick(): void {
    if (this.phase !== 'faults') return;
    const w = this.world;
    const f = this.options.faults;
    const r = this.options.rates;
    if (f.includes('partition') && this.activeCuts.size === 0 && w.rng.chance(r.partition)) this.partition();
    if (f.includes('crash') && w.rng.chance(r.crash)) this.crashOne();
    if (f.includes('snapshot') && w.rng.chance(r.compact)) this.compactOne();
    if (f.includes('membership') && w.rng.chance(r.membership)) {
      this.operator.change(w.rng.pick(MEMBERSHIP_CHANGES));
    }
    w.after(this.options.timing.faultTick, () => this.faultTick());
  }

  /** Members and would-be members that are not removed. */
  private live(): string[] {
    return this.world
      .nodes()
      .filter((h) => h.status !== 'removed')
      .map((h) => h.id);
  }

  private partition(): void {
    const w = this.world;
    const all = this.live();
    if (all.length < 2) return;
    const shuffled = w.rng.shuffle(all);
    const kind = w.rng.int(0, 2);
    let links: string[];
    let what: string;
    if (kind === 0) {
      // A symmetric split into two sides.
      const k = w.rng.int(1, Math.floor(all.length / 2));
      const a = shuffled.slice(0, k).sort();
      const b = shuffled.slice(k).sort();
      links = w.cut(a, b);
      what = `the network split into {${a.join(' ')}} and {${b.join(' ')}}`;
    } else if (kind === 1) {
      // One node isolated.
      links = w.cut(shuffled.slice(0, 1), shuffled.slice(1));
      what = `${shuffled[0]!} was cut off from everyone`;
    } else {
      // A one-way cut: one node can send but not receive, or receive but not send.
      const one = shuffled.slice(0, 1);
      const rest = shuffled.slice(1);
      const deaf = w.rng.chance(0.5);
      links = deaf ? w.cut(rest, one, true) : w.cut(one, rest, true);
      what = deaf
        ? `${one[0]!} can send but no longer receive (one-way cut)`
        : `${one[0]!} can receive but no longer send (one-way cut)`;
    }
    w.tell('partition', what);
    this.activeCuts.add(links);
    const t = this.options.timing;
    w.after(w.rng.int(t.partitionMin, t.partitionMax), () => {
      if (!this.activeCuts.delete(links)) return;
      w.healCut(links);
      w.tell('heal', `the partition healed (${what})`);
    });
  }

  private crashOne(): void {
    const w = this.world;
    const live = w.nodes().filter((h) => h.status !== 'removed');
    const down = live.filter((h) => h.status === 'down').length;
    if (down >= Math.max(1, Math.floor(live.length / 2))) return;
    const up = live.filter((h) => h.status === 'up');
    if (up.length === 0) return;
    // Half the time, crash a node in the middle of a write: the case that tests durability.
    const writing = up.filter((h) => h.pending.length > 0);
    const victim = w.rng.pick(writing.length > 0 && w.rng.chance(0.5) ? writing : up);
    w.crash(victim.id);
    const t = this.options.timing;
    w.after(w.rng.int(t.downMin, t.downMax), () => {
      if (victim.status === 'down' && this.phase === 'faults') w.restart(victim.id);
    });
  }

  private compactOne(): void {
    const w = this.world;
    const candidates = w.running().filter((h) => h.machine.index > h.state!.log.prevIndex + 2);
    if (candidates.length === 0) return;
    w.compact(w.rng.pick(candidates).id);
  }

  private summary(violation: Violation | null): SimSummary {
    const w = this.world;
    const s = w.stats;
    const o = this.options;
    return {
      seed: o.seed,
      nodes: o.nodes,
      steps: o.steps,
      faults: o.faults.join(','),
      mutant: o.mutant,
      events: w.events,
      virtualTime: w.now,
      elections: s.elections,
      leaderships: s.leaderships,
      leaderChanges: s.leaderChanges,
      maxTerm: s.maxTerm,
      commits: s.commits,
      commitIndex: s.commitIndex,
      proposals: s.proposals,
      commandsProposed: s.commandsProposed,
      proposalsRejected: s.proposalsRejected,
      messages: s.sent,
      drops: s.dropped,
      partitionDrops: s.partitionDrops,
      duplicates: s.duplicates,
      reordered: s.reordered,
      partitions: s.partitions,
      crashes: s.crashes,
      crashesLosingWrites: s.crashesLosingWrites,
      restarts: s.restarts,
      compactions: s.compactions,
      snapshotsSent: s.snapshotsSent,
      snapshotsLost: s.snapshotsLost,
      snapshotsInstalled: s.snapshotsInstalled,
      configChanges: s.configChanges,
      configProposals: s.configProposals,
      nodesAdded: s.nodesAdded,
      nodesRemoved: s.nodesRemoved,
      promotions: s.promotions,
      liveness: this.liveness,
      violations: violation === null ? 0 : 1,
      violation,
    };
  }
}
