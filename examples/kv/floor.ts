/**
 * The platform floor of `npm run bench:kv`: the least a replicated write over Node on this machine
 * can cost, with no Raft in it. Three processes, as the kv service has: a leader serving HTTP and
 * two followers reached over TCP. A write (PUT or POST) goes to both followers, each appends it to
 * a file and makes it durable (`fdatasync`), and the leader answers once its own copy is durable
 * and one follower has acknowledged. Writes that arrive while a file's write is in flight share the
 * next one (group commit), as the kv service's batches do. A read (GET) is answered at once: the
 * HTTP round trip alone.
 *
 * No terms, no log positions, no elections, no checksums, no state machine: what this does, the
 * kv service must do too, so its figures bound the service's from above. The benchmark runs it in
 * the same run as the service and etcd, to tell how much of a gap is the platform's (Node's
 * asynchronous file calls, the disk's fsync, loopback TCP, the HTTP stack) and how much the
 * service's.
 *
 *     node build/examples/kv/floor.js follower <port> <dir>
 *     node build/examples/kv/floor.js leader <http-port> <dir> <follower-port> <follower-port>
 *
 * Each prints `ready` once listening, and exits when its parent does (it is forked with an IPC
 * channel) or on SIGTERM.
 */
import { mkdirSync } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import * as http from 'node:http';
import * as net from 'node:net';
import { join } from 'node:path';

/** An append-only file whose writes are grouped: one write and one `fdatasync` per group. */
class GroupLog {
  private size = 0;
  private waiting: { data: Buffer; done: () => void }[] = [];
  private busy = false;

  constructor(private readonly file: FileHandle) {}

  /** Resolves once `data` is durable. */
  append(data: Buffer): Promise<void> {
    return new Promise((done) => {
      this.waiting.push({ data, done });
      if (!this.busy) void this.flush();
    });
  }

  private async flush(): Promise<void> {
    this.busy = true;
    while (this.waiting.length > 0) {
      const group = this.waiting;
      this.waiting = [];
      const bytes = Buffer.concat(group.map((w) => w.data));
      await this.file.write(bytes, 0, bytes.length, this.size);
      await this.file.datasync();
      this.size += bytes.length;
      for (const w of group) w.done();
    }
    this.busy = false;
  }
}

/** Length-prefixed frames on a socket. */
function onFrames(socket: net.Socket, onFrame: (frame: Buffer) => void): void {
  let pending: Buffer = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
    while (pending.length >= 4) {
      const n = pending.readUInt32BE(0);
      if (pending.length < 4 + n) break;
      onFrame(pending.subarray(4, 4 + n));
      pending = pending.subarray(4 + n);
    }
  });
}

function frame(body: Buffer): Buffer {
  const head = Buffer.alloc(4);
  head.writeUInt32BE(body.length);
  return Buffer.concat([head, body]);
}

async function openLog(dir: string): Promise<GroupLog> {
  mkdirSync(dir, { recursive: true });
  return new GroupLog(await open(join(dir, 'log'), 'w'));
}

/** A follower: append each frame durably, acknowledge it with its 8-byte id. */
async function follower(port: number, dir: string): Promise<void> {
  const log = await openLog(dir);
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    onFrames(socket, (f) => {
      const copy = Buffer.from(f);
      void log.append(copy).then(() => socket.write(frame(copy.subarray(0, 8))));
    });
  });
  await new Promise<void>((ready) => server.listen(port, '127.0.0.1', ready));
}

/** The leader: HTTP in, a frame to each follower, answer on its own copy and one acknowledgement. */
async function leader(port: number, dir: string, followerPorts: readonly number[]): Promise<void> {
  const log = await openLog(dir);
  const acks = new Map<number, () => void>();
  const sockets = await Promise.all(
    followerPorts.map(
      (p) =>
        new Promise<net.Socket>((connected) => {
          const s = net.connect(p, '127.0.0.1', () => connected(s));
          s.setNoDelay(true);
          onFrames(s, (f) => acks.get(f.readDoubleBE(0))?.());
        }),
    ),
  );
  let seq = 0;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method === 'GET') {
        res.end('{}');
        return;
      }
      const id = ++seq;
      const record = Buffer.concat([Buffer.alloc(8), ...chunks]);
      record.writeDoubleBE(id, 0);
      let own = false;
      let acked = false;
      const answer = (): void => {
        if (!own || !acked) return;
        acks.delete(id);
        res.end('{}');
      };
      acks.set(id, () => {
        acked = true;
        answer();
      });
      const f = frame(record);
      for (const s of sockets) s.write(f);
      void log.append(record).then(() => {
        own = true;
        answer();
      });
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((ready) => server.listen(port, '127.0.0.1', ready));
}

async function main(): Promise<void> {
  const [role, port, dir, ...rest] = process.argv.slice(2);
  if (role === 'follower' && port !== undefined && dir !== undefined) await follower(Number(port), dir);
  else if (role === 'leader' && port !== undefined && dir !== undefined && rest.length === 2)
    await leader(Number(port), dir, rest.map(Number));
  else throw new Error('usage: floor.js follower <port> <dir> | leader <http-port> <dir> <port> <port>');
  process.on('disconnect', () => process.exit(0));
  process.on('SIGTERM', () => process.exit(0));
  console.log('ready');
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(2);
});
