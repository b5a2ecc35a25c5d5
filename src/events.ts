/**
 * The events `step` accepts: the four Raft messages, and the application's requests.
 */
import type { ClusterConfig } from './config.js';
import type { Message } from './messages.js';

/**
 * Form a new cluster from this fresh node, with `voters` as the voting members (this node need not
 * be one of them). Only a node with an empty log and no configuration may do this; the others
 * learn the configuration from the leader's first AppendEntries. A single voter becomes leader at
 * once.
 */
export interface CreateClusterEvent {
  readonly type: 'createCluster';
  readonly voters: readonly string[];
}

/**
 * Propose `count` commands (default 1) on the leader, in one event. They take consecutive indices
 * after the leader's last one, in its current term (`proposeCommands` steps this event and says where the commands went).
 */
export interface ProposeEvent {
  readonly type: 'propose';
  readonly count?: number;
}

/** Send a heartbeat now (leader only); useful as a read barrier. */
export interface HeartbeatEvent {
  readonly type: 'heartbeat';
}

/** The timer armed by the last `setTimer` action fired. */
export interface TimeoutEvent {
  readonly type: 'timeout';
}

/**
 * Propose the next cluster configuration (leader only; see `membership.ts` for the rules). Build it
 * with `toJointConsensus(latestConfig(state), adding, removing)` to change voters, or with
 * `withNonVoters(latestConfig(state), adding, removing)` to change non-voters only.
 */
export interface ProposeConfigEvent {
  readonly type: 'proposeConfig';
  readonly config: ClusterConfig;
}

/**
 * The application installed a snapshot covering the log up to `(term, index)`, whose configuration
 * is `config`: one it took itself at a committed index (local compaction; take the position and
 * configuration from `positionAndConfigAt(state, index)`), or one a leader sent after an
 * `installSnapshot` action. The node compacts its log (see `snapshot.ts`).
 */
export interface SnapshotInstalledEvent {
  readonly type: 'snapshotInstalled';
  readonly term: number;
  readonly index: number;
  readonly config: ClusterConfig;
}

/** Requests from the application. (Named `...Event` so that none clashes with a DOM or library type.) */
export type RequestEvent =
  CreateClusterEvent | ProposeEvent | HeartbeatEvent | TimeoutEvent | ProposeConfigEvent | SnapshotInstalledEvent;

/** Anything `step` accepts. */
export type RaftEvent = RequestEvent | Message;
