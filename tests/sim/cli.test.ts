/**
 * The command line, with its I/O replaced: a run prints a summary in words and, with --json, one
 * final JSON line; replays verify and say so; time travel prints states; usage errors exit with 2.
 * (The sweep starts worker threads on the compiled CLI; `npm run sim:sweep` exercises it.)
 */
import { runCli as runCliAny, type CliIO } from '../../src/sim/cli.js';
import { simulate, type Trace } from '../../src/sim/index.js';
import { DOCUMENTED_SUMMARY_KEYS } from '../support/sim-summary.js';

function fakeIO(
  tty = false,
  files = new Map<string, Trace>(),
): CliIO & { text: () => string; errors: () => string; files: Map<string, Trace> } {
  let out = '';
  let err = '';
  let clock = 0;
  return {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    tty,
    now: () => (clock += 100),
    readTrace: (f) => {
      const t = files.get(f);
      if (t === undefined) throw new Error('no such file');
      return t;
    },
    writeTrace: (f, t) => void files.set(f, t),
    text: () => out,
    errors: () => err,
    files,
  };
}

/** The CLI's exit status (only a sweep answers with a promise). */
function runCli(argv: readonly string[], io: CliIO): number {
  const status = runCliAny(argv, io);
  if (typeof status !== 'number') throw new Error('expected a synchronous command');
  return status;
}

describe('npm run sim', () => {
  test('a run: summary in words, then one JSON line with the documented keys; exit 0', () => {
    const io = fakeIO();
    const status = runCli(['--seed', '5', '--nodes', '3', '--steps', '2000', '--faults', 'drop,crash', '--json'], io);
    expect(status).toBe(0);
    const lines = io.text().trimEnd().split('\n');
    expect(lines[0]).toContain('seed 5: 3 nodes');
    expect(io.text()).toContain('no invariant violated');
    const json = JSON.parse(lines[lines.length - 1]!) as Record<string, unknown>;
    for (const k of DOCUMENTED_SUMMARY_KEYS) expect(json).toHaveProperty(k);
    expect(json).toMatchObject({ seed: 5, nodes: 3, steps: 2000, violations: 0, faults: 'drop,crash', duplicates: 0 });
    expect(io.text()).not.toContain('\r'); // no progress bar when stdout is not a terminal
  });

  test('the same run gives the same numbers (only wall time differs)', () => {
    const a = fakeIO();
    const b = fakeIO();
    runCli(['--seed', '9', '--steps', '1500', '--json'], a);
    runCli(['--seed=9', '--steps=1500', '--json'], b);
    const last = (t: string): string => t.trimEnd().split('\n').pop()!;
    expect(last(a.text())).toBe(last(b.text()));
  });

  test('on a terminal a progress bar is drawn, then cleared', () => {
    const io = fakeIO(true);
    runCli(['--seed', '2', '--steps', '3000'], io);
    expect(io.text()).toMatch(/\r\[#+-*\] +\d+%/);
    expect(io.text()).toContain('\r\x1b[K');
  });

  test('--trace writes the trace, and --replay verifies it', () => {
    const io = fakeIO();
    expect(runCli(['--seed', '4', '--steps', '1500', '--trace', 'out.ndjson'], io)).toBe(0);
    expect(io.text()).toContain('trace written to out.ndjson');
    expect(io.files.has('out.ndjson')).toBe(true);
    const replay = fakeIO(false, io.files);
    expect(runCli(['--replay', 'out.ndjson'], replay)).toBe(0);
    expect(replay.text()).toMatch(/replayed \d+ events of \d+ nodes \(seed 4, 5 nodes/);
    expect(replay.text()).toMatch(/every state matches the recording \(\d+ fingerprints compared\)/);
  });

  test('--replay of a trace that does not match says so and exits 1', () => {
    const trace = simulate({ seed: 6, steps: 1000 }).trace!;
    const bad: Trace = { ...trace, checks: trace.checks.map((c, i) => (i === 3 ? { ...c, hash: '00000000' } : c)) };
    const io = fakeIO(false, new Map([['bad.ndjson', bad]]));
    expect(runCli(['--replay', 'bad.ndjson'], io)).toBe(1);
    expect(io.text()).toContain('1 of');
    expect(io.text()).toContain('DIFFER');
  });

  test('--replay --at N prints the states after event N (time travel)', () => {
    const trace = simulate({ seed: 6, steps: 1000 }).trace!;
    const io = fakeIO(false, new Map([['t.ndjson', trace]]));
    expect(runCli(['--replay', 't.ndjson', '--at', '500', '--node', 'n2'], io)).toBe(0);
    const lines = io.text().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^after event 500 \(t=\d+ ms, /);
    expect(lines[1]).toMatch(/^n2: \{"id":"n2"/);
  });

  test('a violation: exit 1, the trace is written, and it replays with the same (broken) step', () => {
    const io = fakeIO();
    const status = runCli(['--seed', '1', '--steps', '3000', '--mutant', 'believesStaleReplies', '--json'], io);
    expect(status).toBe(1);
    expect(io.text()).toContain('every node runs the mutant believesStaleReplies');
    expect(io.text()).toContain('VIOLATION: matchIndexMonotonic violated at event');
    expect(io.text()).toContain('trace written to traces/sim-seed-1.ndjson');
    expect(io.text()).toContain('replay it with: npm run sim -- --replay traces/sim-seed-1.ndjson');
    const json = JSON.parse(io.text().trimEnd().split('\n').pop()!) as {
      violations: number;
      violation: { invariant: string };
    };
    expect(json.violations).toBe(1);
    expect(json.violation.invariant).toBe('matchIndexMonotonic');
    const replay = fakeIO(false, io.files);
    expect(runCli(['--replay', 'traces/sim-seed-1.ndjson'], replay)).toBe(0);
    expect(replay.text()).toContain('every state matches the recording');
    expect(replay.text()).toContain('the recorded run ended with: matchIndexMonotonic violated');
  });

  test('usage errors exit with 2 and print the usage', () => {
    for (const argv of [
      ['--nodes', '12'],
      ['--faults', 'meteor'],
      ['--bogus'],
      ['stray'],
      ['--seed', 'x'],
      ['--mutant', 'x'],
    ]) {
      const io = fakeIO();
      expect(runCli(argv, io)).toBe(2);
      expect(io.errors()).toContain('error:');
      expect(io.errors()).toContain('npm run sim');
    }
    const io = fakeIO();
    expect(runCli(['--replay', 'missing.ndjson'], io)).toBe(2);
    expect(io.errors()).toContain('cannot read missing.ndjson');
    const help = fakeIO();
    expect(runCli(['--help'], help)).toBe(0);
    expect(help.text()).toContain('npm run sim:sweep');
  });
});
