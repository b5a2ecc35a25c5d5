/**
 * The simulator's traces as recordings. A trace records, per event, the node, the virtual time and
 * what happened (a step with its event, a start, a restart with the persisted state, a crash, a
 * shutdown), and fingerprints of the states every few steps; it does not record the network
 * (messages in flight, cut links), so timelines of traces have no network view.
 *
 * Reading a trace file verifies its hash chain (`parseTrace`, the simulator's); building a timeline
 * from the recording made here also verifies every fingerprint the trace holds, as `replayTrace`
 * does, in the same single replay.
 */
import { hashState } from '../sim/hash.js';
import { stepFor } from '../sim/mutants.js';
import { parseTrace, type Trace, type TraceEvent } from '../sim/trace.js';
import type { Lifecycle, RecordedEvent, Recording, RecordingCheck } from './recording.js';

/** How to read a trace as a recording. */
export interface TraceRecordingOptions {
  /**
   * Verify the trace's fingerprints while the timeline replays (default true): a mismatch is an
   * Error naming the event and node. Turn off only to look at a run replayed with another step.
   */
  readonly verify?: boolean;
}

/** The lifecycle change a non-step trace event records (null for a step). */
function lifecycleOf(e: TraceEvent): Lifecycle | null {
  if ('step' in e) return null;
  if ('start' in e) {
    // Traces record the node options a node started with (when the run gave any).
    const options = (e as { options?: unknown }).options;
    return typeof options === 'object' && options !== null ? { type: 'start', options } : { type: 'start' };
  }
  if ('restart' in e) return { type: 'restart', persisted: e.restart };
  if ('crash' in e) return { type: 'crash' };
  if ('shutdown' in e) return { type: 'shutdown' };
  throw new Error(`trace event ${String((e as { n?: unknown }).n)}: not a step, start, restart, crash or shutdown`);
}

/** The recorded event of trace event `e`, the `i`-th (from 0); throws when it is not numbered i + 1. */
function recordedEventOf(e: TraceEvent, i: number): RecordedEvent {
  if (e.n !== i + 1) {
    throw new Error(`trace event ${i + 1} is numbered ${String(e.n)} (events are numbered 1, 2, 3, ... in order)`);
  }
  const life = lifecycleOf(e);
  return life === null && 'step' in e
    ? { node: e.node, event: e.step, time: e.t }
    : { node: e.node, lifecycle: life!, time: e.t };
}

/** The fingerprints of `trace` as checks: the checkpoints, then every final one after the last event. */
function checksOf(trace: Trace): RecordingCheck[] {
  const checks: RecordingCheck[] = trace.checks.map((c) => ({ after: c.check, node: c.node, expected: c.hash }));
  if (trace.end !== null) {
    const last = trace.events.length;
    for (const [node, expected] of Object.entries(trace.end.hashes)) checks.push({ after: last, node, expected });
  }
  return checks;
}

/**
 * The recording of a simulator trace (parsed with `parseTrace`, or taken from a `SimResult`):
 * every node of the header not running at first, the events with their virtual times, the step
 * function of the run (`stepFor(options)`: a mutant's when the run had one), and the trace's
 * fingerprints as checks unless `verify` is false. Throws an Error naming the event for events that
 * are not numbered 1, 2, 3, ... or are not of a known kind.
 */
export function recordingFromTrace(trace: Trace, options: TraceRecordingOptions = {}): Recording {
  const initial: Record<string, null> = {};
  for (const id of trace.header.nodes) initial[id] = null;
  const events = trace.events.map(recordedEventOf);
  const verify = options.verify !== false;
  return {
    initial,
    events,
    step: stepFor(trace.header.options),
    ...(verify ? { checks: checksOf(trace), fingerprint: hashState } : {}),
  };
}

/**
 * The recording of a trace file's text: `parseTrace(text)` (which refuses, with a SyntaxError
 * naming the line, text that is not a trace or whose hash chain breaks), then `recordingFromTrace`.
 */
export function recordingFromTraceText(text: string, options: TraceRecordingOptions = {}): Recording {
  return recordingFromTrace(parseTrace(text), options);
}
