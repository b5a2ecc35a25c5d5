/**
 * Raft's safety invariants, checked on a {@link Cluster} after every scheduling decision.
 *
 * - Election safety: at most one leader per term, ever.
 * - State machine safety: committed prefixes agree between every pair of nodes, and nothing ever
 *   committed (anywhere) changes: a global record keeps the longest committed prefix seen.
 * - Leader completeness: a leader of term T holds every entry some leader of a term below T had
 *   committed.
 * - Monotonicity: a node's term never decreases (even across restarts, the term is durable); its
 *   commit index never decreases while it runs (a restart starts it again from the snapshot).
 * - Leader append-only: during one leadership the leader's log only grows.
 * - Within one leadership a follower's match index never decreases and never exceeds the leader's log.
 */
import { emptyEntries, followerMatchIndex, termAt, type LogEntries, type RaftState } from '../../src/index.js';
import { since, spliceSuffix, truncateAfter } from '../../src/log.js';
import { agreeUpTo, fail, showLog, type Cluster } from './harness.js';

interface Tenure {
  readonly term: number;
  log: LogEntries;
  match: Map<string, number>;
}

/** Coverage counters, to show that the properties did not pass vacuously. */
export interface Coverage {
  /** Distinct (term, leader) pairs seen. */
  leaderships: number;
  /** Highest term reached by any node. */
  maxTerm: number;
  /** Highest committed index seen anywhere. */
  maxCommit: number;
  /** Times a node's log lost or replaced entries (a divergent tail was repaired). */
  tailsRepaired: number;
  /** Times a leader found a follower's log divergent (`logDivergencesDetectedByLeader` rose). */
  leaderDetectedDivergence: number;
  /** Times a follower found its tail divergent (`logDivergencesDetectedByFollower` rose). */
  followerDetectedDivergence: number;
  /** Times a node other than the previous leader took over. */
  leaderChanges: number;
}

export function emptyCoverage(): Coverage {
  return {
    leaderships: 0,
    maxTerm: 0,
    maxCommit: 0,
    tailsRepaired: 0,
    leaderDetectedDivergence: 0,
    followerDetectedDivergence: 0,
    leaderChanges: 0,
  };
}

export class Invariants {
  /** term -> the one node that led it. */
  private readonly leaders = new Map<number, string>();
  /** term -> the highest commit index a leader of that term had. */
  private readonly leaderCommit = new Map<number, number>();
  /** The committed prefix seen so far, never compacted: `committedLog` up to `committed`. */
  private committedLog: LogEntries = emptyEntries(0, 0);
  private committed = 0;
  private readonly last = new Map<string, RaftState>();
  private readonly tenures = new Map<string, Tenure>();
  private lastLeader: string | null = null;
  readonly coverage: Coverage = emptyCoverage();

  constructor(private readonly cluster: Cluster) {
    for (const id of cluster.ids) this.last.set(id, cluster.state(id));
  }

  /** A node restarted: its commit index and leadership start over. */
  restarted(id: string): void {
    const prev = this.last.get(id)!;
    const now = this.cluster.state(id);
    if (now.term < prev.term) fail(`${id}: term went from ${prev.term} to ${now.term} across a restart`);
    this.last.set(id, now);
    this.tenures.delete(id);
  }

  /** Check every invariant; call after each scheduling decision. */
  check(): void {
    const c = this.cluster;
    const cov = this.coverage;
    for (const id of c.ids) {
      const s = c.state(id);
      const prev = this.last.get(id)!;
      if (s.term < prev.term) fail(`${id}: term decreased from ${prev.term} to ${s.term}`);
      if (s.commitIndex < prev.commitIndex)
        fail(`${id}: commit index decreased from ${prev.commitIndex} to ${s.commitIndex}`);
      if (s.commitIndex > s.log.lastIndex)
        fail(`${id}: commit index ${s.commitIndex} beyond its log ${showLog(s.log)}`);
      if (s.metrics.logDivergencesDetectedByLeader > prev.metrics.logDivergencesDetectedByLeader) {
        cov.leaderDetectedDivergence++;
      }
      if (s.metrics.logDivergencesDetectedByFollower > prev.metrics.logDivergencesDetectedByFollower) {
        cov.followerDetectedDivergence++;
      }
      if (!(s.log.lastIndex >= prev.log.lastIndex && agreeUpTo(prev.log, s.log, prev.log.lastIndex))) {
        cov.tailsRepaired++;
      }
      cov.maxTerm = Math.max(cov.maxTerm, s.term);

      if (s.role === 'leader') this.checkLeader(id, s);
      else this.tenures.delete(id);
      this.last.set(id, s);
    }
    this.checkCommitted();
  }

  private checkLeader(id: string, s: RaftState): void {
    const cov = this.coverage;
    const owner = this.leaders.get(s.term);
    if (owner === undefined) {
      this.leaders.set(s.term, id);
      cov.leaderships++;
      if (this.lastLeader !== null && this.lastLeader !== id) cov.leaderChanges++;
      this.lastLeader = id;
      // Leader completeness: everything committed by leaders of earlier terms is in the new leader's log.
      let required = 0;
      for (const [t, ci] of this.leaderCommit) if (t < s.term && ci > required) required = ci;
      required = Math.min(required, this.committed);
      if (required > 0 && !agreeUpTo(this.committedLog, s.log, required)) {
        fail(
          `${id} leads term ${s.term} without the entries committed up to ${required}: ` +
            `${showLog(s.log)} vs committed ${showLog(this.committedLog)}`,
        );
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
    if (tenure !== undefined) {
      // A member removed and added again within a leadership starts again from 0.
      for (const p of tenure.match.keys()) if (!peers.includes(p)) tenure.match.delete(p);
    }
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
    // Match indices never decrease within a leadership.
    for (const p of peers) {
      const m = followerMatchIndex(s, p)!;
      const before = tenure.match.get(p);
      if (before !== undefined && m < before) {
        fail(`${id}: match index of ${p} went from ${before} to ${m} in term ${s.term}`);
      }
      tenure.match.set(p, m);
    }
  }

  private checkCommitted(): void {
    const c = this.cluster;
    const ids = c.ids;
    // Every pair agrees up to the smaller commit index.
    for (let a = 0; a < ids.length; a++) {
      for (let b = a + 1; b < ids.length; b++) {
        const sa = c.state(ids[a]!);
        const sb = c.state(ids[b]!);
        const upTo = Math.min(sa.commitIndex, sb.commitIndex);
        if (!agreeUpTo(sa.log, sb.log, upTo)) {
          fail(
            `${sa.id} and ${sb.id} disagree below their commit indices (${sa.commitIndex}, ${sb.commitIndex}): ` +
              `${showLog(sa.log)} vs ${showLog(sb.log)}` +
              firstDifference(sa.log, sb.log, upTo),
          );
        }
      }
    }
    // Nothing committed ever changes: compare with the global record, then extend it.
    for (const id of ids) {
      const s = c.state(id);
      const upTo = Math.min(s.commitIndex, this.committed);
      if (!agreeUpTo(this.committedLog, s.log, upTo)) {
        fail(
          `${id} committed up to ${s.commitIndex} a log ${showLog(s.log)} that contradicts what was ` +
            `committed before ${showLog(this.committedLog)} (up to ${this.committed})` +
            firstDifference(this.committedLog, s.log, upTo),
        );
      }
      // Extend the record with what this node committed beyond it (when its log still holds the
      // record's end: a node that jumped ahead with a snapshot cannot tell what lies in between).
      if (s.commitIndex > this.committed && s.log.prevIndex <= this.committed) {
        const beyond = since(s.log, termAt(s.log, this.committed), this.committed)!;
        this.committedLog = spliceSuffix(this.committedLog, truncateAfter(beyond, s.commitIndex));
        this.committed = s.commitIndex;
        this.coverage.maxCommit = Math.max(this.coverage.maxCommit, s.commitIndex);
      }
    }
  }
}

function firstDifference(a: LogEntries, b: LogEntries, upTo: number): string {
  for (let i = 1; i <= upTo; i++) {
    if (termAt(a, i) !== termAt(b, i))
      return `; first difference at index ${i}: term ${termAt(a, i)} vs ${termAt(b, i)}`;
  }
  return '; the configuration entries differ';
}
