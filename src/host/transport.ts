/**
 * The transport: how a host exchanges opaque frames with its peers.
 *
 * The host encodes its message envelopes into bytes and hands them to `send`; the transport never
 * looks inside a frame. Delivery is best effort: a frame may be dropped (and `send` says so when it
 * knows), but frames from one peer are never reordered or duplicated, and never corrupted. Raft
 * retries everything it sends, so a lost frame costs time, never safety.
 *
 * Two implementations: `createMemoryNetwork` (./memory-transport.ts, in-process, for tests and
 * browsers) and `TcpTransport` (../node/tcp-transport.ts, length-prefixed frames over TCP).
 *
 * This module has no runtime dependencies and runs in browsers.
 */

/**
 * Where a peer can be reached: a network address.
 *
 * `TcpTransport` dials `host:port` (a host name, an IPv4 or an IPv6 address). The in-process
 * transport routes by node id alone and ignores the address (`memoryPeers` builds a peer set for it),
 * so one peer-set type serves both and a host can switch transports without changing its
 * configuration. A host usually keeps these in its configuration file next to each node id.
 */
export interface PeerAddress {
  /** Host name or IP address to dial; non-empty. Ignored by the in-process transport. */
  readonly host: string;
  /** TCP port, an integer in 1..65535 for a peer (0 only as a listen address: "any free port"). Ignored by the in-process transport. */
  readonly port: number;
}

/**
 * The receiver's callback, given to `Transport.start`: called once per frame received, with the
 * sender's node id (as the sender announced it: the transport does not authenticate peers) and the
 * frame's bytes.
 *
 * Frames from one sender arrive in the order it sent them, possibly with gaps (dropped frames). The
 * frame belongs to the receiver and is never modified by the transport afterwards; it may be a view
 * into a larger buffer shared with other frames of the same read, so copy it (`frame.slice()`) before
 * keeping it for long. Frames may come from ids outside the current peer set (a node added to the
 * cluster hears from the leader before it learns its peers); the host decides what to do with them.
 *
 * Must not throw: an exception is rethrown asynchronously (an uncaught exception, like any bug) and
 * the transport carries on with the next frame.
 */
export type Deliver = (from: string, frame: Uint8Array) => void;

/**
 * Counters of one transport since it was created, for monitoring (a host's `/status` page).
 * Every field is a non-negative integer; `stats()` returns a fresh copy.
 *
 * Every frame accepted by `send` ends up in exactly one of `framesSent`, `framesDropped` (discarded
 * before it left: close, peer removed) or, for now, `queuedFrames`.
 */
export interface TransportStats {
  /** Frames handed to the network: written to a socket (TCP) or scheduled for delivery (in-process). */
  framesSent: number;
  /** Frames refused by `send` (it returned false) plus frames it accepted and later discarded before they left. */
  framesDropped: number;
  /** Frames handed to `deliver`. */
  framesReceived: number;
  /** Payload bytes of `framesSent` (length prefixes and handshakes not counted). */
  bytesSent: number;
  /** Payload bytes of `framesReceived`. */
  bytesReceived: number;
  /** Frames accepted by `send` and waiting to be written (a peer not connected yet, or a socket applying backpressure). */
  queuedFrames: number;
  /** Payload bytes of `queuedFrames`. */
  queuedBytes: number;
  /** Connections dialled again after a failed attempt or a lost connection. Always 0 in-process. */
  reconnects: number;
  /** Incoming connections closed for breaking the protocol: bad handshake, handshake timeout, frame over the size limit. Always 0 in-process. */
  connectionsRejected: number;
}

/** The default largest frame, in bytes, of both transports: 16 MiB. */
export const DEFAULT_MAX_FRAME_BYTES = 16 * 1024 * 1024;

/** A statistics record with every counter at zero. */
export function emptyTransportStats(): TransportStats {
  return {
    framesSent: 0,
    framesDropped: 0,
    framesReceived: 0,
    bytesSent: 0,
    bytesReceived: 0,
    queuedFrames: 0,
    queuedBytes: 0,
    reconnects: 0,
    connectionsRejected: 0,
  };
}

/**
 * How a host exchanges opaque frames with its peers. One transport per node; the node's own id is
 * given to the implementation's constructor.
 *
 * Life cycle: construct (with the initial peers) → `start(deliver)` once → any number of `send` and
 * `setPeers` → `close()` once (later calls resolve at once). `send` and `setPeers` work before
 * `start` too: sending needs no listener.
 */
export interface Transport {
  /**
   * Start listening/receiving; frames from peers are handed to `deliver` in the order each peer sent
   * them. Called once: a second call, or a call after `close`, rejects. Rejects also when the
   * transport cannot listen (TCP: the port is in use); the transport is then unusable, close it.
   */
  start(deliver: Deliver): Promise<void>;
  /**
   * Queue a frame for `to`. Never throws and never blocks: returns false when the frame is dropped
   * (unknown peer, queue full, frame over the size limit, transport closed). Raft retries, so
   * dropping is safe. True means accepted, not delivered: an accepted frame can still be lost (a
   * connection breaks, the peer is down). The transport keeps a reference to `frame` until it is
   * written: the caller must not modify it after the call.
   */
  send(to: string, frame: Uint8Array): boolean;
  /**
   * Replace the set of peers and their addresses (membership changes); connections to removed peers
   * are closed and frames queued for them dropped. A peer whose address changed is redialled at the
   * new address, keeping its queue. Throws a TypeError, changing nothing, on an invalid id (not a
   * non-empty string) or, where the transport uses addresses, an invalid address. Incoming
   * connections are not affected: any node may still send to this one.
   */
  setPeers(peers: Readonly<Record<string, PeerAddress>>): void;
  /**
   * Close every connection and stop listening; pending frames are dropped. Resolves once everything
   * is closed and no timer is left running; `deliver` is not called afterwards. Idempotent.
   */
  close(): Promise<void>;
  /** The counters since creation (a fresh copy). */
  stats(): TransportStats;
}
