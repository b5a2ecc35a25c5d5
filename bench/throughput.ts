/**
 * One throughput measurement in this process: warm up, then time the brief's loop once and print a
 * JSON line. The orchestrator (bench/index.ts) runs this in fresh processes and takes medians.
 *
 * Usage: node build/bench/throughput.js <nodes> <batch> <n> <perCommand|multi> [warmup]
 */
import { Cluster, expectedCounts } from './workload.js';

type Mode = 'perCommand' | 'multi';

/** Run `n` commands through a formed cluster in rounds of `batch`; the time taken, in ns. */
function run(cluster: Cluster, batch: number, n: number, mode: Mode): number {
  let remaining = n;
  const start = process.hrtime.bigint();
  while (remaining > 0) {
    const b = batch < remaining ? batch : remaining;
    if (mode === 'multi') cluster.roundMulti(b);
    else cluster.roundPerCommand(b);
    remaining -= b;
  }
  return Number(process.hrtime.bigint() - start);
}

function main(): void {
  const [k, batchArg, n, mode, warmupArg] = process.argv.slice(2);
  const nodes = Number(k);
  const total = Number(n);
  const batch = batchArg === 'all' ? total : Number(batchArg);
  const m = (mode ?? 'perCommand') as Mode;
  const warmup = Number(warmupArg ?? 200_000);
  // Both clusters are formed before the warm-up, so that the election paths the setup takes do not
  // disturb the optimised code of the replication paths the timed loop measures.
  const warm = new Cluster(nodes);
  warm.form();
  const cluster = new Cluster(nodes);
  cluster.form();
  if (warmup > 0) run(warm, Math.min(batch, warmup), warmup, m);
  const ns = run(cluster, batch, total, m);
  const counts = { ...cluster.counts };
  const expected = expectedCounts(nodes, total, batch);
  for (const key of Object.keys(expected) as (keyof typeof expected)[]) {
    if (counts[key] !== expected[key]) {
      throw new Error(`protocol path differs: ${key} = ${counts[key]}, the brief expects ${expected[key]}`);
    }
  }
  cluster.verify(2 + total);
  console.log(JSON.stringify({ nodes, batch, n: total, mode: m, ns, ...counts }));
}

main();
