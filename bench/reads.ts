/**
 * Linearizable reads: the cost of a read through ReadIndex, alone and with many reads sharing one
 * leadership-check round, and of a lease read. Three nodes with the default options (lease reads on
 * for the lease mode), formed as in the throughput workload; messages go through one FIFO queue and
 * are delivered until quiescent, as there.
 *
 * One round: the leader steps `R` reads (their actions merged), the queue runs until quiescent (the
 * leadership check to both followers and their two acknowledgements), and every read must have
 * been answered with `readReady` at the leader's commit index. Lease mode: the lease is renewed
 * once before timing (one tick and its round), and each read is answered in its own step.
 *
 * Usage: node build/bench/reads.js <round|lease> <R reads per round> <timed reads> [warm-up reads]
 * Prints one JSON line: {mode, readsPerRound, reads, ns, nsPerRead, readsPerSecond, messages}.
 */
import {
  mergeActions,
  startNode,
  step,
  type RaftActions,
  type Message,
  type RaftEvent,
  type RaftState,
} from '../src/index.js';

const IDS = ['0', '1', '2'];

/** Three nodes and a FIFO queue of (destination, message). */
class Trio {
  readonly nodes = new Map<string, RaftState>();
  private queue: Array<[string, Message]> = [];
  messages = 0;
  readyCount = 0;

  constructor(leaseReads: boolean) {
    for (const id of IDS) this.nodes.set(id, startNode(id, { leaseReads })[0]);
  }

  stepAndQueue(id: string, event: RaftEvent): void {
    const [s, actions] = step(this.nodes.get(id)!, event);
    this.nodes.set(id, s);
    this.carry(id, actions);
  }

  carry(id: string, actions: RaftActions): void {
    for (const a of actions) {
      if (a.type === 'broadcast') for (const to of IDS) if (to !== id) this.queue.push([to, a.message]);
      if (a.type === 'send') this.queue.push([a.to, a.message]);
      if (a.type === 'readReady') this.readyCount++;
    }
  }

  run(): void {
    for (let k = 0; k < this.queue.length; k++) {
      const [to, m] = this.queue[k]!;
      this.messages++;
      this.stepAndQueue(to, m);
    }
    this.queue = [];
  }
}

function formed(leaseReads: boolean): Trio {
  const t = new Trio(leaseReads);
  t.stepAndQueue('0', { type: 'createCluster', voters: IDS });
  t.run();
  const leader = t.nodes.get('0')!;
  if (leader.role !== 'leader' || leader.commitIndex !== 2) throw new Error('reads: setup failed');
  return t;
}

let nextId = 0;

/** One round of `r` reads on the leader; every one must be answered. */
function roundOf(t: Trio, r: number): void {
  let leader = t.nodes.get('0')!;
  let merged: RaftActions = [];
  for (let i = 0; i < r; i++) {
    const [s, actions] = step(leader, { type: 'read', id: `r${nextId++}` });
    leader = s;
    merged = mergeActions(merged, actions);
  }
  t.nodes.set('0', leader);
  t.carry('0', merged);
  t.run();
}

/** `n` lease reads, each in its own step, answered at once. */
function leaseReadsOf(t: Trio, n: number): void {
  let leader = t.nodes.get('0')!;
  for (let i = 0; i < n; i++) {
    const [s, actions] = step(leader, { type: 'read', id: `r${nextId++}` });
    leader = s;
    if (actions.length !== 1 || actions[0]!.type !== 'readReady') throw new Error('reads: the lease did not hold');
    t.readyCount++;
  }
  t.nodes.set('0', leader);
}

function main(): void {
  const [mode, rArg, nArg, warmArg] = process.argv.slice(2);
  const r = Number(rArg);
  const n = Number(nArg);
  const warm = Number(warmArg ?? n);
  if ((mode !== 'round' && mode !== 'lease') || !(r >= 1) || !(n >= r) || !(warm >= 0)) {
    throw new Error('usage: reads.js <round|lease> <R> <timed reads> [warm-up reads]');
  }
  const t = formed(mode === 'lease');
  if (mode === 'lease') {
    t.stepAndQueue('0', { type: 'timeout' }); // a tick: heartbeat and a leadership check renew the lease
    t.run();
  }
  const once = mode === 'lease' ? (k: number) => leaseReadsOf(t, k) : (k: number) => roundOf(t, k);
  for (let done = 0; done < warm; done += r) once(r);
  const before = t.readyCount;
  const messagesBefore = t.messages;
  const rounds = Math.floor(n / r);
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < rounds; i++) once(r);
  const ns = Number(process.hrtime.bigint() - t0);
  const reads = rounds * r;
  if (t.readyCount - before !== reads) throw new Error(`reads: ${t.readyCount - before} answered of ${reads}`);
  console.log(
    JSON.stringify({
      mode,
      readsPerRound: r,
      reads,
      ns,
      nsPerRead: ns / reads,
      readsPerSecond: Math.round((reads * 1e9) / ns),
      messages: t.messages - messagesBefore,
    }),
  );
}

main();
