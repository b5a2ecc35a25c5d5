/**
 * Seeded sweep, part 2 of 3: seeds 101..200, as part 1 (every fault, every protocol extension).
 */
import { ciSweep, expectCleanAndCovered, report } from './sweep-helpers';

test('seeds 101..200 with all faults and features: no violation, every fault exercised', () => {
  const totals = ciSweep(101, 200);
  report('part 2', totals);
  expectCleanAndCovered(totals, 100);
});
