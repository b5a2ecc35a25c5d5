/**
 * Seeded sweep, part 1 of 3: seeds 1..100 with every fault (drop, dup, reorder, partition, crash,
 * snapshot, membership, slow, skew, transfer) and every protocol extension (`features: 'all'`:
 * pre-vote, check-quorum, flow control, reads through ReadIndex on leaders and followers), every
 * invariant checked after every event, every read answer checked against the committed history,
 * liveness and the reads in flight at the end of each run. (Split in files so that jest runs them
 * on both cores.)
 */
import { ciSweep, expectCleanAndCovered, report } from './sweep-helpers';

test('seeds 1..100 with all faults and features: no violation, every fault exercised', () => {
  const totals = ciSweep(1, 100);
  report('part 1', totals);
  expectCleanAndCovered(totals, 100);
});
