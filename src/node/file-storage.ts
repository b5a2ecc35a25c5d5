/**
 * `FileStorage`: a node's {@link Storage} in a directory, as a write-ahead log.
 *
 * Design note.
 *
 * Files (all integers little-endian):
 *
 *     <dir>/hardstate                  term and vote: a checksummed file, replaced atomically
 *     <dir>/snap/<term>-<index>.snap   the latest snapshot: a checksummed file, written atomically
 *     <dir>/wal/<20 digits>.seg        the log: segments numbered from 1, only ever appended to
 *     *.tmp                            a file being written (deleted by `load`)
 *
 * Checksummed file: `u32 H` (header length), `u32 crc32` of everything after these 8 bytes, `H`
 * bytes of JSON header (`{term, votedFor}`, or `{term, index, config}` for a snapshot), then the
 * data (the snapshot's bytes; nothing for the hard state). Written as `<name>.tmp`, fsynced,
 * renamed over `<name>`, then the directory fsynced: a reader sees the old file or the new one.
 *
 * WAL record: `u32 L` (body length), `u32 crc32` of the type byte and the body, `u8 type`, `u32
 * crc32` of the 9 header bytes before it (so a damaged length is told from a torn write), then the
 * `L`-byte body. The one record type (1) holds all the log operations of one write phase (below; a
 * batch of the core's actions is one phase), so a phase is never half in the log. Each operation is
 * `u8 op`, `u32 H`, `H` bytes of JSON header, and for an append its payloads, each `u32 length` +
 * bytes:
 *
 *  - op 1 `base`: the log (`LogEntries`) as it stands before this record. The first record of every
 *    segment starts with it, so a segment replays without the ones before it (they may be deleted).
 *    It may be the previous segments' log compacted to a snapshot they have not recorded yet.
 *  - op 2 `append`: the `LogEntries` of an append, then one payload per entry (the payload index
 *    keeps where each one is, and `payloads` reads them back with positioned reads).
 *  - op 3 `compact`: `{term, index}`: the log compacted to a snapshot saved at that position.
 *
 * Writing a batch: its writes are made durable in the order hard state, snapshots, log; a batch
 * whose writes are not in that order (the core's actions always are) is split into phases that are,
 * run one after the other. Per phase: the hard state file (fsync of the file and of `<dir>`), each
 * snapshot file (fsync of the file and of `snap/`; the previous snapshot file is then deleted),
 * then one WAL record for all its log operations and one fsync of the segment (and of `wal/` when
 * the segment is new). So a crash inside `write` leaves a prefix of the batch's writes, and a batch
 * in the core's order fsyncs each file it touches once. Afterwards the segments before the oldest
 * one holding a payload of the log (the others were compacted or overwritten) are deleted. A new
 * segment is started when the current one has reached `segmentBytes`.
 *
 * Recovery (`load`):
 *  - hard state: a missing file is term 0 without a vote; a corrupt one is refused.
 *  - snapshot: the newest file (by index, then term) is used; a corrupt newest snapshot is refused,
 *    with no fallback to an older one (the log was compacted to the newest, so an older snapshot
 *    cannot bring the entries in between back). Older snapshots and temporary files are deleted.
 *  - WAL: the segments with the longest run of consecutive numbers that ends with the highest are
 *    replayed in order (older ones are leftovers of a deletion a crash interrupted: deleted). In the
 *    last segment, a torn tail is cut off (the file is truncated and fsynced) and recovery goes on:
 *    a record that ends past the end of the file, a last record failing its checksum, or a header
 *    failing its check followed only by zero bytes. Any other bad record is refused, with an Error
 *    naming the file and the offset.
 *  - the log is then compacted to the snapshot if the WAL has not recorded it (a crash after the
 *    snapshot file, before the WAL record); the next record records it. Every entry of the log must
 *    then have its payload in the WAL, or the store is refused.
 *  - the last segment and the three directories are fsynced, so that what `load` returned survives
 *    a later power loss even if it was read from a page cache a process crash left behind.
 *
 * Memory: per entry of the log, the segment, offset and length of its payload (a few numbers);
 * payloads are read from the segments on demand (`payloads`), snapshots from their file.
 */
import { open as fsOpen, mkdir, readdir, rename, unlink, type FileHandle } from 'node:fs/promises';
import { constants as fsConstants, fsyncSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import {
  MAX_POSITION,
  applyToStoredLog,
  emptyEntries,
  validateConfig,
  validateLogEntries,
  type ClusterConfig,
  type LogEntries,
} from '../index.js';
import {
  checkPayloadRange,
  copyJson,
  EMPTY_STORED_META,
  ownedWrite,
  storedStatesAfter,
  type HardState,
  type SnapshotMeta,
  type Storage,
  type StoredMeta,
  type StoredNode,
  type StoredSnapshot,
  type StorageWrite,
} from '../host/storage.js';

// ---------------------------------------------------------------------------------------------
// The file layer: every I/O FileStorage does, so that tests can inject faults.
// ---------------------------------------------------------------------------------------------

/**
 * How {@link FileLayer.open} opens a file: `read` (it must exist), `readWrite` (created empty when
 * missing, never truncated) or `replace` (created, or truncated to empty when it exists).
 */
export type OpenMode = 'read' | 'readWrite' | 'replace';

/** An open file. Positions and lengths are byte counts; every method rejects on an I/O error. */
export interface FileHandleLayer {
  /** Read into `into` from `position` until it is full or the file ends; resolves to the bytes read. */
  read(into: Uint8Array, position: number): Promise<number>;
  /** Write all of `data` at `position` (the file grows as needed). Not durable before `sync`. */
  write(data: Uint8Array, position: number): Promise<void>;
  /** Make the file's contents and size durable (fsync). */
  sync(): Promise<void>;
  /** Cut (or zero-extend) the file to `length` bytes. Not durable before `sync`. */
  truncate(length: number): Promise<void>;
  /** The file's current size. */
  size(): Promise<number>;
  /** Release the handle; no other method may be called afterwards. */
  close(): Promise<void>;
}

/**
 * The file system operations {@link FileStorage} uses. Paths are built with `path.join`. A name
 * created, renamed or unlinked is durable only after `syncDir` of its directory.
 */
export interface FileLayer {
  /** Create the directory and its missing parents; resolves when it exists. */
  mkdir(path: string): Promise<void>;
  /** The names in a directory (no order promised). */
  readdir(path: string): Promise<string[]>;
  /** Open a file (see {@link OpenMode}); rejects when `read` finds none. */
  open(path: string, mode: OpenMode): Promise<FileHandleLayer>;
  /** Rename `from` to `to`, replacing `to` atomically when it exists. */
  rename(from: string, to: string): Promise<void>;
  /** Delete a file. */
  unlink(path: string): Promise<void>;
  /** Make the directory's entries durable (fsync of the directory). */
  syncDir(path: string): Promise<void>;
}

const OPEN_FLAGS: { readonly [M in OpenMode]: string | number } = {
  read: 'r',
  readWrite: fsConstants.O_RDWR | fsConstants.O_CREAT,
  replace: 'w',
};

/**
 * The real {@link FileLayer}, over `node:fs`, with its fsyncs run on libuv's thread pool: the event
 * loop goes on while the disk syncs. Writes are plain `pwrite`s into the page cache, made on the
 * calling thread (`writeSync`): they take microseconds, where a round trip through the thread pool
 * costs about 80-100 µs of CPU and latency on the 2-vCPU machines this was measured on. Reads,
 * renames and directory operations go through the thread pool.
 */
export const nodeFileLayer: FileLayer = realFileLayer('threadPool');

/**
 * {@link nodeFileLayer} with the fsyncs of files (and directories) made on the calling thread
 * (`fsyncSync`): each fsync blocks the event loop until the disk has the data (a few hundred µs on
 * a local SSD, tens of ms on a slow disk), and saves one thread-pool round trip per write. For a
 * process that does nothing but run its node (see {@link FileStorageOptions.fsync}).
 */
export const blockingNodeFileLayer: FileLayer = realFileLayer('blocking');

/** How a real file layer makes files durable (see {@link FileStorageOptions.fsync}). */
export type FsyncMode = 'threadPool' | 'blocking';

/** The real file layer whose fsyncs run as `mode` says. */
function realFileLayer(mode: FsyncMode): FileLayer {
  const syncFd: (fd: number, h: FileHandle) => Promise<void> =
    mode === 'blocking'
      ? (fd) => {
          try {
            fsyncSync(fd);
            return RESOLVED;
          } catch (e) {
            return Promise.reject(toError(e));
          }
        }
      : (_fd, h) => h.sync();
  return {
    async mkdir(path) {
      await mkdir(path, { recursive: true });
    },
    readdir: (path) => readdir(path),
    async open(path, mode) {
      const h = await fsOpen(path, OPEN_FLAGS[mode]);
      return {
        async read(into, position) {
          let done = 0;
          while (done < into.length) {
            const { bytesRead } = await h.read(into, done, into.length - done, position + done);
            if (bytesRead === 0) break;
            done += bytesRead;
          }
          return done;
        },
        write(data, position) {
          try {
            let done = 0;
            while (done < data.length) done += writeSync(h.fd, data, done, data.length - done, position + done);
            return RESOLVED;
          } catch (e) {
            return Promise.reject(toError(e));
          }
        },
        sync: () => syncFd(h.fd, h),
        truncate: (length) => h.truncate(length),
        size: async () => (await h.stat()).size,
        close: () => h.close(),
      };
    },
    rename: (from, to) => rename(from, to),
    unlink: (path) => unlink(path),
    async syncDir(path) {
      if (process.platform === 'win32') return; // directories cannot be opened for fsync there
      const h = await fsOpen(path, 'r');
      try {
        await syncFd(h.fd, h);
      } finally {
        await h.close();
      }
    },
  };
}

/** A settled promise, for the blocking layer's fsync. */
const RESOLVED: Promise<void> = Promise.resolve();

// ---------------------------------------------------------------------------------------------
// Formats
// ---------------------------------------------------------------------------------------------

const HARD_STATE_FILE = 'hardstate';
const WAL_DIR = 'wal';
const SNAP_DIR = 'snap';
const TMP_SUFFIX = '.tmp';
const SEGMENT_NAME = /^(\d{20})\.seg$/;
const SNAPSHOT_NAME = /^(\d+)-(\d+)\.snap$/;
const RECORD_HEADER = 13;
const RECORD_BATCH = 1;
const OP_BASE = 1;
const OP_APPEND = 2;
const OP_COMPACT = 3;
const MAX_U32 = 0xffffffff;

/** The default size at which a new WAL segment is started: 64 MiB. */
export const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;

/** One log operation of a WAL record, as written. */
type LogOp =
  | { readonly op: 'base'; readonly log: LogEntries }
  | { readonly op: 'append'; readonly entries: LogEntries; readonly payloads: readonly Uint8Array[] }
  | { readonly op: 'compact'; readonly term: number; readonly index: number };

/** One log operation of a WAL record, as read: an append's payloads are located, not loaded. */
type ReadOp =
  | { readonly op: 'base'; readonly log: LogEntries }
  | { readonly op: 'append'; readonly entries: LogEntries; readonly payloads: PayloadPlaces }
  | { readonly op: 'compact'; readonly term: number; readonly index: number };

/** Where an append's payloads are: byte offsets (relative to some start) and lengths, in index order. */
interface PayloadPlaces {
  readonly offsets: number[];
  readonly lengths: number[];
}

/** Log operations encoded as a record body fragment, with where each append's payloads landed in it. */
interface EncodedOps {
  readonly bytes: Buffer;
  /** For each op: its payload places relative to the start of `bytes` (empty for base and compact). */
  readonly places: readonly PayloadPlaces[];
}

function segmentName(n: number): string {
  return `${String(n).padStart(20, '0')}.seg`;
}

function snapshotName(term: number, index: number): string {
  return `${term}-${index}.snap`;
}

function u32(n: number): Buffer {
  const b = Buffer.allocUnsafe(4);
  b.writeUInt32LE(n, 0);
  return b;
}

/** `ops` encoded one after the other (see the design note for the layout). */
function encodeOps(ops: readonly LogOp[]): EncodedOps {
  const chunks: Buffer[] = [];
  const places: PayloadPlaces[] = [];
  let at = 0;
  const push = (b: Buffer): void => {
    chunks.push(b);
    at += b.length;
  };
  for (const o of ops) {
    const header = Buffer.from(JSON.stringify(opHeader(o)), 'utf8');
    push(Buffer.from([opCode(o)]));
    push(u32(header.length));
    push(header);
    const offsets: number[] = [];
    const lengths: number[] = [];
    if (o.op === 'append') {
      for (const p of o.payloads) {
        if (p.length > MAX_U32) throw new RangeError('a payload is larger than 4 GiB');
        push(u32(p.length));
        offsets.push(at);
        lengths.push(p.length);
        push(Buffer.from(p.buffer, p.byteOffset, p.length));
      }
    }
    places.push({ offsets, lengths });
  }
  return { bytes: Buffer.concat(chunks, at), places };
}

function opCode(o: LogOp): number {
  return o.op === 'base' ? OP_BASE : o.op === 'append' ? OP_APPEND : OP_COMPACT;
}

function opHeader(o: LogOp): unknown {
  if (o.op === 'base') return o.log;
  if (o.op === 'append') return o.entries;
  return { term: o.term, index: o.index };
}

/** A WAL record whose body is the concatenation of `chunks` (see the design note). */
function encodeRecord(chunks: readonly Buffer[]): Buffer {
  let length = 0;
  for (const c of chunks) length += c.length;
  if (length > MAX_U32) throw new RangeError('a write batch is larger than 4 GiB');
  const out = Buffer.allocUnsafe(RECORD_HEADER + length);
  out.writeUInt32LE(length, 0);
  out[8] = RECORD_BATCH;
  let crc = crc32(out.subarray(8, 9));
  let at = RECORD_HEADER;
  for (const c of chunks) {
    crc = crc32(c, crc);
    c.copy(out, at);
    at += c.length;
  }
  out.writeUInt32LE(crc, 4);
  out.writeUInt32LE(crc32(out.subarray(0, 9)), 9);
  return out;
}

/** The log operations in a record body; throws an Error saying what is malformed. */
function decodeOps(body: Buffer): ReadOp[] {
  const ops: ReadOp[] = [];
  let at = 0;
  const take = (n: number): number => {
    if (at + n > body.length) throw new Error('an operation runs past the end of the record');
    const start = at;
    at += n;
    return start;
  };
  while (at < body.length) {
    const code = body[take(1)]!;
    const headerLength = body.readUInt32LE(take(4));
    const h = take(headerLength);
    const header: unknown = JSON.parse(body.toString('utf8', h, h + headerLength));
    if (code === OP_BASE) ops.push({ op: 'base', log: checkedEntries(header) });
    else if (code === OP_APPEND) {
      const entries = checkedEntries(header);
      const offsets: number[] = [];
      const lengths: number[] = [];
      for (let i = entries.prevIndex; i < entries.lastIndex; i++) {
        const length = body.readUInt32LE(take(4));
        offsets.push(take(length));
        lengths.push(length);
      }
      ops.push({ op: 'append', entries, payloads: { offsets, lengths } });
    } else if (code === OP_COMPACT) ops.push({ op: 'compact', ...checkedPosition(header) });
    else throw new Error(`unknown operation ${code}`);
  }
  return ops;
}

function checkedEntries(x: unknown): LogEntries {
  const problem = validateLogEntries(x);
  if (problem !== null) throw new Error(`malformed log entries: ${problem}`);
  return x as LogEntries;
}

function checkedPosition(x: unknown): { term: number; index: number } {
  const p = x as { term?: unknown; index?: unknown } | null;
  const term = p?.term;
  const index = p?.index;
  const problem = validateLogEntries(emptyEntries(term as number, index as number));
  if (problem !== null) throw new Error(`malformed position: ${problem}`);
  return { term: term as number, index: index as number };
}

/** A checksummed file holding `header` (as JSON) and `data`. */
function encodeChecksummed(header: unknown, data: Uint8Array): Buffer {
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const out = Buffer.allocUnsafe(8 + json.length + data.length);
  out.writeUInt32LE(json.length, 0);
  json.copy(out, 8);
  out.set(data, 8 + json.length);
  out.writeUInt32LE(crc32(out.subarray(8)), 4);
  return out;
}

/** The header and data of a checksummed file; throws an Error naming `path` when it is corrupt. */
function decodeChecksummed(bytes: Buffer, path: string): { header: unknown; data: Uint8Array } {
  const fail = (why: string): never => {
    throw new Error(`FileStorage: ${path} is corrupt: ${why}`);
  };
  if (bytes.length < 8) fail('shorter than its 8-byte prefix');
  const headerLength = bytes.readUInt32LE(0);
  if (8 + headerLength > bytes.length) fail('its header runs past the end of the file');
  if (crc32(bytes.subarray(8)) !== bytes.readUInt32LE(4)) fail('checksum mismatch');
  let header: unknown;
  try {
    header = JSON.parse(bytes.toString('utf8', 8, 8 + headerLength));
  } catch (e) {
    fail(`its header is not JSON (${messageOf(e)})`);
  }
  return { header, data: new Uint8Array(bytes.subarray(8 + headerLength)) };
}

// ---------------------------------------------------------------------------------------------
// Scanning a segment
// ---------------------------------------------------------------------------------------------

/** A well-formed record of a segment: where it starts and its body. */
interface ScannedRecord {
  readonly offset: number;
  readonly body: Buffer;
}

/** The records of a segment, and the length of the valid part (shorter than the file when its tail is torn). */
interface SegmentScan {
  readonly records: ScannedRecord[];
  readonly validLength: number;
}

/** Why the record at some offset is bad, or null when it is good. */
type RecordDamage = null | 'incomplete' | 'header' | 'body' | 'type';

function recordDamage(bytes: Buffer, at: number): RecordDamage {
  if (bytes.length - at < RECORD_HEADER) return 'incomplete';
  if (crc32(bytes.subarray(at, at + 9)) !== bytes.readUInt32LE(at + 9)) return 'header';
  const end = at + RECORD_HEADER + bytes.readUInt32LE(at);
  if (end > bytes.length) return 'incomplete';
  const crc = crc32(bytes.subarray(at + RECORD_HEADER, end), crc32(bytes.subarray(at + 8, at + 9)));
  if (crc !== bytes.readUInt32LE(at + 4)) return 'body';
  return bytes[at + 8] === RECORD_BATCH ? null : 'type';
}

/** True when damage at `at` is what a crash during the last write leaves (see the design note). */
function isTornTail(bytes: Buffer, at: number, damage: RecordDamage): boolean {
  if (damage === 'incomplete') return true;
  if (damage === 'body') return at + RECORD_HEADER + bytes.readUInt32LE(at) === bytes.length;
  if (damage === 'header') return bytes.subarray(at).every((b) => b === 0);
  return false;
}

const DAMAGE_TEXT: { readonly [D in Exclude<RecordDamage, null>]: string } = {
  incomplete: 'the record runs past the end of the segment',
  header: 'header checksum mismatch',
  body: 'checksum mismatch',
  type: 'unknown record type',
};

/** The records of a segment; a torn tail is allowed only in the last one; throws on other damage. */
function scanSegment(bytes: Buffer, path: string, isLast: boolean): SegmentScan {
  const records: ScannedRecord[] = [];
  let at = 0;
  while (at < bytes.length) {
    const damage = recordDamage(bytes, at);
    if (damage !== null) {
      if (isLast && isTornTail(bytes, at, damage)) return { records, validLength: at };
      throw new Error(`FileStorage: corrupt WAL record in ${path} at offset ${at}: ${DAMAGE_TEXT[damage]}`);
    }
    const end = at + RECORD_HEADER + bytes.readUInt32LE(at);
    records.push({ offset: at, body: bytes.subarray(at + RECORD_HEADER, end) });
    at = end;
  }
  return { records, validLength: at };
}

// ---------------------------------------------------------------------------------------------
// The payload index and the log image
// ---------------------------------------------------------------------------------------------

/** Payloads of consecutive indices `first, first + 1, ...`, stored in one segment at absolute offsets. */
interface PayloadRun {
  first: number;
  readonly segment: number;
  offsets: number[];
  lengths: number[];
}

/** A contiguous range of payloads to read from one segment in one read. */
interface PayloadSpan {
  readonly segment: number;
  readonly start: number;
  readonly end: number;
  readonly offsets: readonly number[];
  readonly lengths: readonly number[];
}

/**
 * Where each payload of the log is: runs of consecutive indices, in index order, with no gap
 * between runs. Compaction and truncation drop what the log no longer holds, so its size follows
 * the log's entry count.
 */
class PayloadIndex {
  private runs: PayloadRun[] = [];

  /** The first index held, or null when none is. */
  firstIndex(): number | null {
    return this.runs.length === 0 ? null : this.runs[0]!.first;
  }

  /** The last index held, or null when none is. */
  lastIndex(): number | null {
    const r = this.runs[this.runs.length - 1];
    return r === undefined ? null : r.first + r.lengths.length - 1;
  }

  /** The oldest segment holding a payload, or null when none does. */
  firstSegment(): number | null {
    return this.runs.length === 0 ? null : this.runs[0]!.segment;
  }

  /** Forget the payloads above `index`. */
  truncateAfter(index: number): void {
    while (this.runs.length > 0 && this.runs[this.runs.length - 1]!.first > index) this.runs.pop();
    const last = this.runs[this.runs.length - 1];
    if (last === undefined) return;
    const keep = index - last.first + 1;
    if (keep < last.lengths.length) {
      last.offsets.length = keep;
      last.lengths.length = keep;
    }
  }

  /** Keep only the payloads of `(from, to]`. */
  retain(from: number, to: number): void {
    this.truncateAfter(to);
    while (this.runs.length > 0 && this.runs[0]!.first + this.runs[0]!.lengths.length - 1 <= from) this.runs.shift();
    const first = this.runs[0];
    if (first === undefined || first.first > from) return;
    const drop = from - first.first + 1;
    first.offsets = first.offsets.slice(drop);
    first.lengths = first.lengths.slice(drop);
    first.first = from + 1;
  }

  /**
   * Add the payloads of `first, first + 1, ...` (right after the last index held, or as the first),
   * joining the last run when they are in the same segment.
   */
  add(first: number, segment: number, offsets: readonly number[], lengths: readonly number[]): void {
    if (lengths.length === 0) return;
    const lastIndex = this.lastIndex();
    if (lastIndex !== null && first !== lastIndex + 1) {
      throw new Error(`payload index: ${first} does not follow ${lastIndex}`);
    }
    const last = this.runs[this.runs.length - 1];
    if (last === undefined || last.segment !== segment) {
      this.runs.push({ first, segment, offsets: offsets.slice(), lengths: lengths.slice() });
      return;
    }
    for (let k = 0; k < lengths.length; k++) {
      last.offsets.push(offsets[k]!);
      last.lengths.push(lengths[k]!);
    }
  }

  /** The reads that give the payloads of `(from, to]` (all held: the caller checked), one per run. */
  spans(from: number, to: number): PayloadSpan[] {
    const out: PayloadSpan[] = [];
    for (let k = this.runHolding(from + 1); k < this.runs.length && this.runs[k]!.first <= to; k++) {
      const r = this.runs[k]!;
      const lo = Math.max(from + 1, r.first) - r.first;
      const hi = Math.min(to, r.first + r.lengths.length - 1) - r.first;
      const offsets = r.offsets.slice(lo, hi + 1);
      const lengths = r.lengths.slice(lo, hi + 1);
      out.push({
        segment: r.segment,
        start: offsets[0]!,
        end: offsets[hi - lo]! + lengths[hi - lo]!,
        offsets,
        lengths,
      });
    }
    return out;
  }

  /** The position of the first run ending at or after `index` (a binary search). */
  private runHolding(index: number): number {
    let lo = 0;
    let hi = this.runs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const r = this.runs[mid]!;
      if (r.first + r.lengths.length - 1 < index) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** The log and the places of its payloads, as the WAL's operations build them. */
class LogImage {
  readonly index = new PayloadIndex();

  constructor(public log: LogEntries) {}

  /** Apply one operation of a record written in `segment`; `base` is the record's payload offset base. */
  apply(o: ReadOp, segment: number, base: number): void {
    if (o.op === 'base') {
      this.adoptBase(o.log);
    } else if (o.op === 'append') {
      this.log = applyToStoredLog(this.log, { type: 'appendLog', entries: o.entries });
      this.index.truncateAfter(o.entries.prevIndex);
      const offsets = o.payloads.offsets.map((x) => x + base);
      this.index.add(o.entries.prevIndex + 1, segment, offsets, o.payloads.lengths);
    } else {
      this.compact(o.term, o.index);
    }
  }

  /** Compact the log to a snapshot at `(term, index)` (as `applyToStoredLog` does) and its payloads with it. */
  compact(term: number, index: number): void {
    this.log = applyToStoredLog(this.log, { type: 'compactLog', term, index });
    this.index.retain(this.log.prevIndex, this.log.lastIndex);
  }

  /** An error unless every entry of the log has its payload. */
  checkComplete(): void {
    const { prevIndex, lastIndex } = this.log;
    this.index.retain(prevIndex, lastIndex);
    if (prevIndex === lastIndex) return;
    const first = this.index.firstIndex();
    const last = this.index.lastIndex();
    if (first !== prevIndex + 1 || last !== lastIndex) {
      throw new Error(
        `FileStorage: the WAL lacks payloads of the log (${prevIndex}, ${lastIndex}]: ` +
          `it holds (${first === null ? '-' : first - 1}, ${last ?? '-'}]`,
      );
    }
  }

  /**
   * A segment's base must be the log the segments before it built (same anchor and end) — or that
   * log compacted to the base's anchor: a segment started while the WAL had not yet recorded the
   * compaction to a snapshot (see recovery) starts from the compacted log, which it then adopts.
   */
  private adoptBase(base: LogEntries): void {
    if (!sameBounds(base, this.log)) {
      const compacted = applyToStoredLog(this.log, { type: 'compactLog', term: base.prevTerm, index: base.prevIndex });
      const l = this.log;
      if (base.prevIndex < l.prevIndex || !sameBounds(base, compacted)) {
        throw new Error(
          `the segment starts from the log (${base.prevTerm},${base.prevIndex})..(${base.lastTerm},${base.lastIndex}) ` +
            `but the segments before it end with (${l.prevTerm},${l.prevIndex})..(${l.lastTerm},${l.lastIndex})`,
        );
      }
      this.compact(base.prevTerm, base.prevIndex);
    }
  }
}

/** True when two runs have the same anchor and the same last position. */
function sameBounds(a: LogEntries, b: LogEntries): boolean {
  return (
    a.prevTerm === b.prevTerm && a.prevIndex === b.prevIndex && a.lastTerm === b.lastTerm && a.lastIndex === b.lastIndex
  );
}

// ---------------------------------------------------------------------------------------------
// Planning a batch
// ---------------------------------------------------------------------------------------------

/** A snapshot file ready to be written. */
interface SnapshotFile {
  readonly name: string;
  readonly bytes: Buffer;
}

/**
 * Consecutive writes of a batch that can be made durable in the order hard state, snapshots, log
 * (see the design note), their files already encoded (so the caller's arrays are copied when
 * `write` is called).
 */
interface Phase {
  hardState: Buffer | null;
  readonly snapshots: SnapshotFile[];
  readonly ops: LogOp[];
  /** 0 hard state, 1 snapshot, 2 log: the highest kind of write in the phase so far. */
  rank: number;
  /** The position in the batch of the phase's last write. */
  lastWrite?: number;
}

/** A phase ready to run: its log operations encoded, the log before it and the state after it. */
interface EncodedPhase {
  readonly hardState: Buffer | null;
  readonly snapshots: readonly SnapshotFile[];
  readonly ops: readonly LogOp[];
  readonly encoded: EncodedOps;
  /** The log before the phase: the base of a new segment. */
  readonly logBefore: LogEntries;
  /** The stored state after the phase. */
  readonly metaAfter: StoredMeta;
}

/** The rank of a write in the durability order, or -1 for a compaction (checked, writes nothing). */
function rankOf(w: StorageWrite): number {
  return w.kind === 'hardState' ? 0 : w.kind === 'snapshot' ? 1 : w.kind === 'append' ? 2 : -1;
}

/**
 * The phases of a batch of owned writes (see `ownedWrite`), encoded: the payloads and snapshot data
 * are copied into the encoded files and records now. Throws (before anything is written) when the
 * rules refuse a write.
 */
function planPhases(meta: StoredMeta, batch: readonly StorageWrite[]): EncodedPhase[] {
  const states = storedStatesAfter(meta, batch);
  const phases: Phase[] = [];
  for (let i = 0; i < batch.length; i++) {
    const w = batch[i]!;
    const rank = rankOf(w);
    let p = phases[phases.length - 1];
    if (rank >= 0 && (p === undefined || rank < p.rank)) {
      p = { hardState: null, snapshots: [], ops: [], rank };
      phases.push(p);
    }
    if (p === undefined) continue; // compactions before any other write: checked, nothing to write
    addToPhase(p, w);
    p.rank = Math.max(p.rank, rank);
    p.lastWrite = i;
  }
  let logBefore = meta.log;
  return phases.map((p) => {
    const metaAfter = states[p.lastWrite ?? 0]!;
    const encoded: EncodedPhase = {
      ...p,
      ops: p.ops.map(withoutPayloads),
      logBefore,
      metaAfter,
      encoded: encodeOps(p.ops),
    };
    logBefore = metaAfter.log;
    return encoded;
  });
}

function addToPhase(p: Phase, w: StorageWrite): void {
  switch (w.kind) {
    case 'hardState':
      p.hardState = encodeChecksummed({ term: w.term, votedFor: w.votedFor }, new Uint8Array(0));
      return;
    case 'snapshot': {
      const { term, index, config, data } = w.snapshot;
      p.snapshots.push({ name: snapshotName(term, index), bytes: encodeChecksummed({ term, index, config }, data) });
      p.ops.push({ op: 'compact', term, index });
      return;
    }
    case 'append':
      p.ops.push({ op: 'append', entries: w.entries, payloads: w.payloads });
      return;
    default:
      return;
  }
}

/** An operation without its payloads (they are encoded: keeping them would keep the caller's arrays). */
function withoutPayloads(o: LogOp): LogOp {
  return o.op === 'append' ? { op: 'append', entries: o.entries, payloads: [] } : o;
}

// ---------------------------------------------------------------------------------------------
// FileStorage
// ---------------------------------------------------------------------------------------------

/** Options of {@link FileStorage.open}. */
export interface FileStorageOptions {
  /**
   * Start a new WAL segment when the current one has reached this many bytes (a positive integer;
   * default {@link DEFAULT_SEGMENT_BYTES}). A segment exceeds it by at most one batch.
   */
  readonly segmentBytes?: number;
  /**
   * How the files are made durable, with the default file system: `'threadPool'` (default; see
   * {@link nodeFileLayer}) runs each fsync on libuv's thread pool and lets the event loop go on;
   * `'blocking'` (see {@link blockingNodeFileLayer}) runs it on the calling thread, which blocks the
   * event loop for the fsync's duration and saves a thread-pool round trip per write (about 100 µs
   * of CPU and of commit latency per write on a 2-vCPU machine). Nothing else runs meanwhile: in
   * `examples/kv` on such a machine, `'blocking'` made one writing client 5-35 % faster (in
   * alternating runs) and halved the rate of 16 and 256 concurrent clients. Choose it only for a
   * process that runs a node and little else, under light concurrency. Any other value is refused
   * with a `RangeError`, as is `fsync` given with `fs`.
   */
  readonly fsync?: FsyncMode;
  /** The file system to use (default {@link nodeFileLayer}); tests pass one that injects faults. */
  readonly fs?: FileLayer;
}

/** The file layer `options` ask for (see {@link FileStorageOptions.fsync}); throws a `RangeError` on a bad choice. */
function fileLayerOf(options: FileStorageOptions): FileLayer {
  const mode: unknown = options.fsync;
  if (mode === undefined) return options.fs ?? nodeFileLayer;
  if (mode !== 'threadPool' && mode !== 'blocking') {
    throw new RangeError(`FileStorage.open: fsync must be 'threadPool' or 'blocking', not ${JSON.stringify(mode)}`);
  }
  if (options.fs !== undefined) {
    throw new RangeError(
      'FileStorage.open: fsync chooses how the default file system syncs; it cannot be given with fs',
    );
  }
  return mode === 'blocking' ? blockingNodeFileLayer : nodeFileLayer;
}

/** The segment being appended to. */
interface CurrentSegment {
  readonly number: number;
  readonly handle: FileHandleLayer;
  size: number;
}

/** A snapshot found by `load`, with its file name. */
interface FoundSnapshot {
  readonly name: string;
  readonly snapshot: StoredSnapshot;
}

/**
 * A node's {@link Storage} in a directory: a write-ahead log in segment files, the hard state and
 * the latest snapshot in files of their own (see the design note at the top of this file).
 *
 * Open with {@link FileStorage.open}, then `load()` once before anything else. Calls may overlap:
 * they run one at a time, in call order. `write` checks its batch when called (against the state
 * after the writes already called), copying everything it keeps, and rejects a refused batch at
 * once without touching the files. An I/O error during a write makes the storage unusable: that
 * call and every later one reject (`close` still releases the files).
 *
 * One process at a time: nothing locks the directory.
 */
export class FileStorage implements Storage {
  /** The durable state (null before `load`). */
  private meta: StoredMeta | null = null;
  /** The state after every write called so far (what new writes are checked against). */
  private planned: StoredMeta | null = null;
  private image: LogImage = new LogImage(emptyEntries(0, 0));
  private segments: number[] = [];
  private current: CurrentSegment | null = null;
  private readonly readers = new Map<number, FileHandleLayer>();
  private snapshotFile: string | null = null;
  /** The log is compacted to the snapshot but the WAL does not say so yet (see recovery). */
  private markerPending = false;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  private failure: Error | null = null;

  private constructor(
    private readonly dir: string,
    private readonly fs: FileLayer,
    private readonly segmentBytes: number,
  ) {}

  /**
   * A storage over the directory `dir`, created (with its parents) when missing. Nothing is read
   * until `load()`. Rejects with a `RangeError` when `segmentBytes` is not a positive integer or
   * `fsync` is not a mode (or is given with `fs`), and when the directory cannot be created.
   */
  static async open(dir: string, options: FileStorageOptions = {}): Promise<FileStorage> {
    const segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
    if (!Number.isSafeInteger(segmentBytes) || segmentBytes <= 0) {
      throw new RangeError('FileStorage.open: segmentBytes must be a positive integer');
    }
    const fs = fileLayerOf(options);
    await fs.mkdir(join(dir, WAL_DIR));
    await fs.mkdir(join(dir, SNAP_DIR));
    await fs.syncDir(dir);
    await fs.syncDir(join(dir, '..'));
    return new FileStorage(dir, fs, segmentBytes);
  }

  /**
   * Recover and return everything stored (see "Recovery" in the design note). Rejects when the
   * files are corrupt or inconsistent, naming the file (and the offset, in the WAL). Called again
   * after it succeeded, it returns the current state without reading the files.
   */
  load(): Promise<StoredNode> {
    return this.enqueue(async () => {
      if (this.meta === null) await this.recover();
      return this.storedNode(this.meta!, await this.readSnapshot());
    });
  }

  /** See {@link Storage.write}: checked now, made durable in order, one fsync per file touched. */
  write(batch: readonly StorageWrite[]): Promise<void> {
    let phases: EncodedPhase[];
    try {
      this.checkUsable();
      if (this.planned === null) throw new Error('FileStorage: load() must complete before write()');
      storedStatesAfter(this.planned, batch); // check the caller's writes first: it throws when one is refused
      phases = planPhases(this.planned, batch.map(ownedWrite));
    } catch (e) {
      return Promise.reject(toError(e));
    }
    if (phases.length > 0) this.planned = phases[phases.length - 1]!.metaAfter;
    return this.enqueue(async () => {
      try {
        for (const p of phases) await this.runPhase(p);
      } catch (e) {
        this.failure ??= new Error(`FileStorage: a write failed; the storage is unusable: ${messageOf(e)}`, {
          cause: e,
        });
        throw this.failure;
      }
    });
  }

  /** See {@link Storage.payloads}: read from the segments. */
  payloads(from: number, to: number): Promise<readonly Uint8Array[]> {
    return this.enqueue(async () => {
      checkPayloadRange(this.loadedMeta().log, from, to);
      const out: Uint8Array[] = [];
      for (const span of this.image.index.spans(from, to)) await this.readSpan(span, out);
      return out;
    });
  }

  /** See {@link Storage.snapshot}: read from its file (and checked) at each call. */
  snapshot(): Promise<StoredSnapshot | null> {
    return this.enqueue(() => {
      this.loadedMeta();
      return this.readSnapshot();
    });
  }

  /** Release the files (every write is already durable). Later calls reject. */
  close(): Promise<void> {
    if (this.closed) return Promise.reject(new Error('FileStorage is closed'));
    const done = this.enqueue(() => this.releaseHandles(), true);
    this.closed = true;
    return done;
  }

  // --- plumbing ---------------------------------------------------------------------------

  /** Run `task` after every call made before it; rejects at once when closed (or unusable). */
  private enqueue<T>(task: () => Promise<T>, closing = false): Promise<T> {
    try {
      if (!closing) this.checkUsable();
    } catch (e) {
      return Promise.reject(toError(e));
    }
    const run = this.queue.then(() => {
      if (!closing) this.checkUsable();
      return task();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private checkUsable(): void {
    if (this.closed) throw new Error('FileStorage is closed');
    if (this.failure !== null) throw this.failure;
  }

  private loadedMeta(): StoredMeta {
    if (this.meta === null) throw new Error('FileStorage: load() must complete first');
    return this.meta;
  }

  private get walDir(): string {
    return join(this.dir, WAL_DIR);
  }

  private get snapDir(): string {
    return join(this.dir, SNAP_DIR);
  }

  private storedNode(meta: StoredMeta, snapshot: StoredSnapshot | null): StoredNode {
    return { hardState: { ...meta.hardState }, log: copyJson(meta.log), snapshot };
  }

  private async releaseHandles(): Promise<void> {
    const handles = [...this.readers.values()];
    if (this.current !== null) handles.push(this.current.handle);
    this.readers.clear();
    this.current = null;
    for (const h of handles) await h.close();
  }

  // --- writing ----------------------------------------------------------------------------

  /** Make one phase durable, then update the in-memory state and delete what it made obsolete. */
  private async runPhase(p: EncodedPhase): Promise<void> {
    if (p.hardState !== null) await this.replaceFile(this.dir, HARD_STATE_FILE, p.hardState);
    for (const s of p.snapshots) {
      await this.replaceFile(this.snapDir, s.name, s.bytes);
      await this.forgetOlderSnapshot(s.name);
    }
    if (p.ops.length > 0) await this.appendRecord(p);
    this.meta = p.metaAfter;
    await this.deleteDeadSegments();
  }

  /** Write `<dir>/<name>` atomically: a temporary file, fsync, rename, fsync of the directory. */
  private async replaceFile(dir: string, name: string, bytes: Buffer): Promise<void> {
    const target = join(dir, name);
    const tmp = target + TMP_SUFFIX;
    const h = await this.fs.open(tmp, 'replace');
    try {
      await h.write(bytes, 0);
      await h.sync();
    } finally {
      await h.close();
    }
    await this.fs.rename(tmp, target);
    await this.fs.syncDir(dir);
  }

  /** Append one record with the phase's operations to the WAL, fsync it, and index its payloads. */
  private async appendRecord(p: EncodedPhase): Promise<void> {
    const { segment, isNew } = await this.segmentForAppend();
    const prefixOps: LogOp[] = [];
    if (segment.size === 0) prefixOps.push({ op: 'base', log: p.logBefore });
    else if (this.markerPending) prefixOps.push(this.snapshotMarker());
    const prefix = encodeOps(prefixOps).bytes;
    const record = encodeRecord([prefix, p.encoded.bytes]);
    const at = segment.size;
    await segment.handle.write(record, at);
    await segment.handle.sync();
    if (isNew) await this.fs.syncDir(this.walDir);
    segment.size += record.length;
    this.markerPending = false;
    const base = at + RECORD_HEADER + prefix.length;
    p.ops.forEach((o, i) => this.image.apply(readOpOf(o, p.encoded.places[i]!), segment.number, base));
  }

  /** The compaction to the stored snapshot, which the WAL has not recorded yet. */
  private snapshotMarker(): LogOp {
    const s = this.loadedMeta().snapshot!;
    return { op: 'compact', term: s.term, index: s.index };
  }

  /** The segment to append to: the current one, or a new one when it is full (or there is none). */
  private async segmentForAppend(): Promise<{ segment: CurrentSegment; isNew: boolean }> {
    const cur = this.current;
    if (cur !== null && cur.size < this.segmentBytes) return { segment: cur, isNew: false };
    const number = (this.segments[this.segments.length - 1] ?? 0) + 1;
    const handle = await this.fs.open(join(this.walDir, segmentName(number)), 'readWrite');
    if (cur !== null) this.readers.set(cur.number, cur.handle);
    this.current = { number, handle, size: 0 };
    this.segments.push(number);
    return { segment: this.current, isNew: true };
  }

  /**
   * After a new snapshot's file is durable: delete the file of the one before (recovery uses the
   * newest file, and compacts the log to it when the WAL has not recorded it yet).
   */
  private async forgetOlderSnapshot(name: string): Promise<void> {
    const old = this.snapshotFile;
    this.snapshotFile = name;
    if (old !== null && old !== name) await this.fs.unlink(join(this.snapDir, old));
  }

  /** Delete the segments before the oldest one holding a payload of the log (never the current one). */
  private async deleteDeadSegments(): Promise<void> {
    const keepFrom = this.image.index.firstSegment() ?? this.current?.number ?? Infinity;
    while (this.segments.length > 0 && this.segments[0]! < keepFrom && this.segments[0] !== this.current?.number) {
      const n = this.segments.shift()!;
      const h = this.readers.get(n);
      this.readers.delete(n);
      if (h !== undefined) await h.close();
      await this.fs.unlink(join(this.walDir, segmentName(n)));
    }
  }

  // --- reading ----------------------------------------------------------------------------

  /** Read one span of payloads and push them (views of one fresh buffer) onto `out`. */
  private async readSpan(span: PayloadSpan, out: Uint8Array[]): Promise<void> {
    const buf = new Uint8Array(span.end - span.start);
    if (buf.length > 0) {
      const h = await this.reader(span.segment);
      const n = await h.read(buf, span.start);
      if (n < buf.length) {
        throw new Error(
          `FileStorage: ${segmentName(span.segment)} is shorter than its index says (offset ${span.start})`,
        );
      }
    }
    for (let k = 0; k < span.offsets.length; k++) {
      out.push(buf.subarray(span.offsets[k]! - span.start, span.offsets[k]! - span.start + span.lengths[k]!));
    }
  }

  /** An open handle on a segment, for reading. */
  private async reader(segment: number): Promise<FileHandleLayer> {
    if (this.current?.number === segment) return this.current.handle;
    let h = this.readers.get(segment);
    if (h === undefined) {
      h = await this.fs.open(join(this.walDir, segmentName(segment)), 'read');
      this.readers.set(segment, h);
    }
    return h;
  }

  /** The stored snapshot, read from its file, or null. */
  private async readSnapshot(): Promise<StoredSnapshot | null> {
    const s = this.loadedMeta().snapshot;
    if (s === null || this.snapshotFile === null) return null;
    return (await this.readSnapshotFile(this.snapshotFile)).snapshot;
  }

  private async readSnapshotFile(name: string): Promise<FoundSnapshot> {
    const path = join(this.snapDir, name);
    const { header, data } = decodeChecksummed(await readWhole(this.fs, path), path);
    const h = header as { term?: unknown; index?: unknown; config?: unknown } | null;
    const m = SNAPSHOT_NAME.exec(name)!;
    const position = checkedPositionOr(h?.term, h?.index, path);
    if (position.term !== Number(m[1]) || position.index !== Number(m[2])) {
      throw new Error(`FileStorage: ${path} holds the snapshot (${position.term},${position.index}), not its name's`);
    }
    const problem = validateConfig(h?.config);
    if (problem !== null) throw new Error(`FileStorage: ${path} is corrupt: ${problem}`);
    return { name, snapshot: { ...position, config: h!.config as ClusterConfig, data } };
  }

  // --- recovery ---------------------------------------------------------------------------

  /** Rebuild the state from the files (see "Recovery" in the design note). */
  private async recover(): Promise<void> {
    await this.releaseHandles();
    this.image = new LogImage(emptyEntries(0, 0));
    this.markerPending = false;
    const hardState = await this.recoverHardState();
    const found = await this.recoverSnapshot();
    await this.replayWal();
    const snapshot = found === null ? null : snapshotMeta(found.snapshot);
    this.compactToSnapshot(snapshot);
    this.image.checkComplete();
    await this.syncRecovered();
    this.snapshotFile = found?.name ?? null;
    this.meta = { ...EMPTY_STORED_META, hardState, log: this.image.log, snapshot };
    this.planned = this.meta;
    await this.deleteDeadSegments();
  }

  private async recoverHardState(): Promise<HardState> {
    const names = await this.fs.readdir(this.dir);
    if (names.includes(HARD_STATE_FILE + TMP_SUFFIX))
      await this.fs.unlink(join(this.dir, HARD_STATE_FILE + TMP_SUFFIX));
    if (!names.includes(HARD_STATE_FILE)) return EMPTY_STORED_META.hardState;
    const path = join(this.dir, HARD_STATE_FILE);
    const { header } = decodeChecksummed(await readWhole(this.fs, path), path);
    const h = header as { term?: unknown; votedFor?: unknown } | null;
    const term = h?.term;
    if (!isNatural(term))
      throw new Error(`FileStorage: ${path} is corrupt: term must be an integer from 0 to 2^53 - 2`);
    const votedFor = h?.votedFor;
    if (votedFor !== null && (typeof votedFor !== 'string' || votedFor === '')) {
      throw new Error(`FileStorage: ${path} is corrupt: votedFor must be null or a non-empty string`);
    }
    return { term, votedFor };
  }

  /** The newest snapshot (refused when corrupt); older ones and temporary files are deleted. */
  private async recoverSnapshot(): Promise<FoundSnapshot | null> {
    const names = await this.fs.readdir(this.snapDir);
    for (const n of names) if (n.endsWith(TMP_SUFFIX)) await this.fs.unlink(join(this.snapDir, n));
    const snaps = names
      .map((n) => ({ n, m: SNAPSHOT_NAME.exec(n) }))
      .filter((x) => x.m !== null)
      .map((x) => ({ name: x.n, term: Number(x.m![1]), index: Number(x.m![2]) }))
      .sort((a, b) => b.index - a.index || b.term - a.term);
    if (snaps.length === 0) return null;
    const found = await this.readSnapshotFile(snaps[0]!.name);
    for (const older of snaps.slice(1)) await this.fs.unlink(join(this.snapDir, older.name));
    return found;
  }

  /** Replay the segments in order into `image`; cut a torn tail of the last one. */
  private async replayWal(): Promise<void> {
    const numbers = (await this.fs.readdir(this.walDir))
      .map((n) => SEGMENT_NAME.exec(n))
      .filter((m) => m !== null)
      .map((m) => Number(m[1]))
      .sort((a, b) => a - b);
    const live = consecutiveTail(numbers);
    for (const n of numbers.slice(0, numbers.length - live.length)) await this.fs.unlink(this.segmentPath(n));
    let log: LogEntries | null = null;
    for (let i = 0; i < live.length; i++) log = await this.replaySegment(live[i]!, i === live.length - 1, log);
    this.segments = live;
  }

  /** Replay one segment onto `log` (null before the first segment); returns the log after it. */
  private async replaySegment(n: number, isLast: boolean, log: LogEntries | null): Promise<LogEntries | null> {
    const path = this.segmentPath(n);
    const bytes = await readWhole(this.fs, path);
    const scan = scanSegment(bytes, path, isLast);
    scan.records.forEach((r, k) => this.replayRecord(r, k === 0 ? log : this.image.log, path, n));
    if (isLast) await this.openLastSegment(n, path, bytes.length, scan.validLength);
    return scan.records.length > 0 ? this.image.log : log;
  }

  /** Apply one record; the first of a segment must start with its base (which starts `image` when `log` is null). */
  private replayRecord(r: ScannedRecord, logBefore: LogEntries | null, path: string, segment: number): void {
    try {
      const ops = decodeOps(r.body);
      const isFirst = r.offset === 0;
      const bases = ops.filter((o) => o.op === 'base');
      if (bases.length !== (isFirst ? 1 : 0) || (isFirst && ops[0]!.op !== 'base')) {
        throw new Error("a segment's first record starts with its base, and no other record holds one");
      }
      if (isFirst && logBefore === null) this.image = new LogImage((ops[0] as { log: LogEntries }).log);
      const base = r.offset + RECORD_HEADER;
      for (const o of ops) this.image.apply(o, segment, base);
    } catch (e) {
      throw new Error(`FileStorage: bad WAL record in ${path} at offset ${r.offset}: ${messageOf(e)}`, { cause: e });
    }
  }

  /** Make the last segment the current one, cutting its torn tail (truncate and fsync). */
  private async openLastSegment(n: number, path: string, size: number, validLength: number): Promise<void> {
    const handle = await this.fs.open(path, 'readWrite');
    if (validLength < size) await handle.truncate(validLength);
    await handle.sync();
    this.current = { number: n, handle, size: validLength };
  }

  /** Compact the log to the snapshot when the WAL did not (its record was lost); refuse impossible states. */
  private compactToSnapshot(snapshot: SnapshotMeta | null): void {
    const log = this.image.log;
    const term = snapshot?.term ?? 0;
    const index = snapshot?.index ?? 0;
    if (log.prevIndex === index && log.prevTerm === term) return;
    if (log.prevIndex >= index) {
      throw new Error(
        `FileStorage: the WAL is compacted to (${log.prevTerm},${log.prevIndex}) but the newest snapshot is ` +
          (snapshot === null ? 'none' : `(${term},${index})`),
      );
    }
    this.image.compact(term, index);
    this.markerPending = true;
  }

  /** fsync what recovery relies on: the directories (names) and the last segment (done when opened). */
  private async syncRecovered(): Promise<void> {
    await this.fs.syncDir(this.walDir);
    await this.fs.syncDir(this.snapDir);
    await this.fs.syncDir(this.dir);
  }

  private segmentPath(n: number): string {
    return join(this.walDir, segmentName(n));
  }
}

// ---------------------------------------------------------------------------------------------
// Helpers
// ---------------------------------------------------------------------------------------------

/** A whole file's bytes. */
async function readWhole(fs: FileLayer, path: string): Promise<Buffer> {
  const h = await fs.open(path, 'read');
  try {
    const buf = Buffer.alloc(await h.size());
    const n = await h.read(buf, 0);
    return n === buf.length ? buf : buf.subarray(0, n);
  } finally {
    await h.close();
  }
}

/** The longest run of consecutive numbers that ends with the last of a sorted list. */
function consecutiveTail(sorted: readonly number[]): number[] {
  let k = sorted.length - 1;
  while (k > 0 && sorted[k - 1] === sorted[k]! - 1) k--;
  return sorted.slice(Math.max(k, 0));
}

/** A read operation standing for a written one, its payloads at `places`. */
function readOpOf(o: LogOp, places: PayloadPlaces): ReadOp {
  return o.op === 'append' ? { op: 'append', entries: o.entries, payloads: places } : o;
}

function snapshotMeta(s: StoredSnapshot): SnapshotMeta {
  return { term: s.term, index: s.index, config: s.config };
}

/** A checked log position read from a file, or an Error naming the file. */
function checkedPositionOr(term: unknown, index: unknown, path: string): { term: number; index: number } {
  try {
    return checkedPosition({ term, index });
  } catch (e) {
    throw new Error(`FileStorage: ${path} is corrupt: ${messageOf(e)}`, { cause: e });
  }
}

/** True for an integer in `[0, 2^53 - 2]`. */
function isNatural(x: unknown): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= 0 && x <= MAX_POSITION;
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
