/**
 * The host layer of raftstep: everything around the reducer that an application would otherwise
 * write itself — durable storage, a transport, and `createHost`, the runtime that owns one node and
 * runs the application's state machine. `createNodeExecutor` is that runtime without its stepping
 * loop (what carries out a node's actions), for owners that step the node themselves, like a Redux
 * store (`raftstep/redux`'s host executor). Runs in browsers (no Node built-ins); the Node
 * implementations (`FileStorage`, `TcpTransport`) live in `../node`. Host records convert to
 * simulator traces in `raftstep/sim` (`traceFromHostEvents`) and to time-travel recordings in
 * `raftstep/timetravel` (`recordingFromHostEvents`).
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
export type { HostEventRecord } from './event-log.js';
export {
  createNodeExecutor,
  type ExecutorMachine,
  type ExecutorStats,
  type NodeExecutor,
  type NodeExecutorConfig,
  type PayloadSource,
} from './node-executor.js';
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
