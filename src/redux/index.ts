/**
 * `raftstep/redux` — raftstep in a Redux Toolkit store: one node, or a whole cluster.
 *
 * - {@link createRaftSlice}: a slice whose reducer calls `step`; its state is JSON (the nodes, the
 *   effects not carried out yet, how far each node applied its log), so replay, Redux DevTools and
 *   rehydration work.
 * - {@link raftEffects}: the effects runner, a middleware (or an RTK listener) that carries the
 *   effects out through an executor — the host runtime's ({@link createHostExecutor}: any `Storage`
 *   and `Transport` of `raftstep/host` or `raftstep/node`, one node executor per node), or the
 *   in-memory one for tests and demos ({@link createLocalExecutor} over {@link createRaftNetwork},
 *   {@link createMemoryRaftStorage} and a clock, all of it synchronous) — and feeds arrivals,
 *   timeouts and applied commands back as actions.
 * - {@link raftDevTools}: DevTools sanitizers (metrics folded away); {@link createActionRecorder}
 *   and {@link replayActions}: record and replay a store's actions.
 *
 * `@reduxjs/toolkit` (2.x) is a peer dependency of this entry only. No name exported here clashes
 * with an export of `@reduxjs/toolkit` or of `raftstep`.
 */
export {
  createRaftSlice,
  type RaftSlice,
  type RaftSliceOptions,
  type RaftSliceState,
  type RaftOutbox,
  type RaftCaseReducers,
  type RaftSelectors,
  type RaftSteppedPayload,
  type RaftProposedPayload,
  type RaftEffectsTakenPayload,
  type RaftAppliedPayload,
  type RaftCommandEntry,
  type RaftStartedPayload,
  type RaftRestartedPayload,
  type RaftStoppedPayload,
} from './slice.js';
export {
  raftEffects,
  RaftRequestError,
  type RaftEffects,
  type RaftEffectsOptions,
  type RaftProposal,
  type RaftRequestErrorCode,
} from './runner.js';
export {
  createLocalExecutor,
  type LocalExecutorOptions,
  type RaftDriver,
  type RaftEffectBatch,
  type RaftEffectsExecutor,
} from './executor.js';
export { createHostExecutor, type RaftHostExecutorOptions, type RaftSnapshotHooks } from './host-executor.js';
export {
  createRaftNetwork,
  type RaftEndpoint,
  type RaftNetwork,
  type RaftNetworkOptions,
  type RaftNetworkPort,
  type RaftNetworkStats,
  type RaftPayloads,
} from './network.js';
export {
  createMemoryRaftStorage,
  type MaybePromise,
  type MemoryRaftNodeJson,
  type MemoryRaftStorage,
  type RaftPersisted,
  type RaftStorage,
  type RaftWrite,
} from './storage.js';
export { createVirtualClock, systemClock, type RaftClock, type VirtualClock } from './clock.js';
export {
  raftDevTools,
  raftStateSanitizer,
  raftActionSanitizer,
  type RaftDevToolsConfig,
  type RaftDevToolsOptions,
  type RaftSliceLocation,
} from './devtools.js';
export { createActionRecorder, replayActions, type ActionRecorder } from './record.js';
export { recordingFromActions, type ActionRecordingOptions } from './recording.js';
