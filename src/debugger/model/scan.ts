/**
 * The debugger's one pass over a recording: it replays every event once with the recording's step
 * function (as `createTimeline` does, but without keeping patches) and keeps, per point, only what
 * the page draws for the whole run at once: each node's lane (phase, term, commit), the points to
 * jump to, the messages sent and delivered, every point's time, and the nodes' states every
 * `checkpointEvery` events (from which the timelines of `segments.ts` start). It verifies the
 * recording's fingerprints on the way, like `createTimeline`.
 */
import { latestConfigIndex, step as coreStep, type RaftActions, type RaftEvent, type RaftState } from '../../index.js';
import {
  applyRecordedEvent,
  isStepRecord,
  type NodeStatus,
  recordType,
  type RecordedEvent,
  type Recording,
  type StepFunction,
} from '../../timetravel/index.js';
import { LaneBuilder, phaseOf, type NodeLane } from './lanes.js';
import { MarkerBuilder, type Markers, type Notes } from './markers.js';
import { MessageTracker, type MessageIndex, type MessageTiming } from './messages.js';

/** Every node's state and status at one point (by node index), where a segment's timeline starts. */
export interface Checkpoint {
  /** The point. */
  readonly at: number;
  /** The time at that point (null: none known yet). */
  readonly time: number | null;
  /** Each node's state (null: not running). */
  readonly states: readonly (RaftState | null)[];
  /** Each node's status. */
  readonly status: readonly NodeStatus[];
}

/** What the pass keeps. Point `n` is the cluster right after event `n` (0: before the first). */
export interface Scan {
  /** Every node, initial ones first, then in order of first appearance (the timeline's order). */
  readonly nodes: readonly string[];
  /** The number of events. */
  readonly length: number;
  /** The time at every point (`times[n]`; 0 before any time is known). */
  readonly times: Float64Array;
  /** The index (in `nodes`) of the node of every event (`eventNode[n]`, n >= 1). */
  readonly eventNode: Uint16Array;
  /** Each node's lane, in node order. */
  readonly lanes: readonly NodeLane[];
  /** The points to jump to (violations are added by the model, which knows them). */
  readonly markers: Markers;
  /** What happened at some points, in words. */
  readonly notes: Notes;
  /** The messages inferred from the steps (see `messages.ts`). */
  readonly messages: MessageIndex;
  /** Every node's state at points 0, k, 2k, ... (k = `checkpointEvery`). */
  readonly checkpoints: readonly Checkpoint[];
  /** The distance between checkpoints. */
  readonly checkpointEvery: number;
}

/** How to scan. */
export interface ScanOptions {
  /** Keep every node's state every this many events (default 1024). */
  readonly checkpointEvery?: number;
  /** How the message tracker judges time (default: nothing is stale, drops drawn for the median delay). */
  readonly timing?: MessageTiming;
}

/** Every node of `recording`, initial ones first, then in order of first appearance. */
export function nodesOf(recording: Recording): string[] {
  const seen = new Set<string>(Object.keys(recording.initial));
  for (const e of recording.events) seen.add(e.node);
  return [...seen];
}

/** A node's status after the recorded event `r`. */
function statusAfter(r: RecordedEvent): NodeStatus {
  if (isStepRecord(r)) return 'up';
  const t = r.lifecycle.type;
  return t === 'crash' ? 'crashed' : t === 'shutdown' ? 'shutdown' : 'up';
}

/** The mismatch error for a fingerprint check after event `n`. */
function fingerprintError(n: number, node: string, expected: string, actual: string): Error {
  const where = n === 0 ? 'recording, before the first event' : `recording event ${n}`;
  return new Error(
    `${where}: the replayed state of ${node} does not match the recorded fingerprint (recorded ${expected}, replayed ${actual})`,
  );
}

/** The mutable state of one pass. */
class Pass {
  readonly nodes: string[];
  readonly index = new Map<string, number>();
  readonly live: (RaftState | null)[];
  readonly status: NodeStatus[];
  readonly lanes: LaneBuilder[];
  readonly markers = new MarkerBuilder();
  readonly messages: MessageTracker;
  readonly times: Float64Array;
  readonly eventNode: Uint16Array;
  readonly checkpoints: Checkpoint[] = [];
  readonly step: StepFunction;
  clusterCommit = 0;
  private check = 0;

  constructor(
    readonly recording: Recording,
    readonly every: number,
    timing: MessageTiming,
  ) {
    this.step = recording.step ?? coreStep;
    this.nodes = nodesOf(recording);
    this.nodes.forEach((id, k) => this.index.set(id, k));
    this.live = this.nodes.map((id) => recording.initial[id] ?? null);
    this.status = this.live.map((s) => (s === null ? 'notStarted' : 'up'));
    this.lanes = this.nodes.map((id, k) => new LaneBuilder(id, phaseOf(this.status[k]!, this.live[k]!), this.live[k]!));
    this.messages = new MessageTracker(timing);
    const length = recording.events.length;
    this.times = new Float64Array(length + 1);
    this.times[0] = recording.time ?? 0;
    this.eventNode = new Uint16Array(length + 1);
    this.clusterCommit = Math.max(0, ...this.live.map((s) => s?.commitIndex ?? 0));
    this.keep(0);
    this.verify(0);
  }

  /** Keep a checkpoint at point `n`. */
  keep(n: number): void {
    const time = n === 0 ? (this.recording.time ?? null) : this.times[n]!;
    this.checkpoints.push({ at: n, time, states: this.live.slice(), status: this.status.slice() });
  }

  /** Verify the recording's fingerprints taken after event `n`. */
  verify(n: number): void {
    const checks = this.recording.checks ?? [];
    while (this.check < checks.length && checks[this.check]!.after === n) {
      const c = checks[this.check++]!;
      const actual = this.recording.fingerprint!(this.live[this.index.get(c.node) ?? -1] ?? null);
      if (actual !== c.expected) throw fingerprintError(n, c.node, c.expected, actual);
    }
  }

  /** Replay event `n`. */
  apply(n: number, r: RecordedEvent): void {
    const k = this.index.get(r.node)!;
    const before = this.live[k]!;
    const time = r.time ?? this.times[n - 1]!;
    this.times[n] = time;
    this.eventNode[n] = k;
    let after: RaftState | null;
    let actions: RaftActions = [];
    if (isStepRecord(r)) {
      if (before === null) after = applyRecordedEvent(before, r, n, this.step);
      else [after, actions] = this.stepOnce(n, r, before);
      this.messages.received(n, time, r.node, r.event);
      if (after !== null) this.messages.stepped(n, time, r.node, after, actions);
    } else after = applyRecordedEvent(before, r, n, this.step);
    this.live[k] = after;
    const status = statusAfter(r);
    this.status[k] = status;
    this.lanes[k]!.note(n, phaseOf(status, after), after);
    this.mark(n, r, before, after);
    if (n % this.every === 0) this.keep(n);
    this.verify(n);
  }

  /** Step event `n` (`r`) from `before`; a step that throws is an Error naming the event. */
  private stepOnce(
    n: number,
    r: RecordedEvent & { event: RaftEvent },
    before: RaftState,
  ): readonly [RaftState, RaftActions] {
    try {
      return this.step(before, r.event);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      throw new Error(`recording event ${n} (${r.node}, ${recordType(r)}): step threw: ${why}`, { cause: err });
    }
  }

  /** Mark event `n` (`r`, taking its node from `before` to `after`) where it is worth a jump. */
  private mark(n: number, r: RecordedEvent, before: RaftState | null, after: RaftState | null): void {
    const m = this.markers;
    const id = r.node;
    if (!isStepRecord(r)) {
      const t = r.lifecycle.type;
      if (t === 'crash' || t === 'restart' || t === 'shutdown') m.mark('fault', n, `${id}: ${t}`);
      return;
    }
    if (after === null) return;
    if (after.role === 'leader' && before?.role !== 'leader') {
      m.mark('leader', n, `${id} became leader of term ${after.term}`);
    }
    if (after.halted !== null && before?.halted === null) m.mark('fault', n, `${id} halted: ${after.halted}`);
    if (after.commitIndex > this.clusterCommit) {
      m.mark('commit', n);
      this.clusterCommit = after.commitIndex;
    }
    const configIndex = latestConfigIndex(after);
    const grew = configIndex > (before === null ? 0 : latestConfigIndex(before));
    if ((grew && after.role === 'leader') || r.event.type === 'createCluster') {
      m.mark('config', n, `${id} appended a configuration entry at ${configIndex}`);
    }
  }
}

/** Replay `recording` once and keep what the debugger draws for the whole run (see the module comment). */
export function scanRecording(recording: Recording, options: ScanOptions = {}): Scan {
  const every = Math.max(1, Math.floor(options.checkpointEvery ?? 1024));
  const timing = options.timing ?? { staleAfter: Infinity, dropShownFor: null };
  const pass = new Pass(recording, every, timing);
  const events = recording.events;
  for (let i = 0; i < events.length; i++) pass.apply(i + 1, events[i]!);
  const { markers, notes } = pass.markers.build();
  return {
    nodes: pass.nodes,
    length: events.length,
    times: pass.times,
    eventNode: pass.eventNode,
    lanes: pass.lanes.map((l) => l.lane()),
    markers,
    notes,
    messages: pass.messages.finish(events.length, pass.times),
    checkpoints: pass.checkpoints,
    checkpointEvery: every,
  };
}
