/**
 * `createHost` under faults (virtual time, seeded): a leader crash and its restart from storage, a
 * partition and its heal, a storage failure, a fatal step (LocalSnapshotMismatch from a hand-made
 * message), and a randomized schedule of partitions, message loss and restarts.
 */
import type { HostError } from '../../src/host/errors.js';
import { encodeFrame } from '../../src/host/envelope.js';
import { traceFromHostEvents } from '../../src/sim/from-host.js';
import { seededRandom } from '../../src/host/memory-transport.js';
import { parseTrace, replayTrace, serializeTrace } from '../../src/sim/trace.js';
import { BASE_SEED } from '../support/seed.js';
import { TestCluster, printSeed, set } from './support-host.js';

const SEED = BASE_SEED;
printSeed('host-faults', SEED);

/** Every running host holds the same store. */
function expectConverged(c: TestCluster): void {
  const dumps = c.running().map((h) => c.node(h.id).machine.dump());
  expect(new Set(dumps).size).toBe(1);
}

describe('createHost under faults', () => {
  let c: TestCluster;
  afterEach(async () => {
    await c.stopAll();
  });

  test('a leader crash: the others elect a new leader; the old one restarts from its storage and catches up', async () => {
    c = new TestCluster({ seed: SEED });
    const first = await c.form(['n1', 'n2', 'n3']);
    for (let i = 0; i < 5; i++) await c.clock.resolve(first.propose(set(`a${i}`, 'x')));
    const crashed = first.id;
    const pending = c.clock.settled(first.propose(set('lost?', 'maybe')));
    await c.stop(crashed);
    const r = await pending;
    expect(r.ok).toBe(false);
    expect((r as { error: HostError }).error.code).toBe('stopped');
    expect(c.node(crashed).storage.inner).toBeDefined();

    const second = await c.stableLeader();
    expect(second.id).not.toBe(crashed);
    for (let i = 0; i < 5; i++) await c.clock.resolve(second.propose(set(`b${i}`, 'y')));

    const restarted = await c.start(crashed);
    expect(restarted.state.term).toBeGreaterThan(0); // restarted, not started fresh
    await c.appliedEverywhere(second.status().commitIndex);
    expectConverged(c);
    const machine = c.node(crashed).machine;
    expect(machine.map.get('b4')).toBe('y');
    expect(machine.applied.length).toBeGreaterThanOrEqual(10); // re-applied from its own storage and the leader's
    const lifecycle = c.records
      .filter((rec) => rec.node === crashed && !('step' in rec))
      .map((rec) => Object.keys(rec)[3]);
    expect(lifecycle).toEqual(['start', 'crash', 'restart']);
  });

  test('a partition and its heal: the isolated leader steps down, its uncommitted proposal is overwritten', async () => {
    c = new TestCluster({ seed: SEED });
    const old = await c.form(['n1', 'n2', 'n3']);
    await c.clock.resolve(old.propose(set('k', 'before')));
    c.net.isolate(old.id);
    const stranded = c.clock.settled(old.propose(set('k', 'stranded')), 30_000);
    const others = c.running().filter((h) => h !== old);
    const next = await c.stableLeader(
      20_000,
      others.map((h) => h.id),
    );
    expect(await c.clock.resolve(next.propose(set('k', 'majority')))).toBe('before');
    await c.clock.until(() => old.state.role !== 'leader', 5_000, 'the isolated leader stepping down');
    c.net.heal();
    const r = await stranded;
    expect(r.ok).toBe(false);
    expect((r as { error: HostError }).error.code).toBe('overwritten');
    await c.appliedEverywhere(next.status().commitIndex);
    expectConverged(c);
    expect(c.node(old.id).machine.map.get('k')).toBe('majority');
  });

  test('a failing storage stops its host, which says why; the others carry on', async () => {
    c = new TestCluster({ seed: SEED });
    const leader = await c.form(['n1', 'n2', 'n3']);
    const victim = c.running().find((h) => h !== leader)!;
    c.node(victim.id).storage.failWrites = new Error('disk on fire');
    await c.clock.resolve(leader.propose(set('a', '1')));
    const info = await c.clock.resolve(victim.stopped);
    expect(info.kind).toBe('storage');
    expect(info.reason).toContain('disk on fire');
    expect(victim.status().halted).toEqual(info);
    const r = await c.clock.settled(victim.read('a'));
    expect((r as { error: HostError }).error.code).toBe('stopped');
    expect(await c.clock.resolve(leader.propose(set('a', '2')))).toBe('1');
  });

  test('a fatal step (LocalSnapshotMismatch) stops the host: promises rejected, transport closed, reason kept', async () => {
    c = new TestCluster({ seed: SEED, hostOptions: { snapshot: { everyEntries: 5 } } });
    const leader = await c.form(['n1', 'n2', 'n3']);
    for (let i = 0; i < 12; i++) await c.clock.resolve(leader.propose(set(`k${i}`, 'v')));
    await c.appliedEverywhere(leader.status().commitIndex);
    const victim = c.running().find((h) => h !== leader)!;
    await c.clock.until(() => victim.state.log.prevIndex > 0, 5_000, 'the follower compacting');
    const pendingRead = victim.read('k0'); // in flight when the fatal message arrives
    const { prevIndex, prevTerm } = victim.state.log;
    const evil = c.net.transport('evil');
    evil.setPeers({ [victim.id]: { host: 'memory', port: 0 } });
    await evil.start(() => undefined);
    // An AppendEntries anchored at the follower's snapshot index with another term: to comply, the
    // follower would have to cut into its own snapshot.
    const anchor = {
      prevTerm: prevTerm + 1,
      prevIndex,
      lastTerm: prevTerm + 1,
      lastIndex: prevIndex,
      termStarts: [],
      configs: [],
    };
    const term = victim.state.term + 1;
    evil.send(
      victim.id,
      encodeFrame({
        kind: 'message',
        message: { type: 'appendEntries', from: 'evil', term, commitIndex: 0, entries: anchor },
        payloads: [],
      }),
    );
    const info = await c.clock.resolve(victim.stopped);
    expect(info.kind).toBe('fatal');
    expect(info.reason).toContain('LocalSnapshotMismatch');
    expect(victim.status().halted?.kind).toBe('fatal');
    const r = await c.clock.settled(pendingRead);
    // The hand-made message raises the term, which settles the forwarded read (leaderChanged) in
    // the same step that halts; either way the read is answered, never left hanging.
    expect(r.ok).toBe(false);
    expect(['stopped', 'rejected']).toContain((r as { error: HostError }).error.code);
    const late = await c.clock.settled(victim.propose(set('late', 'x')));
    expect((late as { error: HostError }).error.code).toBe('stopped');
    expect(c.node(victim.id).spy!.inner.stats()).toBeDefined();
    expect((c.node(victim.id).spy!.inner as unknown as { closed: boolean }).closed).toBe(true);
    const crash = c.records.filter((rec) => rec.node === victim.id).at(-1)!;
    expect('crash' in crash).toBe(true);
    await evil.close();
  });

  test.each([0, 1, 2])(
    'a randomized schedule of partitions, message loss, restarts and snapshots keeps every acknowledged write (seed + %i)',
    async (offset) => {
      const seed = SEED + offset;
      printSeed(`host-faults randomized (seed + ${offset})`, seed);
      const rng = seededRandom(seed);
      c = new TestCluster({
        seed,
        network: { random: seededRandom(seed + 1) },
        hostOptions: { snapshot: { everyEntries: 7 }, snapshotChunkBytes: 16 },
      });
      const ids = ['n1', 'n2', 'n3'];
      await c.form(ids);
      /** The highest value acknowledged for each key (values only grow, in commit order). */
      const acknowledged = new Map<string, number>();
      const problems: string[] = [];
      let nextValue = 0;
      const pick = (): string => ids[Math.floor(rng() * ids.length)]!;
      const propose = (): void => {
        const leader = c.leader();
        if (leader === undefined) return;
        const key = `k${Math.floor(rng() * 8)}`;
        const value = nextValue++;
        leader.propose(set(key, String(value))).then(
          () => acknowledged.set(key, Math.max(value, acknowledged.get(key) ?? -1)),
          () => undefined,
        );
      };
      const read = (): void => {
        const host = c.node(pick()).host;
        if (host === null) return;
        const key = `k${Math.floor(rng() * 8)}`;
        const floor = acknowledged.get(key) ?? -1; // acknowledged before the read was issued
        host.read(key).then(
          (v) => {
            if (Number(v ?? -1) < floor) problems.push(`stale read of ${key} on ${host.id}: ${v} < ${floor}`);
          },
          () => undefined,
        );
      };
      for (let round = 0; round < 50; round++) {
        const r = rng();
        if (r < 0.15) {
          c.net.heal();
          c.net.isolate(pick());
        } else if (r < 0.25) {
          c.net.heal();
          c.net.partition(pick(), pick());
        } else if (r < 0.35) {
          c.net.heal();
        } else if (r < 0.42) {
          c.net.setDropProbability(0.2);
        } else if (r < 0.5) {
          c.net.setDropProbability(0);
        } else if (r < 0.56) {
          const id = pick();
          if (c.node(id).host !== null && c.running().length === 3) await c.stop(id);
        } else if (r < 0.62) {
          for (const id of ids) if (c.node(id).host === null) await c.start(id);
        }
        for (let k = 0; k < 3; k++) propose();
        read();
        await c.clock.advance(Math.floor(rng() * 400));
      }
      c.net.heal();
      c.net.setDropProbability(0);
      for (const id of ids) if (c.node(id).host === null) await c.start(id);
      const leader = await c.stableLeader(30_000);
      // A final write by the leader commits everything before it; then every replica must hold it.
      await c.clock.resolve(leader.propose(set('final', 'x')), 30_000);
      await c.appliedEverywhere(leader.status().commitIndex, undefined, 30_000);
      expectConverged(c);
      expect(c.agreement.violations).toEqual([]);
      expect(problems).toEqual([]);
      const store = c.node(leader.id).machine.map;
      for (const [key, value] of acknowledged) expect(Number(store.get(key))).toBeGreaterThanOrEqual(value);
      for (const h of c.running()) expect(h.status().halted).toBeNull();
      // The hosts' records, restarts and snapshots included, replay to the very same states.
      const replay = replayTrace(parseTrace(serializeTrace(traceFromHostEvents(c.records, seed))));
      expect(replay.error).toBeNull();
      for (const h of c.running()) expect(replay.states.get(h.id)).toEqual(h.state);
    },
  );
});
