/**
 * The points worth jumping to: where a node became leader, where the cluster committed new entries,
 * where a fault struck (a crash, a restart, a shutdown, a halted node, a partition or a slow node
 * and their ends), where a leader appended a configuration entry, and where an invariant broke.
 * Each kind is an ascending list of points; notes say in words what happened at a point.
 */
import { mergePoints, nextPoint, previousPoint } from './search.js';

/** The kinds of points the debugger jumps between. */
export type MarkerKind = 'leader' | 'commit' | 'fault' | 'config' | 'violation';

/** Every marker kind, in the order the page lists them. */
export const MARKER_KINDS: readonly MarkerKind[] = Object.freeze(['leader', 'commit', 'fault', 'config', 'violation']);

/** The points of each kind, ascending. */
export type Markers = Readonly<Record<MarkerKind, readonly number[]>>;

/** What happened at some points, in words (several notes may share a point). */
export type Notes = ReadonlyMap<number, readonly string[]>;

/** Collects markers and notes in ascending point order. */
export class MarkerBuilder {
  private readonly points: Record<MarkerKind, number[]> = {
    leader: [],
    commit: [],
    fault: [],
    config: [],
    violation: [],
  };
  private readonly notes = new Map<number, string[]>();

  /** Mark point `n` as a `kind` point, with an optional note (points come in ascending order). */
  mark(kind: MarkerKind, n: number, note?: string): void {
    const list = this.points[kind];
    if (list[list.length - 1] !== n) list.push(n);
    if (note !== undefined) addNote(this.notes, n, note);
  }

  /** The markers and notes collected. */
  build(): { markers: Markers; notes: Notes } {
    return { markers: this.points, notes: this.notes };
  }
}

/** Add `note` at point `n` of `notes`. */
export function addNote(notes: Map<number, string[]>, n: number, note: string): void {
  const list = notes.get(n);
  if (list === undefined) notes.set(n, [note]);
  else list.push(note);
}

/** `markers` with `extra` points added to `kind`. */
export function withPoints(markers: Markers, kind: MarkerKind, extra: readonly number[]): Markers {
  const sorted = [...extra].sort((a, b) => a - b);
  return { ...markers, [kind]: mergePoints(markers[kind], sorted) };
}

/** The next point of `kind` after `from` (or before it, `direction` -1); -1 when there is none. */
export function jumpTarget(markers: Markers, kind: MarkerKind, from: number, direction: 1 | -1): number {
  const points = markers[kind];
  return direction > 0 ? nextPoint(points, from) : previousPoint(points, from);
}
