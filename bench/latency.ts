/**
 * Latency of single `step` calls on the workload of `docs/benchmark.md` (batch 1): a proposal on the
 * leader, an AppendEntries call on a follower, an AppendEntries reply on the leader. Each call is
 * timed alone with `process.hrtime.bigint()`; the samples are taken after a warm-up on the same
 * cluster. Prints one JSON line per kind of step, percentiles in ns (timer overhead included; it is
 * reported too).
 *
 * Usage: node build/bench/latency.js <nodes> [rounds=100000] [warm-up rounds=100000]
 */
import * as raftstep from '../src/index.js';
import type { Message } from '../src/index.js';
import { percentiles } from './stats.js';
import { checkCounts, Cluster, expectedCounts } from './workload.js';

// Bound once (see the note in workload.ts).
const { step } = raftstep;

const PROPOSE = Object.freeze({ type: 'propose' as const });

/** Fixed-size sample buffers, so that recording allocates nothing. */
class Samples {
  readonly values: Float64Array;
  length = 0;
  constructor(capacity: number) {
    this.values = new Float64Array(capacity);
  }
  add(ns: number): void {
    if (this.length < this.values.length) this.values[this.length++] = ns;
  }
  sorted(): Float64Array {
    return this.values.slice(0, this.length).sort();
  }
}

/** The median cost of two back-to-back `process.hrtime.bigint()` calls, in ns. */
function timerOverhead(): number {
  const s = new Samples(100_000);
  for (let i = 0; i < s.values.length; i++) {
    const t0 = process.hrtime.bigint();
    const t1 = process.hrtime.bigint();
    s.add(Number(t1 - t0));
  }
  return percentiles(s.sorted()).p50;
}

function main(): void {
  const [k, roundsArg, warmArg] = process.argv.slice(2);
  const nodes = Number(k);
  const rounds = Number(roundsArg ?? 100_000);
  const warmRounds = Number(warmArg ?? 100_000);
  if (!(nodes >= 2 && rounds >= 1 && warmRounds >= 0)) throw new Error('latency: need nodes >= 2, rounds >= 1');

  const cluster = new Cluster(nodes);
  cluster.form();
  const propose = new Samples(rounds);
  const call = new Samples(rounds * (nodes - 1));
  const reply = new Samples(rounds * (nodes - 1));
  let recording = false;
  const record = (m: Message, ns: number): void => {
    if (!recording) return;
    if (m.type === 'appendEntries') call.add(ns);
    else if (m.type === 'appendEntriesReply') reply.add(ns);
    else throw new Error(`latency: unexpected message ${m.type}`);
  };

  const total = warmRounds + rounds;
  for (let r = 0; r < total; r++) {
    if (r === warmRounds) recording = true;
    const t0 = process.hrtime.bigint();
    const [s, actions] = step(cluster.nodes[0]!, PROPOSE);
    const t1 = process.hrtime.bigint();
    if (recording) propose.add(Number(t1 - t0));
    cluster.nodes[0] = s;
    cluster.enqueue(0, actions);
    cluster.runUntilQuiescentTimed(record);
    cluster.assertCommitted(s.log.lastIndex);
  }
  checkCounts(`latency, ${nodes} nodes`, cluster.counts, expectedCounts(nodes, total, 1));
  cluster.verify(2 + total);

  const overhead = timerOverhead();
  const kinds: [string, Samples][] = [
    ['propose', propose],
    ['appendEntries', call],
    ['appendEntriesReply', reply],
  ];
  for (const [event, samples] of kinds) {
    const p = percentiles(samples.sorted());
    console.log(JSON.stringify({ nodes, event, samples: samples.length, ...p, timerOverheadNs: overhead }));
  }
}

main();
