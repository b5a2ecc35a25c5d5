/**
 * Comparing and printing compressed logs (`LogEntries`) in the test hosts and the invariant checker.
 * Not a test file.
 */
import { configsEqual, flatItems, termAt, type LogEntries } from '../../src/index.js';
import { firstAbove } from '../../src/log.js';

/** A log in one line: anchor, last position, term starts and the indices of configuration entries. */
export function showLog(l: LogEntries): string {
  const starts = flatItems(l.termStarts)
    .map((s) => `${s.term}@${s.index}`)
    .join(',');
  const configs = l.configs.map((c) => c.index).join(',');
  return `(${l.prevTerm},${l.prevIndex})..(${l.lastTerm},${l.lastIndex})[terms ${starts}; configs ${configs}]`;
}

/**
 * True when both logs hold the same terms and configuration entries at every index of `[lo, hi]`
 * (both must hold that range; `lo` may be an anchor, whose term is compared too).
 */
export function sameEntries(a: LogEntries, b: LogEntries, lo: number, hi: number): boolean {
  if (lo > hi) return true;
  if (termAt(a, lo) !== termAt(b, lo) || termAt(a, hi) !== termAt(b, hi)) return false;
  return (
    sameItems(flatItems(a.termStarts), flatItems(b.termStarts), lo, hi, (x, y) => x.term === y.term) &&
    sameItems(a.configs, b.configs, lo, hi, (x, y) => configsEqual(x.config, y.config))
  );
}

/** The items of two lists sorted by index that lie in `(lo, hi]` are pairwise at the same index and `same`. */
function sameItems<T extends { readonly index: number }>(
  xs: readonly T[],
  ys: readonly T[],
  lo: number,
  hi: number,
  same: (x: T, y: T) => boolean,
): boolean {
  let i = firstAbove(xs, lo);
  let j = firstAbove(ys, lo);
  for (;;) {
    const x = i < xs.length && xs[i]!.index <= hi ? xs[i]! : null;
    const y = j < ys.length && ys[j]!.index <= hi ? ys[j]! : null;
    if (x === null || y === null) return x === y;
    if (x.index !== y.index || (x !== y && !same(x, y))) return false;
    i++;
    j++;
  }
}

/**
 * True when two logs hold the same entries at every index in `[1, upTo]` that both still hold: both
 * must reach `upTo`; below the later of the two snapshots only its position can be compared.
 */
export function agreeUpTo(a: LogEntries, b: LogEntries, upTo: number): boolean {
  if (upTo <= 0) return true;
  if (a.lastIndex < upTo || b.lastIndex < upTo) return false;
  const lo = Math.max(a.prevIndex, b.prevIndex);
  return lo > upTo || sameEntries(a, b, lo, upTo);
}

/**
 * Calls `f(from, to, term)` for each maximal run of indices in `[lo, hi]` (clamped to what `log`
 * holds, the anchor included) that share one term.
 */
export function forEachRun(
  log: LogEntries,
  lo: number,
  hi: number,
  f: (from: number, to: number, term: number) => void,
): void {
  const a = Math.max(lo, log.prevIndex);
  const b = Math.min(hi, log.lastIndex);
  if (a > b) return;
  let from = a;
  let term = termAt(log, a);
  for (const s of flatItems(log.termStarts)) {
    if (s.index <= a) continue;
    if (s.index > b) break;
    f(from, s.index - 1, term);
    from = s.index;
    term = s.term;
  }
  f(from, b, term);
}
