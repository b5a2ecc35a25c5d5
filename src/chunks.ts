/**
 * Sorted lists kept in chunks: how a log holds its term starts.
 *
 * A log's term starts grow by one at every leader change for as long as the log is not compacted.
 * Kept in one flat array, every new term start would copy the whole history: at 100,000 term starts
 * that is most of a millisecond per step. Kept in chunks of at most {@link CHUNK_SIZE} items,
 * appending copies the last chunk and the outer list of chunks (one pointer per chunk), and every
 * older chunk is shared, unchanged, between the states before and after the step. A lookup is two
 * binary searches: over the chunks, then inside one.
 *
 * All functions here are pure: they never modify their inputs and return new lists (or an input,
 * unchanged, when nothing changes).
 */

/**
 * A list of items sorted by strictly increasing `index`, in chunks.
 *
 * Contract (what every function here keeps and assumes): every chunk is non-empty and holds at most
 * {@link CHUNK_SIZE} items; the items, read chunk after chunk, have strictly increasing `index`. The
 * empty list is `[]`. As JSON it is an array of arrays, e.g. `[[{"index":5,"term":2}]]`.
 */
export type Chunked<T> = readonly (readonly T[])[];

/** The most items one chunk holds. */
export const CHUNK_SIZE = 256;

/** The empty chunked list (frozen, shared). */
export const NO_ITEMS: Chunked<never> = Object.freeze([]);

/** An item with a log index: what chunked lists hold. */
export interface Indexed {
  readonly index: number;
}

/** A flat list sorted by index (not checked), split into chunks. The items are shared, not copied. */
export function toChunks<T>(items: readonly T[]): Chunked<T> {
  const n = items.length;
  if (n === 0) return NO_ITEMS;
  const out: (readonly T[])[] = [];
  for (let i = 0; i < n; i += CHUNK_SIZE) out.push(items.slice(i, i + CHUNK_SIZE));
  return out;
}

/** Every item of a chunked list, in order, in one flat array (for tools and tests; O(n)). */
export function flatItems<T>(list: Chunked<T>): T[] {
  const out: T[] = [];
  for (const chunk of list) for (const item of chunk) out.push(item);
  return out;
}

/** The number of items (O(number of chunks)). */
export function itemCount(list: Chunked<unknown>): number {
  let n = 0;
  for (const chunk of list) n += chunk.length;
  return n;
}

/** The first item, or undefined when the list is empty. */
export function firstItem<T>(list: Chunked<T>): T | undefined {
  return list.length === 0 ? undefined : list[0]![0];
}

/** The last item, or undefined when the list is empty. */
export function lastItem<T>(list: Chunked<T>): T | undefined {
  const n = list.length;
  if (n === 0) return undefined;
  const chunk = list[n - 1]!;
  return chunk[chunk.length - 1];
}

/**
 * The list with `item` appended. The caller guarantees that `item.index` exceeds every index in
 * the list. Copies at most one chunk and the outer list.
 */
export function pushItem<T>(list: Chunked<T>, item: T): Chunked<T> {
  const n = list.length;
  if (n === 0) return [[item]];
  const last = list[n - 1]!;
  if (last.length >= CHUNK_SIZE) return list.concat([[item]]);
  const out = list.slice();
  out[n - 1] = last.concat([item]);
  return out;
}

/**
 * `head` followed by `tail`. The caller guarantees that every index in `tail` exceeds every index in
 * `head`. When the last chunk of `head` and the first of `tail` fit in one chunk they are merged, so
 * that a list grown one small piece at a time does not fragment into many tiny chunks.
 */
export function concatItems<T>(head: Chunked<T>, tail: Chunked<T>): Chunked<T> {
  if (tail.length === 0) return head;
  if (head.length === 0) return tail;
  const a = head[head.length - 1]!;
  const b = tail[0]!;
  if (a.length + b.length > CHUNK_SIZE) return head.concat(tail);
  // One allocation of the final size: head's chunks, the merged one in place of its last, then tail's rest.
  const out = tail.length === 1 ? head.slice() : head.concat(tail.slice(1));
  out[head.length - 1] = a.concat(b);
  return out;
}

/**
 * The position of the first chunk whose first item has an index above `index`, or `list.length`:
 * every chunk before it starts at or below `index`.
 */
function chunkAfter(list: Chunked<Indexed>, index: number): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (list[mid]![0]!.index <= index) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The position in a sorted chunk of its first item with an index above `index`, or its length. */
function positionAfter(chunk: readonly Indexed[], index: number): number {
  let lo = 0;
  let hi = chunk.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (chunk[mid]!.index <= index) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The last item with an index `<= index`, or undefined when there is none. O(log n). */
export function lastAtOrBelow<T extends Indexed>(list: Chunked<T>, index: number): T | undefined {
  const c = chunkAfter(list, index);
  if (c === 0) return undefined;
  const chunk = list[c - 1]!;
  return chunk[positionAfter(chunk, index) - 1];
}

/** The item whose index is exactly `index`, or undefined. O(log n). */
export function itemAt<T extends Indexed>(list: Chunked<T>, index: number): T | undefined {
  const item = lastAtOrBelow(list, index);
  return item !== undefined && item.index === index ? item : undefined;
}

/**
 * The first item for which `isPast` holds, or undefined. `isPast` must be monotone along the list
 * (false for a prefix, true for the rest), as "its term exceeds t" is along a log's term starts.
 * O(log n) calls of `isPast`.
 */
export function firstWhere<T>(list: Chunked<T>, isPast: (item: T) => boolean): T | undefined {
  let lo = 0;
  let hi = list.length;
  // The first chunk whose last item is past: the answer, if any, is in it.
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const chunk = list[mid]!;
    if (isPast(chunk[chunk.length - 1]!)) hi = mid;
    else lo = mid + 1;
  }
  if (lo === list.length) return undefined;
  const chunk = list[lo]!;
  let a = 0;
  let b = chunk.length - 1;
  while (a < b) {
    const mid = (a + b) >>> 1;
    if (isPast(chunk[mid]!)) b = mid;
    else a = mid + 1;
  }
  return chunk[a];
}

/** The items with an index `<= index` (the list itself when that is all of them). */
export function itemsUpTo<T extends Indexed>(list: Chunked<T>, index: number): Chunked<T> {
  const last = lastItem(list);
  if (last === undefined || last.index <= index) return list;
  const c = chunkAfter(list, index);
  if (c === 0) return NO_ITEMS;
  const chunk = list[c - 1]!;
  const keep = positionAfter(chunk, index);
  const out = list.slice(0, c - 1);
  out.push(keep === chunk.length ? chunk : chunk.slice(0, keep));
  return out;
}

/** The items with an index `> index` (the list itself when that is all of them). */
export function itemsAbove<T extends Indexed>(list: Chunked<T>, index: number): Chunked<T> {
  const first = firstItem(list);
  if (first === undefined || first.index > index) return list;
  const c = chunkAfter(list, index);
  const chunk = list[c - 1]!;
  const from = positionAfter(chunk, index);
  const out: (readonly T[])[] = from < chunk.length ? [chunk.slice(from)] : [];
  for (let i = c; i < list.length; i++) out.push(list[i]!);
  return out.length === 0 ? NO_ITEMS : out;
}

/**
 * Call `visit(item)` for every item with an index in `[from, to]`, in order, without allocating.
 */
export function forEachItemBetween<T extends Indexed>(
  list: Chunked<T>,
  from: number,
  to: number,
  visit: (item: T) => void,
): void {
  let c = chunkAfter(list, from - 1);
  let k = 0;
  if (c > 0) {
    const before = list[c - 1]!;
    const p = positionAfter(before, from - 1);
    if (p < before.length) {
      c--;
      k = p;
    }
  }
  for (; c < list.length; c++, k = 0) {
    const chunk = list[c]!;
    for (; k < chunk.length; k++) {
      const item = chunk[k]!;
      if (item.index > to) return;
      visit(item);
    }
  }
}
