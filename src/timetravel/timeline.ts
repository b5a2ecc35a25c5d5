/**
 * Timelines: time travel over any recorded run.
 *
 * `createTimeline(recording)` replays the recording once, through the recording's step function,
 * and keeps a cluster record (every node's state and status, the time, the network) per point with
 * immer: each event is applied to the record with `produceWithPatches`, and the event's patches and
 * inverse patches are kept. Every `checkpointEvery` events the record itself is kept as a
 * checkpoint (records are frozen and share everything unchanged, so a checkpoint costs only what
 * changed since the one before). From these:
 * - the record at any point is the nearest checkpoint with at most `checkpointEvery / 2` events'
 *   patches (or inverse patches, from the checkpoint after) applied in one `applyPatches`;
 * - a cursor steps forward by applying one event's patches, and back by applying its inverse
 *   patches: constant time, nothing is replayed;
 * - a diff collects what the patches between two points touched and compares those values.
 */
import { enablePatches, freeze, Immer, type Patch } from 'immer';
import { restartNode, step as coreStep, type RaftActions, type RaftState } from '../index.js';
import { diffRecords, nothingTouched, touch, type TimelineDiff } from './diff.js';
import {
  applyRecordedEvent,
  checkRecording,
  isStepRecord,
  startRecordedNode,
  type NetworkSnapshot,
  type RecordedEvent,
  type Recording,
  type StepFunction,
} from './recording.js';
import { clusterView, type ClusterRecord, type ClusterView, type NodeStatus } from './view.js';

enablePatches();

/**
 * The immer instance of timelines: its own, so that an application's global immer settings
 * (`setAutoFreeze`) do not change what timelines keep. Records are frozen: they are shared.
 */
const immer = new Immer({ autoFreeze: true, useStrictIteration: false });

/** How to build a timeline. */
export interface TimelineOptions {
  /**
   * Keep a full cluster record every this many events (default 16, at least 1). Random access then
   * applies the patches of at most half as many events; smaller values cost more memory (a
   * checkpoint shares all but what changed since the one before: on a simulator trace, about 900
   * bytes per event in all at 16, 880 at 64, 1,170 at 1).
   */
  readonly checkpointEvery?: number;
}

/** A predicate over the cluster at one point: the view, and the full record for what it lacks. */
export type ClusterPredicate = (view: ClusterView, record: ClusterRecord) => boolean;

/**
 * A position on a timeline that moves one event at a time. Stepping back applies the inverse
 * patches of one event: constant time, whatever the point. Not shared: each `cursor()` is its own.
 */
export interface TimelineCursor {
  /** The point the cursor is at (0: before the first event; `length`: after the last). */
  readonly position: number;
  /** The cluster record at the cursor. */
  readonly record: ClusterRecord;
  /** The readable view of the cluster at the cursor. */
  view(): ClusterView;
  /** The state of `node` at the cursor (null: not running). Throws for an unknown node. */
  stateOf(node: string): RaftState | null;
  /** Move to the next point; false (and nothing moves) at the end. */
  stepForward(): boolean;
  /** Move to the previous point; false (and nothing moves) at point 0. */
  stepBack(): boolean;
  /** Move to point `n` (0..length); throws a RangeError outside. */
  seek(n: number): void;
}

/**
 * A recorded run, explorable at every point: point `n` is the cluster right after event `n`, from
 * 0 (the initial states) to `length` (after the last event). Every method that takes a point
 * throws a RangeError for one that is not an integer in 0..length, and every method that takes a
 * node throws an Error for a node the recording does not have.
 */
export interface Timeline {
  /** The number of events; the points are 0..length. */
  readonly length: number;
  /** Every node of the recording, in order of first appearance (initial nodes first). */
  readonly nodes: readonly string[];
  /** How often a full record is kept (see `TimelineOptions`). */
  readonly checkpointEvery: number;
  /** Event `n` (1..length) as recorded: the event that leads from point n - 1 to point n. */
  event(n: number): RecordedEvent;
  /** The cluster record at point `n`: frozen, deep-equal to what a straight replay gives. */
  record(n: number): ClusterRecord;
  /** The state of `node` at point `n` (null: not running then). */
  stateAt(n: number, node: string): RaftState | null;
  /** Every node's state at point `n`, by id (null: not running). */
  statesAt(n: number): Readonly<Record<string, RaftState | null>>;
  /** The readable view of the cluster at point `n`. */
  view(n: number): ClusterView;
  /**
   * The nodes whose state or status event `n` (1..length) changed, in node order (empty when the
   * event changed nothing, e.g. a message a node ignored without counting it).
   */
  changedNodes(n: number): readonly string[];
  /**
   * The actions the step of event `n` (1..length) returned, computed again with the recording's
   * step function from the state before it (the actions of `startNode`/`restartNode` for a start or
   * restart; none for the other lifecycle changes).
   */
  actionsOf(n: number): RaftActions;
  /** What differs between points `a` and `b` (either order; equal points give an empty diff). */
  diff(a: number, b: number): TimelineDiff;
  /**
   * The first point at or after `from` (default 0) where `predicate` holds, or -1 when it holds at
   * none. Walks forward one event at a time with a cursor (no replay).
   */
  findFirst(predicate: ClusterPredicate, from?: number): number;
  /** A new cursor at point `at` (default 0). */
  cursor(at?: number): TimelineCursor;
}

/** A record as the recipe of `produceWithPatches` writes it. */
interface DraftRecord {
  at: number;
  time: number | null;
  nodes: Record<string, RaftState | null>;
  status: Record<string, NodeStatus>;
  network: NetworkSnapshot | null;
}

/** A node's status after `r`. */
function statusAfter(r: RecordedEvent): NodeStatus {
  if (isStepRecord(r)) return 'up';
  switch (r.lifecycle.type) {
    case 'crash':
      return 'crashed';
    case 'shutdown':
      return 'shutdown';
    default:
      return 'up';
  }
}

/**
 * Write into `target` (a draft of `before`) the fields of `after` that are not the same values as
 * in `before`, and delete those `after` lacks: field-level patches, each carrying the new value by
 * reference.
 */
function writeChangedFields(target: Record<string, unknown>, before: RaftState, after: RaftState): void {
  const b = before as unknown as Record<string, unknown>;
  const a = after as unknown as Record<string, unknown>;
  for (const k in a) if (b[k] !== a[k]) target[k] = a[k];
  for (const k in b) if (!(k in a)) delete target[k];
}

/** Apply event `n` (`r`, which took its node from `before` to `after`) to a draft record. */
function recordEvent(
  d: DraftRecord,
  n: number,
  r: RecordedEvent,
  before: RaftState | null,
  after: RaftState | null,
): void {
  d.at = n;
  if (r.time !== undefined && d.time !== r.time) d.time = r.time;
  if (r.network !== undefined) d.network = r.network;
  const status = statusAfter(r);
  if (d.status[r.node] !== status) d.status[r.node] = status;
  if (after === before) return;
  if (before === null || after === null) d.nodes[r.node] = after;
  else writeChangedFields(d.nodes[r.node] as unknown as Record<string, unknown>, before, after);
}

/** Every node of a recording, initial ones first, then in order of first appearance. */
function nodeOrder(recording: Recording): string[] {
  const seen = new Set<string>(Object.keys(recording.initial));
  for (const e of recording.events) seen.add(e.node);
  return [...seen];
}

/** The record at point 0: every node with its initial state (or null) and status. */
function initialRecord(recording: Recording, order: readonly string[]): ClusterRecord {
  const nodes: Record<string, RaftState | null> = {};
  const status: Record<string, NodeStatus> = {};
  for (const id of order) {
    const s = recording.initial[id] ?? null;
    nodes[id] = s;
    status[id] = s === null ? 'notStarted' : 'up';
  }
  return freeze({ at: 0, time: recording.time ?? null, nodes, status, network: recording.network ?? null }, true);
}

/** The fingerprint mismatch error for a check after event `n`. */
function fingerprintError(n: number, node: string, expected: string, actual: string): Error {
  const where = n === 0 ? 'recording, before the first event' : `recording event ${n}`;
  return new Error(
    `${where}: the replayed state of ${node} does not match the recorded fingerprint (recorded ${expected}, replayed ${actual}): the run was recorded with another step function, or the recording was changed`,
  );
}

/**
 * Build the timeline of `recording`: replay it once and keep the patches and checkpoints described
 * in the module comment. Throws an Error naming the problem for a recording that is malformed
 * (`checkRecording`), that cannot be replayed (a step on a node not running, a restart refused), or
 * whose `checks` do not match the replay. Cost: one `step` and one `produceWithPatches` per event.
 *
 * @example
 * ```ts
 * import assert from 'node:assert/strict';
 * import { simulate } from 'raftstep/sim';
 * import { becameLeader, createTimeline, recordingFromTrace } from 'raftstep/timetravel';
 *
 * const { trace } = simulate({ seed: 3, nodes: 3, steps: 1000 });
 * const timeline = createTimeline(recordingFromTrace(trace!));
 * const elected = timeline.findFirst(becameLeader()); // the first event after which a node leads
 * assert.ok(elected > 0);
 * const [leader] = timeline.view(elected).leaders;
 * assert.ok(timeline.diff(elected - 1, elected).nodes.some((d) => d.id === leader));
 * const cursor = timeline.cursor(elected);
 * cursor.stepBack(); // one event back, from the patches: no replay
 * assert.notEqual(cursor.view().nodes[leader!]!.role, 'leader');
 * ```
 */
export function createTimeline(recording: Recording, options: TimelineOptions = {}): Timeline {
  checkRecording(recording);
  const every = Math.max(1, Math.floor(options.checkpointEvery ?? 16));
  if (!Number.isSafeInteger(every)) throw new RangeError('checkpointEvery must be a positive integer');
  const step = recording.step ?? coreStep;
  const order = nodeOrder(recording);
  const events = recording.events;
  const live = new Map<string, RaftState | null>(order.map((id) => [id, recording.initial[id] ?? null]));
  const patches: Patch[][] = [];
  const inverse: Patch[][] = [];
  let record = initialRecord(recording, order);
  const checkpoints: ClusterRecord[] = [record];
  const checks = recording.checks ?? [];
  const fingerprint = recording.fingerprint;
  let c = 0;
  const verify = (n: number): void => {
    while (c < checks.length && checks[c]!.after === n) {
      const k = checks[c++]!;
      const actual = fingerprint!(live.get(k.node) ?? null);
      if (actual !== k.expected) throw fingerprintError(n, k.node, k.expected, actual);
    }
  };
  verify(0);
  for (let i = 0; i < events.length; i++) {
    const n = i + 1;
    const r = events[i]!;
    const before = live.get(r.node) ?? null;
    const after = applyRecordedEvent(before, r, n, step);
    live.set(r.node, after);
    const [next, p, inv] = immer.produceWithPatches(record, (d) => {
      recordEvent(d as unknown as DraftRecord, n, r, before, after);
    });
    record = next;
    patches.push(p);
    inverse.push(inv);
    if (n % every === 0) checkpoints.push(record);
    verify(n);
  }
  return new RecordedTimeline(events, order, every, step, patches, inverse, checkpoints, record);
}

/** See `Timeline`. */
class RecordedTimeline implements Timeline {
  readonly length: number;
  private readonly known: Set<string>;
  private cached: ClusterRecord;

  constructor(
    private readonly events: readonly RecordedEvent[],
    readonly nodes: readonly string[],
    readonly checkpointEvery: number,
    private readonly step: StepFunction,
    /** The patches of event n at n - 1. */
    readonly patches: readonly (readonly Patch[])[],
    /** The inverse patches of event n at n - 1. */
    readonly inverse: readonly (readonly Patch[])[],
    /** The record at point i * checkpointEvery at i. */
    private readonly checkpoints: readonly ClusterRecord[],
    private readonly last: ClusterRecord,
  ) {
    this.length = events.length;
    this.known = new Set(nodes);
    this.cached = last;
  }

  /** Throw a RangeError unless `n` is a point (0..length). */
  checkPoint(n: number): void {
    if (!Number.isSafeInteger(n) || n < 0 || n > this.length) {
      throw new RangeError(`point ${String(n)} is out of range: the points are 0 (initial) to ${this.length}`);
    }
  }

  /** Throw a RangeError unless `n` is an event number (1..length). */
  private checkEvent(n: number): void {
    if (!Number.isSafeInteger(n) || n < 1 || n > this.length) {
      throw new RangeError(
        this.length === 0
          ? `event ${String(n)} is out of range: the recording has no events`
          : `event ${String(n)} is out of range: the events are 1 to ${this.length}`,
      );
    }
  }

  /** Throw an Error unless `node` is a node of the recording. */
  checkNode(node: string): void {
    if (!this.known.has(node)) {
      throw new Error(`the recording has no node ${JSON.stringify(node)} (it has ${this.nodes.join(', ') || 'none'})`);
    }
  }

  event(n: number): RecordedEvent {
    this.checkEvent(n);
    return this.events[n - 1]!;
  }

  record(n: number): ClusterRecord {
    this.checkPoint(n);
    if (this.cached.at === n) return this.cached;
    if (n === this.length) return (this.cached = this.last);
    const k = this.checkpointEvery;
    const c = Math.floor(n / k);
    const offset = n - c * k;
    const base = this.checkpoints[c]!;
    if (offset === 0) return base;
    const after = this.checkpoints[c + 1];
    const list: Patch[] = [];
    let from: ClusterRecord;
    if (after !== undefined && (c + 1) * k - n < offset) {
      for (let j = (c + 1) * k; j > n; j--) list.push(...this.inverse[j - 1]!);
      from = after;
    } else {
      for (let j = c * k + 1; j <= n; j++) list.push(...this.patches[j - 1]!);
      from = base;
    }
    return (this.cached = immer.applyPatches(from, list));
  }

  stateAt(n: number, node: string): RaftState | null {
    this.checkNode(node);
    return this.record(n).nodes[node] ?? null;
  }

  statesAt(n: number): Readonly<Record<string, RaftState | null>> {
    return this.record(n).nodes;
  }

  view(n: number): ClusterView {
    return clusterView(this.record(n), this.nodes);
  }

  changedNodes(n: number): readonly string[] {
    this.checkEvent(n);
    const t = nothingTouched();
    for (const p of this.patches[n - 1]!) touch(t, p.path);
    return this.nodes.filter((id) => t.fields.has(id) || t.status.has(id));
  }

  actionsOf(n: number): RaftActions {
    const r = this.event(n);
    if (isStepRecord(r)) {
      const before = this.stateAt(n - 1, r.node);
      if (before === null) return [];
      return this.step(before, r.event)[1];
    }
    const life = r.lifecycle;
    if (life.type === 'start') return startRecordedNode(r.node, life.options)[1];
    if (life.type === 'restart') return restartNode(life.persisted)[1];
    return [];
  }

  diff(a: number, b: number): TimelineDiff {
    this.checkPoint(a);
    this.checkPoint(b);
    const t = nothingTouched();
    for (let j = Math.min(a, b); j < Math.max(a, b); j++) for (const p of this.patches[j]!) touch(t, p.path);
    return diffRecords(this.record(a), this.record(b), t, this.nodes);
  }

  findFirst(predicate: ClusterPredicate, from = 0): number {
    if (typeof predicate !== 'function') throw new TypeError('findFirst: the predicate must be a function');
    const cursor = this.cursor(from);
    do {
      if (predicate(cursor.view(), cursor.record)) return cursor.position;
    } while (cursor.stepForward());
    return -1;
  }

  cursor(at = 0): TimelineCursor {
    return new Cursor(this, at);
  }

  /** The record after applying event `n`'s patches to `record` (the record at point n - 1). */
  forward(record: ClusterRecord, n: number): ClusterRecord {
    return immer.applyPatches(record, this.patches[n - 1]!);
  }

  /** The record after undoing event `n` from `record` (the record at point n). */
  backward(record: ClusterRecord, n: number): ClusterRecord {
    return immer.applyPatches(record, this.inverse[n - 1]!);
  }
}

/** See `TimelineCursor`. */
class Cursor implements TimelineCursor {
  private at: number;
  private current: ClusterRecord;

  constructor(
    private readonly timeline: RecordedTimeline,
    at: number,
  ) {
    this.current = timeline.record(at);
    this.at = at;
  }

  get position(): number {
    return this.at;
  }

  get record(): ClusterRecord {
    return this.current;
  }

  view(): ClusterView {
    return clusterView(this.current, this.timeline.nodes);
  }

  stateOf(node: string): RaftState | null {
    this.timeline.checkNode(node);
    return this.current.nodes[node] ?? null;
  }

  stepForward(): boolean {
    if (this.at >= this.timeline.length) return false;
    this.current = this.timeline.forward(this.current, ++this.at);
    return true;
  }

  stepBack(): boolean {
    if (this.at <= 0) return false;
    this.current = this.timeline.backward(this.current, this.at--);
    return true;
  }

  seek(n: number): void {
    this.current = this.timeline.record(n);
    this.at = n;
  }
}
