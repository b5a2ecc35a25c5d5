/**
 * Host histories as simulator traces: a real cluster's run (the records `createHost`'s `onEvent`
 * receives, see `raftstep/host`'s `HostEventRecord`) replayed and inspected like a simulated one.
 *
 * This module imports the host's record format (a type) and the trace format, and runs in browsers.
 */
import type { HostEventRecord } from '../host/event-log.js';
import { TRACE_FORMAT, TRACE_VERSION, type Trace, type TraceEvent } from './trace.js';

/**
 * A simulator trace of host records (of one host or several, collected in the order `onEvent` was
 * called): every node not running at first, the records renumbered from 1 with times relative to
 * the first record, no fingerprints, no end line; for `serializeTrace` and `replayTrace`, and
 * `recordingFromTrace` of `raftstep/timetravel`. `seed` goes in the header (default 0). Records of
 * an unknown shape are taken as starts: pass only what `onEvent` gave.
 */
export function traceFromHostEvents(records: readonly HostEventRecord[], seed = 0): Trace {
  const t0 = records.length === 0 ? 0 : records[0]!.t;
  const events: TraceEvent[] = records.map((r, i): TraceEvent => {
    const base = { n: i + 1, t: r.t - t0, node: r.node };
    if ('step' in r) return { ...base, step: r.step };
    if ('restart' in r) return { ...base, restart: r.restart };
    if ('crash' in r) return { ...base, crash: true };
    return r.options === undefined ? { ...base, start: true } : { ...base, start: true, options: r.options };
  });
  const nodes = [...new Set(records.map((r) => r.node))];
  return {
    header: { type: 'header', format: TRACE_FORMAT, version: TRACE_VERSION, seed, options: null, nodes },
    events,
    checks: [],
    end: null,
  };
}
