/**
 * Many groups: G independent 3-node Raft groups in one process (as in a multi-raft server), each doing
 * heartbeat rounds. One round: every group's leader steps a heartbeat (one broadcast), then one global
 * FIFO queue delivers the AppendEntries to the followers and their replies to the leaders until it is
 * empty. Reports the time per group-round (median, min, max over several timed segments) and the heap
 * per group (after forced collections; run with --expose-gc).
 *
 * Usage: node --expose-gc build/bench/groups.js <G> [rounds per segment=100] [segments=5] [warm-up rounds=50]
 */
import { round, spread } from './stats.js';
import { Cluster } from './workload.js';

const K = 3;

function heapUsed(): number {
  const gc = globalThis.gc;
  if (gc === undefined) throw new Error('groups: run node with --expose-gc');
  for (let i = 0; i < 5; i++) gc();
  return process.memoryUsage().heapUsed;
}

/**
 * Every group's leader leads in term 1, every node agrees on the commit index and last index, and
 * the counts are those of `groupRounds` heartbeat rounds: one broadcast, K-1 calls and K-1 replies
 * each, and no log append.
 */
function check(groups: Cluster, groupRounds: number): void {
  const expect = {
    messages: 2 * (K - 1) * groupRounds,
    appendActions: 0,
    broadcasts: groupRounds,
    sends: (K - 1) * groupRounds,
  };
  if (JSON.stringify(groups.counts) !== JSON.stringify(expect)) {
    throw new Error(
      `groups: protocol path differs: got ${JSON.stringify(groups.counts)}, expected ${JSON.stringify(expect)}`,
    );
  }
  for (let i = 0; i < groups.nodes.length; i++) {
    const s = groups.nodes[i]!;
    const leader = groups.nodes[i - (i % K)]!;
    if (s.term !== 1 || s.commitIndex !== 2 || s.log.lastIndex !== 2 || leader.role !== 'leader') {
      throw new Error(`groups: node ${i} is ${s.role} in term ${s.term}, commit ${s.commitIndex}`);
    }
  }
}

function main(): void {
  const [gArg, roundsArg, segmentsArg, warmArg] = process.argv.slice(2);
  const g = Number(gArg);
  const rounds = Number(roundsArg ?? 100);
  const segments = Number(segmentsArg ?? 5);
  const warmRounds = Number(warmArg ?? 50);
  if (!(g >= 1 && rounds >= 1 && segments >= 1 && warmRounds >= 0)) throw new Error('groups: bad arguments');

  const heapBefore = heapUsed();
  const groups = new Cluster(K, g);
  groups.form();
  const heapFormed = heapUsed();
  const jsonPerGroup = Buffer.byteLength(JSON.stringify(groups.nodes.slice(0, K)));

  for (let r = 0; r < warmRounds; r++) groups.roundHeartbeats();
  const nsPerGroupRound: number[] = [];
  for (let seg = 0; seg < segments; seg++) {
    const t0 = process.hrtime.bigint();
    for (let r = 0; r < rounds; r++) groups.roundHeartbeats();
    nsPerGroupRound.push(Number(process.hrtime.bigint() - t0) / (rounds * g));
  }
  const groupRounds = g * (warmRounds + rounds * segments);
  check(groups, groupRounds);
  const heapAfter = heapUsed();

  const t = spread(nsPerGroupRound);
  console.log(
    JSON.stringify({
      groups: g,
      nodesPerGroup: K,
      nodes: groups.nodes.length, // (read after the last heap measurement: keeps the groups alive until then)
      rounds: rounds * segments,
      warmupRounds: warmRounds,
      nsPerGroupRound: { median: round(t.median, 1), min: round(t.min, 1), max: round(t.max, 1) },
      segments: nsPerGroupRound.map((x) => round(x, 1)),
      messages: groups.counts.messages,
      heapPerGroup: Math.round((heapAfter - heapBefore) / g),
      heapPerGroupFormed: Math.round((heapFormed - heapBefore) / g),
      stateJsonBytesPerGroup: jsonPerGroup,
    }),
  );
}

main();
