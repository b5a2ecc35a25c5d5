/**
 * A node's state as an inspector shows it: an XState-like snapshot (`status`, `value`, `context`)
 * whose context is a readable summary of the node — role, term, commit index, last log position,
 * the leader it believes in — with its metrics counters folded into a total and the non-zero ones.
 */
import type { RaftState } from '../index.js';
import { nodeView, type NodeStatus, type NodeView } from '../timetravel/view.js';

/** The metrics counters of a node, folded: their sum, and the counters that are not zero. */
export interface MetricsSummary {
  /** The sum of every counter. */
  readonly total: number;
  /** The counters that are not zero, by name. */
  readonly nonZero: Readonly<Record<string, number>>;
}

/** The context of a node's snapshot: its view, the vote it cast, and its metrics folded. */
export interface NodeContext extends NodeView {
  /** Its vote in its term (on a follower, the leader it follows); null when not running. */
  readonly votedFor: string | null;
  /** null when the node is not running. */
  readonly metrics: MetricsSummary | null;
}

/**
 * A node's snapshot in the shape of an XState snapshot: `status` is `active` while the node runs,
 * `error` once it halted (`error` then says why), `stopped` while it is down, shut down or not
 * started; `value` is its role while it runs, else its status (`crashed`, `shutdown`, `notStarted`).
 */
export interface NodeSnapshot {
  /** `active`, `error` or `stopped`, as above. */
  readonly status: 'active' | 'error' | 'stopped';
  /** Its role, or its status when it does not run. */
  readonly value: string;
  /** What the node is, readable. */
  readonly context: NodeContext;
  /** Why it halted; present only with status `error`. */
  readonly error?: string;
}

/**
 * Fold a metrics record: the sum of its numeric fields and those that are not zero (in field order).
 * Fields that are not finite numbers are skipped, so counters added to raftstep later are folded
 * in without a change here.
 */
export function summarizeMetrics(metrics: object): MetricsSummary {
  let total = 0;
  const nonZero: Record<string, number> = {};
  for (const [name, value] of Object.entries(metrics)) {
    if (typeof value !== 'number' || !Number.isFinite(value)) continue;
    total += value;
    if (value !== 0) nonZero[name] = value;
  }
  return { total, nonZero };
}

/** The snapshot of node `id` in status `status` with state `state` (null: not running). */
export function nodeSnapshot(id: string, status: NodeStatus, state: RaftState | null): NodeSnapshot {
  const view = nodeView(id, state === null ? status : 'up', state);
  const context: NodeContext = {
    ...view,
    votedFor: state === null ? null : state.votedFor,
    metrics: state === null ? null : summarizeMetrics(state.metrics),
  };
  if (state === null) return { status: 'stopped', value: view.status, context };
  if (state.halted !== null) return { status: 'error', value: state.role, context, error: state.halted };
  return { status: 'active', value: state.role, context };
}
