/**
 * Many groups: G independent 3-node Raft groups in one process (as in a multi-raft server), each doing
 * heartbeat rounds. One round: every group's leader steps a heartbeat (one broadcast), then one global
 * FIFO queue delivers the AppendEntries to the followers and their replies to the leaders until it is
 * empty. Reports the time per group-round (median, min, max over several timed segments) and the heap
 * per group (after forced collections; run with --expose-gc).
 *
 * Usage: node --expose-gc build/bench/groups.js <G> [rounds per segment=100] [segments=5] [warm-up rounds=50]
 */
import * as raftstep from '../src/index.js';
import type { Actions, Message, RaftState } from '../src/index.js';
import { round, spread } from './stats.js';
import { Cluster } from './workload.js';

// Bound once (see the note in workload.ts).
const { step } = raftstep;

const K = 3;
const HEARTBEAT = Object.freeze({ type: 'heartbeat' as const });

function heapUsed(): number {
  const gc = globalThis.gc;
  if (gc === undefined) throw new Error('groups: run node with --expose-gc');
  for (let i = 0; i < 5; i++) gc();
  return process.memoryUsage().heapUsed;
}

/** G groups of K nodes: node j of group g is `nodes[g * K + j]`; one FIFO queue for all of them. */
class Groups {
  readonly nodes: RaftState[] = [];
  readonly ids: readonly string[];
  private readonly qDest: number[] = [];
  private readonly qMsg: Message[] = [];
  private head = 0;
  private tail = 0;
  messages = 0;
  broadcasts = 0;
  sends = 0;
  appendActions = 0;

  constructor(readonly g: number) {
    let ids: readonly string[] = [];
    for (let i = 0; i < g; i++) {
      // Setup: form each group through the workload's cluster (node 0 leads in term 1).
      const c = new Cluster(K);
      c.form();
      ids = c.ids;
      for (const s of c.nodes) this.nodes.push(s);
    }
    this.ids = ids;
  }

  private enqueue(from: number, actions: Actions): void {
    const base = from - (from % K);
    for (let i = 0; i < actions.length; i++) {
      const a = actions[i]!;
      switch (a.type) {
        case 'appendLog':
          this.appendActions++;
          break;
        case 'broadcast':
          this.broadcasts++;
          for (let j = base; j < base + K; j++) if (j !== from) this.push(j, a.message);
          break;
        case 'send':
          this.sends++;
          this.push(base + this.ids.indexOf(a.to), a.message);
          break;
        case 'invalidEvent':
        case 'fatal':
        case 'rejected':
          throw new Error(`unexpected action ${JSON.stringify(a)}`);
        default:
          break;
      }
    }
  }

  private push(to: number, m: Message): void {
    this.qDest[this.tail] = to;
    this.qMsg[this.tail] = m;
    this.tail++;
  }

  /** One heartbeat round of every group. */
  round(): void {
    const nodes = this.nodes;
    for (let i = 0; i < nodes.length; i += K) {
      const [s, actions] = step(nodes[i]!, HEARTBEAT);
      nodes[i] = s;
      this.enqueue(i, actions);
    }
    while (this.head < this.tail) {
      const to = this.qDest[this.head]!;
      const m = this.qMsg[this.head]!;
      this.head++;
      const [s, actions] = step(nodes[to]!, m);
      nodes[to] = s;
      this.messages++;
      this.enqueue(to, actions);
    }
    this.head = 0;
    this.tail = 0;
  }

  /** Every group's leader leads in term 1 and every node agrees on the commit index and last index. */
  check(groupRounds: number): void {
    const expect = { messages: 2 * (K - 1) * groupRounds, broadcasts: groupRounds, sends: (K - 1) * groupRounds };
    const got = { messages: this.messages, broadcasts: this.broadcasts, sends: this.sends };
    if (JSON.stringify(got) !== JSON.stringify(expect) || this.appendActions !== 0) {
      throw new Error(
        `groups: protocol path differs: got ${JSON.stringify(got)}, appends ${this.appendActions}; expected ${JSON.stringify(expect)}, no appends`,
      );
    }
    for (let i = 0; i < this.nodes.length; i++) {
      const s = this.nodes[i]!;
      const leader = this.nodes[i - (i % K)]!;
      if (s.term !== 1 || s.commitIndex !== 2 || s.log.lastIndex !== 2 || leader.role !== 'leader') {
        throw new Error(`groups: node ${i} is ${s.role} in term ${s.term}, commit ${s.commitIndex}`);
      }
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
  const groups = new Groups(g);
  const heapFormed = heapUsed();
  const jsonPerGroup = Buffer.byteLength(JSON.stringify(groups.nodes.slice(0, K)));

  for (let r = 0; r < warmRounds; r++) groups.round();
  const nsPerGroupRound: number[] = [];
  for (let seg = 0; seg < segments; seg++) {
    const t0 = process.hrtime.bigint();
    for (let r = 0; r < rounds; r++) groups.round();
    nsPerGroupRound.push(Number(process.hrtime.bigint() - t0) / (rounds * g));
  }
  const groupRounds = g * (warmRounds + rounds * segments);
  groups.check(groupRounds);
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
      messages: groups.messages,
      heapPerGroup: Math.round((heapAfter - heapBefore) / g),
      heapPerGroupFormed: Math.round((heapFormed - heapBefore) / g),
      stateJsonBytesPerGroup: jsonPerGroup,
    }),
  );
}

main();
