/**
 * A run's summary in plain words.
 */
import { MUTANTS, type MutantName } from './mutants.js';
import type { SimSummary } from './simulator.js';
import { describeViolation } from './violation.js';

function plural(n: number, one: string, many = one + 's'): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** A few lines saying what happened in a run. */
export function describeSummary(s: SimSummary): string {
  const lines: string[] = [];
  lines.push(
    `seed ${s.seed}: ${plural(s.nodes, 'node')}, ${plural(s.events, 'event')} (${s.steps} under faults: ${s.faults || 'none'}), ` +
      `${(s.virtualTime / 1000).toFixed(2)} s of virtual time, protocol extensions: ${s.features}`,
  );
  if (s.mutant !== null) {
    lines.push(`  every node runs the mutant ${s.mutant}: ${MUTANTS[s.mutant as MutantName]?.breaks ?? 'unknown'}`);
  }
  lines.push(
    `  elections: ${plural(s.elections, 'election')} started, ${plural(s.leaderships, 'leader')} elected ` +
      `(${plural(s.leaderChanges, 'leader change')}), highest term ${s.maxTerm}`,
  );
  lines.push(
    `  commits: ${plural(s.commits, 'command')} committed (commit index ${s.commitIndex}, which also counts ` +
      `term starts and configurations) of ${s.commandsProposed} proposed in ${plural(s.proposals, 'proposal')} ` +
      `(a proposal carries one or more commands; ${s.proposalsRejected} refused by non-leaders, retried on the leader)`,
  );
  if (s.features !== 'none') {
    lines.push(
      `  reads: ${plural(s.reads, 'read')} issued, ${s.readsChecked} answered and checked against the committed history, ` +
        `${s.readsRejected} refused, ${s.readsLost} lost with their node; ${plural(s.preVotes, 'pre-vote')}, ` +
        `${plural(s.checkQuorumStepDowns, 'check-quorum step-down')}; ${plural(s.transfers, 'leadership transfer')} started ` +
        `(${s.transfersCompleted} completed, ${s.transferRequests} asked for; ${s.proposalsRejectedByTransfer} proposals refused meanwhile, retried)`,
    );
  }
  if (s.slowEpisodes > 0 || s.skewedNodes > 0) {
    lines.push(
      `  slow followers: ${s.slowEpisodes} (${s.slowDrops} messages dropped by their full queues), most entries in flight to one ` +
        `follower ${s.maxInflight}; ${plural(s.skewedNodes, 'node')} with skewed timers (up to ${(s.maxSkew * 100).toFixed(1)} % off real time)`,
    );
  }
  lines.push(
    `  network: ${plural(s.messages, 'message')} sent, ${s.drops} dropped, ${s.duplicates} duplicated, ${s.reordered} reordered; ` +
      `${plural(s.partitions, 'partition')} (${s.partitionDrops} messages lost to them)`,
  );
  lines.push(`  nodes: ${plural(s.crashes, 'crash', 'crashes')}, ${plural(s.restarts, 'restart')} from durable state`);
  lines.push(
    `  snapshots: ${plural(s.compactions, 'local compaction')}, ${s.snapshotsSent} sent to lagging followers, ` +
      `${s.snapshotsLost} lost, ${s.snapshotsInstalled} installed`,
  );
  lines.push(
    `  membership: ${plural(s.configChanges, 'configuration change')} committed out of ${s.configProposals} proposed ` +
      `(${plural(s.nodesAdded, 'node')} added, ${s.promotions} promoted, ${s.nodesRemoved} shut down)`,
  );
  if (s.liveness !== null) {
    const l = s.liveness;
    lines.push(
      `  liveness: after the faults stopped at t=${l.healedAt} ms, leader ${l.leader} (term ${l.term}) committed a new ` +
        `proposal ${l.took} ms later`,
    );
  }
  lines.push(s.violation === null ? '  no invariant violated' : `  VIOLATION: ${describeViolation(s.violation)}`);
  return lines.join('\n');
}
