/**
 * A recorded simulator run with its ground truth: every node's state and status after every event,
 * as the world had them, to compare time travel against.
 */
import type { RaftState } from '../../src/index.js';
import { simulate, type SimOptionsInput, type Trace } from '../../src/sim/index.js';
import type { NodeStatus } from '../../src/timetravel/index.js';

/** What the world had after one event: each started node's state and status. */
export interface TruthPoint {
  readonly states: ReadonlyMap<string, RaftState | null>;
  readonly status: ReadonlyMap<string, NodeStatus>;
}

/** A simulator run's trace, and the truth after every event (point 0: nothing started). */
export interface RecordedRun {
  readonly trace: Trace;
  readonly truth: readonly TruthPoint[];
}

const STATUS: Record<string, NodeStatus> = { up: 'up', down: 'crashed', removed: 'shutdown' };

/** Run a seeded simulation, keeping the truth after every event through a world invariant. */
export function recordedRun(options: SimOptionsInput): RecordedRun {
  const truth: TruthPoint[] = [{ states: new Map(), status: new Map() }];
  const r = simulate(options, {
    invariants: [
      (w) => {
        const states = new Map<string, RaftState | null>();
        const status = new Map<string, NodeStatus>();
        for (const h of w.nodes()) {
          states.set(h.id, h.state);
          status.set(h.id, STATUS[h.status] ?? 'up');
        }
        truth[w.events] = { states, status };
        return null;
      },
    ],
  });
  if (r.violation !== null) throw new Error(`the run broke an invariant: ${JSON.stringify(r.violation)}`);
  if (r.trace === null) throw new Error('the run recorded no trace');
  return { trace: r.trace, truth };
}

/** The truth's state of `id` at point `n` (null: not started or not running). */
export function truthState(run: RecordedRun, n: number, id: string): RaftState | null {
  return run.truth[n]!.states.get(id) ?? null;
}

/** The truth's status of `id` at point `n`. */
export function truthStatus(run: RecordedRun, n: number, id: string): NodeStatus {
  return run.truth[n]!.status.get(id) ?? 'notStarted';
}
