/**
 * The throughput workload of `docs/benchmark.md`, on which noraft was measured.
 *
 * Everything runs in one process: messages are handed over as in-memory objects through one global
 * FIFO queue; storage actions count as instantly durable; timer actions are ignored.
 */
import * as raftstep from '../src/index.js';
import type { RaftActions, RaftEvent, Message, NodeOptions, PersistedState, RaftState } from '../src/index.js';

// Bind the library's functions once, as `const { step } = require('raftstep')` or an ES module import does.
// Compiled to CommonJS by tsc, a named import is called as `(0, index_js_1.step)(...)` through the
// re-export getter of src/index.ts on every call, which cost ~12 % of a 3-node batch-1 round here
// (measured in one process, alternating both drivers): a harness artifact, not the library's cost.
const { mergeActions, restartNode, startNode, step, stepAll } = raftstep;

/**
 * What a run did: messages handled, log appends, broadcasts and sends. `docs/benchmark.md` fixes them
 * for each run (the expected counts), so that the benchmark cannot get faster by doing less.
 */
export interface Counts {
  messages: number;
  appendActions: number;
  broadcasts: number;
  sends: number;
}

/**
 * `groups` independent k-node clusters in one process (one, for the workload of `docs/benchmark.md`),
 * with the global FIFO queue of the workload. Node j of group g is `nodes[g * k + j]`, with id
 * `ids[j]`; messages stay within their group.
 */
export class Cluster {
  /** Every node's current state, by index. Replaced by a copy each time the queue empties (see qMsg). */
  nodes: RaftState[];
  /** The node ids of one group: "0" .. "k-1". */
  readonly ids: string[];
  /** For each position j in a group, the positions of the other members. */
  private readonly others: number[][];
  /** For each node, the index of its group's first node (a Smi array: 8 bytes a node). */
  private readonly baseOf: number[];
  // The FIFO queue: parallel arrays of destination and message, with a moving head and tail. The
  // message array (and `nodes`) is replaced when the queue empties: a long-lived array has moved to
  // V8's old generation, and every young message (or state) stored into it takes the write
  // barrier's slow path.
  private readonly qDest: number[] = [];
  private qMsg: Message[] = freshQueue();
  private head = 0;
  private tail = 0;
  counts: Counts = { messages: 0, appendActions: 0, broadcasts: 0, sends: 0 };
  /** The leaders' term once formed (`form`: 1). */
  term = 1;
  /** The leaders' commit index once formed (`form`: 2, the configuration and the term start). */
  formedCommit = 2;

  constructor(
    readonly k: number,
    readonly groups = 1,
    nodeOptions: Partial<NodeOptions> = {},
  ) {
    this.ids = Array.from({ length: k }, (_, i) => String(i));
    this.others = this.ids.map((_, j) => this.ids.map((__, i) => i).filter((i) => i !== j));
    this.baseOf = [];
    this.nodes = [];
    for (let g = 0; g < groups; g++) {
      for (let j = 0; j < k; j++) {
        this.baseOf.push(g * k);
        this.nodes.push(startNode(this.ids[j]!, nodeOptions)[0]);
      }
    }
  }

  /**
   * Setup (not timed): the first node of each group forms its cluster with every node of the group
   * as voter; run until quiescent. Each group's first node then leads in term 1 with commit index 2.
   */
  form(): void {
    for (let leader = 0; leader < this.nodes.length; leader += this.k) {
      const [s, actions] = step(this.nodes[leader]!, { type: 'createCluster', voters: this.ids });
      this.nodes[leader] = s;
      this.enqueue(leader, actions);
    }
    this.runUntilQuiescent();
    for (let leader = 0; leader < this.nodes.length; leader += this.k) {
      const s = this.nodes[leader]!;
      if (s.role !== 'leader' || s.term !== 1 || s.commitIndex !== 2) {
        throw new Error(`setup failed: node ${leader} is ${s.role} in term ${s.term}, commit ${s.commitIndex}`);
      }
    }
    this.resetCounts();
  }

  /**
   * Setup (not timed), instead of `form`: every node restarts from `persisted(id)` (`restartNode`),
   * then the first node of each group times out and runs for election; run until quiescent. Each
   * group's first node then leads in the term after its last one, with its term-start entry
   * committed. Its log must be at least as up to date as the others', so that it wins.
   */
  formFrom(persisted: (id: string) => PersistedState): void {
    for (let i = 0; i < this.nodes.length; i++) this.nodes[i] = restartNode(persisted(this.ids[i % this.k]!))[0];
    // A restarted node counts as hearing from a leader until its election timer first fires, and
    // refuses pre-votes until then: fire every other node's timer first (their own pre-votes are
    // lost), as when a whole cluster restarts and no leader is heard from.
    for (let i = 0; i < this.nodes.length; i++) {
      if (i % this.k !== 0) this.nodes[i] = step(this.nodes[i]!, TIMEOUT)[0];
    }
    const term = this.nodes[0]!.term + 1;
    const commit = this.nodes[0]!.log.lastIndex + 1;
    for (let leader = 0; leader < this.nodes.length; leader += this.k) {
      const [s, actions] = step(this.nodes[leader]!, TIMEOUT);
      this.nodes[leader] = s;
      this.enqueue(leader, actions);
    }
    this.runUntilQuiescent();
    for (let leader = 0; leader < this.nodes.length; leader += this.k) {
      const s = this.nodes[leader]!;
      if (s.role !== 'leader' || s.term !== term || s.commitIndex !== commit) {
        throw new Error(
          `setup failed: node ${leader} is ${s.role} in term ${s.term}, commit ${s.commitIndex} ` +
            `(expected leader in term ${term}, commit ${commit})`,
        );
      }
    }
    this.term = term;
    this.formedCommit = commit;
    this.resetCounts();
  }

  resetCounts(): void {
    this.counts = { messages: 0, appendActions: 0, broadcasts: 0, sends: 0 };
  }

  /** Push a node's actions onto the queue, counting them. */
  enqueue(from: number, actions: RaftActions): void {
    const c = this.counts;
    for (let i = 0; i < actions.length; i++) {
      const a = actions[i]!;
      switch (a.type) {
        case 'setTimer': // every step has one: the first comparison
        case 'commitAdvanced':
          break;
        case 'appendLog':
          c.appendActions++;
          break;
        case 'broadcast': {
          c.broadcasts++;
          const base = this.baseOf[from]!;
          const others = this.others[from - base]!;
          for (let j = 0; j < others.length; j++) this.push(base + others[j]!, a.message);
          break;
        }
        case 'send':
          c.sends++;
          this.push(this.baseOf[from]! + this.indexOf(a.to), a.message);
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

  /**
   * The position in a group of the node with id `id`. A linear scan: message senders are the very id
   * strings this cluster gave its nodes, so `===` matches on identity at once, which is cheaper than
   * hashing the string for a Map.
   */
  private indexOf(id: string): number {
    const ids = this.ids;
    for (let j = 0; j < ids.length; j++) if (ids[j] === id) return j;
    throw new Error(`unknown node ${id}`);
  }

  private push(to: number, m: Message): void {
    this.qDest[this.tail] = to;
    this.qMsg[this.tail] = m;
    this.tail++;
  }

  /** Pop the front, step its destination, push what it produced; stop when the queue is empty. */
  runUntilQuiescent(): void {
    const nodes = this.nodes;
    while (this.head < this.tail) {
      const to = this.qDest[this.head]!;
      const m = this.qMsg[this.head]!;
      this.head++;
      // Indexed reads rather than `const [s, actions] = ...`: array destructuring runs the iterator
      // protocol, whose bytecode also eats into V8's inlining budget for this loop.
      const result = step(nodes[to]!, m);
      nodes[to] = result[0];
      this.counts.messages++;
      this.enqueue(to, result[1]);
    }
    this.head = 0;
    this.tail = 0;
    this.qMsg = freshQueue();
    this.nodes = copyOfNodes(this.nodes);
  }

  /**
   * `runUntilQuiescent`, timing each `step` call alone with `process.hrtime.bigint()` (for the latency
   * benchmark; the throughput loop does not use it). `record` gets the message and the step's duration.
   */
  runUntilQuiescentTimed(record: (m: Message, ns: number) => void): void {
    const nodes = this.nodes;
    while (this.head < this.tail) {
      const to = this.qDest[this.head]!;
      const m = this.qMsg[this.head]!;
      this.head++;
      const t0 = process.hrtime.bigint();
      const [s, actions] = step(nodes[to]!, m);
      const t1 = process.hrtime.bigint();
      record(m, Number(t1 - t0));
      nodes[to] = s;
      this.counts.messages++;
      this.enqueue(to, actions);
    }
    this.head = 0;
    this.tail = 0;
  }

  // The workload's rounds below drive the first group's leader (node 0): the workload has one group.

  /**
   * One round: the leader proposes `b` commands back to back, their actions merged (`stepAll`, as a
   * host batching proposals would step them), then the cluster runs until quiet.
   */
  roundPerCommand(b: number): void {
    const result = b === 1 ? step(this.nodes[0]!, PROPOSE_ONE) : stepAll(this.nodes[0]!, proposals(b));
    const leader = result[0];
    this.nodes[0] = leader;
    this.enqueue(0, result[1]);
    this.runUntilQuiescent();
    this.assertCommitted(leader.log.lastIndex);
  }

  /**
   * One round as {@link roundPerCommand}, without `stepAll`: each proposal stepped with `step` and
   * its actions merged into the round's with `mergeActions` as it comes (what a host that merges
   * by hand pays; `stepAll` joins the run of proposals into one append instead).
   */
  roundOneByOne(b: number): void {
    let leader = this.nodes[0]!;
    let actions: RaftActions = [];
    for (let i = 0; i < b; i++) {
      const result = step(leader, PROPOSE_ONE);
      leader = result[0];
      actions = mergeActions(actions, result[1]);
    }
    this.nodes[0] = leader;
    this.enqueue(0, actions);
    this.runUntilQuiescent();
    this.assertCommitted(leader.log.lastIndex);
  }

  /** One round: the leader proposes `b` commands in one event, then the cluster runs until quiet. */
  roundMulti(b: number): void {
    const result = step(this.nodes[0]!, { type: 'propose', count: b });
    this.nodes[0] = result[0];
    this.enqueue(0, result[1]);
    this.runUntilQuiescent();
    this.assertCommitted(result[0].log.lastIndex);
  }

  /** One heartbeat round of every group: each leader broadcasts a heartbeat, then the queue runs until empty. */
  roundHeartbeats(): void {
    const nodes = this.nodes;
    for (let leader = 0; leader < nodes.length; leader += this.k) {
      const result = step(nodes[leader]!, HEARTBEAT);
      nodes[leader] = result[0];
      this.enqueue(leader, result[1]);
    }
    this.runUntilQuiescent();
  }

  /** Throw unless the leader's commit index is `index` (the last proposed position). */
  assertCommitted(index: number): void {
    if (this.nodes[0]!.commitIndex !== index) {
      throw new Error(`round did not commit: commit ${this.nodes[0]!.commitIndex}, last proposed ${index}`);
    }
  }

  /**
   * Verification (not timed): commit index `expectedCommit` (`formedCommit` + n); after a heartbeat
   * every node agrees; the term is still the one the cluster was formed in.
   */
  verify(expectedCommit: number): void {
    const leader = this.nodes[0]!;
    if (leader.commitIndex !== expectedCommit) throw new Error(`commit ${leader.commitIndex} != ${expectedCommit}`);
    const [s, actions] = step(leader, { type: 'heartbeat' });
    this.nodes[0] = s;
    this.enqueue(0, actions);
    this.runUntilQuiescent();
    for (const n of this.nodes) {
      if (n.commitIndex !== s.commitIndex || n.log.lastIndex !== s.log.lastIndex || n.term !== this.term) {
        throw new Error(`node ${n.id} disagrees: commit ${n.commitIndex}, last ${n.log.lastIndex}, term ${n.term}`);
      }
    }
  }
}

/**
 * A new, empty message queue with room for the 8 messages of a 5-node round: an array literal of
 * placeholders, so that the round's stores do not grow it (a builtin call) and V8 builds it inline.
 */
function freshQueue(): Message[] {
  const u = undefined as unknown as Message;
  return [u, u, u, u, u, u, u, u];
}

/**
 * A copy of the node array (see `nodes`): an array literal for the workload's 3 and 5 nodes, which
 * V8 builds inline, where `slice` is a builtin call.
 */
function copyOfNodes(n: RaftState[]): RaftState[] {
  if (n.length === 3) return [n[0]!, n[1]!, n[2]!];
  if (n.length === 5) return [n[0]!, n[1]!, n[2]!, n[3]!, n[4]!];
  return n.slice();
}

const PROPOSE_ONE = Object.freeze({ type: 'propose' as const });
const HEARTBEAT = Object.freeze({ type: 'heartbeat' as const });
const TIMEOUT = Object.freeze({ type: 'timeout' as const });
/**
 * `b` single proposals, one list per batch size, built once (the timed loop allocates none) by
 * `push`, so that V8 keeps it a packed array: `Array.from({ length })` and `Object.freeze` can give
 * one whose every read goes through the runtime.
 */
const PROPOSALS = new Map<number, RaftEvent[]>();
function proposals(b: number): readonly RaftEvent[] {
  let events = PROPOSALS.get(b);
  if (events === undefined) {
    events = [];
    for (let i = 0; i < b; i++) events.push(PROPOSE_ONE);
    PROPOSALS.set(b, events);
  }
  return events;
}

/**
 * The expected counts for `n` commands in batches of `b` on `k` nodes. The table of
 * `docs/benchmark.md` (k=3: 4N/b, 3N/b, N/b, 2N/b; k=5 batch 1: 8N, 5N, N, 4N) is this formula:
 * each round, one broadcast to the k-1 followers, k log appends (leader and followers), k-1 replies
 * sent, 2(k-1) messages handled.
 */
export function expectedCounts(k: number, n: number, b: number): Counts {
  const rounds = Math.ceil(n / b);
  return { messages: 2 * (k - 1) * rounds, appendActions: k * rounds, broadcasts: rounds, sends: (k - 1) * rounds };
}

/** Throw, naming the first difference, unless `actual` equals `expected` (the protocol path check). */
export function checkCounts(what: string, actual: Counts, expected: Counts): void {
  for (const key of Object.keys(expected) as (keyof Counts)[]) {
    if (actual[key] !== expected[key]) {
      throw new Error(
        `${what}: protocol path differs from the expected counts: ${key} = ${actual[key]}, expected ${expected[key]} ` +
          `(actual ${JSON.stringify(actual)}, expected ${JSON.stringify(expected)})`,
      );
    }
  }
}
