/**
 * Seeded sweep, part 3 of 3: lease reads (`features: 'lease'`). Seeds 1..100 with every fault —
 * clock skew within the bound a lease tolerates (`leaseSkewBound`: each node's timers within ±20 %
 * of real time with the default timing), leadership transfers, slow followers — and leaders
 * answering reads at once while their lease holds; every answer is checked against the committed
 * history (a read must see every write committed before it was issued).
 */
import { ciSweep, expectCleanAndCovered, report } from './sweep-helpers';

test('seeds 1..100 with lease reads under all faults: no stale read, no violation', () => {
  const totals = ciSweep(1, 100, { features: 'lease' });
  report('lease', totals);
  expectCleanAndCovered(totals, 100, 'lease');
  expect(totals.sums.skewedNodes ?? 0).toBeGreaterThan(100);
  expect(totals.sums.maxSkew ?? 0).toBeGreaterThan(0);
});
