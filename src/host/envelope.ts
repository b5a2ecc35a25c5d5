/**
 * Envelopes: what one host sends another through the transport, as bytes.
 *
 * Three kinds of frame:
 * - `message`: a Raft message exactly as the core produced it, plus, for an AppendEntries, the
 *   payload of every entry it carries — `(entries.prevIndex, entries.lastIndex]`, in order, empty for
 *   entries that hold no command (term starts, configurations).
 * - `snapshotChunk`: a piece of the leader's snapshot (see ./snapshots.ts): the transfer's id, the
 *   snapshot's position, configuration, total size and CRC-32, the chunk's offset and bytes. A chunk
 *   with no bytes is a probe: it asks the receiver where to resume.
 * - `snapshotAck`: the receiver's answer to a chunk: how many bytes of the snapshot it holds (the
 *   offset the next chunk must start at), and whether it holds all of it (or needs none of it).
 *
 * Layout (integers big-endian):
 *
 *     "RSH"  u8 version (1)  u8 kind (1 message, 2 chunk, 3 ack)
 *     u32 H  H bytes of JSON header (UTF-8)
 *     u32 B  then B blobs, each u32 length + bytes
 *
 * The header of a message is `{"m": message}` (B = the entry count for an AppendEntries, else 0); of
 * a chunk `{"x": transfer, "term", "snap": {term, index, config}, "total", "crc", "offset"}` with one
 * blob, its bytes; of an ack `{"x": transfer, "snap": {term, index}, "offset", "done"}` with none.
 *
 * `decodeFrame` checks everything before the host acts on a frame: magic, version, kind, lengths
 * (no trailing bytes; a length never exceeds what is left, so a bad frame cannot make the decoder
 * allocate), the header's JSON and fields (a message must pass the core's `validateEvent`, be of a
 * message type and name its sender as `from`; the payload count must match the entries). A frame
 * that fails is reported as a string naming the problem: the host drops it and counts it.
 *
 * This module imports only the core and runs in browsers.
 */
import {
  MAX_POSITION,
  MESSAGE_TYPES,
  emptyEntries,
  truncateAppendEntries,
  validateConfig,
  validateEvent,
  validateLogEntries,
  type ClusterConfig,
  type Message,
} from '../index.js';
import type { SnapshotMeta } from './storage.js';

/** The magic bytes every frame starts with: ASCII "RSH" (raftstep host). */
export const ENVELOPE_MAGIC: readonly number[] = Object.freeze([0x52, 0x53, 0x48]);
/** The envelope format's version; a frame of another version is refused. */
export const ENVELOPE_VERSION = 1;
/** Bytes before the header: magic, version, kind, header length. */
const PREFIX = 9;
/** The longest header `decodeFrame` accepts, in bytes (a LogEntries with many term starts is a few KB). */
const MAX_HEADER_BYTES = 16 * 1024 * 1024;
/** The longest transfer id. */
const MAX_TRANSFER_ID = 256;

const KIND_MESSAGE = 1;
const KIND_CHUNK = 2;
const KIND_ACK = 3;

/** A piece of a snapshot in transfer (see ./snapshots.ts). */
export interface SnapshotChunk {
  /** The transfer's id, unique per sending host. */
  readonly transfer: string;
  /** The sender's term when the transfer started (informational). */
  readonly term: number;
  /** The snapshot's position and configuration. */
  readonly snapshot: SnapshotMeta;
  /** The snapshot's size in bytes. */
  readonly total: number;
  /** The CRC-32 of the whole snapshot. */
  readonly crc: number;
  /** Where `data` starts in the snapshot. */
  readonly offset: number;
  /** The chunk's bytes; empty for a probe. */
  readonly data: Uint8Array;
}

/** The receiver's answer to a chunk. */
export interface SnapshotAck {
  /** The transfer it answers. */
  readonly transfer: string;
  /** The snapshot's position. */
  readonly snapshot: {
    /** The term of the snapshot's last entry, as the chunk named it. */
    readonly term: number;
    /** The index of the snapshot's last entry, as the chunk named it. */
    readonly index: number;
  };
  /** How many bytes of the snapshot the receiver holds: where the next chunk starts. */
  readonly offset: number;
  /** True when the receiver holds the whole snapshot, or needs none of it: the transfer is over. */
  readonly done: boolean;
}

/** A decoded frame. */
export type Frame =
  | {
      /** A Raft message between nodes (frame kind 1). */
      readonly kind: 'message';
      /**
       * The message exactly as the sender's core produced it. Decoded, it passed `validateEvent`, is
       * of a message type and names the transport's sender as `from`.
       */
      readonly message: Message;
      /**
       * For an AppendEntries, the payload of every entry it carries, `(entries.prevIndex,
       * entries.lastIndex]` in index order, empty for an entry that holds no command (a term start,
       * a configuration); for any other message, none. Encoding throws a TypeError, and decoding
       * refuses the frame, when the count does not match.
       */
      readonly payloads: readonly Uint8Array[];
    }
  | {
      /** A piece of the leader's snapshot in transfer (frame kind 2). */
      readonly kind: 'snapshotChunk';
      /** The piece; decoded, its offset and bytes lie within `total`. */
      readonly chunk: SnapshotChunk;
    }
  | {
      /** The receiver's answer to a snapshot chunk (frame kind 3). */
      readonly kind: 'snapshotAck';
      /** The answer. */
      readonly ack: SnapshotAck;
    };

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });
const NO_BLOBS: readonly Uint8Array[] = Object.freeze([]);

/** The bytes of `frame`. Throws a TypeError for a message whose payload count does not match. */
export function encodeFrame(frame: Frame): Uint8Array {
  switch (frame.kind) {
    case 'message': {
      const { message, payloads } = frame;
      const count = message.type === 'appendEntries' ? message.entries.lastIndex - message.entries.prevIndex : 0;
      if (payloads.length !== count) {
        throw new TypeError(`encodeFrame: ${payloads.length} payloads for a ${message.type} carrying ${count} entries`);
      }
      return assemble(KIND_MESSAGE, encoder.encode(JSON.stringify({ m: message })), payloads);
    }
    case 'snapshotChunk': {
      const c = frame.chunk;
      const header = {
        x: c.transfer,
        term: c.term,
        snap: { term: c.snapshot.term, index: c.snapshot.index, config: c.snapshot.config },
        total: c.total,
        crc: c.crc,
        offset: c.offset,
      };
      return assemble(KIND_CHUNK, encoder.encode(JSON.stringify(header)), [c.data]);
    }
    case 'snapshotAck': {
      const a = frame.ack;
      const header = {
        x: a.transfer,
        snap: { term: a.snapshot.term, index: a.snapshot.index },
        offset: a.offset,
        done: a.done,
      };
      return assemble(KIND_ACK, encoder.encode(JSON.stringify(header)), NO_BLOBS);
    }
  }
}

/** The size in bytes of the frame of `message` with `payloads` (without building it). */
export function messageFrameSize(message: Message, payloads: readonly Uint8Array[]): number {
  let size = PREFIX + encoder.encode(JSON.stringify({ m: message })).length + 4;
  for (const p of payloads) size += 4 + p.length;
  return size;
}

/**
 * An AppendEntries whose frame would exceed `maxFrameBytes`, cut to the entries that fit (with their
 * payloads), or null when the frame fits as it is. The entries that fit under the full message's
 * header are kept (a cut message's header is no longer); at least the first entry, if it fits under
 * its own shorter header, so that the follower progresses. A message that cannot fit even then is
 * cut to no entries (a heartbeat at its anchor).
 */
export function fitToFrame(
  message: Message,
  payloads: readonly Uint8Array[],
  maxFrameBytes: number,
): { message: Message; payloads: readonly Uint8Array[] } | null {
  if (messageFrameSize(message, payloads) <= maxFrameBytes) return null;
  const budget = maxFrameBytes - messageFrameSize(message, NO_BLOBS);
  let used = 0;
  let k = 0;
  while (k < payloads.length && used + 4 + payloads[k]!.length <= budget) used += 4 + payloads[k++]!.length;
  if (k === 0 && messageFrameSize(truncateAppendEntries(message, 1), payloads.slice(0, 1)) <= maxFrameBytes) k = 1;
  return { message: truncateAppendEntries(message, k), payloads: payloads.slice(0, k) };
}

/** Prefix, header and blobs in one buffer. */
function assemble(kind: number, header: Uint8Array, blobs: readonly Uint8Array[]): Uint8Array {
  let size = PREFIX + header.length + 4;
  for (const b of blobs) size += 4 + b.length;
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  out[0] = ENVELOPE_MAGIC[0]!;
  out[1] = ENVELOPE_MAGIC[1]!;
  out[2] = ENVELOPE_MAGIC[2]!;
  out[3] = ENVELOPE_VERSION;
  out[4] = kind;
  view.setUint32(5, header.length);
  out.set(header, PREFIX);
  let p = PREFIX + header.length;
  view.setUint32(p, blobs.length);
  p += 4;
  for (const b of blobs) {
    view.setUint32(p, b.length);
    p += 4;
    out.set(b, p);
    p += b.length;
  }
  return out;
}

/**
 * The frame `bytes` holds, received from `from`, or a string naming the first problem found (see
 * the module comment for what is checked). The payloads and chunk bytes returned are copies: they
 * share nothing with `bytes`. Never throws.
 */
export function decodeFrame(bytes: Uint8Array, from: string): Frame | string {
  try {
    return decode(bytes, from);
  } catch (e) {
    return `frame could not be decoded: ${e instanceof Error ? e.message : String(e)}`;
  }
}

function decode(bytes: Uint8Array, from: string): Frame | string {
  if (!(bytes instanceof Uint8Array)) return 'a frame must be a Uint8Array';
  if (bytes.length < PREFIX + 4) return `frame of ${bytes.length} bytes is shorter than an envelope`;
  if (bytes[0] !== ENVELOPE_MAGIC[0] || bytes[1] !== ENVELOPE_MAGIC[1] || bytes[2] !== ENVELOPE_MAGIC[2]) {
    return 'not an envelope (wrong magic bytes)';
  }
  if (bytes[3] !== ENVELOPE_VERSION) return `envelope version ${bytes[3]} is not supported (${ENVELOPE_VERSION} is)`;
  const kind = bytes[4]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getUint32(5);
  if (headerLength > MAX_HEADER_BYTES || headerLength > bytes.length - PREFIX - 4) {
    return `header length ${headerLength} exceeds the frame`;
  }
  let header: unknown;
  try {
    header = JSON.parse(decoder.decode(bytes.subarray(PREFIX, PREFIX + headerLength)));
  } catch (e) {
    return `header is not JSON: ${e instanceof Error ? e.message : String(e)}`;
  }
  if (!isObject(header)) return 'header is not an object';
  let p = PREFIX + headerLength;
  const blobCount = view.getUint32(p);
  p += 4;
  if (blobCount > (bytes.length - p) / 4) return `${blobCount} blobs cannot fit in the frame`;
  const blobs: Uint8Array[] = [];
  for (let i = 0; i < blobCount; i++) {
    if (p + 4 > bytes.length) return `blob ${i} is cut off`;
    const n = view.getUint32(p);
    p += 4;
    if (n > bytes.length - p) return `blob ${i} of ${n} bytes exceeds the frame`;
    blobs.push(bytes.slice(p, p + n));
    p += n;
  }
  if (p !== bytes.length) return `${bytes.length - p} bytes after the last blob`;
  switch (kind) {
    case KIND_MESSAGE:
      return messageFrame(header, blobs, from);
    case KIND_CHUNK:
      return chunkFrame(header, blobs);
    case KIND_ACK:
      return ackFrame(header, blobs);
    default:
      return `unknown frame kind ${kind}`;
  }
}

function messageFrame(header: Record<string, unknown>, blobs: Uint8Array[], from: string): Frame | string {
  const m = header.m;
  if (!isObject(m)) return 'message frame without a message';
  if (!(MESSAGE_TYPES as readonly unknown[]).includes(m.type)) return `${JSON.stringify(m.type)} is not a message type`;
  const problem = validateEvent(m);
  if (problem !== null) return `invalid message: ${problem}`;
  if (m.from !== from) return `message from ${JSON.stringify(m.from)} arrived from ${JSON.stringify(from)}`;
  const message = m as unknown as Message;
  const count = message.type === 'appendEntries' ? message.entries.lastIndex - message.entries.prevIndex : 0;
  if (blobs.length !== count) return `${blobs.length} payloads for a ${message.type} carrying ${count} entries`;
  return { kind: 'message', message, payloads: blobs };
}

function chunkFrame(header: Record<string, unknown>, blobs: Uint8Array[]): Frame | string {
  const { x, term, snap, total, crc, offset } = header;
  if (!isTransferId(x)) return 'chunk without a transfer id';
  if (!isNatural(term)) return 'chunk term must be an integer from 0 to 2^53 - 2';
  const meta = snapshotMeta(snap, true);
  if (typeof meta === 'string') return `chunk ${meta}`;
  if (!isNatural(total)) return 'chunk total must be an integer from 0 to 2^53 - 2';
  if (!Number.isInteger(crc) || (crc as number) < 0 || (crc as number) > 0xffffffff) return 'chunk crc must be a u32';
  if (!isNatural(offset) || offset > total) return 'chunk offset must be an integer from 0 to total';
  if (blobs.length !== 1) return `a chunk carries one blob, not ${blobs.length}`;
  const data = blobs[0]!;
  if (offset + data.length > total) return `chunk (${offset} + ${data.length} bytes) runs past the total ${total}`;
  return {
    kind: 'snapshotChunk',
    chunk: { transfer: x, term, snapshot: meta, total, crc: crc as number, offset, data },
  };
}

function ackFrame(header: Record<string, unknown>, blobs: Uint8Array[]): Frame | string {
  const { x, snap, offset, done } = header;
  if (!isTransferId(x)) return 'ack without a transfer id';
  const meta = snapshotMeta(snap, false);
  if (typeof meta === 'string') return `ack ${meta}`;
  if (!isNatural(offset)) return 'ack offset must be an integer from 0 to 2^53 - 2';
  if (typeof done !== 'boolean') return 'ack done must be a boolean';
  if (blobs.length !== 0) return 'an ack carries no blob';
  return { kind: 'snapshotAck', ack: { transfer: x, snapshot: { term: meta.term, index: meta.index }, offset, done } };
}

/** A snapshot position (and configuration, when `withConfig`) read from a header, or a problem. */
function snapshotMeta(x: unknown, withConfig: boolean): SnapshotMeta | string {
  if (!isObject(x)) return 'without a snapshot position';
  const { term, index, config } = x;
  const position = validateLogEntries(emptyEntries(term as number, index as number), 'snapshot.');
  if (position !== null || !isNatural(term) || !isNatural(index)) return `snapshot position: ${position ?? 'invalid'}`;
  if (!withConfig) return { term, index, config: { voters: [], newVoters: [], nonVoters: [] } };
  const bad = validateConfig(config, 'snapshot.config.');
  if (bad !== null) return bad;
  return { term, index, config: config as ClusterConfig };
}

function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function isNatural(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= MAX_POSITION;
}

function isTransferId(x: unknown): x is string {
  return typeof x === 'string' && x.length > 0 && x.length <= MAX_TRANSFER_ID;
}
