/**
 * The Node.js layer of raftstep (`raftstep/node`): a file-backed write-ahead log (`FileStorage`,
 * fsync'd, segmented, checksummed) and a TCP transport (`TcpTransport`, length-prefixed frames,
 * reconnecting). Both implement the host layer's interfaces (`Storage`, `Transport` in
 * `raftstep/host`), so `createHost({storage: await FileStorage.open(dir), transport: new
 * TcpTransport({...}), ...})` runs a real node. Node only: it uses `fs` and `net`.
 */
export {
  FileStorage,
  nodeFileLayer,
  blockingNodeFileLayer,
  DEFAULT_SEGMENT_BYTES,
  type FsyncMode,
  type FileStorageOptions,
  type FileLayer,
  type FileHandleLayer,
  type OpenMode,
} from './file-storage.js';
export {
  TcpTransport,
  DEFAULT_BACKOFF,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_MAX_QUEUE_BYTES,
  DEFAULT_MAX_QUEUE_FRAMES,
  type Backoff,
  type TcpTransportOptions,
} from './tcp-transport.js';
