/**
 * Membership changes through `createHost` (virtual time, seeded): a new node added as a non-voter
 * after the log was compacted (it catches up through a snapshot), promoted to voter, and the leader
 * removed, all while proposals keep coming; and the refusals (not leader, a change in progress).
 */
import type { HostError } from '../../src/host/errors.js';
import { BASE_SEED } from '../support/seed.js';
import { TestCluster, printSeed, set, type KvHost } from './support-host.js';

const SEED = BASE_SEED;
printSeed('host-membership', SEED);

describe('createHost membership changes', () => {
  let c: TestCluster;
  afterEach(async () => {
    await c.stopAll();
  });

  test('add a non-voter (caught up by snapshot), promote it, remove the leader, while serving', async () => {
    c = new TestCluster({ seed: SEED, hostOptions: { snapshot: { everyEntries: 10 } } });
    let leader = await c.form(['n1', 'n2', 'n3']);
    for (let i = 0; i < 30; i++) await c.clock.resolve(leader.propose(set(`k${i}`, String(i))));
    expect(leader.status().snapshotIndex).toBeGreaterThan(0);

    const writes: Promise<unknown>[] = [];
    let n = 0;
    /** Proposals that keep coming while the membership changes (some may be refused or overwritten). */
    const traffic = (): void => {
      for (let k = 0; k < 3; k++) {
        const l = c.leader();
        if (l !== undefined)
          writes.push(
            l.propose(set(`t${n}`, String(n++))).then(
              (r) => r,
              () => undefined,
            ),
          );
      }
    };

    const n4 = await c.start('n4'); // fresh: no configuration, learns everything from the leader
    traffic();
    const added = await c.clock.resolve(leader.changeMembership({ addNonVoters: ['n4'] }));
    expect(added).toEqual({ voters: ['n1', 'n2', 'n3'], newVoters: [], nonVoters: ['n4'] });
    traffic();
    await c.appliedEverywhere(leader.status().commitIndex, ['n4']);
    expect(n4.status().stats.snapshots.snapshotsInstalled).toBeGreaterThanOrEqual(1);
    expect(n4.status().members.nonVoters).toEqual(['n4']);

    const promoted = await c.clock.resolve(leader.changeMembership({ addVoters: ['n4'] }));
    expect(promoted).toEqual({ voters: ['n1', 'n2', 'n3', 'n4'], newVoters: [], nonVoters: [] });
    traffic();

    const removed = leader.id;
    const rest = ['n1', 'n2', 'n3', 'n4'].filter((id) => id !== removed);
    const final = await c.clock.resolve(leader.changeMembership({ removeVoters: [removed] }));
    expect(final.voters).toEqual(rest);
    await c.clock.until(() => c.node(removed).host!.state.role !== 'leader', 5_000, 'the removed leader stepping down');
    await c.stop(removed);
    leader = await c.stableLeader(20_000, rest);
    traffic();
    expect(await c.clock.resolve(leader.propose(set('k0', 'final')))).toBe('0');
    await c.clock.resolve(Promise.all(writes));
    await c.appliedEverywhere(leader.status().commitIndex, rest);
    const dumps = rest.map((id) => c.node(id).machine.dump());
    expect(new Set(dumps).size).toBe(1);
    for (const id of rest) expect(c.host(id).status().members.voters).toEqual(rest);
  });

  test('refusals: not on a follower, not while another change is in progress', async () => {
    c = new TestCluster({ seed: SEED });
    const leader = await c.form(['n1', 'n2', 'n3']);
    const follower: KvHost = c.running().find((h) => h !== leader)!;
    const r1 = await c.clock.settled(follower.changeMembership({ addNonVoters: ['n9'] }));
    expect((r1 as { error: HostError }).error.code).toBe('notLeader');
    expect((r1 as { error: HostError }).error.leaderHint).toBe(leader.id);
    // n4 never starts, but n1..n3 are a majority of the four new voters: the change completes.
    const first = leader.changeMembership({ addVoters: ['n4'] });
    const r2 = await c.clock.settled(leader.changeMembership({ addNonVoters: ['n5'] }));
    expect((r2 as { error: HostError }).error.reason).toBe('changeInProgress');
    expect((await c.clock.resolve(first)).voters).toEqual(['n1', 'n2', 'n3', 'n4']);
    const r3 = await c.clock.settled(leader.changeMembership({ removeVoters: ['n1', 'n2', 'n3', 'n4'] }));
    expect((r3 as { error: Error }).error).toBeInstanceOf(RangeError);
    // Leaving n4 alone, which is down: the joint phase cannot commit, the promise waits until the stop.
    const stuck = leader.changeMembership({ removeVoters: ['n1', 'n2', 'n3'] });
    await c.clock.advance(1_000);
    await c.stop(leader.id);
    const r4 = await c.clock.settled(stuck);
    expect((r4 as { error: HostError }).error.code).toBe('stopped');
  });
});
