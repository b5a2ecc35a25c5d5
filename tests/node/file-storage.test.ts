/**
 * `FileStorage` (src/node/file-storage.ts): the shared Storage contract on a real directory, the
 * on-disk rules (torn tails, corruption, segment rotation and deletion), and crashes at every write
 * boundary through a fault-injecting file layer that models what fsync makes durable.
 */
import fc from 'fast-check';
import { mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { emptyEntries } from '../../src/index.js';
import { appendCommands, appendTermStart } from '../../src/log.js';
import { MemoryStorage } from '../../src/host/memory-storage.js';
import type { Storage, StorageWrite } from '../../src/host/storage.js';
import nodeFs from 'node:fs';
import {
  FileStorage,
  type FileHandleLayer,
  type FileLayer,
  type FileStorageOptions,
  type OpenMode,
} from '../../src/node/file-storage.js';
import { fcParams } from '../support/seed.js';
import {
  append,
  commandPayload,
  describeStorageContract,
  firstLeaderLog,
  hardState,
  loadCanonical,
  prng,
  randomBatches,
  snapshot,
  type Canonical,
} from '../host/storage-contract.js';

/** A fresh temporary directory (removed by the caller). */
function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'raftstep-fs-'));
}

describeStorageContract('FileStorage', async () => {
  const dir = await tempDir();
  return {
    open: () => FileStorage.open(join(dir, 'node'), { segmentBytes: 512 }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

describeStorageContract('FileStorage with blocking fsyncs', async () => {
  const dir = await tempDir();
  return {
    open: () => FileStorage.open(join(dir, 'node'), { segmentBytes: 512, fsync: 'blocking' }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
});

// ---------------------------------------------------------------------------------------------
// On a real directory
// ---------------------------------------------------------------------------------------------

describe('FileStorage on disk', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await tempDir();
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function opened(segmentBytes = 1 << 20): Promise<FileStorage> {
    const s = await FileStorage.open(dir, { segmentBytes });
    await s.load();
    return s;
  }

  async function segments(): Promise<string[]> {
    return (await readdir(join(dir, 'wal'))).filter((n) => n.endsWith('.seg')).sort();
  }

  /** The offsets of the records of a segment file (walking the length fields). */
  async function recordOffsets(file: string): Promise<number[]> {
    const b = await readFile(file);
    const out: number[] = [];
    for (let at = 0; at < b.length; at += 13 + b.readUInt32LE(at)) out.push(at);
    return out;
  }

  async function flipByte(file: string, offset: number): Promise<void> {
    const b = await readFile(file);
    b[offset] = b[offset]! ^ 0x40;
    await writeFile(file, b);
  }

  /** Three batches, three records in one segment; returns the state after the first two. */
  async function threeBatches(): Promise<{ afterTwo: Canonical; all: Canonical }> {
    const s = await opened();
    await s.write([hardState(1, 'a'), append(firstLeaderLog(1, 3))]);
    await s.write([hardState(2, 'b'), append(appendCommands(emptyEntries(1, 5), 2))]);
    const afterTwo = await loadCanonical(s);
    await s.write([append(appendCommands(appendTermStart(emptyEntries(1, 7), 2), 2))]);
    const all = await loadCanonical(s);
    await s.close();
    return { afterTwo, all };
  }

  test('the directory layout: hardstate, wal/<20 digits>.seg, snap/<term>-<index>.snap', async () => {
    const s = await opened();
    await s.write([hardState(1, 'a'), append(firstLeaderLog(1, 3)), snapshot(1, 3)]);
    await s.close();
    expect((await readdir(dir)).sort()).toEqual(['hardstate', 'snap', 'wal']);
    expect(await segments()).toEqual(['00000000000000000001.seg']);
    expect(await readdir(join(dir, 'snap'))).toEqual(['1-3.snap']);
  });

  test('a torn tail (the last record cut short) is cut off, and later writes work', async () => {
    const { afterTwo } = await threeBatches();
    const seg = join(dir, 'wal', (await segments())[0]!);
    const size = (await stat(seg)).size;
    const lastRecord = (await recordOffsets(seg))[2]!;
    await truncate(seg, size - 5);
    let s = await opened();
    expect(await loadCanonical(s)).toEqual(afterTwo);
    expect((await stat(seg)).size).toBe(lastRecord);
    await s.write([append(appendCommands(emptyEntries(1, 7), 1), ' after')]);
    await s.close();
    s = await opened();
    expect(await s.payloads(7, 8)).toEqual([commandPayload(8, 1, ' after')]);
    await s.close();
  });

  test('a torn header (zeros where the last record should be) is cut off', async () => {
    const { all } = await threeBatches();
    const seg = join(dir, 'wal', (await segments())[0]!);
    const size = (await stat(seg)).size;
    await writeFile(seg, Buffer.alloc(40), { flag: 'a' });
    const s = await opened();
    expect(await loadCanonical(s)).toEqual(all);
    expect((await stat(seg)).size).toBe(size);
    await s.close();
  });

  test('a last record failing its checksum is taken for a torn write and cut off', async () => {
    const { afterTwo } = await threeBatches();
    const seg = join(dir, 'wal', (await segments())[0]!);
    await flipByte(seg, (await stat(seg)).size - 1);
    const s = await opened();
    expect(await loadCanonical(s)).toEqual(afterTwo);
    await s.close();
  });

  test('a flipped byte in a middle record is refused, naming the file and the offset', async () => {
    await threeBatches();
    const seg = join(dir, 'wal', (await segments())[0]!);
    const second = (await recordOffsets(seg))[1]!;
    await flipByte(seg, second + 20);
    const s = await FileStorage.open(dir);
    await expect(s.load()).rejects.toThrow(`corrupt WAL record in ${seg} at offset ${second}: checksum mismatch`);
    await s.close();
  });

  test('a damaged length field in a middle record is refused, not taken for a torn tail', async () => {
    await threeBatches();
    const seg = join(dir, 'wal', (await segments())[0]!);
    const second = (await recordOffsets(seg))[1]!;
    await flipByte(seg, second + 2); // the length grows past the end of the file
    const s = await FileStorage.open(dir);
    await expect(s.load()).rejects.toThrow(`${seg} at offset ${second}: header checksum mismatch`);
    await s.close();
  });

  test('a bad last record of a segment that is not the last one is refused', async () => {
    let s = await opened(64);
    for (let i = 0; i < 6; i++) await s.write([append(appendCommands(emptyEntries(0, i), 1), ' pad')]);
    await s.close();
    const names = await segments();
    expect(names.length).toBeGreaterThan(2);
    const first = join(dir, 'wal', names[0]!);
    await flipByte(first, (await stat(first)).size - 1);
    s = await FileStorage.open(dir, { segmentBytes: 64 });
    await expect(s.load()).rejects.toThrow(`corrupt WAL record in ${first} at offset 0`);
    await s.close();
  });

  test('a corrupt snapshot file is refused (there is no fallback to an older one)', async () => {
    let s = await opened();
    await s.write([append(firstLeaderLog(1, 4)), snapshot(1, 3)]);
    await s.write([snapshot(1, 5, 'newer')]);
    await s.close();
    expect(await readdir(join(dir, 'snap'))).toEqual(['1-5.snap']); // the older one was deleted
    const file = join(dir, 'snap', '1-5.snap');
    await flipByte(file, (await stat(file)).size - 2);
    s = await FileStorage.open(dir);
    await expect(s.load()).rejects.toThrow(`${file} is corrupt: checksum mismatch`);
    await s.close();
  });

  test('a corrupt hard state file is refused', async () => {
    let s = await opened();
    await s.write([hardState(7, 'c')]);
    await s.close();
    await flipByte(join(dir, 'hardstate'), 10);
    s = await FileStorage.open(dir);
    await expect(s.load()).rejects.toThrow(`${join(dir, 'hardstate')} is corrupt`);
    await s.close();
  });

  test('segments rotate at segmentBytes and are deleted once compaction leaves nothing in them', async () => {
    let s = await opened(300);
    await s.write([hardState(1, 'a'), append(firstLeaderLog(1, 0))]);
    for (let i = 2; i < 40; i++) await s.write([append(appendCommands(emptyEntries(1, i), 1), ' '.repeat(40))]);
    const rotated = (await segments()).length;
    expect(rotated).toBeGreaterThan(5);
    await s.write([snapshot(1, 20)]);
    const afterHalf = (await segments()).length;
    expect(afterHalf).toBeLessThan(rotated);
    expect(afterHalf).toBeGreaterThan(1);
    expect((await segments())[0]).not.toBe('00000000000000000001.seg');
    await s.write([snapshot(1, 40)]); // the last index: nothing of the log is left
    expect((await segments()).length).toBe(1);
    const before = await loadCanonical(s);
    await s.close();
    s = await opened(300);
    expect(await loadCanonical(s)).toEqual(before);
    await s.write([append(appendCommands(emptyEntries(1, 40), 2))]);
    expect(await s.payloads(40, 42)).toHaveLength(2);
    await s.close();
  });

  test('a truncation that overwrites whole segments lets them be deleted', async () => {
    const s = await opened(200);
    for (let i = 0; i < 12; i++) await s.write([append(appendCommands(emptyEntries(0, i), 1), ' '.repeat(40))]);
    expect((await segments()).length).toBeGreaterThan(3);
    await s.write([append(appendCommands(emptyEntries(0, 0), 1), ' rewritten')]);
    expect((await segments()).length).toBe(1);
    const before = await loadCanonical(s);
    await s.close();
    expect(await loadCanonical(await opened(200))).toEqual(before);
  });

  test('writes before load() and bad options are refused', async () => {
    const s = await FileStorage.open(dir);
    await expect(s.write([hardState(1)])).rejects.toThrow(/load\(\) must complete/);
    await expect(s.payloads(0, 0)).rejects.toThrow(/load\(\) must complete/);
    await s.close();
    await expect(FileStorage.open(dir, { segmentBytes: 0 })).rejects.toThrow(RangeError);
    const sometimes = { fsync: 'sometimes' } as unknown as FileStorageOptions;
    await expect(FileStorage.open(dir, sometimes)).rejects.toThrow(/fsync must be 'threadPool' or 'blocking'/);
    await expect(FileStorage.open(dir, { fsync: 'blocking', fs: new FaultFs() })).rejects.toThrow(
      /cannot be given with fs/,
    );
  });

  test.each([
    ['blocking', true],
    ['threadPool', false],
  ] as const)('fsync %s: fsyncs run on the calling thread: %s', async (mode, blocking) => {
    const s = await FileStorage.open(dir, { fsync: mode });
    await s.load();
    const fsyncSync = jest.spyOn(nodeFs, 'fsyncSync');
    try {
      // The first append opens a segment: its fsync and wal/'s (the new name). A hard state: its
      // file's and <dir>'s. A later append: the segment's alone.
      await s.write([append(firstLeaderLog(1, 3))]);
      expect(fsyncSync).toHaveBeenCalledTimes(blocking ? 2 : 0);
      fsyncSync.mockClear();
      await s.write([hardState(1, 'a')]);
      expect(fsyncSync).toHaveBeenCalledTimes(blocking ? 2 : 0);
      fsyncSync.mockClear();
      await s.write([append(appendCommands(emptyEntries(1, 3), 2))]);
      expect(fsyncSync).toHaveBeenCalledTimes(blocking ? 1 : 0);
    } finally {
      fsyncSync.mockRestore();
      await s.close();
    }
    const again = await opened();
    expect((await loadCanonical(again)).log.lastIndex).toBe(5);
    await again.close();
  });
});

// ---------------------------------------------------------------------------------------------
// A file system that crashes: what fsync made durable survives
// ---------------------------------------------------------------------------------------------

/** A file's contents: what a reader sees now, and what has been fsynced. */
class Inode {
  constructor(
    public data: Uint8Array = new Uint8Array(0),
    public durable: Uint8Array = new Uint8Array(0),
  ) {}
}

/** What survives a crash (see {@link FaultFs.crashImage}). */
type CrashMode = 'lost' | 'kept' | 'torn' | 'tornOldNames' | 'process';

const CRASH_MODES: readonly CrashMode[] = ['lost', 'kept', 'torn', 'tornOldNames', 'process'];

class CrashError extends Error {}

function enoent(path: string): Error {
  return Object.assign(new Error(`ENOENT: ${path}`), { code: 'ENOENT' });
}

/**
 * An in-memory `FileLayer` that counts its mutating operations (create, write, sync, truncate,
 * rename, unlink, syncDir) and crashes before the one after `budget`: that one and every later call
 * throw. Names are durable after `syncDir` of their directory, contents after `sync`; directories
 * are durable when made.
 */
class FaultFs implements FileLayer {
  names = new Map<string, Inode>();
  durableNames = new Map<string, Inode>();
  dirs = new Set<string>(['/']);
  ops: string[] = [];
  crashed = false;

  constructor(private readonly budget = Infinity) {}

  /** Count a mutating operation, or crash. */
  step(what: string): void {
    this.alive();
    if (this.ops.length >= this.budget) {
      this.crashed = true;
      throw new CrashError(`crash before ${what}`);
    }
    this.ops.push(what);
  }

  alive(): void {
    if (this.crashed) throw new CrashError('the process has crashed');
  }

  mkdir(path: string): Promise<void> {
    this.alive();
    for (let p = path; !this.dirs.has(p); p = dirname(p)) this.dirs.add(p);
    return Promise.resolve();
  }

  readdir(path: string): Promise<string[]> {
    this.alive();
    if (!this.dirs.has(path)) return Promise.reject(enoent(path));
    return Promise.resolve(
      [...this.names.keys()].filter((n) => dirname(n) === path).map((n) => n.slice(path.length + 1)),
    );
  }

  open(path: string, mode: OpenMode): Promise<FileHandleLayer> {
    try {
      this.alive();
      let inode = this.names.get(path);
      if (mode === 'read' && inode === undefined) throw enoent(path);
      if (mode === 'replace') {
        this.step(`replace ${path}`);
        if (inode !== undefined) inode.data = new Uint8Array(0);
      }
      if (inode === undefined) {
        if (mode !== 'replace') this.step(`create ${path}`);
        inode = new Inode();
        this.names.set(path, inode);
      }
      return Promise.resolve(this.handle(path, inode));
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  rename(from: string, to: string): Promise<void> {
    return this.mutate(`rename ${from} ${to}`, () => {
      const inode = this.names.get(from);
      if (inode === undefined) throw enoent(from);
      this.names.delete(from);
      this.names.set(to, inode);
    });
  }

  unlink(path: string): Promise<void> {
    return this.mutate(`unlink ${path}`, () => {
      if (!this.names.delete(path)) throw enoent(path);
    });
  }

  syncDir(path: string): Promise<void> {
    return this.mutate(`syncDir ${path}`, () => {
      for (const n of [...this.durableNames.keys()]) if (dirname(n) === path) this.durableNames.delete(n);
      for (const [n, inode] of this.names) if (dirname(n) === path) this.durableNames.set(n, inode);
    });
  }

  private mutate(what: string, body: () => void): Promise<void> {
    try {
      this.step(what);
      body();
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e as Error);
    }
  }

  private handle(path: string, inode: Inode): FileHandleLayer {
    return {
      read: (into, position) => {
        this.alive();
        const part = inode.data.subarray(position, position + into.length);
        into.set(part);
        return Promise.resolve(part.length);
      },
      write: (data, position) =>
        this.mutate(`write ${path} @${position} +${data.length}`, () => {
          const next = new Uint8Array(Math.max(inode.data.length, position + data.length));
          next.set(inode.data);
          next.set(data, position);
          inode.data = next;
        }),
      sync: () =>
        this.mutate(`sync ${path}`, () => {
          inode.durable = inode.data.slice();
        }),
      truncate: (length) =>
        this.mutate(`truncate ${path} ${length}`, () => {
          const next = new Uint8Array(length);
          next.set(inode.data.subarray(0, length));
          inode.data = next;
        }),
      size: () => {
        this.alive();
        return Promise.resolve(inode.data.length);
      },
      close: () => Promise.resolve(),
    };
  }

  /**
   * The files after a crash, as a new file system that does not crash:
   * - `lost`: only what was fsynced (names and contents);
   * - `kept`: everything written (as if the system had flushed it all before losing power);
   * - `torn`: the names as they are, each file's unsynced appended bytes cut at a random byte;
   * - `tornOldNames`: the fsynced names, contents torn as in `torn`;
   * - `process`: the process died, the system did not: everything is visible, but what was not
   *   fsynced is still not durable (a later `lost` crash of the image loses it).
   */
  crashImage(mode: CrashMode, rnd: () => number): FaultFs {
    const out = new FaultFs();
    out.dirs = new Set(this.dirs);
    const copies = new Map<Inode, Inode>();
    const copy = (inode: Inode): Inode => {
      let c = copies.get(inode);
      if (c === undefined) {
        c = mode === 'process' ? new Inode(inode.data.slice(), inode.durable.slice()) : survivor(inode, mode, rnd);
        copies.set(inode, c);
      }
      return c;
    };
    const names = mode === 'lost' || mode === 'tornOldNames' ? this.durableNames : this.names;
    for (const [n, inode] of names) out.names.set(n, copy(inode));
    const durable = mode === 'process' ? this.durableNames : names;
    for (const [n, inode] of durable) out.durableNames.set(n, copy(inode));
    return out;
  }
}

/** The contents of a file after a crash that keeps them (not a `process` crash). */
function survivor(inode: Inode, mode: CrashMode, rnd: () => number): Inode {
  let data: Uint8Array;
  if (mode === 'lost') data = inode.durable;
  else if (mode === 'kept') data = inode.data;
  else data = tornContents(inode, rnd);
  return new Inode(data.slice(), data.slice());
}

/** Durable contents plus a random prefix of what was appended after them (or either version). */
function tornContents(inode: Inode, rnd: () => number): Uint8Array {
  const { durable, data } = inode;
  const extends_ = data.length >= durable.length && isDeepStrictEqual(data.subarray(0, durable.length), durable);
  if (!extends_) return rnd() < 0.5 ? durable : data;
  const keep = Math.floor(rnd() * (data.length - durable.length + 1));
  return data.subarray(0, durable.length + keep);
}

// ---------------------------------------------------------------------------------------------
// Crashes at every write boundary
// ---------------------------------------------------------------------------------------------

const DIR = '/data/node';

/** The canonical state after each prefix of the writes (index j: after the first j), by MemoryStorage. */
async function referenceStates(batches: readonly StorageWrite[][]): Promise<Canonical[]> {
  const m = new MemoryStorage();
  const out = [await loadCanonical(m)];
  for (const batch of batches) {
    for (const w of batch) {
      await m.write([w]);
      out.push(await loadCanonical(m));
    }
  }
  return out;
}

/** Run the batches on a FaultFs that crashes after `budget` operations; how many batches resolved. */
async function runUntilCrash(
  batches: readonly StorageWrite[][],
  budget: number,
  segmentBytes: number,
): Promise<{ fs: FaultFs; resolved: number }> {
  const fs = new FaultFs(budget);
  let resolved = 0;
  try {
    const s = await FileStorage.open(DIR, { fs, segmentBytes });
    await s.load();
    for (const b of batches) {
      await s.write(b);
      resolved++;
    }
  } catch (e) {
    if (!fs.crashed) throw e;
  }
  return { fs, resolved };
}

/** Open and load a storage over `fs`. */
async function reopen(fs: FaultFs, segmentBytes: number): Promise<{ s: Storage; state: Canonical }> {
  const s = await FileStorage.open(DIR, { fs, segmentBytes });
  return { s, state: await loadCanonical(s) };
}

/**
 * For every k from 0 to the number of operations of a crash-free run, crash after the k-th and
 * recover in every crash mode: the state must be that after a prefix of the writes that includes
 * every batch whose write resolved (and at most the batch in flight); it must survive another crash
 * that loses everything unsynced; and the storage must take writes again.
 */
async function checkCrashesEverywhere(batches: StorageWrite[][], segmentBytes: number, seed: number): Promise<void> {
  const refs = await referenceStates(batches);
  const ends = [0];
  for (const b of batches) ends.push(ends[ends.length - 1]! + b.length);
  const total = (await runUntilCrash(batches, Infinity, segmentBytes)).fs.ops.length;
  const rnd = prng(seed);
  for (let k = 0; k <= total; k++) {
    const { fs, resolved } = await runUntilCrash(batches, k, segmentBytes);
    if (k === total) expect(resolved).toBe(batches.length);
    const lo = ends[resolved]!;
    const hi = ends[Math.min(resolved + 1, batches.length)]!;
    for (const mode of CRASH_MODES) {
      const where = `crash after op ${k}/${total} (${fs.ops[k - 1] ?? 'none'}), mode ${mode}, ${resolved} batches resolved`;
      const image = fs.crashImage(mode, rnd);
      const { s, state } = await reopen(image, segmentBytes).catch((e: Error) => {
        throw new Error(`${where}: recovery failed: ${e.message}`);
      });
      const j = refs.findIndex((r, i) => i >= lo && i <= hi && isDeepStrictEqual(r, state));
      if (j < 0)
        throw new Error(`${where}: the state is no prefix of the writes in [${lo}, ${hi}]:\n${JSON.stringify(state)}`);
      // What load() returned survives a further crash that loses everything unsynced.
      const again = await reopen(image.crashImage('lost', rnd), segmentBytes);
      if (!isDeepStrictEqual(again.state, state)) throw new Error(`${where}: a second crash changed the state`);
      await checkStillWritable(s, state, image, segmentBytes, where);
    }
  }
}

/** The recovered storage takes a new batch, and a restart finds it. */
async function checkStillWritable(
  s: Storage,
  state: Canonical,
  fs: FaultFs,
  segmentBytes: number,
  where: string,
): Promise<void> {
  const { lastTerm, lastIndex } = state.log;
  await s.write([
    hardState(Math.max(state.hardState.term, lastTerm) + 1, 'z'),
    append(appendCommands(emptyEntries(lastTerm, lastIndex), 2), ' later'),
  ]);
  await s.close();
  const { state: after } = await reopen(fs, segmentBytes);
  const tail = after.payloads.slice(-2).map((p) => Buffer.from(p, 'hex').toString());
  if (after.log.lastIndex !== lastIndex + 2 || tail[1] !== `cmd ${lastIndex + 2} t${lastTerm} later`) {
    throw new Error(`${where}: a write after recovery was not found after a restart`);
  }
}

/** A fixed history touching every kind of write, truncation, both kinds of snapshot and rotation. */
function scriptedBatches(): StorageWrite[][] {
  return [
    [hardState(1, 'a'), append(firstLeaderLog(1, 2))], // 1..4
    [append(appendCommands(emptyEntries(1, 4), 3))], // 5..7
    [hardState(2, 'b'), append(appendCommands(appendTermStart(emptyEntries(1, 5), 2), 2), ' t2')], // truncate after 5
    [snapshot(2, 6, 'six'), { kind: 'compact', term: 2, index: 6 }],
    [append(appendCommands(emptyEntries(2, 8), 2)), hardState(3, null)], // not in the core's order: two phases
    [hardState(4, 'c'), snapshot(4, 20, 'from the leader'), append(emptyEntries(4, 20))],
    [append(appendCommands(appendTermStart(emptyEntries(4, 20), 5), 3), ' t5')],
  ];
}

describe('FileStorage survives a crash at every write boundary', () => {
  test('a scripted history, with segments rotating (every crash point, every crash mode)', async () => {
    await checkCrashesEverywhere(scriptedBatches(), 160, 1);
  });

  test('the same history in one large segment', async () => {
    await checkCrashesEverywhere(scriptedBatches(), 1 << 20, 2);
  });

  test('random histories (seeded; replay with FC_SEED)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 - 1 }), fc.constantFrom(120, 400, 1 << 20), (seed, seg) =>
        checkCrashesEverywhere(randomBatches(seed, 7), seg, seed),
      ),
      fcParams('FileStorage random crash histories', 8),
    );
  });

  test('after a failed write the storage is unusable', async () => {
    const fs = new FaultFs(6);
    const s = await FileStorage.open(DIR, { fs });
    await s.load();
    await expect(s.write([hardState(1), append(firstLeaderLog(1, 1))])).rejects.toThrow(/unusable/);
    await expect(s.write([hardState(2)])).rejects.toThrow(/unusable/);
    await expect(s.payloads(0, 0)).rejects.toThrow(/unusable/);
    await s.close();
  });
});

describe('FileStorage matches MemoryStorage', () => {
  test('random histories give the same state and payloads after every batch and after a restart', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 2 ** 31 - 1 }), async (seed) => {
        const fs = new FaultFs();
        const file = await FileStorage.open(DIR, { fs, segmentBytes: 256 });
        await file.load();
        const memory = new MemoryStorage();
        for (const batch of randomBatches(seed, 25)) {
          await Promise.all([file.write(batch), memory.write(batch)]);
          expect(await loadCanonical(file)).toEqual(await loadCanonical(memory));
        }
        await file.close();
        const { s, state } = await reopen(fs, 256);
        expect(state).toEqual(await loadCanonical(memory));
        // A snapshot at the last index leaves no payload: every segment but the current one goes.
        const { lastTerm, lastIndex } = state.log;
        await s.write([snapshot(Math.max(lastTerm, state.snapshot?.term ?? 0), lastIndex, 'all')]);
        expect(await fs.readdir(`${DIR}/wal`)).toHaveLength(1);
        await s.close();
      }),
      fcParams('FileStorage vs MemoryStorage', 30),
    );
  });
});
