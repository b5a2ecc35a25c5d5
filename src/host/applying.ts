/**
 * How `createHost` applies committed commands: the node executor's machine (./node-executor.ts)
 * over the application's `StateMachine` and its codec, settling the proposals (./proposals.ts) and
 * reads (./reads.ts) that waited for them.
 *
 * - A command is decoded and applied; its proposal (if this host proposed it, at that position)
 *   resolves with the result, or rejects with what `decode` or `apply` threw.
 * - Once the applied index passed them, proposals without their command are rejected `overwritten`,
 *   and the ready reads it covers are answered.
 * - A snapshot restores the state machine; the proposals it covers (not applied here) are rejected
 *   `unknownOutcome`.
 *
 * This module imports only the core and the host's own modules, and runs in browsers.
 */
import type { ExecutorMachine } from './node-executor.js';
import { HostError } from './errors.js';
import { overwritten, type ProposalBook } from './proposals.js';
import type { ReadBook } from './reads.js';
import type { CommandCodec, StateMachine } from './state-machine.js';

/** What {@link hostMachine} settles and where it finds the leader hint of its errors. */
export interface HostMachineParts<C, R, Q, A> {
  /** The application's state machine. */
  readonly stateMachine: StateMachine<C, R, Q, A>;
  /** Its codec (JSON by default). */
  readonly codec: CommandCodec<C>;
  /** The host's proposals. */
  readonly proposals: ProposalBook<R>;
  /** The host's reads. */
  readonly reads: ReadBook<Q, A>;
  /** The node this one believes leads (null: unknown), for the errors. */
  leaderHint(): string | null;
}

/** The executor's machine of a host (see the module comment). */
export function hostMachine<C, R, Q, A>(parts: HostMachineParts<C, R, Q, A>): ExecutorMachine {
  const { stateMachine: sm, codec, proposals, reads } = parts;
  return {
    apply(index, term, payload) {
      let ok = true;
      let outcome: unknown;
      try {
        outcome = sm.apply(codec.decode(payload), index);
      } catch (e) {
        ok = false;
        outcome = e;
      }
      proposals.applied(index, term, ok, outcome, parts.leaderHint());
    },
    appliedUpTo(index) {
      const hint = parts.leaderHint();
      proposals.settleUpTo(index, (p) => overwritten(p, hint));
      reads.answerUpTo(index);
    },
    snapshot: () => sm.snapshot(),
    restore(snapshot) {
      sm.restore(snapshot.data);
      const hint = parts.leaderHint();
      proposals.settleUpTo(
        snapshot.index,
        (p) =>
          new HostError(
            'unknownOutcome',
            `a snapshot from the leader covered the proposal at (${p.term}, ${p.index}) before it was applied here`,
            hint,
          ),
      );
    },
  };
}
