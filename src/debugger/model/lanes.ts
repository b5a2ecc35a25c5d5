/**
 * Per-node lanes of the debugger's timeline: what each node was (its phase: role, or why it is not
 * running), its term and its commit index, as lists of the points where they changed. Built once,
 * in the single pass over the recording; a lane answers "at point p" with a binary search.
 */
import type { RaftState } from '../../index.js';
import type { NodeStatus } from '../../timetravel/index.js';
import { lastAtOrBelow } from './search.js';

/** What a node is at a point: its Raft role while it runs healthy, else why it does not. */
export type Phase =
  'notStarted' | 'follower' | 'preCandidate' | 'candidate' | 'leader' | 'halted' | 'crashed' | 'shutdown';

/** Every phase, in the order a legend lists them. */
export const PHASES: readonly Phase[] = Object.freeze([
  'follower',
  'preCandidate',
  'candidate',
  'leader',
  'halted',
  'crashed',
  'shutdown',
  'notStarted',
]);

/**
 * One node's history, as change points: `phases[k]` holds from point `phaseAt[k]` until the next
 * change (likewise `terms`); `commitAt` lists the points where its commit index rose, to
 * `commits[k]`. Point 0 is always the first phase point (every node starts `notStarted` unless the
 * recording gave it a state).
 */
export interface NodeLane {
  /** The node's id. */
  readonly id: string;
  /** The points where the phase changed (ascending, from 0). */
  readonly phaseAt: readonly number[];
  /** The phase from each of those points on. */
  readonly phases: readonly Phase[];
  /** The points where the node's term changed while it ran (ascending). */
  readonly termAt: readonly number[];
  /** The term from each of those points on. */
  readonly terms: readonly number[];
  /** The points where the node's commit index rose (ascending). */
  readonly commitAt: readonly number[];
  /** The commit index reached at each of those points. */
  readonly commits: readonly number[];
}

/** The phase of a node with status `status` and state `state` (null: not running). */
export function phaseOf(status: NodeStatus, state: RaftState | null): Phase {
  if (state === null) return status === 'up' ? 'notStarted' : status;
  if (state.halted !== null) return 'halted';
  return state.role;
}

/** Builds one node's lane, point by point, in ascending order. */
export class LaneBuilder {
  private readonly phaseAt: number[] = [];
  private readonly phases: Phase[] = [];
  private readonly termAt: number[] = [];
  private readonly terms: number[] = [];
  private readonly commitAt: number[] = [];
  private readonly commits: number[] = [];
  private lastCommit = 0;

  /** A lane for node `id` whose phase at point 0 is `phase` (and term/commit of its state, if any). */
  constructor(
    private readonly id: string,
    phase: Phase,
    state: RaftState | null,
  ) {
    this.phaseAt.push(0);
    this.phases.push(phase);
    if (state !== null) this.note(0, phase, state);
  }

  /** The node is in `phase` with state `state` (null: not running) from point `n` on. */
  note(n: number, phase: Phase, state: RaftState | null): void {
    if (this.phases[this.phases.length - 1] !== phase) {
      this.phaseAt.push(n);
      this.phases.push(phase);
    }
    if (state === null) return;
    if (this.terms.length === 0 || this.terms[this.terms.length - 1] !== state.term) {
      this.termAt.push(n);
      this.terms.push(state.term);
    }
    // A restarted node starts from commit index 0 again: count rises from where it starts.
    if (state.commitIndex > this.lastCommit) {
      this.commitAt.push(n);
      this.commits.push(state.commitIndex);
    }
    this.lastCommit = state.commitIndex;
  }

  /** The lane built so far. */
  lane(): NodeLane {
    return {
      id: this.id,
      phaseAt: this.phaseAt,
      phases: this.phases,
      termAt: this.termAt,
      terms: this.terms,
      commitAt: this.commitAt,
      commits: this.commits,
    };
  }
}

/** The phase of `lane`'s node at point `p`. */
export function phaseAtPoint(lane: NodeLane, p: number): Phase {
  return lane.phases[Math.max(0, lastAtOrBelow(lane.phaseAt, p))]!;
}

/** The term of `lane`'s node at point `p` (its last term while running; null before it first ran). */
export function termAtPoint(lane: NodeLane, p: number): number | null {
  const k = lastAtOrBelow(lane.termAt, p);
  return k < 0 ? null : lane.terms[k]!;
}
