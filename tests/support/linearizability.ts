/**
 * A linearizability checker for histories of a key-value store whose keys are registers with
 * `get`, `put`, `append`, `cas` and `delete`. Not a test file: the kv tests and the load generator
 * (`examples/kv/load.ts`) use it. Plain TypeScript with no Jest or Node dependency.
 *
 * A history is a list of operations, each with the interval in which its client waited for it
 * (`call`, `return`, in any integer unit, microseconds in the kv tools) and how it ended:
 * - `ok`: it took effect once, somewhere in its interval, and `output` is what it returned;
 * - `fail`: it definitely did not take effect (it is dropped before the search);
 * - `info`: unknown — it may have taken effect, at any time after its call, or never. Its `return`
 *   is treated as +infinity and its output is not checked. (A write that took effect "never" is the
 *   same, for every observation in the history, as one that took effect after everything else.)
 *   A `get` that did not end `ok` is dropped: a read changes nothing.
 *
 * Every operation touches one key, and linearizability is local (Herlihy & Wing): a history is
 * linearizable iff each key's sub-history is. So each key is checked on its own.
 *
 * The search is Wing & Gong's, with Lowe's memoization, as Porcupine implements it: the calls and
 * returns of one key are sorted into a doubly linked list; the search walks it, and at a call tries
 * to linearize that operation now (the model accepts it from the current state): the call and its
 * return are lifted out of the list and the search restarts from the head. Reaching a return means
 * its operation should have been linearized already: backtrack (undo the last linearization, put its
 * entries back, and try the next call after it). It tries `ok` operations before `info` ones.
 *
 * Memoization. A configuration is the set of linearized operations and the register's value. One
 * already explored is not explored again (Lowe), and neither is one it dominates: with the same
 * `ok` operations linearized and the same value, a configuration that has linearized a superset of
 * another's `info` operations can do nothing the other cannot (`info` operations never have to be
 * linearized: the other can leave the extra ones to the end). The cache is keyed by a 64-bit
 * Zobrist hash of the linearized `ok` operations (two 32-bit halves, updated in O(1) per step; a
 * collision has odds of 2^-64 per pair) and an interned id of the value, and holds the `info` sets
 * explored there as bitsets.
 *
 * Runs of `info` operations. An `info` write may be placed anywhere after its call, so a search
 * that tries them all tries every order of every subset of the open ones before each `ok`
 * operation. Only some of those orders can matter, and the search keeps to them. Every valid order
 * can be rewritten, keeping it valid, into one with these properties:
 * - no `info` operation right before one whose result would be the same without it (a put or a
 *   delete, `ok` or `info`): it is dropped (`infoMadeNoDifference`);
 * - every run of `info` operations ends right before an `ok` operation that needs it. A read or a
 *   failed cas that accepts the value before the run's last operation can move in front of it,
 *   so the run's value must be one the operation needs: the exact value a read, a checked append or
 *   a cas that swapped expects (which the rest of the run must be able to reach, by appending or by
 *   a cas swapping a value in), or, for a failed cas, off its expected value
 *   (`someCandidateCanUse`);
 * - of two `info` operations that do the same thing, the one called first is placed first.
 * These rules look only at the configuration and, inside a run, at how the run began, which the
 * memoization key therefore includes. In the second pass, a segment's configuration whose last `ok`
 * operation would have accepted the value before the `info` operation just ahead of it is not
 * carried to the next cut: the one without that `info` operation, which places it after the cut,
 * does everything it does (`canWaitForNextSegment`). With these rules a history with a few hundred
 * open `info` writes is decided in a fraction of a second where the plain search ran out of steps.
 *
 * Two passes. A linearizable history is usually found at once by the search above (about a
 * hundred steps per operation). A history that is not must be searched exhaustively, and with
 * `info` writes (concurrent with everything after their call) that is slow over thousands of
 * operations. So when the first pass fails to decide within a budget, a second pass cuts the key's
 * history where no `ok` operation is in flight (with a few clients and several keys, a key is idle
 * often), and carries the set of possible configurations — the value and the `info` operations
 * taken — from one cut to the next (each segment searched exhaustively from each, the results
 * pruned by dominance). It decides as soon as a segment leaves no configuration, so a violation
 * costs about one segment's search. `maxSteps` bounds both passes (the answer is then `unknown`).
 */

/** The operations of the register model. */
export type OpKind = 'get' | 'put' | 'append' | 'cas' | 'delete';

/** How an operation ended (see the module comment). */
export type OpStatus = 'ok' | 'fail' | 'info';

/**
 * One operation of a history, as the kv tools record it (one JSON line each).
 *
 * Outputs: `get` — the value read, null when absent; `cas` — true when it swapped; `append` — the
 * value after it (a string), or null/absent to leave it unchecked; `put` and `delete` — unchecked.
 */
export interface Operation {
  /** Who issued it (each client runs one operation at a time; not used by the search). */
  readonly client: string | number;
  readonly op: OpKind;
  readonly key: string;
  /** `put`, `append`: the value written or appended; `cas`: the new value. */
  readonly value?: string | null;
  /** `cas`: the value expected (null: the key must be absent). */
  readonly expected?: string | null;
  /** When the client called it. */
  readonly call: number;
  /** When the client had its answer (ignored for `info`: +infinity). */
  readonly return: number | null;
  /** What it returned (see above); ignored unless `status` is `ok`. */
  readonly output?: unknown;
  readonly status: OpStatus;
}

/** The register's value: a string, or null when the key is absent. */
export type RegisterValue = string | null;

/** Search limits. */
export interface CheckOptions {
  /** Search steps (linearization attempts) per key before giving up with `unknown`. Default 20 million. */
  readonly maxSteps?: number;
  /**
   * Steps the first pass may take before the second pass takes over (see the module comment).
   * Default: a thousand per operation, at least a million. 0 runs the second pass alone.
   */
  readonly firstPassSteps?: number;
}

/** The verdict on one key. */
export interface KeyResult {
  readonly key: string;
  /** True: linearizable; false: not; 'unknown': the search ran out of steps. */
  readonly linearizable: boolean | 'unknown';
  /** Operations searched (after `fail` operations and unfinished reads were dropped). */
  readonly operations: number;
  /** Search steps taken. */
  readonly steps: number;
  /**
   * When not linearizable: an operation whose return the search could not pass (no order of the
   * operations before it explains it), and a value the register could have had just before.
   */
  readonly stuckAt?: Operation;
  readonly stuckValue?: RegisterValue;
}

/** The verdict on a history. */
export interface CheckResult {
  /** True when every key is linearizable; false when one is not; 'unknown' when a search gave up. */
  readonly linearizable: boolean | 'unknown';
  /** Per key, in key order. */
  readonly keys: readonly KeyResult[];
  /** Milliseconds the check took (wall clock). */
  readonly elapsedMs: number;
}

/**
 * One step of the register model: applies `op` to `value` and says whether its output is
 * consistent with that. Returns the new value, or undefined when the operation cannot take effect
 * from `value` with the output it had. An `info` operation always can (its output is unknown).
 */
export function registerStep(value: RegisterValue, op: Operation): RegisterValue | undefined {
  const checked = op.status === 'ok';
  switch (op.op) {
    case 'get':
      return !checked || normalize(op.output) === value ? value : undefined;
    case 'put':
      return op.value ?? null;
    case 'delete':
      return null;
    case 'append': {
      const next = (value ?? '') + (op.value ?? '');
      return !checked || typeof op.output !== 'string' || op.output === next ? next : undefined;
    }
    case 'cas': {
      const swapped = value === (op.expected ?? null);
      if (checked && typeof op.output === 'boolean' && op.output !== swapped) return undefined;
      return swapped ? (op.value ?? null) : value;
    }
  }
}

/** A read's output as a register value (undefined and null both mean absent). */
function normalize(output: unknown): RegisterValue | undefined {
  if (output === undefined || output === null) return null;
  return typeof output === 'string' ? output : undefined;
}

/**
 * Check a whole history: group it by key and check each key (see the module comment). Throws a
 * RangeError for a malformed operation (unknown kind or status, `return` before `call`).
 */
export function checkHistory(history: readonly Operation[], options: CheckOptions = {}): CheckResult {
  const started = Date.now();
  const byKey = new Map<string, Operation[]>();
  for (const op of history) {
    validate(op);
    let list = byKey.get(op.key);
    if (list === undefined) byKey.set(op.key, (list = []));
    list.push(op);
  }
  const keys = [...byKey.keys()].sort().map((key) => checkKey(key, byKey.get(key)!, options));
  return { linearizable: verdict(keys), keys, elapsedMs: Date.now() - started };
}

/** The verdict of several keys. */
function verdict(keys: readonly KeyResult[]): boolean | 'unknown' {
  if (keys.some((k) => k.linearizable === false)) return false;
  return keys.some((k) => k.linearizable === 'unknown') ? 'unknown' : true;
}

const KINDS: ReadonlySet<string> = new Set(['get', 'put', 'append', 'cas', 'delete']);
const STATUSES: ReadonlySet<string> = new Set(['ok', 'fail', 'info']);

/** Throws a RangeError when `op` is not a well-formed operation. */
function validate(op: Operation): void {
  if (!KINDS.has(op.op)) throw new RangeError(`linearizability: unknown operation ${JSON.stringify(op.op)}`);
  if (!STATUSES.has(op.status)) throw new RangeError(`linearizability: unknown status ${JSON.stringify(op.status)}`);
  if (!Number.isFinite(op.call)) throw new RangeError('linearizability: call must be a finite number');
  if (op.status !== 'info' && (typeof op.return !== 'number' || !(op.return >= op.call))) {
    throw new RangeError(`linearizability: return before call (client ${op.client}, call ${op.call})`);
  }
}

/** The operations of a key the search must place: `fail` dropped, and reads that did not end `ok`. */
function relevant(ops: readonly Operation[]): Operation[] {
  return ops.filter((op) => op.status === 'ok' || (op.status === 'info' && op.op !== 'get'));
}

/** Steps the first pass may take before the second takes over: about a thousand per operation. */
function firstPassBudget(operations: number): number {
  return Math.max(1_000_000, 1_000 * operations);
}

/**
 * Check the operations of one key (every one of them must be on `key`), starting from an absent
 * key. See the module comment for the two passes.
 */
export function checkKey(key: string, ops: readonly Operation[], options: CheckOptions = {}): KeyResult {
  const kept = relevant(ops);
  const maxSteps = options.maxSteps ?? 20_000_000;
  const budget = Math.min(maxSteps, options.firstPassSteps ?? firstPassBudget(kept.length));
  const first = new Search(kept, budget, null, new Set());
  const quick = first.find();
  const base = { key, operations: kept.length };
  if (quick === true) return { ...base, linearizable: true, steps: first.steps };
  if (quick === false) return { ...base, ...failure(first), steps: first.steps };
  const second = checkSegments(kept, maxSteps - first.steps);
  const steps = first.steps + second.steps;
  if (second.outcome !== false) return { ...base, linearizable: second.outcome, steps };
  return { ...base, ...failure(second.search!), steps };
}

/** The failure fields of a result, from the search that failed. */
function failure(search: Search): Pick<KeyResult, 'linearizable' | 'stuckAt' | 'stuckValue'> {
  const stuck = search.stuck;
  return stuck === null ? { linearizable: false } : { linearizable: false, stuckAt: stuck.op, stuckValue: stuck.value };
}

/** A configuration at a cut: the value, and the `info` operations taken so far. */
interface CutConfig {
  readonly value: RegisterValue;
  readonly taken: ReadonlySet<Operation>;
}

/**
 * The second pass (see the module comment): the key's `ok` operations split where none is in
 * flight; the configurations possible at each cut carried to the next. Returns the outcome, the
 * steps taken, and the search of the segment that failed.
 */
function checkSegments(
  ops: readonly Operation[],
  budget: number,
): { outcome: boolean | 'unknown'; steps: number; search?: Search } {
  const segments = cutSegments(ops);
  const infos = ops.filter((op) => op.status === 'info').sort((a, b) => a.call - b.call);
  let configs: CutConfig[] = [{ value: null, taken: new Set() }];
  let steps = 0;
  for (const segment of segments) {
    const end = Math.max(...segment.map((op) => op.return!));
    const available = infos.filter((op) => op.call <= end);
    const next = new CutSet();
    for (const config of configs) {
      const search = new Search(
        [...segment, ...available.filter((op) => !config.taken.has(op))],
        budget - steps,
        config.value,
        config.taken,
      );
      const outcome = search.enumerate((value, taken) => next.add({ value, taken }));
      steps += search.steps;
      if (outcome === 'unknown') return { outcome, steps };
      if (next.size === 0 && config === configs[configs.length - 1]) return { outcome: false, steps, search };
    }
    configs = next.list();
  }
  return { outcome: true, steps };
}

/** The `ok` operations of `ops`, in call order, cut where none is in flight. */
function cutSegments(ops: readonly Operation[]): Operation[][] {
  const ok = ops.filter((op) => op.status !== 'info').sort((a, b) => a.call - b.call);
  const segments: Operation[][] = [];
  let horizon = -Infinity;
  for (const op of ok) {
    if (op.call > horizon || segments.length === 0) segments.push([]);
    segments[segments.length - 1]!.push(op);
    horizon = Math.max(horizon, op.return!);
  }
  return segments;
}

/** True when every member of `a` is a member of `b`. */
function isSubset<T>(a: ReadonlySet<T>, b: ReadonlySet<T>): boolean {
  if (a.size > b.size) return false;
  for (const x of a) if (!b.has(x)) return false;
  return true;
}

/** Configurations at a cut, none dominated by another (same value, a subset of the `info` taken). */
class CutSet {
  private readonly byValue = new Map<RegisterValue, CutConfig[]>();
  size = 0;

  /** Add `config` unless one here dominates it; drop the ones it dominates. */
  add(config: CutConfig): void {
    const list = this.byValue.get(config.value) ?? [];
    if (list.some((c) => isSubset(c.taken, config.taken))) return;
    const kept = list.filter((c) => !isSubset(config.taken, c.taken));
    kept.push(config);
    this.size += kept.length - list.length;
    this.byValue.set(config.value, kept);
  }

  /** Every configuration. */
  list(): CutConfig[] {
    return [...this.byValue.values()].flat();
  }
}

/** A small deterministic generator (mulberry32) for the Zobrist keys. */
function zobrist(count: number, seed: number): Int32Array {
  const out = new Int32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = t ^ (t >>> 14);
  }
  return out;
}

/** A set of small integers (the `info` operations linearized), as a bitset. */
class Bits {
  readonly words: Uint32Array;

  constructor(size: number) {
    this.words = new Uint32Array(Math.max(1, Math.ceil(size / 32)));
  }

  /** Flip member `i`. */
  flip(i: number): void {
    this.words[i >>> 5]! ^= 1 << (i & 31);
  }

  /** True when `i` is a member. */
  has(i: number): boolean {
    return (this.words[i >>> 5]! & (1 << (i & 31))) !== 0;
  }
}

/** True when every member of `sub` is a member of `sup` (bitsets of one length). */
function subset(sub: Uint32Array, sup: Uint32Array): boolean {
  for (let k = 0; k < sub.length; k++) if ((sub[k]! & ~sup[k]!) !== 0) return false;
  return true;
}

/**
 * The explored configurations (see "Memoization" in the module comment): per `ok` set and value,
 * the `info` sets explored, none a superset of another.
 */
class Explored {
  private readonly sets = new Map<string, Uint32Array[]>();

  /** Record the configuration unless one explored dominates it; true when recorded (explore it). */
  add(key: string, info: Bits): boolean {
    const list = this.sets.get(key);
    if (list === undefined) {
      this.sets.set(key, [info.words.slice()]);
      return true;
    }
    for (const s of list) if (subset(s, info.words)) return false;
    // Drop the sets the new one dominates (they stay explored: the new one covers them).
    let kept = 0;
    for (const s of list) if (!subset(info.words, s)) list[kept++] = s;
    list.length = kept;
    list.push(info.words.slice());
    return true;
  }
}

/**
 * What an `ok` operation needs of the value just before it: one exact value (a read, a checked
 * append, a cas that swapped), 'none' (a put or a delete: the value before does not matter), or
 * 'any' (a failed cas, an unchecked append: some values are wanted, which ones is not worth saying).
 */
function neededBefore(op: Operation): { value: RegisterValue } | { notValue: RegisterValue } | 'none' | 'any' {
  switch (op.op) {
    case 'get': {
      const value = normalize(op.output);
      return value === undefined ? 'none' : { value };
    }
    case 'put':
    case 'delete':
      return 'none';
    case 'append': {
      if (typeof op.output !== 'string') return 'any';
      const suffix = op.value ?? '';
      return op.output.endsWith(suffix) ? { value: op.output.slice(0, op.output.length - suffix.length) } : 'none';
    }
    case 'cas':
      if (op.output === true) return { value: op.expected ?? null };
      return op.output === false ? { notValue: op.expected ?? null } : 'any';
  }
}

/** For each of `ops`, its `info` twin called before it, or -1 (see `Search.twinBefore`). */
function twinsBefore(ops: readonly Operation[]): Int32Array {
  const before = new Int32Array(ops.length).fill(-1);
  const last = new Map<string, number>();
  const infos = ops
    .flatMap((op, i) => (op.status === 'info' ? [i] : []))
    .sort((a, b) => ops[a]!.call - ops[b]!.call || a - b);
  for (const i of infos) {
    const op = ops[i]!;
    const what = JSON.stringify([op.op, op.value ?? null, op.op === 'cas' ? (op.expected ?? null) : null]);
    before[i] = last.get(what) ?? -1;
    last.set(what, i);
  }
  return before;
}

/** The `info` operations a run may still place to change the value: cas operations and appends. */
interface RestOfRun {
  readonly cas: readonly Operation[];
  /** The strings the appends append. */
  readonly appends: readonly string[];
}

/**
 * True when a run of `rest`'s operations may take the value from `from` to `target`: appends to it,
 * or appends to a value that a cas (not in `usedCas`) swaps in when the value it expects can itself
 * be reached. Over-approximates: an append may be counted in more than one stretch of the run.
 */
function canReach(from: RegisterValue, target: RegisterValue, rest: RestOfRun, usedCas: Set<Operation>): boolean {
  if (canExtendTo(from, target, rest.appends)) return true;
  for (const cas of rest.cas) {
    if (usedCas.has(cas) || !canExtendTo(from, cas.expected ?? null, rest.appends)) continue;
    usedCas.add(cas);
    const reached = canReach(cas.value ?? null, target, rest, usedCas);
    usedCas.delete(cas);
    if (reached) return true;
  }
  return false;
}

/**
 * True when `target` is `start` followed by some of `appends`, each at most once, in some order (an
 * absent `start` appended to is the appended string alone). A null `target` is only `start` null.
 */
function canExtendTo(start: RegisterValue, target: RegisterValue, appends: readonly string[]): boolean {
  if (target === null) return start === null;
  const prefix = start ?? '';
  return target.startsWith(prefix) && isConcatenationOf(target.slice(prefix.length), appends, new Set());
}

/** True when `rest` is some of `parts` (those not in `used`, each at most once) one after another. */
function isConcatenationOf(rest: string, parts: readonly string[], used: Set<number>): boolean {
  if (rest === '') return true;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (used.has(i) || part === '' || !rest.startsWith(part)) continue;
    used.add(i);
    if (isConcatenationOf(rest.slice(part.length), parts, used)) return true;
    used.delete(i);
  }
  return false;
}

/** A configuration of the search: how it was reached, and what is left to try from it. */
interface Frame {
  /** The operation linearized to reach it (-1 at the root), and the value before that. */
  readonly op: number;
  readonly before: RegisterValue;
  /** The candidates (see `candidates`), the next one to try, and the blocking return's operation. */
  readonly ops: readonly number[];
  next: number;
  readonly blocking: number;
  /**
   * The value before the run of `info` operations that reached it (its own value when it was
   * reached by an `ok` operation, or is the root).
   */
  readonly runStart: RegisterValue;
}

/**
 * The search over some operations of one key (Porcupine's `checkSingle`, as an explicit stack of
 * configurations), from a given value. Entries are numbered: 0 is the list's head (a sentinel), then
 * two per operation, sorted by time (a call before a return at the same time, so operations that
 * touch are concurrent; `info` operations return at +infinity, and those called before `initial`'s
 * cut sort first).
 */
class Search {
  steps = 0;
  /** Where the search was deepest when stuck: the blocking operation, and the value there. */
  stuck: { op: Operation; value: RegisterValue; depth: number } | null = null;
  private readonly next: Int32Array;
  private readonly prev: Int32Array;
  /** Per entry: its operation. */
  private readonly opOf: Int32Array;
  /** Per entry: true for a call. */
  private readonly isCall: Uint8Array;
  /** Per operation: its call entry and its return entry. */
  private readonly callOf: Int32Array;
  private readonly returnOf: Int32Array;
  /** Per operation: its Zobrist keys (`ok` operations), or its number among the `info` ones (else -1). */
  private readonly keyLo: Int32Array;
  private readonly keyHi: Int32Array;
  private readonly infoIndex: Int32Array;
  /** The `info` operations, by their number. */
  private readonly infoOps: Operation[] = [];
  /**
   * Per operation: the `info` operation just before it (by call) that does exactly what it does
   * (same kind, value and expected value), or -1. Either of two such twins can stand in for the
   * other, so the later one is placed only once the earlier one is.
   */
  private readonly twinBefore: Int32Array;
  /** The `info` cas and append operations (operation numbers): what can go on a run. */
  private readonly infoOther: number[] = [];

  /**
   * `ops` to place, from `initial`; `taken` are `info` operations placed before (they are not in
   * `ops`; they are only reported back with the configurations `enumerate` finds).
   */
  constructor(
    private readonly ops: readonly Operation[],
    private readonly maxSteps: number,
    private readonly initial: RegisterValue,
    private readonly taken: ReadonlySet<Operation>,
  ) {
    const n = ops.length;
    const events: { time: number; call: boolean; op: number }[] = [];
    ops.forEach((op, i) => {
      events.push({ time: op.call, call: true, op: i });
      events.push({ time: op.status === 'info' ? Infinity : op.return!, call: false, op: i });
    });
    events.sort((a, b) => a.time - b.time || (a.call === b.call ? a.op - b.op : a.call ? -1 : 1));
    const size = events.length + 1;
    this.next = new Int32Array(size).fill(-1);
    this.prev = new Int32Array(size).fill(-1);
    this.opOf = new Int32Array(size).fill(-1);
    this.isCall = new Uint8Array(size);
    this.callOf = new Int32Array(n);
    this.returnOf = new Int32Array(n);
    events.forEach((e, k) => {
      const entry = k + 1;
      this.opOf[entry] = e.op;
      this.isCall[entry] = e.call ? 1 : 0;
      if (e.call) this.callOf[e.op] = entry;
      else this.returnOf[e.op] = entry;
      this.prev[entry] = entry - 1;
      this.next[entry - 1] = entry;
    });
    this.keyLo = zobrist(n, 0x9e3779b9);
    this.keyHi = zobrist(n, 0x85ebca6b);
    this.infoIndex = new Int32Array(n).fill(-1);
    ops.forEach((op, i) => {
      if (op.status !== 'info') return;
      this.infoIndex[i] = this.infoOps.length;
      this.infoOps.push(op);
      if (op.op === 'cas' || op.op === 'append') this.infoOther.push(i);
      this.keyLo[i] = 0;
      this.keyHi[i] = 0;
    });
    this.twinBefore = twinsBefore(ops);
  }

  /** True when some order explains every operation; false when none does; 'unknown' out of steps. */
  find(): boolean | 'unknown' {
    return this.run(null);
  }

  /**
   * Every configuration in which all the `ok` operations are placed (as soon as they are: the
   * `info` ones left over may come later), reported to `found` with the `info` operations taken
   * (those given to the constructor included). Dominated ones may be left out. True when it
   * finished; 'unknown' out of steps.
   */
  enumerate(found: (value: RegisterValue, taken: ReadonlySet<Operation>) => void): true | 'unknown' {
    const outcome = this.run(found);
    return outcome === 'unknown' ? outcome : true;
  }

  /** Remove operation `op`'s call and return from the list. */
  private lift(op: number): void {
    for (const e of [this.callOf[op]!, this.returnOf[op]!]) {
      const p = this.prev[e]!;
      const q = this.next[e]!;
      this.next[p] = q;
      if (q >= 0) this.prev[q] = p;
    }
  }

  /** Put operation `op`'s return and call back (the reverse of `lift`). */
  private unlift(op: number): void {
    for (const e of [this.returnOf[op]!, this.callOf[op]!]) {
      const p = this.prev[e]!;
      const q = this.next[e]!;
      this.next[p] = e;
      if (q >= 0) this.prev[q] = e;
    }
  }

  /** Flip operation `op` in the configuration (`ok`: the hash; `info`: the bitset). */
  private flip(op: number, info: Bits, hash: [number, number]): void {
    const i = this.infoIndex[op]!;
    if (i >= 0) info.flip(i);
    else {
      hash[0] ^= this.keyLo[op]!;
      hash[1] ^= this.keyHi[op]!;
    }
  }

  /**
   * The operations that may be linearized next: those whose call is in the list before the first
   * return (`ok` ones first, then `info` ones), and that return's operation (-1: none).
   */
  private candidates(): { ops: number[]; blocking: number } {
    const ok: number[] = [];
    const info: number[] = [];
    let e = this.next[0]!;
    for (; e >= 0 && this.isCall[e] === 1; e = this.next[e]!) {
      const op = this.opOf[e]!;
      (this.infoIndex[op]! >= 0 ? info : ok).push(op);
    }
    return { ops: info.length === 0 ? ok : ok.concat(info), blocking: e >= 0 ? this.opOf[e]! : -1 };
  }

  /** The `info` operations taken in configuration `info` (and before the search). */
  private takenIn(info: Bits): Set<Operation> {
    const out = new Set(this.taken);
    this.infoOps.forEach((op, i) => {
      if (info.has(i)) out.add(op);
    });
    return out;
  }

  /** Record that the search is stuck at `frame` with `value`, if it is the deepest yet. */
  private noteStuck(frame: Frame, depth: number, value: RegisterValue): void {
    if (frame.blocking < 0 || (this.stuck !== null && this.stuck.depth >= depth)) return;
    this.stuck = { op: this.ops[frame.blocking]!, value, depth };
  }

  /** Whether the `info` operation `op` may be placed now (giving `after`): see the rules it calls. */
  private mayPlaceInfo(frame: Frame, op: number, before: RegisterValue, after: RegisterValue, info: Bits): boolean {
    const twin = this.twinBefore[op]!;
    if (twin >= 0 && !info.has(this.infoIndex[twin]!)) return false;
    return this.someCandidateCanUse(frame, op, before, after, info);
  }

  /**
   * Whether an `info` operation `op` placed now (giving `after`) can be of use: a run of `info`
   * operations is only worth placing if an `ok` operation placed right after it needs its value (one
   * that does not can take its place: see `infoMadeNoDifference`, and the order with the run after
   * it reaches the same configuration), and the `ok` operations that may come next are the frame's
   * candidates (placing `info` operations does not change them). A read, a checked append and a cas
   * that swapped each need one exact value before them (not the run's first value: then they could
   * come before the run), which the rest of the run must reach: it can only append to `after`, or
   * swap in the new value of an `info` cas not yet taken (when the value it expects is reachable)
   * and append to that (`canReach`). A failed cas needs the run to end by moving the value off the
   * one it expects: `op` does that when it starts from it, else the rest of the run must reach it
   * first. An unchecked append may need any value: it keeps every run.
   */
  private someCandidateCanUse(
    frame: Frame,
    op: number,
    before: RegisterValue,
    after: RegisterValue,
    info: Bits,
  ): boolean {
    let rest: RestOfRun | null = null;
    for (const candidate of frame.ops) {
      if (this.infoIndex[candidate]! >= 0) break; // the `ok` candidates come first
      const needed = neededBefore(this.ops[candidate]!);
      if (needed === 'any') return true;
      if (needed === 'none') continue;
      // A failed cas needs the run to end with moving the value off its expected one.
      if ('notValue' in needed && needed.notValue === before) return true;
      const target = 'notValue' in needed ? needed.notValue : needed.value;
      if (!('notValue' in needed) && target === frame.runStart) continue;
      rest ??= this.restOfRun(op, info);
      if (canReach(after, target, rest, new Set())) return true;
    }
    return false;
  }

  /** What the rest of a run may do after `op`: the `info` cas and appends not yet taken, but `op`. */
  private restOfRun(op: number, info: Bits): RestOfRun {
    const cas: Operation[] = [];
    const appends: string[] = [];
    for (const other of this.infoOther) {
      if (other === op || info.has(this.infoIndex[other]!)) continue;
      const o = this.ops[other]!;
      if (o.op === 'cas') cas.push(o);
      else appends.push(o.value ?? '');
    }
    return { cas, appends };
  }

  /**
   * True when `op`, placed right after an `info` operation, would have given the same value without
   * it (a put or a delete, or an `info` write that replaces the value): the configuration reached is
   * then dominated by the one that places `op` in that `info` operation's stead, which the frame
   * before tries too. Without this, every subset of the `info` writes called before a put is tried.
   */
  private infoMadeNoDifference(frame: Frame, op: number, after: RegisterValue): boolean {
    return frame.op >= 0 && this.infoIndex[frame.op]! >= 0 && registerStep(frame.before, this.ops[op]!) === after;
  }

  /**
   * True when the configuration reached by placing the last `ok` operation `op` (from `value`, giving
   * `after`) right after an `info` operation need not be reported: `op` leaves the value as it is
   * and would have been accepted before that `info` operation too, so the same order with the `info`
   * operation moved past the cut reaches everything this one does, with fewer `info` operations taken
   * at the cut. Reporting both makes the set of configurations grow with every order of the `info`
   * operations that a read or a failed cas at the end of a segment cannot tell apart.
   */
  private canWaitForNextSegment(frame: Frame, op: number): boolean {
    if (frame.op < 0 || this.infoIndex[frame.op]! < 0) return false;
    return registerStep(frame.before, this.ops[op]!) === frame.before;
  }

  /**
   * The search: with `found` null, stop at the first configuration with every `ok` operation
   * placed (true); else report each and go on. False when nothing placed them all.
   */
  private run(found: ((value: RegisterValue, taken: ReadonlySet<Operation>) => void) | null): boolean | 'unknown' {
    const required = this.ops.length - this.infoOps.length;
    if (required === 0) {
      found?.(this.initial, this.taken);
      return true;
    }
    const values = new Map<RegisterValue, number>();
    const intern = (v: RegisterValue): number => {
      let id = values.get(v);
      if (id === undefined) values.set(v, (id = values.size));
      return id;
    };
    const explored = new Explored();
    const info = new Bits(this.infoOps.length);
    const hash: [number, number] = [0, 0];
    const stack: Frame[] = [{ op: -1, before: null, next: 0, runStart: this.initial, ...this.candidates() }];
    let value: RegisterValue = this.initial;
    let done = 0;
    let any = false;
    for (;;) {
      const frame = stack[stack.length - 1]!;
      if (frame.next < frame.ops.length) {
        const op = frame.ops[frame.next++]!;
        if (++this.steps > this.maxSteps) return 'unknown';
        const after = registerStep(value, this.ops[op]!);
        if (after === undefined || this.infoMadeNoDifference(frame, op, after)) continue;
        if (this.infoIndex[op]! >= 0 && !this.mayPlaceInfo(frame, op, value, after, info)) continue;
        this.flip(op, info, hash);
        // Inside a run of `info` operations the rules above look at how the run began, so that is
        // part of what makes two configurations the same.
        const run = this.infoIndex[op]! >= 0 ? `:${op}:${intern(value)}:${intern(frame.runStart)}` : '';
        if (!explored.add(`${hash[0]}:${hash[1]}:${intern(after)}${run}`, info)) {
          this.flip(op, info, hash);
          continue;
        }
        if (this.infoIndex[op]! < 0 && done + 1 === required) {
          if (found === null) return true;
          if (this.canWaitForNextSegment(frame, op)) {
            this.flip(op, info, hash);
            continue;
          }
          found(after, this.takenIn(info));
          any = true;
          this.flip(op, info, hash);
          continue;
        }
        if (this.infoIndex[op]! < 0) done++;
        this.lift(op);
        const runStart = this.infoIndex[op]! >= 0 ? frame.runStart : after;
        stack.push({ op, before: value, next: 0, runStart, ...this.candidates() });
        value = after;
        continue;
      }
      // Nothing more to try here: the blocking return's operation cannot be placed. Backtrack.
      this.noteStuck(frame, done, value);
      stack.pop();
      if (frame.op < 0) return any;
      if (this.infoIndex[frame.op]! < 0) done--;
      value = frame.before;
      this.flip(frame.op, info, hash);
      this.unlift(frame.op);
    }
  }
}

/**
 * Parse a history written one JSON operation per line (blank lines skipped). Throws a SyntaxError
 * naming the line of a line that is not JSON.
 */
export function parseHistory(text: string): Operation[] {
  const out: Operation[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      out.push(JSON.parse(line) as Operation);
    } catch (e) {
      throw new SyntaxError(`history line ${i + 1}: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  });
  return out;
}

/** A one-line description of an operation, for reports. */
export function describeOperation(op: Operation): string {
  const args =
    op.op === 'cas'
      ? `${JSON.stringify(op.expected ?? null)} -> ${JSON.stringify(op.value ?? null)}`
      : op.op === 'put' || op.op === 'append'
        ? JSON.stringify(op.value ?? null)
        : '';
  const output = op.status === 'ok' ? ` => ${JSON.stringify(op.output ?? null)}` : ` (${op.status})`;
  const end = op.status === 'info' ? '…' : String(op.return);
  return `client ${op.client}: ${op.op}(${op.key}${args === '' ? '' : ', ' + args})${output} [${op.call}, ${end}]`;
}
