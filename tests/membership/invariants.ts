/**
 * The invariants of the membership-and-snapshot safety property, checked on a {@link Cluster} after
 * every scheduling decision, and the end-of-run convergence check. Not a test file.
 *
 * After every step, for every node whose state changed:
 * - election safety: at most one leader per term, over the whole run;
 * - terms never decrease (restarts included); commit indices never decrease while a node runs (a
 *   restart starts again at the snapshot); the snapshot index <= commit index <= last index;
 * - committed prefixes agree: a global record keeps the term of every index any node ever held
 *   committed (snapshot boundaries included) and the configuration of every committed configuration
 *   entry; every node's committed entries above its snapshot, and its snapshot boundary, must match
 *   it (so two nodes agree wherever both hold committed entries above both snapshots, and no
 *   snapshot covers an entry the cluster did not commit);
 * - a snapshot's configuration is the committed configuration in effect at its index;
 * - configuration entries follow the rules in every log: after a joint configuration comes exactly
 *   its final configuration (the new voters, the same non-voters); after a settled one, only a
 *   configuration with the same voters (a joint change starting from them, or a non-voter change).
 *
 * At the end of a run, {@link stabilize} lets the cluster settle (no more losses; timeouts only for
 * up-to-date voters) and checks that every member of the committed configuration holds the same,
 * settled, committed configuration: the one the committed changes lead to.
 */
import {
  allMembers,
  configsEqual,
  isJoint,
  isVoter,
  latestConfig,
  latestConfigIndex,
  type ClusterConfig,
  type RaftState,
} from '../../src/index.js';
import { comparePositions } from '../../src/log.js';
import { fail, finalOf, forEachRun, show, type Cluster } from './cluster.js';

/** What the committed record shows at the end of a run (for coverage). */
export interface RunCoverage {
  maxTerm: number;
  leaderships: number;
  maxCommit: number;
  /** Committed configuration entries (index 1, the first configuration, excluded). */
  configsCommitted: number;
  jointCommitted: number;
  /** Joint changes whose final configuration committed too. */
  jointCompleted: number;
  nonVoterChangesCommitted: number;
  promotionsCommitted: number;
  voterRemovalsCommitted: number;
}

export class Checker {
  private readonly leaders = new Map<number, string>();
  /** index -> term of every entry known committed. */
  readonly committedTerm = new Map<number, number>();
  /** index -> configuration of every configuration entry known committed. */
  readonly committedConfig = new Map<number, ClusterConfig>();
  private readonly last = new Map<string, RaftState>();

  constructor(private readonly cluster: Cluster) {
    for (const id of cluster.ids) this.last.set(id, cluster.state(id));
  }

  /** Check every node whose state changed since the last call. */
  check(): void {
    const c = this.cluster;
    for (const id of c.ids) {
      const s = c.state(id);
      const restarted = c.restarted.has(id);
      if (s === this.last.get(id) && !restarted) continue;
      this.checkNode(s, this.last.get(id)!, restarted);
      this.last.set(id, s);
    }
    c.restarted.clear();
  }

  private checkNode(s: RaftState, p: RaftState, restarted: boolean): void {
    const id = s.id;
    const log = s.log;
    if (s.term < p.term) fail(`${id}: term went from ${p.term} to ${s.term}`);
    if (restarted) {
      if (s.commitIndex !== log.prevIndex) fail(`${id}: restarted with commit ${s.commitIndex}, not ${log.prevIndex}`);
    } else if (s.commitIndex < p.commitIndex) {
      fail(`${id}: commit index went from ${p.commitIndex} to ${s.commitIndex}`);
    }
    if (s.commitIndex < log.prevIndex || s.commitIndex > log.lastIndex) {
      fail(`${id}: commit index ${s.commitIndex} outside [snapshot, last] of ${show(log)}`);
    }
    if (s.role === 'leader') {
      const owner = this.leaders.get(s.term);
      if (owner === undefined) this.leaders.set(s.term, id);
      else if (owner !== id) fail(`two leaders in term ${s.term}: ${owner} and ${id}`);
    }

    // Committed entries (and the snapshot boundary) against the global record.
    forEachRun(log, Math.max(1, log.prevIndex), s.commitIndex, (from, to, term) => {
      for (let i = from; i <= to; i++) {
        const known = this.committedTerm.get(i);
        if (known === undefined) this.committedTerm.set(i, term);
        else if (known !== term) {
          const what = i === log.prevIndex ? 'its snapshot boundary' : 'committed';
          fail(`${id}: ${what} index ${i} has term ${term}, but term ${known} was committed there; ${show(log)}`);
        }
      }
    });
    for (const e of log.configs) {
      if (e.index > s.commitIndex) break;
      const known = this.committedConfig.get(e.index);
      if (known === undefined) this.committedConfig.set(e.index, e.config);
      else if (!configsEqual(known, e.config))
        fail(`${id}: committed configuration at ${e.index} differs from the record`);
    }
    for (const [index] of this.committedConfig) {
      if (index > log.prevIndex && index <= s.commitIndex && !log.configs.some((e) => e.index === index)) {
        fail(`${id}: holds no configuration at the committed configuration index ${index}; ${show(log)}`);
      }
    }

    // The snapshot's configuration is the committed configuration in effect at the snapshot index.
    if (log.prevIndex > 0 && (restarted || log.prevIndex !== p.log.prevIndex)) {
      const expected = this.configInEffect(log.prevIndex);
      if (expected !== null && !configsEqual(expected, s.snapshotConfig)) {
        fail(
          `${id}: snapshot at ${log.prevIndex} has configuration ${JSON.stringify(s.snapshotConfig)}, expected ${JSON.stringify(expected)}`,
        );
      }
    }

    // Configuration entries follow one another by the rules.
    let prev = s.snapshotConfig;
    for (const e of log.configs) {
      const cfg = e.config;
      if (prev.voters.length > 0) {
        if (isJoint(prev) && !configsEqual(cfg, finalOf(prev))) {
          fail(
            `${id}: the joint configuration ${JSON.stringify(prev)} is followed at ${e.index} by ${JSON.stringify(cfg)}`,
          );
        }
        if (!isJoint(prev) && prev.voters.join() !== cfg.voters.join()) {
          fail(`${id}: configuration at ${e.index} does not start from the voters before it`);
        }
      }
      if (cfg.nonVoters.some((v) => isVoter(cfg, v))) fail(`${id}: a voter is also a non-voter at ${e.index}`);
      prev = cfg;
    }
  }

  /**
   * The committed configuration in effect at `index` per the record, or null when the record cannot
   * tell (no committed configuration at or below it, or an index in between it does not know).
   */
  private configInEffect(index: number): ClusterConfig | null {
    let at = -1;
    for (const k of this.committedConfig.keys()) if (k <= index && k > at) at = k;
    if (at < 0) return null;
    for (let i = at + 1; i <= index; i++) if (!this.committedTerm.has(i)) return null;
    return this.committedConfig.get(at)!;
  }

  /** The committed configurations, in index order. */
  committedConfigs(): Array<{ index: number; config: ClusterConfig }> {
    return [...this.committedConfig].sort((a, b) => a[0] - b[0]).map(([index, config]) => ({ index, config }));
  }

  coverage(): RunCoverage {
    const cfgs = this.committedConfigs();
    const cov: RunCoverage = {
      maxTerm: Math.max(...this.cluster.ids.map((id) => this.cluster.state(id).term)),
      leaderships: this.leaders.size,
      maxCommit: Math.max(0, ...this.committedTerm.keys()),
      configsCommitted: cfgs.filter((c) => c.index > 1).length,
      jointCommitted: 0,
      jointCompleted: 0,
      nonVoterChangesCommitted: 0,
      promotionsCommitted: 0,
      voterRemovalsCommitted: 0,
    };
    for (let k = 1; k < cfgs.length; k++) {
      const before = cfgs[k - 1]!.config;
      const cfg = cfgs[k]!.config;
      if (isJoint(cfg)) {
        cov.jointCommitted++;
        const next = cfgs[k + 1];
        if (next !== undefined && configsEqual(next.config, finalOf(cfg))) cov.jointCompleted++;
        if (cfg.newVoters.some((v) => before.nonVoters.includes(v))) cov.promotionsCommitted++;
        if (cfg.voters.some((v) => !cfg.newVoters.includes(v))) cov.voterRemovalsCommitted++;
      } else if (!isJoint(before) && before.nonVoters.join() !== cfg.nonVoters.join()) {
        cov.nonVoterChangesCommitted++;
      }
    }
    return cov;
  }
}

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
    return `${id}: ${s.role} t${s.term} commit ${s.commitIndex} ${show(s.log)} cfg ${JSON.stringify(latestConfig(s))}`;
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
