/**
 * What a user plugs into a simulated world: the function every node steps through (the real
 * `step`, or a wrapper around it) and the application every replica runs.
 */
import type { RaftEvent, RaftState, StepResult } from '../index.js';
import type { Rng } from './rng.js';

/** A function with the signature of `step`: the real one, or a wrapper around it. */
export type Stepper = (state: RaftState, event: RaftEvent) => StepResult;

/**
 * Your application, run by every simulated replica: a pure state machine and a command generator.
 * The simulator applies committed commands to each replica and checks that every replica reaches
 * the same state at the same index (by `fingerprint`), and your own invariant (`check`).
 */
export interface SimApplication<S = unknown, C = unknown> {
  /** The state of a fresh replica. */
  readonly initial: S;
  /** Apply one committed command (pure: return the next state, do not modify `state`). */
  apply(state: S, command: C, index: number): S;
  /** A new client command; `rng` is the simulation's seeded generator (use no other randomness). */
  command(rng: Rng, id: number): C;
  /** A string that is equal for equal states (default: `JSON.stringify`). */
  fingerprint?(state: S): string;
  /** Your invariant on one replica right after it applied `index`: a message when it is broken. */
  check?(state: S, index: number): string | null;
}
