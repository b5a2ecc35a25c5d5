/**
 * Time travel over a long recording in segments. A timeline of the whole recording costs one immer
 * `produceWithPatches` per event up front (seconds for 100,000 events); the debugger instead builds
 * the timeline of one segment at a time — `createTimeline` over the events `(k·S, (k+1)·S]`,
 * starting from every node's state at point `k·S`, which the scan kept — when the page first looks
 * at it, and keeps the last few built. Within a segment, everything is the timeline's own: views,
 * records, diffs, actions, and a cursor that steps back by inverse patches.
 *
 * A segment's recording starts with the checkpoint's states as its initial states, then one
 * lifecycle record (`crash` or `shutdown`) per node that is down at the checkpoint, so that its
 * statuses are the whole timeline's; its point `prelude + j` is the whole recording's point `k·S + j`.
 */
import type { RaftActions } from '../../index.js';
import {
  createTimeline,
  type ClusterRecord,
  type ClusterView,
  type RecordedEvent,
  type Recording,
  type Timeline,
  type TimelineCursor,
  type TimelineDiff,
} from '../../timetravel/index.js';
import type { Checkpoint, Scan } from './scan.js';

/** What the segments are cut from: the recording and the scan's checkpoints. */
export interface SegmentSource {
  readonly recording: Recording;
  readonly scan: Pick<Scan, 'nodes' | 'length' | 'checkpoints' | 'checkpointEvery'>;
}

/** One built segment: its timeline, and where its points start. */
interface Segment {
  readonly k: number;
  /** The whole recording's point at the segment's start (`k·S`). */
  readonly base: number;
  /** The number of lifecycle records before the segment's first event. */
  readonly prelude: number;
  readonly timeline: Timeline;
}

/** The recording of segment `k`: the checkpoint's states, the prelude, then the segment's events. */
function segmentRecording(source: SegmentSource, checkpoint: Checkpoint, end: number): Recording {
  const { nodes } = source.scan;
  const initial: Record<string, NonNullable<Checkpoint['states'][number]> | null> = {};
  const prelude: RecordedEvent[] = [];
  nodes.forEach((id, i) => {
    initial[id] = checkpoint.states[i] ?? null;
    const status = checkpoint.status[i];
    if (status === 'crashed') prelude.push({ node: id, lifecycle: { type: 'crash' } });
    else if (status === 'shutdown') prelude.push({ node: id, lifecycle: { type: 'shutdown' } });
  });
  const events = prelude.concat(source.recording.events.slice(checkpoint.at, end));
  return {
    initial,
    events,
    ...(source.recording.step !== undefined ? { step: source.recording.step } : {}),
    ...(checkpoint.time !== null ? { time: checkpoint.time } : {}),
  };
}

/** Time travel over a recording, one segment's timeline at a time (see the module comment). */
export class SegmentedTimeline {
  /** The number of events; the points are 0..length. */
  readonly length: number;
  /** Every node, in the whole timeline's order. */
  readonly nodes: readonly string[];
  /** Events per segment. */
  readonly size: number;
  private readonly cache = new Map<number, Segment>();

  /** Segments over `source`; at most `keep` built segments are kept (default 8). */
  constructor(
    private readonly source: SegmentSource,
    private readonly keep = 8,
  ) {
    this.length = source.scan.length;
    this.nodes = source.scan.nodes;
    this.size = source.scan.checkpointEvery;
  }

  /** The number of segments (at least one, even for a recording without events). */
  get count(): number {
    return Math.max(1, Math.ceil(this.length / this.size));
  }

  /** True when segment `k` is built and kept. */
  isBuilt(k: number): boolean {
    return this.cache.has(k);
  }

  /** The segment that holds point `p` (a point on a boundary belongs to the segment it starts). */
  segmentOf(p: number): number {
    this.checkPoint(p);
    return Math.min(Math.floor(p / this.size), this.count - 1);
  }

  /** Segment `k`, built now unless kept (and then the most recently used). */
  segment(k: number): Segment {
    const kept = this.cache.get(k);
    if (kept !== undefined) {
      this.cache.delete(k);
      this.cache.set(k, kept);
      return kept;
    }
    const checkpoint = this.source.scan.checkpoints[k];
    if (checkpoint === undefined) throw new RangeError(`segment ${k} is out of range (0..${this.count - 1})`);
    const end = Math.min(this.length, checkpoint.at + this.size);
    const recording = segmentRecording(this.source, checkpoint, end);
    const prelude = recording.events.length - (end - checkpoint.at);
    const built: Segment = { k, base: checkpoint.at, prelude, timeline: createTimeline(recording) };
    this.cache.set(k, built);
    while (this.cache.size > this.keep) this.cache.delete(this.cache.keys().next().value!);
    return built;
  }

  /** The cluster record at point `p` (its `at` is the segment's own point; see `view`). */
  record(p: number): ClusterRecord {
    const s = this.segment(this.segmentOf(p));
    return s.timeline.record(s.prelude + p - s.base);
  }

  /** The readable view of the cluster at point `p`, numbered as in the whole recording. */
  view(p: number): ClusterView {
    const s = this.segment(this.segmentOf(p));
    return { ...s.timeline.view(s.prelude + p - s.base), at: p };
  }

  /** What differs between points `a` and `b`, at most one segment apart (e.g. `diff(n - 1, n)`). */
  diff(a: number, b: number): TimelineDiff {
    this.checkPoint(a);
    this.checkPoint(b);
    const lo = Math.min(a, b);
    const hi = Math.max(a, b);
    const k = Math.min(Math.floor(lo / this.size), this.count - 1);
    const s = this.segment(k);
    if (hi > s.base + this.size) {
      throw new RangeError(`diff(${a}, ${b}): the points are more than one segment (${this.size} events) apart`);
    }
    const d = s.timeline.diff(s.prelude + a - s.base, s.prelude + b - s.base);
    return { ...d, from: a, to: b };
  }

  /** The actions the step of event `n` (1..length) returned (see `Timeline.actionsOf`). */
  actionsOf(n: number): RaftActions {
    this.checkEvent(n);
    const s = this.segment(Math.floor((n - 1) / this.size));
    return s.timeline.actionsOf(s.prelude + n - s.base);
  }

  /** Event `n` (1..length) as recorded. */
  event(n: number): RecordedEvent {
    this.checkEvent(n);
    return this.source.recording.events[n - 1]!;
  }

  /** A cursor at point `at` that moves one event at a time across segments. */
  cursor(at = 0): SegmentCursor {
    return new SegmentCursor(this, at);
  }

  /** Throw a RangeError unless `p` is a point (0..length). */
  checkPoint(p: number): void {
    if (!Number.isSafeInteger(p) || p < 0 || p > this.length) {
      throw new RangeError(`point ${String(p)} is out of range: the points are 0 (initial) to ${this.length}`);
    }
  }

  /** Throw a RangeError unless `n` is an event (1..length). */
  private checkEvent(n: number): void {
    if (!Number.isSafeInteger(n) || n < 1 || n > this.length) {
      throw new RangeError(`event ${String(n)} is out of range: the events are 1 to ${this.length}`);
    }
  }
}

/**
 * A position that moves one event at a time: within a segment it is that segment's timeline
 * cursor (a step back applies one event's inverse patches); at a boundary it moves into the next
 * or previous segment's timeline.
 */
export class SegmentCursor {
  private k: number;
  private base: number;
  private prelude: number;
  private inner: TimelineCursor;

  constructor(
    private readonly timeline: SegmentedTimeline,
    at: number,
  ) {
    this.k = -1;
    this.base = 0;
    this.prelude = 0;
    this.inner = this.enter(timeline.segmentOf(at), at);
  }

  /** The point the cursor is at. */
  get position(): number {
    return this.base + this.inner.position - this.prelude;
  }

  /** The cluster record at the cursor. */
  get record(): ClusterRecord {
    return this.inner.record;
  }

  /** The readable view at the cursor, numbered as in the whole recording. */
  view(): ClusterView {
    return { ...this.inner.view(), at: this.position };
  }

  /** Move to the next point; false at the end. */
  stepForward(): boolean {
    const p = this.position;
    if (p >= this.timeline.length) return false;
    if (p - this.base >= this.timeline.size) this.inner = this.enter(this.k + 1, p);
    return this.inner.stepForward();
  }

  /** Move to the previous point; false at point 0. */
  stepBack(): boolean {
    const p = this.position;
    if (p <= 0) return false;
    if (p === this.base) this.inner = this.enter(this.k - 1, p);
    return this.inner.stepBack();
  }

  /** Move to point `p`. */
  seek(p: number): void {
    const k = this.timeline.segmentOf(p);
    if (k === this.k) this.inner.seek(this.prelude + p - this.base);
    else this.inner = this.enter(k, p);
  }

  /** Enter segment `k` at point `p` (which it holds). */
  private enter(k: number, p: number): TimelineCursor {
    const s = this.timeline.segment(k);
    this.k = k;
    this.base = s.base;
    this.prelude = s.prelude;
    return s.timeline.cursor(s.prelude + p - s.base);
  }
}
