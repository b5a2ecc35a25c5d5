/**
 * The in-process transport: asynchronous delivery in per-pair send order, the peer set and size
 * limit, partitions, isolation, seeded random drops, closed and restarted transports, statistics.
 */
import {
  createMemoryNetwork,
  memoryPeers,
  seededRandom,
  type MemoryNetwork,
  type MemoryTransport,
} from '../../src/host/memory-transport.js';
import { BASE_SEED } from '../support/seed.js';

/** A received frame, decoded as text. */
interface Received {
  from: string;
  text: string;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The bytes of a text frame. */
function frame(text: string): Uint8Array {
  return encoder.encode(text);
}

/** Let every scheduled delivery run (microtasks, and a timer turn for setTimeout schedulers). */
function settle(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Started transports for `ids`, each with every other id as peer, and what each receives. */
async function cluster(
  net: MemoryNetwork,
  ids: string[],
): Promise<{ t: Record<string, MemoryTransport>; inbox: Record<string, Received[]> }> {
  const t: Record<string, MemoryTransport> = {};
  const inbox: Record<string, Received[]> = {};
  for (const id of ids) {
    const transport = net.transport(id);
    transport.setPeers(memoryPeers(ids.filter((p) => p !== id)));
    const received: Received[] = [];
    await transport.start((from, f) => received.push({ from, text: decoder.decode(f) }));
    t[id] = transport;
    inbox[id] = received;
  }
  return { t, inbox };
}

/** The texts `inbox` received from `from`, in order. */
function textsFrom(inbox: Received[], from: string): string[] {
  return inbox.filter((r) => r.from === from).map((r) => r.text);
}

describe('memory transport', () => {
  test('three nodes exchange frames, asynchronously, in send order per pair', async () => {
    const net = createMemoryNetwork();
    const ids = ['a', 'b', 'c'];
    const { t, inbox } = await cluster(net, ids);
    for (let i = 0; i < 50; i++) {
      for (const from of ids)
        for (const to of ids) if (from !== to) expect(t[from]!.send(to, frame(`${from}${i}`))).toBe(true);
    }
    expect(inbox.a).toEqual([]); // nothing is delivered inside send
    await settle();
    for (const to of ids) {
      for (const from of ids) {
        if (from === to) continue;
        expect(textsFrom(inbox[to]!, from)).toEqual(Array.from({ length: 50 }, (_, i) => `${from}${i}`));
      }
    }
    expect(t.a!.stats()).toMatchObject({ framesSent: 100, framesReceived: 100, framesDropped: 0, queuedFrames: 0 });
    expect(net.stats()).toEqual({ delivered: 300, lost: 0, inFlight: 0 });
  });

  test('per-pair order holds even with a scheduler that runs tasks in reverse', async () => {
    const tasks: Array<() => void> = [];
    const net = createMemoryNetwork({ schedule: (task) => tasks.push(task) });
    const { t, inbox } = await cluster(net, ['a', 'b']);
    for (let i = 0; i < 10; i++) t.a!.send('b', frame(String(i)));
    while (tasks.length > 0) tasks.pop()!();
    expect(textsFrom(inbox.b!, 'a')).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
  });

  test('send refuses an unknown peer, an oversized frame and a non-frame, and counts them', async () => {
    const net = createMemoryNetwork({ maxFrameBytes: 8 });
    const { t, inbox } = await cluster(net, ['a', 'b']);
    expect(t.a!.send('zed', frame('x'))).toBe(false);
    expect(t.a!.send('b', new Uint8Array(9))).toBe(false);
    expect(t.a!.send('b', 'text' as unknown as Uint8Array)).toBe(false);
    expect(t.a!.send('b', new Uint8Array(8))).toBe(true);
    expect(t.a!.send('b', new Uint8Array(0))).toBe(true);
    await settle();
    expect(inbox.b!.map((r) => r.text.length)).toEqual([8, 0]);
    expect(t.a!.stats()).toMatchObject({ framesSent: 2, framesDropped: 3, bytesSent: 8 });
  });

  test('a frame is copied at send: changing the buffer afterwards changes nothing', async () => {
    const net = createMemoryNetwork();
    const { t, inbox } = await cluster(net, ['a', 'b']);
    const buf = frame('hello');
    t.a!.send('b', buf);
    buf.fill(0);
    await settle();
    expect(inbox.b).toEqual([{ from: 'a', text: 'hello' }]);
  });

  test('partition cuts both directions, and frames in flight; heal restores', async () => {
    const net = createMemoryNetwork();
    const { t, inbox } = await cluster(net, ['a', 'b', 'c']);
    t.a!.send('b', frame('in flight'));
    net.partition('a', 'b');
    expect(net.connected('a', 'b')).toBe(false);
    expect(net.connected('b', 'a')).toBe(false);
    expect(net.connected('a', 'c')).toBe(true);
    // A sender cannot tell a partition from a slow network: send still accepts.
    expect(t.a!.send('b', frame('a->b'))).toBe(true);
    t.b!.send('a', frame('b->a'));
    t.a!.send('c', frame('a->c'));
    t.c!.send('b', frame('c->b'));
    await settle();
    expect(inbox.b).toEqual([{ from: 'c', text: 'c->b' }]);
    expect(inbox.a).toEqual([]);
    expect(inbox.c).toEqual([{ from: 'a', text: 'a->c' }]);
    expect(net.stats()).toMatchObject({ lost: 3, delivered: 2 });

    net.heal();
    t.a!.send('b', frame('healed'));
    await settle();
    expect(textsFrom(inbox.b!, 'a')).toEqual(['healed']);
  });

  test('isolate cuts a node off from everyone; heal restores', async () => {
    const net = createMemoryNetwork();
    const { t, inbox } = await cluster(net, ['a', 'b', 'c']);
    net.isolate('c');
    t.a!.send('c', frame('1'));
    t.c!.send('b', frame('2'));
    t.a!.send('b', frame('3'));
    await settle();
    expect(inbox.c).toEqual([]);
    expect(inbox.b).toEqual([{ from: 'a', text: '3' }]);
    net.heal();
    t.c!.send('b', frame('4'));
    await settle();
    expect(textsFrom(inbox.b!, 'c')).toEqual(['4']);
  });

  test('random drops follow the seeded random function and replay exactly', async () => {
    const seed = BASE_SEED;
    process.stdout.write(`[seed] memory transport drops: FC_SEED=${seed}\n`);
    /** The frames b receives out of 400 sent by a, with drop probability 0.3 and the run's seed. */
    async function run(): Promise<string[]> {
      const net = createMemoryNetwork({ dropProbability: 0.3, random: seededRandom(seed) });
      const { t, inbox } = await cluster(net, ['a', 'b']);
      for (let i = 0; i < 400; i++) expect(t.a!.send('b', frame(String(i)))).toBe(true);
      await settle();
      expect(net.stats().delivered + net.stats().lost).toBe(400);
      return textsFrom(inbox.b!, 'a');
    }
    const first = await run();
    expect(await run()).toEqual(first);
    // 400 draws at p = 0.3: 120 expected lost, the standard deviation is about 9.
    expect(first.length).toBeGreaterThan(400 - 120 - 60);
    expect(first.length).toBeLessThan(400 - 120 + 60);
    // What arrives is still in order.
    const numbers = first.map(Number);
    expect([...numbers].sort((x, y) => x - y)).toEqual(numbers);
  });

  test('setDropProbability checks its arguments; 1 loses everything, 0 nothing', async () => {
    const net = createMemoryNetwork();
    expect(() => net.setDropProbability(0.5)).toThrow(TypeError);
    expect(() => net.setDropProbability(1.5, seededRandom(1))).toThrow(RangeError);
    expect(() => createMemoryNetwork({ dropProbability: 0.1 })).toThrow(TypeError);
    const { t, inbox } = await cluster(net, ['a', 'b']);
    net.setDropProbability(1, seededRandom(1));
    t.a!.send('b', frame('lost'));
    net.setDropProbability(0);
    t.a!.send('b', frame('kept'));
    await settle();
    expect(inbox.b).toEqual([{ from: 'a', text: 'kept' }]);
  });

  test('a closed transport refuses sends and loses frames to and from it; the id can start again', async () => {
    const net = createMemoryNetwork();
    const { t, inbox } = await cluster(net, ['a', 'b']);
    t.a!.send('b', frame('from a, in flight'));
    t.b!.send('a', frame('to a, in flight'));
    await t.a!.close();
    expect(t.a!.closed).toBe(true);
    expect(t.a!.send('b', frame('after close'))).toBe(false);
    await settle();
    expect(inbox.a).toEqual([]);
    expect(inbox.b).toEqual([]);
    await expect(t.a!.start(() => {})).rejects.toThrow(/closed/);
    await t.a!.close(); // idempotent

    expect(() => net.transport('b')).toThrow(/already/);
    const restarted = net.transport('a');
    restarted.setPeers(memoryPeers(['b']));
    const got: string[] = [];
    await restarted.start((from, f) => got.push(`${from}:${decoder.decode(f)}`));
    t.b!.send('a', frame('hello again'));
    restarted.send('b', frame('back'));
    await settle();
    expect(got).toEqual(['b:hello again']);
    expect(textsFrom(inbox.b!, 'a')).toEqual(['back']);
  });

  test('frames to a node without a started transport are lost', async () => {
    const net = createMemoryNetwork();
    const a = net.transport('a');
    a.setPeers(memoryPeers(['b', 'c']));
    const b = net.transport('b'); // made, never started
    expect(a.send('b', frame('x'))).toBe(true);
    expect(a.send('c', frame('y'))).toBe(true); // no transport at all
    await settle();
    expect(net.stats()).toMatchObject({ delivered: 0, lost: 2 });
    expect(b.stats().framesReceived).toBe(0);
  });

  test('setPeers replaces the peer set; a removed peer is refused', async () => {
    const net = createMemoryNetwork();
    const { t, inbox } = await cluster(net, ['a', 'b', 'c']);
    t.a!.setPeers(memoryPeers(['c']));
    expect(t.a!.send('b', frame('x'))).toBe(false);
    expect(t.a!.send('c', frame('y'))).toBe(true);
    // b may still send to a: a receives from anyone.
    expect(t.b!.send('a', frame('z'))).toBe(true);
    await settle();
    expect(inbox.a).toEqual([{ from: 'b', text: 'z' }]);
    expect(() => t.a!.setPeers({ '': { host: 'x', port: 1 } })).toThrow(TypeError);
    expect(t.a!.send('c', frame('still there'))).toBe(true); // unchanged by the refused call
  });

  test('start and transport check their arguments', async () => {
    const net = createMemoryNetwork();
    expect(() => net.transport('')).toThrow(TypeError);
    expect(() => createMemoryNetwork({ maxFrameBytes: 0 })).toThrow(RangeError);
    const a = net.transport('a');
    await expect(a.start(undefined as unknown as () => void)).rejects.toThrow(TypeError);
    await a.start(() => {});
    await expect(a.start(() => {})).rejects.toThrow(/already/);
    await a.close();
  });

  test('a setTimeout scheduler delivers after timers already due', async () => {
    const net = createMemoryNetwork({ schedule: (task) => setTimeout(task, 0) });
    const { t, inbox } = await cluster(net, ['a', 'b']);
    t.a!.send('b', frame('1'));
    t.a!.send('b', frame('2'));
    await Promise.resolve();
    expect(inbox.b).toEqual([]); // not a microtask
    await settle();
    await settle();
    expect(textsFrom(inbox.b!, 'a')).toEqual(['1', '2']);
  });
});
