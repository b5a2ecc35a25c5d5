/**
 * Long history: the cost of a step when the logs hold many term starts, as those of a cluster that
 * has seen many leader changes without compacting. A log stores one record per term start (see
 * `LogEntries`), so a lookup or a copy that walks them is linear in the number of leader changes,
 * however few commands the step touches. This measures, on a 3-node cluster whose nodes each hold
 * their own copy of a log of `entries` entries with `termStarts` term starts spread evenly over it
 * (node 0 then wins an election in the next term, which commits its term start):
 *
 * - duplicateCall: a follower handles an AppendEntries call it has already applied, anchored deep in
 *   the history (a retransmitted catch-up chunk of 8 commands, anchored at the term start a tenth of
 *   the way into the log);
 * - termStartCall: a follower handles a new leader's first call, whose entries hold one new term
 *   start at the end of the log;
 * - pipelinedReply: the leader handles an AppendEntries reply one entry behind its last index (it
 *   advances the commit index and sends the follower the entry it lacks);
 * - throughput: the batch-1 loop of the workload (`docs/benchmark.md`) on this cluster, in ns per
 *   command, its counts checked against the expected counts.
 *
 * The single steps are stepped again and again from the same state (states are immutable, so each
 * call does the whole transition), after their outcome has been checked once. Each case warms up
 * for `warm-up ms` and is then timed for at least `timed ms`; prints one JSON line.
 *
 * Usage: node build/bench/longhistory.js <case> <term starts> [entries=1000000] [warm-up ms=100] [timed ms=200]
 */
import * as raftstep from '../src/index.js';
import type {
  AppendEntries,
  AppendEntriesReply,
  LogEntries,
  PersistedState,
  RaftEvent,
  RaftState,
  TermStart,
} from '../src/index.js';
import { checkCounts, Cluster, expectedCounts, type Counts } from './workload.js';

// Bound once (see the note in workload.ts).
const { EMPTY_CONFIG, flatItems, makeConfig, step, toChunks } = raftstep;

const CASES = ['duplicateCall', 'termStartCall', 'pipelinedReply', 'throughput'] as const;
type Case = (typeof CASES)[number];

const NODES = 3;
/** Commands in the duplicated catch-up chunk of `duplicateCall`. */
const CHUNK = 8;

/**
 * A log of `entries` entries from index 1: the configuration with `voters` at index 1, then
 * `termStarts` term starts for terms 1, 2, ... spread evenly over indices 2..entries, commands in
 * between. Fresh objects on every call, so that each node holds its own copy, as it would have read
 * it from its own storage.
 */
function historyLog(voters: readonly string[], termStarts: number, entries: number): LogEntries {
  if (!(termStarts >= 1 && entries > termStarts)) throw new Error('longhistory: need 1 <= term starts < entries');
  const starts: TermStart[] = [];
  for (let j = 0; j < termStarts; j++) {
    starts.push({ index: 2 + Math.floor((j * (entries - 1)) / termStarts), term: j + 1 });
  }
  return {
    prevTerm: 0,
    prevIndex: 0,
    lastTerm: termStarts,
    lastIndex: entries,
    termStarts: toChunks(starts),
    configs: [{ index: 1, config: makeConfig(voters) }],
  };
}

/** A formed 3-node cluster whose nodes restarted from the history (see `historyLog`). */
function historyCluster(termStarts: number, entries: number): Cluster {
  const cluster = new Cluster(NODES);
  const voters = cluster.ids;
  cluster.formFrom((id): PersistedState => ({
    id,
    term: termStarts,
    votedFor: null,
    log: historyLog(voters, termStarts, entries),
    snapshotConfig: EMPTY_CONFIG,
  }));
  return cluster;
}

/** Fails the run, naming the case, unless `ok`. */
function expect(ok: boolean, what: string): void {
  if (!ok) throw new Error(`longhistory: ${what}`);
}

/** Keeps the steps' results observable, so that no call can be dropped as dead code. */
let sink = 0;

function stepLoop(s: RaftState, e: RaftEvent, n: number): void {
  for (let i = 0; i < n; i++) sink += step(s, e)[1].length;
}

/**
 * What `timeLoop` ran: steps (or commands) in the warm-up and in the timed part, and the latter's
 * wall-clock time and the CPU time this process used meanwhile (user + system, all threads), in ns.
 */
interface Timed {
  warmupSteps: number;
  steps: number;
  ns: number;
  cpuNs: number;
}

/**
 * Run `body(n)` (n steps, or n commands) for `warmMs`, call `warmedUp`, then run it for at least
 * `timedMs` more, timed. Chunks double during the warm-up up to about 1/20 of the timed part, so that
 * reading the clock costs nothing.
 */
function timeLoop(body: (n: number) => void, warmMs: number, timedMs: number, warmedUp = (): void => {}): Timed {
  let chunk = 1;
  let warmupSteps = 0;
  const warmEnd = process.hrtime.bigint() + BigInt(Math.round(warmMs * 1e6));
  for (;;) {
    const t0 = process.hrtime.bigint();
    body(chunk);
    const t1 = process.hrtime.bigint();
    warmupSteps += chunk;
    if (t1 >= warmEnd) break;
    if (Number(t1 - t0) < timedMs * 5e4) chunk *= 2;
  }
  warmedUp();
  let steps = 0;
  const limit = BigInt(Math.round(timedMs * 1e6));
  const cpu = process.cpuUsage();
  const start = process.hrtime.bigint();
  let elapsed = 0n;
  while (elapsed < limit) {
    body(chunk);
    steps += chunk;
    elapsed = process.hrtime.bigint() - start;
  }
  const used = process.cpuUsage(cpu);
  return { warmupSteps, steps, ns: Number(elapsed), cpuNs: (used.user + used.system) * 1000 };
}

interface Result extends Timed {
  case: Case;
  nodes: number;
  termStarts: number;
  entries: number;
  nsPerStep: number;
  cpuNsPerStep: number;
  /** throughput: the timed part's counts (checked against the expected counts). */
  counts?: Counts;
}

function singleStep(c: Case, cluster: Cluster, warmMs: number, timedMs: number): Timed {
  const term = cluster.term;
  const leader = cluster.nodes[0]!;
  const follower = cluster.nodes[1]!;
  const last = leader.log.lastIndex;
  let s: RaftState;
  let e: RaftEvent;
  if (c === 'duplicateCall') {
    const starts = flatItems(follower.log.termStarts);
    const k = Math.floor(starts.length / 10);
    const anchor = starts[k]!;
    expect(anchor.index + CHUNK < (starts[k + 1]?.index ?? Infinity), 'term starts too close for the chunk');
    const call: AppendEntries = {
      type: 'appendEntries',
      from: leader.id,
      term,
      commitIndex: leader.commitIndex,
      entries: {
        prevTerm: anchor.term,
        prevIndex: anchor.index,
        lastTerm: anchor.term,
        lastIndex: anchor.index + CHUNK,
        termStarts: [],
        configs: [],
      },
    };
    [s, e] = [follower, call];
    const [next, actions] = step(s, e);
    const reply = actions[actions.length - 1];
    expect(
      next === s &&
        actions.length === 2 &&
        reply?.type === 'send' &&
        reply.message.type === 'appendEntriesReply' &&
        reply.message.lastIndex === last,
      `duplicateCall: expected the same state and a reply at ${last}, got ${JSON.stringify(actions)}`,
    );
  } else if (c === 'termStartCall') {
    const call: AppendEntries = {
      type: 'appendEntries',
      from: cluster.ids[2]!,
      term: term + 1,
      commitIndex: leader.commitIndex,
      entries: {
        prevTerm: term,
        prevIndex: last,
        lastTerm: term + 1,
        lastIndex: last + 1,
        termStarts: [[{ index: last + 1, term: term + 1 }]],
        configs: [],
      },
    };
    [s, e] = [follower, call];
    const [next, actions] = step(s, e);
    expect(
      next.term === term + 1 &&
        next.log.lastIndex === last + 1 &&
        flatItems(next.log.termStarts).at(-1)?.index === last + 1 &&
        actions.some((a) => a.type === 'appendLog') &&
        actions.some((a) => a.type === 'send' && a.message.type === 'appendEntriesReply'),
      `termStartCall: the follower did not append the term start: ${JSON.stringify(actions)}`,
    );
  } else {
    // Two proposals, one step each; the follower's reply to the first one was counted (the commit
    // advanced), and the same reply comes again: it shows no progress, so the leader (flow control
    // on) takes it that the second append was lost and sends the missing entry from its history.
    let l = leader;
    for (let i = 0; i < 2; i++) l = step(l, { type: 'propose' })[0];
    const reply: AppendEntriesReply = {
      type: 'appendEntriesReply',
      from: follower.id,
      term,
      lastTerm: term,
      lastIndex: last + 1,
    };
    l = step(l, reply)[0];
    [s, e] = [l, reply];
    const [next, actions] = step(s, e);
    expect(
      next.commitIndex === last + 1 &&
        actions.some(
          (a) =>
            a.type === 'send' &&
            a.message.type === 'appendEntries' &&
            a.message.entries.prevIndex === last + 1 &&
            a.message.entries.lastIndex === last + 2,
        ),
      `pipelinedReply: expected the missing entry sent again, got ${JSON.stringify(actions)}`,
    );
  }
  return timeLoop((n) => stepLoop(s, e, n), warmMs, timedMs);
}

function positive(arg: string | undefined, fallback: number, what: string): number {
  const x = Number(arg ?? fallback);
  if (!(Number.isSafeInteger(x) && x > 0)) throw new Error(`longhistory: ${what} must be a positive integer`);
  return x;
}

function main(): void {
  const [caseArg, startsArg, entriesArg, warmArg, timedArg] = process.argv.slice(2);
  const c = caseArg as Case;
  if (!CASES.includes(c)) throw new Error(`longhistory: case must be one of ${CASES.join(', ')}`);
  const termStarts = positive(startsArg, NaN, 'term starts');
  const entries = positive(entriesArg, 1_000_000, 'entries');
  const warmMs = positive(warmArg, 100, 'warm-up ms');
  const timedMs = positive(timedArg, 200, 'timed ms');

  const cluster = historyCluster(termStarts, entries);
  // A heartbeat round, so that the followers know the commit index too (checked by `verify`).
  cluster.verify(cluster.formedCommit);
  cluster.resetCounts();

  let timed: Timed;
  let counts: Counts | undefined;
  if (c === 'throughput') {
    let commands = 0;
    const rounds = (n: number): void => {
      for (let i = 0; i < n; i++) cluster.roundPerCommand(1);
      commands += n;
    };
    let committed = cluster.formedCommit;
    timed = timeLoop(rounds, warmMs, timedMs, () => {
      checkCounts(`longhistory warm-up, ${termStarts} term starts`, cluster.counts, expectedCounts(NODES, commands, 1));
      committed += commands;
      cluster.resetCounts();
    });
    counts = { ...cluster.counts };
    checkCounts(`longhistory throughput, ${termStarts} term starts`, counts, expectedCounts(NODES, timed.steps, 1));
    cluster.verify(committed + timed.steps);
  } else {
    timed = singleStep(c, cluster, warmMs, timedMs);
  }
  const result: Result = {
    case: c,
    nodes: NODES,
    termStarts,
    entries,
    ...timed,
    nsPerStep: timed.ns / timed.steps,
    cpuNsPerStep: timed.cpuNs / timed.steps,
  };
  if (counts !== undefined) result.counts = counts;
  console.log(JSON.stringify({ ...result, sink: sink & 1 }));
}

main();
