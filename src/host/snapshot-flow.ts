/**
 * A node executor's own snapshots (./node-executor.ts): when to take one (the policy), and how a
 * snapshot — taken here, or received complete from a leader — becomes a storage write only once the
 * node accepted it. (Streaming a snapshot between hosts is ./snapshots.ts.)
 *
 * Offering. A snapshot is offered to the node as a `snapshotInstalled` event (handed to the
 * executor's `stepNext`, to be stepped) and kept pending. The actions of the steps carried out next
 * settle it:
 * - a `compactLog` at its position accepts it: it joins the open batch, written before the
 *   compaction in the same storage write (any snapshot at a position holds the same state: the state
 *   machine is deterministic, so it does not matter which step compacted);
 * - a `rejected` `snapshotInstalled`, or a log already anchored at or past its index, discards it.
 * Offering another snapshot discards the pending one.
 *
 * Taking. After entries were applied, a snapshot is due when, since the last one taken or installed,
 * `policy.everyEntries` entries or `policy.everyBytes` payload bytes were applied.
 *
 * Installing a received snapshot, once all its chunks arrived and its CRC matched: it is discarded if
 * the node's commit index or applied index already covers it, or the node leads; it waits while its
 * term is ahead of the node's (the leader's AppendEntries raises the node's term, then it is tried
 * again); otherwise it is offered. Accepted, it is written with `install` set: the executor restores
 * the state machine from it once the write is durable.
 *
 * This module imports only the core and the host's own modules, and runs in browsers.
 */
import { positionAndConfigAt, type RaftActions, type RaftEvent, type RaftState } from '../index.js';
import type { SnapshotPolicy, SnapshotReceiver, SnapshotStats } from './snapshots.js';
import type { SnapshotMeta, StoredSnapshot } from './storage.js';

/** What a {@link SnapshotFlow} needs from its executor. */
export interface SnapshotFlowContext {
  /** When to take snapshots. */
  readonly policy: SnapshotPolicy;
  /** The counters to update (`snapshotsTaken`, `snapshotsDiscarded`). */
  readonly stats: SnapshotStats;
  /** The receiver of the leader's chunks (its complete snapshot is installed from here). */
  readonly receiver: () => SnapshotReceiver;
  /** The node's state after its last step. */
  state(): RaftState;
  /** The index applied to the state machine. */
  applied(): number;
  /** Step this `snapshotInstalled` event next. */
  offer(event: RaftEvent): void;
  /** Write this accepted snapshot in the open batch; `install`: restore the state machine from it once durable. */
  write(snapshot: StoredSnapshot, install: boolean): void;
}

/** A snapshot offered to the node and not settled yet. */
interface Pending {
  readonly snapshot: StoredSnapshot;
  /** True for a leader's snapshot (restore the state machine from it), false for one taken here. */
  readonly install: boolean;
}

/** The snapshots a node executor takes and installs (see the module comment). */
export class SnapshotFlow {
  private pending: Pending | null = null;
  /** The index of the last snapshot taken or installed. */
  private lastIndex: number;
  /** Payload bytes applied since. */
  private bytesSince = 0;
  /** A complete received snapshot waits for the node's term to reach its own. */
  private waiting = false;
  /** The receiver completed a snapshot during the chunk being handled. */
  private completed = false;
  /** The node's term rose while a snapshot waited: try it again at the end of the step. */
  private retry = false;

  /** `lastIndex`: the index of the snapshot the state machine was restored from (0 for none). */
  constructor(
    private readonly ctx: SnapshotFlowContext,
    lastIndex: number,
  ) {
    this.lastIndex = lastIndex;
  }

  /** False when the node needs no snapshot at `meta`: its commit or applied index covers it, or it leads. */
  needs(meta: SnapshotMeta): boolean {
    const s = this.ctx.state();
    return s.role !== 'leader' && meta.index > s.commitIndex && meta.index > this.ctx.applied();
  }

  /** `bytes` of command payloads were applied. */
  countApplied(bytes: number): void {
    this.bytesSince += bytes;
  }

  /** True when the policy asks for a snapshot at the applied index `applied`. */
  due(applied: number): boolean {
    const { everyEntries, everyBytes } = this.ctx.policy;
    const entries = applied - this.lastIndex;
    const due =
      (everyEntries !== undefined && entries >= everyEntries) ||
      (everyBytes !== undefined && this.bytesSince >= everyBytes);
    return due && entries > 0;
  }

  /** A snapshot of the state machine was taken at the applied index `index`: offer it. */
  taken(index: number, data: Uint8Array): void {
    this.lastIndex = index;
    this.bytesSince = 0;
    const at = positionAndConfigAt(this.ctx.state(), index);
    if (at !== null) this.offer({ term: at.term, index, config: at.config, data }, false);
  }

  /** The receiver completed a snapshot (its `complete` callback): install it once the chunk is handled. */
  receivedComplete(): void {
    this.completed = true;
  }

  /** A chunk was handled (and acknowledged): install the snapshot it completed, if it did. */
  afterChunk(): void {
    if (!this.completed) return;
    this.completed = false;
    this.tryInstall();
  }

  /**
   * After a step (`before` → `state`, returning `actions`): settle the pending snapshot, and note
   * whether a waiting one should be tried again (see {@link retryWaiting}).
   */
  afterStep(before: RaftState, state: RaftState, actions: RaftActions): void {
    this.settle(state, actions);
    if (this.waiting && state.term > before.term) this.retry = true;
  }

  /** Try the waiting received snapshot again, when the last step raised the node's term. */
  retryWaiting(): void {
    if (!this.retry) return;
    this.retry = false;
    this.tryInstall();
  }

  /** Forget everything pending (the executor halted). */
  clear(): void {
    this.pending = null;
    this.waiting = false;
    this.completed = false;
    this.retry = false;
  }

  /** Install the complete received snapshot, if the node still needs it (see the module comment). */
  private tryInstall(): void {
    const receiver = this.ctx.receiver();
    const snap = receiver.complete();
    this.waiting = false;
    if (snap === null) return;
    if (!this.needs(snap)) {
      receiver.discard();
      this.ctx.stats.snapshotsDiscarded++;
      return;
    }
    if (snap.term > this.ctx.state().term) {
      this.waiting = true; // the leader's next AppendEntries raises the term; then again
      return;
    }
    receiver.discard();
    this.offer(snap, true);
  }

  /** Keep `snapshot` pending and step its `snapshotInstalled`. */
  private offer(snapshot: StoredSnapshot, install: boolean): void {
    if (this.pending !== null) this.discard(this.pending);
    this.pending = { snapshot, install };
    this.ctx.offer({ type: 'snapshotInstalled', term: snapshot.term, index: snapshot.index, config: snapshot.config });
  }

  /** Accept or discard the pending snapshot by the actions of a step (see the module comment). */
  private settle(state: RaftState, actions: RaftActions): void {
    const p = this.pending;
    if (p === null) return;
    const { term, index } = p.snapshot;
    if (actions.some((a) => a.type === 'compactLog' && a.term === term && a.index === index)) {
      this.pending = null;
      this.ctx.write(p.snapshot, p.install);
      if (p.install) {
        this.lastIndex = index;
        this.bytesSince = 0;
      } else this.ctx.stats.snapshotsTaken++;
      return;
    }
    const refused = actions.some((a) => a.type === 'rejected' && a.request === 'snapshotInstalled');
    if (refused || state.log.prevIndex >= index) {
      this.pending = null;
      this.discard(p);
    }
  }

  /** Count a received snapshot that will not be installed. */
  private discard(p: Pending): void {
    if (p.install) this.ctx.stats.snapshotsDiscarded++;
  }
}
