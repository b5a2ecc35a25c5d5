/**
 * The kv commands' flags (examples/kv/topology.ts): each command names the flags it takes, and a
 * command line it cannot run is a UsageError before anything starts.
 */
import { UsageError, boolFlag, intFlag, parseFlags, stringFlag, type FlagSpec } from '../../examples/kv/topology.js';

const SPEC: FlagSpec = { nodes: 'value', 'data-dir': 'value', keep: 'switch' };

test('value flags take the next argument or an = value; switches take none', () => {
  const f = parseFlags(['--nodes', '5', '--keep', 'put', '--data-dir=/tmp/x', 'k'], SPEC);
  expect(intFlag(f, 'nodes', 3, 1)).toBe(5);
  expect(stringFlag(f, 'data-dir', '')).toBe('/tmp/x');
  expect(boolFlag(f, 'keep')).toBe(true);
  // The argument after a switch stays positional.
  expect(f.positional).toEqual(['put', 'k']);
  expect(boolFlag(parseFlags(['--keep=false'], SPEC), 'keep')).toBe(false);
  expect(intFlag(parseFlags([], SPEC), 'nodes', 3, 1)).toBe(3);
});

test('an unknown flag, a missing value, a valued switch and a bad integer are usage errors naming the flag', () => {
  const refused = (argv: string[], message: RegExp): void => {
    let error: unknown;
    try {
      intFlag(parseFlags(argv, SPEC), 'nodes', 3, 1);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toMatch(message);
  };
  refused(['--node', '5'], /unknown flag --node \(this tool takes --nodes, --data-dir, --keep\)/);
  refused(['--help'], /unknown flag --help/);
  refused(['--nodes'], /--nodes needs a value/);
  refused(['--nodes', '--keep'], /--nodes needs a value/);
  refused(['--keep=maybe'], /--keep is a switch/);
  refused(['--nodes', 'x'], /--nodes must be an integer >= 1, not x/);
  refused(['--nodes', '0'], /--nodes must be an integer >= 1, not 0/);
  refused(['--toString'], /unknown flag --toString/);
});
