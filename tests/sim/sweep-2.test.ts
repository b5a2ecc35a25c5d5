/**
 * Seeded sweep, part 2 of 2: seeds 101..200 with every fault (drop, dup, reorder, partition,
 * crash, snapshot, membership), every invariant checked after every event, liveness at the end of
 * each run. (Split in two files so that jest runs the halves on both cores.)
 */
import { ciSweep, expectCleanAndCovered, report } from './sweep-helpers';

test('seeds 101..200 with all faults: no violation, every fault exercised', () => {
  const totals = ciSweep(101, 200);
  report('part 2', totals);
  expectCleanAndCovered(totals, 100);
});
