/**
 * `TcpTransport`: the `Transport` of ../host/transport.ts over TCP, for Node.
 *
 * Design
 * - Framing. Every frame on the wire is a 4-byte big-endian unsigned length followed by that many
 *   bytes. A receiver checks the length as soon as the 4 bytes arrive: a length above its limit closes
 *   the connection at once, so nothing unbounded is ever buffered (at most one frame plus one read).
 *   Frames split across reads are collected as a list of chunks and copied once when complete; a
 *   frame inside one read is handed over as a view, without copying.
 * - Handshake. Connections are one-way: node A dials B to send to B, and B dials A to send to A. The
 *   dialler's first frame is the handshake: the magic bytes "RSTP", a version byte (1), then the
 *   dialler's id and the id it means to reach, each as a 2-byte big-endian length and UTF-8 bytes
 *   (at most MAX_ID_BYTES). The acceptor closes a connection whose handshake is malformed, has the
 *   wrong magic or version, names another node as target, is longer than a handshake can be, or does
 *   not arrive within `handshakeTimeoutMs` (each counted in `connectionsRejected`). After it, every
 *   frame is delivered as from the announced id. A newer connection from the same id replaces the
 *   older one, which is closed. There is no authentication: run it on a trusted network.
 * - Queueing. Each peer has one outgoing queue, bounded by `maxQueueBytes` and `maxQueueFrames`;
 *   `send` refuses (returns false) a frame that does not fit, or is over `maxFrameBytes`. Frames leave
 *   the queue when written to the socket (corked until the code sending them yields, so a burst of
 *   sends goes out in one system call); when `socket.write` returns false (backpressure) writing
 *   stops until 'drain', and frames keep queueing up to the bound. Memory per peer is thus bounded by
 *   `maxQueueBytes` plus what one write round leaves in the socket's buffer.
 * - Reconnecting. The connection to a peer is dialled on the first `send`. After a failed attempt
 *   (refused, `connectTimeoutMs` elapsed) or a lost connection it waits, then dials again if frames
 *   are queued: the n-th wait in a row is drawn from [max(minMs, c/2), c] with
 *   c = min(maxMs, minMs * 2^(n-1)) (exponential backoff with jitter, from the injectable `random`).
 *   A connection that stayed open at least `maxMs` resets the count. Frames still queued go out on
 *   the new connection; frames already written to a lost one may be lost (Raft retries).
 * - Closing. `close()` destroys every socket, stops the server and clears every timer, and resolves
 *   when the server and all sockets have reported 'close'.
 */
import * as net from 'net';
import {
  DEFAULT_MAX_FRAME_BYTES,
  emptyTransportStats,
  type Deliver,
  type PeerAddress,
  type Transport,
  type TransportStats,
} from '../host/transport.js';

/** The handshake's magic bytes, ASCII "RSTP" (raftstep transport protocol). */
export const PROTOCOL_MAGIC: readonly number[] = [0x52, 0x53, 0x54, 0x50];
/** The protocol version the handshake carries; a different one is refused. */
export const PROTOCOL_VERSION = 1;
/** The longest node id, in UTF-8 bytes, the handshake can carry (ids must fit; the constructor and `setPeers` check). */
export const MAX_ID_BYTES = 1024;
/** The longest possible handshake payload: magic, version, two lengths and two ids. */
export const MAX_HANDSHAKE_BYTES = PROTOCOL_MAGIC.length + 1 + 2 + MAX_ID_BYTES + 2 + MAX_ID_BYTES;
/** Default `maxQueueBytes` per peer: 64 MiB. */
export const DEFAULT_MAX_QUEUE_BYTES = 64 * 1024 * 1024;
/** Default `maxQueueFrames` per peer. */
export const DEFAULT_MAX_QUEUE_FRAMES = 65_536;
/** Default reconnect backoff, in milliseconds. */
export const DEFAULT_BACKOFF: Backoff = Object.freeze({ minMs: 50, maxMs: 5_000 });
/** Default `connectTimeoutMs`. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** Default `handshakeTimeoutMs`. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 5_000;
/** TCP keep-alive delay on every connection, so a silently dead peer is noticed. */
const KEEPALIVE_MS = 10_000;
/** The largest length the 4-byte prefix can express. */
const MAX_LENGTH_PREFIX = 0xffff_ffff;

/** Reconnect backoff bounds, in milliseconds: integers with 1 <= minMs <= maxMs. */
export interface Backoff {
  /** The first wait after a failure, and the least any wait can be. */
  readonly minMs: number;
  /** The most any wait can be. */
  readonly maxMs: number;
}

/** Options of `TcpTransport`; `id` and `listen` are required, every other field has a default. */
export interface TcpTransportOptions {
  /** This node's id: a non-empty string of at most MAX_ID_BYTES UTF-8 bytes, announced in every handshake. */
  readonly id: string;
  /** Where to listen: `host` (e.g. '127.0.0.1', '0.0.0.0' or '::' for every interface) and `port` (0: any free port, see `address()`). */
  readonly listen: PeerAddress;
  /** The initial peers, as given to `setPeers`. Default none. */
  readonly peers?: Readonly<Record<string, PeerAddress>>;
  /** Largest frame sent or accepted, in bytes: an integer in 1..2^32-1. Default 16 MiB. Peers should agree on it. */
  readonly maxFrameBytes?: number;
  /** Most payload bytes queued for one peer: an integer, at least `maxFrameBytes`. Default 64 MiB (or `maxFrameBytes` if larger). */
  readonly maxQueueBytes?: number;
  /** Most frames queued for one peer: a positive integer. Default 65 536. */
  readonly maxQueueFrames?: number;
  /** Reconnect backoff bounds (see the design note). Default 50 ms .. 5 s. */
  readonly backoff?: Backoff;
  /** How long a dial may take before it counts as failed, in ms (positive integer). Default 5 s. */
  readonly connectTimeoutMs?: number;
  /** How long an incoming connection may take to send its handshake, in ms (positive integer). Default 5 s. */
  readonly handshakeTimeoutMs?: number;
  /** Uniform numbers in [0, 1) for the backoff jitter. Default `Math.random`; pass a seeded one to replay. */
  readonly random?: () => number;
}

/** The validated options with every default filled in. */
interface Settings {
  readonly id: string;
  readonly listen: PeerAddress;
  readonly maxFrameBytes: number;
  readonly maxQueueBytes: number;
  readonly maxQueueFrames: number;
  readonly backoff: Backoff;
  readonly connectTimeoutMs: number;
  readonly handshakeTimeoutMs: number;
  readonly random: () => number;
}

// ---------------------------------------------------------------------------------------------------
// Pure helpers: backoff, framing, handshake.

/**
 * The wait before dial number `failures + 1`, after `failures` (>= 1) failures in a row: drawn from
 * [max(minMs, c/2), c] where c = min(maxMs, minMs * 2^(failures-1)), using one call of `random`
 * (a value in [0, 1); out-of-range values are clamped).
 */
export function backoffDelay(failures: number, backoff: Backoff, random: () => number): number {
  const exponent = Math.min(Math.max(failures - 1, 0), 30);
  const ceiling = Math.min(backoff.maxMs, backoff.minMs * 2 ** exponent);
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.max(backoff.minMs, Math.round(ceiling / 2 + (r * ceiling) / 2));
}

/** The 4-byte big-endian length prefix of a frame of `length` bytes (0..2^32-1). */
export function encodeLengthPrefix(length: number): Buffer {
  const header = Buffer.allocUnsafe(4);
  header.writeUInt32BE(length, 0);
  return header;
}

const utf8Encoder = new TextEncoder();
const utf8Decoder = new TextDecoder('utf-8', { fatal: true });

/** The UTF-8 length of a string, in bytes. */
function utf8Length(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** The handshake payload (without its length prefix) announcing `from` and naming the target `to`. Ids must fit MAX_ID_BYTES. */
export function encodeHandshake(from: string, to: string): Uint8Array {
  const fromBytes = utf8Encoder.encode(from);
  const toBytes = utf8Encoder.encode(to);
  const out = Buffer.alloc(PROTOCOL_MAGIC.length + 1 + 2 + fromBytes.length + 2 + toBytes.length);
  let at = 0;
  for (const b of PROTOCOL_MAGIC) out[at++] = b;
  out[at++] = PROTOCOL_VERSION;
  at = out.writeUInt16BE(fromBytes.length, at);
  out.set(fromBytes, at);
  at += fromBytes.length;
  at = out.writeUInt16BE(toBytes.length, at);
  out.set(toBytes, at);
  return out;
}

/** A decoded handshake: who dialled, and whom it means to reach. */
export interface Handshake {
  /** The dialler's node id. */
  readonly from: string;
  /** The node id the dialler means to reach. */
  readonly to: string;
}

/**
 * Decode a handshake payload; null when it is not exactly one well-formed handshake of this protocol
 * version (wrong magic or version, lengths that do not add up, an empty or over-long id, bad UTF-8).
 */
export function decodeHandshake(payload: Uint8Array): Handshake | null {
  if (payload.length > MAX_HANDSHAKE_BYTES || payload.length < PROTOCOL_MAGIC.length + 1) return null;
  for (let i = 0; i < PROTOCOL_MAGIC.length; i++) if (payload[i] !== PROTOCOL_MAGIC[i]) return null;
  if (payload[PROTOCOL_MAGIC.length] !== PROTOCOL_VERSION) return null;
  const reader = { at: PROTOCOL_MAGIC.length + 1 };
  const from = readId(payload, reader);
  const to = from === null ? null : readId(payload, reader);
  if (from === null || to === null || reader.at !== payload.length) return null;
  return { from, to };
}

/** Read a 2-byte length and that many UTF-8 bytes at `reader.at`, advancing it; null when malformed or empty. */
function readId(payload: Uint8Array, reader: { at: number }): string | null {
  if (reader.at + 2 > payload.length) return null;
  const length = (payload[reader.at]! << 8) | payload[reader.at + 1]!;
  const start = reader.at + 2;
  if (length === 0 || length > MAX_ID_BYTES || start + length > payload.length) return null;
  reader.at = start + length;
  try {
    return utf8Decoder.decode(payload.subarray(start, start + length));
  } catch {
    return null;
  }
}

/**
 * Splits a byte stream into length-prefixed frames. Feed it the chunks of one connection in order;
 * it calls back once per complete frame. Linear in the bytes fed: a frame within one chunk is a view
 * into it, a frame across chunks is copied once. Buffers at most one frame (up to the limit) plus the
 * rest of the last chunk.
 */
export class FrameDecoder {
  /** Unread chunks; those before `first` are consumed. */
  private chunks: Uint8Array[] = [];
  private first = 0;
  /** Bytes of `chunks[first]` already consumed. */
  private offset = 0;
  /** Unread bytes across all chunks. */
  private buffered = 0;
  /** The length of the frame being read, or -1 while reading a length prefix. */
  private expected = -1;
  private failed = false;

  /** `maxFrameBytes`: the longest frame accepted (a longer announced length fails the decoder). */
  constructor(private maxFrameBytes: number) {}

  /** Change the longest frame accepted from the next length prefix on (e.g. after a handshake). */
  setMaxFrameBytes(maxFrameBytes: number): void {
    this.maxFrameBytes = maxFrameBytes;
  }

  /** Unread bytes held, for tests and bounds. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /**
   * Feed one chunk. Calls `onFrame` for each frame it completes, in order; `onFrame` returns false to
   * stop (the rest is discarded). Returns false, and stays failed (every later call returns false at
   * once), when a length prefix exceeds the limit or `onFrame` stopped; true otherwise.
   */
  push(chunk: Uint8Array, onFrame: (frame: Uint8Array) => boolean): boolean {
    if (this.failed) return false;
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.buffered += chunk.length;
    }
    for (;;) {
      if (this.expected < 0) {
        if (this.buffered < 4) return true;
        const length = readUInt32BE(this.take(4));
        if (length > this.maxFrameBytes) return this.fail();
        this.expected = length;
      }
      if (this.buffered < this.expected) return true;
      const frame = this.take(this.expected);
      this.expected = -1;
      if (!onFrame(frame)) return this.fail();
    }
  }

  /** Mark the decoder failed and release its buffers; returns false. */
  private fail(): false {
    this.failed = true;
    this.chunks = [];
    this.first = 0;
    this.offset = 0;
    this.buffered = 0;
    return false;
  }

  /** Remove and return the next `n` bytes; requires `n <= buffered`. */
  private take(n: number): Uint8Array {
    if (n === 0) return new Uint8Array(0);
    const head = this.chunks[this.first]!;
    if (head.length - this.offset >= n) {
      const view = head.subarray(this.offset, this.offset + n);
      this.consume(n);
      return view;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.chunks[this.first]!;
      const k = Math.min(chunk.length - this.offset, n - filled);
      out.set(chunk.subarray(this.offset, this.offset + k), filled);
      filled += k;
      this.consume(k);
    }
    return out;
  }

  /** Advance past `k` bytes of the current chunk (at most its remainder), dropping it when used up. */
  private consume(k: number): void {
    this.offset += k;
    this.buffered -= k;
    if (this.offset < this.chunks[this.first]!.length) return;
    this.first++;
    this.offset = 0;
    if (this.first === this.chunks.length) {
      this.chunks = [];
      this.first = 0;
    } else if (this.first >= 1024) {
      this.chunks = this.chunks.slice(this.first);
      this.first = 0;
    }
  }
}

/** The big-endian unsigned 32-bit value of 4 bytes. */
function readUInt32BE(b: Uint8Array): number {
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

// ---------------------------------------------------------------------------------------------------
// Validation.

/** True for an integer in [min, max]. */
function isIntIn(x: unknown, min: number, max: number): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= min && x <= max;
}

/** Throws a TypeError unless `id` is a node id this protocol can carry. */
function checkId(id: unknown, what: string): asserts id is string {
  if (typeof id !== 'string' || id.length === 0 || utf8Length(id) > MAX_ID_BYTES) {
    throw new TypeError(`${what} must be a non-empty string of at most ${MAX_ID_BYTES} UTF-8 bytes`);
  }
}

/** Throws a TypeError unless `a` is an address with a non-empty host and a port in [minPort, 65535]. */
function checkAddress(a: unknown, what: string, minPort: number): asserts a is PeerAddress {
  const ok =
    typeof a === 'object' &&
    a !== null &&
    typeof (a as PeerAddress).host === 'string' &&
    (a as PeerAddress).host.length > 0 &&
    isIntIn((a as PeerAddress).port, minPort, 65535);
  if (!ok) throw new TypeError(`${what} must be {host: non-empty string, port: integer in ${minPort}..65535}`);
}

/** Validate the peer set of `setPeers`; throws a TypeError on the first problem. */
function checkPeers(peers: unknown): asserts peers is Readonly<Record<string, PeerAddress>> {
  if (typeof peers !== 'object' || peers === null) throw new TypeError('peers must be an object');
  for (const [id, address] of Object.entries(peers)) {
    checkId(id, 'a peer id');
    checkAddress(address, `the address of peer ${id}`, 1);
  }
}

/** Fill in defaults and validate; throws a TypeError or RangeError naming the bad option. */
function settingsFrom(o: TcpTransportOptions): Settings {
  if (typeof o !== 'object' || o === null) throw new TypeError('TcpTransport: options must be an object');
  checkId(o.id, 'TcpTransport: id');
  checkAddress(o.listen, 'TcpTransport: listen', 0);
  const s: Settings = {
    id: o.id,
    listen: { host: o.listen.host, port: o.listen.port },
    maxFrameBytes: o.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
    maxQueueBytes: o.maxQueueBytes ?? Math.max(DEFAULT_MAX_QUEUE_BYTES, o.maxFrameBytes ?? 0),
    maxQueueFrames: o.maxQueueFrames ?? DEFAULT_MAX_QUEUE_FRAMES,
    backoff: o.backoff ?? DEFAULT_BACKOFF,
    connectTimeoutMs: o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    handshakeTimeoutMs: o.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    random: o.random ?? Math.random,
  };
  const maxTimer = 2 ** 31 - 1;
  if (!isIntIn(s.maxFrameBytes, 1, MAX_LENGTH_PREFIX))
    throw new RangeError('maxFrameBytes must be an integer in 1..2^32-1');
  if (!isIntIn(s.maxQueueBytes, s.maxFrameBytes, Number.MAX_SAFE_INTEGER)) {
    throw new RangeError('maxQueueBytes must be an integer at least maxFrameBytes');
  }
  if (!isIntIn(s.maxQueueFrames, 1, Number.MAX_SAFE_INTEGER))
    throw new RangeError('maxQueueFrames must be a positive integer');
  if (typeof s.backoff !== 'object' || s.backoff === null || !isIntIn(s.backoff.minMs, 1, maxTimer)) {
    throw new RangeError('backoff.minMs must be a positive integer');
  }
  if (!isIntIn(s.backoff.maxMs, s.backoff.minMs, maxTimer))
    throw new RangeError('backoff.maxMs must be an integer at least minMs');
  if (!isIntIn(s.connectTimeoutMs, 1, maxTimer)) throw new RangeError('connectTimeoutMs must be a positive integer');
  if (!isIntIn(s.handshakeTimeoutMs, 1, maxTimer))
    throw new RangeError('handshakeTimeoutMs must be a positive integer');
  if (typeof s.random !== 'function') throw new TypeError('random must be a function');
  return s;
}

// ---------------------------------------------------------------------------------------------------
// Outgoing: one link per peer.

/** A FIFO of frames with their total size; O(1) at both ends. */
class FrameQueue {
  private items: Uint8Array[] = [];
  private head = 0;
  /** Total payload bytes queued. */
  bytes = 0;

  /** Frames queued. */
  get length(): number {
    return this.items.length - this.head;
  }

  /** Append a frame. */
  push(frame: Uint8Array): void {
    this.items.push(frame);
    this.bytes += frame.length;
  }

  /** Remove and return the oldest frame; requires a non-empty queue. */
  shift(): Uint8Array {
    const frame = this.items[this.head]!;
    this.items[this.head] = EMPTY;
    this.head++;
    this.bytes -= frame.length;
    if (this.head === this.items.length) {
      this.items = [];
      this.head = 0;
    } else if (this.head >= 1024 && this.head * 2 >= this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return frame;
  }

  /** Empty the queue. */
  clear(): void {
    this.items = [];
    this.head = 0;
    this.bytes = 0;
  }
}

const EMPTY = new Uint8Array(0);

/** What a link needs from its transport. */
interface LinkContext {
  readonly settings: Settings;
  readonly counters: TransportStats;
  /** Register a socket so that `close()` waits for it. */
  track(socket: net.Socket): void;
}

/** idle: no connection, none wanted yet; connecting: dialling; open: handshake written, frames flow; backoff: waiting to redial; gone: removed or closed. */
type LinkState = 'idle' | 'connecting' | 'open' | 'backoff' | 'gone';

/** The outgoing side of one peer: its queue, its dialled connection and its reconnect timer. */
class PeerLink {
  private readonly queue = new FrameQueue();
  private state: LinkState = 'idle';
  private socket: net.Socket | null = null;
  /** The connect-timeout timer while connecting, the backoff timer while in backoff. */
  private timer: NodeJS.Timeout | null = null;
  private waitingForDrain = false;
  /** The socket corked by the code running now, if any (see `corkUntilYield`). */
  private corked: net.Socket | null = null;
  /** Failed attempts or lost connections in a row. */
  private failures = 0;
  private openedAt = 0;
  private dialled = false;

  constructor(
    private readonly ctx: LinkContext,
    readonly peerId: string,
    private address: PeerAddress,
  ) {}

  /** Queue a frame (size already checked against maxFrameBytes) and get it moving; false when the queue is full. */
  enqueue(frame: Uint8Array): boolean {
    const { maxQueueBytes, maxQueueFrames } = this.ctx.settings;
    if (
      this.state === 'gone' ||
      this.queue.length >= maxQueueFrames ||
      this.queue.bytes + frame.length > maxQueueBytes
    ) {
      return false;
    }
    this.queue.push(frame);
    this.ctx.counters.queuedFrames++;
    this.ctx.counters.queuedBytes += frame.length;
    if (this.state === 'idle') this.dial();
    else if (this.state === 'open') this.flush();
    return true;
  }

  /** The peer moved: redial at `address`, keeping the queue. */
  moveTo(address: PeerAddress): void {
    if (address.host === this.address.host && address.port === this.address.port) return;
    this.address = { host: address.host, port: address.port };
    this.failures = 0;
    this.clearTimer();
    this.dropSocket();
    this.state = 'idle';
    if (this.queue.length > 0) this.dial();
  }

  /** Stop for good: close the connection, clear the timer, drop the queue (counted as dropped). */
  shutDown(): void {
    this.state = 'gone';
    this.clearTimer();
    this.dropSocket();
    const c = this.ctx.counters;
    c.framesDropped += this.queue.length;
    c.queuedFrames -= this.queue.length;
    c.queuedBytes -= this.queue.bytes;
    this.queue.clear();
  }

  /** Start a connection attempt. */
  private dial(): void {
    if (this.dialled) this.ctx.counters.reconnects++;
    this.dialled = true;
    this.state = 'connecting';
    const socket = net.connect({ host: this.address.host, port: this.address.port });
    this.socket = socket;
    this.ctx.track(socket);
    socket.setNoDelay(true);
    socket.on('error', () => {}); // 'close' follows; the link reacts there
    socket.on('close', () => this.onClose(socket));
    socket.on('drain', () => this.onDrain(socket));
    socket.once('connect', () => this.onConnect(socket));
    socket.resume(); // the acceptor never writes; reading lets its FIN close the socket
    this.timer = setTimeout(() => socket.destroy(), this.ctx.settings.connectTimeoutMs);
  }

  /** Connected: write the handshake, then whatever is queued. */
  private onConnect(socket: net.Socket): void {
    if (socket !== this.socket || this.state !== 'connecting') return;
    this.clearTimer();
    this.state = 'open';
    this.openedAt = Date.now();
    socket.setKeepAlive(true, KEEPALIVE_MS);
    this.corkUntilYield(socket);
    writeFrame(socket, encodeHandshake(this.ctx.settings.id, this.peerId));
    this.flush();
  }

  /** The socket can take more: resume writing. */
  private onDrain(socket: net.Socket): void {
    if (socket !== this.socket) return;
    this.waitingForDrain = false;
    this.flush();
  }

  /** The connection failed or was lost: wait, then redial if frames are queued. */
  private onClose(socket: net.Socket): void {
    if (socket !== this.socket) return;
    this.socket = null;
    this.waitingForDrain = false;
    this.clearTimer();
    if (this.state === 'gone') return;
    const wasStable = this.state === 'open' && Date.now() - this.openedAt >= this.ctx.settings.backoff.maxMs;
    this.failures = wasStable ? 1 : this.failures + 1;
    this.state = 'backoff';
    const delay = backoffDelay(this.failures, this.ctx.settings.backoff, this.ctx.settings.random);
    this.timer = setTimeout(() => this.onBackoffOver(), delay);
  }

  /** The wait is over: redial if there is something to send, else go idle until the next send. */
  private onBackoffOver(): void {
    this.timer = null;
    if (this.state !== 'backoff') return;
    this.state = 'idle';
    if (this.queue.length > 0) this.dial();
  }

  /**
   * Write queued frames until the queue is empty or the socket pushes back. The socket stays corked
   * until the code sending yields (see `corkUntilYield`), so the frames of one burst of sends leave in
   * one system call.
   */
  private flush(): void {
    const socket = this.socket;
    if (socket === null || this.state !== 'open' || this.waitingForDrain || this.queue.length === 0) return;
    this.corkUntilYield(socket);
    const c = this.ctx.counters;
    while (this.queue.length > 0) {
      const frame = this.queue.shift();
      c.queuedFrames--;
      c.queuedBytes -= frame.length;
      c.framesSent++;
      c.bytesSent += frame.length;
      if (!writeFrame(socket, frame)) {
        this.waitingForDrain = true;
        break;
      }
    }
  }

  /**
   * Cork `socket` and uncork it in a microtask: the frames sent by the code running now leave in one
   * system call, as soon as it yields. (Not on `process.nextTick`: Node runs that queue only once
   * the microtask queue is empty, so a host that goes on with a chain of promises — a leader
   * starting its own write right after sending — would hold its AppendEntries back until the whole
   * chain has run, a tenth of a millisecond and more on every hop.)
   */
  private corkUntilYield(socket: net.Socket): void {
    if (this.corked === socket) return;
    this.corked = socket;
    socket.cork();
    void RESOLVED.then(() => {
      if (this.corked === socket) this.corked = null;
      socket.uncork();
    });
  }

  /** Destroy the current socket, if any, without triggering a reconnect from its 'close'. */
  private dropSocket(): void {
    const socket = this.socket;
    this.socket = null;
    this.waitingForDrain = false;
    socket?.destroy();
  }

  /** Clear the pending timer, if any. */
  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** Write one length-prefixed frame; returns what `socket.write` returned for its last part (false: backpressure). */
function writeFrame(socket: net.Socket, frame: Uint8Array): boolean {
  socket.write(encodeLengthPrefix(frame.length));
  return socket.write(frame);
}

/** A settled promise: `RESOLVED.then(f)` runs `f` as a microtask (see `corkUntilYield`). */
const RESOLVED: Promise<void> = Promise.resolve();

/** Rethrow an exception from the host's `deliver` outside the transport's call stack. */
function rethrowLater(err: unknown): void {
  queueMicrotask(() => {
    throw err;
  });
}

// ---------------------------------------------------------------------------------------------------
// The transport.

/**
 * A `Transport` over TCP (see the design note at the top of this file). Construct with the options,
 * `start(deliver)` to listen, `send` to peers, `close()` when done.
 */
export class TcpTransport implements Transport {
  private readonly settings: Settings;
  private readonly counters = emptyTransportStats();
  private readonly links = new Map<string, PeerLink>();
  /** The current incoming connection of each peer that completed a handshake. */
  private readonly inbound = new Map<string, net.Socket>();
  /** Every socket not yet closed, incoming and outgoing. */
  private readonly sockets = new Set<net.Socket>();
  private server: net.Server | null = null;
  private starting: Promise<void> | null = null;
  private bound: PeerAddress | null = null;
  private deliver: Deliver | null = null;
  private closed = false;
  private closing: Promise<void> | null = null;
  private readonly linkContext: LinkContext;

  /** Validates the options (throws a TypeError or RangeError naming the bad one); no I/O until `start` or `send`. */
  constructor(options: TcpTransportOptions) {
    this.settings = settingsFrom(options);
    this.linkContext = {
      settings: this.settings,
      counters: this.counters,
      track: (socket) => this.track(socket),
    };
    this.setPeers(options.peers ?? {});
  }

  /** This node's id. */
  get id(): string {
    return this.settings.id;
  }

  /**
   * Listen on `listen`. Rejects when called twice, after `close`, with a `deliver` that is not a
   * function, or when the address cannot be bound (e.g. EADDRINUSE).
   */
  start(deliver: Deliver): Promise<void> {
    if (typeof deliver !== 'function') return Promise.reject(new TypeError('start: deliver must be a function'));
    if (this.closed) return Promise.reject(new Error('start: transport is closed'));
    if (this.server !== null) return Promise.reject(new Error('start: already started'));
    this.deliver = deliver;
    const server = net.createServer((socket) => this.accept(socket));
    this.server = server;
    this.starting = new Promise<void>((resolve, reject) => {
      const onListenError = (err: Error): void => reject(err);
      server.once('error', onListenError);
      server.listen({ host: this.settings.listen.host, port: this.settings.listen.port }, () => {
        server.off('error', onListenError);
        server.on('error', () => {}); // accept errors (e.g. EMFILE) must not crash the process
        const a = server.address();
        if (a !== null && typeof a === 'object') this.bound = { host: a.address, port: a.port };
        if (this.closed) reject(new Error('start: transport closed while starting'));
        else resolve();
      });
    });
    return this.starting;
  }

  /**
   * The address the server is bound to, with the actual port when `listen.port` was 0. The host is
   * as bound ('0.0.0.0' or '::' when listening on every interface: give peers a reachable one).
   * Throws before `start` resolved, and after `close`.
   */
  address(): PeerAddress {
    if (this.bound === null || this.closed) throw new Error('address: the transport is not listening');
    return this.bound;
  }

  /** See `Transport.send`: queues the frame for `to` and dials it if needed; false when dropped. Never throws. */
  send(to: string, frame: Uint8Array): boolean {
    const link = this.closed ? undefined : this.links.get(to);
    const ok =
      link !== undefined &&
      frame instanceof Uint8Array &&
      frame.length <= this.settings.maxFrameBytes &&
      link.enqueue(frame);
    if (!ok) this.counters.framesDropped++;
    return ok;
  }

  /**
   * See `Transport.setPeers`. Peer ids must be non-empty strings of at most MAX_ID_BYTES UTF-8 bytes,
   * addresses `{host: non-empty string, port: 1..65535}`; anything else throws a TypeError, changing
   * nothing. After `close` it only validates.
   */
  setPeers(peers: Readonly<Record<string, PeerAddress>>): void {
    checkPeers(peers);
    if (this.closed) return;
    for (const [id, link] of this.links) {
      if (!Object.prototype.hasOwnProperty.call(peers, id)) {
        link.shutDown();
        this.links.delete(id);
      }
    }
    for (const [id, address] of Object.entries(peers)) {
      const link = this.links.get(id);
      if (link === undefined)
        this.links.set(id, new PeerLink(this.linkContext, id, { host: address.host, port: address.port }));
      else link.moveTo(address);
    }
  }

  /** See `Transport.close`: resolves when the server and every socket are closed and no timer is left. */
  close(): Promise<void> {
    if (this.closing === null) this.closing = this.closeEverything();
    return this.closing;
  }

  /** See `Transport.stats`. */
  stats(): TransportStats {
    return { ...this.counters };
  }

  /** Shut every link, destroy every socket, stop the server; resolves when all report closed. */
  private async closeEverything(): Promise<void> {
    this.closed = true;
    this.deliver = null;
    for (const link of this.links.values()) link.shutDown();
    this.links.clear();
    const socketsClosed = [...this.sockets].map((socket) => {
      const done = new Promise<void>((resolve) => socket.once('close', () => resolve()));
      socket.destroy();
      return done;
    });
    if (this.starting !== null) await this.starting.catch(() => {});
    const server = this.server;
    const serverClosed =
      server !== null && server.listening
        ? new Promise<void>((resolve) => server.close(() => resolve()))
        : Promise.resolve();
    await Promise.all([serverClosed, ...socketsClosed]);
    this.bound = null;
  }

  /** Keep `socket` in the set `close()` waits for, until it closes. */
  private track(socket: net.Socket): void {
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  /** A peer connected: read its handshake (within the timeout), then deliver its frames. */
  private accept(socket: net.Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.track(socket);
    socket.setNoDelay(true);
    socket.setKeepAlive(true, KEEPALIVE_MS);
    const decoder = new FrameDecoder(MAX_HANDSHAKE_BYTES);
    let from: string | null = null;
    const handshakeTimer = setTimeout(() => this.rejectConnection(socket), this.settings.handshakeTimeoutMs);
    const onFrame = (frame: Uint8Array): boolean => {
      if (this.closed) return false;
      if (from !== null) return this.deliverFrame(from, frame);
      from = this.acceptHandshake(socket, frame);
      if (from === null) return false;
      clearTimeout(handshakeTimer);
      decoder.setMaxFrameBytes(this.settings.maxFrameBytes);
      return true;
    };
    socket.on('data', (chunk: Buffer) => {
      if (!decoder.push(chunk, onFrame)) this.rejectConnection(socket);
    });
    socket.on('error', () => {}); // 'close' follows
    socket.on('close', () => {
      clearTimeout(handshakeTimer);
      if (from !== null && this.inbound.get(from) === socket) this.inbound.delete(from);
    });
  }

  /** Check a handshake; on success register the connection as the peer's current one and return its id, else null. */
  private acceptHandshake(socket: net.Socket, frame: Uint8Array): string | null {
    const hs = decodeHandshake(frame);
    if (hs === null || hs.to !== this.settings.id) return null;
    const previous = this.inbound.get(hs.from);
    if (previous !== undefined && previous !== socket) previous.destroy();
    this.inbound.set(hs.from, socket);
    return hs.from;
  }

  /** Hand a frame to the host; an exception from it is rethrown later. Returns false once closed (stop reading). */
  private deliverFrame(from: string, frame: Uint8Array): boolean {
    const deliver = this.deliver;
    if (deliver === null) return false;
    this.counters.framesReceived++;
    this.counters.bytesReceived += frame.length;
    try {
      deliver(from, frame);
    } catch (err) {
      rethrowLater(err);
    }
    return true;
  }

  /** Close an incoming connection that broke the protocol, counting it (not when we are closing anyway). */
  private rejectConnection(socket: net.Socket): void {
    if (socket.destroyed) return;
    if (!this.closed) this.counters.connectionsRejected++;
    socket.destroy();
  }
}
