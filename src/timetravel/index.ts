/**
 * raftstep time travel: explore any recorded run of raftstep nodes at every point.
 *
 * ```ts
 * import { createTimeline, recordingFromTrace, becameLeader } from 'raftstep/timetravel';
 *
 * const timeline = createTimeline(recordingFromTrace(result.trace)); // or any Recording
 * const elected = timeline.findFirst(becameLeader());                 // -1: never
 * timeline.view(elected);                                             // role, term, commit, ... per node
 * timeline.diff(elected - 1, elected);                                // what that event changed
 * const cursor = timeline.cursor(timeline.length);
 * while (cursor.stepBack()) show(cursor.view());                      // backwards, no replay
 * ```
 *
 * A recording is the nodes' initial states and an ordered list of `{node, event}` steps and
 * lifecycle changes (see `Recording`); `recordingFromTrace` makes one from a simulator trace. No
 * Node built-ins: runs in browsers.
 */
export {
  createTimeline,
  type ClusterPredicate,
  type Timeline,
  type TimelineCursor,
  type TimelineOptions,
} from './timeline.js';
export {
  applyRecordedEvent,
  checkRecording,
  isStepRecord,
  recordProblem,
  recordType,
  LIFECYCLE_TYPES,
  type Cut,
  type InFlightMessage,
  type Lifecycle,
  type LifecycleRecord,
  type NetworkSnapshot,
  type RecordedEvent,
  type Recording,
  type RecordingCheck,
  type StepFunction,
  type StepRecord,
} from './recording.js';
export { recordingFromTrace, recordingFromTraceText, type TraceRecordingOptions } from './from-trace.js';
export { recordingFromHostEvents } from './from-host.js';
export { clusterView, nodeView, type ClusterRecord, type ClusterView, type NodeStatus, type NodeView } from './view.js';
export { deepEqual, type Change, type FieldChange, type NodeDiff, type TimelineDiff } from './diff.js';
export { becameLeader, firstCommitAtOrAbove, termReached } from './predicates.js';
