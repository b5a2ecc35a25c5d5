/**
 * The cluster at one point of a run, in two forms: the full record a timeline keeps (every node's
 * state, its status, the time and the network), and a readable view of it (per node: role, term,
 * commit index, last log position and the leader it believes in). Pure functions, no dependency
 * beyond raftstep's core: the inspector uses them for live runs too.
 */
import { leaderHint, type RaftState, type Role } from '../index.js';
import type { NetworkSnapshot } from './recording.js';

/**
 * Where a node stands: `notStarted` (known, never ran yet), `up` (running: it has a state),
 * `crashed` (down until a restart) or `shutdown` (taken out of service).
 */
export type NodeStatus = 'notStarted' | 'up' | 'crashed' | 'shutdown';

/**
 * The whole cluster right after event `at` (0: before the first event), as a timeline keeps it: a
 * frozen, immutable value that shares everything unchanged with the points before and after it.
 * Every node of the recording is a key of `nodes` and `status` from point 0 on (null and
 * `notStarted` before its first event). A node's state is deep-equal to the state a straight replay
 * gives (not always the same object: records rebuilt from patches hold copies).
 */
export interface ClusterRecord {
  /** The number of the last event applied (0: none). */
  readonly at: number;
  /** The time of the last event that had one (null: none known yet). */
  readonly time: number | null;
  /** Every node's state (null: not running). */
  readonly nodes: Readonly<Record<string, RaftState | null>>;
  /** Every node's status. */
  readonly status: Readonly<Record<string, NodeStatus>>;
  /** The network as last recorded (null: the recording does not record it). */
  readonly network: NetworkSnapshot | null;
}

/**
 * One node at one point, in a few fields. For a node that is not up, every field but `id` and
 * `status` is null.
 */
export interface NodeView {
  /** The node's id. */
  readonly id: string;
  /** Whether it runs, and if not, why. */
  readonly status: NodeStatus;
  /** Its Raft role. */
  readonly role: Role | null;
  /** Its current term. */
  readonly term: number | null;
  /** The highest index it knows committed. */
  readonly commitIndex: number | null;
  /** The index of the last entry of its log. */
  readonly lastIndex: number | null;
  /** The term of the last entry of its log. */
  readonly lastTerm: number | null;
  /** The node it believes leads (itself as leader, the followed node as follower; else null). */
  readonly leader: string | null;
  /** Why it halted (null: healthy). */
  readonly halted: string | null;
}

/**
 * The cluster at one point, readable: plain JSON. `nodes` is keyed by id, in the timeline's node
 * order (order of first appearance in the recording).
 */
export interface ClusterView {
  /** The point: the number of the last event applied (0: before the first). */
  readonly at: number;
  /** The time of the last event that had one (null: none known yet). */
  readonly time: number | null;
  /** Every node's view, by id. */
  readonly nodes: Readonly<Record<string, NodeView>>;
  /** The nodes that are up and in the leader role, in node order (more than one: different terms). */
  readonly leaders: readonly string[];
  /** Messages in flight and cut links, as recorded; null when the recording does not record them. */
  readonly network: NetworkSnapshot | null;
}

/** The view of node `id` in status `status` with state `state` (null: not running). */
export function nodeView(id: string, status: NodeStatus, state: RaftState | null): NodeView {
  if (state === null) {
    return {
      id,
      status,
      role: null,
      term: null,
      commitIndex: null,
      lastIndex: null,
      lastTerm: null,
      leader: null,
      halted: null,
    };
  }
  return {
    id,
    status,
    role: state.role,
    term: state.term,
    commitIndex: state.commitIndex,
    lastIndex: state.log.lastIndex,
    lastTerm: state.log.lastTerm,
    leader: leaderHint(state),
    halted: state.halted,
  };
}

/** The readable view of `record`, with its nodes in `order` (ids missing from the record are skipped). */
export function clusterView(record: ClusterRecord, order: readonly string[]): ClusterView {
  const nodes: Record<string, NodeView> = {};
  const leaders: string[] = [];
  for (const id of order) {
    const status = record.status[id];
    if (status === undefined) continue;
    const view = nodeView(id, status, record.nodes[id] ?? null);
    nodes[id] = view;
    if (view.role === 'leader') leaders.push(id);
  }
  return { at: record.at, time: record.time, nodes, leaders, network: record.network };
}
