/**
 * A small cluster for the membership-and-snapshot safety property: up to five nodes, instantly
 * durable storage, and a network whose deliveries, losses, duplications and reorderings — of
 * messages and of snapshot transfers alike — are chosen by a generated schedule. The schedule is
 * plain data, so fast-check shrinks it and a failure replays exactly. Not a test file:
 * `safety.test.ts` drives it.
 *
 * The nodes run on the shared test host (tests/support/host.ts), which carries out their actions as
 * the README asks (storage first and durable, through `applyToStoredLog`; then the messages and
 * snapshot transfers) and checks that the stored state stays the node's; every event here is
 * well-formed, so `invalidEvent` and `fatal` are violations. This module adds the driving:
 * - a delivered snapshot transfer is stepped by the receiver as `snapshotInstalled`;
 * - local compaction: a node saves its state machine at a committed index and steps
 *   `snapshotInstalled` with `positionAndConfigAt`;
 * - membership changes are proposed on the newest leader, built from its latest configuration with
 *   `toJointConsensus` / `withNonVoters`;
 * - a batch delivers several messages to one node at once with `stepAll` and carries out the
 *   merged actions (pipelining; this is where `mergeActions` rebases pending actions onto a snapshot);
 * - {@link stabilize} lets the cluster settle at the end of a run.
 */
import {
  allMembers,
  configsEqual,
  isJoint,
  isMember,
  isVoter,
  latestConfig,
  latestConfigIndex,
  positionAndConfigAt,
  termAt,
  toJointConsensus,
  withNonVoters,
  type RaftActions,
  type ClusterConfig,
  type RaftEvent,
  type RaftState,
} from '../../src/index.js';
import { comparePositions } from '../../src/log.js';
import { finalOf, type Checker } from '../support/checker';
import { Host, fail, transferEvent, type Outgoing } from '../support/host';
import { showLog } from '../support/logs';

// ---------------------------------------------------------------------------------------------
// The schedule

/**
 * A membership change about node j: one of the single-node changes, or `replace` (add j as a voter
 * and remove the voter after it, in one joint change: old and new majorities then differ by more
 * than one node, which is where joint consensus matters).
 */
export type ConfigOp = 'addVoter' | 'removeVoter' | 'addNonVoter' | 'removeNonVoter' | 'promote' | 'replace';

/** One scheduling decision; indices are taken modulo what there is to choose from. */
export type Choice =
  | { readonly t: 'deliver' | 'drop' | 'duplicate'; readonly k: number }
  | { readonly t: 'batch'; readonly i: number; readonly n: number }
  | { readonly t: 'cut'; readonly i: number }
  | { readonly t: 'timeout' | 'heartbeat' | 'restart'; readonly i: number }
  | { readonly t: 'propose'; readonly i: number; readonly count: number }
  | { readonly t: 'config'; readonly op: ConfigOp; readonly j: number }
  | { readonly t: 'compact'; readonly i: number; readonly f: number };

/** Something on the wire: a Raft message, or a snapshot transfer. */
export type Envelope = Outgoing;

// ---------------------------------------------------------------------------------------------
// The cluster

/** Counters, for the coverage assertions. */
export interface Counts {
  steps: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  batches: number;
  /** Batches whose merged actions held a compactLog and an appendLog or message rebased with it. */
  batchesWithCompaction: number;
  restarts: number;
  configsProposed: number;
  configsRejected: number;
  compactions: number;
  transfersSent: number;
  transfersDropped: number;
  /** Snapshot transfers that the receiver installed (a compactLog came back). */
  snapshotsInstalled: number;
  /** Installed transfers that reset the receiver's log (the position was not in it). */
  snapshotResets: number;
  /** Leaders that stepped down in their own term because they were removed. */
  removedLeaderStepDowns: number;
}

/** Every counter at zero. */
export function zeroCounts(): Counts {
  return {
    steps: 0,
    delivered: 0,
    dropped: 0,
    duplicated: 0,
    batches: 0,
    batchesWithCompaction: 0,
    restarts: 0,
    configsProposed: 0,
    configsRejected: 0,
    compactions: 0,
    transfersSent: 0,
    transfersDropped: 0,
    snapshotsInstalled: 0,
    snapshotResets: 0,
    removedLeaderStepDowns: 0,
  };
}

export class Cluster {
  readonly host: Host;
  inFlight: Envelope[] = [];
  readonly counts: Counts = zeroCounts();

  constructor(readonly ids: readonly string[]) {
    this.host = new Host(ids, { wellFormed: true });
  }

  state(id: string): RaftState {
    return this.host.state(id);
  }

  /** The leader of the highest term, if any. */
  leader(): RaftState | null {
    let best: RaftState | null = null;
    for (const id of this.ids) {
      const s = this.state(id);
      if (s.role === 'leader' && (best === null || s.term > best.term)) best = s;
    }
    return best;
  }

  /** Step one event on `id` and carry out the actions. */
  stepNode(id: string, event: RaftEvent): RaftActions {
    return this.stepMany(id, [event]);
  }

  /** Step events on `id` (several: with `stepAll`, merged) and carry out the actions. */
  stepMany(id: string, events: readonly RaftEvent[]): RaftActions {
    const done = this.host.step(id, events);
    this.counts.steps++;
    const { before, after } = done;
    if (before.role === 'leader' && after.role === 'follower' && after.term === before.term) {
      this.counts.removedLeaderStepDowns++;
    }
    this.send(done.out);
    return done.actions;
  }

  /** Crash `id` and bring it back from what it stored. */
  restart(id: string): void {
    const done = this.host.restart(id);
    this.counts.restarts++;
    this.send(done.out);
  }

  /** Put what a node let out on the network. */
  private send(out: readonly Outgoing[]): void {
    for (const o of out) {
      if (o.kind === 'snap') this.counts.transfersSent++;
      this.inFlight.push(o);
    }
  }

  /** Carry out one decision; false when there was nothing to act on. */
  run(c: Choice): boolean {
    const n = this.ids.length;
    switch (c.t) {
      case 'deliver':
      case 'drop':
      case 'duplicate': {
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
          if (env.kind === 'snap') this.counts.transfersDropped++;
          return true;
        }
        this.deliver([env]);
        return true;
      }
      case 'batch': {
        if (this.inFlight.length === 0) return false;
        // The receiver of the k-th message in flight takes its next n messages at once.
        const to = this.inFlight[c.i % this.inFlight.length]!.to;
        const picked: Envelope[] = [];
        this.inFlight = this.inFlight.filter((e) => {
          if (e.to !== to || picked.length >= c.n) return true;
          picked.push(e);
          return false;
        });
        this.counts.batches++;
        this.deliver(picked);
        return true;
      }
      case 'cut': {
        // A burst of loss: everything in flight from or to one node.
        const id = this.ids[c.i % n]!;
        const before = this.inFlight.length;
        this.inFlight = this.inFlight.filter((e) => e.from !== id && e.to !== id);
        this.counts.dropped += before - this.inFlight.length;
        return true;
      }
      case 'timeout':
      case 'heartbeat':
        this.stepNode(this.ids[c.i % n]!, { type: c.t });
        return true;
      case 'propose':
        this.stepNode(this.ids[c.i % n]!, { type: 'propose', count: c.count });
        return true;
      case 'restart':
        this.restart(this.ids[c.i % n]!);
        return true;
      case 'compact': {
        // The application snapshots its state machine at a committed index above its snapshot.
        const s = this.state(this.ids[c.i % n]!);
        if (s.commitIndex <= s.log.prevIndex) return false;
        const index = s.log.prevIndex + Math.max(1, Math.ceil(c.f * (s.commitIndex - s.log.prevIndex)));
        const at = positionAndConfigAt(s, index);
        if (at === null) fail(`${s.id}: positionAndConfigAt(${index}) is null below the commit index ${s.commitIndex}`);
        const actions = this.stepNode(s.id, { type: 'snapshotInstalled', ...at });
        if (!actions.some((a) => a.type === 'compactLog')) {
          fail(`${s.id}: local snapshot at committed (${at.term}, ${at.index}) refused: ${JSON.stringify(actions)}`);
        }
        this.counts.compactions++;
        return true;
      }
      case 'config': {
        const s = this.leader();
        if (s === null) return false;
        const next = proposal(latestConfig(s), c.op, this.ids[c.j % n]!);
        if (next === null) return false;
        this.counts.configsProposed++;
        const actions = this.stepNode(s.id, { type: 'proposeConfig', config: next });
        if (actions.some((a) => a.type === 'rejected')) this.counts.configsRejected++;
        return true;
      }
    }
  }

  /** Deliver envelopes to their (common) receiver: one step, or one `stepAll` for several. */
  private deliver(envs: readonly Envelope[]): void {
    if (envs.length === 0) return;
    const to = envs[0]!.to;
    this.counts.delivered += envs.length;
    const events: RaftEvent[] = envs.map((e) => (e.kind === 'msg' ? e.message : transferEvent(e)));
    const before = this.state(to);
    const actions = this.stepMany(to, events);
    if (envs.length > 1 && actions.some((a) => a.type === 'compactLog')) this.counts.batchesWithCompaction++;
    if (envs.some((e) => e.kind === 'snap') && actions.some((a) => a.type === 'compactLog')) {
      this.counts.snapshotsInstalled++;
      const snaps = envs.filter((e) => e.kind === 'snap');
      if (snaps.some((e) => termAt(before.log, e.index) !== e.term)) this.counts.snapshotResets++;
    }
  }
}

/** The configuration a leader with `config` proposes for `op` on `j`; null when `op` does not apply. */
export function proposal(config: ClusterConfig, op: ConfigOp, j: string): ClusterConfig | null {
  switch (op) {
    case 'addVoter':
      return isMember(config, j) ? null : toJointConsensus(config, [j], []);
    case 'removeVoter':
      return config.voters.includes(j) && config.voters.length > 2 ? toJointConsensus(config, [], [j]) : null;
    case 'addNonVoter':
      return isMember(config, j) ? null : withNonVoters(config, [j], []);
    case 'removeNonVoter':
      return config.nonVoters.includes(j) ? withNonVoters(config, [], [j]) : null;
    case 'promote':
      return config.nonVoters.includes(j) ? toJointConsensus(config, [j], []) : null;
    case 'replace': {
      // Like removeVoter, only while there are more than two voters (see safety.test.ts).
      if (isVoter(config, j) || config.voters.length <= 2) return null;
      const out = config.voters.find((v) => v > j) ?? config.voters[0];
      return out === undefined ? null : toJointConsensus(config, [j], [out]);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The end of a run

/**
 * Let the cluster settle after a schedule: deliver everything in flight (nothing is lost any more),
 * time out the most up-to-date voter when nobody leads, send heartbeats otherwise, until a leader's
 * latest configuration is settled, committed, and held by every member with the same log. Then
 * check that it is the configuration the committed changes lead to. Returns the number of rounds.
 */
export function stabilize(c: Cluster, checker: Checker, maxRounds = 40): number {
  const deliverAll = (): void => {
    for (let n = 0; c.inFlight.length > 0; n++) {
      if (n > 20_000) fail('stabilize: the network does not drain');
      c.run({ t: 'deliver', k: 0 });
      checker.check();
    }
  };
  for (let round = 0; round < maxRounds; round++) {
    deliverAll();
    // A leader is current when no member of its configuration is in a newer term (a removed node
    // may be: it campaigned with a stale configuration, but nobody answers it any more).
    const leader = c.leader();
    const members = leader === null ? [] : allMembers(latestConfig(leader));
    if (leader !== null && members.every((id) => c.state(id).term <= leader.term)) {
      if (settled(c, leader)) {
        const cfg = latestConfig(leader);
        const cfgs = checker.committedConfigs();
        const last = cfgs[cfgs.length - 1];
        if (last === undefined || !configsEqual(last.config, cfg)) {
          fail(`settled on ${JSON.stringify(cfg)}, but the last committed configuration is ${JSON.stringify(last)}`);
        }
        return round;
      }
      c.run({ t: 'heartbeat', i: c.ids.indexOf(leader.id) });
      checker.check();
      continue;
    }
    // Nobody leads the newest term: the most up-to-date node that is a voter of its own latest
    // configuration and of the newest committed one campaigns.
    const cfgs = checker.committedConfigs();
    const committed = cfgs[cfgs.length - 1]?.config;
    let best: RaftState | null = null;
    for (const id of c.ids) {
      const s = c.state(id);
      if (!isVoter(latestConfig(s), id)) continue;
      if (committed !== undefined && !isVoter(committed, id) && !isVoter(finalOf(committed), id)) continue;
      if (
        best === null ||
        comparePositions(s.log.lastTerm, s.log.lastIndex, best.log.lastTerm, best.log.lastIndex) > 0
      ) {
        best = s;
      }
    }
    if (best === null) fail('stabilize: no node can campaign');
    c.run({ t: 'timeout', i: c.ids.indexOf(best.id) });
    checker.check();
  }
  const states = c.ids.map((id) => {
    const s = c.state(id);
    return `${id}: ${s.role} t${s.term} commit ${s.commitIndex} ${showLog(s.log)} cfg ${JSON.stringify(latestConfig(s))}`;
  });
  return fail(`stabilize: no settled configuration after ${maxRounds} rounds\n${states.join('\n')}`);
}

/** The leader's latest configuration is settled and committed, and every member holds it, in sync. */
function settled(c: Cluster, leader: RaftState): boolean {
  const cfg = latestConfig(leader);
  if (isJoint(cfg) || latestConfigIndex(leader) > leader.commitIndex || !isVoter(cfg, leader.id)) return false;
  for (const id of [...cfg.voters, ...cfg.nonVoters]) {
    const s = c.state(id);
    if (s.log.lastIndex !== leader.log.lastIndex || s.log.lastTerm !== leader.log.lastTerm) return false;
    if (s.commitIndex !== leader.commitIndex || !configsEqual(latestConfig(s), cfg)) return false;
  }
  return true;
}
