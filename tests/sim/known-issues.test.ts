/**
 * Issues the simulator found in raftstep, kept as regression tests.
 */
import { latestConfig, toJointConsensus } from '../../src/index.js';
import { World, awaitLiveness } from '../../src/sim/index.js';

/**
 * Liveness: a leader that removes itself from a two-voter cluster could deadlock it (fixed: a voter
 * removed by a not-yet-committed change still campaigns, election.ts).
 *
 * n1 leads {n1, n2} and proposes to remove itself. The joint configuration ({n1, n2} -> {n2})
 * commits and n1 appends the final configuration {n2}, durably; the AppendEntries carrying it is
 * lost, and n1 crashes. Now:
 * - n1 restarts with {n2} as its latest configuration: not a voter there, it never campaigns
 *   (election.ts then: "nodes outside the configuration never campaign");
 * - n2 still has the joint configuration: it needs a majority of {n1, n2}, so n1's vote; n1 refuses
 *   it, because n1's log (with the final configuration) is more up to date.
 * Under that rule no leader is ever elected, on a perfect network. The Raft thesis (§4.2.2) says a server that is
 * not part of its latest configuration "should still start new elections, as it might still be
 * needed until the Cnew entry is committed" (not counting its own vote).
 *
 * Full simulations find it too: `npm run sim -- --seed 110 --nodes 1 --steps 6000`.
 */
test('a leader that removed itself and crashed before its followers got the final configuration: no leader ever', () => {
  const w = new World({ seed: 1, mode: 'manual', timing: { storageMin: 1, storageMax: 1 }, record: false });
  const settle = (): void => {
    for (let i = 0; i < 200; i++) {
      w.advance(1);
      while (w.inFlight.length > 0) w.deliverInFlight(0);
    }
  };
  w.bootstrap(['n1', 'n2']);
  settle();
  expect(w.leader()?.id).toBe('n1');
  w.stepNode('n1', {
    type: 'proposeConfig',
    config: toJointConsensus(latestConfig(w.node('n1')!.state!), [], ['n1']),
  });
  // Deliver until the joint configuration commits and n1 appends the final one.
  while (w.node('n1')!.state!.log.configs.length < 3) {
    w.advance(1);
    if (w.inFlight.length > 0) w.deliverInFlight(0);
  }
  w.advance(1); // n1's write of the final configuration becomes durable ...
  w.inFlight.splice(0); // ... and the message carrying it is lost
  w.crash('n1');
  w.restart('n1');
  expect(latestConfig(w.node('n1')!.state!).voters).toEqual(['n2']);
  expect(latestConfig(w.node('n2')!.state!).newVoters).toEqual(['n2']);
  // The network is perfect from now on; a leader must commit a new proposal within a minute.
  awaitLiveness(w, 60_000);
});
