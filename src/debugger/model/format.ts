/**
 * Words and short texts for the page: message labels, compact JSON, and the field-by-field changes
 * of a node's state between two points (what the difference view lists).
 */
import type { RaftAction } from '../../index.js';
import { deepEqual, isStepRecord, type FieldChange, type RecordedEvent } from '../../timetravel/index.js';

/** Short labels of the message types, as drawn on the arrows. */
const LABELS: Readonly<Record<string, string>> = {
  requestVote: 'RV',
  requestVoteReply: 'RV✓',
  appendEntries: 'AE',
  appendEntriesReply: 'AE✓',
  preVote: 'PV',
  preVoteReply: 'PV✓',
  timeoutNow: 'TN',
  leadershipCheck: 'LC',
  leadershipCheckReply: 'LC✓',
  readIndex: 'RI',
  readIndexReply: 'RI✓',
  snapshot: 'SNAP',
};

/** The short label of a message type (the type itself when it has none). */
export function messageLabel(type: string): string {
  return LABELS[type] ?? type;
}

/** `value` as one line of JSON, cut to `max` characters (with an ellipsis). */
export function shortJson(value: unknown, max = 120): string {
  const text = (JSON.stringify(value) as string | undefined) ?? typeof value;
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** One changed value, at a path into a node's state. */
export interface ValueChange {
  /** Where: a field, or a field and the keys into it (`log.lastIndex`). */
  readonly path: string;
  /** The value before, as short JSON (`—` when absent). */
  readonly before: string;
  /** The value after, as short JSON (`—` when absent). */
  readonly after: string;
}

/** A plain object (not an array, not null). */
function isPlain(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** The changes between `before` and `after` at `path`, into plain objects up to `depth` levels. */
function changesAt(path: string, before: unknown, after: unknown, depth: number, out: ValueChange[]): void {
  if (deepEqual(before, after)) return;
  if (depth > 0 && isPlain(before) && isPlain(after)) {
    const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
    for (const k of keys) changesAt(`${path}.${k}`, before[k], after[k], depth - 1, out);
    return;
  }
  const show = (v: unknown): string => (v === undefined ? '—' : shortJson(v, 80));
  out.push({ path, before: show(before), after: show(after) });
}

/**
 * The changes of one field of a node's state (a `FieldChange` of a timeline diff), down to the
 * values that differ inside it: `log` gives `log.lastIndex 41 → 42` rather than two whole logs.
 */
export function valueChanges(change: FieldChange, depth = 2): ValueChange[] {
  const out: ValueChange[] = [];
  changesAt(change.field, change.before, change.after, depth, out);
  return out;
}

/** What a recorded event is, in a few words: `n2 ← appendEntries from n1`, `n3: crash`. */
export function describeEvent(r: RecordedEvent): string {
  if (!isStepRecord(r)) return `${r.node}: ${r.lifecycle.type}`;
  const from = (r.event as { from?: unknown }).from;
  return typeof from === 'string' ? `${r.node} ← ${r.event.type} from ${from}` : `${r.node}: ${r.event.type}`;
}

/** One action in a line: its type, then its fields (a message's type first). */
export function describeAction(a: RaftAction): string {
  switch (a.type) {
    case 'send':
      return `send to ${a.to}: ${shortJson(a.message, 160)}`;
    case 'broadcast':
      return `broadcast: ${shortJson(a.message, 160)}`;
    default: {
      const { type, ...rest } = a as unknown as { type: string } & Record<string, unknown>;
      return Object.keys(rest).length === 0 ? type : `${type} ${shortJson(rest, 160)}`;
    }
  }
}

/** A duration in milliseconds as `830 ms` or `2.4 s`. */
export function formatMs(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}
