/**
 * Issues the simulator found in raftstep, kept as regression tests.
 */
import { latestConfig, toJointConsensus, validateEvent, type Message } from '../../src/index.js';
import { DEFAULT_TIMING, SimViolation, World, awaitLiveness, nodeOptionsFor } from '../../src/sim/index.js';

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

/** A manual world of three nodes whose storage takes 1 ms, and a way to let it settle. */
function manualWorld(): { w: World; settle: (dropSnapshots?: boolean) => void } {
  const w = new World({ seed: 1, mode: 'manual', timing: { storageMin: 1, storageMax: 1 }, record: false });
  const settle = (dropSnapshots = false): void => {
    for (let i = 0; i < 50; i++) {
      w.advance(1);
      while (w.inFlight.length > 0) {
        if (dropSnapshots && w.inFlight[0]!.snapshot !== null) w.dropInFlight(0);
        else w.deliverInFlight(0);
      }
    }
  };
  return { w, settle };
}

/**
 * A core bug the simulator found (fixed: transfer.ts sends a snapshot to a target behind it, and
 * `containsPosition` no longer holds a position of term -1): a
 * leadership transfer to a follower whose match index lies behind the leader's snapshot sends that
 * follower an AppendEntries anchored under the snapshot, at (prevTerm -1, match index): a message
 * no node accepts (`invalidEvent: entries.prevTerm must be an integer ...`). transfer.ts brings the
 * target up to date with `since(log, termAt(log, match), match)`; below the snapshot `termAt` is -1,
 * and `since` accepts the position (-1, match) because `termAt` answers -1 there too. The target
 * should get a snapshot (`installSnapshot`) instead, as `repairFollower` does.
 *
 * The sequence: n1 leads {n1, n2, n3}; n3 crashes; n1 commits five commands with n2 and compacts its
 * log (snapshot at 7); n3 restarts, answers n1's heartbeat with its log (ending at 2), and the
 * snapshot n1 sends it is lost; a read makes n1 send a leadership check, which n3 answers (so n1
 * heard from n3); n1's next tick counts what was in flight to n3 as lost (sent := match = 2). Then
 * `transferLeadership {to: n3}` on n1 sends n3 `appendEntries` with entries (prevTerm -1, prevIndex
 * 2, lastTerm 1, lastIndex 7). Simulations find it too, about once in 70 runs with every fault
 * (`npm run sim:sweep -- --seeds 200 --nodes 3-7 --steps 8000` finds seeds 3, 105 and 170).
 */
test('a transfer to a follower behind the snapshot sends it only well-formed messages', () => {
  const { w, settle } = manualWorld();
  w.bootstrap(['n1', 'n2', 'n3']);
  settle();
  expect(w.leader()?.id).toBe('n1');
  w.crash('n3');
  for (let i = 0; i < 5; i++) {
    w.propose('n1', 1);
    settle();
  }
  expect(w.compact('n1')).toBe(true);
  expect(w.node('n1')!.state!.log.prevIndex).toBe(7);
  w.restart('n3');
  w.fireTimer('n1'); // a heartbeat: n3 answers with a log behind n1's snapshot ...
  settle(true); // ... and the snapshot n1 sends it is lost
  w.read('n1'); // a leadership check, which n3 answers
  settle(true);
  w.fireTimer('n1'); // a tick: what was in flight to n3 counts as lost
  settle(true);
  const [, actions] = w.stepNode('n1', { type: 'transferLeadership', to: 'n3' });
  for (const a of actions) {
    if (a.type === 'send') expect(validateEvent(a.message as Message)).toBeNull();
  }
});

/** An automatic world of three nodes (no random faults) running the simulator's node options for `features`. */
function autoWorld(features: 'all' | 'lease'): World {
  const w = new World({
    seed: 1,
    faults: [],
    nodeOptions: nodeOptionsFor({ features, timing: DEFAULT_TIMING }),
    record: false,
  });
  w.bootstrap(['n1', 'n2', 'n3']);
  w.advance(200);
  expect(w.leader()?.id).toBe('n1');
  return w;
}

/**
 * Fixed (sends no longer re-arm the heartbeat timer with check-quorum or lease reads:
 * `sendsRearmHeartbeat`), kept as a regression test. Every append re-armed the leader's heartbeat
 * timer, and a tick is a firing of that timer: under a steady stream of proposals (one every 20 ms,
 * the heartbeat being 50 ms) the leader never ticked. A leader cut off from its majority then never
 * stepped down (check-quorum counts ticks), and with lease reads its lease never ran out: it answered
 * reads at its old commit index while the majority elected a new leader that committed more (the
 * simulator found stale reads in 7 of 40 runs with `--features lease`). Reads waiting for a lost
 * leadership check waited for a tick too (their p90 latency was 1.5 s of virtual time).
 */
test('a leader under steady load still ticks: cut off from its majority, it steps down and its lease ends', () => {
  for (const features of ['all', 'lease'] as const) {
    const w = autoWorld(features);
    w.cut(['n1'], ['n2', 'n3']);
    for (let t = 0; t < 2000; t += 20) {
      if (w.node('n1')!.state!.role === 'leader') w.propose('n1', 1);
      w.read('n1'); // answered at once only while a lease holds; checked against the committed history
      w.advance(20);
    }
    expect(w.node('n1')!.state!.role).not.toBe('leader');
    const leader = w.leader();
    expect(leader === null ? null : leader.id).not.toBe('n1');
  }
});

/**
 * Fixed (lease reads are not served while a transfer runs: `leaseHolds`), kept as a regression
 * test. The target of a transfer campaigns with `transfer: true`, and followers grant it their votes
 * even while they hear from the leader: it can win, and commit, before the old leader's lease ends.
 * Here n1 hands leadership to n2 and is cut off just after (it never hears of term 2); n2 wins with
 * n3's vote and commits its term start; a read on n1, whose lease still runs, must not be answered
 * with n1's old commit index (the read tracker would report a stale read).
 */
test('a leader handing leadership over serves no lease read its successor could contradict', () => {
  const w = autoWorld('lease');
  for (let i = 0; i < 3; i++) {
    w.propose('n1', 1);
    w.advance(30);
  }
  expect(w.transferLeadership('n1', 'n2')).toBeNull();
  while (w.node('n2')!.state!.role !== 'candidate') w.advance(1);
  w.cut(['n1'], ['n2', 'n3']);
  const n2 = w.node('n2')!;
  while (!(n2.state!.role === 'leader' && n2.state!.commitIndex === n2.state!.log.lastIndex)) w.advance(1);
  const n1 = w.node('n1')!.state!;
  expect(n1.role).toBe('leader');
  expect(n1.lead!.ticks).toBeLessThan(n1.lead!.leaseUntil); // the lease would still hold
  let outcome: ReturnType<World['read']> | null = null;
  expect(() => (outcome = w.read('n1'))).not.toThrow(SimViolation);
  expect(outcome!.status).not.toBe('answered');
});
