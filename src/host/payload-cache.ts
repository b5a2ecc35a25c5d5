/**
 * The payload cache: command payloads by log index, each tagged with its entry's term, for a
 * contiguous run of indices `(base, base + length]` that mirrors the tail of the node's log.
 *
 * The host fills it from every `appendLog` a step returns (the payloads come with the AppendEntries
 * message on a follower, from `propose` on the leader; entries that hold no command get an empty
 * payload), truncating it after the append's anchor first, exactly as the storage will. It is how
 * the host finds the payloads of a storage write (synchronously, when the batch closes), of an
 * outgoing AppendEntries and of the entries it applies, without a storage read in the common case.
 *
 * A lookup names the term it expects: an entry replaced by another of the same index (a follower's
 * divergent tail overwritten) is a miss, never the wrong payload. Entries at or below the applied
 * index minus a retention window are evicted; a miss on those is answered from the storage (they are
 * committed and durable, so the stored payload is the right one).
 *
 * This module has no dependencies and runs in browsers.
 */

/** A cached payload with the term of its entry. */
interface Cached {
  readonly term: number;
  readonly payload: Uint8Array;
}

/** The payloads of a contiguous run of log indices (see the module comment). */
export class PayloadCache {
  /** The index before the first cached entry. */
  private base = 0;
  /** The cached entries, `items[head + k]` holding index `base + 1 + k`. */
  private items: Cached[] = [];
  private head = 0;
  /** Total payload bytes cached. */
  private bytes = 0;

  /** The highest index cached (`base` when empty). */
  get lastIndex(): number {
    return this.base + this.items.length - this.head;
  }

  /** How many entries are cached. */
  get size(): number {
    return this.items.length - this.head;
  }

  /** Payload bytes cached. */
  get byteSize(): number {
    return this.bytes;
  }

  /** Forget every entry after `index` (an append anchored at `index` follows). */
  truncateAfter(index: number): void {
    if (index >= this.lastIndex) return;
    if (index <= this.base) {
      this.clear(index);
      return;
    }
    const keep = this.head + (index - this.base);
    for (let k = keep; k < this.items.length; k++) this.bytes -= this.items[k]!.payload.length;
    this.items.length = keep;
  }

  /**
   * Cache the payload of entry `(term, index)`. `index` must follow the last cached index; any
   * other index restarts the cache at it (a snapshot installed past the cached run, or a run that
   * eviction emptied).
   */
  put(index: number, term: number, payload: Uint8Array): void {
    if (index !== this.lastIndex + 1) this.clear(index - 1);
    this.items.push({ term, payload });
    this.bytes += payload.length;
  }

  /** The payload of entry `(term, index)`, or undefined when not cached (or cached with another term). */
  get(index: number, term: number): Uint8Array | undefined {
    if (index <= this.base || index > this.lastIndex) return undefined;
    const c = this.items[this.head + (index - this.base - 1)]!;
    return c.term === term ? c.payload : undefined;
  }

  /** Forget the entries up to `index`. */
  evictUpTo(index: number): void {
    if (index <= this.base) return;
    if (index >= this.lastIndex) {
      this.clear(index);
      return;
    }
    const n = index - this.base;
    for (let k = this.head; k < this.head + n; k++) this.bytes -= this.items[k]!.payload.length;
    this.head += n;
    this.base = index;
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
  }

  /** Empty the cache, the next entry expected at `index + 1`. */
  private clear(index: number): void {
    this.items = [];
    this.head = 0;
    this.bytes = 0;
    this.base = index;
  }
}
