/**
 * Ready-made predicates for `Timeline.findFirst`: each holds at a point where the cluster is in
 * some state, so the first point where it holds is where that state was first reached.
 */
import type { ClusterPredicate } from './timeline.js';
import type { NodeView } from './view.js';

/** Throw a RangeError unless `x` is a non-negative safe integer. */
function checkCount(what: string, x: number): void {
  if (!Number.isSafeInteger(x) || x < 0) {
    throw new RangeError(`${what} must be a non-negative integer, not ${String(x)}`);
  }
}

/** The views of every node at a point. */
function nodesOf(view: { readonly nodes: Readonly<Record<string, NodeView>> }): NodeView[] {
  return Object.values(view.nodes);
}

/**
 * Holds where node `id` is leader (any node, without `id`): `findFirst(becameLeader())` is the
 * first election won. Throws a TypeError for an `id` that is not a string (an unknown id simply
 * never holds).
 */
export function becameLeader(id?: string): ClusterPredicate {
  if (id !== undefined && typeof id !== 'string') throw new TypeError('becameLeader: the node id must be a string');
  return id === undefined ? (view) => view.leaders.length > 0 : (view) => view.nodes[id]?.role === 'leader';
}

/**
 * Holds where some running node's commit index is `index` or more: the first point where an entry
 * at or above `index` is known committed. Throws a RangeError for an index that is not a
 * non-negative integer.
 */
export function firstCommitAtOrAbove(index: number): ClusterPredicate {
  checkCount('firstCommitAtOrAbove: the index', index);
  return (view) => nodesOf(view).some((n) => n.commitIndex !== null && n.commitIndex >= index);
}

/**
 * Holds where some running node's term is `term` or more. Throws a RangeError for a term that is
 * not a non-negative integer.
 */
export function termReached(term: number): ClusterPredicate {
  checkCount('termReached: the term', term);
  return (view) => nodesOf(view).some((n) => n.term !== null && n.term >= term);
}
