/**
 * Heap after `small` and after `large` committed commands in one 3-node cluster (the workload of
 * `docs/benchmark.md`, batch 1, one proposal per event), all three nodes' states still held. Run
 * with --expose-gc.
 *
 * A separate cluster is formed and warmed up first (then dropped), so that code the JIT compiles while
 * the measured cluster runs does not show up as heap growth.
 *
 * Usage: node --expose-gc build/bench/memory.js [small=1000] [large=1000000] [warm-up=200000]
 */
import { checkCounts, Cluster, expectedCounts } from './workload.js';

const NODES = 3;

/** Bytes of heap in use after several forced full collections. */
function heapUsed(): number {
  const gc = globalThis.gc;
  if (gc === undefined) throw new Error('memory: run node with --expose-gc');
  for (let i = 0; i < 5; i++) gc();
  return process.memoryUsage().heapUsed;
}

function runCommands(cluster: Cluster, n: number): void {
  for (let i = 0; i < n; i++) cluster.roundPerCommand(1);
}

function main(): void {
  const [smallArg, largeArg, warmArg] = process.argv.slice(2);
  const small = Number(smallArg ?? 1_000);
  const large = Number(largeArg ?? 1_000_000);
  const warmup = Number(warmArg ?? 200_000);
  if (!(small >= 1 && large > small && warmup >= 0)) throw new Error('memory: need 1 <= small < large, warm-up >= 0');

  const cluster = new Cluster(NODES);
  cluster.form();
  {
    const warm = new Cluster(NODES);
    warm.form();
    runCommands(warm, warmup);
    checkCounts('memory warm-up', warm.counts, expectedCounts(NODES, warmup, 1));
  }
  const heapBefore = heapUsed();

  runCommands(cluster, small);
  checkCounts('memory', cluster.counts, expectedCounts(NODES, small, 1));
  const heapSmall = heapUsed();
  const jsonSmall = Buffer.byteLength(JSON.stringify(cluster.nodes));

  runCommands(cluster, large - small);
  checkCounts('memory', cluster.counts, expectedCounts(NODES, large, 1));
  const heapLarge = heapUsed();
  const jsonLarge = Buffer.byteLength(JSON.stringify(cluster.nodes));
  const rss = process.memoryUsage().rss;
  cluster.verify(2 + large);

  console.log(
    JSON.stringify({
      nodes: NODES,
      small,
      large,
      heapBefore,
      heapSmall,
      heapLarge,
      stateJsonBytesSmall: jsonSmall,
      stateJsonBytesLarge: jsonLarge,
      rssLarge: rss,
    }),
  );
}

main();
