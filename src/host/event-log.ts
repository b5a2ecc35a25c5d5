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
 * called (hosts of one process share one thread, so that order is the order of the steps), then
 * convert them in the layer that replays: `traceFromHostEvents(records)` of `raftstep/sim` gives a
 * simulator trace (for `serializeTrace`, `replayTrace`, `npm run sim -- --replay`), and
 * `recordingFromHostEvents(records)` of `raftstep/timetravel` a recording for `createTimeline`.
 * Hosts in different processes each give their own node's history (merge by `t` for a rough
 * cluster view: clocks of different machines are not comparable exactly).
 *
 * This module imports only the core's types and runs in browsers.
 */
import type { NodeOptions, PersistedState, RaftEvent } from '../index.js';

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
  | (HostEventBase & {
      /** The host started its node with `startNode` (its storage was fresh). */
      readonly start: true;
      /** The host's `options`, given to `startNode`; absent when the host was given none. */
      readonly options?: Partial<NodeOptions>;
    })
  | (HostEventBase & {
      /** The host restarted its node from storage: the persisted state given to `restartNode`. */
      readonly restart: PersistedState;
    })
  | (HostEventBase & {
      /** An event the host stepped, exactly as stepped (invalid ones included). */
      readonly step: RaftEvent;
    })
  | (HostEventBase & {
      /** The host stopped, for any reason (`stop()` included; see `HaltInfo`): its node is down. */
      readonly crash: true;
    });
