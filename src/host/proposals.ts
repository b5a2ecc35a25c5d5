/**
 * The proposals a host is waiting on: each a log position `(term, index)` its node's leader gave a
 * command, and the promise `propose` returned for it.
 *
 * A proposal settles exactly once:
 * - resolved with the state machine's result when the entry at its index is applied with its term
 *   (Log Matching: the committed entry at that index in that term is this proposal's);
 * - rejected `overwritten` when an entry of another term is applied at its index, when the core's
 *   `commitStatus` says `rejected` (checked after every step; see {@link ProposalBook.review}), or
 *   when the applied index passes it without a command of its term;
 * - rejected `unknownOutcome` when a snapshot installed from a leader covers it before it was applied;
 * - rejected `stopped` when the host stops.
 *
 * This module imports only the core and the host's own modules, and runs in browsers.
 */
import { commitStatus, type RaftState } from '../index.js';
import { HostError } from './errors.js';

/** A proposal waiting to be applied. */
export interface PendingProposal<R> {
  readonly term: number;
  readonly index: number;
  readonly resolve: (result: R) => void;
  readonly reject: (error: unknown) => void;
}

/** The pending proposals, sorted by index then term (see the module comment). */
export class ProposalBook<R> {
  private items: PendingProposal<R>[] = [];

  /** How many proposals are pending. */
  get size(): number {
    return this.items.length;
  }

  /** Add a proposal. */
  add(p: PendingProposal<R>): void {
    const items = this.items;
    const last = items[items.length - 1];
    if (last === undefined || before(last, p)) {
      items.push(p);
      return;
    }
    let lo = 0;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (before(items[mid]!, p)) lo = mid + 1;
      else hi = mid;
    }
    items.splice(lo, 0, p);
  }

  /**
   * After a step: reject the proposals `state` knows will never commit (`commitStatus` says
   * `rejected`). `full` (after a change of term, role or log tail) checks every proposal; otherwise
   * only those above the commit index, up to the first still in progress (the ones at or below the
   * commit index settle when applied).
   */
  review(state: RaftState, full: boolean, leaderHint: string | null): void {
    const items = this.items;
    if (items.length === 0) return;
    let k = full ? 0 : this.firstAbove(state.commitIndex);
    let kept = k;
    let changed = false;
    for (; k < items.length; k++) {
      const p = items[k]!;
      const status = commitStatus(state, p);
      if (status === 'rejected') {
        p.reject(overwritten(p, leaderHint));
        changed = true;
        continue;
      }
      if (status === 'inProgress' && !full) break;
      if (changed) items[kept] = p;
      kept++;
    }
    if (!changed) return;
    for (; k < items.length; k++) items[kept++] = items[k]!;
    items.length = kept;
  }

  /**
   * The command at `(term, index)` was applied with `outcome` (`ok`: its result; else the exception
   * the state machine threw): settle the proposals at that index, and those below it as overwritten.
   */
  applied(index: number, term: number, ok: boolean, outcome: unknown, leaderHint: string | null): void {
    const items = this.items;
    if (items.length === 0 || items[0]!.index > index) return;
    let k = 0;
    for (; k < items.length && items[k]!.index <= index; k++) {
      const p = items[k]!;
      if (p.index === index && p.term === term) {
        if (ok) p.resolve(outcome as R);
        else p.reject(outcome);
      } else p.reject(overwritten(p, leaderHint));
    }
    items.splice(0, k);
  }

  /** Reject every proposal at or below `index` with `error` (a snapshot covered them, or the apply passed them). */
  settleUpTo(index: number, error: (p: PendingProposal<R>) => unknown): void {
    const items = this.items;
    let k = 0;
    for (; k < items.length && items[k]!.index <= index; k++) items[k]!.reject(error(items[k]!));
    if (k > 0) items.splice(0, k);
  }

  /** Reject every proposal with `error`. */
  rejectAll(error: unknown): void {
    const items = this.items;
    this.items = [];
    for (const p of items) p.reject(error);
  }

  /** The position of the first proposal with index above `index`. */
  private firstAbove(index: number): number {
    const items = this.items;
    let lo = 0;
    let hi = items.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (items[mid]!.index <= index) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** True when `a` sorts before `b` (index, then term). */
function before(a: { index: number; term: number }, b: { index: number; term: number }): boolean {
  return a.index < b.index || (a.index === b.index && a.term < b.term);
}

/** The error of a proposal whose entry was overwritten. */
export function overwritten(p: { term: number; index: number }, leaderHint: string | null): HostError {
  return new HostError(
    'overwritten',
    `the proposal at (${p.term}, ${p.index}) was overwritten by another entry and will not be applied`,
    leaderHint,
  );
}
