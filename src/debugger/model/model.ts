/**
 * A trace, ready for the page: read (`parseTrace`, hash chain verified), made a recording, scanned
 * once (lanes, markers, messages, checkpoints; fingerprints verified) and cut into segments for
 * time travel. The network history (partitions, slow nodes) comes later, from a worker, and is
 * added with `withNetwork`.
 */
import type { SimOptions } from '../../sim/options.js';
import { hashState } from '../../sim/hash.js';
import { parseTrace, type Trace } from '../../sim/trace.js';
import type { Violation } from '../../sim/violation.js';
import { checkRecording, recordingFromTrace, type Recording } from '../../timetravel/index.js';
import { addNote, withPoints, type Markers, type Notes } from './markers.js';
import type { MessageTiming } from './messages.js';
import { networkFaultPoints, type NetworkHistory } from './network.js';
import { scanRecording, type Scan } from './scan.js';
import { SegmentedTimeline } from './segments.js';

/** A trace ready to look at. */
export interface TraceModel {
  /** The trace as read. */
  readonly trace: Trace;
  /** Its recording (the events as the timelines take them). */
  readonly recording: Recording;
  /** What the one pass kept. */
  readonly scan: Scan;
  /** Time travel, segment by segment. */
  readonly timeline: SegmentedTimeline;
  /** The points to jump to, violations and (once known) network faults included. */
  readonly markers: Markers;
  /** What happened at some points, in words. */
  readonly notes: Notes;
  /** The violation the run stopped on, if any. */
  readonly violation: Violation | null;
  /** What the network did, once known (null: not known, or not yet). */
  readonly network: NetworkHistory | null;
}

/** How to load a trace. */
export interface LoadOptions {
  /** Events per segment (and between the scan's checkpoints); default 1024. */
  readonly segmentSize?: number;
}

/** How long messages take in a run with `options` (unknown timing without them). */
export function timingOf(options: SimOptions | null): MessageTiming {
  if (options === null) return { staleAfter: Infinity, dropShownFor: null };
  const t = options.timing;
  const slowest = t.latencyMax + t.reorderDelay + options.slowQueue * t.slowServiceMax + t.storageMax;
  return { staleAfter: Math.max(slowest, t.snapshotMax + t.storageMax), dropShownFor: t.latencyMax };
}

/** The violation of a trace's end line, when it names one in the shape the simulator writes. */
export function violationOf(trace: Trace): Violation | null {
  const v = trace.end?.violation as Partial<Violation> | null | undefined;
  if (v === null || v === undefined || typeof v !== 'object') return null;
  if (typeof v.event !== 'number' || !Array.isArray(v.nodes) || typeof v.invariant !== 'string') return null;
  return v as Violation;
}

/** Notes and markers of `scan` with the violation added. */
function withViolation(scan: Scan, violation: Violation | null): { markers: Markers; notes: Notes } {
  if (violation === null) return { markers: scan.markers, notes: scan.notes };
  const at = Math.min(Math.max(0, violation.event), scan.length);
  const notes = new Map(scan.notes);
  addNote(notes as Map<number, string[]>, at, `VIOLATION ${violation.invariant}: ${violation.message}`);
  return { markers: withPoints(scan.markers, 'violation', [at]), notes };
}

/**
 * Build the model of an already parsed trace: check the recording's shape, replay it once
 * (verifying its fingerprints), and cut it into segments. Throws an Error naming the event of a
 * problem.
 */
export function modelOfTrace(trace: Trace, options: LoadOptions = {}): TraceModel {
  const recording = recordingFromTrace(trace, { verify: false });
  checkRecording(recording);
  const checks = trace.checks.map((c) => ({ after: c.check, node: c.node, expected: c.hash }));
  if (trace.end !== null) {
    for (const [node, expected] of Object.entries(trace.end.hashes)) {
      checks.push({ after: recording.events.length, node, expected });
    }
  }
  const scan = scanRecording(
    { ...recording, checks, fingerprint: hashState },
    { checkpointEvery: options.segmentSize ?? 1024, timing: timingOf(trace.header.options) },
  );
  const timeline = new SegmentedTimeline({ recording, scan });
  const violation = violationOf(trace);
  const { markers, notes } = withViolation(scan, violation);
  return { trace, recording, scan, timeline, markers, notes, violation, network: null };
}

/** Read trace text (see `parseTrace`) and build its model; throws an Error naming the problem. */
export function loadTrace(text: string, options: LoadOptions = {}): TraceModel {
  return modelOfTrace(parseTrace(text), options);
}

/** `model` with what its network did: fault markers where cuts and slow nodes began and ended, happenings as notes. */
export function withNetwork(model: TraceModel, history: NetworkHistory): TraceModel {
  const notes = new Map(model.notes) as Map<number, string[]>;
  for (const h of history.happenings) {
    const at = Math.min(h.event, model.scan.length);
    const known = notes.get(at);
    if (known === undefined || !known.includes(h.text)) addNote(notes, at, h.text);
  }
  const markers = withPoints(model.markers, 'fault', networkFaultPoints(history));
  return { ...model, markers, notes, network: history };
}
