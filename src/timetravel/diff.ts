/**
 * Differences between two points of a timeline: which nodes changed, and per node which fields,
 * with their values at both points. The candidates come from the patches of the events in between
 * (what they touched); a candidate is reported only when its values at the two points differ, so a
 * field that changed and changed back is not a difference.
 */
import type { NetworkSnapshot } from './recording.js';
import type { ClusterRecord, NodeStatus } from './view.js';

/** One field of a node's state that differs: its value at the first point and at the second. */
export interface FieldChange {
  /** The field's name in the state (`term`, `role`, `log`, `metrics`, ...). */
  readonly field: string;
  /** The value at the first point (undefined when the node was not running there). */
  readonly before: unknown;
  /** The value at the second point (undefined when the node is not running there). */
  readonly after: unknown;
}

/** A value at two points. */
export interface Change<T> {
  /** The value at the first point. */
  readonly before: T;
  /** The value at the second point. */
  readonly after: T;
}

/** How one node differs between the two points. */
export interface NodeDiff {
  /** The node's id. */
  readonly id: string;
  /** Its status at both points, or null when it is the same. */
  readonly status: Change<NodeStatus> | null;
  /**
   * The fields of its state that differ, in the state's field order. A node that is not running at
   * one of the points has no fields there: every field of the other side is listed.
   */
  readonly fields: readonly FieldChange[];
}

/** What differs between point `from` and point `to` (either may be the later one). */
export interface TimelineDiff {
  /** The first point (the `before` side). */
  readonly from: number;
  /** The second point (the `after` side). */
  readonly to: number;
  /** The nodes that differ, in the timeline's node order (empty: nothing differs). */
  readonly nodes: readonly NodeDiff[];
  /** The time at both points, or null when it is the same. */
  readonly time: Change<number | null> | null;
  /** The recorded network at both points, or null when it is the same. */
  readonly network: Change<NetworkSnapshot | null> | null;
}

/** A path into a cluster record, as an immer patch gives it. */
export type RecordPath = readonly (string | number)[];

/** What a run of events touched in a cluster record, read from their patches' paths. */
export interface Touched {
  /** Node id → the fields touched, or 'all' when the whole state was replaced. */
  readonly fields: Map<string, Set<string> | 'all'>;
  /** The nodes whose status was touched. */
  readonly status: Set<string>;
  /** Whether the time was touched. */
  time: boolean;
  /** Whether the network was touched. */
  network: boolean;
}

/** An empty `Touched`. */
export function nothingTouched(): Touched {
  return { fields: new Map(), status: new Set(), time: false, network: false };
}

/** Add what the patch at `path` touches to `t`. */
export function touch(t: Touched, path: RecordPath): void {
  const [top, id, field] = path;
  if (top === 'time') t.time = true;
  else if (top === 'network') t.network = true;
  else if (top === 'status' && id !== undefined) t.status.add(String(id));
  else if (top === 'nodes' && id !== undefined) {
    const key = String(id);
    const known = t.fields.get(key);
    if (field === undefined) t.fields.set(key, 'all');
    else if (known === undefined) t.fields.set(key, new Set([String(field)]));
    else if (known !== 'all') known.add(String(field));
  }
}

/** Deep equality of plain JSON-like values (objects, arrays, primitives). */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!deepEqual(a[i], b[i])) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  const ra = a as Record<string, unknown>;
  const rb = b as Record<string, unknown>;
  for (const k of ka) {
    if (!Object.prototype.hasOwnProperty.call(rb, k) || !deepEqual(ra[k], rb[k])) return false;
  }
  return true;
}

/** The fields of two states to compare: those touched, or every field of either when `all`. */
function candidateFields(
  touched: Set<string> | 'all',
  before: Record<string, unknown> | null,
  after: Record<string, unknown> | null,
): string[] {
  const all = new Set<string>([...Object.keys(after ?? {}), ...Object.keys(before ?? {})]);
  if (touched === 'all' || before === null || after === null) return [...all];
  return [...all].filter((k) => touched.has(k));
}

/** The field changes of one node between two records. */
function fieldChanges(
  touched: Set<string> | 'all' | undefined,
  before: Record<string, unknown> | null,
  after: Record<string, unknown> | null,
): FieldChange[] {
  if (touched === undefined || before === after) return [];
  const out: FieldChange[] = [];
  for (const field of candidateFields(touched, before, after)) {
    const b = before === null ? undefined : before[field];
    const a = after === null ? undefined : after[field];
    if (!deepEqual(b, a)) out.push({ field, before: b, after: a });
  }
  return out;
}

/**
 * The difference between the records `a` and `b`, given what the events between them touched and
 * the node order. Pure.
 */
export function diffRecords(
  a: ClusterRecord,
  b: ClusterRecord,
  touched: Touched,
  order: readonly string[],
): TimelineDiff {
  const nodes: NodeDiff[] = [];
  for (const id of order) {
    const before = (a.nodes[id] ?? null) as Record<string, unknown> | null;
    const after = (b.nodes[id] ?? null) as Record<string, unknown> | null;
    const fields = fieldChanges(touched.fields.get(id), before, after);
    const sb = a.status[id];
    const sa = b.status[id];
    const status =
      touched.status.has(id) && sb !== undefined && sa !== undefined && sb !== sa ? { before: sb, after: sa } : null;
    if (fields.length > 0 || status !== null) nodes.push({ id, status, fields });
  }
  const time = touched.time && a.time !== b.time ? { before: a.time, after: b.time } : null;
  const network = touched.network && !deepEqual(a.network, b.network) ? { before: a.network, after: b.network } : null;
  return { from: a.at, to: b.at, nodes, time, network };
}
