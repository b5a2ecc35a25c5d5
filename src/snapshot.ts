/**
 * Snapshots and log compaction.
 *
 * The application owns snapshots: it saves its state machine at a committed index, or receives a
 * leader's snapshot, and then tells the node with a `snapshotInstalled` event. The node then keeps
 * only the log after the snapshot position (or an empty log there when the snapshot lies beyond or
 * off its log) and raises its commit index to it.
 *
 * Rules (noraft's `handle_snapshot_installed`), checked in order; a refused snapshot changes
 * nothing:
 * 1. a snapshot from a term this node has not reached is refused (for a remote install, step the
 *    leader's AppendEntries first, so that the term catches up);
 * 2. a snapshot beyond the commit index is accepted only by a non-leader catching up;
 * 3. otherwise the log must hold the snapshot position and the configuration must be the one in
 *    effect there.
 */
import { NO_ACTIONS, appendLog, compactLog, rejected } from './actions.js';
import { configsEqual, type ClusterConfig } from './config.js';
import { containsPosition, emptyEntries, since } from './log.js';
import { configAt, leaderHint, withSnapshot, type RaftState, type StepResult } from './state.js';

/** The snapshot covering `(term, index)` with configuration `config` is installed: compact the log. */
export function onSnapshotInstalled(s: RaftState, term: number, index: number, config: ClusterConfig): StepResult {
  if (term > s.term) return refuse(s, 'snapshotFromFutureTerm');
  const catchingUp = s.commitIndex < index;
  if (catchingUp && s.role === 'leader') return refuse(s, 'snapshotNotCommitted');
  if (!catchingUp) {
    if (!containsPosition(s.log, term, index)) return refuse(s, 'snapshotMismatch');
    const there = configAt(s, index);
    if (there === null || !configsEqual(there, config)) return refuse(s, 'snapshotMismatch');
  }
  if (index === s.log.prevIndex && term === s.log.prevTerm) return [s, NO_ACTIONS];
  const kept = since(s.log, term, index);
  const log = kept ?? emptyEntries(term, index);
  const next = withSnapshot(s, { log, config, commitIndex: s.commitIndex > index ? s.commitIndex : index });
  // A snapshot off this node's log replaces all of it. The empty append at the snapshot says so to
  // the storage, and supersedes any append of an earlier step merged with this one (mergeActions
  // cannot tell from an append's anchor alone whether it lies on the snapshot's branch).
  return [next, kept === null ? [compactLog(term, index), appendLog(log)] : [compactLog(term, index)]];
}

function refuse(
  s: RaftState,
  reason: 'snapshotFromFutureTerm' | 'snapshotNotCommitted' | 'snapshotMismatch',
): StepResult {
  return [s, [rejected('snapshotInstalled', reason, leaderHint(s), 0)]];
}
