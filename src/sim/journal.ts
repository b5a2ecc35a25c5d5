/**
 * The journal of a simulated world: it numbers every event (a node's step, start, crash, restart
 * or shutdown), records it in the trace with a fingerprint of the node's state every few steps,
 * runs the user's world invariants after each event, and reports what it finds — violations, which
 * stop the run, and happenings in words — stamped with the event number and the virtual time.
 */
import type { NodeOptions, PersistedState, RaftEvent, RaftState } from '../index.js';
import type { Clock } from './clock.js';
import { hashState } from './hash.js';
import type { SimOptions } from './options.js';
import type { Happening } from './stats.js';
import { TRACE_FORMAT, TRACE_VERSION, TraceRecorder, type Trace } from './trace.js';
import { SimViolation, type InvariantName, type Violation } from './violation.js';

/** What happened to a node in one event, as the trace records it. */
export type NodeEvent =
  | { readonly start: true; readonly options: NodeOptions }
  | { readonly step: RaftEvent }
  | { readonly restart: PersistedState }
  | { readonly crash: true }
  | { readonly shutdown: true };

/** How to keep a journal. */
export interface JournalOptions {
  readonly seed: number;
  /** Record a trace (default true), with a checkpoint every `checkpointEvery` steps of a node. */
  readonly record?: boolean;
  readonly checkpointEvery?: number;
  /** The options recorded in the trace header (simulations pass theirs). */
  readonly headerOptions?: SimOptions | null;
  /** The initial node ids recorded in the trace header. */
  readonly headerNodes?: readonly string[];
}

/** See the module comment. */
export class Journal {
  /** The number of the last event (steps, starts, restarts, crashes, shutdowns). */
  events = 0;
  /** The trace being recorded (null when recording is off). */
  readonly recorder: TraceRecorder | null;
  /** Told about every noteworthy happening, in words (null: nobody listens, nothing is built). */
  narrator: ((h: Happening) => void) | null = null;
  private readonly seed: number;
  private readonly checkpointEvery: number;

  /**
   * `invariants` are the user's checks over the whole world, run after every event: each returns
   * a message when its invariant is broken.
   */
  constructor(
    options: JournalOptions,
    private readonly clock: Clock,
    private readonly invariants: ReadonlyArray<() => string | null>,
  ) {
    this.seed = options.seed;
    this.checkpointEvery = options.checkpointEvery ?? 64;
    this.recorder =
      options.record === false
        ? null
        : new TraceRecorder({
            type: 'header',
            format: TRACE_FORMAT,
            version: TRACE_VERSION,
            seed: options.seed,
            options: options.headerOptions ?? null,
            nodes: options.headerNodes ?? [],
          });
  }

  /** The trace recorded so far (null when recording is off). */
  trace(): Trace | null {
    return this.recorder === null ? null : this.recorder.trace();
  }

  /** Number the next event, `what` happening to `node`, and record it. */
  record(node: string, what: NodeEvent): void {
    const n = ++this.events;
    if (this.recorder !== null) this.recorder.events.push({ n, t: this.clock.now, node, ...what } as never);
  }

  /** `node` took another step, to `state`: every `checkpointEvery` steps, record the state's fingerprint. */
  checkpoint(node: { readonly id: string; stepsSinceCheck: number }, state: RaftState): void {
    if (this.recorder !== null && ++node.stepsSinceCheck >= this.checkpointEvery) {
      node.stepsSinceCheck = 0;
      this.recorder.checks.push({ check: this.events, node: node.id, hash: hashState(state) });
    }
  }

  /** The event of `node` is over: check the user's world invariants. */
  afterEvent(node: string): void {
    for (const inv of this.invariants) {
      let problem: string | null;
      try {
        problem = inv();
      } catch (err) {
        problem = `invariant threw: ${errorText(err)}`;
      }
      if (problem !== null) this.fail('application', problem, [node]);
    }
  }

  /** A violation found now, by `invariant`, about `nodes` (throws). */
  fail(invariant: InvariantName, message: string, nodes: readonly string[]): never {
    const v: Violation = { invariant, message, nodes, event: this.events, time: this.clock.now, seed: this.seed };
    throw new SimViolation(v);
  }

  /** Tell the narrator, if any. */
  tell(kind: Happening['kind'], text: string): void {
    this.narrator?.({ time: this.clock.now, event: this.events, kind, text });
  }
}

/** The message of something thrown. */
export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
