/**
 * Bringing a node to life: a fresh start, a restart from persisted state, and forming a cluster.
 */
import {
  NO_ACTIONS,
  TIMER_FOLLOWER,
  appendLog,
  mergeActions,
  rejected,
  type AppendLog,
  type CompactLog,
} from './actions.js';
import { EMPTY_CONFIG, makeConfig, type ClusterConfig } from './config.js';
import { startElection } from './election.js';
import { appendConfig, appendSuffix, emptyEntries, since, type LogEntries } from './log.js';
import { ZERO_METRICS } from './metrics.js';
import { parseOptions, type NodeOptions } from './options.js';
import { initialFollower, latestConfig, leaderHint, withLog, type RaftState, type StepResult } from './state.js';
import { isNatural, isNodeId, parseConfig, parseLogEntries } from './validate.js';

/**
 * A fresh node: a follower in term 0 with an empty log and no configuration, as `[state, actions]`
 * like every other transition (the actions are empty: a fresh node arms no timer). It does nothing
 * until it either forms a cluster (`createCluster`) or hears from a leader. `options` (see
 * `NodeOptions`) default one by one to `DEFAULT_OPTIONS`.
 *
 * Throws a `TypeError` when `id` is not a non-empty string or an option is unknown or out of range
 * (constructors validate eagerly; only `step` is total).
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { BASIC_OPTIONS, startNode } from 'raftstep';
 *
 * const [node, actions] = startNode('n1'); // pre-vote, check-quorum and flow control on
 * assert.equal(node.role, 'follower');
 * assert.deepEqual(actions, []);
 * assert.equal(startNode('n2', { leaseReads: true }).length, 2); // lease reads need check-quorum: on by default
 * assert.equal(startNode('n3', BASIC_OPTIONS)[0].options.preVote, false); // noraft's protocol
 * assert.throws(() => startNode('n4', { electionTimeoutTicks: 1 }), TypeError);
 * ```
 */
export function startNode(id: string, options?: Partial<NodeOptions>): StepResult {
  if (!isNodeId(id)) throw new TypeError('startNode: id must be a non-empty string');
  const opts = parseOptions(options);
  if (typeof opts === 'string') throw new TypeError(`startNode: ${opts}`);
  const state = initialFollower({
    options: opts,
    leaderAlive: false,
    id,
    term: 0,
    votedFor: null,
    commitIndex: 0,
    log: emptyEntries(0, 0),
    snapshotConfig: EMPTY_CONFIG,
    metrics: ZERO_METRICS,
  });
  return [state, NO_ACTIONS];
}

/**
 * What a node must have persisted to restart: the last `saveHardState` it was asked for (term and
 * vote), its log (rebuilt from its `appendLog` and `compactLog` actions with `applyToStoredLog`, anchored at its snapshot
 * position if it compacted), and the configuration in effect at the snapshot position; and its
 * options (not persisted by raftstep: the application's configuration; missing ones default).
 */
export interface PersistedState {
  /** The node's id: a non-empty string, the same it had before. */
  readonly id: string;
  /** The `term` of the last `saveHardState` (0 when there was none): an integer from 0 to 2^53 - 2. */
  readonly term: number;
  /** The `votedFor` of the last `saveHardState` (null when there was none): null or a non-empty string. */
  readonly votedFor: string | null;
  /**
   * The stored log, rebuilt from every `appendLog` and `compactLog` with `applyToStoredLog`: it must
   * satisfy `LogEntries`' contract, with `lastTerm` at most `term`.
   */
  readonly log: LogEntries;
  /**
   * The configuration in effect at the log's anchor: the `config` of the last `snapshotInstalled`
   * that compacted the log (`EMPTY_CONFIG` when none did). Must satisfy `ClusterConfig`'s contract.
   */
  readonly snapshotConfig: ClusterConfig;
  /** The node's options; missing ones default (see `DEFAULT_OPTIONS`), unknown or out-of-range ones throw. */
  readonly options?: Partial<NodeOptions>;
}

/**
 * Restart a node from what it persisted. It comes back as a follower with its commit index at the
 * snapshot boundary (commit progress above it is learned again from the leader, and the
 * application re-applies entries above its own applied index) and asks for its timer to be armed.
 *
 * The persisted data must be exactly what the node asked to persist: restarting from a log that
 * lost durable entries breaks Raft's safety. Throws a `TypeError` naming the problem when the data
 * is malformed, with the same checks as `step`'s (terms and indices from 0 to 2^53 - 2, a log run
 * satisfying `LogEntries`' contract, a configuration satisfying `ClusterConfig`'s). The state keeps
 * plain copies of what `persisted` holds.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { EMPTY_CONFIG, applyToStoredLog, emptyEntries, restartNode, startNode, step } from 'raftstep';
 * import type { RaftActions } from 'raftstep';
 *
 * // What an application persists while a node runs: its hard state, and its log replayed from
 * // the storage actions.
 * const disk = { term: 0, votedFor: null as string | null, log: emptyEntries(0, 0) };
 * const persist = (actions: RaftActions): void => {
 *   for (const a of actions) {
 *     if (a.type === 'saveHardState') Object.assign(disk, { term: a.term, votedFor: a.votedFor });
 *     if (a.type === 'appendLog' || a.type === 'compactLog') disk.log = applyToStoredLog(disk.log, a);
 *   }
 * };
 * let [node, actions] = step(startNode('n1')[0], { type: 'createCluster', voters: ['n1'] });
 * persist(actions);
 * [node, actions] = step(node, { type: 'propose', count: 2 });
 * persist(actions);
 * // After a crash:
 * const [back, todo] = restartNode({ id: 'n1', ...disk, snapshotConfig: EMPTY_CONFIG });
 * assert.equal(back.role, 'follower');
 * assert.equal(back.log.lastIndex, node.log.lastIndex); // nothing durable was lost
 * assert.equal(back.commitIndex, 0); // learned again (a single voter re-elects itself and commits)
 * assert.deepEqual(todo, [{ type: 'setTimer', wait: 'follower' }]);
 * ```
 */
export function restartNode(persisted: PersistedState): StepResult {
  const p = parsePersisted(persisted);
  if (typeof p === 'string') throw new TypeError(`restartNode: ${p}`);
  const state = initialFollower({
    options: p.options,
    leaderAlive: true,
    id: p.id,
    term: p.term,
    votedFor: p.votedFor,
    commitIndex: p.log.prevIndex,
    log: p.log,
    snapshotConfig: p.snapshotConfig,
    metrics: ZERO_METRICS,
  });
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

/** A plain copy of the persisted state, each field read once; or its problem. */
function parsePersisted(x: PersistedState): string | (PersistedState & { readonly options: NodeOptions }) {
  if (typeof x !== 'object' || x === null) return 'persisted state must be an object';
  const id: unknown = x.id;
  const term: unknown = x.term;
  const votedFor: unknown = x.votedFor;
  if (!isNodeId(id)) return 'id must be a non-empty string';
  if (!isNatural(term)) return 'term must be an integer from 0 to 2^53 - 2';
  if (votedFor !== null && !isNodeId(votedFor)) return 'votedFor must be null or a non-empty string';
  const log = parseLogEntries(x.log, 'log.');
  if (typeof log === 'string') return log;
  if (log.lastTerm > term) return 'log.lastTerm must not exceed term';
  const snapshotConfig = parseConfig(x.snapshotConfig, 'snapshotConfig.');
  if (typeof snapshotConfig === 'string') return snapshotConfig;
  const options = parseOptions(x.options);
  if (typeof options === 'string') return options;
  return { id, term, votedFor, log, snapshotConfig, options };
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
