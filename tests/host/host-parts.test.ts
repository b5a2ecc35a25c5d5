/**
 * The parts of `createHost`, one by one: the envelope format (round trips, and every kind of bad
 * frame refused with a reason), the payload cache, the CRC-32, the election waits, the JSON codec,
 * and frames cut to `maxFrameBytes`.
 */
import { decodeFrame, encodeFrame, type Frame } from '../../src/host/envelope.js';
import { createHost } from '../../src/host/host.js';
import { MemoryStorage } from '../../src/host/memory-storage.js';
import { createMemoryNetwork } from '../../src/host/memory-transport.js';
import { PayloadCache } from '../../src/host/payload-cache.js';
import { crc32 } from '../../src/host/snapshots.js';
import { jsonCodec } from '../../src/host/state-machine.js';
import { electionWaitMs } from '../../src/host/timers.js';
import type { AppendEntries } from '../../src/index.js';
import { BASE_SEED } from '../support/seed.js';
import { KvMachine, TestCluster, printSeed, set } from './support-host.js';

const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);

const append: AppendEntries = {
  type: 'appendEntries',
  from: 'n1',
  term: 3,
  commitIndex: 4,
  entries: { prevTerm: 2, prevIndex: 4, lastTerm: 3, lastIndex: 7, termStarts: [[{ index: 5, term: 3 }]], configs: [] },
};

/** Re-encode `frame` with its header JSON replaced by `header` (to build malformed frames). */
function withHeader(frame: Uint8Array, header: string): Uint8Array {
  const view = new DataView(frame.buffer, frame.byteOffset);
  const h = view.getUint32(5);
  const rest = frame.slice(9 + h);
  const hb = bytes(header);
  const out = new Uint8Array(9 + hb.length + rest.length);
  out.set(frame.slice(0, 5));
  new DataView(out.buffer).setUint32(5, hb.length);
  out.set(hb, 9);
  out.set(rest, 9 + hb.length);
  return out;
}

describe('envelope', () => {
  test('a message with its payloads round-trips; the payloads decoded are copies', () => {
    const payloads = [new Uint8Array(0), bytes('b'), bytes('cc')];
    const frame = encodeFrame({ kind: 'message', message: append, payloads });
    const decoded = decodeFrame(frame, 'n1') as Extract<Frame, { kind: 'message' }>;
    expect(decoded.kind).toBe('message');
    expect(decoded.message).toEqual(append);
    expect(decoded.payloads.map((p) => new TextDecoder().decode(p))).toEqual(['', 'b', 'cc']);
    frame.fill(0);
    expect(new TextDecoder().decode(decoded.payloads[2])).toBe('cc');
  });

  test('a frame inside a larger buffer (a view) decodes', () => {
    const frame = encodeFrame({ kind: 'message', message: { type: 'timeoutNow', from: 'n2', term: 1 }, payloads: [] });
    const big = new Uint8Array(frame.length + 10);
    big.set(frame, 7);
    expect(decodeFrame(big.subarray(7, 7 + frame.length), 'n2')).toMatchObject({ kind: 'message' });
  });

  test('snapshot chunks and acks round-trip', () => {
    const chunk = {
      transfer: 't.1',
      term: 4,
      snapshot: { term: 3, index: 10, config: { voters: ['a', 'b'], newVoters: [], nonVoters: ['c'] } },
      total: 100,
      crc: 12345,
      offset: 40,
      data: bytes('0123456789'),
    };
    expect(decodeFrame(encodeFrame({ kind: 'snapshotChunk', chunk }), 'a')).toEqual({ kind: 'snapshotChunk', chunk });
    const ack = { transfer: 't.1', snapshot: { term: 3, index: 10 }, offset: 50, done: false };
    expect(decodeFrame(encodeFrame({ kind: 'snapshotAck', ack }), 'b')).toEqual({ kind: 'snapshotAck', ack });
  });

  test('encoding refuses a payload count that does not match the entries', () => {
    expect(() => encodeFrame({ kind: 'message', message: append, payloads: [] })).toThrow(TypeError);
  });

  test('bad frames are refused with a reason, never thrown', () => {
    const good = encodeFrame({ kind: 'message', message: append, payloads: [bytes('a'), bytes('b'), bytes('c')] });
    const chunk = encodeFrame({
      kind: 'snapshotChunk',
      chunk: {
        transfer: 'x',
        term: 1,
        snapshot: { term: 1, index: 2, config: { voters: ['a'], newVoters: [], nonVoters: [] } },
        total: 4,
        crc: 0,
        offset: 0,
        data: bytes('ab'),
      },
    });
    const cases: [string, Uint8Array, string][] = [
      ['empty', new Uint8Array(0), 'shorter'],
      ['wrong magic', Uint8Array.from([0, ...good.slice(1)]), 'magic'],
      ['wrong version', Uint8Array.from([...good.slice(0, 3), 2, ...good.slice(4)]), 'version'],
      ['unknown kind', Uint8Array.from([...good.slice(0, 4), 9, ...good.slice(5)]), 'kind'],
      ['cut off', good.slice(0, good.length - 2), ''],
      ['trailing bytes', Uint8Array.from([...good, 1, 2]), 'after the last blob'],
      ['header not JSON', withHeader(good, '{"m":'), 'not JSON'],
      ['header not an object', withHeader(good, '[1]'), 'not an object'],
      ['not a message type', withHeader(good, '{"m":{"type":"propose","count":3}}'), 'not a message type'],
      ['invalid message', withHeader(good, JSON.stringify({ m: { ...append, term: -1 } })), 'invalid message'],
      [
        'payload count',
        withHeader(good, JSON.stringify({ m: { ...append, entries: { ...append.entries, lastIndex: 8 } } })),
        'payloads',
      ],
      [
        'chunk past its total',
        withHeader(
          chunk,
          JSON.stringify({
            x: 'x',
            term: 1,
            snap: { term: 1, index: 2, config: { voters: ['a'], newVoters: [], nonVoters: [] } },
            total: 4,
            crc: 0,
            offset: 3,
          }),
        ),
        'runs past',
      ],
      [
        'chunk with a bad config',
        withHeader(
          chunk,
          JSON.stringify({
            x: 'x',
            term: 1,
            snap: { term: 1, index: 2, config: { voters: ['b', 'a'], newVoters: [], nonVoters: [] } },
            total: 4,
            crc: 0,
            offset: 0,
          }),
        ),
        'config',
      ],
      [
        'chunk without a transfer id',
        withHeader(
          chunk,
          JSON.stringify({
            x: '',
            term: 1,
            snap: { term: 1, index: 2, config: { voters: ['a'], newVoters: [], nonVoters: [] } },
            total: 4,
            crc: 0,
            offset: 0,
          }),
        ),
        'transfer',
      ],
    ];
    for (const [name, frame, reason] of cases) {
      const r = decodeFrame(frame, 'n1');
      expect([name, typeof r]).toEqual([name, 'string']);
      expect(r).toContain(reason);
    }
    expect(decodeFrame(good, 'n2')).toContain('arrived from "n2"');
    const huge = good.slice();
    new DataView(huge.buffer).setUint32(5, 0xffffffff); // a header length beyond the frame
    expect(decodeFrame(huge, 'n1')).toContain('exceeds');
  });
});

describe('payload cache', () => {
  test('mirrors a log tail: put, get by term, truncate, evict', () => {
    const cache = new PayloadCache();
    for (let i = 1; i <= 5; i++) cache.put(i, 1, bytes(`p${i}`));
    expect(cache.size).toBe(5);
    expect(cache.get(3, 1)).toEqual(bytes('p3'));
    expect(cache.get(3, 2)).toBeUndefined(); // another term at that index: a miss, never the wrong payload
    cache.truncateAfter(3);
    cache.put(4, 2, bytes('q4'));
    expect(cache.get(4, 1)).toBeUndefined();
    expect(cache.get(4, 2)).toEqual(bytes('q4'));
    expect(cache.get(5, 1)).toBeUndefined();
    cache.evictUpTo(2);
    expect(cache.get(2, 1)).toBeUndefined();
    expect(cache.get(3, 1)).toEqual(bytes('p3'));
    expect(cache.byteSize).toBe(4);
    cache.put(10, 3, bytes('r')); // past the end (a snapshot installed beyond it): starts over there
    expect(cache.size).toBe(1);
    expect(cache.get(10, 3)).toEqual(bytes('r'));
    cache.truncateAfter(0);
    expect(cache.size).toBe(0);
  });

  test('keeps working across many evictions', () => {
    const cache = new PayloadCache();
    for (let i = 1; i <= 5000; i++) {
      cache.put(i, 1, bytes(String(i)));
      if (i % 10 === 0) cache.evictUpTo(i - 20);
    }
    expect(cache.get(4990, 1)).toEqual(bytes('4990'));
    expect(cache.get(4970, 1)).toBeUndefined();
    expect(cache.size).toBe(20);
  });
});

describe('small parts', () => {
  test('crc32 is the IEEE CRC-32', () => {
    expect(crc32(bytes('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });

  test('election waits are uniform in [ticks x heartbeat, 2 x that)', () => {
    expect(electionWaitMs(50, 10, () => 0)).toBe(500);
    expect(electionWaitMs(50, 10, () => 0.5)).toBe(750);
    expect(electionWaitMs(50, 10, () => 1)).toBeLessThan(1000);
    expect(electionWaitMs(50, 10, () => Number.NaN)).toBe(500);
  });

  test('the JSON codec round-trips JSON values and refuses others', () => {
    const codec = jsonCodec<unknown>();
    expect(codec.decode(codec.encode({ a: [1, 'é'] }))).toEqual({ a: [1, 'é'] });
    expect(() => codec.encode(undefined)).toThrow(TypeError);
    expect(() => codec.decode(Uint8Array.from([0xff]))).toThrow();
  });
});

describe('frames cut to maxFrameBytes', () => {
  test('an AppendEntries too large for one frame is cut; the rest follows', async () => {
    printSeed('host-parts frames', BASE_SEED);
    const c = new TestCluster({ seed: BASE_SEED, hostOptions: { maxFrameBytes: 4096 } });
    try {
      const leader = await c.form(['n1', 'n2', 'n3']);
      const big = 'x'.repeat(900);
      const results = await c.clock.resolve(
        Promise.all(Array.from({ length: 12 }, (_, i) => leader.propose(set(`k${i}`, big)))),
      );
      expect(results).toHaveLength(12);
      await c.appliedEverywhere(leader.status().commitIndex);
      expect(leader.status().stats.messagesTruncated).toBeGreaterThan(0);
      for (const h of c.running()) expect(c.node(h.id).machine.map.size).toBe(12);
      const tooBig = await c.clock.settled(leader.propose(set('huge', 'y'.repeat(4096))));
      expect((tooBig as { error: { code: string } }).error.code).toBe('tooLarge');
    } finally {
      await c.stopAll();
    }
  });
});

describe('createHost: configuration and start-up', () => {
  test('an invalid configuration is refused before anything starts', async () => {
    const net = createMemoryNetwork();
    const base = { storage: new MemoryStorage(), transport: net.transport('a'), stateMachine: new KvMachine() };
    await expect(createHost({ ...base, id: '' })).rejects.toThrow(TypeError);
    await expect(createHost({ ...base, id: 'a', options: { heartbeatMs: 0 } })).rejects.toThrow(RangeError);
    await expect(createHost({ ...base, id: 'a', options: { snapshot: { everyEntries: 1.5 } } })).rejects.toThrow(
      RangeError,
    );
    const noQuery = { apply: () => null, snapshot: () => new Uint8Array(0), restore: () => undefined };
    await expect(createHost({ ...base, id: 'a', stateMachine: noQuery as unknown as KvMachine })).rejects.toThrow(
      /stateMachine.query/,
    );
    await expect(createHost({ ...base, id: 'a', options: { node: { electionTimeoutTicks: 1 } } })).rejects.toThrow(
      /electionTimeoutTicks/,
    );
  });

  test('a transport that cannot start: createHost rejects and closes the storage', async () => {
    const storage = new MemoryStorage();
    const transport = createMemoryNetwork().transport('a');
    await transport.close(); // a closed transport refuses to start
    await expect(createHost({ id: 'a', storage, transport, stateMachine: new KvMachine() })).rejects.toThrow(/closed/);
    await expect(storage.load()).rejects.toThrow(/closed/);
  });
});
