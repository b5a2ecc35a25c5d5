/**
 * Chunked lists (how a log holds its term starts) against a flat array as the model, with lists long
 * enough to span many chunks; and the log functions over a log with hundreds of term starts, against
 * a walk of the same log entry by entry.
 */
import fc from 'fast-check';
import {
  CHUNK_SIZE,
  concatItems,
  firstWhere,
  flatItems,
  forEachItemBetween,
  itemAt,
  itemCount,
  itemsAbove,
  itemsUpTo,
  lastAtOrBelow,
  pushItem,
  toChunks,
  type Chunked,
} from '../../src/chunks.js';
import {
  appendCommands,
  appendTermStart,
  emptyEntries,
  entryAt,
  forEachEntry,
  lastIndexWithTermAtMost,
  since,
  spliceSuffix,
  termAt,
  truncateAfter,
  type LogEntries,
} from '../../src/log.js';
import { parseLogEntries, validateLogEntries } from '../../src/validate.js';
import { fcParams } from '../support/seed';

interface Item {
  readonly index: number;
  readonly term: number;
}

/** The contract of a chunked list: non-empty chunks of at most CHUNK_SIZE, indices increasing. */
function expectWellFormed(list: Chunked<Item>): void {
  let prev = -Infinity;
  list.forEach((chunk, c) => {
    if (chunk.length === 0 || chunk.length > CHUNK_SIZE) throw new Error(`chunk ${c} holds ${chunk.length} items`);
    for (const item of chunk) {
      if (!(item.index > prev)) throw new Error(`index ${item.index} after ${prev} in chunk ${c}`);
      prev = item.index;
    }
  });
}

/**
 * Items at indices 1, 3, 5, ... (gaps, so lookups between items are tested too), or with `gap` 1 at
 * 1, 2, 3, ... (so a chunk's last item and the next chunk's first are neighbours); term = position + 1.
 */
function items(n: number, from = 0, gap: 1 | 2 = 2): Item[] {
  return Array.from({ length: n }, (_, k) => ({ index: gap * (from + k) + 1, term: from + k + 1 }));
}

/** Builds a list of `n` items the way a log does: one push at a time, or in pieces joined by concat. */
const listArb = fc
  .tuple(
    fc.integer({ min: 0, max: 3 * CHUNK_SIZE + 7 }),
    fc.array(fc.integer({ min: 1, max: 300 }), { maxLength: 8 }),
    fc.constantFrom<1 | 2>(1, 2),
  )
  .map(([n, pieces, gap]) => {
    const all = items(n, 0, gap);
    let list: Chunked<Item> = [];
    let at = 0;
    for (const size of pieces) {
      const piece = all.slice(at, at + size);
      list = concatItems(list, toChunks(piece));
      at += piece.length;
    }
    for (; at < n; at++) list = pushItem(list, all[at]!);
    return { all, list };
  });

describe('chunked lists behave as the flat sorted array they hold', () => {
  test('building by push and concat keeps the contract and the items; lookups agree with the flat array', () => {
    fc.assert(
      fc.property(listArb, fc.integer({ min: -2, max: 2 * (3 * CHUNK_SIZE + 8) }), ({ all, list }, at) => {
        expectWellFormed(list);
        expect(flatItems(list)).toEqual(all);
        expect(itemCount(list)).toBe(all.length);
        const below = all.filter((x) => x.index <= at);
        expect(lastAtOrBelow(list, at)).toEqual(below[below.length - 1]);
        expect(itemAt(list, at)).toEqual(all.find((x) => x.index === at));
        expect(firstWhere(list, (x) => x.index > at)).toEqual(all.find((x) => x.index > at));
        const upTo = itemsUpTo(list, at);
        const above = itemsAbove(list, at);
        expectWellFormed(upTo);
        expectWellFormed(above);
        expect(flatItems(upTo)).toEqual(below);
        expect(flatItems(above)).toEqual(all.filter((x) => x.index > at));
        expect(flatItems(concatItems(upTo, above))).toEqual(all);
        const seen: Item[] = [];
        forEachItemBetween(list, at, at + 40, (x) => seen.push(x));
        expect(seen).toEqual(all.filter((x) => x.index >= at && x.index <= at + 40));
      }),
      fcParams('chunks: model', 150),
    );
  });

  test('appending copies at most one chunk: every full chunk is shared with the list before', () => {
    let list: Chunked<Item> = toChunks(items(10 * CHUNK_SIZE + 3));
    for (let k = 0; k < 2 * CHUNK_SIZE; k++) {
      const next = pushItem(list, items(1, 10 * CHUNK_SIZE + 3 + k)[0]!);
      const shared = next.filter((chunk, c) => chunk === list[c]).length;
      expect(shared).toBeGreaterThanOrEqual(list.length - 1);
      list = next;
    }
    expectWellFormed(list);
  });

  test('a flat list splits into full chunks and one partial chunk at most, none empty', () => {
    for (const n of [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 2 * CHUNK_SIZE, 2 * CHUNK_SIZE + 5]) {
      const list = toChunks(items(n));
      expectWellFormed(list);
      expect([n, list.map((chunk) => chunk.length)]).toEqual([
        n,
        Array.from({ length: Math.ceil(n / CHUNK_SIZE) }, (_, c) => Math.min(CHUNK_SIZE, n - c * CHUNK_SIZE)),
      ]);
    }
  });

  test('a cut that keeps everything returns the list itself, and a cut keeps every whole chunk shared', () => {
    const list = toChunks(items(3 * CHUNK_SIZE + 10));
    const last = list[list.length - 1]!;
    const lastIndex = last[last.length - 1]!.index;
    expect(itemsUpTo(list, lastIndex)).toBe(list);
    expect(itemsUpTo(list, lastIndex + 5)).toBe(list);
    expect(itemsAbove(list, 0)).toBe(list);
    // Up to the last item of the second chunk: the first two chunks themselves, nothing copied.
    const second = list[1]!;
    const upTo = itemsUpTo(list, second[second.length - 1]!.index);
    expect(upTo).toHaveLength(2);
    expect(upTo[0]).toBe(list[0]);
    expect(upTo[1]).toBe(second);
    // Above the last item of the first chunk: the later chunks themselves.
    const above = itemsAbove(list, list[0]![CHUNK_SIZE - 1]!.index);
    expect(above).toHaveLength(3);
    above.forEach((chunk, c) => expect(chunk).toBe(list[c + 1]));
  });

  test('a walk that starts at a chunk boundary starts at the right item', () => {
    const all = items(3 * CHUNK_SIZE, 0, 1); // indices 1, 2, 3, ...: chunks end at 256, 512
    const list = toChunks(all);
    for (const boundary of [CHUNK_SIZE, 2 * CHUNK_SIZE]) {
      for (let from = boundary - 2; from <= boundary + 2; from++) {
        const seen: number[] = [];
        forEachItemBetween(list, from, from + 3, (x) => seen.push(x.index));
        expect([from, seen]).toEqual([from, [from, from + 1, from + 2, from + 3]]);
      }
    }
  });

  test('many one-item concats do not fragment the list', () => {
    let list: Chunked<Item> = [];
    for (const x of items(5 * CHUNK_SIZE)) list = concatItems(list, [[x]]);
    expect(list.length).toBe(5);
    expectWellFormed(list);
  });
});

/** A log with `n` term starts (terms 1..n) and a few commands after each, built by appends. */
function longLog(n: number): LogEntries {
  let log = emptyEntries(0, 0);
  for (let t = 1; t <= n; t++) log = appendCommands(appendTermStart(log, t), t % 3);
  return log;
}

/** The term of every index of a log, from a walk entry by entry (index 0 is the anchor). */
function termsByWalk(log: LogEntries): number[] {
  const terms = [log.prevTerm];
  forEachEntry(log, log.prevIndex + 1, log.lastIndex, (_, term) => terms.push(term));
  return terms;
}

describe('a log with hundreds of term starts across many chunks', () => {
  const log = longLog(3 * CHUNK_SIZE + 11);
  const terms = termsByWalk(log);

  test('it is well formed, and lookups agree with a walk of its entries', () => {
    expect(validateLogEntries(log)).toBeNull();
    expect(log.termStarts.length).toBeGreaterThan(3);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: log.lastIndex }), fc.nat({ max: 3 * CHUNK_SIZE + 20 }), (i, t) => {
        expect(termAt(log, i)).toBe(terms[i]);
        const kind = entryAt(log, i)?.kind;
        if (i > 0) expect(kind === 'termStart').toBe(terms[i] !== terms[i - 1]);
        let expected = -1;
        for (let j = i; j >= 0; j--) {
          if (terms[j]! <= t) {
            expected = j;
            break;
          }
        }
        expect(lastIndexWithTermAtMost(log, t, i)).toBe(expected);
      }),
      fcParams('chunks: long log lookups', 300),
    );
  });

  test('since, truncateAfter and a splice give the logs the walk says', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: log.lastIndex }), fc.integer({ min: 1, max: 5 }), (i, extra) => {
        const tail = since(log, terms[i]!, i)!;
        expect(validateLogEntries(tail)).toBeNull();
        expect(termsByWalk(tail)).toEqual(terms.slice(i));
        const head = truncateAfter(log, i);
        expect(validateLogEntries(head)).toBeNull();
        expect(termsByWalk(head)).toEqual(terms.slice(0, i + 1));
        // A new leader's term start after index i: what a follower splices when its tail diverged.
        const newer = appendCommands(appendTermStart(emptyEntries(terms[i]!, i), log.lastTerm + 1), extra);
        const spliced = spliceSuffix(log, newer);
        expect(validateLogEntries(spliced)).toBeNull();
        expect(termsByWalk(spliced)).toEqual([...terms.slice(0, i + 1), ...termsByWalk(newer).slice(1)]);
      }),
      fcParams('chunks: long log since/truncate/splice', 200),
    );
  });

  test('a log crosses the wire as JSON with any chunking and is read back in chunks of at most CHUNK_SIZE', () => {
    const flat = { ...log, termStarts: [flatItems(log.termStarts)] };
    const read = parseLogEntries(JSON.parse(JSON.stringify(flat)));
    if (typeof read === 'string') throw new Error(read);
    expectWellFormed(read.termStarts);
    expect(flatItems(read.termStarts)).toEqual(flatItems(log.termStarts));
    expect(validateLogEntries({ ...log, termStarts: [[], ...log.termStarts] })).toBeNull();
    expect(validateLogEntries({ ...log, termStarts: flatItems(log.termStarts) })).toMatch(
      /termStarts\[0\] must be an array \(a chunk of term starts\)/,
    );
  });
});
