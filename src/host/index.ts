/**
 * The host layer of raftstep: everything around the reducer that an application would otherwise
 * write itself — durable storage, a transport, and `createHost`, the runtime that owns one node and
 * runs the application's state machine. Runs in browsers (no Node built-ins); the Node
 * implementations (`FileStorage`, `TcpTransport`) live in `../node`.
 */
export {
  createHost,
  type Host,
  type HostConfig,
  type HostOptions,
  type HostStats,
  type HostStatus,
  type MembershipChange,
} from './host.js';
export { HostError, type HaltInfo, type HostErrorCode } from './errors.js';
export { jsonCodec, type CommandCodec, type StateMachine } from './state-machine.js';
export { SYSTEM_CLOCK, electionWaitMs, type HostClock } from './timers.js';
export {
  crc32,
  emptySnapshotStats,
  type SnapshotPolicy,
  type SnapshotStats,
  type TransferStatus,
} from './snapshots.js';
export {
  ENVELOPE_MAGIC,
  ENVELOPE_VERSION,
  decodeFrame,
  encodeFrame,
  type Frame,
  type SnapshotAck,
  type SnapshotChunk,
} from './envelope.js';
export { recordingFromHostEvents, traceFromHostEvents, type HostEventRecord } from './event-log.js';
export {
  EMPTY_STORED_META,
  applyStorageWrite,
  storedStatesAfter,
  type AppendWrite,
  type CompactWrite,
  type HardState,
  type HardStateWrite,
  type SnapshotMeta,
  type SnapshotWrite,
  type Storage,
  type StorageWrite,
  type StoredMeta,
  type StoredNode,
  type StoredSnapshot,
} from './storage.js';
export { MemoryStorage } from './memory-storage.js';
export {
  DEFAULT_MAX_FRAME_BYTES,
  emptyTransportStats,
  type Deliver,
  type PeerAddress,
  type Transport,
  type TransportStats,
} from './transport.js';
export {
  MEMORY_ADDRESS,
  createMemoryNetwork,
  memoryPeers,
  seededRandom,
  type MemoryNetwork,
  type MemoryNetworkOptions,
  type MemoryNetworkStats,
  type MemoryTransport,
} from './memory-transport.js';
