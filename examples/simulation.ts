/**
 * A simulated five-node raftstep cluster under every fault the simulator knows — lost, duplicated
 * and reordered messages, partitions (symmetric and one-way), crashes with slow storage, snapshots,
 * and membership changes — told in plain words as it happens. Every Raft invariant is checked after
 * every event; at the end the faults stop and a leader must commit a new proposal. The run's trace
 * is written so that it can be replayed and inspected.
 *
 * Run: npm run build:examples && node build/examples/simulation.js [seed]
 */
import { mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Simulation, describeSummary, normalizeOptions, type Happening } from '../src/sim/index.js';
import { writeTraceFile } from '../src/sim/trace-file.js';

const seed = Number(process.argv[2] ?? 2024);
if (!Number.isSafeInteger(seed)) {
  console.error('usage: node build/examples/simulation.js [seed]');
  process.exit(2);
}

const options = normalizeOptions({ seed, nodes: 5, steps: 6000, faults: 'all' });

const MARK: Record<Happening['kind'], string> = {
  leader: '★',
  crash: '✗',
  restart: '↻',
  shutdown: '⏻',
  partition: '✂',
  heal: '∿',
  compaction: '▣',
  snapshot: '⇩',
  membership: '±',
  config: '✓',
  liveness: '♥',
};

console.log(`A five-node raftstep cluster under all faults (seed ${seed}); times are virtual seconds.`);
const LEGEND: Record<Happening['kind'], string> = {
  leader: 'a leader elected',
  crash: 'a crash',
  restart: 'a restart from durable state',
  shutdown: 'a removed node shut down',
  partition: 'a network partition',
  heal: 'a partition healed',
  compaction: 'a local snapshot',
  snapshot: 'a snapshot installed from the leader',
  membership: 'a membership change proposed',
  config: 'a configuration committed',
  liveness: 'the liveness check passed',
};
console.log(
  `Legend: ${(Object.keys(MARK) as Array<Happening['kind']>).map((k) => `${MARK[k]} ${LEGEND[k]}`).join(', ')}.\n`,
);

let lastCommits = 0;
const sim = new Simulation(options, {
  onHappening(h) {
    // Say how far the cluster got every time a leader is elected.
    const commits = sim.world.stats.commits;
    const progress = h.kind === 'leader' && commits > lastCommits ? `   [${commits} commands committed so far]` : '';
    if (h.kind === 'leader') lastCommits = commits;
    console.log(`${(h.time / 1000).toFixed(3).padStart(8)} s  ${MARK[h.kind]} ${h.text}${progress}`);
  },
});
const result = sim.run();

console.log('\nIn numbers:');
console.log(describeSummary(result.summary));

// Keep the trace: under traces/ (gitignored) when possible, else in the OS temp directory.
let file = join('traces', `simulation-seed-${seed}.ndjson`);
try {
  mkdirSync('traces', { recursive: true });
} catch {
  file = join(tmpdir(), `raftstep-simulation-seed-${seed}.ndjson`);
}
writeTraceFile(file, result.trace!);
console.log(`\nThe trace (${result.trace!.events.length} events, every step of every node) is in ${file}.`);
console.log(`Replay and verify it:      npm run sim -- --replay ${file}`);
console.log(`See every node at event N: npm run sim -- --replay ${file} --at N`);
console.log(`Look at it in a browser:   npm run debugger -- ${file}`);

if (result.violation !== null) process.exitCode = 1;
