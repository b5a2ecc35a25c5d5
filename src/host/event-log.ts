/**
 * Host event records: what `createHost`'s `onEvent` hook receives, one record per thing that
 * happened to the node, in the simulator's trace format — so a real cluster's run can be replayed
 * and time-travelled like a simulated one.
 *
 *     {"n":1,"t":1712...,"node":"n1","start":true}                 startNode (fresh storage)
 *     {"n":1,"t":1712...,"node":"n1","restart":{...persisted...}}  restartNode (from storage)
 *     {"n":2,"t":1712...,"node":"n1","step":{...the event...}}     every event stepped, as stepped
 *     {"n":9,"t":1712...,"node":"n1","crash":true}                 the host stopped (any reason)
 *
 * `n` counts the records of one host from 1; `t` is the host clock's `now()`. The node's state
 * changes only through these records: replaying them through `startNode`/`restartNode` and `step`
 * gives the node's state after each one exactly (the host uses the real `step`).
 *
 * To replay a cluster, collect the records of every host into one array in the order `onEvent` is
 * called (hosts of one process share one thread, so that order is the order of the steps), then:
 * - `traceFromHostEvents(records)`: a simulator `Trace` (renumbered 1, 2, 3, ...; times relative
 *   to the first record), for `serializeTrace`, `replayTrace` and `TimeTravel` of `raftstep/sim`;
 * - `recordingFromHostEvents(records)`: a `Recording` for `createTimeline` of `raftstep/timetravel`.
 * Hosts in different processes each give their own node's history (merge by `t` for a rough
 * cluster view: clocks of different machines are not comparable exactly).
 *
 * This module imports only types (from the core, the simulator's trace format and time travel's
 * recording format) and runs in browsers.
 */
import type { NodeOptions, PersistedState, RaftEvent } from '../index.js';
import type { Trace, TraceEvent } from '../sim/trace.js';
import type { RecordedEvent, Recording } from '../timetravel/recording.js';

interface HostEventBase {
  /** The record's number: 1 for the first record of a host, then one more for each. */
  readonly n: number;
  /** The host clock's time when it happened, in milliseconds. */
  readonly t: number;
  /** The node's id. */
  readonly node: string;
}

/** One thing that happened to a host's node (see the module comment). */
export type HostEventRecord =
  | (HostEventBase & { readonly start: true; readonly options?: Partial<NodeOptions> })
  | (HostEventBase & { readonly restart: PersistedState })
  | (HostEventBase & { readonly step: RaftEvent })
  | (HostEventBase & { readonly crash: true });

/** The first record's time (0 for no records). */
function originOf(records: readonly HostEventRecord[]): number {
  return records.length === 0 ? 0 : records[0]!.t;
}

/** The nodes the records mention, in order of first appearance. */
function nodesOf(records: readonly HostEventRecord[]): string[] {
  const seen = new Set<string>();
  for (const r of records) seen.add(r.node);
  return [...seen];
}

/**
 * A simulator trace of host records (of one host or several, in the order they happened): every
 * node not running at first, the records renumbered from 1 with times relative to the first
 * record, no fingerprints, no end line. `seed` goes in the header (default 0).
 */
export function traceFromHostEvents(records: readonly HostEventRecord[], seed = 0): Trace {
  const t0 = originOf(records);
  const events: TraceEvent[] = records.map((r, i): TraceEvent => {
    const base = { n: i + 1, t: r.t - t0, node: r.node };
    if ('step' in r) return { ...base, step: r.step };
    if ('restart' in r) return { ...base, restart: r.restart };
    if ('crash' in r) return { ...base, crash: true };
    return r.options === undefined ? { ...base, start: true } : { ...base, start: true, options: r.options };
  });
  return {
    header: { type: 'header', format: 'raftstep-sim-trace', version: 2, seed, options: null, nodes: nodesOf(records) },
    events,
    checks: [],
    end: null,
  };
}

/**
 * A time-travel recording of host records (of one host or several, in the order they happened):
 * every node not running at first, each record as a step or a lifecycle change (`start`, `restart`,
 * `crash`) with its time relative to the first record.
 */
export function recordingFromHostEvents(records: readonly HostEventRecord[]): Recording {
  const t0 = originOf(records);
  const initial: Record<string, null> = {};
  for (const node of nodesOf(records)) initial[node] = null;
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
