/**
 * Snapshots in `createHost` (virtual time, seeded): the policy (entries, bytes), compaction and a
 * restart from a snapshot, a lagging follower caught up through a snapshot streamed in many chunks
 * (one transfer at a time, requests deduplicated), a transfer cut off and resumed where the
 * receiver stood, and the receiver's safety rules (a snapshot it no longer needs, a corrupt one, one
 * from a term it has not reached yet).
 */
import { decodeFrame, encodeFrame, type SnapshotChunk } from '../../src/host/envelope.js';
import { crc32 } from '../../src/host/snapshots.js';
import type { ClusterConfig } from '../../src/index.js';
import { BASE_SEED } from '../support/seed.js';
import { TestCluster, printSeed, set, type KvHost } from './support-host.js';

const SEED = BASE_SEED;
printSeed('host-snapshots', SEED);

/** A cluster whose network takes 1 ms of virtual time per frame (so that transfers take a while). */
function slowCluster(options: ConstructorParameters<typeof TestCluster>[0]['hostOptions']): TestCluster {
  const c: TestCluster = new TestCluster({
    seed: SEED,
    hostOptions: options,
    network: { schedule: (task) => c.clock.setTimeout(task, 1) },
  });
  return c;
}

/** The snapshot chunks `from`'s host sent to `to`, decoded, in order. */
function chunksSent(c: TestCluster, from: string, to: string): SnapshotChunk[] {
  const out: SnapshotChunk[] = [];
  for (const s of c.node(from).spy!.sent) {
    if (s.to !== to) continue;
    const f = decodeFrame(s.frame, from);
    if (typeof f !== 'string' && f.kind === 'snapshotChunk') out.push(f.chunk);
  }
  return out;
}

/** A value long enough that a snapshot of a few dozen keys spans many chunks. */
function value(i: number): string {
  return `value-${i}-${'x'.repeat(20)}`;
}

describe('createHost snapshots', () => {
  let c: TestCluster;
  afterEach(async () => {
    await c.stopAll();
  });

  test('the entry policy takes snapshots and compacts; a restart restores the state machine from one', async () => {
    c = new TestCluster({ seed: SEED, hostOptions: { snapshot: { everyEntries: 10 } } });
    const leader = await c.form(['n1', 'n2', 'n3']);
    for (let i = 0; i < 35; i++) await c.clock.resolve(leader.propose(set(`k${i % 7}`, String(i))));
    await c.appliedEverywhere(leader.status().commitIndex);
    for (const h of c.running()) {
      const st = h.status();
      expect(st.stats.snapshots.snapshotsTaken).toBeGreaterThanOrEqual(3);
      expect(st.snapshotIndex).toBeGreaterThanOrEqual(30);
      const stored = await c.clock.resolve(c.node(h.id).storage.snapshot());
      expect(stored?.index).toBe(st.snapshotIndex);
    }
    const follower = c.running().find((h) => h !== leader)!;
    const snapshotIndex = follower.status().snapshotIndex;
    await c.stop(follower.id);
    await c.clock.resolve(leader.propose(set('after', 'restart')));
    const back = await c.start(follower.id);
    const machine = c.node(follower.id).machine;
    expect(machine.restores).toBe(1);
    expect(back.status().appliedIndex).toBe(snapshotIndex);
    await c.appliedEverywhere(leader.status().commitIndex);
    expect(machine.dump()).toBe(c.node(leader.id).machine.dump());
    expect(machine.applied.every((i) => i > snapshotIndex)).toBe(true); // only the entries above the snapshot
  });

  test('the byte policy takes snapshots by payload volume', async () => {
    c = new TestCluster({ seed: SEED, hostOptions: { snapshot: { everyBytes: 500 } } });
    const leader = await c.form(['n1', 'n2', 'n3']);
    for (let i = 0; i < 30; i++) await c.clock.resolve(leader.propose(set(`k${i}`, value(i)))); // ~60 bytes each
    const taken = leader.status().stats.snapshots.snapshotsTaken;
    expect(taken).toBeGreaterThanOrEqual(2);
    expect(taken).toBeLessThanOrEqual(5);
  });

  test('a lagging follower is caught up through a snapshot streamed in chunks, one transfer at a time', async () => {
    c = slowCluster({ snapshot: { everyEntries: 20 }, snapshotChunkBytes: 64 });
    const leader = await c.form(['n1', 'n2', 'n3']);
    const lagging = c.running().find((h) => h !== leader)!;
    c.net.isolate(lagging.id);
    for (let i = 0; i < 60; i++) await c.clock.resolve(leader.propose(set(`k${i}`, value(i))));
    expect(leader.status().snapshotIndex).toBeGreaterThan(lagging.status().lastIndex);
    c.net.heal();
    await c.appliedEverywhere(leader.status().commitIndex, [lagging.id]);
    expect(c.node(lagging.id).machine.dump()).toBe(c.node(leader.id).machine.dump());
    const received = lagging.status().stats.snapshots;
    expect(received.snapshotsInstalled).toBeGreaterThanOrEqual(1);
    expect(c.node(lagging.id).machine.restores).toBeGreaterThanOrEqual(1);
    const sent = leader.status().stats.snapshots;
    expect(sent.transfersCompleted).toBeGreaterThanOrEqual(1);
    expect(sent.requestsDeduplicated).toBeGreaterThan(0); // the core asked again on every reply meanwhile
    const chunks = chunksSent(c, leader.id, lagging.id);
    const data = chunks.filter((k) => k.data.length > 0);
    expect(data.length).toBeGreaterThanOrEqual(10); // several chunks
    for (const k of data) expect(k.data.length).toBeLessThanOrEqual(64);
    // One transfer at a time: once a transfer's chunks stop, its id never comes back.
    const order = chunks.map((k) => k.transfer).filter((id, i, all) => i === 0 || all[i - 1] !== id);
    expect(new Set(order).size).toBe(order.length);
    // Within a transfer, data chunks go forward (a retransmission repeats the last offset).
    for (const id of new Set(order)) {
      const offsets = data.filter((k) => k.transfer === id).map((k) => k.offset);
      for (let i = 1; i < offsets.length; i++) expect(offsets[i]!).toBeGreaterThanOrEqual(offsets[i - 1]!);
    }
    expect(leader.status().transfers).toEqual([]);
  });

  test('a transfer cut off midway resumes from the offset the follower holds', async () => {
    c = slowCluster({
      snapshot: { everyEntries: 20 },
      snapshotChunkBytes: 16,
      snapshotRetransmitMs: 100,
      snapshotMaxRetries: 2,
    });
    const leader = await c.form(['n1', 'n2', 'n3']);
    const lagging = c.running().find((h) => h !== leader)!;
    c.net.isolate(lagging.id);
    for (let i = 0; i < 40; i++) await c.clock.resolve(leader.propose(set(`k${i}`, value(i))));
    const snapshot = (await c.clock.resolve(c.node(leader.id).storage.snapshot()))!;
    c.net.heal();
    await c.clock.until(
      () => (lagging.status().receiving?.received ?? 0) > snapshot.data.length / 3,
      10_000,
      'a third of the snapshot arriving',
      1,
    );
    c.net.partition(leader.id, lagging.id);
    const staged = lagging.status().receiving!.received;
    await c.clock.until(() => leader.status().transfers.length === 0, 5_000, 'the transfer being abandoned');
    expect(leader.status().stats.snapshots.transfersAbandoned).toBe(1);
    c.net.heal();
    await c.appliedEverywhere(leader.status().commitIndex, [lagging.id]);
    expect(c.node(lagging.id).machine.dump()).toBe(c.node(leader.id).machine.dump());
    const stats = leader.status().stats.snapshots;
    expect(stats.transfersResumed).toBeGreaterThanOrEqual(1);
    const chunks = chunksSent(c, leader.id, lagging.id);
    const transfers = [...new Set(chunks.map((k) => k.transfer))];
    expect(transfers.length).toBeGreaterThanOrEqual(2);
    const resumed = chunks.filter((k) => k.transfer === transfers[1] && k.data.length > 0);
    expect(resumed[0]!.offset).toBeGreaterThanOrEqual(staged); // not from 0
    // Nothing was sent twice but the chunks in flight when the link broke (and their retransmissions).
    expect(stats.chunkBytesSent).toBeLessThan(snapshot.data.length + 16 * 8);
  });
});

describe('createHost: receiving snapshots safely', () => {
  let c: TestCluster;
  afterEach(async () => {
    await c.stopAll();
  });

  /** An `evil` transport that can reach `to`, and what it receives. */
  async function evilPeer(
    to: string,
  ): Promise<{ send: (frame: Uint8Array) => void; inbox: Uint8Array[]; close: () => Promise<void> }> {
    const evil = c.net.transport('evil');
    evil.setPeers({ [to]: { host: 'memory', port: 0 } });
    const inbox: Uint8Array[] = [];
    await evil.start((_from, frame) => inbox.push(frame));
    return { send: (frame) => evil.send(to, frame), inbox, close: () => evil.close() };
  }

  /** The chunk frames of `data` as a snapshot at `(term, index)` with `config`, `size` bytes each, after a probe. */
  function chunkFrames(
    data: Uint8Array,
    term: number,
    index: number,
    config: ClusterConfig,
    size: number,
    crc = crc32(data),
  ): Uint8Array[] {
    const frames: Uint8Array[] = [];
    const base = { transfer: 'evil.1', term, snapshot: { term, index, config }, total: data.length, crc };
    frames.push(encodeFrame({ kind: 'snapshotChunk', chunk: { ...base, offset: 0, data: new Uint8Array(0) } }));
    for (let offset = 0; offset < data.length; offset += size) {
      frames.push(
        encodeFrame({ kind: 'snapshotChunk', chunk: { ...base, offset, data: data.slice(offset, offset + size) } }),
      );
    }
    return frames;
  }

  test('a snapshot the node no longer needs (its commit index covers it) is answered done and not installed', async () => {
    c = new TestCluster({ seed: SEED });
    const leader = await c.form(['n1', 'n2', 'n3']);
    for (let i = 0; i < 5; i++) await c.clock.resolve(leader.propose(set(`k${i}`, 'v')));
    await c.appliedEverywhere(leader.status().commitIndex);
    const follower: KvHost = c.running().find((h) => h !== leader)!;
    const evil = await evilPeer(follower.id);
    const stale = new TextEncoder().encode('[["k0","stale"]]');
    for (const f of chunkFrames(stale, 1, 2, follower.status().members, 4)) evil.send(f);
    await c.clock.advance(10);
    const acks = evil.inbox.map((f) => decodeFrame(f, follower.id));
    expect(acks.length).toBeGreaterThan(0);
    for (const a of acks) expect(a).toMatchObject({ kind: 'snapshotAck', ack: { done: true, offset: stale.length } });
    expect(c.node(follower.id).machine.restores).toBe(0);
    expect(c.node(follower.id).machine.map.get('k0')).toBe('v');
    expect(follower.status().receiving).toBeNull();
    await evil.close();
  });

  test('a corrupt snapshot (CRC mismatch) is discarded and asked for again from offset 0', async () => {
    c = new TestCluster({ seed: SEED });
    const solo = await c.start('solo');
    const evil = await evilPeer('solo');
    const data = new TextEncoder().encode('[["a","1"]]');
    const config: ClusterConfig = { voters: ['evil'], newVoters: [], nonVoters: [] };
    for (const f of chunkFrames(data, 1, 5, config, 4, crc32(data) ^ 1)) evil.send(f);
    await c.clock.advance(10);
    expect(solo.status().stats.snapshots.corruptSnapshots).toBe(1);
    expect(solo.status().receiving).toBeNull();
    const last = decodeFrame(evil.inbox.at(-1)!, 'solo');
    expect(last).toMatchObject({ kind: 'snapshotAck', ack: { offset: 0, done: false } });
    expect(c.node('solo').machine.restores).toBe(0);
    await evil.close();
  });

  test('a snapshot from a term the node has not reached waits, staged, and installs once the term catches up', async () => {
    c = new TestCluster({ seed: SEED });
    const solo = await c.start('solo');
    const evil = await evilPeer('solo');
    const data = new TextEncoder().encode('[["a","1"],["b","2"]]');
    const config: ClusterConfig = { voters: ['evil', 'solo'], newVoters: [], nonVoters: [] };
    for (const f of chunkFrames(data, 3, 7, config, 5)) evil.send(f);
    await c.clock.advance(10);
    // Complete and checked, but of term 3 while the node is in term 0: not installed yet.
    expect(solo.status().receiving).toEqual({ index: 7, received: data.length, total: data.length, complete: true });
    expect(solo.status().snapshotIndex).toBe(0);
    expect(c.node('solo').machine.restores).toBe(0);
    // The leader's AppendEntries raises the term; then the snapshot is installed, then restored.
    const heartbeat = {
      type: 'appendEntries' as const,
      from: 'evil',
      term: 3,
      commitIndex: 0,
      entries: { prevTerm: 0, prevIndex: 0, lastTerm: 0, lastIndex: 0, termStarts: [], configs: [] },
    };
    evil.send(encodeFrame({ kind: 'message', message: heartbeat, payloads: [] }));
    await c.clock.advance(10);
    const st = solo.status();
    expect(st.term).toBe(3);
    expect(st.snapshotIndex).toBe(7);
    expect(st.appliedIndex).toBe(7);
    expect(st.members).toEqual(config);
    expect(st.stats.snapshots.snapshotsInstalled).toBe(1);
    expect(c.node('solo').machine.map.get('b')).toBe('2');
    const stored = await c.clock.resolve(c.node('solo').storage.snapshot());
    expect(stored).toMatchObject({ term: 3, index: 7 });
    expect(new TextDecoder().decode(stored!.data)).toBe('[["a","1"],["b","2"]]');
    const steps = c.records
      .filter((r) => r.node === 'solo' && 'step' in r)
      .map((r) => ('step' in r ? r.step.type : ''));
    // (A follower is not told that its appends are durable: only a leader counts such reports.)
    expect(steps).toEqual(['appendEntries', 'snapshotInstalled']);
    await evil.close();
  });
});
