/**
 * The public shape of a host: what `createHost` takes (`HostConfig`, `HostOptions`), what a running
 * host offers (`Host`), and what it reports (`HostStatus`, `HostStats`); and the checking of a
 * configuration into the settings the runtime uses (./host.ts, ./node-executor.ts), every default
 * filled in.
 *
 * This module imports only the core and the host's own modules, and runs in browsers.
 */
import { DEFAULT_OPTIONS, type ClusterConfig, type NodeOptions, type RaftState, type Role } from '../index.js';
import type { HaltInfo } from './errors.js';
import type { HostEventRecord } from './event-log.js';
import { MEMORY_ADDRESS } from './memory-transport.js';
import type { ExecutorStats } from './node-executor.js';
import type { SnapshotPolicy, SnapshotStats, TransferStatus } from './snapshots.js';
import type { StateMachine } from './state-machine.js';
import type { Storage } from './storage.js';
import type { HostClock } from './timers.js';
import { DEFAULT_MAX_FRAME_BYTES, type PeerAddress, type Transport, type TransportStats } from './transport.js';

/** Tuning of a host; every field is optional. */
export interface HostOptions {
  /**
   * The node's options (see the core's `NodeOptions`); missing ones default to the core's
   * `DEFAULT_OPTIONS`, except `concurrentLeaderWrites`, which a host turns on: it sends a leader's
   * new entries while writing them and reports every write durable (`appendPersisted`), so a
   * command waits for one fsync instead of two in a row. Give `concurrentLeaderWrites: false` to
   * write before sending.
   */
  readonly node?: Partial<NodeOptions>;
  /** The heartbeat interval (one tick) in milliseconds, a positive integer. Default 50. */
  readonly heartbeatMs?: number;
  /** When to take snapshots. Default `{everyEntries: 10_000}`; `{}` never takes one. */
  readonly snapshot?: SnapshotPolicy;
  /** Snapshot bytes per chunk when streaming to a follower, a positive integer. Default 256 KiB. */
  readonly snapshotChunkBytes?: number;
  /** How long a chunk waits for its ack before it is sent again, in ms. Default 10 × heartbeatMs. */
  readonly snapshotRetransmitMs?: number;
  /** Retransmissions in a row without an ack before a transfer is abandoned. Default 5. */
  readonly snapshotMaxRetries?: number;
  /** The largest snapshot this host accepts from a leader, in bytes. Default 1 GiB. */
  readonly maxSnapshotBytes?: number;
  /** The largest frame this host sends (keep it at most the transport's limit). Default 16 MiB. */
  readonly maxFrameBytes?: number;
  /** Payloads kept in memory below the applied index, for followers that are a little behind. Default 4096. */
  readonly payloadCacheEntries?: number;
  /**
   * Where each peer is reached, for `transport.setPeers` (the host keeps the transport's peer set
   * equal to the node's peers, plus the nodes it must answer): a record by id, or a function; an id
   * without an address cannot be sent to. Default: `MEMORY_ADDRESS` for every id (the in-process
   * transport ignores addresses). A TCP transport needs real addresses here.
   */
  readonly peerAddresses?: Readonly<Record<string, PeerAddress>> | ((id: string) => PeerAddress | undefined);
}

/** What `createHost` needs. */
export interface HostConfig<Command, Result, Query, QueryResult> {
  /** The node's id: a non-empty string, the same across restarts. */
  readonly id: string;
  /** The node's durable storage; the host owns it from now on (it closes it when it stops). */
  readonly storage: Storage;
  /** The node's transport, not started; the host owns it (starts it, closes it when it stops). */
  readonly transport: Transport;
  /** The state machine: fresh, or as the stored snapshot would restore it. */
  readonly stateMachine: StateMachine<Command, Result, Query, QueryResult>;
  /** Tuning (see {@link HostOptions}). */
  readonly options?: HostOptions;
  /** Uniform numbers in [0, 1) for election timeouts and ids. Default `Math.random`. */
  readonly random?: () => number;
  /** The clock (time and timers). Default the runtime's (`SYSTEM_CLOCK`). */
  readonly clock?: HostClock;
  /**
   * Called with every record of the node's history (start or restart, every event stepped, stop):
   * see ./event-log.ts. Called synchronously, before the step's actions are carried out; it must not
   * throw (an exception is rethrown asynchronously and the host goes on).
   */
  readonly onEvent?: (record: HostEventRecord) => void;
}

/** A membership change for `changeMembership`; every list is optional. */
export interface MembershipChange {
  /** Nodes to make voters (through a joint configuration; a non-voter is promoted). */
  readonly addVoters?: readonly string[];
  /** Voters to remove (through a joint configuration). */
  readonly removeVoters?: readonly string[];
  /** Nodes to add as non-voters (learners). */
  readonly addNonVoters?: readonly string[];
  /** Non-voters to remove. */
  readonly removeNonVoters?: readonly string[];
}

/** Counters of a host since it was created: its executor's, and the stepping's and requests'. */
export interface HostStats extends ExecutorStats {
  /** Events stepped. */
  eventsStepped: number;
  /** Events the core found malformed (`invalidEvent`). */
  invalidEvents: number;
  /** Commands accepted by this node as leader. */
  proposalsAccepted: number;
  /** Commands refused (not leader, transfer in progress, ...). */
  proposalsRefused: number;
  /** Reads answered. */
  readsServed: number;
  /** Batches whose messages left while their write was in flight (a leader's own appends, `concurrentLeaderWrites`). */
  concurrentBatches: number;
  /**
   * Batches that wrote nothing, carried out while a leader's own write was in flight: commits that
   * a majority of followers made durable, applied without waiting for the leader's disk.
   */
  batchesAheadOfWrite: number;
  /** `appendPersisted` events stepped after a durable write (with `concurrentLeaderWrites`; on a leader only). */
  appendsReported: number;
  /** Snapshot taking and streaming. */
  snapshots: SnapshotStats;
}

/** What `status()` reports. */
export interface HostStatus {
  /** The node's id. */
  readonly id: string;
  /** The node's role. */
  readonly role: Role;
  /** The node's current term. */
  readonly term: number;
  /** The node this one believes leads, or null. */
  readonly leader: string | null;
  /** The highest log index known to be committed. */
  readonly commitIndex: number;
  /** The last index applied to the state machine (or restored from a snapshot). */
  readonly appliedIndex: number;
  /** The index of the node's last log entry. */
  readonly lastIndex: number;
  /** The index of the node's snapshot (its log's anchor). */
  readonly snapshotIndex: number;
  /** The latest configuration. */
  readonly members: ClusterConfig;
  /** Why the host stopped, or null while it runs. */
  readonly halted: HaltInfo | null;
  /** The transport's counters. */
  readonly transport: TransportStats;
  /** The host's counters (a copy). */
  readonly stats: HostStats;
  /** Snapshot transfers running from this leader. */
  readonly transfers: readonly TransferStatus[];
  /** A snapshot being received: its index, bytes staged, size, and whether it is complete. */
  readonly receiving: {
    /** The log index of the last entry the snapshot being received covers. */
    index: number;
    /** Bytes staged so far, contiguous from offset 0: from 0 up to `total`. */
    received: number;
    /** The snapshot's size in bytes, as the leader's chunks announce it. */
    total: number;
    /**
     * True once every byte arrived and the CRC-32 matched. A complete snapshot stays staged until
     * the host installs it (stepping `snapshotInstalled`) or discards it; one from a term above the
     * node's waits for the node's term to reach it.
     */
    complete: boolean;
  } | null;
}

/** A running node. Every method is safe to call at any time; after a stop, requests reject with `stopped`. */
export interface Host<Command, Result, Query, QueryResult> {
  /** The node's id. */
  readonly id: string;
  /** The node's current state (read-only: for inspection). */
  readonly state: RaftState;
  /** Settles (never rejects) with why the host stopped, once the transport and storage are closed. */
  readonly stopped: Promise<HaltInfo>;
  /**
   * Form a new cluster of `voters` from this fresh node (one node of a new cluster, once; the others
   * learn the configuration from the leader). Resolves when the node accepted it; rejects
   * (`rejected`) when it refused it (it already has a log or a configuration, or `voters` is empty).
   */
  createCluster(voters: readonly string[]): Promise<void>;
  /**
   * Replicate `command` (on the leader) and resolve with the state machine's result once it is
   * applied here. Rejects with a `HostError`: `notLeader` (retry on `leaderHint`), `rejected`
   * (`transferInProgress`), `overwritten`, `unknownOutcome`, `tooLarge`, `stopped`; or with the
   * codec's or the state machine's exception.
   */
  propose(command: Command): Promise<Result>;
  /**
   * A linearizable read (ReadIndex; on a follower, forwarded to the leader): resolves with the state
   * machine's answer once every write acknowledged before the call is applied here. Rejects with a
   * `HostError` (`notLeader` when no leader is known, `rejected` with `leaderChanged`, `stopped`) or
   * with the query's exception.
   */
  read(query: Query): Promise<QueryResult>;
  /**
   * Change the members (on the leader): voters through joint consensus, non-voters directly.
   * Resolves with the final configuration once it is committed; rejects (`notLeader`, `rejected`
   * with `changeInProgress`/`votersMismatch`/`noChange`/`transferInProgress`, `overwritten`,
   * `stopped`). A `RangeError` when the change would leave no voters.
   */
  changeMembership(change: MembershipChange): Promise<ClusterConfig>;
  /**
   * Hand leadership to the voter `to` (on the leader). Resolves when `to` leads (this node hears
   * from it as leader of a later term); rejects (`notLeader`, `rejected`, `abandoned` when the
   * transfer times out or another node wins, `stopped`).
   */
  transferLeadership(to: string): Promise<void>;
  /** Where the node stands, and the host's counters. */
  status(): HostStatus;
  /** Stop the host (see the module comment); resolves once the transport and storage are closed. */
  stop(): Promise<void>;
}

/** Options with every default filled in (see {@link HostOptions} for each). */
export interface Settings {
  /** The node's options as given, with `concurrentLeaderWrites` on unless given (see `HostOptions.node`). */
  readonly node: Partial<NodeOptions>;
  /** The node's election timeout in ticks (from `node`, else the core's default). */
  readonly electionTimeoutTicks: number;
  /** One tick, in milliseconds. */
  readonly heartbeatMs: number;
  /** When to take snapshots. */
  readonly policy: SnapshotPolicy;
  /** Snapshot bytes per chunk. */
  readonly chunkBytes: number;
  /** How long a chunk waits for its ack, in milliseconds. */
  readonly retransmitMs: number;
  /** Retransmissions in a row before a transfer is abandoned. */
  readonly maxRetries: number;
  /** The largest snapshot accepted from a leader, in bytes. */
  readonly maxSnapshotBytes: number;
  /** The largest frame sent, in bytes. */
  readonly maxFrameBytes: number;
  /** Payloads kept in memory below the applied index. */
  readonly cacheEntries: number;
  /** Where each peer is reached (undefined: it cannot be sent to). */
  readonly address: (id: string) => PeerAddress | undefined;
}

/**
 * The settings of a configuration, every default filled in. Throws a TypeError for a configuration
 * that lacks an id or a method of its storage, transport or state machine, and a RangeError for an
 * option out of range.
 */
export function checkConfig(config: HostConfig<unknown, unknown, unknown, unknown>): Settings {
  if (typeof config !== 'object' || config === null) throw new TypeError('createHost: config must be an object');
  if (typeof config.id !== 'string' || config.id.length === 0)
    throw new TypeError('createHost: id must be a non-empty string');
  for (const m of ['load', 'write', 'payloads', 'snapshot', 'close'] as const) {
    if (typeof config.storage?.[m] !== 'function') throw new TypeError(`createHost: storage.${m} must be a function`);
  }
  for (const m of ['start', 'send', 'setPeers', 'close', 'stats'] as const) {
    if (typeof config.transport?.[m] !== 'function')
      throw new TypeError(`createHost: transport.${m} must be a function`);
  }
  for (const m of ['apply', 'query', 'snapshot', 'restore'] as const) {
    if (typeof config.stateMachine?.[m] !== 'function') {
      throw new TypeError(`createHost: stateMachine.${m} must be a function`);
    }
  }
  return checkOptions(config.options);
}

/**
 * The settings of `options`, every default filled in. Throws a RangeError, naming the option and
 * `caller`, for an option out of range.
 */
export function checkOptions(options: HostOptions | undefined, caller = 'createHost'): Settings {
  const o = options ?? {};
  const positive = (name: string, x: number | undefined, fallback: number): number => {
    if (x === undefined) return fallback;
    if (!Number.isSafeInteger(x) || x < 1)
      throw new RangeError(`${caller}: options.${name} must be a positive integer`);
    return x;
  };
  const heartbeatMs = positive('heartbeatMs', o.heartbeatMs, 50);
  const policy = o.snapshot ?? { everyEntries: 10_000 };
  positive('snapshot.everyEntries', policy.everyEntries, 1);
  positive('snapshot.everyBytes', policy.everyBytes, 1);
  const ticks = o.node?.electionTimeoutTicks ?? DEFAULT_OPTIONS.electionTimeoutTicks;
  return {
    node: { concurrentLeaderWrites: true, ...o.node },
    electionTimeoutTicks: ticks,
    heartbeatMs,
    policy,
    chunkBytes: positive('snapshotChunkBytes', o.snapshotChunkBytes, 256 * 1024),
    retransmitMs: positive('snapshotRetransmitMs', o.snapshotRetransmitMs, 10 * heartbeatMs),
    maxRetries: positive('snapshotMaxRetries', o.snapshotMaxRetries, 5),
    maxSnapshotBytes: positive('maxSnapshotBytes', o.maxSnapshotBytes, 1024 * 1024 * 1024),
    maxFrameBytes: positive('maxFrameBytes', o.maxFrameBytes, DEFAULT_MAX_FRAME_BYTES),
    cacheEntries: positive('payloadCacheEntries', o.payloadCacheEntries, 4096),
    address: addressOf(o.peerAddresses),
  };
}

/** The address lookup of `peerAddresses` (every id at `MEMORY_ADDRESS` when left out). */
function addressOf(addresses: HostOptions['peerAddresses']): (id: string) => PeerAddress | undefined {
  if (addresses === undefined) return (): PeerAddress => MEMORY_ADDRESS;
  if (typeof addresses === 'function') return addresses;
  return (id: string): PeerAddress | undefined => (Object.hasOwn(addresses, id) ? addresses[id] : undefined);
}
