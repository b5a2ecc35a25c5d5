/**
 * An inspector adapter: raftstep nodes as actors of XState's inspection protocol, so that Stately's
 * inspector (`@statelyai/inspect`) or any tool reading that protocol can show a run — live, or
 * replayed from a recording.
 *
 * - Each node is an actor (`@xstate.actor`, once per node), its `sessionId` the node id (or what
 *   `sessionIdOf` makes of it); each node is a root actor (`rootId` is its own session id).
 * - Each event a node steps is an `@xstate.event` whose `actorRef` is the node and whose `sourceRef`
 *   is the sender: a message's `from`; none for the application's requests (timeout, propose, ...).
 *   Lifecycle changes are events too: `raftstep.restart`, `raftstep.load`, `raftstep.crash`,
 *   `raftstep.shutdown`.
 * - Each state change is an `@xstate.snapshot` whose snapshot is a readable view of the node (see
 *   `NodeSnapshot`) and whose `event` is the event that caused it.
 *
 * Every emitted object is plain JSON, and carries both XState's fields (`actorRef`, `sourceRef`,
 * `rootId`) and those of Stately's wire format (`sessionId`, `sourceId`, `name`, `definition`,
 * `createdAt`, `id`, `_version`), so that it can go to Stately's adapter as it is:
 *
 * ```ts
 * import { createBrowserInspector } from '@statelyai/inspect'; // or createWebSocketInspector
 * import { inspectTimeline } from 'raftstep/inspect';
 *
 * const inspector = createBrowserInspector();
 * inspectTimeline(timeline, (e) => inspector.adapter.send(e));
 * // or through XState's observer, which needs actorRef.getSnapshot():
 * inspectTimeline(timeline, (e) => inspector.inspect.next(withActorRefMethods(e)));
 * ```
 *
 * Output is deterministic: `id` counts the events, and `createdAt` is the time given with each
 * call (virtual milliseconds for a simulator recording; the last one given when none is) unless a
 * `clock` is set (`clock: Date.now` for wall-clock stamps in a live run).
 */
import type { RaftEvent, RaftState } from '../index.js';
import { isStepRecord } from '../timetravel/recording.js';
import type { Timeline } from '../timetravel/timeline.js';
import type { NodeStatus } from '../timetravel/view.js';
import { nodeSnapshot, type NodeSnapshot } from './snapshot.js';

/** The `_version` emitted by default: the version of this adapter's output. */
export const INSPECTION_VERSION = '1.0.0';

/** An actor reference as plain JSON: the node's id and its session id. */
export interface InspectedActorRef {
  /** The node id. */
  readonly id: string;
  /** The node's session id (see `InspectorOptions.sessionIdOf`). */
  readonly sessionId: string;
}

/** An event as inspected: any object with a string `type` (a Raft event, or `raftstep.*`). */
export interface InspectedEvent {
  /** The event's type. */
  readonly type: string;
  /** The event's other fields, as given. */
  readonly [field: string]: unknown;
}

/** The fields every inspection event has. */
export interface InspectionBase {
  /** The session id of the root actor: the node's own (every node is a root actor). */
  readonly rootId: string;
  /** The actor the inspection event is about (for `@xstate.event`: the receiver). */
  readonly actorRef: InspectedActorRef;
  /** `actorRef.sessionId`, as Stately's wire format has it. */
  readonly sessionId: string;
  /** A unique id of this inspection event (the count of events emitted before it). */
  readonly id: string;
  /** When, as a string of a number (see the module comment). */
  readonly createdAt: string;
  /** The version of the emitter's output (see `InspectorOptions.version`). */
  readonly _version: string;
}

/** A node became known: emitted once per node, with its first snapshot. */
export interface InspectionActorEvent extends InspectionBase {
  /** The kind of inspection event. */
  readonly type: '@xstate.actor';
  /** The node id. */
  readonly name: string;
  /** A JSON definition of the actor: `{"id": <node id>}` (nodes have no machine definition). */
  readonly definition: string;
  /** The node's first snapshot. */
  readonly snapshot: NodeSnapshot;
}

/** A node stepped an event (a message from `sourceRef`, or a request), or changed its lifecycle. */
export interface InspectionEventEvent extends InspectionBase {
  /** The kind of inspection event. */
  readonly type: '@xstate.event';
  /** The event the node stepped (as given), or a `raftstep.*` lifecycle event. */
  readonly event: InspectedEvent;
  /** The sender; left out when there is none (requests, lifecycle changes). */
  readonly sourceRef?: InspectedActorRef;
  /** `sourceRef.sessionId`, as Stately's wire format has it; left out with `sourceRef`. */
  readonly sourceId?: string;
}

/** A node's state changed: its new snapshot, and the event that changed it. */
export interface InspectionSnapshotEvent extends InspectionBase {
  /** The kind of inspection event. */
  readonly type: '@xstate.snapshot';
  /** The event that changed the state (`{type: ''}` when none was given for the node). */
  readonly event: InspectedEvent;
  /** The node's new snapshot. */
  readonly snapshot: NodeSnapshot;
}

/** Every inspection event the adapter emits. */
export type InspectionEvent = InspectionActorEvent | InspectionEventEvent | InspectionSnapshotEvent;

/** How to build an inspector. */
export interface InspectorOptions {
  /** Receives every inspection event, in order. Must not throw (an exception propagates to the caller). */
  readonly emit: (event: InspectionEvent) => void;
  /** The session id of a node (default: its id). Must give distinct ids to distinct nodes. */
  readonly sessionIdOf?: (node: string) => string;
  /** Stamps `createdAt` (default: the time given with each call; see the module comment). */
  readonly clock?: () => number;
  /** The `_version` field (default `INSPECTION_VERSION`). */
  readonly version?: string;
}

/** Extra facts given with a call: when it happened (in the recording's unit), and how the node stands. */
export interface InspectInfo {
  /** When; left out: the last time given (0 before any). */
  readonly time?: number;
  /** For `stateChanged`: the node's status (default: `up` with a state, `crashed` without). */
  readonly status?: NodeStatus;
}

/** An inspector of raftstep nodes, fed by a live run or a recording. See the module comment. */
export interface Inspector {
  /**
   * `id` started with `state` (null: unknown yet). The first call for a node emits its
   * `@xstate.actor`; a later one (a restart) emits a `raftstep.restart` event and a snapshot.
   */
  nodeStarted(id: string, state: RaftState | null, info?: InspectInfo): void;
  /**
   * `node` stepped `event`: emits an `@xstate.event` from `from` to `node`. `from` left out: the
   * event's own `from` when it is a string (every message names its sender there), else none;
   * `null`: no sender. A node not seen before is registered first (its `@xstate.actor`).
   */
  eventStepped(node: string, event: InspectedEvent | RaftEvent, from?: string | null, info?: InspectInfo): void;
  /**
   * `node`'s state is now `state` (null: not running): emits an `@xstate.snapshot` whose `event`
   * is the last event given for `node`. Call it only when the state changed. A node not seen before
   * is registered instead (its `@xstate.actor`, with this snapshot).
   */
  stateChanged(node: string, state: RaftState | null, info?: InspectInfo): void;
  /** `node` crashed or was shut down: emits a `raftstep.crash`/`raftstep.shutdown` event and a snapshot. */
  nodeStopped(node: string, how: 'crashed' | 'shutdown', info?: InspectInfo): void;
}

/** Throw a TypeError unless `id` is a non-empty string. */
function checkNodeId(what: string, id: unknown): asserts id is string {
  if (typeof id !== 'string' || id === '') throw new TypeError(`${what}: the node id must be a non-empty string`);
}

/** The sender of `event` when its `from` is left out: its own `from` when that is a string. */
function senderOf(event: InspectedEvent | RaftEvent, from: string | null | undefined): string | null {
  if (from !== undefined) return from;
  const own = (event as { from?: unknown }).from;
  return typeof own === 'string' ? own : null;
}

/**
 * An inspector that emits to `options.emit`. Throws a TypeError when `emit` is not a function;
 * each method throws a TypeError for a node id that is not a non-empty string or an event without
 * a string `type`.
 */
export function createInspector(options: InspectorOptions): Inspector {
  if (typeof options?.emit !== 'function') throw new TypeError('createInspector: options.emit must be a function');
  const { emit, clock } = options;
  const sessionIdOf = options.sessionIdOf ?? ((node: string) => node);
  const version = options.version ?? INSPECTION_VERSION;
  const known = new Set<string>();
  const lastEvent = new Map<string, InspectedEvent>();
  let seq = 0;
  let now = 0;

  const ref = (node: string): InspectedActorRef => ({ id: node, sessionId: sessionIdOf(node) });
  const base = (node: string, info: InspectInfo | undefined): InspectionBase => {
    if (info?.time !== undefined) now = info.time;
    const actorRef = ref(node);
    return {
      rootId: actorRef.sessionId,
      actorRef,
      sessionId: actorRef.sessionId,
      id: String(seq++),
      createdAt: String(clock !== undefined ? clock() : now),
      _version: version,
    };
  };
  const register = (node: string, snapshot: NodeSnapshot, info: InspectInfo | undefined): void => {
    known.add(node);
    emit({
      type: '@xstate.actor',
      ...base(node, info),
      name: node,
      definition: JSON.stringify({ id: node }),
      snapshot,
    });
  };
  const statusOf = (state: RaftState | null, info: InspectInfo | undefined): NodeStatus =>
    info?.status ?? (state === null ? 'crashed' : 'up');

  const inspector: Inspector = {
    nodeStarted(id, state, info) {
      checkNodeId('nodeStarted', id);
      if (!known.has(id)) return register(id, nodeSnapshot(id, statusOf(state, info), state), info);
      inspector.eventStepped(id, { type: 'raftstep.restart' }, null, info);
      inspector.stateChanged(id, state, info);
    },
    eventStepped(node, event, from, info) {
      checkNodeId('eventStepped', node);
      if (typeof event?.type !== 'string') throw new TypeError('eventStepped: the event must have a string type');
      if (!known.has(node)) register(node, nodeSnapshot(node, 'notStarted', null), info);
      lastEvent.set(node, event as InspectedEvent);
      const source = senderOf(event, from);
      const e: InspectionEventEvent = { type: '@xstate.event', ...base(node, info), event: event as InspectedEvent };
      emit(source === null ? e : { ...e, sourceRef: ref(source), sourceId: sessionIdOf(source) });
    },
    stateChanged(node, state, info) {
      checkNodeId('stateChanged', node);
      const snapshot = nodeSnapshot(node, statusOf(state, info), state);
      if (!known.has(node)) return register(node, snapshot, info);
      const event = lastEvent.get(node) ?? { type: '' };
      emit({ type: '@xstate.snapshot', ...base(node, info), event, snapshot });
    },
    nodeStopped(node, how, info) {
      checkNodeId('nodeStopped', node);
      if (how !== 'crashed' && how !== 'shutdown') throw new TypeError('nodeStopped: how must be crashed or shutdown');
      inspector.eventStepped(node, { type: how === 'crashed' ? 'raftstep.crash' : 'raftstep.shutdown' }, null, info);
      inspector.stateChanged(node, null, { ...info, status: how });
    },
  };
  return inspector;
}

/**
 * Replay a whole timeline to `emit`: the nodes running at point 0 are registered, then each event
 * in order gives its `@xstate.event` (or, for a node's first start, its `@xstate.actor`) and, for
 * each node whose state or status it changed, an `@xstate.snapshot`. `createdAt` is the recording's
 * time (see `InspectorOptions` for the others). Returns the number of inspection events emitted.
 */
export function inspectTimeline(
  timeline: Timeline,
  emit: (event: InspectionEvent) => void,
  options: Omit<InspectorOptions, 'emit'> = {},
): number {
  let count = 0;
  const inspector = createInspector({
    ...options,
    emit: (e) => {
      count++;
      emit(e);
    },
  });
  const started = new Set<string>();
  const cursor = timeline.cursor(0);
  const info = (): InspectInfo => (cursor.record.time === null ? {} : { time: cursor.record.time });
  for (const id of timeline.nodes) {
    if (cursor.record.status[id] !== 'up') continue;
    started.add(id);
    inspector.nodeStarted(id, cursor.record.nodes[id] ?? null, info());
  }
  while (cursor.stepForward()) {
    const n = cursor.position;
    const r = timeline.event(n);
    const state = cursor.record.nodes[r.node] ?? null;
    const status = cursor.record.status[r.node];
    const at = { ...info(), ...(status === undefined ? {} : { status }) };
    if (!isStepRecord(r) && !started.has(r.node) && status === 'up') {
      started.add(r.node);
      inspector.nodeStarted(r.node, state, at);
      continue;
    }
    started.add(r.node);
    const event = isStepRecord(r) ? r.event : { type: `raftstep.${r.lifecycle.type}` };
    inspector.eventStepped(r.node, event, isStepRecord(r) ? undefined : null, at);
    if (timeline.changedNodes(n).includes(r.node)) inspector.stateChanged(r.node, state, at);
  }
  return count;
}

/**
 * A copy of `e` that XState's inspection observer accepts (`inspector.inspect.next` of
 * `@statelyai/inspect` reads `actorRef.getSnapshot()` of an `@xstate.actor` event): its `actorRef`
 * gets a `getSnapshot` method returning the event's snapshot. Not JSON any more: use it only to
 * hand events to such an observer.
 */
export function withActorRefMethods(e: InspectionEvent): InspectionEvent & {
  /** `e.actorRef`, copied, with a `getSnapshot` method added. */
  readonly actorRef: InspectedActorRef & {
    /**
     * The snapshot `e` carries (of an `@xstate.actor` or `@xstate.snapshot` event), the same object
     * at every call; undefined for an `@xstate.event`, which carries none.
     */
    getSnapshot(): NodeSnapshot | undefined;
  };
} {
  const snapshot = 'snapshot' in e ? e.snapshot : undefined;
  return { ...e, actorRef: { ...e.actorRef, getSnapshot: () => snapshot } };
}
