/**
 * The contract every `Storage` implementation must meet (src/host/storage.ts), written once and run
 * against each implementation (`MemoryStorage` in memory-storage.test.ts, `FileStorage` in
 * ../node/file-storage.test.ts), plus the helpers those tests share: write builders, a canonical
 * comparable form of what a storage holds, and a seeded generator of valid write batches.
 */
import { seededRandom } from '../../src/host/memory-transport.js';
import fc from 'fast-check';
import { isDeepStrictEqual } from 'node:util';
import { emptyEntries, listEntries, makeConfig, termAt, type LogEntries } from '../../src/index.js';
import { appendCommands, appendConfig, appendTermStart } from '../../src/log.js';
import {
  applyStorageWrite,
  EMPTY_STORED_META,
  type AppendWrite,
  type SnapshotWrite,
  type Storage,
  type StoredMeta,
  type StoredNode,
  type StorageWrite,
} from '../../src/host/storage.js';
import { fcParams } from '../support/seed.js';

/** One implementation under test: storages over one backing store (a directory, a memory). */
export interface StorageHarness {
  /** A storage over the backing store: empty the first time, what the last one left afterwards. */
  open(): Promise<Storage>;
  /** Release the backing store (delete the directory). */
  cleanup(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Builders
// ---------------------------------------------------------------------------------------------

/** UTF-8 bytes of a string. */
export function bytes(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

/** The payload the tests give the command at `index` of term `term`, tagged to tell writes apart. */
export function commandPayload(index: number, term: number, tag = ''): Uint8Array {
  return bytes(`cmd ${index} t${term}${tag}`);
}

/** A hard state write. */
export function hardState(term: number, votedFor: string | null = null): StorageWrite {
  return { kind: 'hardState', term, votedFor };
}

/** An append of `entries`, with `commandPayload` for commands and empty payloads for the others. */
export function append(entries: LogEntries, tag = ''): StorageWrite {
  const payloads = listEntries(entries).map((e) =>
    e.kind === 'command' ? commandPayload(e.index, e.term, tag) : new Uint8Array(0),
  );
  return { kind: 'append', entries, payloads };
}

/** A snapshot write at `(term, index)` with the configuration `{a, b, c}`. */
export function snapshot(term: number, index: number, data = `state@${index}`): StorageWrite {
  return { kind: 'snapshot', snapshot: { term, index, config: makeConfig(['a', 'b', 'c']), data: bytes(data) } };
}

/** A compaction write. */
export function compact(term: number, index: number): StorageWrite {
  return { kind: 'compact', term, index };
}

/** A configuration entry at index 1, then a term start for `term`, then `commands` commands. */
export function firstLeaderLog(term: number, commands: number): LogEntries {
  return appendCommands(appendTermStart(appendConfig(emptyEntries(0, 0), makeConfig(['a', 'b', 'c'])), term), commands);
}

// ---------------------------------------------------------------------------------------------
// Comparing
// ---------------------------------------------------------------------------------------------

/** What a storage holds, as plain data that `toEqual` compares (bytes as text). */
export interface Canonical {
  hardState: { term: number; votedFor: string | null };
  log: { prevTerm: number; prevIndex: number; lastTerm: number; lastIndex: number; entries: unknown[] };
  snapshot: null | { term: number; index: number; config: unknown; data: string };
  payloads: string[];
}

function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
}

/** The canonical form of a loaded node and its payloads (read from `storage`). */
export async function canonical(storage: Storage, node: StoredNode): Promise<Canonical> {
  const { log, snapshot: s } = node;
  const payloads = await storage.payloads(log.prevIndex, log.lastIndex);
  // Through JSON: plain objects of this realm whatever made them (Jest's realm and Node's differ).
  return plainCopy({
    hardState: { term: node.hardState.term, votedFor: node.hardState.votedFor },
    log: {
      prevTerm: log.prevTerm,
      prevIndex: log.prevIndex,
      lastTerm: log.lastTerm,
      lastIndex: log.lastIndex,
      entries: listEntries(log),
    },
    snapshot: s === null ? null : { term: s.term, index: s.index, config: s.config, data: hex(s.data) },
    payloads: payloads.map(hex),
  });
}

function plainCopy<T>(x: T): T {
  return JSON.parse(JSON.stringify(x)) as T;
}

/** Load a storage and give its canonical form. */
export async function loadCanonical(storage: Storage): Promise<Canonical> {
  return canonical(storage, await storage.load());
}

/** True when two canonical forms are equal. */
export function sameCanonical(a: Canonical, b: Canonical): boolean {
  return isDeepStrictEqual(a, b);
}

// ---------------------------------------------------------------------------------------------
// Random valid batches
// ---------------------------------------------------------------------------------------------

/** A small seeded PRNG (mulberry32): numbers in [0, 1) — the in-process transport's. */
export const prng = seededRandom;

/**
 * `count` batches of valid writes (1 to 4 each), generated from `seed`: hard states, appends at
 * the end or truncating ones, with term starts, configurations and payloads of various sizes,
 * snapshots at held positions or beyond the log, and no-op compactions. Any order within a batch.
 */
export function randomBatches(seed: number, count: number): StorageWrite[][] {
  const rnd = prng(seed);
  const int = (lo: number, hi: number): number => lo + Math.floor(rnd() * (hi - lo + 1));
  let meta: StoredMeta = EMPTY_STORED_META;
  let maxTerm = 0;
  const batches: StorageWrite[][] = [];
  for (let b = 0; b < count; b++) {
    const batch: StorageWrite[] = [];
    for (let n = int(1, 4); n > 0; n--) {
      const w = randomWrite(meta, rnd, int, maxTerm);
      meta = applyStorageWrite(meta, w);
      maxTerm = Math.max(maxTerm, meta.hardState.term, meta.log.lastTerm, meta.snapshot?.term ?? 0);
      batch.push(w);
    }
    batches.push(batch);
  }
  return batches;
}

function randomWrite(
  meta: StoredMeta,
  rnd: () => number,
  int: (lo: number, hi: number) => number,
  maxTerm: number,
): StorageWrite {
  const log = meta.log;
  const r = rnd();
  if (r < 0.2) return hardState(Math.max(meta.hardState.term, maxTerm) + int(0, 1), [null, 'a', 'b'][int(0, 2)]!);
  if (r < 0.75) {
    const at = rnd() < 0.7 ? log.lastIndex : int(log.prevIndex, log.lastIndex);
    let entries = emptyEntries(termAt(log, at), at);
    if (rnd() < 0.35) entries = appendTermStart(entries, maxTerm + 1);
    entries = appendCommands(entries, int(0, 4));
    if (rnd() < 0.1) entries = appendConfig(entries, makeConfig(['a', 'b', rnd() < 0.5 ? 'c' : 'd']));
    const payloads = listEntries(entries).map((e) =>
      e.kind === 'command' ? randomBytes(rnd, rnd() < 0.1 ? int(100, 400) : int(0, 24)) : new Uint8Array(0),
    );
    return { kind: 'append', entries, payloads };
  }
  if (r < 0.92) {
    if (rnd() < 0.15) return snapshot(Math.max(maxTerm, 1), log.lastIndex + int(1, 3), `far ${rnd()}`);
    const at = int(log.prevIndex, log.lastIndex);
    return snapshot(termAt(log, at), at, `snap ${rnd()}`);
  }
  return compact(log.prevTerm, log.prevIndex);
}

function randomBytes(rnd: () => number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = Math.floor(rnd() * 256);
  return out;
}

// ---------------------------------------------------------------------------------------------
// The contract
// ---------------------------------------------------------------------------------------------

/** Define the contract tests for one implementation; `makeHarness` gives a fresh backing store per test. */
export function describeStorageContract(name: string, makeHarness: () => Promise<StorageHarness>): void {
  describe(`${name}: the Storage contract`, () => {
    let h: StorageHarness;
    let s: Storage;
    beforeEach(async () => {
      h = await makeHarness();
      s = await h.open();
      await s.load();
    });
    afterEach(async () => {
      await s.close().catch(() => undefined);
      await h.cleanup();
    });

    /** Close `s` and open the backing store again, loaded. */
    async function restart(): Promise<StoredNode> {
      await s.close();
      s = await h.open();
      return s.load();
    }

    test('empty storage loads as term 0, no vote, the empty log at (0, 0), no snapshot', async () => {
      const node = await s.load();
      expect(node.hardState).toEqual({ term: 0, votedFor: null });
      expect(node.log).toEqual(emptyEntries(0, 0));
      expect(node.snapshot).toBeNull();
      expect(await s.snapshot()).toBeNull();
      expect(await s.payloads(0, 0)).toEqual([]);
    });

    test('the hard state round-trips; a lower term is refused', async () => {
      await s.write([hardState(3, 'b')]);
      await s.write([hardState(3, null), hardState(4, 'a')]);
      expect((await s.load()).hardState).toEqual({ term: 4, votedFor: 'a' });
      await expect(s.write([hardState(2, 'a')])).rejects.toThrow(/term 2 is below the stored term 4/);
      await expect(s.write([hardState(-1, 'a')])).rejects.toThrow(/term must be an integer/);
      await expect(s.write([{ kind: 'hardState', term: 5, votedFor: '' }])).rejects.toThrow(/votedFor/);
      expect((await restart()).hardState).toEqual({ term: 4, votedFor: 'a' });
    });

    test('appends keep one payload per index; payloads() reads any held range', async () => {
      const log = firstLeaderLog(1, 3); // config at 1, term start at 2, commands 3..5
      await s.write([hardState(1, 'a'), append(log)]);
      const node = await s.load();
      expect(listEntries(node.log)).toEqual(listEntries(log));
      const all = await s.payloads(0, 5);
      expect(all.map((p) => p.length)).toEqual([0, 0, ...[3, 4, 5].map((i) => commandPayload(i, 1).length)]);
      expect(await s.payloads(3, 5)).toEqual([commandPayload(4, 1), commandPayload(5, 1)]);
      expect(await s.payloads(4, 4)).toEqual([]);
      // More commands at the end, in another batch.
      await s.write([append(appendCommands(emptyEntries(1, 5), 2))]);
      expect(await s.payloads(4, 7)).toEqual([5, 6, 7].map((i) => commandPayload(i, 1)));
    });

    test('payloads() outside what is held rejects with a RangeError naming the range', async () => {
      await s.write([append(firstLeaderLog(1, 3))]);
      await expect(s.payloads(4, 6)).rejects.toThrow(RangeError);
      await expect(s.payloads(4, 6)).rejects.toThrow('(4, 6]');
      await expect(s.payloads(3, 2)).rejects.toThrow(RangeError);
      await expect(s.payloads(0.5, 2)).rejects.toThrow(RangeError);
      await s.write([snapshot(1, 3)]);
      await expect(s.payloads(2, 4)).rejects.toThrow(/\(2, 4\].*\(3, 5\]/);
      expect(await s.payloads(3, 5)).toHaveLength(2);
    });

    test('a truncating append overwrites the divergent tail', async () => {
      await s.write([hardState(1), append(firstLeaderLog(1, 5))]); // 1..7 in term 1
      const divergent = appendCommands(appendTermStart(emptyEntries(1, 4), 2), 1); // term start at 5, command 6
      await s.write([hardState(2), append(divergent, ' new')]);
      const node = await s.load();
      expect(node.log.lastIndex).toBe(6);
      expect(node.log.lastTerm).toBe(2);
      expect(termAt(node.log, 4)).toBe(1);
      expect(termAt(node.log, 5)).toBe(2);
      const p = await s.payloads(2, 6);
      expect(p).toEqual([commandPayload(3, 1), commandPayload(4, 1), new Uint8Array(0), commandPayload(6, 2, ' new')]);
      // An empty append truncates after its anchor.
      await s.write([append(emptyEntries(1, 3))]);
      expect((await s.load()).log.lastIndex).toBe(3);
      await expect(s.payloads(3, 4)).rejects.toThrow(RangeError);
      // And the log goes on from there.
      await s.write([append(appendCommands(emptyEntries(1, 3), 1), ' again')]);
      expect(await s.payloads(2, 4)).toEqual([commandPayload(3, 1), commandPayload(4, 1, ' again')]);
    });

    test('a snapshot at a held position compacts the log and keeps its tail', async () => {
      await s.write([hardState(1), append(firstLeaderLog(1, 5))]); // 1..7
      await s.write([snapshot(1, 4, 'four'), compact(1, 4)]);
      const node = await s.load();
      expect(node.log.prevIndex).toBe(4);
      expect(node.log.prevTerm).toBe(1);
      expect(node.log.lastIndex).toBe(7);
      expect(node.snapshot).toEqual({ term: 1, index: 4, config: makeConfig(['a', 'b', 'c']), data: bytes('four') });
      expect(await s.snapshot()).toEqual(node.snapshot);
      expect(await s.payloads(4, 7)).toEqual([5, 6, 7].map((i) => commandPayload(i, 1)));
      await expect(s.payloads(3, 7)).rejects.toThrow(RangeError);
      // The core's compactLog after the snapshot changes nothing; one beyond the snapshot is refused.
      await s.write([compact(1, 4), compact(1, 2)]);
      await expect(s.write([compact(1, 5)])).rejects.toThrow(/no snapshot covers \(1,5\)/);
      await expect(s.write([compact(2, 4)])).rejects.toThrow(/contradicts/);
      // An append at the snapshot position works; one inside the snapshot is refused.
      await s.write([append(appendCommands(emptyEntries(1, 4), 1), ' x')]);
      expect(await s.payloads(4, 5)).toEqual([commandPayload(5, 1, ' x')]);
      await expect(s.write([append(appendCommands(emptyEntries(1, 3), 1))])).rejects.toThrow(/anchor \(1,3\)/);
    });

    test('a snapshot the log does not hold replaces the whole log with an empty run at it', async () => {
      await s.write([hardState(1), append(firstLeaderLog(1, 5))]); // 1..7 in term 1
      await s.write([hardState(3), snapshot(3, 5, 'from leader')]);
      const node = await s.load();
      expect(node.log).toEqual(emptyEntries(3, 5));
      expect(await s.payloads(5, 5)).toEqual([]);
      await expect(s.payloads(5, 6)).rejects.toThrow(RangeError);
      await s.write([append(emptyEntries(3, 5)), append(appendCommands(emptyEntries(3, 5), 2))]);
      expect(await s.payloads(5, 7)).toEqual([commandPayload(6, 3), commandPayload(7, 3)]);
    });

    test('an older snapshot is refused; one at the same position replaces the data', async () => {
      await s.write([append(firstLeaderLog(2, 6)), snapshot(2, 6, 'six')]);
      await expect(s.write([snapshot(2, 5)])).rejects.toThrow(/older than the stored snapshot \(2,6\)/);
      await expect(s.write([snapshot(1, 7)])).rejects.toThrow(/older/);
      await expect(s.write([snapshot(3, 6)])).rejects.toThrow(/older/);
      await s.write([snapshot(2, 6, 'six again')]);
      expect((await s.snapshot())!.data).toEqual(bytes('six again'));
      expect((await restart()).snapshot!.data).toEqual(bytes('six again'));
      expect((await s.load()).log.lastIndex).toBe(8);
    });

    test('a batch with an anchor gap is refused and nothing of it is applied', async () => {
      await s.write([hardState(1, 'a'), append(firstLeaderLog(1, 2))]); // 1..4
      const before = await loadCanonical(s);
      const gap = appendCommands(emptyEntries(1, 6), 1);
      await expect(
        s.write([hardState(2, 'b'), append(appendCommands(emptyEntries(1, 4), 1)), append(gap)]),
      ).rejects.toThrow(/write\[2\] \(append\): the stored log \(0,0\)\.\.\(1,5\) does not hold the anchor \(1,6\)/);
      expect(await loadCanonical(s)).toEqual(before);
      expect(await loadCanonical(await reopenLoaded())).toEqual(before);
      // Still usable.
      await s.write([append(appendCommands(emptyEntries(1, 4), 1))]);
      expect((await s.load()).log.lastIndex).toBe(5);
    });

    /** Restart and return the new storage (loaded). */
    async function reopenLoaded(): Promise<Storage> {
      await restart();
      return s;
    }

    test('malformed writes are refused with a clear error, nothing applied', async () => {
      await s.write([append(firstLeaderLog(1, 2))]);
      const before = await loadCanonical(s);
      const run = appendCommands(emptyEntries(1, 4), 2);
      const cases: Array<[unknown, RegExp]> = [
        [[{ kind: 'append', entries: run, payloads: [bytes('x')] }], /1 payloads for the 2 entries \(4, 6\]/],
        [
          [{ kind: 'append', entries: run, payloads: [bytes('x'), 'y'] }],
          /payloads\[1\] \(index 6\) is not a Uint8Array/,
        ],
        [[{ kind: 'append', entries: { ...run, lastIndex: 3 }, payloads: [] }], /entries\.prevIndex must not exceed/],
        [[{ kind: 'snapshot', snapshot: { term: 1, index: 3, config: { voters: 'a' }, data: bytes('') } }], /config/],
        [[{ kind: 'snapshot', snapshot: { term: 1, index: 3, config: makeConfig(['a']), data: 'x' } }], /data/],
        [[{ kind: 'bogus' }], /unknown write kind "bogus"/],
        [[null], /write\[0\]/],
        ['not an array', /must be an array/],
      ];
      for (const [batch, message] of cases) {
        await expect(s.write(batch as StorageWrite[])).rejects.toThrow(message);
      }
      expect(await loadCanonical(s)).toEqual(before);
    });

    test('stored bytes cannot be aliased through the arguments or the results', async () => {
      const w = append(firstLeaderLog(1, 1)) as AppendWrite;
      const snap = snapshot(1, 2, 'snap') as SnapshotWrite;
      const write = s.write([w, snap]);
      (w.payloads[2] as Uint8Array).fill(0);
      snap.snapshot.data.fill(0);
      await write;
      const [p] = await s.payloads(2, 3);
      expect(p).toEqual(commandPayload(3, 1));
      p!.fill(1);
      expect(await s.payloads(2, 3)).toEqual([commandPayload(3, 1)]);
      const got = (await s.snapshot())!;
      expect(got.data).toEqual(bytes('snap'));
      got.data.fill(1);
      expect((await s.load()).snapshot!.data).toEqual(bytes('snap'));
    });

    test('after a restart the storage holds the same node and payloads', async () => {
      await s.write([hardState(1, 'a'), append(firstLeaderLog(1, 6))]);
      await s.write([hardState(2, 'b'), append(appendCommands(appendTermStart(emptyEntries(1, 5), 2), 3), ' t2')]);
      await s.write([snapshot(2, 7, 'at seven')]);
      await s.write([append(appendCommands(emptyEntries(2, 9), 2))]);
      const before = await loadCanonical(s);
      await restart();
      expect(await loadCanonical(s)).toEqual(before);
      await restart();
      expect(await loadCanonical(s)).toEqual(before);
    });

    test('overlapping calls run in call order', async () => {
      const a = s.write([append(firstLeaderLog(1, 1))]);
      const b = s.write([append(appendCommands(emptyEntries(1, 3), 2))]);
      const p = s.payloads(3, 5);
      await Promise.all([a, b]);
      expect(await p).toEqual([commandPayload(4, 1), commandPayload(5, 1)]);
    });

    test('after close every call rejects', async () => {
      await s.close();
      await expect(s.load()).rejects.toThrow(/closed/);
      await expect(s.write([hardState(1)])).rejects.toThrow(/closed/);
      await expect(s.payloads(0, 0)).rejects.toThrow(/closed/);
      await expect(s.snapshot()).rejects.toThrow(/closed/);
      await expect(s.close()).rejects.toThrow(/closed/);
    });

    test('random valid batches: the state after a restart is the state before it', async () => {
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 - 1 }), async (seed) => {
          await s.close();
          await h.cleanup();
          h = await makeHarness();
          s = await h.open();
          await s.load();
          for (const batch of randomBatches(seed, 12)) await s.write(batch);
          const before = await loadCanonical(s);
          await restart();
          expect(await loadCanonical(s)).toEqual(before);
        }),
        fcParams(`${name} restart equivalence`, 15),
      );
    });
  });
}
