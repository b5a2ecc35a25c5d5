/**
 * examples/redux.ts runs its stores with RTK's dev checks on (serializable and immutable): the whole
 * example, both runs, must finish without a single warning or error printed — except RTK's notes
 * that a check took longer than its time budget (32 ms), which say how fast the machine is (under
 * coverage instrumentation on a busy machine the serializable check took 112 ms once), not that
 * anything in the store is wrong.
 */

/** RTK's "<check> took N ms, which is more than the warning threshold" note. */
const SLOW_CHECK = /^\w+ took \d+ms, which is more than the warning threshold of \d+ms\./;
import { main } from '../../examples/redux.js';

test('the Redux example runs to the end with RTK’s dev checks on and prints no warning', async () => {
  const printed: unknown[][] = [];
  const warn = jest.spyOn(console, 'warn').mockImplementation((...a: unknown[]) => {
    if (typeof a[0] === 'string' && SLOW_CHECK.test(a[0])) return;
    printed.push(['warn', ...a]);
  });
  const error = jest
    .spyOn(console, 'error')
    .mockImplementation((...a: unknown[]) => void printed.push(['error', ...a]));
  const out: string[] = [];
  const log = jest.spyOn(console, 'log').mockImplementation((...a: unknown[]) => void out.push(`${a.join(' ')}\n`));
  try {
    await main();
  } finally {
    warn.mockRestore();
    error.mockRestore();
    log.mockRestore();
  }
  expect(printed).toEqual([]);
  const text = out.join('');
  expect(text).toContain('Done.');
  expect(text.match(/replayed state equals the store's final state/g)).toHaveLength(2);
});
