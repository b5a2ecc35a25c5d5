/**
 * One throughput measurement in this process: form two clusters, warm up on one, time the loop of
 * `docs/benchmark.md` once on the other, check the counts against the expected counts, print one
 * JSON line. The orchestrator (bench/index.ts) runs this in fresh processes and takes medians.
 *
 * Usage: node build/bench/throughput.js <nodes> <batch|all> <n> <perCommand|oneByOne|multi> [warm-up]
 *
 * perCommand: each round proposes `batch` single commands, stepped with `stepAll`; oneByOne: the same
 * proposals stepped with `step` one by one, their actions merged with `mergeActions`; multi: one
 * event proposing `batch` commands.
 *
 * The warm-up is in commands for perCommand and oneByOne (default 200,000, in rounds of
 * min(batch, warm-up)) and in rounds of `batch` commands for multi (default 20,000 rounds): the JIT
 * warms up with the number of steps, and a multi round is a handful of steps whatever its batch.
 */
import { checkCounts, Cluster, expectedCounts } from './workload.js';

type Mode = 'perCommand' | 'oneByOne' | 'multi';

/**
 * Run `n` commands through a formed cluster in rounds of `batch`: the wall-clock time taken, and the
 * CPU time this process used meanwhile (user + system, all threads, so GC helper threads count), in ns.
 */
function run(cluster: Cluster, batch: number, n: number, mode: Mode): { ns: number; cpuNs: number } {
  let remaining = n;
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  while (remaining > 0) {
    const b = batch < remaining ? batch : remaining;
    if (mode === 'multi') cluster.roundMulti(b);
    else if (mode === 'oneByOne') cluster.roundOneByOne(b);
    else cluster.roundPerCommand(b);
    remaining -= b;
  }
  const ns = Number(process.hrtime.bigint() - start);
  const used = process.cpuUsage(cpu);
  return { ns, cpuNs: (used.user + used.system) * 1000 };
}

function positiveInt(arg: string | undefined, what: string): number {
  const x = Number(arg);
  if (!Number.isSafeInteger(x) || x < 0)
    throw new Error(`throughput: ${what} must be a non-negative integer, got ${arg}`);
  return x;
}

function main(): void {
  const [k, batchArg, n, mode, warmupArg] = process.argv.slice(2);
  const nodes = positiveInt(k, 'nodes');
  const total = positiveInt(n, 'n');
  const batch = batchArg === 'all' ? total : positiveInt(batchArg, 'batch');
  if (mode !== 'perCommand' && mode !== 'oneByOne' && mode !== 'multi')
    throw new Error(`throughput: mode must be perCommand, oneByOne or multi`);
  if (nodes < 1 || total < 1 || batch < 1) throw new Error('throughput: nodes, n and batch must be at least 1');
  const warmup = positiveInt(warmupArg ?? (mode === 'multi' ? '20000' : '200000'), 'warm-up');

  // Both clusters are formed before the warm-up, so that the election paths the setup takes do not
  // disturb the optimised code of the replication paths the timed loop measures.
  // The default node options (pre-vote, check-quorum, flow control), except for the all-at-once
  // configuration: its one round proposes every command before any reply, which is exactly the
  // burst flow control exists to split (at maxInflightEntries, 16,384 by default). There the window
  // and the message size are raised to the whole batch, so that the round stays one append.
  const options =
    batchArg === 'all'
      ? { maxInflightEntries: total, maxEntriesPerAppend: total }
      : process.env.RAFTSTEP_BENCH_BASIC === '1'
        ? { preVote: false, checkQuorum: false, flowControl: false }
        : {};
  const warm = new Cluster(nodes, 1, options);
  warm.form();
  const cluster = new Cluster(nodes, 1, options);
  cluster.form();

  let warmCommands = 0;
  if (warmup > 0) {
    const warmBatch = mode === 'multi' ? batch : Math.min(batch, warmup);
    warmCommands = mode === 'multi' ? warmup * batch : warmup;
    run(warm, warmBatch, warmCommands, mode);
    checkCounts('warm-up', warm.counts, expectedCounts(nodes, warmCommands, warmBatch));
  }

  const { ns, cpuNs } = run(cluster, batch, total, mode);

  const counts = { ...cluster.counts };
  checkCounts(`${nodes} nodes, batch ${batch}, n ${total}, ${mode}`, counts, expectedCounts(nodes, total, batch));
  cluster.verify(2 + total);
  console.log(JSON.stringify({ nodes, batch, n: total, mode, ns, cpuNs, warmupCommands: warmCommands, ...counts }));
}

main();
