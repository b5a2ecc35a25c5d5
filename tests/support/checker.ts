/**
 * The invariant checker of the test clusters: Raft's safety properties, checked on the nodes of a
 * {@link Host} after every scheduling decision. Not a test file.
 *
 * After every decision, for every node whose state changed (or that restarted):
 * - election safety: at most one leader per term, over the whole run;
 * - terms never decrease (restarts included: the term is durable); commit indices never decrease
 *   while a node runs, and a restart starts again at the snapshot; snapshot index <= commit index
 *   <= last index;
 * - state-machine safety: a global record keeps the term of every index any node ever held
 *   committed (snapshot boundaries included) and, for every committed entry a node held, whether it
 *   is a configuration entry and which; every node's committed entries above its snapshot, and its
 *   snapshot boundary, must match it (so two nodes agree wherever both hold committed entries, nothing
 *   committed ever changes, and no snapshot covers an entry the cluster did not commit);
 * - leader completeness: a new leader holds every entry that a leader of an earlier term knew
 *   committed;
 * - leader append-only: during one leadership the leader's log only grows; a leader's match index
 *   of a follower never decreases within the leadership and never exceeds the leader's log;
 * - a snapshot's configuration is the committed configuration in effect at its index;
 * - configuration entries follow the rules in every log: after a joint configuration comes exactly
 *   its final configuration (the new voters, the same non-voters); after a settled one, only a
 *   configuration with the same voters (a joint change starting from them, or a non-voter change);
 *   no node is both a voter and a non-voter.
 *
 * Coverage counters say what the run went through, so that a property cannot pass vacuously.
 *
 * (The simulator has its own checker, `Checker` in `raftstep/sim`. It belongs to a simulated
 * `World`: it is driven by the world's node lifecycle, reports through the world, and checks the
 * replicas' applied commands, which these clusters do not model.)
 */
import {
  configsEqual,
  followerMatchIndex,
  isJoint,
  isVoter,
  type ClusterConfig,
  type LogEntries,
  type RaftState,
} from '../../src/index.js';
import { fail } from './host.js';
import { agreeUpTo, forEachRun, sameEntries, showLog } from './logs.js';

/** What the checker watches: the nodes of a {@link Host}. */
export interface Observed {
  readonly ids: readonly string[];
  node(id: string): { readonly state: RaftState; readonly restarts: number };
}

/** What a run went through. */
export interface Coverage {
  /** Distinct (term, leader) pairs seen. */
  leaderships: number;
  /** Times a node other than the previous leader took over. */
  leaderChanges: number;
  /** Highest term reached by any node. */
  maxTerm: number;
  /** Highest index known committed. */
  maxCommit: number;
  /** Times a node's log lost or replaced entries (a divergent tail was repaired). */
  tailsRepaired: number;
  /** Times a leader found a follower's log divergent (`logDivergencesDetectedByLeader` rose). */
  leaderDetectedDivergence: number;
  /** Times a follower found its tail divergent (`logDivergencesDetectedByFollower` rose). */
  followerDetectedDivergence: number;
  /** Committed configuration entries (index 1, the first configuration, excluded). */
  configsCommitted: number;
  jointCommitted: number;
  /** Joint changes whose final configuration committed too. */
  jointCompleted: number;
  nonVoterChangesCommitted: number;
  promotionsCommitted: number;
  voterRemovalsCommitted: number;
}

/** The configuration that ends a joint change (what the leader appends when the joint one commits). */
export function finalOf(joint: ClusterConfig): ClusterConfig {
  return { voters: joint.newVoters, newVoters: [], nonVoters: joint.nonVoters };
}

/**
 * Which invariants to check: `all` of them, or only the rules of each node and each leadership
 * (`nodes`: election safety, monotonic terms and commit indices, leader append-only and match
 * indices, configuration sequences), without what rests on the record of what was committed
 * (state-machine safety, leader completeness, snapshot configurations): for runs that feed nodes
 * hand-built messages or forged disks, which may make a node hold or commit entries no leader wrote.
 */
export type CheckScope = 'all' | 'nodes';

interface Seen {
  readonly state: RaftState;
  readonly restarts: number;
}

/** One leadership: the leader's log and match indices as last checked. */
interface Tenure {
  readonly term: number;
  log: LogEntries;
  readonly match: Map<string, number>;
}

export class Checker {
  /** term -> the one node that led it. */
  private readonly leaders = new Map<number, string>();
  /** term -> the highest commit index a leader of that term had. */
  private readonly leaderCommit = new Map<number, number>();
  /** index -> term of every entry known committed. */
  private readonly committedTerm = new Map<number, number>();
  /** index -> configuration of every configuration entry known committed. */
  private readonly committedConfig = new Map<number, ClusterConfig>();
  /** Indices known committed that hold no configuration. */
  private readonly committedPlain = new Set<number>();
  /** Per node: a log whose committed entries up to `upTo` were checked against the record. */
  private readonly verified = new Map<string, { log: LogEntries; upTo: number }>();
  private readonly last = new Map<string, Seen>();
  private readonly tenures = new Map<string, Tenure>();
  private lastLeader: string | null = null;
  private readonly counts = {
    maxTerm: 0,
    leaderChanges: 0,
    tailsRepaired: 0,
    leaderDetectedDivergence: 0,
    followerDetectedDivergence: 0,
  };

  constructor(
    private readonly cluster: Observed,
    private scope: CheckScope = 'all',
  ) {
    for (const id of cluster.ids) this.last.set(id, this.seen(id));
  }

  /** From now on, check only the rules of each node and each leadership (see {@link CheckScope}). */
  narrow(): void {
    this.scope = 'nodes';
  }

  private seen(id: string): Seen {
    const n = this.cluster.node(id);
    return { state: n.state, restarts: n.restarts };
  }

  /** Check every node whose state changed, or that restarted, since the last call. */
  check(): void {
    for (const id of this.cluster.ids) {
      const now = this.seen(id);
      const before = this.last.get(id) ?? now;
      const restarted = now.restarts !== before.restarts;
      if (now.state === before.state && !restarted && this.last.has(id)) continue;
      this.checkNode(id, now.state, before.state, restarted);
      this.last.set(id, now);
    }
  }

  private checkNode(id: string, s: RaftState, p: RaftState, restarted: boolean): void {
    const log = s.log;
    const counts = this.counts;
    if (s.term < p.term)
      fail(`${id}: term went from ${p.term} down to ${s.term}${restarted ? ' across a restart' : ''}`);
    if (restarted) {
      if (s.commitIndex !== log.prevIndex) fail(`${id}: restarted with commit ${s.commitIndex}, not ${log.prevIndex}`);
      this.tenures.delete(id);
    } else if (s.commitIndex < p.commitIndex) {
      fail(`${id}: commit index went from ${p.commitIndex} down to ${s.commitIndex}`);
    }
    if (s.commitIndex < log.prevIndex || s.commitIndex > log.lastIndex) {
      fail(`${id}: commit index ${s.commitIndex} outside [snapshot, last] of ${showLog(log)}`);
    }
    if (s.metrics.logDivergencesDetectedByLeader > p.metrics.logDivergencesDetectedByLeader) {
      counts.leaderDetectedDivergence++;
    }
    if (s.metrics.logDivergencesDetectedByFollower > p.metrics.logDivergencesDetectedByFollower) {
      counts.followerDetectedDivergence++;
    }
    if (!(log.lastIndex >= p.log.lastIndex && agreeUpTo(p.log, log, p.log.lastIndex))) counts.tailsRepaired++;
    counts.maxTerm = Math.max(counts.maxTerm, s.term);

    if (s.role === 'leader') this.checkLeader(id, s);
    else this.tenures.delete(id);
    if (this.scope === 'all') {
      this.checkCommitted(id, s, restarted);
      if (log.prevIndex > 0 && (restarted || log.prevIndex !== p.log.prevIndex)) this.checkSnapshotConfig(id, s);
    }
    this.checkConfigSequence(id, s);
  }

  private checkLeader(id: string, s: RaftState): void {
    const owner = this.leaders.get(s.term);
    if (owner === undefined) {
      this.leaders.set(s.term, id);
      if (this.lastLeader !== null && this.lastLeader !== id) this.counts.leaderChanges++;
      this.lastLeader = id;
      // Leader completeness: everything leaders of earlier terms knew committed is in the new leader's log.
      let required = 0;
      for (const [t, ci] of this.leaderCommit) if (t < s.term && ci > required) required = ci;
      if (required > 0 && this.scope === 'all') {
        const problem = s.log.lastIndex < required ? 'its log is shorter' : this.compare(s.log, 1, required, false);
        if (problem !== null) {
          fail(
            `${id} leads term ${s.term} without the entries committed up to ${required}: ${problem}; ${showLog(s.log)}`,
          );
        }
      }
    } else if (owner !== id) {
      fail(`two leaders in term ${s.term}: ${owner} and ${id}`);
    }
    this.leaderCommit.set(s.term, Math.max(this.leaderCommit.get(s.term) ?? 0, s.commitIndex));

    const peers = s.progress?.peers ?? [];
    for (const p of peers) {
      const m = followerMatchIndex(s, p)!;
      if (m > s.log.lastIndex) fail(`${id}: match index ${m} of ${p} beyond the leader's log ${showLog(s.log)}`);
    }
    const tenure = this.tenures.get(id);
    if (tenure === undefined || tenure.term !== s.term) {
      this.tenures.set(id, {
        term: s.term,
        log: s.log,
        match: new Map(peers.map((p) => [p, followerMatchIndex(s, p)!])),
      });
      return;
    }
    // Leader append-only.
    if (s.log.lastIndex < tenure.log.lastIndex || !agreeUpTo(tenure.log, s.log, tenure.log.lastIndex)) {
      fail(`${id}: leader of term ${s.term} lost entries: ${showLog(tenure.log)} became ${showLog(s.log)}`);
    }
    tenure.log = s.log;
    // Match indices never decrease within a leadership (a member removed and added again starts at 0).
    for (const p of tenure.match.keys()) if (!peers.includes(p)) tenure.match.delete(p);
    for (const p of peers) {
      const m = followerMatchIndex(s, p)!;
      const before = tenure.match.get(p);
      if (before !== undefined && m < before)
        fail(`${id}: match index of ${p} went from ${before} to ${m} in term ${s.term}`);
      tenure.match.set(p, m);
    }
  }

  /** The node's committed entries (and its snapshot boundary) against the record, which they extend. */
  private checkCommitted(id: string, s: RaftState, restarted: boolean): void {
    const log = s.log;
    let from = Math.max(1, log.prevIndex);
    // Entries checked before, still held unchanged, need no second look (the record never changes).
    const v = this.verified.get(id);
    if (v !== undefined && !restarted) {
      const upTo = Math.min(v.upTo, s.commitIndex);
      const anchor = log.prevIndex;
      if (
        upTo >= from &&
        v.log.prevIndex <= anchor &&
        v.log.lastIndex >= upTo &&
        sameEntries(v.log, log, anchor, upTo)
      ) {
        from = upTo + 1;
      }
    }
    const problem = this.compare(log, from, s.commitIndex, true);
    if (problem !== null) fail(`${id}: ${problem}; ${showLog(log)}`);
    this.verified.set(id, { log, upTo: s.commitIndex });
  }

  /**
   * Compare the entries of `log` in `[lo, hi]` (clipped to what it holds, its anchor included) with
   * the record of what was committed; with `record`, add what the record does not know yet. Returns
   * the first disagreement, or null.
   */
  private compare(log: LogEntries, lo: number, hi: number, record: boolean): string | null {
    let problem: string | null = null;
    const configs = new Map<number, ClusterConfig>();
    for (const e of log.configs) if (e.index >= lo && e.index <= hi) configs.set(e.index, e.config);
    forEachRun(log, lo, hi, (from, to, term) => {
      for (let i = from; i <= to && problem === null; i++) {
        const known = this.committedTerm.get(i);
        if (known === undefined) {
          if (record) this.committedTerm.set(i, term);
        } else if (known !== term) {
          const what = i === log.prevIndex ? 'its snapshot boundary' : 'committed';
          problem = `${what} index ${i} has term ${term}, but term ${known} was committed there`;
        }
        if (i === log.prevIndex || problem !== null) continue;
        const config = configs.get(i);
        const knownConfig = this.committedConfig.get(i);
        if (knownConfig !== undefined) {
          if (config === undefined) problem = `holds no configuration at the committed configuration index ${i}`;
          else if (!configsEqual(knownConfig, config))
            problem = `committed configuration at ${i} differs from the record`;
        } else if (this.committedPlain.has(i)) {
          if (config !== undefined) problem = `holds a configuration at ${i}, where a committed entry holds none`;
        } else if (record) {
          if (config === undefined) this.committedPlain.add(i);
          else this.committedConfig.set(i, config);
        }
      }
    });
    return problem;
  }

  /** The snapshot's configuration is the committed configuration in effect at the snapshot index. */
  private checkSnapshotConfig(id: string, s: RaftState): void {
    const expected = this.configInEffect(s.log.prevIndex);
    if (expected !== null && !configsEqual(expected, s.snapshotConfig)) {
      fail(
        `${id}: snapshot at ${s.log.prevIndex} has configuration ${JSON.stringify(s.snapshotConfig)}, expected ${JSON.stringify(expected)}`,
      );
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

  /** Configuration entries follow one another by the rules (see the module comment). */
  private checkConfigSequence(id: string, s: RaftState): void {
    let prev = s.snapshotConfig;
    for (const e of s.log.configs) {
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

  /** The committed configurations, in index order. */
  committedConfigs(): Array<{ index: number; config: ClusterConfig }> {
    return [...this.committedConfig].sort((a, b) => a[0] - b[0]).map(([index, config]) => ({ index, config }));
  }

  coverage(): Coverage {
    const cfgs = this.committedConfigs();
    const cov: Coverage = {
      ...this.counts,
      leaderships: this.leaders.size,
      maxCommit: 0,
      configsCommitted: cfgs.filter((c) => c.index > 1).length,
      jointCommitted: 0,
      jointCompleted: 0,
      nonVoterChangesCommitted: 0,
      promotionsCommitted: 0,
      voterRemovalsCommitted: 0,
    };
    for (const index of this.committedTerm.keys()) cov.maxCommit = Math.max(cov.maxCommit, index);
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
