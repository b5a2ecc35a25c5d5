/**
 * `createHost` on a three-node in-process cluster (virtual time, seeded): elections, proposals and
 * their results, linearizable reads on the leader and on followers, batching of concurrent
 * proposals into few storage writes, refusals with the leader hint, bad frames dropped and counted,
 * leadership transfer, and the event records replayed as a simulator trace and a time-travel
 * recording.
 */
import { HostError } from '../../src/host/errors.js';
import { encodeFrame } from '../../src/host/envelope.js';
import { traceFromHostEvents } from '../../src/sim/from-host.js';
import { recordingFromHostEvents } from '../../src/timetravel/from-host.js';
import { replayTrace, serializeTrace, parseTrace } from '../../src/sim/trace.js';
import { createTimeline } from '../../src/timetravel/index.js';
import { BASE_SEED } from '../support/seed.js';
import { TestCluster, printSeed, set, settle, type KvHost } from './support-host.js';

const SEED = BASE_SEED;
printSeed('host', SEED);

/** The running hosts other than `leader`. */
function followers(c: TestCluster, leader: KvHost): KvHost[] {
  return c.running().filter((h) => h !== leader);
}

describe('createHost: a three-node cluster', () => {
  let c: TestCluster;
  afterEach(async () => {
    await c.stopAll();
  });

  test('elects a leader, commits proposals with their results, applies each entry once in order everywhere', async () => {
    c = new TestCluster({ seed: SEED });
    const leader = await c.form(['n1', 'n2', 'n3']);
    expect(leader.status().role).toBe('leader');
    const results: (string | null)[] = [];
    for (let i = 0; i < 5; i++) results.push(await c.clock.resolve(leader.propose(set('k', `v${i}`))));
    expect(results).toEqual([null, 'v0', 'v1', 'v2', 'v3']);
    expect(await c.clock.resolve(leader.propose({ op: 'del', key: 'k' }))).toBe('v4');
    const commit = leader.status().commitIndex;
    await c.appliedEverywhere(commit);
    const applied = c.node(leader.id).machine.applied;
    for (const h of c.running()) {
      const m = c.node(h.id).machine;
      expect(m.map.has('k')).toBe(false);
      expect(m.applied).toEqual(applied); // the same commands at the same indices, each once
      expect(h.status().halted).toBeNull();
    }
    expect(applied).toHaveLength(6);
  });

  test("a state machine's exception rejects that proposal only", async () => {
    c = new TestCluster({ seed: SEED });
    const leader = await c.form(['n1', 'n2', 'n3']);
    const failing = c.clock.settled(leader.propose({ op: 'fail' }));
    const fine = c.clock.resolve(leader.propose(set('x', '1')));
    const r = await failing;
    expect(r.ok).toBe(false);
    expect((r as { error: Error }).error.message).toBe('the command failed');
    expect(await fine).toBeNull();
  });

  test('proposals on a follower are refused with the leader hint', async () => {
    c = new TestCluster({ seed: SEED });
    const leader = await c.form(['n1', 'n2', 'n3']);
    const follower = followers(c, leader)[0]!;
    const r = await c.clock.settled(follower.propose(set('a', '1')));
    expect(r.ok).toBe(false);
    const e = (r as { error: unknown }).error;
    expect(e).toBeInstanceOf(HostError);
    expect((e as HostError).code).toBe('notLeader');
    expect((e as HostError).leaderHint).toBe(leader.id);
    expect(follower.status().stats.proposalsRefused).toBe(1);
  });

  test('reads are linearizable: a read after a write sees it, on the leader and on every follower', async () => {
    c = new TestCluster({ seed: SEED });
    const leader = await c.form(['n1', 'n2', 'n3']);
    for (let i = 0; i < 10; i++) {
      await c.clock.resolve(leader.propose(set('counter', String(i))));
      // Issued right after the write was acknowledged, before any heartbeat carried the commit index:
      // the follower must wait for the leader's read index and apply up to it.
      const reads = c.running().map((h) => h.read('counter'));
      for (const value of await c.clock.resolve(Promise.all(reads))) expect(value).toBe(String(i));
    }
    for (const h of c.running()) expect(h.status().stats.readsServed).toBe(10);
  });

  test('a read with no leader known is refused', async () => {
    c = new TestCluster({ seed: SEED });
    const lone = await c.start('n1');
    const r = await c.clock.settled(lone.read('a'));
    expect(r.ok).toBe(false);
    expect((r as { error: HostError }).error.code).toBe('notLeader');
  });

  test('concurrent proposals are batched: N proposals cost far fewer than N storage writes', async () => {
    c = new TestCluster({ seed: SEED });
    const leader = await c.form(['n1', 'n2', 'n3']);
    const storage = c.node(leader.id).storage;
    const before = storage.writes;
    const steppedBefore = leader.status().stats.eventsStepped;
    const n = 200;
    const all = Promise.all(Array.from({ length: n }, (_, i) => leader.propose(set(`k${i}`, `v${i}`))));
    const results = await c.clock.resolve(all);
    expect(results).toHaveLength(n);
    const writes = storage.writes - before;
    expect(writes).toBeLessThan(n / 10);
    // One `propose {count: 200}` step: the proposals of one tick are stepped as one event.
    const proposeSteps = c.records.filter(
      (r) => r.node === leader.id && 'step' in r && r.step.type === 'propose' && r.n > steppedBefore,
    );
    expect(proposeSteps.length).toBeLessThanOrEqual(2);
    await c.appliedEverywhere(leader.status().commitIndex);
    for (const h of c.running()) {
      expect(c.node(h.id).machine.map.size).toBe(n);
      expect(c.node(h.id).storage.writes).toBeLessThan(n);
    }
  });

  test('steps taken while a write is in flight share the next write (a slow disk)', async () => {
    c = new TestCluster({ seed: SEED });
    const leader = await c.form(['n1', 'n2', 'n3']);
    const storage = c.node(leader.id).storage;
    storage.delay = () => new Promise((resolve) => c.clock.setTimeout(resolve, 5));
    const before = storage.writes;
    const pending: Promise<string | null>[] = [];
    for (let i = 0; i < 50; i++) {
      pending.push(leader.propose(set('x', String(i)))); // one proposal per tick: 50 steps
      await settle();
    }
    const results = await c.clock.resolve(Promise.all(pending));
    expect(results[49]).toBe('48');
    expect(storage.writes - before).toBeLessThanOrEqual(3);
    expect(leader.status().stats.stepsBatched).toBeGreaterThan(leader.status().stats.storageWrites);
  });

  test('bad frames are dropped and counted; the node keeps working', async () => {
    c = new TestCluster({ seed: SEED });
    const leader = await c.form(['n1', 'n2', 'n3']);
    const target = followers(c, leader)[0]!;
    const evil = c.net.transport('evil');
    evil.setPeers({ [target.id]: { host: 'memory', port: 0 } });
    await evil.start(() => undefined);
    const good = encodeFrame({
      kind: 'message',
      message: { type: 'requestVoteReply', from: 'evil', term: 0, granted: false },
      payloads: [],
    });
    const frames: Uint8Array[] = [
      new Uint8Array([1, 2, 3]), // too short
      new TextEncoder().encode('hello, this is not an envelope at all'), // wrong magic
      Uint8Array.from([...good.slice(0, 3), 9, ...good.slice(4)]), // wrong version
      good.slice(0, good.length - 1), // truncated
      Uint8Array.from([...good, 0]), // trailing byte
      // A message that names another sender than the one it came from.
      encodeFrame({
        kind: 'message',
        message: { type: 'requestVoteReply', from: leader.id, term: 99, granted: true },
        payloads: [],
      }),
      // A message the core would refuse (a negative term).
      encodeFrame({
        kind: 'message',
        message: { type: 'requestVoteReply', from: 'evil', term: -1, granted: true },
        payloads: [],
      }),
    ];
    for (const f of frames) evil.send(target.id, f);
    await c.clock.advance(10);
    const stats = target.status().stats;
    expect(stats.badFrames).toBe(frames.length);
    expect(stats.lastBadFrame).toContain('evil');
    expect(target.status().halted).toBeNull();
    expect(await c.clock.resolve(leader.propose(set('still', 'working')))).toBeNull();
    await evil.close();
  });

  test('transferLeadership hands leadership to the named voter', async () => {
    c = new TestCluster({ seed: SEED });
    const leader = await c.form(['n1', 'n2', 'n3']);
    await c.clock.resolve(leader.propose(set('a', '1')));
    const to = followers(c, leader)[0]!;
    await c.clock.resolve(leader.transferLeadership(to.id));
    const next = await c.stableLeader();
    expect(next.id).toBe(to.id);
    expect(await c.clock.resolve(next.propose(set('a', '2')))).toBe('1');
    const refused = await c.clock.settled(next.transferLeadership(next.id));
    expect((refused as { error: HostError }).error.reason).toBe('alreadyLeader');
  });

  test('the event records replay exactly as a simulator trace and a time-travel recording', async () => {
    c = new TestCluster({ seed: SEED });
    const leader = await c.form(['n1', 'n2', 'n3']);
    for (let i = 0; i < 5; i++) await c.clock.resolve(leader.propose(set('a', String(i))));
    await c.clock.resolve(followers(c, leader)[0]!.read('a'));
    await c.stop(followers(c, leader)[1]!.id); // a crash record
    await c.clock.advance(200);

    const trace = traceFromHostEvents(c.records, SEED);
    const parsed = parseTrace(serializeTrace(trace)); // the trace format, hash chain and all
    expect(parsed.events).toHaveLength(c.records.length);
    const report = replayTrace(parsed);
    expect(report.error).toBeNull();
    for (const h of c.running()) expect(report.states.get(h.id)).toEqual(h.state);

    const timeline = createTimeline(recordingFromHostEvents(c.records));
    expect(timeline.length).toBe(c.records.length);
    const end = timeline.view(timeline.length);
    expect(end.nodes[leader.id]?.role).toBe('leader');
    expect(end.leaders).toContain(leader.id);
  });
});
