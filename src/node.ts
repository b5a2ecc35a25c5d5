/**
 * Bringing a node to life: a fresh start, a restart from persisted state, and forming a cluster.
 */
import { TIMER_FOLLOWER, appendLog, mergeActions, rejected, type AppendLog, type CompactLog } from './actions.js';
import { EMPTY_CONFIG, makeConfig, type ClusterConfig } from './config.js';
import { startElection } from './election.js';
import { appendConfig, appendSuffix, emptyEntries, makeEntries, since, type LogEntries } from './log.js';
import { ZERO_METRICS } from './metrics.js';
import { latestConfig, leaderHint, makeState, withLog, type RaftState, type StepResult } from './state.js';
import { isNatural, isNodeId, validateConfig, validateLogEntries } from './validate.js';

/**
 * A fresh node: a follower in term 0 with an empty log and no configuration. It arms no timer and
 * does nothing until it either forms a cluster (`createCluster`) or hears from a leader.
 *
 * Throws a `TypeError` when `id` is not a non-empty string (constructors validate eagerly; only
 * `step` is total).
 */
export function startNode(id: string): RaftState {
  if (!isNodeId(id)) throw new TypeError('startNode: id must be a non-empty string');
  return makeState(id, 'follower', 0, null, 0, emptyEntries(0, 0), EMPTY_CONFIG, null, null, ZERO_METRICS, null);
}

/**
 * What a node must have persisted to restart: the last `saveHardState` it was asked for (term and
 * vote), its log (rebuilt from its `appendLog` actions with `appendSuffix`, anchored at its snapshot
 * position if it compacted), and the configuration in effect at the snapshot position.
 */
export interface PersistedState {
  readonly id: string;
  readonly term: number;
  readonly votedFor: string | null;
  readonly log: LogEntries;
  readonly snapshotConfig: ClusterConfig;
}

/**
 * Restart a node from what it persisted. It comes back as a follower with its commit index at the
 * snapshot boundary (commit progress above it is learned again from the leader, and the
 * application re-applies entries above its own applied index) and asks for its timer to be armed.
 *
 * The persisted data must be exactly what the node asked to persist: restarting from a log that
 * lost durable entries breaks Raft's safety. Throws a `TypeError` naming the problem when the data
 * is malformed.
 */
export function restartNode(persisted: PersistedState): StepResult {
  const problem = checkPersisted(persisted);
  if (problem !== null) throw new TypeError(`restartNode: ${problem}`);
  const { id, term, votedFor, log, snapshotConfig } = persisted;
  const cleanLog = makeEntries(log.prevTerm, log.prevIndex, log.lastTerm, log.lastIndex, log.termStarts, log.configs);
  const state = makeState(
    id,
    'follower',
    term,
    votedFor,
    log.prevIndex,
    cleanLog,
    snapshotConfig,
    null,
    null,
    ZERO_METRICS,
    null,
  );
  return [state, [TIMER_FOLLOWER]];
}

/**
 * The log an application's storage holds after carrying out one storage action on it: an
 * `appendLog` replaces everything after its anchor, a `compactLog` drops what the snapshot covers
 * (everything, when the log does not hold the snapshot position). Replaying every storage action a
 * node returned, from `emptyEntries(0, 0)`, gives the `log` that `restartNode` needs.
 *
 * Throws an `Error` when an `appendLog`'s anchor is not in `log`: the stored log lost or skipped a
 * write the node relied on, and carrying on would hide a storage bug.
 */
export function applyToStoredLog(log: LogEntries, action: AppendLog | CompactLog): LogEntries {
  if (action.type === 'appendLog') {
    const next = appendSuffix(log, action.entries);
    if (next === null) {
      const e = action.entries;
      throw new Error(
        `applyToStoredLog: the stored log (${log.prevTerm},${log.prevIndex})..(${log.lastTerm},${log.lastIndex}) ` +
          `does not hold the append's anchor (${e.prevTerm},${e.prevIndex})`,
      );
    }
    return next;
  }
  if (action.index < log.prevIndex) return log;
  return since(log, action.term, action.index) ?? emptyEntries(action.term, action.index);
}

function checkPersisted(p: PersistedState): string | null {
  if (typeof p !== 'object' || p === null) return 'persisted state must be an object';
  if (!isNodeId(p.id)) return 'id must be a non-empty string';
  if (!isNatural(p.term)) return 'term must be a non-negative safe integer';
  if (p.votedFor !== null && !isNodeId(p.votedFor)) return 'votedFor must be null or a non-empty string';
  const logProblem = validateLogEntries(p.log, 'log.');
  if (logProblem !== null) return logProblem;
  if (p.log.lastTerm > p.term) return 'log.lastTerm must not exceed term';
  return validateConfig(p.snapshotConfig, 'snapshotConfig.');
}

/**
 * Form a cluster: append the configuration with `voters` at index 1 and start the first election
 * (a single voter wins at once). Rejected without change when the node already has a log or a
 * configuration, or when `voters` is empty.
 */
export function createCluster(s: RaftState, voters: readonly string[]): StepResult {
  if (s.log.lastIndex !== 0 || latestConfig(s).voters.length > 0) {
    return [s, [rejected('createCluster', 'alreadyInCluster', leaderHint(s), 0)]];
  }
  if (voters.length === 0) return [s, [rejected('createCluster', 'noVoters', leaderHint(s), 0)]];
  const log = appendConfig(s.log, makeConfig(voters));
  const withConfig = withLog(s, log);
  const [next, actions] = startElection(withConfig);
  return [next, mergeActions([appendLog(log)], actions)];
}
