/**
 * Recordings: the input of time travel. A recording is what any run of raftstep nodes leaves behind
 * — the simulator's trace, a host runtime's event log, a Redux action log — reduced to one shape:
 * the nodes' states before the first event, and the ordered list of what happened to one node at a
 * time (a `step`, or a lifecycle change: start, restart, crash, shutdown, load).
 *
 * Events are read generically: a step record carries any object with a string `type`, handed to the
 * recording's step function as it is, so message, request and action types added to raftstep later
 * need nothing here.
 */
import {
  restartNode,
  startNode,
  step as coreStep,
  type PersistedState,
  type RaftEvent,
  type RaftState,
  type StepResult,
} from '../index.js';

/** A function with the signature of `step`: the real one (the default), or a wrapper around it. */
export type StepFunction = (state: RaftState, event: RaftEvent) => StepResult;

/**
 * A lifecycle change of one node, by `type`:
 * - `start`: `startNode(node, options)` — a fresh node (`options`: the node options it was started
 *   with, passed to `startNode` as they are; left out, raftstep's defaults).
 * - `restart`: `restartNode(persisted)` — back from what it persisted (`persisted.id` must be the node).
 * - `load`: the node's state was set to `state` as it is (a host or store that restored a state
 *   without `restartNode`, e.g. a Redux store rehydrated).
 * - `crash`: the node went down (its state is gone until a restart).
 * - `shutdown`: the node was taken out of service for good (a removed member).
 */
export type Lifecycle =
  | {
      /** A fresh node: `startNode(node, options)`. */
      readonly type: 'start';
      /**
       * The node options it was started with (an object), passed to `startNode` as they are; left
       * out, raftstep's defaults.
       */
      readonly options?: object;
    }
  | {
      /** Back from what the node persisted: `restartNode(persisted)`. */
      readonly type: 'restart';
      /** The persisted state given to `restartNode`; its `id` must be the record's node. */
      readonly persisted: PersistedState;
    }
  | {
      /** The node's state was set as it is, without `restartNode` (e.g. a Redux store rehydrated). */
      readonly type: 'load';
      /** The state the node has from here, used as it is (frozen by the timeline); its `id` must be the record's node. */
      readonly state: RaftState;
    }
  | {
      /** The node went down: its state is gone, and it is not running until a restart (or start, or load). */
      readonly type: 'crash';
    }
  | {
      /** The node was taken out of service for good (a removed member): it is not running. */
      readonly type: 'shutdown';
    };

/** The names of the lifecycle changes a recording may hold. */
export const LIFECYCLE_TYPES: readonly Lifecycle['type'][] = Object.freeze([
  'start',
  'restart',
  'load',
  'crash',
  'shutdown',
]);

/**
 * A message on the network as a recorder saw it: sent by `from` to `to` and not yet delivered,
 * dropped or lost. `message` is the message as sent (read only through its `type` and `from`).
 */
export interface InFlightMessage {
  /** The sender. */
  readonly from: string;
  /** The receiver. */
  readonly to: string;
  /** The message as sent. */
  readonly message: {
    /** The message's type (`appendEntries`, `requestVote`, ...): the only field read here. */
    readonly type: string;
  };
}

/** A cut link: messages from `from` to `to` are stopped (a partition is a set of cuts). */
export interface Cut {
  /** The sending end of the link. */
  readonly from: string;
  /** The receiving end of the link. */
  readonly to: string;
}

/**
 * What a recorder saw of the network right after an event, when it records that: the messages in
 * flight and the cut links. Recordings that do not record the network (the simulator's traces do
 * not) leave it out, and the timeline's network view is then null.
 */
export interface NetworkSnapshot {
  /** The messages sent and not yet delivered, dropped or lost, in the recorder's order. */
  readonly inFlight: readonly InFlightMessage[];
  /** The cut links (empty: no partition). */
  readonly cuts: readonly Cut[];
}

/** Fields every recorded event may carry besides what happened. */
interface RecordBase {
  /** The node it happened to. */
  readonly node: string;
  /** When, in the recorder's unit (the simulator: virtual milliseconds). Left out: unknown. */
  readonly time?: number;
  /** The network right after the event, when the recorder records it (replaces the previous one). */
  readonly network?: NetworkSnapshot;
}

/** `node` stepped `event` (a message from a peer, or a request of the application). */
export interface StepRecord extends RecordBase {
  /** The event given to `step`, as it was given (read here only through its `type`). */
  readonly event: RaftEvent;
}

/** `node` started, restarted, crashed, was shut down, or had its state loaded. */
export interface LifecycleRecord extends RecordBase {
  /** What happened to the node's life. */
  readonly lifecycle: Lifecycle;
}

/** One entry of a recording: a step of one node, or a lifecycle change of one node. */
export type RecordedEvent = StepRecord | LifecycleRecord;

/**
 * A fingerprint the recorder took, to verify a replay: `fingerprint(state of node after event
 * after)` must equal `expected`.
 */
export interface RecordingCheck {
  /** The event after which the fingerprint was taken (0: before the first). */
  readonly after: number;
  /** The node whose state was fingerprinted. */
  readonly node: string;
  /** The fingerprint recorded. */
  readonly expected: string;
}

/**
 * A recorded run, the input of `createTimeline`.
 *
 * The caller must give the nodes' states before the first event (`initial`: a state, or null for a
 * node that is not running yet) and the events in the order they happened. Event `n` (numbered from
 * 1) is `events[n - 1]`; point `n` of the timeline is the cluster right after it, point 0 the
 * initial one. Nodes that only appear in events are added as not running until their first event.
 *
 * The timeline keeps the recording's events, the states it is given and makes and the network
 * snapshots, and freezes the states and snapshots (immutable by raftstep's contract anyway): the
 * caller must not change the recording afterwards.
 */
export interface Recording {
  /** Every node's state before the first event, by id (null: known, not running). */
  readonly initial: Readonly<Record<string, RaftState | null>>;
  /** What happened, in order. */
  readonly events: readonly RecordedEvent[];
  /** The step function the run used (default: raftstep's `step`). */
  readonly step?: StepFunction;
  /** The network before the first event, when the recorder records it. */
  readonly network?: NetworkSnapshot | null;
  /** The time before the first event, when known. */
  readonly time?: number | null;
  /**
   * Fingerprints to verify while the timeline replays (with `fingerprint`): a mismatch is an Error
   * naming the event and the node. Sorted by `after`.
   */
  readonly checks?: readonly RecordingCheck[];
  /** The fingerprint of a node's state (null: not running); required with `checks`. */
  readonly fingerprint?: (state: RaftState | null) => string;
}

/** True when `r` is a step record (and not a lifecycle change). */
export function isStepRecord(r: RecordedEvent): r is StepRecord {
  return 'event' in r;
}

/** The type of what happened in `r`: the event's `type` for a step, else the lifecycle change's. */
export function recordType(r: RecordedEvent): string {
  return isStepRecord(r) ? r.event.type : r.lifecycle.type;
}

/** A non-null object that is not an array. */
function isObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** What is wrong with a network snapshot, or null. */
function networkProblem(x: unknown): string | null {
  if (!isObject(x)) return 'its network is not an object';
  if (!Array.isArray(x.inFlight)) return 'its network has no inFlight list';
  if (!Array.isArray(x.cuts)) return 'its network has no cuts list';
  for (const m of x.inFlight as unknown[]) {
    if (!isObject(m) || typeof m.from !== 'string' || typeof m.to !== 'string' || !isObject(m.message)) {
      return 'its network lists an in-flight message without from, to and message';
    }
    if (typeof m.message.type !== 'string') return 'its network lists an in-flight message without a type';
  }
  for (const c of x.cuts as unknown[]) {
    if (!isObject(c) || typeof c.from !== 'string' || typeof c.to !== 'string') {
      return 'its network lists a cut without from and to';
    }
  }
  return null;
}

/** What is wrong with a lifecycle change for `node`, or null. */
function lifecycleProblem(x: unknown, node: string): string | null {
  if (!isObject(x)) return 'its lifecycle is not an object';
  const type = x.type;
  if (typeof type !== 'string' || !(LIFECYCLE_TYPES as readonly string[]).includes(type)) {
    return `its lifecycle type ${JSON.stringify(type)} is not one of ${LIFECYCLE_TYPES.join(', ')}`;
  }
  if (type === 'start' && x.options !== undefined && !isObject(x.options))
    return 'a start whose options are not an object';
  if (type === 'restart') {
    if (!isObject(x.persisted)) return 'a restart without its persisted state';
    if (x.persisted.id !== node) {
      return `a restart of ${node} from the persisted state of ${JSON.stringify(x.persisted.id)}`;
    }
  }
  if (type === 'load') {
    if (!isObject(x.state)) return 'a load without a state';
    if (x.state.id !== node) return `a load of ${node} with the state of ${JSON.stringify(x.state.id)}`;
  }
  return null;
}

/**
 * What is wrong with the shape of one recorded event, or null. Only the shape is checked: the
 * event's own fields are `step`'s to judge (a malformed event gives an `invalidEvent` action there,
 * as it did when it was recorded).
 */
export function recordProblem(x: unknown): string | null {
  if (!isObject(x)) return 'not an object';
  if (typeof x.node !== 'string' || x.node === '') return 'no node id (a non-empty string "node")';
  if (x.time !== undefined && (typeof x.time !== 'number' || !Number.isFinite(x.time))) {
    return 'its time is not a finite number';
  }
  if (x.network !== undefined) {
    const p = networkProblem(x.network);
    if (p !== null) return p;
  }
  const hasEvent = 'event' in x;
  const hasLifecycle = 'lifecycle' in x;
  if (hasEvent === hasLifecycle) return 'it must have exactly one of "event" (a step) and "lifecycle"';
  if (hasEvent) {
    if (!isObject(x.event)) return 'its event is not an object';
    if (typeof x.event.type !== 'string') return 'its event has no string "type"';
    return null;
  }
  return lifecycleProblem(x.lifecycle, x.node);
}

/**
 * Check a recording's shape before anything is replayed: throws an Error naming the first problem
 * (`recording event 12: ...` for an event, counted from 1). Checks the initial states' ids, every
 * event's shape and the checks' order; the events' meaning is checked while replaying.
 */
export function checkRecording(recording: Recording): void {
  if (!isObject(recording)) throw new Error('recording: not an object');
  if (!isObject(recording.initial)) throw new Error('recording: "initial" must map node ids to states or null');
  for (const [id, s] of Object.entries(recording.initial)) {
    if (s !== null && (!isObject(s) || s.id !== id)) {
      throw new Error(`recording: the initial state of ${id} is not null nor a state of ${id}`);
    }
  }
  if (!Array.isArray(recording.events)) throw new Error('recording: "events" must be a list');
  recording.events.forEach((e, i) => {
    const problem = recordProblem(e);
    if (problem !== null) throw new Error(`recording event ${i + 1}: ${problem}`);
  });
  if (recording.step !== undefined && typeof recording.step !== 'function') {
    throw new Error('recording: "step" must be a function');
  }
  if (recording.network !== undefined && recording.network !== null) {
    const problem = networkProblem(recording.network);
    if (problem !== null) throw new Error(`recording: ${problem.replace('its network', 'the initial network')}`);
  }
  const checks = recording.checks ?? [];
  if (checks.length > 0 && typeof recording.fingerprint !== 'function') {
    throw new Error('recording: "checks" need a "fingerprint" function');
  }
  let last = 0;
  for (const c of checks) {
    if (!Number.isSafeInteger(c.after) || c.after < last || c.after > recording.events.length) {
      throw new Error(
        `recording: check after event ${String(c.after)} is out of order or out of range (events 0..${recording.events.length})`,
      );
    }
    last = c.after;
  }
}

/**
 * `startNode` as called with a start's options: raftstep's `startNode(id, options)` (an older one
 * takes only the id, and ignores them).
 */
const startWithOptions = startNode as (id: string, options?: object) => StepResult;

/** The node `id` started with `options` (left out: the defaults): `startNode`'s result. */
export function startRecordedNode(id: string, options: object | undefined): StepResult {
  return options === undefined ? startNode(id) : startWithOptions(id, options);
}

/** The message of something thrown. */
function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * A node's state after the recorded event `r` (event number `n`), given its state before (null: not
 * running). Throws an Error naming the event for what cannot be replayed: a step on a node that is
 * not running, a step function that throws, options `startNode` or a persisted state `restartNode`
 * refuses.
 */
export function applyRecordedEvent(
  state: RaftState | null,
  r: RecordedEvent,
  n: number,
  step: StepFunction = coreStep,
): RaftState | null {
  const where = `recording event ${n} (${r.node}, ${recordType(r)})`;
  if (isStepRecord(r)) {
    if (state === null) throw new Error(`${where}: ${r.node} stepped while not running`);
    try {
      return step(state, r.event)[0];
    } catch (err) {
      throw new Error(`${where}: step threw: ${errorText(err)}`, { cause: err });
    }
  }
  const life = r.lifecycle;
  switch (life.type) {
    case 'start':
      try {
        return startRecordedNode(r.node, life.options)[0];
      } catch (err) {
        throw new Error(`${where}: ${errorText(err)}`, { cause: err });
      }
    case 'restart':
      try {
        return restartNode(life.persisted)[0];
      } catch (err) {
        throw new Error(`${where}: ${errorText(err)}`, { cause: err });
      }
    case 'load':
      return life.state;
    case 'crash':
    case 'shutdown':
      return null;
  }
}
