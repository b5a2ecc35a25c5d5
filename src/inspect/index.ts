/**
 * raftstep inspection: raftstep nodes as actors of XState's inspection protocol (`@xstate.actor`,
 * `@xstate.event`, `@xstate.snapshot`), for Stately's inspector or any tool that reads it — from a
 * live run (`createInspector`) or a recorded one (`inspectTimeline`). Emits plain JSON; no
 * dependency on `@statelyai/inspect`:
 *
 * ```ts
 * import { createBrowserInspector } from '@statelyai/inspect';
 * import { createInspector } from 'raftstep/inspect';
 *
 * const stately = createBrowserInspector();
 * const inspector = createInspector({ emit: (e) => stately.adapter.send(e), clock: Date.now });
 * inspector.nodeStarted('n1', node);
 * const [next] = step(node, event);
 * inspector.eventStepped('n1', event);               // the sender is the message's `from`
 * if (next !== node) inspector.stateChanged('n1', next);
 * ```
 *
 * No Node built-ins: runs in browsers.
 */
export {
  createInspector,
  inspectTimeline,
  withActorRefMethods,
  INSPECTION_VERSION,
  type InspectedActorRef,
  type InspectedEvent,
  type InspectInfo,
  type InspectionActorEvent,
  type InspectionBase,
  type InspectionEvent,
  type InspectionEventEvent,
  type InspectionSnapshotEvent,
  type Inspector,
  type InspectorOptions,
} from './inspector.js';
export {
  nodeSnapshot,
  summarizeMetrics,
  type MetricsSummary,
  type NodeContext,
  type NodeSnapshot,
} from './snapshot.js';
