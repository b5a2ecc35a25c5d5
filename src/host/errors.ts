/**
 * How a host says no: the errors its promises reject with, and why a host stopped.
 *
 * This module imports only the core's types and runs in browsers.
 */
import type { RaftActions, Rejected, RejectReason } from '../index.js';

/**
 * Why a host request failed:
 * - `notLeader`: the request needs the leader and this node is not it (retry on `leaderHint`).
 * - `rejected`: the node refused the request; `reason` is the core's reason (`transferInProgress`,
 *   `changeInProgress`, `leaderChanged`, ...).
 * - `overwritten`: the proposal took a log position that another entry now holds: it was not applied
 *   and never will be (retry on `leaderHint`).
 * - `unknownOutcome`: the proposal's entry was covered by a snapshot installed from the leader
 *   before this node could apply it: it may or may not have been applied.
 * - `abandoned`: a leadership transfer ended without the target leading.
 * - `tooLarge`: the command's bytes cannot fit in one frame.
 * - `stopped`: the host stopped (see `HostStatus.halted`) before the request completed.
 */
export type HostErrorCode =
  'notLeader' | 'rejected' | 'overwritten' | 'unknownOutcome' | 'abandoned' | 'tooLarge' | 'stopped';

/** The error a host's promises reject with (except an exception of the state machine itself). */
export class HostError extends Error {
  /** Always `'HostError'`: the name `toString()` and stack traces show. Test `code` for what went wrong. */
  override readonly name = 'HostError';

  constructor(
    /** What went wrong (see {@link HostErrorCode}). */
    readonly code: HostErrorCode,
    message: string,
    /** The node this one believes leads (null: unknown): where to retry. */
    readonly leaderHint: string | null = null,
    /** The core's reason, for `notLeader` and `rejected`. */
    readonly reason: RejectReason | null = null,
  ) {
    super(message);
  }
}

/**
 * Why a host stopped:
 * - `stopped`: `stop()` was called.
 * - `fatal`: the core found the persistent state inconsistent with the cluster (`fatal` action):
 *   the node may rejoin only as a new, empty member.
 * - `internalError`: a bug in raftstep (`internalError` action); `event` names the event's type.
 * - `storage`: the storage failed (a write or read rejected): nothing after it may be durable.
 * - `host`: the host found its own bookkeeping inconsistent (a bug in the host), or the state
 *   machine's `restore` or `snapshot` threw.
 */
export interface HaltInfo {
  /** Why the host stopped (the cases are listed above); the first reason wins, later ones are dropped. */
  readonly kind: 'stopped' | 'fatal' | 'internalError' | 'storage' | 'host';
  /** What happened, as text. */
  readonly reason: string;
  /** For `internalError`: the type of the event whose step failed. */
  readonly event?: string;
}

/** The message of anything thrown. */
export function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** `e` as an Error (wrapped when something else was thrown), for promise rejections. */
export function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** The `rejected` action of a request in `actions`, or null. */
export function findRejected(actions: RaftActions, request: Rejected['request']): Rejected | null {
  for (const a of actions) if (a.type === 'rejected' && a.request === request) return a;
  return null;
}

/** The error for a request the node refused (`notLeader` when it does not lead, else `rejected`). */
export function refusal(a: Rejected): HostError {
  const code = a.reason === 'notLeader' ? 'notLeader' : 'rejected';
  const hint = a.leaderHint === null ? '' : ` (leader: ${a.leaderHint})`;
  return new HostError(code, `${a.request} refused: ${a.reason}${hint}`, a.leaderHint, a.reason);
}
