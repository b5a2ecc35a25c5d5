/**
 * Binary searches over sorted lists of points (event numbers), the debugger's way of answering
 * "what holds at point p" from lists of change points without walking them.
 */

/** The position of the last element of the ascending `xs` that is at most `x`, or -1 when none is. */
export function lastAtOrBelow(xs: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = xs.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (xs[mid]! <= x) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

/** The position of the first element of the ascending `xs` that is above `x`, or -1 when none is. */
export function firstAbove(xs: ArrayLike<number>, x: number): number {
  const k = lastAtOrBelow(xs, x) + 1;
  return k < xs.length ? k : -1;
}

/** The position of the first element of the ascending `xs` that is at least `x`, or -1 when none is. */
export function firstAtOrAbove(xs: ArrayLike<number>, x: number): number {
  return firstAbove(xs, x - 1);
}

/** The first point of the ascending `points` after `from`, or -1 when there is none. */
export function nextPoint(points: ArrayLike<number>, from: number): number {
  const k = firstAbove(points, from);
  return k < 0 ? -1 : points[k]!;
}

/** The last point of the ascending `points` before `from`, or -1 when there is none. */
export function previousPoint(points: ArrayLike<number>, from: number): number {
  const k = lastAtOrBelow(points, from - 1);
  return k < 0 ? -1 : points[k]!;
}

/** The union of two ascending lists of points, ascending, each point once. */
export function mergePoints(a: readonly number[], b: readonly number[]): number[] {
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const x = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i++]! : b[j++]!;
    if (out.length === 0 || out[out.length - 1] !== x) out.push(x);
  }
  return out;
}
