/**
 * Simulations: a cluster run on a virtual clock under seeded faults, then healed, with every
 * invariant checked after every event and liveness checked at the end.
 *
 * A run has two phases:
 * 1. Faults, for `steps` events: a client proposes commands to whoever it believes leads (a
 *    proposal refused with `notLeader` or `transferInProgress` is retried, the same commands, on the
 *    node the refusal names) and, with the protocol extensions on, reads on random nodes, leader
 *    or follower (each answer checked against the committed history, see `client-reads.ts`); the
 *    fault injector partitions the network (symmetric splits, isolated nodes, one-way cuts) and
 *    heals it, crashes nodes and restarts them from their durable state, has nodes compact their
 *    logs (and leaders then send snapshots, which take time and can be lost), changes the
 *    membership, makes a follower slow (a bounded incoming queue, slow handling), and has the
 *    operator hand leadership to another voter; the network drops, duplicates and reorders
 *    messages; with clock skew every node's timers run at their own rate.
 * 2. Calm: every fault stops, every cut heals, crashed nodes restart. Within `livenessTimeout` of
 *    virtual time a leader must be elected and a new proposal must commit; then, within
 *    `livenessTimeout` more, every read still in flight must be answered or refused.
 *
 * The first violation stops the run; the result names the seed, the invariant, the nodes and the
 * event number, and the trace (when recorded) replays the run.
 */
import { latestConfig } from '../index.js';
import { hashState } from './hash.js';
import { awaitLiveness, awaitReads, type LivenessReport } from './liveness.js';
import { stepFor } from './mutants.js';
import { MEMBERSHIP_CHANGES, Operator } from './operator.js';
import { nodeOptionsFor, normalizeOptions, skewOf, type SimOptions, type SimOptionsInput } from './options.js';
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
  /**
   * Called every `progressEvery` events with the events run so far, the run's `steps` option and
   * the phase the run is in.
   */
  readonly onProgress?: (events: number, steps: number, phase: 'faults' | 'calm') => void;
  /** Told about every noteworthy happening, in words (elections, partitions, crashes, ...). */
  readonly onHappening?: (h: Happening) => void;
  /** How many events pass between two calls of `onProgress` (default 500). */
  readonly progressEvery?: number;
}

/** The numbers of a run (this is the CLI's `--json` line). */
export interface SimSummary {
  /** The run's seed (`SimOptions.seed`). */
  readonly seed: number;
  /** The initial number of voters (`SimOptions.nodes`). */
  readonly nodes: number;
  /** The events run with faults before healing (`SimOptions.steps`). */
  readonly steps: number;
  /** The faults injected, comma-separated in `FAULT_NAMES` order (empty for none). */
  readonly faults: string;
  /** The protocol extensions the nodes ran (`all`, `lease` or `none`; see `SimOptions.features`). */
  readonly features: string;
  /** The mutant every node ran, if any. */
  readonly mutant: string | null;
  /** Events run in all (faults and calm). */
  readonly events: number;
  /** Virtual time at the end, in virtual milliseconds. */
  readonly virtualTime: number;
  /** Elections started (`WorldStats.elections`). */
  readonly elections: number;
  /** Leaders elected (`WorldStats.leaderships`). */
  readonly leaderships: number;
  /** Elected leaders that differ from the one elected before them. */
  readonly leaderChanges: number;
  /** The highest term any node reached. */
  readonly maxTerm: number;
  /** Client commands committed. */
  readonly commits: number;
  /** The highest index committed anywhere (term starts and configuration entries included). */
  readonly commitIndex: number;
  /** Client proposals (`propose` events, each of one or more commands). */
  readonly proposals: number;
  /** Commands carried by the client proposals a node accepted. */
  readonly commandsProposed: number;
  /**
   * Proposals refused, mostly by a node that was not leader (the client then retries on the hinted
   * leader).
   */
  readonly proposalsRejected: number;
  /** Of those, proposals a leader refused while handing leadership over (retried the same way). */
  readonly proposalsRejectedByTransfer: number;
  /** Client reads issued. */
  readonly reads: number;
  /** Reads answered and verified against the committed history. */
  readonly readsChecked: number;
  /** Reads refused (never a violation). */
  readonly readsRejected: number;
  /** Reads lost with their node (it crashed or was shut down before answering). */
  readonly readsLost: number;
  /** Pre-vote rounds started, over every node and life (metric `preVotesStarted`). */
  readonly preVotes: number;
  /** Leadership transfers the operator asked for. */
  readonly transferRequests: number;
  /** Leadership transfers a leader started (metric `transfersStarted`). */
  readonly transfers: number;
  /** Leadership transfers that elected their target. */
  readonly transfersCompleted: number;
  /** Leaders that stepped down because their majority went quiet (metric `checkQuorumStepDowns`). */
  readonly checkQuorumStepDowns: number;
  /** Times a follower became slow. */
  readonly slowEpisodes: number;
  /** Messages dropped because a slow follower's queue was full. */
  readonly slowDrops: number;
  /** The most entries a leader had in flight to one follower (flow control on). */
  readonly maxInflight: number;
  /** Nodes whose timers ran off real time. */
  readonly skewedNodes: number;
  /** The largest skew drawn, a fraction of real time (`|rate - 1|`). */
  readonly maxSkew: number;
  /** Messages and snapshot transfers handed to the network (`WorldStats.sent`). */
  readonly messages: number;
  /** Messages lost to the drop fault. */
  readonly drops: number;
  /** Messages lost to a partition. */
  readonly partitionDrops: number;
  /** Messages and snapshot transfers sent twice (the `dup` fault). */
  readonly duplicates: number;
  /** Messages held back by the `reorder` fault. */
  readonly reordered: number;
  /** Cuts made in the network (splits, isolated nodes, one-way cuts). */
  readonly partitions: number;
  /** Node crashes. */
  readonly crashes: number;
  /** Crashes that lost storage writes not yet durable. */
  readonly crashesLosingWrites: number;
  /** Restarts of crashed nodes from their durable state. */
  readonly restarts: number;
  /** Local compactions (a node snapshotting its own state machine). */
  readonly compactions: number;
  /** Snapshot transfers sent by leaders. */
  readonly snapshotsSent: number;
  /** Snapshot transfers lost. */
  readonly snapshotsLost: number;
  /** Snapshot transfers their receiver installed. */
  readonly snapshotsInstalled: number;
  /** Committed configuration changes (final configurations; a voter change counts once). */
  readonly configChanges: number;
  /** Configuration proposals the leader took. */
  readonly configProposals: number;
  /** Nodes the operator added (as voters or non-voters). */
  readonly nodesAdded: number;
  /** Nodes shut down for good (removed, or their addition refused or lost). */
  readonly nodesRemoved: number;
  /** Promotions of non-voters to voters that the leader took. */
  readonly promotions: number;
  /** How liveness was established after healing; null when the run stopped on a violation first. */
  readonly liveness: LivenessReport | null;
  /** 0, or 1 when the run stopped on a violation. */
  readonly violations: number;
  /** The violation that stopped the run, or null. */
  readonly violation: Violation | null;
}

/** The outcome of a simulation. */
export interface SimResult {
  /** The full options of the run (defaults filled in). */
  readonly options: SimOptions;
  /** The numbers of the run. */
  readonly summary: SimSummary;
  /** The violation that stopped the run, or null when every check passed. */
  readonly violation: Violation | null;
  /** The recorded trace (null when `record` is off). */
  readonly trace: Trace | null;
  /** The world at the end, to inspect. */
  readonly world: World;
}

/**
 * Run one simulation. Deterministic: the same options (and plugins) give the same run. Throws a
 * RangeError naming the first bad option; a violation found is not thrown but returned (`violation`,
 * with the trace that replays to it).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { replayTrace, simulate } from 'raftstep/sim';
 *
 * const run = simulate({ seed: 42, nodes: 3, steps: 2000, faults: 'all' });
 * assert.equal(run.violation, null); // every invariant held after every event
 * assert.ok(run.summary.commits > 0);
 * assert.equal(simulate({ seed: 42, nodes: 3, steps: 2000 }).summary.commits, run.summary.commits);
 * assert.ok(replayTrace(run.trace!).ok); // the trace replays through step to the same states
 * const broken = simulate({ seed: 1, nodes: 5, steps: 5000, mutant: 'commitsOnAMinority' });
 * assert.equal(broken.violation?.invariant, 'committedByMajority');
 * ```
 */
export function simulate(input: SimOptionsInput = {}, plugins: SimPlugins = {}): SimResult {
  const options = normalizeOptions(input);
  return new Simulation(options, plugins).run();
}

/** One simulation run; {@link simulate} is the usual way in. */
export class Simulation {
  /** The simulated world the run drives. */
  readonly world: World;
  /** The operator that makes the run's membership changes (the `membership` fault). */
  readonly operator: Operator;
  private phase: 'faults' | 'calm' | 'done' = 'faults';
  private readonly ids: string[];
  private clientTarget: string | null = null;
  /** Commands of a refused proposal, proposed again at the next client tick. */
  private retry: readonly number[] | null = null;
  private readonly activeCuts = new Set<string[]>();
  /** True when the run exercises the protocol extensions (reads, transfers). */
  private readonly extensions: boolean;
  private liveness: LivenessReport | null = null;

  constructor(
    /**
     * The full options of the run, used as given: they are not checked here (`simulate` passes
     * them through `normalizeOptions` first; do the same).
     */
    readonly options: SimOptions,
    private readonly plugins: SimPlugins = {},
  ) {
    this.ids = Array.from({ length: options.nodes }, (_, k) => `n${k + 1}`);
    this.extensions = options.features !== 'none';
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
      skew: skewOf(options),
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
      if (this.extensions) this.scheduleReads();
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
      const reads = awaitReads(w, o.livenessTimeout, progress);
      if (reads.waiting > 0) {
        w.tell(
          'liveness',
          `the ${reads.waiting} reads still in flight were answered or refused within ${reads.took} ms`,
        );
      }
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
      const retry = this.retry;
      this.retry = null;
      const placed = w.propose(target.id, retry ?? w.rng.int(1, this.options.maxBatch));
      if (placed.accepted) this.clientTarget = target.id;
      else {
        // Retry the same commands on the node the refusal names: another leader (`notLeader`), or
        // the leader itself while it hands leadership over (`transferInProgress`), which then
        // names its successor or takes them once the transfer is over.
        if (placed.reason === 'notLeader' || placed.reason === 'transferInProgress') this.retry = placed.commands;
        this.clientTarget =
          placed.hint !== null && (placed.hint !== target.id || placed.reason === 'transferInProgress')
            ? placed.hint
            : null;
      }
    }
    this.scheduleClient();
  }

  private scheduleReads(): void {
    const t = this.options.timing;
    this.world.after(this.world.rng.int(t.readMin, t.readMax), () => this.readTick());
  }

  /** A client reads on a running node: half the time the one it believes leads, else any. */
  private readTick(): void {
    if (this.phase !== 'faults') return;
    const w = this.world;
    const believed = this.clientTarget === null ? undefined : w.node(this.clientTarget);
    let target = believed !== undefined && believed.status === 'up' && w.rng.chance(0.5) ? believed : undefined;
    if (target === undefined) {
      const up = w.running();
      target = up.length === 0 ? undefined : w.rng.pick(up);
    }
    if (target !== undefined) w.read(target.id);
    this.scheduleReads();
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
    if (f.includes('slow') && w.slowNodes().length === 0 && w.rng.chance(r.slow)) this.slowOne();
    if (this.extensions && f.includes('transfer') && w.rng.chance(r.transfer)) this.transferOne();
    w.after(this.options.timing.faultTick, () => this.faultTick());
  }

  /** A follower becomes slow for a while: a bounded incoming queue, each message handled slowly. */
  private slowOne(): void {
    const w = this.world;
    const leader = w.leader();
    const followers = w.running().filter((h) => h !== leader);
    if (followers.length === 0) return;
    const victim = w.rng.pick(followers).id;
    w.setSlow(victim, this.options.slowQueue);
    w.stats.slowEpisodes++;
    w.tell('partition', `${victim} became slow (it queues at most ${this.options.slowQueue} incoming messages)`);
    const t = this.options.timing;
    w.after(w.rng.int(t.slowMin, t.slowMax), () => {
      if (this.phase !== 'faults' || !w.slowNodes().includes(victim)) return;
      w.clearSlow(victim);
      w.tell('heal', `${victim} is no longer slow`);
    });
  }

  /** The operator asks the leader to hand leadership to another voter, chosen at random. */
  private transferOne(): void {
    const w = this.world;
    const leader = w.leader();
    if (leader === null) return;
    const config = latestConfig(leader.state!);
    const voters = [...new Set([...config.voters, ...config.newVoters])].filter((v) => v !== leader.id).sort();
    if (voters.length === 0) return;
    const to = w.rng.pick(voters);
    const refused = w.transferLeadership(leader.id, to);
    w.tell(
      'leader',
      `the operator asked leader ${leader.id} to hand leadership to ${to}` +
        (refused === null ? '' : ` (refused: ${refused})`),
    );
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
    const leader = this.extensions ? w.leader() : null;
    const leaderId = leader !== null && all.includes(leader.id) ? leader.id : null;
    // With the protocol extensions on, the leader cut off is a kind of its own: the harshest case
    // for check-quorum, leases and reads (it keeps serving its clients until it notices, while the
    // others elect a successor). The other kinds pick their nodes at random.
    const kind = w.rng.int(0, leaderId === null ? 2 : 3);
    let links: string[];
    let what: string;
    if (kind === 0) {
      // A symmetric split into two sides.
      const k = w.rng.int(1, Math.floor(all.length / 2));
      const a = shuffled.slice(0, k).sort();
      const b = shuffled.slice(k).sort();
      links = w.cut(a, b);
      what = `the network split into {${a.join(' ')}} and {${b.join(' ')}}`;
    } else if (kind === 1 || kind === 3) {
      // One node isolated: a random one, or the leader.
      const one = kind === 3 ? leaderId! : shuffled[0]!;
      links = w.cut([one], all.filter((id) => id !== one).sort());
      what = kind === 3 ? `the leader ${one} was cut off from everyone` : `${one} was cut off from everyone`;
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
    // Half the time, crash a node in the middle of a write: the case that tests durability. With the
    // protocol extensions on, a third of the crashes take the leader (its followers, which still
    // count it as alive, then see pre-votes and forwarded reads go unanswered).
    const leader = this.extensions ? w.leader() : null;
    const writing = up.filter((h) => h.pending.length > 0);
    const victim =
      leader !== null && w.rng.chance(1 / 3)
        ? leader
        : w.rng.pick(writing.length > 0 && w.rng.chance(0.5) ? writing : up);
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
      features: o.features,
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
      proposalsRejectedByTransfer: s.proposalsRejectedByTransfer,
      reads: s.reads,
      readsChecked: s.readsChecked,
      readsRejected: s.readsRejected,
      readsLost: s.readsLost,
      preVotes: s.preVotes,
      transferRequests: s.transferRequests,
      transfers: s.transfers,
      transfersCompleted: s.transfersCompleted,
      checkQuorumStepDowns: s.checkQuorumStepDowns,
      slowEpisodes: s.slowEpisodes,
      slowDrops: s.slowDrops,
      maxInflight: s.maxInflight,
      skewedNodes: s.skewedNodes,
      maxSkew: s.maxSkew,
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
