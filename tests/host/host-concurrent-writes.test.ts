/**
 * A host runs its node with `concurrentLeaderWrites` (the core's option; see README, "Concurrent
 * leader writes"): a leader sends its new entries while its own write is in flight, so its disk and
 * its followers' write at the same time, and it reports every durable write (`appendPersisted`).
 * With the option off, the leader writes first and sends after. The leader's disk is held here with
 * a gate, to look at what happened meanwhile.
 */
import { BASE_SEED } from '../support/seed.js';
import { TestCluster, printSeed, set, type KvHost } from './support-host.js';

const SEED = BASE_SEED;
printSeed('host-concurrent-writes', SEED);

/**
 * A gate for a storage's writes: `hold()` makes them wait until `release()`; `lose()` makes the
 * held ones fail without reaching the disk (a crash before they were written).
 */
class Gate {
  private waiting: Array<{ go: () => void; fail: (e: Error) => void }> = [];
  held = false;

  hold(): void {
    this.held = true;
  }

  release(): void {
    this.held = false;
    for (const w of this.waiting.splice(0)) w.go();
  }

  lose(): void {
    this.held = false;
    for (const w of this.waiting.splice(0)) w.fail(new Error('crashed before the write reached the disk'));
  }

  /** What the storage awaits before each write. */
  readonly pass = (): Promise<void> =>
    this.held ? new Promise<void>((go, fail) => this.waiting.push({ go, fail })) : Promise.resolve();
}

describe('a host writes a leader’s entries while it sends them', () => {
  let c: TestCluster;
  afterEach(async () => {
    await c.stopAll();
  });

  /** A formed three-node cluster, its leader, the gate on the leader's disk, and the followers. */
  async function cluster(concurrent: boolean | undefined): Promise<{ leader: KvHost; gate: Gate; others: KvHost[] }> {
    c = new TestCluster({
      seed: SEED,
      ...(concurrent === undefined ? {} : { hostOptions: { node: { concurrentLeaderWrites: concurrent } } }),
    });
    const leader = await c.form(['n1', 'n2', 'n3']);
    await c.clock.resolve(leader.propose(set('warm', 'up')));
    const gate = new Gate();
    c.node(leader.id).storage.delay = gate.pass;
    return { leader, gate, others: c.running().filter((h) => h !== leader) };
  }

  test('on by default: the followers hold the entry before the leader’s write lands, and their copies commit it', async () => {
    const { leader, gate, others } = await cluster(undefined);
    expect(leader.state.options.concurrentLeaderWrites).toBe(true);
    const last = leader.state.log.lastIndex;
    const reportedBefore = leader.status().stats.appendsReported;
    gate.hold();
    const result = c.clock.settled(leader.propose(set('k', 'v')), 60_000);
    await c.clock.until(
      () => others.every((f) => f.state.log.lastIndex === last + 1),
      1_000,
      'the followers appending the entry while the leader’s write is held',
    );
    // Durable on both followers, a majority without the leader's disk: committed, applied and
    // answered while the leader's own write is still held.
    const r = await result;
    expect(r).toEqual({ ok: true, value: null });
    expect(leader.state.commitIndex).toBe(last + 1);
    expect(leader.state.role === 'leader' && leader.state.lead.persisted).toBeLessThan(last + 1);
    expect(leader.status().stats.appendsReported).toBe(reportedBefore);
    expect(leader.status().stats.batchesAheadOfWrite).toBeGreaterThan(0);
    gate.release();
    await c.clock.until(
      () => leader.status().stats.appendsReported > reportedBefore,
      1_000,
      'the leader’s write landing and being reported',
    );
    expect(leader.state.role === 'leader' && leader.state.lead.persisted).toBe(last + 1);
    expect(leader.status().stats.concurrentBatches).toBeGreaterThan(0);
    // Only a leader is told of its writes: a follower would ignore the report.
    for (const f of others) expect(f.status().stats.appendsReported).toBe(0);
    expect(c.agreement.violations).toEqual([]);
  });

  test('a leader that answered before its own write landed, then crashed and lost that write: the entry survives', async () => {
    const { leader, gate, others } = await cluster(undefined);
    const last = leader.state.log.lastIndex;
    gate.hold();
    expect(await c.clock.settled(leader.propose(set('k', 'v')), 60_000)).toEqual({ ok: true, value: null });
    // The crash: the held write never reaches the disk.
    const crashed = leader.id;
    const stopped = c.stop(crashed);
    gate.lose();
    await stopped;
    const restarted = await c.start(crashed);
    expect(restarted.state.log.lastIndex).toBe(last); // the entry is not on its disk
    // The two followers hold it, elect one of themselves (the restarted node's log is behind), and
    // bring the restarted node up to date.
    await c.clock.until(
      () => others.some((f) => f.state.role === 'leader') && restarted.state.log.lastIndex > last,
      10_000,
      'a new leader among the followers, and the restarted node caught up',
    );
    await c.clock.until(() => c.node(crashed).machine.query('k') === 'v', 10_000, 'the restarted node applying k');
    for (const f of others) expect(f.state.log.lastIndex).toBeGreaterThanOrEqual(last + 1);
    expect(c.agreement.violations).toEqual([]);
  });

  test('while the leader’s write is held, a batch that writes waits for it', async () => {
    const { leader, gate, others } = await cluster(undefined);
    const last = leader.state.log.lastIndex;
    gate.hold();
    const first = c.clock.settled(leader.propose(set('a', '1')), 60_000);
    expect(await first).toEqual({ ok: true, value: null });
    // A second proposal appends (a write): it waits behind the held write, so nothing of it leaves.
    const second = c.clock.settled(leader.propose(set('b', '2')), 60_000);
    await c.clock.advance(200);
    expect(leader.state.log.lastIndex).toBe(last + 2);
    for (const f of others) expect(f.state.log.lastIndex).toBe(last + 1);
    gate.release();
    expect(await second).toEqual({ ok: true, value: null });
    for (const f of others) expect(f.state.log.lastIndex).toBe(last + 2);
    expect(c.agreement.violations).toEqual([]);
  });

  test('turned off: nothing leaves the leader before its write is durable', async () => {
    const { leader, gate, others } = await cluster(false);
    expect(leader.state.options.concurrentLeaderWrites).toBe(false);
    const last = leader.state.log.lastIndex;
    gate.hold();
    const result = c.clock.settled(leader.propose(set('k', 'v')), 60_000);
    // (Less than a follower's election timeout: a leader whose batches wait on its disk sends no
    // heartbeats either, and its followers would elect another leader.)
    await c.clock.advance(300);
    for (const f of others) expect(f.state.log.lastIndex).toBe(last);
    gate.release();
    expect(await result).toEqual({ ok: true, value: null });
    for (const f of others) expect(f.state.log.lastIndex).toBe(last + 1);
    expect(leader.status().stats.concurrentBatches).toBe(0);
    expect(leader.status().stats.batchesAheadOfWrite).toBe(0);
    expect(leader.status().stats.appendsReported).toBe(0);
  });

  test('a leader whose disk is slow still commits with its followers, and never before its write in a pair', async () => {
    // Two nodes: the leader's own copy is needed for a majority, so the commit waits for its report.
    c = new TestCluster({ seed: SEED });
    const leader = await c.form(['n1', 'n2']);
    await c.clock.resolve(leader.propose(set('warm', 'up')));
    const gate = new Gate();
    c.node(leader.id).storage.delay = gate.pass;
    const before = leader.status().commitIndex;
    gate.hold();
    const result = c.clock.settled(leader.propose(set('k', 'v')), 60_000);
    const follower = c.running().find((h) => h !== leader)!;
    await c.clock.until(() => follower.state.log.lastIndex === before + 1, 1_000, 'the follower appending');
    await c.clock.advance(200);
    expect(leader.status().commitIndex).toBe(before); // the follower alone is not a majority of two
    gate.release();
    expect(await result).toEqual({ ok: true, value: null });
    expect(leader.status().commitIndex).toBe(before + 1);
  });
});
