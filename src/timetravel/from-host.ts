/**
 * Host histories as recordings: a real cluster's run (the records `createHost`'s `onEvent` receives,
 * see `raftstep/host`'s `HostEventRecord`) explored with `createTimeline` like a simulated one.
 * Host records carry no network view and no fingerprints.
 *
 * This module imports only types (the host's record format, and the recording format) and runs in
 * browsers.
 */
import type { HostEventRecord } from '../host/event-log.js';
import type { RecordedEvent, Recording } from './recording.js';

/**
 * A time-travel recording of host records (of one host or several, collected in the order `onEvent`
 * was called): every node not running at first, each record as a step or a lifecycle change
 * (`start`, `restart`, `crash`) with its time relative to the first record. Records of an unknown
 * shape are taken as starts: pass only what `onEvent` gave.
 */
export function recordingFromHostEvents(records: readonly HostEventRecord[]): Recording {
  const t0 = records.length === 0 ? 0 : records[0]!.t;
  const initial: Record<string, null> = {};
  for (const node of new Set(records.map((r) => r.node))) initial[node] = null;
  const events = records.map((r): RecordedEvent => {
    const time = r.t - t0;
    if ('step' in r) return { node: r.node, event: r.step, time };
    if ('restart' in r) return { node: r.node, lifecycle: { type: 'restart', persisted: r.restart }, time };
    if ('crash' in r) return { node: r.node, lifecycle: { type: 'crash' }, time };
    const lifecycle =
      r.options === undefined ? { type: 'start' as const } : { type: 'start' as const, options: r.options };
    return { node: r.node, lifecycle, time };
  });
  return { initial, events, time: 0 };
}
