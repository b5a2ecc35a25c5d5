/**
 * The command line, with its I/O replaced: a run prints a summary in words and, with --json, one
 * final JSON line; replays verify and say so; time travel prints states; every bad input is one
 * line and exit 2, before any work. Sweeps run their seeds in-process here (the real command starts
 * worker threads on the compiled CLI; `npm run sim:sweep` and the package check exercise those).
 */
import { runCli as runCliAny, type CliIO, type JobSource, type SweepReply } from '../../src/sim/cli.js';
import { simulate, type Trace } from '../../src/sim/index.js';
import { DOCUMENTED_SUMMARY_KEYS } from '../support/sim-summary.js';

/** Sweep jobs run in-process, one after another (what the worker threads do, without threads). */
async function runInProcess(jobs: JobSource, _workers: number, onResult: (r: SweepReply) => void): Promise<void> {
  for (let job = jobs.next(); job !== null; job = jobs.next()) {
    const r = simulate(job.options);
    onResult({
      seed: job.seed,
      summary: r.summary,
      trace: r.violation === null ? null : `traces/sim-seed-${job.seed}.ndjson`,
    });
  }
  return Promise.resolve();
}

/** Paths the fake file system refuses, with the reason. */
const BAD_PATHS = new Map([
  ['', 'the path is empty'],
  ['some-folder', 'is a folder, not a file'],
  ['a-file/run.ndjson', '/x/a-file is a file, not a folder'],
]);

function fakeIO(
  tty = false,
  files = new Map<string, Trace>(),
): CliIO & { text: () => string; errors: () => string; files: Map<string, Trace> } {
  let out = '';
  let err = '';
  let clock = 0;
  return {
    checkTracePath: (f) => BAD_PATHS.get(f) ?? null,
    checkTraceDir: (d) => (d === 'a-file' ? '/x/a-file is a file, not a folder' : null),
    runJobs: runInProcess,
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
    expect(replay.text()).toMatch(
      /every state matches the recording \(\d+ fingerprints compared; the hash chain over every line of the file holds\)/,
    );
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
    expect(runCli(['--replay', 't.ndjson', '--at', '500', '--node', 'n3'], io)).toBe(0);
    const lines = io.text().trimEnd().split('\n');
    expect(lines[0]).toMatch(/^after event 500 \(t=\d+ ms, /);
    expect(lines[1]).toMatch(/^n3: \{"id":"n3"/);
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
      expect(io.errors()).toMatch(/^error: .* \(see --help\)\n$/);
    }
    const io = fakeIO();
    expect(runCli(['--replay', 'missing.ndjson'], io)).toBe(2);
    expect(io.errors()).toContain('cannot read missing.ndjson');
    const help = fakeIO();
    expect(runCli(['--help'], help)).toBe(0);
    expect(help.text()).toContain('npm run sim:sweep');
  });
});

/** A sweep's exit status. */
async function sweep(argv: readonly string[], io: CliIO): Promise<number> {
  return await runCliAny(argv, io);
}

describe('bad input: one line naming the problem, exit 2, before any work', () => {
  test.each([
    [['--seeds', '5', '--trace', 'x.ndjson'], '--trace does not apply to a sweep (only to a single run)'],
    [['--replay', 'f.ndjson', '--seed', '3'], '--seed does not apply to --replay (only to a single run)'],
    [['--at', '5'], '--at does not apply to a single run (only to --replay)'],
    [['--seed', '1', '--workers', '2'], '--workers does not apply to a single run (only to a sweep)'],
    [['--replay', 'f.ndjson', '--node', 'n1'], '--node needs --at'],
    [
      ['--sweep', '--from', '9007199254740991', '--seeds', '2'],
      '--from 9007199254740991 with --seeds 2 goes past the largest seed, 9007199254740991',
    ],
    [['--sweep', '--from', '-1'], '--from must be 0 or more'],
    [['--sweep', '--workers', '0'], '--workers must be 1-64'],
    [['--sweep', '--nodes', 'x'], '--nodes must be 1-9, or a range A-B within 1-9'],
    [['--sweep', '--traces', 'a-file'], '--traces "a-file": /x/a-file is a file, not a folder'],
    [
      ['--sweep', '--mutant', 'nope'],
      'unknown mutant "nope" (known: votesWithoutLogCheck, commitsOnAMinority, winsWithOneVote, believesStaleReplies, ' +
        'readBeforeRound, preVoteWhileLeaderAlive, countsOwnWriteAtOnce)',
    ],
    [['--features', 'some'], 'unknown features "some" (known: all, none, lease)'],
    [['--sweep', '--features', 'fast'], 'unknown features "fast" (known: all, none, lease)'],
    [
      ['--replay', 'f.ndjson', '--features', 'all'],
      '--features does not apply to --replay (only to a single run and a sweep)',
    ],
    [['--trace', ''], '--trace "": the path is empty'],
    [['--trace', 'some-folder'], '--trace "some-folder": is a folder, not a file'],
    [['--trace', 'a-file/run.ndjson'], '--trace "a-file/run.ndjson": /x/a-file is a file, not a folder'],
  ])('%j', async (argv, message) => {
    const io = fakeIO();
    expect(await runCliAny(argv, io)).toBe(2);
    expect(io.errors()).toBe(`error: ${message} (see --help)\n`);
    expect(io.text()).toBe(''); // nothing ran
    expect(io.files.size).toBe(0);
  });

  test('a sweep of a hundred million seeds makes its jobs one at a time', async () => {
    const io = fakeIO();
    const seen: number[] = [];
    io.runJobs = (jobs, _w, onResult) => {
      expect(jobs.total).toBe(100_000_000);
      for (let k = 0; k < 2; k++) {
        const job = jobs.next()!;
        seen.push(job.seed);
        onResult({ seed: job.seed, summary: simulate({ ...job.options, steps: 200 }).summary, trace: null });
      }
      return Promise.resolve();
    };
    expect(await sweep(['--sweep', '--seeds', '100000000', '--from', '7'], io)).toBe(0);
    expect(seen).toEqual([7, 8]);
  });

  test('--replay --at over a trace that cannot be replayed: one line, exit 2', () => {
    const trace = simulate({ seed: 6, steps: 600 }).trace!;
    const broken: Trace = {
      ...trace,
      events: trace.events.map((e, i) =>
        i === 3 ? { n: e.n, t: e.t, node: e.node, restart: { id: e.node, term: -1 } as never } : e,
      ),
    };
    const io = fakeIO(false, new Map([['b.ndjson', broken]]));
    expect(runCli(['--replay', 'b.ndjson', '--at', '500'], io)).toBe(2);
    expect(io.errors()).toMatch(/^error: b\.ndjson cannot be replayed up to event 500: restartNode: term must be/);
    expect(io.errors().trimEnd().split('\n')).toHaveLength(1);
  });
});

describe('npm run sim:sweep (seeds run in-process here)', () => {
  test('--mutant applies to a sweep: its violations are found and the sweep fails', async () => {
    const io = fakeIO();
    const status = await sweep(
      ['--sweep', '--seeds', '6', '--steps', '3000', '--mutant', 'believesStaleReplies', '--json'],
      io,
    );
    expect(status).toBe(1);
    expect(io.text()).toContain('every node running the mutant believesStaleReplies');
    const json = JSON.parse(io.text().trimEnd().split('\n').pop()!) as { violations: number; seeds: number };
    expect(json.seeds).toBe(6);
    expect(json.violations).toBeGreaterThan(0);
  });

  test('a clean sweep exits 0; off a terminal, progress comes as a line every few seconds', async () => {
    const io = fakeIO();
    expect(await sweep(['--sweep', '--seeds', '60', '--steps', '300', '--nodes', '3'], io)).toBe(0);
    expect(io.text()).toMatch(/^progress: +\d+% \d+\/60 seeds, 0 failing, about .+ left$/m);
    expect(io.text()).toMatch(/^sweep: 60 seeds \(1\.\.60\), 3 nodes, 300 steps/m);
    expect(io.text()).not.toContain('\r');
  });

  test('on a terminal the bar shows the time left and is cleared before the summary', async () => {
    const io = fakeIO(true);
    expect(await sweep(['--sweep', '--seeds', '30', '--steps', '300', '--nodes', '3'], io)).toBe(0);
    expect(io.text()).toMatch(/\r\[#*-*\] +\d+% \d+\/30 seeds, 0 failing, about \d+ (s|min) left/);
    expect(io.text()).toContain('\r\x1b[Ksweep: 30 seeds');
  });
});

describe('--features', () => {
  test('a run with lease reads: the JSON line carries the features and the read counts; its trace replays', () => {
    const io = fakeIO();
    const status = runCli(
      ['--seed', '3', '--steps', '2500', '--features', 'lease', '--trace', 'l.ndjson', '--json'],
      io,
    );
    expect(status).toBe(0);
    expect(io.text()).toContain('protocol extensions: lease');
    expect(io.text()).toMatch(/reads: \d+ reads issued, \d+ answered and checked against the committed history/);
    const json = JSON.parse(io.text().trimEnd().split('\n').pop()!) as Record<string, unknown>;
    expect(json).toMatchObject({ features: 'lease', violations: 0 });
    for (const k of ['reads', 'readsChecked', 'preVotes', 'transfers', 'checkQuorumStepDowns']) {
      expect(typeof json[k]).toBe('number');
    }
    expect(json.readsChecked as number).toBeGreaterThan(0);
    // The header carries the features; the node options (lease reads on) are in each start event.
    const trace = io.files.get('l.ndjson')!;
    expect(trace.header.options?.features).toBe('lease');
    const start = trace.events.find((e) => 'start' in e) as { options?: { leaseReads?: boolean } };
    expect(start.options?.leaseReads).toBe(true);
    const replay = fakeIO(false, io.files);
    expect(runCli(['--replay', 'l.ndjson'], replay)).toBe(0);
    expect(replay.text()).toContain('every state matches the recording');
  });

  test('none: the base protocol, no reads and no transfers', () => {
    const io = fakeIO();
    expect(runCli(['--seed', '3', '--steps', '1500', '--features', 'none', '--json'], io)).toBe(0);
    const json = JSON.parse(io.text().trimEnd().split('\n').pop()!) as Record<string, number>;
    expect(json).toMatchObject({ features: 'none', reads: 0, transferRequests: 0, preVotes: 0 });
    expect(io.text()).not.toContain('reads issued');
  });

  test('a sweep takes --features and adds up the reads', async () => {
    const io = fakeIO();
    expect(await sweep(['--sweep', '--seeds', '4', '--steps', '1500', '--features', 'lease', '--json'], io)).toBe(0);
    expect(io.text()).toMatch(/features lease: 0 with a violation/);
    expect(io.text()).toMatch(/reads: \d+ issued, \d+ answered and checked/);
    const json = JSON.parse(io.text().trimEnd().split('\n').pop()!) as { totals: Record<string, number> };
    expect(json.totals.reads).toBeGreaterThan(0);
    expect(json.totals.readsChecked).toBeGreaterThan(0);
  });

  test('--help names the features and the new faults', () => {
    const io = fakeIO();
    expect(runCli(['--help'], io)).toBe(0);
    for (const word of ['--features F', 'lease', 'slow', 'skew', 'transfer', 'readBeforeRound']) {
      expect(io.text()).toContain(word);
    }
  });
});
