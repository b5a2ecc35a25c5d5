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
  /** Discriminant: always `'createCluster'`. */
  readonly type: 'createCluster';
  /**
   * The voters of the first configuration: node ids sorted ascending without duplicates (otherwise
   * the event is an `invalidEvent`). Empty: rejected (`noVoters`).
   */
  readonly voters: readonly string[];
}

/**
 * Propose `count` commands (default 1) on the leader, in one event. They take consecutive indices
 * after the leader's last one, in its current term (`proposeCommands` steps this event and says where the commands went).
 */
export interface ProposeEvent {
  /** Discriminant: always `'propose'`. */
  readonly type: 'propose';
  /**
   * How many commands to propose: an integer from 1 to 2^53 - 2 (1 when absent). Another value, or
   * a count that would take the log past the last index commands may use, is an `invalidEvent`.
   */
  readonly count?: number;
}

/** Send a heartbeat now (leader only); useful as a read barrier. */
export interface HeartbeatEvent {
  /** Discriminant: always `'heartbeat'`. */
  readonly type: 'heartbeat';
}

/** The timer armed by the last `setTimer` action fired. */
export interface TimeoutEvent {
  /** Discriminant: always `'timeout'`. */
  readonly type: 'timeout';
}

/**
 * Propose the next cluster configuration (leader only; see `membership.ts` for the rules). Build it
 * with `toJointConsensus(latestConfig(state), adding, removing)` to change voters, or with
 * `withNonVoters(latestConfig(state), adding, removing)` to change non-voters only.
 */
export interface ProposeConfigEvent {
  /** Discriminant: always `'proposeConfig'`. */
  readonly type: 'proposeConfig';
  /**
   * The configuration to move to. It must satisfy `ClusterConfig`'s contract (otherwise the event
   * is an `invalidEvent`); a change the rules do not allow is rejected with the reason.
   */
  readonly config: ClusterConfig;
}

/**
 * The application installed a snapshot covering the log up to `(term, index)`, whose configuration
 * is `config`: one it took itself at a committed index (local compaction; take the position and
 * configuration from `positionAndConfigAt(state, index)`), or one a leader sent after an
 * `installSnapshot` action. The node compacts its log (see `snapshot.ts`).
 */
export interface SnapshotInstalledEvent {
  /** Discriminant: always `'snapshotInstalled'`. */
  readonly type: 'snapshotInstalled';
  /**
   * The term of the snapshot's last entry. Above the node's term, the snapshot is rejected
   * (`snapshotFromFutureTerm`).
   */
  readonly term: number;
  /**
   * The index of the snapshot's last entry: the snapshot covers the log up to it. At or below the
   * commit index, the log must hold `(term, index)`, or the snapshot is rejected (`snapshotMismatch`);
   * above it, only a node that is not leader accepts it (otherwise `snapshotNotCommitted`).
   */
  readonly index: number;
  /**
   * The configuration in effect at `index`. At or below the commit index it must equal the one the
   * log has there, or the snapshot is rejected (`snapshotMismatch`).
   */
  readonly config: ClusterConfig;
}

/**
 * A linearizable read (ReadIndex), named by the application's `id` (a non-empty string, unique
 * among this node's reads in flight). The node answers with `readReady {id, index}` once it is
 * safe to answer the read from the state machine after applying every entry up to `index`, or with
 * `rejected {request: 'read', id}`. On the leader: it waits until the leader has committed an entry
 * of its own term, takes the commit index, and confirms it still leads with one round of
 * `leadershipCheck` messages shared by every read waiting (or, with `leaseReads`, answers at once
 * while its lease holds). On a follower: the read is forwarded to the leader (`readIndex`) and the
 * answer comes back as `readReady` on this node. A second read with the id of one in flight is
 * rejected (`duplicateRead`); a node that cannot serve it (no leader known, the leader changed or
 * stepped down) rejects it (`notLeader`, `leaderChanged`) with its leader hint. A read is never
 * dropped without an answer while the node stays in service.
 */
export interface ReadEvent {
  /** Discriminant: always `'read'`. */
  readonly type: 'read';
  /**
   * The application's name for the read: a non-empty string (otherwise the event is an
   * `invalidEvent`), unique among this node's reads in flight. The answer carries it.
   */
  readonly id: string;
}

/**
 * Hand leadership to the voter `to` (leader only). The leader brings `to` up to date, then tells
 * it to campaign at once (`timeoutNow`); proposals are rejected with `transferInProgress` until the
 * transfer ends: when `to` wins, or after `electionTimeoutTicks` ticks, when it is abandoned.
 * Refused (`rejected`) on a node that is not leader, for `to` not a voter of the latest configuration
 * (`notAVoter`), for the leader itself (`alreadyLeader`), and while another transfer is running
 * (`transferInProgress`).
 */
export interface TransferLeadershipEvent {
  /** Discriminant: always `'transferLeadership'`. */
  readonly type: 'transferLeadership';
  /** The voter of the latest configuration to hand leadership to (a non-empty string). */
  readonly to: string;
}

/**
 * The application's storage made the `appendLog` whose entries end at `(term, index)` durable, and
 * every write before it. Only read with the option `concurrentLeaderWrites`: the application then
 * steps it after every `appendLog`, on every node, once the write is durable (in the order of the
 * writes); a leader counts its own entries towards a commit only when reported so. Ignored on a
 * node that is not leader, without the option, and for positions of an older term or already
 * reported. `term` and `index` must be naturals; a report of the leader's term beyond its last
 * entry (a write it never asked for) is an `invalidEvent`, the state unchanged.
 */
export interface AppendPersistedEvent {
  /** Discriminant: always `'appendPersisted'`. */
  readonly type: 'appendPersisted';
  /** The term of the last entry of the durable `appendLog` (its `entries.lastTerm`). */
  readonly term: number;
  /** The index of the last entry of the durable `appendLog` (its `entries.lastIndex`). */
  readonly index: number;
}

/** Requests from the application. (Named `...Event` so that none clashes with a DOM or library type.) */
export type RequestEvent =
  | CreateClusterEvent
  | ProposeEvent
  | HeartbeatEvent
  | TimeoutEvent
  | ProposeConfigEvent
  | SnapshotInstalledEvent
  | ReadEvent
  | TransferLeadershipEvent
  | AppendPersistedEvent;

/** Anything `step` accepts. */
export type RaftEvent = RequestEvent | Message;
