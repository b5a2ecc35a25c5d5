/**
 * Finding the command payloads a node executor needs (./node-executor.ts): for the storage write of
 * an append (taken from the step that appended, into the payload cache), for an outgoing
 * AppendEntries and for the committed entries it applies. The payload cache (./payload-cache.ts)
 * answers the common case; what it no longer holds is read from the storage.
 *
 * This module imports only the core and the host's own modules, and runs in browsers.
 */
import { forEachEntry, type LogEntries } from '../index.js';
import type { PayloadCache } from './payload-cache.js';
import type { Storage } from './storage.js';

/**
 * Where the payloads of the entries a step appended come from: the payload of the command entry
 * `(index, term)`, or undefined when the step brought none for it. A frame's AppendEntries brings
 * the payloads of its entries; a leader's `propose` the bytes of the commands it proposed.
 */
export type PayloadSource = (index: number, term: number) => Uint8Array | undefined;

/** The payload of an entry that holds no command (a term start, a configuration). */
export const EMPTY_PAYLOAD = new Uint8Array(0);

/**
 * Cache the payloads of an append a step returned (entries without a command get the empty
 * payload), truncating the cache after the append's anchor first, as the storage will. Throws an
 * Error naming the first command entry whose payload `source` did not give (a bug of the caller:
 * the step's payloads must come with it).
 */
export function cacheAppend(cache: PayloadCache, entries: LogEntries, source: PayloadSource | undefined): void {
  cache.truncateAfter(entries.prevIndex);
  let missing = -1;
  forEachEntry(entries, entries.prevIndex + 1, entries.lastIndex, (index, term, kind) => {
    let p: Uint8Array | undefined = EMPTY_PAYLOAD;
    if (kind === 'command') {
      p = source?.(index, term);
      if (p === undefined) {
        if (missing < 0) missing = index;
        p = EMPTY_PAYLOAD;
      }
    }
    cache.put(index, term, p);
  });
  if (missing >= 0)
    throw new Error(`an append holds the command at index ${missing}, whose payload did not come with it`);
}

/** The payloads of a run of entries from the cache (empty for non-commands), or the first index missing from it. */
export function cachedPayloads(cache: PayloadCache, entries: LogEntries): Uint8Array[] | number {
  const out: Uint8Array[] = [];
  let missing = -1;
  forEachEntry(entries, entries.prevIndex + 1, entries.lastIndex, (index, term, kind) => {
    if (missing >= 0) return;
    if (kind !== 'command') {
      out.push(EMPTY_PAYLOAD);
      return;
    }
    const p = cache.get(index, term);
    if (p === undefined) missing = index;
    else out.push(p);
  });
  return missing >= 0 ? missing : out;
}

/**
 * The payloads of a run of entries, those the cache lacks read from the storage; null when the
 * storage no longer holds them (compacted: the message is dropped, and Raft sends again). Safe for
 * any entry of a message being sent: messages leave between the write of their batch and the next
 * write, so the storage holds exactly the log the batch closed with, and an AppendEntries that
 * survived the merge describes entries of that log (a later step that overwrote them raised the
 * term, and `mergeActions` dropped the older term's calls).
 */
export async function storedPayloads(
  cache: PayloadCache,
  storage: Storage,
  entries: LogEntries,
): Promise<Uint8Array[] | null> {
  const from = entries.prevIndex;
  let stored: readonly Uint8Array[];
  try {
    stored = await storage.payloads(from, entries.lastIndex);
  } catch {
    return null;
  }
  const out: Uint8Array[] = [];
  forEachEntry(entries, from + 1, entries.lastIndex, (index, term, kind) => {
    if (kind !== 'command') out.push(EMPTY_PAYLOAD);
    else out.push(cache.get(index, term) ?? stored[index - from - 1] ?? EMPTY_PAYLOAD);
  });
  return out;
}

/**
 * The payloads of committed commands `indices` (with their `terms`), from the cache, else from the
 * storage in one read. Rejects with the storage's error when that read fails.
 */
export async function committedPayloads(
  cache: PayloadCache,
  storage: Storage,
  indices: readonly number[],
  terms: readonly number[],
): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  let lo = -1;
  let hi = -1;
  for (let k = 0; k < indices.length; k++) {
    const p = cache.get(indices[k]!, terms[k]!);
    if (p === undefined) {
      if (lo < 0) lo = indices[k]!;
      hi = indices[k]!;
    }
    out.push(p ?? EMPTY_PAYLOAD);
  }
  if (lo < 0) return out;
  const stored = await storage.payloads(lo - 1, hi);
  for (let k = 0; k < indices.length; k++) {
    const i = indices[k]!;
    if (i >= lo && i <= hi && cache.get(i, terms[k]!) === undefined) out[k] = stored[i - lo]!;
  }
  return out;
}
