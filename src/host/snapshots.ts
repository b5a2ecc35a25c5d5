/**
 * Snapshots in a host: when to take one (the policy), and how a leader streams its snapshot to a
 * follower that is behind it, in chunks, one transfer per follower at a time, resumable.
 *
 * Policy. A host takes a snapshot of its state machine when, since the last snapshot, it has
 * applied `everyEntries` entries or `everyBytes` bytes of command payloads (whichever comes first;
 * either may be left out, and with both out it never does). The snapshot is taken at the applied
 * index, right after an entry was applied, then written and stepped as `snapshotInstalled` (see
 * ./node-executor.ts for the order, ./snapshot-flow.ts for the acceptance).
 *
 * Streaming (leader side, {@link SnapshotSender}). The core returns `installSnapshot {to}` on every
 * reply from a follower that is behind the leader's snapshot; the sender starts a transfer for `to`
 * only when none is running, and counts the others as deduplicated. A transfer reads the latest
 * stored snapshot once, then:
 * 1. sends a probe (a chunk with no bytes at offset 0): the receiver answers with how much of this
 *    snapshot it already holds (a transfer cut off earlier resumes there, not at 0);
 * 2. sends one chunk of at most `chunkBytes` at the offset the last ack named, and waits for its ack
 *    (stop-and-wait: one chunk in flight per follower);
 * 3. ends when an ack says `done` (the follower holds the whole snapshot, or needs none of it).
 * A chunk not acknowledged within `retransmitMs` is sent again; after `maxRetries` retransmissions
 * in a row without an ack the transfer is abandoned (the next `installSnapshot` starts a new one,
 * which resumes where the receiver is). Transfers are abandoned when the node stops leading or its
 * term changes, and when the follower leaves the configuration.
 *
 * Receiving ({@link SnapshotReceiver}). Chunks are staged in memory, one snapshot at a time (keyed
 * by position, size and CRC; a chunk of another snapshot replaces the staged one). A chunk at the
 * staged offset is appended, any other is ignored; every chunk is acknowledged with the staged
 * offset. When the last byte arrives the CRC-32 is checked (a mismatch discards the staging and
 * acknowledges offset 0), and the complete snapshot is handed to the host, which installs it only
 * if the node accepts it (see ./snapshot-flow.ts). A node whose commit index already covers the snapshot
 * answers `done` at once and stages nothing. Staging does not survive a restart of the receiver.
 *
 * This module imports only the core's types and the host's own modules, and runs in browsers.
 */
import { encodeFrame, type SnapshotAck, type SnapshotChunk } from './envelope.js';
import type { SnapshotMeta, StoredSnapshot } from './storage.js';
import type { HostClock } from './timers.js';

/** When a host takes a snapshot by itself (see the module comment); an empty policy never does. */
export interface SnapshotPolicy {
  /** Take one once this many entries were applied since the last one (a positive integer). */
  readonly everyEntries?: number;
  /** Take one once this many payload bytes were applied since the last one (a positive integer). */
  readonly everyBytes?: number;
}

/** Counters of snapshot taking and streaming. */
export interface SnapshotStats {
  /** Snapshots taken by this host's policy and accepted by its node. */
  snapshotsTaken: number;
  /** Snapshots received from a leader and installed. */
  snapshotsInstalled: number;
  /** Complete snapshots received and not installed (the node refused them, or no longer needed them). */
  snapshotsDiscarded: number;
  /** Transfers this host started as leader. */
  transfersStarted: number;
  /** Transfers that ended with the follower holding the snapshot (or needing none of it). */
  transfersCompleted: number;
  /** Transfers abandoned (no ack after the retries, leadership lost, follower removed, stop). */
  transfersAbandoned: number;
  /** Transfers whose first chunk of data started above offset 0 (the receiver held a prefix). */
  transfersResumed: number;
  /** `installSnapshot` actions for a follower that already had a transfer running. */
  requestsDeduplicated: number;
  /** Chunks sent, probes and retransmissions included. */
  chunksSent: number;
  /** Snapshot bytes sent in chunks. */
  chunkBytesSent: number;
  /** Chunks retransmitted after `retransmitMs` without an ack. */
  chunksRetransmitted: number;
  /** Chunks received. */
  chunksReceived: number;
  /** Received snapshots whose CRC-32 did not match (staging discarded). */
  corruptSnapshots: number;
}

/** Every snapshot counter at zero. */
export function emptySnapshotStats(): SnapshotStats {
  return {
    snapshotsTaken: 0,
    snapshotsInstalled: 0,
    snapshotsDiscarded: 0,
    transfersStarted: 0,
    transfersCompleted: 0,
    transfersAbandoned: 0,
    transfersResumed: 0,
    requestsDeduplicated: 0,
    chunksSent: 0,
    chunkBytesSent: 0,
    chunksRetransmitted: 0,
    chunksReceived: 0,
    corruptSnapshots: 0,
  };
}

const CRC_TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** The CRC-32 (IEEE 802.3, as zlib's) of `bytes`. */
export function crc32(bytes: Uint8Array): number {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]!) & 0xff]! ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

/** A transfer in progress, as `status()` shows it. */
export interface TransferStatus {
  /** The follower. */
  readonly to: string;
  /** The transfer's id. */
  readonly id: string;
  /** The snapshot's index (0 while the snapshot is being read). */
  readonly index: number;
  /** Bytes the follower acknowledged holding. */
  readonly offset: number;
  /** The snapshot's size (0 while the snapshot is being read). */
  readonly total: number;
}

/** What a sender needs from its host. */
export interface SenderContext {
  readonly clock: HostClock;
  readonly chunkBytes: number;
  readonly retransmitMs: number;
  readonly maxRetries: number;
  readonly stats: SnapshotStats;
  /** A prefix making transfer ids unique to this host instance. */
  readonly idPrefix: string;
  /** The latest stored snapshot (the storage's `snapshot()`). */
  loadSnapshot(): Promise<StoredSnapshot | null>;
  /** Send a frame to `to`. */
  send(to: string, frame: Uint8Array): void;
  /** The node's term while it leads, else null. */
  leaderTerm(): number | null;
  /** Report a failed snapshot read (the storage is unusable). */
  failed(error: unknown): void;
}

interface Transfer {
  readonly id: string;
  readonly to: string;
  readonly term: number;
  snapshot: StoredSnapshot | null;
  crc: number;
  /** Bytes the follower acknowledged; -1 until the probe is answered. */
  acked: number;
  retries: number;
  timer: unknown;
  /** True once a chunk with data was sent. */
  sentData: boolean;
}

/** The leader's side of snapshot streaming (see the module comment). */
export class SnapshotSender {
  private readonly transfers = new Map<string, Transfer>();
  private seq = 0;

  constructor(private readonly ctx: SenderContext) {}

  /** The transfers running. */
  list(): TransferStatus[] {
    return [...this.transfers.values()].map((t) => ({
      to: t.to,
      id: t.id,
      index: t.snapshot?.index ?? 0,
      offset: Math.max(0, t.acked),
      total: t.snapshot?.data.length ?? 0,
    }));
  }

  /** True while a transfer to `to` runs. */
  has(to: string): boolean {
    return this.transfers.has(to);
  }

  /** The core asked to send the snapshot to `to` (`installSnapshot`): start a transfer unless one runs. */
  request(to: string): void {
    if (this.transfers.has(to)) {
      this.ctx.stats.requestsDeduplicated++;
      return;
    }
    const term = this.ctx.leaderTerm();
    if (term === null) return;
    const t: Transfer = {
      id: `${this.ctx.idPrefix}.${term}.${++this.seq}`,
      to,
      term,
      snapshot: null,
      crc: 0,
      acked: -1,
      retries: 0,
      timer: null,
      sentData: false,
    };
    this.transfers.set(to, t);
    this.ctx.stats.transfersStarted++;
    this.ctx.loadSnapshot().then(
      (snapshot) => {
        if (this.transfers.get(to) !== t) return;
        if (snapshot === null || this.ctx.leaderTerm() !== term) {
          this.abort(to);
          return;
        }
        t.snapshot = snapshot;
        t.crc = crc32(snapshot.data);
        this.sendChunk(t);
      },
      (e: unknown) => {
        if (this.transfers.get(to) === t) this.abort(to);
        this.ctx.failed(e);
      },
    );
  }

  /** An ack arrived from `from`. */
  onAck(from: string, ack: SnapshotAck): void {
    const t = this.transfers.get(from);
    if (t === undefined || t.id !== ack.transfer || t.snapshot === null) return;
    const total = t.snapshot.data.length;
    if (ack.done || ack.offset >= total) {
      this.finish(t);
      this.ctx.stats.transfersCompleted++;
      return;
    }
    t.acked = ack.offset;
    t.retries = 0;
    this.sendChunk(t);
  }

  /** Abandon every transfer when the node no longer leads in the term they started in. */
  checkLeadership(): void {
    if (this.transfers.size === 0) return;
    const term = this.ctx.leaderTerm();
    for (const t of [...this.transfers.values()]) if (t.term !== term) this.abort(t.to);
  }

  /** Abandon the transfers to peers not in `peers`. */
  retainPeers(peers: readonly string[]): void {
    for (const to of [...this.transfers.keys()]) if (!peers.includes(to)) this.abort(to);
  }

  /** Abandon the transfer to `to`, if any. */
  abort(to: string): void {
    const t = this.transfers.get(to);
    if (t === undefined) return;
    this.finish(t);
    this.ctx.stats.transfersAbandoned++;
  }

  /** Abandon every transfer. */
  abortAll(): void {
    for (const to of [...this.transfers.keys()]) this.abort(to);
  }

  private finish(t: Transfer): void {
    if (t.timer !== null) this.ctx.clock.clearTimeout(t.timer);
    t.timer = null;
    this.transfers.delete(t.to);
  }

  /** Send the chunk at the acknowledged offset (a probe before the first ack), and arm the retransmission. */
  private sendChunk(t: Transfer): void {
    const snapshot = t.snapshot!;
    const offset = Math.max(0, t.acked);
    const data =
      t.acked < 0 ? new Uint8Array(0) : snapshot.data.subarray(offset, offset + Math.max(1, this.ctx.chunkBytes));
    if (data.length > 0 && !t.sentData) {
      t.sentData = true;
      if (offset > 0) this.ctx.stats.transfersResumed++;
    }
    const chunk: SnapshotChunk = {
      transfer: t.id,
      term: t.term,
      snapshot: { term: snapshot.term, index: snapshot.index, config: snapshot.config },
      total: snapshot.data.length,
      crc: t.crc,
      offset,
      data,
    };
    this.ctx.stats.chunksSent++;
    this.ctx.stats.chunkBytesSent += data.length;
    this.ctx.send(t.to, encodeFrame({ kind: 'snapshotChunk', chunk }));
    if (t.timer !== null) this.ctx.clock.clearTimeout(t.timer);
    t.timer = this.ctx.clock.setTimeout(() => this.retransmit(t), this.ctx.retransmitMs);
  }

  private retransmit(t: Transfer): void {
    t.timer = null;
    if (this.transfers.get(t.to) !== t) return;
    if (++t.retries > this.ctx.maxRetries) {
      this.abort(t.to);
      return;
    }
    this.ctx.stats.chunksRetransmitted++;
    this.sendChunk(t);
  }
}

/** What a receiver needs from its host. */
export interface ReceiverContext {
  /** The largest snapshot accepted, in bytes; chunks of a larger one are ignored. */
  readonly maxBytes: number;
  readonly stats: SnapshotStats;
  /** False when the node no longer needs a snapshot at `meta` (its commit index covers it). */
  needs(meta: SnapshotMeta): boolean;
  /** A staged snapshot is complete and checked: the host decides whether to install it. */
  complete(): void;
}

interface Staged {
  readonly key: string;
  readonly meta: SnapshotMeta;
  readonly total: number;
  readonly crc: number;
  readonly parts: Uint8Array[];
  received: number;
  snapshot: StoredSnapshot | null;
}

/** The follower's side of snapshot streaming (see the module comment). */
export class SnapshotReceiver {
  private staged: Staged | null = null;

  constructor(private readonly ctx: ReceiverContext) {}

  /** The staged snapshot's progress, for `status()`: null when nothing is staged. */
  progress(): { index: number; received: number; total: number; complete: boolean } | null {
    const s = this.staged;
    return s === null
      ? null
      : { index: s.meta.index, received: s.received, total: s.total, complete: s.snapshot !== null };
  }

  /** Handle a chunk; returns the ack to send back, or null to send none (a snapshot over the size limit). */
  onChunk(chunk: SnapshotChunk): SnapshotAck | null {
    this.ctx.stats.chunksReceived++;
    const meta = chunk.snapshot;
    const position = { term: meta.term, index: meta.index };
    if (chunk.total > this.ctx.maxBytes) return null;
    const key = `${meta.term}:${meta.index}:${chunk.total}:${chunk.crc}`;
    if (!this.ctx.needs(meta)) {
      if (this.staged?.key === key) this.staged = null;
      return { transfer: chunk.transfer, snapshot: position, offset: chunk.total, done: true };
    }
    let s = this.staged;
    if (s === null || s.key !== key) {
      s = { key, meta, total: chunk.total, crc: chunk.crc, parts: [], received: 0, snapshot: null };
      this.staged = s;
    }
    if (s.snapshot === null) {
      if (chunk.offset === s.received && chunk.data.length > 0) {
        s.parts.push(chunk.data.slice());
        s.received += chunk.data.length;
      }
      if (s.received === s.total && !this.seal(s)) {
        return { transfer: chunk.transfer, snapshot: position, offset: 0, done: false };
      }
    }
    const done = s.snapshot !== null;
    return { transfer: chunk.transfer, snapshot: position, offset: s.received, done };
  }

  /** The complete staged snapshot, or null. */
  complete(): StoredSnapshot | null {
    return this.staged?.snapshot ?? null;
  }

  /** Forget the staged snapshot. */
  discard(): void {
    this.staged = null;
  }

  /** Join and check the staged bytes; false (staging dropped) when the CRC does not match. */
  private seal(s: Staged): boolean {
    const data = new Uint8Array(s.total);
    let p = 0;
    for (const part of s.parts) {
      data.set(part, p);
      p += part.length;
    }
    s.parts.length = 0;
    if (crc32(data) !== s.crc) {
      this.staged = null;
      this.ctx.stats.corruptSnapshots++;
      return false;
    }
    s.snapshot = { term: s.meta.term, index: s.meta.index, config: s.meta.config, data };
    this.ctx.complete();
    return true;
  }
}
