/**
 * Everything the page shows about one point, gathered in one place: the cluster (through the
 * segmented timeline's cursor, which steps one event in constant time), the event and its actions,
 * the difference it made, the messages in flight, and the network's partitions and slow nodes.
 */
import type { RaftActions, RaftState } from '../../index.js';
import { pausedFollowers } from '../../flow-control.js';
import type { ClusterRecord, ClusterView, RecordedEvent, TimelineDiff } from '../../timetravel/index.js';
import type { FlightMessage } from '../model/messages.js';
import type { TraceModel } from '../model/model.js';
import { cutsAt, partitionedAt, partitionedNodes, slowAt, type CutSpan } from '../model/network.js';
import type { SegmentCursor } from '../model/segments.js';

/** What the page shows at one point. */
export interface PointData {
  /** The point. */
  readonly point: number;
  /** The time at the point (0 before any is known). */
  readonly time: number;
  /** The cluster, readable. */
  readonly view: ClusterView;
  /** The cluster's full record (states and statuses). */
  readonly record: ClusterRecord;
  /** The event that led here (null at point 0). */
  readonly event: RecordedEvent | null;
  /** Its actions (recomputed from the state before it). */
  readonly actions: RaftActions;
  /** What it changed (`timeline.diff(point - 1, point)`; null at point 0). */
  readonly diff: TimelineDiff | null;
  /** The messages in flight. */
  readonly flights: readonly FlightMessage[];
  /** The messages this event delivered. */
  readonly delivered: readonly FlightMessage[];
  /** The messages this event sent. */
  readonly sent: readonly FlightMessage[];
  /** The cuts in force (empty when the network is not known). */
  readonly cuts: readonly CutSpan[];
  /** Each node some cut touches, with the nodes it is cut from (either way). */
  readonly cutFrom: ReadonlyMap<string, ReadonlySet<string>>;
  /** The nodes on the wrong side of a partition: cut from at least half of the others the cuts touch. */
  readonly partitioned: ReadonlySet<string>;
  /** The slow nodes. */
  readonly slow: ReadonlySet<string>;
  /** Followers a leader's flow control holds back (paused), with their leader. */
  readonly paused: ReadonlyMap<string, string>;
  /** What happened here, in words. */
  readonly notes: readonly string[];
  /** The nodes to highlight: the violation's, at the violation's point. */
  readonly highlighted: ReadonlySet<string>;
}

/** The followers paused by flow control of every leader in `record`, with their leader. */
function pausedIn(record: ClusterRecord, leaders: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const id of leaders) {
    const s = record.nodes[id] as RaftState | null | undefined;
    if (s === null || s === undefined || s.role !== 'leader') continue;
    for (const slot of pausedFollowers(s, s.progress) ?? []) out.set(s.progress.peers[slot]!, id);
  }
  return out;
}

/** Move `cursor` to `p`: one event forward or back by the timeline's patches, else a seek. */
export function moveCursor(cursor: SegmentCursor, p: number): void {
  const at = cursor.position;
  if (p === at) return;
  if (p === at + 1) cursor.stepForward();
  else if (p === at - 1) cursor.stepBack();
  else cursor.seek(p);
}

/** Gather what the page shows at point `p`, moving `cursor` there. */
export function pointData(model: TraceModel, cursor: SegmentCursor, p: number): PointData {
  moveCursor(cursor, p);
  const { timeline, scan, network, violation } = model;
  const view = cursor.view();
  const record = cursor.record;
  const messages = scan.messages;
  const cutFrom = network === null ? new Map<string, Set<string>>() : partitionedAt(network, p);
  return {
    point: p,
    time: scan.times[p] ?? 0,
    view,
    record,
    event: p === 0 ? null : timeline.event(p),
    actions: p === 0 ? [] : timeline.actionsOf(p),
    diff: p === 0 ? null : timeline.diff(p - 1, p),
    flights: messages.inFlightAt(p),
    delivered: p === 0 ? [] : messages.deliveredBy(p),
    sent: p === 0 ? [] : messages.sentBy(p),
    cuts: network === null ? [] : cutsAt(network, p),
    cutFrom,
    partitioned: partitionedNodes(cutFrom),
    slow: network === null ? new Set() : slowAt(network, p),
    paused: pausedIn(record, view.leaders),
    notes: model.notes.get(p) ?? [],
    highlighted: new Set(violation !== null && violation.event === p ? violation.nodes : []),
  };
}
