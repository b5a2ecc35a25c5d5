/**
 * The compressed log (src/log.ts), checked against an explicit model: a log is an anchor plus an
 * array with one `{term, kind, config?}` record per entry. The compressed run keeps only the indices
 * where a term starts and the indices holding configurations; every query on it must answer exactly
 * what the explicit array answers (noraft's log.rs unit and model-based tests).
 */
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import type { ClusterConfig } from '../../src/config.js';
import {
  appendCommands,
  appendConfig,
  appendSuffix,
  appendTermStart,
  comparePositions,
  containsIndex,
  containsPosition,
  dropFirst,
  emptyEntries,
  entryAt,
  entryCount,
  forEachEntry,
  keepFirst,
  lastIndexWithTermAtMost,
  lastPosition,
  listEntries,
  prevPosition,
  since,
  spliceSuffix,
  stripCommonPrefix,
  termAt,
  truncateAfter,
  type LogEntries,
  type LogEntry,
} from '../../src/log.js';
import { flatItems } from '../../src/chunks.js';
import { validateLogEntries } from '../../src/validate.js';
import { fcParams } from '../support/seed';
import { deepFreeze } from '../support/freeze';
import { CONFIG_POOL, anchorArb, build, buildOpArb, type BuildOp } from './support';

// ---------------------------------------------------------------------------------------------
// The model: one record per entry

interface ModelEntry {
  readonly term: number;
  readonly kind: 'command' | 'termStart' | 'config';
  readonly config?: ClusterConfig;
}

/** The entry at index `prevIndex + 1 + k` is `entries[k]`. */
interface Model {
  readonly prevTerm: number;
  readonly prevIndex: number;
  readonly entries: readonly ModelEntry[];
}

const M = {
  empty: (prevTerm: number, prevIndex: number): Model => ({ prevTerm, prevIndex, entries: [] }),
  lastIndex: (m: Model): number => m.prevIndex + m.entries.length,
  lastTerm: (m: Model): number => (m.entries.length === 0 ? m.prevTerm : m.entries[m.entries.length - 1]!.term),
  /** The term at `index`, the anchor included; -1 outside `[prevIndex, lastIndex]`. */
  termAt(m: Model, index: number): number {
    if (index === m.prevIndex) return m.prevTerm;
    const e = m.entries[index - m.prevIndex - 1];
    return e === undefined ? -1 : e.term;
  },
  /** True when `index` is in `[prevIndex, lastIndex]` and its entry has term `term`. */
  contains: (m: Model, term: number, index: number): boolean =>
    index >= m.prevIndex && index <= M.lastIndex(m) && M.termAt(m, index) === term,
  push: (m: Model, ...entries: ModelEntry[]): Model => ({ ...m, entries: m.entries.concat(entries) }),
  commands: (m: Model, n: number): Model =>
    M.push(m, ...Array.from({ length: n }, () => ({ term: M.lastTerm(m), kind: 'command' as const }))),
  termStart: (m: Model, term: number): Model => M.push(m, { term, kind: 'termStart' }),
  config: (m: Model, config: ClusterConfig): Model => M.push(m, { term: M.lastTerm(m), kind: 'config', config }),
  /** Keep the entries with index <= `index`. */
  truncateAfter: (m: Model, index: number): Model => ({ ...m, entries: m.entries.slice(0, index - m.prevIndex) }),
  /** The entries after the position `(term, index)`, which becomes the anchor; null when not held. */
  since(m: Model, term: number, index: number): Model | null {
    if (!M.contains(m, term, index)) return null;
    return { prevTerm: term, prevIndex: index, entries: m.entries.slice(index - m.prevIndex) };
  },
  /** Entries of `m` up to `suffix`'s anchor, then `suffix`'s entries; null when the anchor is not held. */
  appendSuffix(m: Model, suffix: Model): Model | null {
    if (!M.contains(m, suffix.prevTerm, suffix.prevIndex)) return null;
    return { ...m, entries: M.truncateAfter(m, suffix.prevIndex).entries.concat(suffix.entries) };
  },
  /** The explicit entry list, in the shape `listEntries` returns. */
  list(m: Model): Array<{ index: number } & LogEntry> {
    return m.entries.map((e, k) => {
      const index = m.prevIndex + 1 + k;
      return e.kind === 'config'
        ? { index, kind: 'config', term: e.term, config: e.config! }
        : { index, kind: e.kind, term: e.term };
    });
  },
};

/** Build the same log in both representations from building steps. */
function buildBoth(anchor: { term: number; index: number }, ops: readonly BuildOp[]): [LogEntries, Model] {
  let real = emptyEntries(anchor.term, anchor.index);
  let model = M.empty(anchor.term, anchor.index);
  for (const op of ops) {
    real = build(real, op);
    model =
      op.op === 'commands'
        ? M.commands(model, op.n)
        : op.op === 'termStart'
          ? M.termStart(model, M.lastTerm(model) + op.delta)
          : M.config(model, CONFIG_POOL[op.c]!);
  }
  return [real, model];
}

// ---------------------------------------------------------------------------------------------
// Agreement and the representation invariant

/**
 * The representation invariant of a run: term starts and configurations sorted and strictly inside
 * `(prevIndex, lastIndex]`, term starts with strictly increasing terms above `prevTerm`, and
 * `lastTerm` the term of the last term start (or `prevTerm`). Returns the violations found.
 */
function malformations(log: LogEntries): string[] {
  const problems: string[] = [];
  if (log.prevIndex > log.lastIndex) problems.push(`prevIndex ${log.prevIndex} > lastIndex ${log.lastIndex}`);
  let index = log.prevIndex;
  let term = log.prevTerm;
  for (const s of flatItems(log.termStarts)) {
    if (s.index <= index || s.index > log.lastIndex)
      problems.push(`term start at ${s.index} outside (${index}, ${log.lastIndex}]`);
    if (s.term <= term) problems.push(`term start ${s.term} at ${s.index} not above ${term}`);
    index = s.index;
    term = s.term;
  }
  if (log.lastTerm !== term) problems.push(`lastTerm ${log.lastTerm} but the last term start says ${term}`);
  index = log.prevIndex;
  for (const c of log.configs) {
    if (c.index <= index || c.index > log.lastIndex)
      problems.push(`config at ${c.index} outside (${index}, ${log.lastIndex}]`);
    index = c.index;
  }
  // The library's own boundary check must agree.
  const own = validateLogEntries(log);
  if ((own === null) !== (problems.length === 0)) problems.push(`validateLogEntries says ${own}`);
  return problems;
}

function expectWellFormed(log: LogEntries): void {
  expect(malformations(log)).toEqual([]);
}

/** Where the compressed run and the model disagree (empty when every query agrees). */
function disagreements(real: LogEntries, model: Model): string[] {
  const problems = malformations(real);
  const last = M.lastIndex(model);
  const same = (what: string, got: unknown, want: unknown): void => {
    if (!isDeepStrictEqual(got, want))
      problems.push(`${what}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
  };
  same('prevPosition', prevPosition(real), { term: model.prevTerm, index: model.prevIndex });
  same('lastPosition', lastPosition(real), { term: M.lastTerm(model), index: last });
  same('entryCount', entryCount(real), model.entries.length);
  // The compressed form is canonical: exactly the model's term starts and configurations.
  same(
    'termStarts',
    flatItems(real.termStarts),
    model.entries.flatMap((e, k) => (e.kind === 'termStart' ? [{ index: model.prevIndex + 1 + k, term: e.term }] : [])),
  );
  same(
    'configs',
    real.configs,
    model.entries.flatMap((e, k) =>
      e.kind === 'config' ? [{ index: model.prevIndex + 1 + k, config: e.config }] : [],
    ),
  );
  const list = M.list(model);
  same('listEntries', listEntries(real), list);
  for (let i = Math.max(0, model.prevIndex - 2); i <= last + 2; i++) {
    const term = M.termAt(model, i);
    same(`termAt(${i})`, termAt(real, i), term);
    same(`containsIndex(${i})`, containsIndex(real, i), i >= model.prevIndex && i <= last);
    const k = i - model.prevIndex - 1;
    const want = k >= 0 && k < list.length ? { ...list[k]! } : null;
    if (want !== null) delete (want as { index?: number }).index;
    same(`entryAt(${i})`, entryAt(real, i), want);
    // The right term, its neighbours, term 0, and -1 (what termAt answers outside the run: never held).
    for (const t of new Set([-1, 0, term - 1, term, term + 1, model.prevTerm])) {
      same(`containsPosition(${t}, ${i})`, containsPosition(real, t, i), M.contains(model, t, i));
    }
  }
  // Where a peer's log can still match: every limit inside the run, every term from below the anchor's.
  for (let max = model.prevIndex; max <= last; max++) {
    for (let t = Math.max(0, model.prevTerm - 1); t <= M.lastTerm(model) + 1; t++) {
      let want = -1;
      for (let j = max; j >= model.prevIndex && want === -1; j--) if (M.termAt(model, j) <= t) want = j;
      same(`lastIndexWithTermAtMost(${t}, ${max})`, lastIndexWithTermAtMost(real, t, max), want);
    }
  }
  // Walks over ranges that start and end before, at, inside and past the run, clipped to it.
  const ends = [
    model.prevIndex - 1,
    model.prevIndex,
    model.prevIndex + 1,
    Math.floor((model.prevIndex + last) / 2),
    last,
    last + 1,
  ];
  for (const from of ends) {
    for (const to of ends) {
      const seen: Array<{ index: number } & LogEntry> = [];
      forEachEntry(real, from, to, (index, term, kind, config) =>
        seen.push(kind === 'config' ? { index, kind, term, config: config! } : { index, kind, term }),
      );
      same(
        `forEachEntry(${from}, ${to})`,
        seen,
        list.filter((e) => e.index >= from && e.index <= to),
      );
    }
  }
  return problems;
}

function expectAgrees(real: LogEntries, model: Model): void {
  expect(disagreements(real, model)).toEqual([]);
}

// ---------------------------------------------------------------------------------------------
// Operations on two logs at once (so that suffixes can be taken from the other one)

type Op =
  | { readonly op: 'commands'; readonly log: 0 | 1; readonly n: number }
  | { readonly op: 'termStart'; readonly log: 0 | 1; readonly delta: number }
  | { readonly op: 'config'; readonly log: 0 | 1; readonly c: number }
  | { readonly op: 'truncateAfter'; readonly log: 0 | 1; readonly k: number }
  | { readonly op: 'since'; readonly log: 0 | 1; readonly k: number; readonly termDelta: number }
  | { readonly op: 'appendSuffix'; readonly log: 0 | 1; readonly k: number }
  | { readonly op: 'fork'; readonly log: 0 | 1 }
  | { readonly op: 'dropFirst'; readonly log: 0 | 1; readonly n: number }
  | { readonly op: 'keepFirst'; readonly log: 0 | 1; readonly n: number };

const which = fc.constantFrom<0 | 1>(0, 1);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ op: fc.constant('commands' as const), log: which, n: fc.integer({ min: 1, max: 4 }) }),
  },
  {
    weight: 3,
    arbitrary: fc.record({ op: fc.constant('termStart' as const), log: which, delta: fc.integer({ min: 1, max: 2 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('config' as const),
      log: which,
      c: fc.nat({ max: CONFIG_POOL.length - 1 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({ op: fc.constant('truncateAfter' as const), log: which, k: fc.nat({ max: 40 }) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      op: fc.constant('since' as const),
      log: which,
      k: fc.nat({ max: 40 }),
      termDelta: fc.constantFrom(0, 0, 1, -1),
    }),
  },
  { weight: 4, arbitrary: fc.record({ op: fc.constant('appendSuffix' as const), log: which, k: fc.nat({ max: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('fork' as const), log: which }) },
  {
    weight: 1,
    arbitrary: fc.record({ op: fc.constant('dropFirst' as const), log: which, n: fc.integer({ min: -1, max: 8 }) }),
  },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('keepFirst' as const), log: which, n: fc.nat({ max: 8 }) }) },
);

/** Apply `op` to both representations of the log it targets (the pairs are updated in place). */
function apply(op: Op, real: [LogEntries, LogEntries], model: [Model, Model]): void {
  const t = op.log;
  const o: 0 | 1 = t === 0 ? 1 : 0;
  const r = deepFreeze(real[t]);
  const m = model[t];
  const len = m.entries.length;
  switch (op.op) {
    case 'commands':
      real[t] = appendCommands(r, op.n);
      model[t] = M.commands(m, op.n);
      return;
    case 'termStart':
      real[t] = appendTermStart(r, r.lastTerm + op.delta);
      model[t] = M.termStart(m, M.lastTerm(m) + op.delta);
      return;
    case 'config':
      real[t] = appendConfig(r, CONFIG_POOL[op.c]!);
      model[t] = M.config(m, CONFIG_POOL[op.c]!);
      return;
    case 'truncateAfter': {
      // Anywhere from the anchor to two past the end (which is a no-op).
      const index = m.prevIndex + (op.k % (len + 3));
      real[t] = truncateAfter(r, index);
      model[t] = M.truncateAfter(m, index);
      if (index >= M.lastIndex(m)) expect(real[t]).toBe(r);
      return;
    }
    case 'since': {
      // A position held by the log, or one with the wrong term, or one past its end.
      const index = m.prevIndex + (op.k % (len + 2));
      const term = Math.max(0, M.termAt(m, index) + op.termDelta);
      const got = since(r, term, index);
      const want = M.since(m, term, index);
      if (want === null) {
        expect(got).toBeNull();
      } else {
        expect(got).not.toBeNull();
        real[t] = got!;
        model[t] = want;
      }
      return;
    }
    case 'appendSuffix': {
      // The suffix of the other log after one of its positions: what a peer would send or store.
      const other = model[o];
      const j = other.prevIndex + (op.k % (other.entries.length + 1));
      const suffix = since(real[o], termAt(real[o], j), j)!;
      expectAgrees(suffix, M.since(other, M.termAt(other, j), j)!);
      const got = appendSuffix(r, deepFreeze(suffix));
      const want = M.appendSuffix(m, M.since(other, M.termAt(other, j), j)!);
      if (want === null) {
        expect(got).toBeNull();
      } else {
        expect(got).not.toBeNull();
        real[t] = got!;
        model[t] = want;
      }
      return;
    }
    case 'fork':
      real[t] = real[o];
      model[t] = model[o];
      return;
    case 'dropFirst': {
      const got = dropFirst(r, op.n);
      const k = Math.max(0, Math.min(op.n, len));
      const anchor = m.prevIndex + k;
      if (op.n <= 0) expect(got).toBe(r);
      real[t] = got;
      model[t] = M.since(m, M.termAt(m, anchor), anchor)!;
      return;
    }
    case 'keepFirst':
      real[t] = keepFirst(r, op.n);
      model[t] = M.truncateAfter(m, m.prevIndex + Math.min(op.n, len));
      return;
  }
}

describe('the compressed log agrees with an explicit entry array', () => {
  test('after every operation of a random sequence (two logs, suffixes taken from one into the other)', () => {
    fc.assert(
      fc.property(anchorArb, fc.array(opArb, { maxLength: 40, size: 'max' }), (anchor, ops) => {
        const real: [LogEntries, LogEntries] = [
          emptyEntries(anchor.term, anchor.index),
          emptyEntries(anchor.term, anchor.index),
        ];
        const model: [Model, Model] = [M.empty(anchor.term, anchor.index), M.empty(anchor.term, anchor.index)];
        for (const op of ops) {
          apply(op, real, model);
          expectAgrees(real[0], model[0]);
          expectAgrees(real[1], model[1]);
        }
      }),
      fcParams('log: model-based operation sequences', 200),
    );
  });

  test('appendSuffix then since: the suffix comes back unchanged', () => {
    fc.assert(
      fc.property(
        anchorArb,
        fc.array(buildOpArb, { maxLength: 8 }),
        fc.nat(),
        fc.array(buildOpArb, { maxLength: 6 }),
        (a, ops, k, more) => {
          const [log] = buildBoth(a, ops);
          const j = log.prevIndex + (k % (entryCount(log) + 1));
          const suffix = more.reduce(build, emptyEntries(termAt(log, j), j));
          const joined = appendSuffix(log, suffix)!;
          expect(joined).not.toBeNull();
          expect(since(joined, suffix.prevTerm, suffix.prevIndex)).toEqual(suffix);
          expect(truncateAfter(joined, j)).toEqual(truncateAfter(log, j));
        },
      ),
      fcParams('log: appendSuffix/since round trip'),
    );
  });
});

describe('log runs, by example (noraft log.rs)', () => {
  const cfg = CONFIG_POOL[1]!;
  // [config @1 (t0), termStart @2 (t1), cmd @3, cmd @4, termStart @5 (t3), cmd @6]
  const log = appendCommands(
    appendTermStart(appendCommands(appendTermStart(appendConfig(emptyEntries(0, 0), cfg), 1), 2), 3),
    1,
  );

  test('entries are typed by index and carry their term', () => {
    expect(listEntries(log)).toEqual([
      { index: 1, kind: 'config', term: 0, config: cfg },
      { index: 2, kind: 'termStart', term: 1 },
      { index: 3, kind: 'command', term: 1 },
      { index: 4, kind: 'command', term: 1 },
      { index: 5, kind: 'termStart', term: 3 },
      { index: 6, kind: 'command', term: 3 },
    ]);
    expect(entryAt(log, 0)).toBeNull(); // the anchor is a position, not an entry
    expect(entryAt(log, 7)).toBeNull();
    expect(termAt(log, 0)).toBe(0);
    expect(termAt(log, 7)).toBe(-1);
  });

  test('the representation grows with term starts and configurations, not with commands', () => {
    const big = appendCommands(log, 1_000_000);
    expect(flatItems(big.termStarts)).toHaveLength(2);
    expect(big.configs).toHaveLength(1);
    expect(entryCount(big)).toBe(1_000_006);
    expect(termAt(big, 1_000_006)).toBe(3);
  });

  test('truncate then append: the tail is replaced', () => {
    const cut = truncateAfter(log, 3);
    expect(lastPosition(cut)).toEqual({ term: 1, index: 3 });
    expect(cut.termStarts).toEqual([[{ index: 2, term: 1 }]]);
    const again = appendCommands(appendTermStart(cut, 4), 2);
    expect(lastPosition(again)).toEqual({ term: 4, index: 6 });
    expect(termAt(again, 5)).toBe(4);
  });

  test('truncateAfter far beyond the end is a no-op (the same object)', () => {
    expect(truncateAfter(log, Number.MAX_SAFE_INTEGER)).toBe(log);
  });

  test('a compacted run (high anchor) truncates and answers relative to its anchor', () => {
    const high = appendCommands(appendTermStart(emptyEntries(7, 1_000_000), 8), 3);
    expect(termAt(high, 1_000_000)).toBe(7);
    expect(termAt(high, 999_999)).toBe(-1);
    expect(truncateAfter(high, 1_000_000)).toEqual(emptyEntries(7, 1_000_000));
    expect(containsPosition(high, 7, 1_000_000)).toBe(true);
  });

  test('since: the suffix after a held position, null otherwise', () => {
    expect(since(log, 1, 4)).toEqual(appendCommands(appendTermStart(emptyEntries(1, 4), 3), 1));
    expect(since(log, 3, 4)).toBeNull(); // index 4 holds term 1
    expect(since(log, 3, 6)).toEqual(emptyEntries(3, 6));
    expect(since(log, 3, 7)).toBeNull();
    expect(since(log, 0, 0)).toBe(log);
  });

  test('appendSuffix replaces after the anchor, truncates with an empty suffix, refuses a missing anchor', () => {
    const replaced = appendSuffix(log, appendCommands(appendTermStart(emptyEntries(1, 3), 2), 1))!;
    expect(listEntries(replaced).map((e) => [e.kind, e.term])).toEqual([
      ['config', 0],
      ['termStart', 1],
      ['command', 1],
      ['termStart', 2],
      ['command', 2],
    ]);
    expect(appendSuffix(log, emptyEntries(1, 2))).toEqual(truncateAfter(log, 2));
    expect(appendSuffix(log, emptyEntries(2, 2))).toBeNull(); // wrong term at index 2
    expect(appendSuffix(log, emptyEntries(3, 9))).toBeNull(); // beyond the end
  });

  test('dropFirst and keepFirst split a run in two', () => {
    for (let n = 0; n <= entryCount(log) + 1; n++) {
      const head = keepFirst(log, n);
      const tail = dropFirst(log, n);
      expect(lastPosition(head)).toEqual(prevPosition(tail));
      expect(spliceSuffix(head, tail)).toEqual(log);
    }
  });

  test('positions are ordered by term, then index (Raft\'s "at least as up to date")', () => {
    expect(comparePositions(2, 1, 1, 100)).toBe(1);
    expect(comparePositions(1, 100, 2, 1)).toBe(-1);
    expect(comparePositions(2, 5, 2, 6)).toBe(-1);
    expect(comparePositions(2, 6, 2, 5)).toBe(1);
    expect(comparePositions(2, 6, 2, 6)).toBe(0);
  });
});

// ---------------------------------------------------------------------------------------------
// stripCommonPrefix

/**
 * Two logs that obey Raft's Log Matching property: a common prefix, then a continuation in the
 * prefix's last term of which the local log got the first `k1` entries and the remote log the
 * first `k2`, then each log's own tail, whose terms the other log never uses.
 */
interface Divergence {
  readonly local: LogEntries;
  readonly remoteFull: LogEntries;
  /** The last index both logs hold with the same term. */
  readonly common: number;
}

const divergenceArb: fc.Arbitrary<Divergence> = fc
  .record({
    anchor: anchorArb,
    prefix: fc.array(buildOpArb, { maxLength: 5 }),
    continuation: fc.array(fc.constantFrom<'cmd' | 'cfg'>('cmd', 'cfg'), { maxLength: 5 }),
    k1: fc.nat({ max: 5 }),
    k2: fc.nat({ max: 5 }),
    localTail: fc.array(fc.oneof(fc.constant('termStart' as const), fc.integer({ min: 1, max: 3 })), { maxLength: 4 }),
    remoteTail: fc.array(fc.oneof(fc.constant('termStart' as const), fc.integer({ min: 1, max: 3 })), { maxLength: 4 }),
    configOnlyRemoteTail: fc.boolean(),
  })
  .map(({ anchor, prefix, continuation, k1, k2, localTail, remoteTail, configOnlyRemoteTail }) => {
    const base = prefix.reduce(build, emptyEntries(anchor.term, anchor.index));
    const cont = (log: LogEntries, k: number): LogEntries =>
      continuation
        .slice(0, k)
        .reduce((l, e) => (e === 'cmd' ? appendCommands(l, 1) : appendConfig(l, CONFIG_POOL[0]!)), log);
    // Fresh terms: the local tail uses odd terms, the remote tail even ones, both above everything so far.
    const top = base.lastTerm + 1;
    let nextLocal = top % 2 === 1 ? top : top + 1;
    let nextRemote = top % 2 === 0 ? top : top + 1;
    let local = cont(base, Math.min(k1, continuation.length));
    let remoteFull = cont(base, Math.min(k2, continuation.length));
    // A tail must begin with a term start (otherwise it would continue the shared term).
    for (const [k, t] of localTail.entries()) {
      if (k === 0 || t === 'termStart') {
        local = appendTermStart(local, nextLocal);
        nextLocal += 2;
      }
      if (t !== 'termStart') local = appendCommands(local, t);
    }
    for (const [k, t] of remoteTail.entries()) {
      if (k === 0 || t === 'termStart') {
        remoteFull = appendTermStart(remoteFull, nextRemote);
        nextRemote += 2;
      }
      if (t !== 'termStart')
        remoteFull = configOnlyRemoteTail ? appendConfig(remoteFull, CONFIG_POOL[2]!) : appendCommands(remoteFull, t);
    }
    // Past the shared continuation the logs differ: the tails' terms are fresh and disjoint.
    return { local, remoteFull, common: base.lastIndex + Math.min(k1, k2, continuation.length) };
  });

/** The last index `<= common` where `remote` starts a term, or its anchor. */
function lastTermStartAtOrBefore(remote: LogEntries, common: number): number {
  let index = remote.prevIndex;
  for (const s of flatItems(remote.termStarts)) if (s.index <= common) index = s.index;
  return index;
}

describe('stripCommonPrefix: what a follower must append from an AppendEntries', () => {
  test('the splice rebuilds the remote log; nothing before the common point is skipped, nothing divergent kept', () => {
    fc.assert(
      fc.property(divergenceArb, fc.nat(), fc.nat(), (d, a, cut) => {
        const { local, remoteFull, common } = d;
        // The message: the remote log from an anchor both logs hold, possibly cut short.
        const anchor = remoteFull.prevIndex + (a % (common - remoteFull.prevIndex + 1));
        const sent = since(remoteFull, termAt(remoteFull, anchor), anchor)!;
        const remote = cut % 3 === 0 ? keepFirst(sent, cut % (entryCount(sent) + 1)) : sent;
        // The precondition: the follower holds the anchor but not the last position.
        expect(containsPosition(local, remote.prevTerm, remote.prevIndex)).toBe(true);
        fc.pre(!containsPosition(local, remote.lastTerm, remote.lastIndex));

        const missing = stripCommonPrefix(deepFreeze(remote), deepFreeze(local));
        expectWellFormed(missing);
        // A suffix of the remote run ...
        expect(lastPosition(missing)).toEqual(lastPosition(remote));
        expect(since(remote, missing.prevTerm, missing.prevIndex)).toEqual(missing);
        // ... anchored where the follower agrees, at or before the true common point ...
        expect(containsPosition(local, missing.prevTerm, missing.prevIndex)).toBe(true);
        expect(missing.prevIndex).toBeLessThanOrEqual(Math.max(common, remote.prevIndex));
        // ... and never before the last term start the two logs share (noraft's walk is exact to that).
        expect(missing.prevIndex).toBeGreaterThanOrEqual(
          lastTermStartAtOrBefore(remote, Math.min(common, remote.lastIndex)),
        );
        // Splicing it gives the follower exactly the remote log from the remote anchor on.
        const spliced = spliceSuffix(local, missing);
        expectWellFormed(spliced);
        expect(since(spliced, remote.prevTerm, remote.prevIndex)).toEqual(remote);
        expect(truncateAfter(spliced, remote.prevIndex)).toEqual(truncateAfter(local, remote.prevIndex));
      }),
      fcParams('log: stripCommonPrefix on Log-Matching divergences', 300),
    );
  });

  test('exact (starts right after the common point) when the logs part at a remote term start or the local log ends first', () => {
    fc.assert(
      fc.property(divergenceArb, (d) => {
        const { local, remoteFull, common } = d;
        const remote = since(remoteFull, termAt(remoteFull, remoteFull.prevIndex), remoteFull.prevIndex)!;
        fc.pre(!containsPosition(local, remote.lastTerm, remote.lastIndex));
        const partsAtTermStart = flatItems(remote.termStarts).some((s) => s.index === common + 1);
        fc.pre(partsAtTermStart || local.lastIndex === common);
        expect(prevPosition(stripCommonPrefix(remote, local))).toEqual({ term: termAt(local, common), index: common });
      }),
      fcParams('log: stripCommonPrefix exact cases'),
    );
  });

  // [config @1 (t0), termStart @2 (t1), cmd @3, cmd @4]
  const shared = appendCommands(appendTermStart(appendConfig(emptyEntries(0, 0), CONFIG_POOL[1]!), 1), 2);

  test('same terms, remote longer: only the entries after the local end', () => {
    const remote = since(appendCommands(shared, 3), 1, 2)!;
    expect(stripCommonPrefix(remote, shared)).toEqual(appendCommands(emptyEntries(1, 4), 3));
  });

  test('remote anchored at the local end: returned unchanged (the same object)', () => {
    const remote = appendCommands(emptyEntries(1, 4), 2);
    expect(stripCommonPrefix(remote, shared)).toBe(remote);
  });

  test('divergence in the middle, at a remote term start: from just before it', () => {
    const local = appendCommands(appendTermStart(shared, 2), 2); // t2 @5..7
    const remote = since(appendCommands(appendTermStart(shared, 3), 1), 1, 2)!; // t3 @5..6
    expect(stripCommonPrefix(remote, local)).toEqual(appendCommands(appendTermStart(emptyEntries(1, 4), 3), 1));
  });

  test('divergence inside a term run: resent from the last shared term start (noraft: safe, not minimal)', () => {
    const local = appendCommands(appendTermStart(shared, 2), 1); // t1 up to @4, then t2 @5..6
    const remote = since(appendCommands(appendTermStart(appendCommands(shared, 2), 3), 1), 0, 1)!; // t1 up to @6, t3 @7..8
    const missing = stripCommonPrefix(remote, local);
    // The true common point is (1, 4); noraft's walk stops at the term start (1, 2).
    expect(prevPosition(missing)).toEqual({ term: 1, index: 2 });
    expect(since(spliceSuffix(local, missing), 0, 1)).toEqual(remote);
  });

  test('remote terms outside the local range, remote holding the local end: strip exactly there', () => {
    const local = appendCommands(shared, 1); // t1 up to @5
    const remote = since(appendCommands(appendTermStart(appendCommands(shared, 3), 4), 1), 1, 3)!; // t1 up to @7, t4 @8..9
    expect(stripCommonPrefix(remote, local)).toEqual(
      appendCommands(appendTermStart(appendCommands(emptyEntries(1, 5), 2), 4), 1),
    );
  });

  test('remote terms local never had, one beyond the local end: from the last agreeing position', () => {
    const local = appendTermStart(shared, 2); // t2 @5
    // t3 @5..6, t5 @7..8: term 3 is unknown locally, (5, 7) lies beyond the local end.
    const remote = since(appendCommands(appendTermStart(appendCommands(appendTermStart(shared, 3), 1), 5), 1), 1, 3)!;
    const missing = stripCommonPrefix(remote, local);
    expect(prevPosition(missing)).toEqual({ term: 1, index: 4 });
    expect(since(spliceSuffix(local, missing), 1, 3)).toEqual(remote);
  });

  test('a config-only remote (no term start) is returned unchanged', () => {
    const local = appendCommands(appendTermStart(shared, 2), 1);
    const remote = appendConfig(appendConfig(emptyEntries(1, 3), CONFIG_POOL[2]!), CONFIG_POOL[3]!); // t1 @4 (cfg), @5 (cfg)
    expect(containsPosition(local, remote.lastTerm, remote.lastIndex)).toBe(false);
    const missing = stripCommonPrefix(remote, local);
    expect(missing).toBe(remote);
    expect(since(spliceSuffix(local, missing), 1, 3)).toEqual(remote);
  });
});
