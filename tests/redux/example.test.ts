/**
 * examples/redux.ts runs its stores with RTK's dev checks on (serializable and immutable): the whole
 * example, both runs, must finish without a single warning or error printed.
 */
import { main } from '../../examples/redux.js';

test('the Redux example runs to the end with RTK’s dev checks on and prints no warning', async () => {
  const printed: unknown[][] = [];
  const warn = jest.spyOn(console, 'warn').mockImplementation((...a: unknown[]) => void printed.push(['warn', ...a]));
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
