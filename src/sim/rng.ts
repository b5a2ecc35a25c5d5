/**
 * The simulator's only source of randomness: a small seeded generator (mulberry32). The same seed
 * always gives the same sequence, on every platform, so a run is reproduced event for event.
 */

// Bound once: a global lookup per call is slow in sandboxed contexts (jest's vm, for one).
const imul = Math.imul;
const floor = Math.floor;

/** A seeded pseudo-random generator. Never use `Math.random` in a simulation: use this. */
export class Rng {
  private s: number;

  /** A generator seeded with `seed` (any safe integer; only its low 32 bits matter). */
  constructor(seed: number) {
    this.s = seed >>> 0;
  }

  /** The generator's internal state, to save it and resume later with {@link Rng.fromState}. */
  get state(): number {
    return this.s;
  }
  /** A generator resumed from a saved `state`: it continues the saved generator's sequence. */
  static fromState(state: number): Rng {
    const r = new Rng(0);
    r.s = state >>> 0;
    return r;
  }

  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = imul(t ^ (t >>> 15), t | 1);
    t ^= t + imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A uniform number in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** A uniform integer in [lo, hi] (both included); `lo` when `hi <= lo`. */
  int(lo: number, hi: number): number {
    if (hi <= lo) return lo;
    return lo + floor(this.next() * (hi - lo + 1));
  }

  /** True with probability `p` (never for p <= 0, always for p >= 1). */
  chance(p: number): boolean {
    if (p <= 0) return false;
    if (p >= 1) return true;
    return this.next() < p;
  }

  /** A uniformly chosen element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[floor(this.next() * items.length)]!;
  }

  /** An index chosen with the given non-negative weights (-1 when they are all zero). */
  weighted(weights: readonly number[]): number {
    let total = 0;
    for (const w of weights) total += w > 0 ? w : 0;
    if (total <= 0) return -1;
    let x = this.next() * total;
    for (let i = 0; i < weights.length; i++) {
      const w = weights[i]! > 0 ? weights[i]! : 0;
      if (x < w) return i;
      x -= w;
    }
    return weights.length - 1;
  }

  /** A shuffled copy of `items` (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[] {
    const out = items.slice();
    for (let i = out.length - 1; i > 0; i--) {
      const j = floor(this.next() * (i + 1));
      const t = out[i]!;
      out[i] = out[j]!;
      out[j] = t;
    }
    return out;
  }

  /** An independent generator derived from this one (consumes one draw). */
  fork(): Rng {
    return new Rng(this.nextU32() ^ 0x9e3779b9);
  }
}
