/**
 * The TCP transport over real sockets on 127.0.0.1 (port 0 everywhere): ordered exchange between
 * three nodes, large frames, size limits on both ends, handshake checks, queueing while a peer is
 * down and reconnecting when it comes back, the queue bound under backpressure, membership changes,
 * and a clean close. Plus the pure parts: the frame decoder (a randomized split test, seeded), the
 * handshake codec and the backoff.
 */
import * as net from 'net';
import fc from 'fast-check';
import {
  FrameDecoder,
  MAX_HANDSHAKE_BYTES,
  TcpTransport,
  backoffDelay,
  decodeHandshake,
  encodeHandshake,
  encodeLengthPrefix,
  type TcpTransportOptions,
} from '../../src/node/tcp-transport.js';
import type { PeerAddress } from '../../src/host/transport.js';
import { fcParams } from '../support/seed.js';

const HOST = '127.0.0.1';

/** Small backoffs and timeouts, so that every test takes well under a second or two. */
const FAST: Partial<TcpTransportOptions> = {
  backoff: { minMs: 5, maxMs: 40 },
  connectTimeoutMs: 1_000,
  handshakeTimeoutMs: 1_000,
};

/** What a node received, in order. */
interface Received {
  from: string;
  frame: Uint8Array;
}

/** A started transport and its inbox. */
interface TestNode {
  t: TcpTransport;
  inbox: Received[];
  address: PeerAddress;
}

/** Everything a test opened, closed after it whatever happened. */
const transports: TcpTransport[] = [];
const rawSockets: net.Socket[] = [];
const rawServers: net.Server[] = [];

afterEach(async () => {
  for (const s of rawSockets.splice(0)) s.destroy();
  await Promise.all(transports.splice(0).map((t) => t.close()));
  await Promise.all(rawServers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A transport with the fast settings (and `options`), not started. */
function transport(id: string, options: Partial<TcpTransportOptions> = {}): TcpTransport {
  const t = new TcpTransport({ id, listen: { host: HOST, port: 0 }, ...FAST, ...options });
  transports.push(t);
  return t;
}

/** A started transport on a free port (or `options.listen`), recording what it receives. */
async function startNode(id: string, options: Partial<TcpTransportOptions> = {}): Promise<TestNode> {
  const t = transport(id, options);
  const inbox: Received[] = [];
  await t.start((from, frame) => inbox.push({ from, frame: frame.slice() }));
  return { t, inbox, address: t.address() };
}

/** Resolve once `condition()` holds; fail after `timeoutMs`. */
async function waitFor(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** Wait `ms` milliseconds. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** The bytes of a text frame, and back. */
const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const untext = (b: Uint8Array): string => new TextDecoder().decode(b);

/** A frame of `n` bytes with a position-dependent pattern (so a misplaced chunk shows). */
function patterned(n: number, salt: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + (i >>> 8) * 7 + salt) & 0xff;
  return b;
}

/** A length-prefixed frame, as on the wire. */
function wire(payload: Uint8Array): Buffer {
  return Buffer.concat([encodeLengthPrefix(payload.length), payload]);
}

/** A raw client socket to `port`, connected. */
async function rawConnect(port: number): Promise<net.Socket> {
  const socket = net.connect({ host: HOST, port });
  rawSockets.push(socket);
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return socket;
}

/** Resolves when `socket` closes. */
function closedPromise(socket: net.Socket): Promise<void> {
  return new Promise((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));
}

/** A port that nothing listens on (bound, then released). */
async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen({ host: HOST, port: 0 }, () => resolve()));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A raw server: counts the bytes it reads, starts paused when asked; its sockets are recorded. */
async function rawServer(paused: boolean): Promise<{ port: number; sockets: net.Socket[]; bytes: () => number }> {
  const sockets: net.Socket[] = [];
  let bytes = 0;
  const server = net.createServer((socket) => {
    sockets.push(socket);
    rawSockets.push(socket);
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => (bytes += chunk.length));
    if (paused) socket.pause();
  });
  rawServers.push(server);
  await new Promise<void>((resolve) => server.listen({ host: HOST, port: 0 }, () => resolve()));
  return { port: (server.address() as net.AddressInfo).port, sockets, bytes: () => bytes };
}

/**
 * Count the timers created from now on (through the global `setTimeout`, which the transport uses)
 * that are still pending; `restore` puts the real functions back.
 */
function trackTimers(): { live: () => number; restore: () => void } {
  const pending = new Set<ReturnType<typeof setTimeout>>();
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  const set = (
    callback: (...args: unknown[]) => void,
    ms?: number,
    ...args: unknown[]
  ): ReturnType<typeof setTimeout> => {
    const timer = realSet(
      (...a: unknown[]) => {
        pending.delete(timer);
        callback(...a);
      },
      ms,
      ...args,
    );
    pending.add(timer);
    return timer;
  };
  const clear = (timer?: ReturnType<typeof setTimeout>): void => {
    if (timer !== undefined) pending.delete(timer);
    realClear(timer);
  };
  globalThis.setTimeout = set as unknown as typeof setTimeout;
  globalThis.clearTimeout = clear as typeof clearTimeout;
  return {
    live: () => pending.size,
    restore: () => {
      globalThis.setTimeout = realSet;
      globalThis.clearTimeout = realClear;
    },
  };
}

/** How many TCP sockets and servers the process holds open (Jest itself holds none). */
function socketAndServerCounts(): { sockets: number; servers: number } {
  const resources = process.getActiveResourcesInfo();
  return {
    sockets: resources.filter((r) => r === 'TCPSocketWrap').length,
    servers: resources.filter((r) => r === 'TCPServerWrap').length,
  };
}

describe('TcpTransport over real sockets', () => {
  test('three transports exchange frames, in order per sender', async () => {
    const ids = ['a', 'b', 'c'];
    const nodes: Record<string, TestNode> = {};
    for (const id of ids) nodes[id] = await startNode(id);
    for (const id of ids) {
      const peers: Record<string, PeerAddress> = {};
      for (const other of ids) if (other !== id) peers[other] = nodes[other]!.address;
      nodes[id]!.t.setPeers(peers);
    }
    const perPair = 300;
    for (let i = 0; i < perPair; i++) {
      for (const from of ids) {
        for (const to of ids) if (from !== to) expect(nodes[from]!.t.send(to, text(`${from}->${to} ${i}`))).toBe(true);
      }
    }
    await waitFor(() => ids.every((id) => nodes[id]!.inbox.length === 2 * perPair), 'every frame');
    for (const to of ids) {
      for (const from of ids) {
        if (from === to) continue;
        const got = nodes[to]!.inbox.filter((r) => r.from === from).map((r) => untext(r.frame));
        expect(got).toEqual(Array.from({ length: perPair }, (_, i) => `${from}->${to} ${i}`));
      }
    }
    const stats = nodes.a!.t.stats();
    expect(stats).toMatchObject({
      framesSent: 600,
      framesReceived: 600,
      framesDropped: 0,
      queuedFrames: 0,
      queuedBytes: 0,
    });
    expect(stats.connectionsRejected).toBe(0);
  });

  test('a frame of several MB arrives intact between small ones (split across many reads)', async () => {
    const big = 6 * 1024 * 1024 + 12_345;
    const b = await startNode('b', { maxFrameBytes: big });
    const a = transport('a', { maxFrameBytes: big, peers: { b: b.address } });
    const payload = patterned(big, 7);
    expect(a.send('b', text('before'))).toBe(true);
    expect(a.send('b', payload)).toBe(true);
    expect(a.send('b', text('after'))).toBe(true);
    expect(a.send('b', new Uint8Array(0))).toBe(true);
    await waitFor(() => b.inbox.length === 4, 'four frames');
    expect(untext(b.inbox[0]!.frame)).toBe('before');
    expect(b.inbox[1]!.frame.length).toBe(big);
    expect(Buffer.from(b.inbox[1]!.frame).equals(Buffer.from(payload))).toBe(true);
    expect(untext(b.inbox[2]!.frame)).toBe('after');
    expect(b.inbox[3]!.frame.length).toBe(0);
    expect(b.t.stats().bytesReceived).toBe(big + 11);
  });

  test('send refuses a frame over maxFrameBytes; one at the limit goes', async () => {
    const b = await startNode('b', { maxFrameBytes: 1000 });
    const a = transport('a', { maxFrameBytes: 1000, peers: { b: b.address } });
    expect(a.send('b', new Uint8Array(1001))).toBe(false);
    expect(a.send('b', new Uint8Array(1000))).toBe(true);
    expect(a.send('nobody', new Uint8Array(1))).toBe(false);
    expect(a.send('b', 'not bytes' as unknown as Uint8Array)).toBe(false);
    await waitFor(() => b.inbox.length === 1, 'the frame at the limit');
    expect(a.stats()).toMatchObject({ framesSent: 1, framesDropped: 3, bytesSent: 1000 });
  });

  test('a peer announcing a frame over the limit is disconnected at once, after its good frames', async () => {
    const b = await startNode('b', { maxFrameBytes: 1000 });
    const socket = await rawConnect(b.address.port);
    const closed = closedPromise(socket);
    socket.write(wire(encodeHandshake('evil', 'b')));
    socket.write(wire(text('fine')));
    socket.write(encodeLengthPrefix(1001)); // no body follows: the length alone must end it
    await closed;
    expect(b.inbox.map((r) => [r.from, untext(r.frame)])).toEqual([['evil', 'fine']]);
    expect(b.t.stats().connectionsRejected).toBe(1);
  });

  test.each<[string, () => Buffer]>([
    ['garbage (an HTTP request)', () => Buffer.from('GET / HTTP/1.1\r\nHost: x\r\n\r\n')],
    ['a huge handshake length', () => encodeLengthPrefix(MAX_HANDSHAKE_BYTES + 1)],
    ['the wrong magic', () => wire(Buffer.concat([Buffer.from('XXXX'), encodeHandshake('a', 'b').subarray(4)]))],
    ['the wrong version', () => wire(Buffer.from(encodeHandshake('a', 'b')).fill(99, 4, 5))],
    ['the wrong target id', () => wire(encodeHandshake('a', 'someone-else'))],
    ['an empty sender id', () => wire(Buffer.from([0x52, 0x53, 0x54, 0x50, 1, 0, 0, 0, 1, 0x62]))],
    ['trailing bytes in the handshake', () => wire(Buffer.concat([encodeHandshake('a', 'b'), Buffer.from([0])]))],
    ['an empty frame', () => wire(new Uint8Array(0))],
  ])('a bad handshake is closed: %s', async (_name, bytes) => {
    const b = await startNode('b');
    const socket = await rawConnect(b.address.port);
    const closed = closedPromise(socket);
    socket.write(bytes());
    socket.write(wire(text('never delivered')));
    await closed;
    expect(b.inbox).toEqual([]);
    expect(b.t.stats().connectionsRejected).toBe(1);
  });

  test('a connection that sends no handshake is closed after handshakeTimeoutMs', async () => {
    const b = await startNode('b', { handshakeTimeoutMs: 50 });
    const socket = await rawConnect(b.address.port);
    const started = Date.now();
    await closedPromise(socket);
    expect(Date.now() - started).toBeGreaterThanOrEqual(40);
    expect(b.t.stats().connectionsRejected).toBe(1);
  });

  test('frames come from any id that shakes hands; a newer connection from an id replaces the older', async () => {
    const b = await startNode('b', { peers: {} });
    const first = await rawConnect(b.address.port);
    first.write(wire(encodeHandshake('stranger', 'b')));
    first.write(wire(text('one')));
    await waitFor(() => b.inbox.length === 1, 'the first frame');
    const firstClosed = closedPromise(first);
    const second = await rawConnect(b.address.port);
    second.write(wire(encodeHandshake('stranger', 'b')));
    second.write(wire(text('two')));
    await firstClosed;
    await waitFor(() => b.inbox.length === 2, 'the second frame');
    expect(b.inbox.map((r) => `${r.from}:${untext(r.frame)}`)).toEqual(['stranger:one', 'stranger:two']);
    expect(b.t.stats().connectionsRejected).toBe(0);
  });

  test('while a peer is down frames queue; when it comes up on the same port they are delivered', async () => {
    const port = await freePort();
    const a = transport('a', { peers: { b: { host: HOST, port } } });
    for (let i = 0; i < 20; i++) expect(a.send('b', text(`m${i}`))).toBe(true);
    await waitFor(() => a.stats().reconnects >= 2, 'a few failed dials');
    expect(a.stats()).toMatchObject({ queuedFrames: 20, framesSent: 0 });

    const b = await startNode('b', { listen: { host: HOST, port } });
    await waitFor(() => b.inbox.length === 20, 'the queued frames');
    expect(b.inbox.map((r) => untext(r.frame))).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
    expect(a.stats()).toMatchObject({ queuedFrames: 0, queuedBytes: 0, framesSent: 20 });

    // b goes down and comes back once more: a reconnects again and new frames get through.
    await b.t.close();
    await sleep(20);
    expect(a.send('b', text('while down'))).toBe(true);
    const b2 = await startNode('b', { listen: { host: HOST, port } });
    expect(a.send('b', text('after'))).toBe(true);
    await waitFor(() => b2.inbox.map((r) => untext(r.frame)).includes('after'), 'a frame after the restart');
    const texts = b2.inbox.map((r) => untext(r.frame));
    expect(texts[texts.length - 1]).toBe('after');
  });

  test('the queue bounds: bytes and frames; send returns false beyond them', async () => {
    const down = await freePort();
    const a = transport('a', {
      maxFrameBytes: 100,
      maxQueueBytes: 1_000,
      maxQueueFrames: 50,
      peers: { b: { host: HOST, port: down }, c: { host: HOST, port: down } },
    });
    const accepted = Array.from({ length: 15 }, () => a.send('b', new Uint8Array(100)));
    expect(accepted).toEqual([...Array<boolean>(10).fill(true), ...Array<boolean>(5).fill(false)]);
    expect(a.send('b', new Uint8Array(0))).toBe(true); // bytes full, frames not
    const small = Array.from({ length: 60 }, () => a.send('c', new Uint8Array(1)));
    expect(small.filter(Boolean).length).toBe(50);
    expect(a.stats()).toMatchObject({ queuedFrames: 61, queuedBytes: 1_050, framesDropped: 15 });
  });

  test('backpressure: a peer that stops reading makes the queue fill up, bounded; reading again drains it', async () => {
    const server = await rawServer(true);
    const frameBytes = 64 * 1024;
    const maxQueueBytes = 1024 * 1024;
    const a = transport('a', {
      maxFrameBytes: frameBytes,
      maxQueueBytes,
      peers: { b: { host: HOST, port: server.port } },
    });
    // Wait for the connection, then push until send refuses. The kernel's socket buffers absorb some
    // megabytes first, so send in rounds, letting the event loop run between them.
    expect(a.send('b', new Uint8Array(1))).toBe(true);
    await waitFor(() => server.sockets.length === 1, 'the connection');
    let accepted = 1;
    let atRefusal: ReturnType<TcpTransport['stats']> | null = null;
    for (let round = 0; round < 200 && atRefusal === null; round++) {
      for (let i = 0; i < 64; i++) {
        if (!a.send('b', new Uint8Array(frameBytes))) {
          atRefusal = a.stats();
          break;
        }
        accepted++;
      }
      expect(a.stats().queuedBytes).toBeLessThanOrEqual(maxQueueBytes);
      await sleep(1);
    }
    // Refused because the queue was full (not for any other reason), and never above its bound.
    expect(atRefusal).not.toBeNull();
    expect(atRefusal!.queuedBytes).toBeLessThanOrEqual(maxQueueBytes);
    expect(atRefusal!.queuedBytes).toBeGreaterThan(maxQueueBytes - frameBytes);
    // Read again: everything accepted arrives (handshake + prefixed frames) and the queue empties.
    server.sockets[0]!.resume();
    const expected = wire(encodeHandshake('a', 'b')).length + 4 + 1 + (accepted - 1) * (4 + frameBytes);
    await waitFor(() => server.bytes() === expected, 'every accepted byte');
    expect(a.stats()).toMatchObject({ queuedFrames: 0, queuedBytes: 0, framesSent: accepted });
  });

  test('setPeers removing a peer closes its connection, drops its queue and refuses further sends', async () => {
    const server = await rawServer(false);
    const down = await freePort();
    const a = transport('a', { peers: { b: { host: HOST, port: server.port }, c: { host: HOST, port: down } } });
    expect(a.send('b', text('hi'))).toBe(true);
    for (let i = 0; i < 3; i++) expect(a.send('c', text('queued'))).toBe(true);
    await waitFor(() => server.sockets.length === 1 && server.bytes() > 0, 'the connection to b');
    const bClosed = closedPromise(server.sockets[0]!);
    a.setPeers({});
    await bClosed;
    expect(a.send('b', text('x'))).toBe(false);
    expect(a.send('c', text('x'))).toBe(false);
    expect(a.stats()).toMatchObject({ queuedFrames: 0, queuedBytes: 0, framesDropped: 3 + 2 });
    // No reconnect follows a removal.
    await sleep(60);
    expect(server.sockets.length).toBe(1);
  });

  test('setPeers with a new address for a peer redials there', async () => {
    const b1 = await startNode('b');
    const b2 = await startNode('b');
    const a = transport('a', { peers: { b: b1.address } });
    a.send('b', text('to the first'));
    await waitFor(() => b1.inbox.length === 1, 'the first address');
    a.setPeers({ b: b2.address });
    a.send('b', text('to the second'));
    await waitFor(() => b2.inbox.length === 1, 'the second address');
    expect(untext(b2.inbox[0]!.frame)).toBe('to the second');
    expect(() => a.setPeers({ b: { host: HOST, port: 0 } })).toThrow(TypeError);
    expect(() => a.setPeers({ '': b1.address })).toThrow(TypeError);
    expect(() => a.setPeers({ x: { host: '', port: 1 } } as Record<string, PeerAddress>)).toThrow(TypeError);
  });

  test('start: port in use rejects, a second start rejects, close then start rejects', async () => {
    const b = await startNode('b');
    const clash = transport('b2', { listen: b.address });
    await expect(clash.start(() => {})).rejects.toThrow(/EADDRINUSE/);
    await expect(b.t.start(() => {})).rejects.toThrow(/already/);
    await b.t.close();
    await b.t.close(); // idempotent
    expect(() => b.t.address()).toThrow();
    const c = transport('c');
    await c.close();
    await expect(c.start(() => {})).rejects.toThrow(/closed/);
    expect(c.send('b', text('x'))).toBe(false);
  });

  test('close() while start() is listening: start rejects and nothing is left listening', async () => {
    const t = transport('a');
    const starting = t.start(() => {});
    await t.close();
    await expect(starting).rejects.toThrow(/closed/);
    expect(() => t.address()).toThrow();
  });

  test('an exception from deliver is rethrown outside the transport, and later frames still arrive', async () => {
    const rethrown: Array<() => void> = [];
    const spy = jest.spyOn(globalThis, 'queueMicrotask').mockImplementation((task) => void rethrown.push(task));
    try {
      const t = transport('b');
      const got: string[] = [];
      await t.start((from, frame) => {
        const s = untext(frame);
        if (s === 'boom') throw new Error('deliver failed');
        got.push(`${from}:${s}`);
      });
      const a = transport('a', { peers: { b: t.address() } });
      a.send('b', text('boom'));
      a.send('b', text('after'));
      await waitFor(() => got.length === 1, 'the frame after the exception');
      expect(got).toEqual(['a:after']);
      expect(rethrown.length).toBe(1);
      expect(() => rethrown[0]!()).toThrow('deliver failed');
    } finally {
      spy.mockRestore();
    }
  });

  test('the constructor refuses bad options', () => {
    const base = { id: 'a', listen: { host: HOST, port: 0 } };
    expect(() => new TcpTransport({ ...base, id: '' })).toThrow(TypeError);
    expect(() => new TcpTransport({ ...base, id: 'x'.repeat(1025) })).toThrow(TypeError);
    expect(() => new TcpTransport({ ...base, listen: { host: HOST, port: 70000 } })).toThrow(TypeError);
    expect(() => new TcpTransport({ ...base, maxFrameBytes: 0 })).toThrow(RangeError);
    expect(() => new TcpTransport({ ...base, maxFrameBytes: 2 ** 32 })).toThrow(RangeError);
    expect(() => new TcpTransport({ ...base, maxFrameBytes: 100, maxQueueBytes: 99 })).toThrow(RangeError);
    expect(() => new TcpTransport({ ...base, maxQueueFrames: 0 })).toThrow(RangeError);
    expect(() => new TcpTransport({ ...base, backoff: { minMs: 10, maxMs: 5 } })).toThrow(RangeError);
    expect(() => new TcpTransport({ ...base, backoff: { minMs: 0, maxMs: 5 } })).toThrow(RangeError);
    expect(() => new TcpTransport({ ...base, connectTimeoutMs: -1 })).toThrow(RangeError);
    expect(() => new TcpTransport({ ...base, peers: { b: { host: HOST, port: 0 } } })).toThrow(TypeError);
  });

  test('close() resolves with no socket, server or timer left, whatever state the links are in', async () => {
    const timers = trackTimers();
    try {
      const before = socketAndServerCounts();
      const down = await freePort();
      const b = await startNode('b', { handshakeTimeoutMs: 10_000 });
      const a = await startNode('a', { peers: { b: b.address, c: { host: HOST, port: down } } });
      b.t.setPeers({ a: a.address });
      a.t.send('b', text('x')); // an open connection
      a.t.send('c', text('y')); // a link dialling or in backoff: one timer either way
      b.t.send('a', text('z'));
      const silent = await rawConnect(b.address.port); // an incoming connection waiting for its handshake
      await waitFor(() => b.inbox.length === 1 && a.inbox.length === 1, 'traffic');
      await waitFor(() => timers.live() >= 2, "c's timer and the silent connection's handshake timer");
      await Promise.all([a.t.close(), b.t.close()]);
      expect(timers.live()).toBe(0);
      await closedPromise(silent);
      expect(socketAndServerCounts()).toEqual(before);
    } finally {
      timers.restore();
    }
  });
});

describe('FrameDecoder', () => {
  test('any split of a stream of frames gives back the same frames (randomized, seeded)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 50 }),
        (frames, cuts) => {
          const stream = Buffer.concat(frames.map((f) => wire(f)));
          const decoder = new FrameDecoder(300);
          const got: Uint8Array[] = [];
          let at = 0;
          for (let i = 0; at < stream.length; i++) {
            const size = cuts[i % cuts.length]!;
            expect(decoder.push(stream.subarray(at, at + size), (f) => (got.push(f.slice()), true))).toBe(true);
            at += size;
          }
          expect(got.map((f) => Buffer.from(f).toString('hex'))).toEqual(
            frames.map((f) => Buffer.from(f).toString('hex')),
          );
          expect(decoder.bufferedBytes).toBe(0);
        },
      ),
      fcParams('FrameDecoder splits'),
    );
  });

  test('one byte at a time, and many frames in one chunk', () => {
    const frames = [text('a'), new Uint8Array(0), patterned(1000, 1), text('last')];
    const stream = Buffer.concat(frames.map((f) => wire(f)));
    const oneByOne: Uint8Array[] = [];
    const decoder = new FrameDecoder(1000);
    for (let i = 0; i < stream.length; i++) decoder.push(stream.subarray(i, i + 1), (f) => (oneByOne.push(f), true));
    expect(oneByOne).toEqual(frames);
    const together: Uint8Array[] = [];
    new FrameDecoder(1000).push(stream, (f) => (together.push(f), true));
    expect(together.map((f) => Buffer.from(f))).toEqual(frames.map((f) => Buffer.from(f)));
  });

  test('an oversized length fails at once, buffering nothing, and the decoder stays failed', () => {
    const decoder = new FrameDecoder(10);
    const frames: Uint8Array[] = [];
    expect(
      decoder.push(
        Buffer.concat([wire(text('ok')), encodeLengthPrefix(11).subarray(0, 2)]),
        (f) => (frames.push(f), true),
      ),
    ).toBe(true);
    expect(decoder.push(encodeLengthPrefix(11).subarray(2), () => true)).toBe(false);
    expect(decoder.bufferedBytes).toBe(0);
    expect(decoder.push(wire(text('x')), () => true)).toBe(false);
    expect(frames.map(untext)).toEqual(['ok']);
  });

  test('onFrame returning false stops decoding', () => {
    const decoder = new FrameDecoder(10);
    const frames: string[] = [];
    const stream = Buffer.concat([wire(text('1')), wire(text('2')), wire(text('3'))]);
    expect(decoder.push(stream, (f) => (frames.push(untext(f)), frames.length < 2))).toBe(false);
    expect(frames).toEqual(['1', '2']);
  });
});

describe('handshake and backoff', () => {
  test('a handshake round-trips, with non-ASCII ids', () => {
    expect(decodeHandshake(encodeHandshake('nœud-1', 'ノード2'))).toEqual({ from: 'nœud-1', to: 'ノード2' });
    expect(decodeHandshake(encodeHandshake('a', 'b').subarray(0, 8))).toBeNull();
    const badUtf8 = Buffer.from([0x52, 0x53, 0x54, 0x50, 1, 0, 1, 0xff, 0, 1, 0x62]);
    expect(decodeHandshake(badUtf8)).toBeNull();
  });

  test('backoff grows exponentially within its bounds, jittered by the random function', () => {
    const backoff = { minMs: 10, maxMs: 1000 };
    expect(backoffDelay(1, backoff, () => 0)).toBe(10);
    expect(backoffDelay(1, backoff, () => 0.999)).toBe(10);
    expect(backoffDelay(2, backoff, () => 0)).toBe(10);
    expect(backoffDelay(2, backoff, () => 0.999)).toBe(20);
    expect(backoffDelay(5, backoff, () => 0)).toBe(80);
    expect(backoffDelay(5, backoff, () => 0.5)).toBe(120);
    expect(backoffDelay(100, backoff, () => 0)).toBe(500);
    expect(backoffDelay(100, backoff, () => 0.999)).toBe(1000);
    expect(backoffDelay(100, backoff, () => 7)).toBe(1000); // clamped
  });
});
