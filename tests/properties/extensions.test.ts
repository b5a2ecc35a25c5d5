/**
 * Properties of the protocol extensions (pre-vote, check-quorum, ReadIndex and follower reads,
 * lease reads, leadership transfer), on clusters that model time.
 *
 * Time: the shared test host's clock (tests/support/host.ts, `HostOptions.timerDuration`). One unit
 * of time is one heartbeat interval: a leader's timer (`setTimer heartbeat`) fires one unit after it
 * was armed; a follower's or candidate's (`follower`, `election`) between electionTimeoutTicks and
 * twice that many units after, drawn at random for every arming (the documented contract: at least
 * electionTimeoutTicks heartbeat intervals, randomised above). A `tick` of a schedule moves time on
 * by one unit and steps `timeout` on every node whose timer is then due, so all nodes' clocks run at
 * the same rate. (A timer re-armed within a unit still fires at the next unit: the clock cannot
 * express a delay of less than a heartbeat interval; see the skipped test at the end for what a
 * finer clock finds.)
 *
 * Every step also runs the shared invariant checker (tests/support/checker.ts: one leader per term,
 * committed entries agree and never change, ...), and the host checks the persistence rule; every
 * event here is well-formed, so `invalidEvent` and `fatal` are violations too.
 *
 * Properties:
 * 1. Pre-vote with check-quorum: a node partitioned away that rejoins never raises the cluster's
 *    term while the leader stays healthy (connected to a majority, ticking), whatever the partition
 *    length, the proposal load, and the losses and reorderings inside the majority.
 * 2. Reads are never stale: every `readReady` (leader or follower) has an index at least the commit
 *    index of every write any node knew committed before the read was issued, and at most what is
 *    committed; every read is answered at most once. Under message loss, duplication, reordering,
 *    partitions, crashes, leader changes and leadership transfers (ReadIndex), and with lease reads.
 * 3. Lease reads with clocks in bound: at most one node believes it holds a lease at any time
 *    (`role === 'leader' && options.leaseReads && lead.ticks < lead.leaseUntil`).
 *
 * Seeds are printed (tests/support/seed.ts): replay with FC_SEED=<seed> (and FC_PATH=<path>).
 */
import { seededRandom } from '../../src/host/memory-transport.js';
import { leaseHolds } from '../../src/reads.js';
import fc from 'fast-check';
import {
  DEFAULT_OPTIONS,
  entryCount,
  type RaftAction,
  type Message,
  type NodeOptions,
  type RaftEvent,
  type RaftState,
  step,
} from '../../src/index.js';
import { Checker } from '../support/checker';
import { Host, fail, type Carried, type Stepper } from '../support/host';
import { fcParams } from '../support/seed';
import { nodeIds, runs } from './harness';

// ---------------------------------------------------------------------------------------------
// A cluster with a clock

/** A small deterministic random source (mulberry32), so that a generated seed replays exactly. */
const randomSource = seededRandom;

/** A message on the wire. */
interface Envelope {
  readonly from: string;
  readonly to: string;
  readonly message: Message;
}

/** Called after every step (and restart) carried out, with what it did. */
type Observer = (done: Carried) => void;

/**
 * Nodes on the shared test host with a clock, a network whose deliveries the test chooses, and
 * partitions (a message between two sides is lost when it would be delivered). Every step is
 * checked by the shared checker and reported to the observers.
 */
class TimedCluster {
  readonly host: Host;
  readonly checker: Checker;
  /** The test's own random choices (delivery order, losses), apart from the timers'. */
  readonly rng: () => number;
  readonly inFlight: Envelope[] = [];
  readonly observers: Observer[] = [];
  /** The side of the partition each node is on (all on side 0 when healed). */
  private readonly side = new Map<string, number>();
  readonly counts = { steps: 0, delivered: 0, lost: 0, dropped: 0, restarts: 0 };

  /**
   * `unitsPerTick`: how many units of time make one heartbeat interval (1: a unit is a heartbeat
   * interval; more: a finer clock, where a timer re-armed within an interval fires later).
   */
  constructor(
    readonly ids: readonly string[],
    readonly options: NodeOptions,
    seed: number,
    unitsPerTick = 1,
    stepper: Stepper = step,
  ) {
    const timers = randomSource(seed);
    this.rng = randomSource(seed ^ 0x5bd1e995);
    const e = options.electionTimeoutTicks * unitsPerTick;
    this.host = new Host(ids, {
      step: stepper,
      nodeOptions: options,
      wellFormed: true,
      timerDuration: (_id, wait) => (wait === 'heartbeat' ? unitsPerTick : e + Math.floor(timers() * e)),
    });
    this.checker = new Checker(this.host);
  }

  state(id: string): RaftState {
    return this.host.state(id);
  }

  /** The time, in heartbeat intervals. */
  get now(): number {
    return this.host.now;
  }

  /** Step `event` on node `id`, put what it sent on the wire, check, and tell the observers. */
  step(id: string, event: RaftEvent): Carried {
    const done = this.host.step(id, [event]);
    this.counts.steps++;
    this.after(done);
    return done;
  }

  /** Crash node `id` and bring it back from what it stored (its timer is armed again). */
  restart(id: string): void {
    this.counts.restarts++;
    this.after(this.host.restart(id));
  }

  private after(done: Carried): void {
    for (const o of done.out) {
      if (o.kind === 'msg') this.inFlight.push({ from: o.from, to: o.to, message: o.message });
      else fail(`${o.from}: a snapshot transfer, although nothing here compacts`);
    }
    this.checker.check();
    for (const observe of this.observers) observe(done);
  }

  /** One unit of time passes: every node whose timer is due steps `timeout`. */
  tick(): void {
    for (const id of this.host.advance()) this.step(id, { type: 'timeout' });
  }

  connected(a: string, b: string): boolean {
    return (this.side.get(a) ?? 0) === (this.side.get(b) ?? 0);
  }

  /** Put the nodes of `ids` on side 1 of a partition, the others on side 0. */
  partition(ids: readonly string[]): void {
    this.side.clear();
    for (const id of ids) this.side.set(id, 1);
  }

  heal(): void {
    this.side.clear();
  }

  /** Take message `k` off the wire and deliver it (lost when a partition lies between its ends). */
  deliver(k: number): void {
    const [e] = this.inFlight.splice(k, 1);
    if (e === undefined) return;
    if (!this.connected(e.from, e.to)) {
      this.counts.lost++;
      return;
    }
    this.counts.delivered++;
    this.step(e.to, e.message);
  }

  drop(k: number): void {
    if (this.inFlight.splice(k, 1).length > 0) this.counts.dropped++;
  }

  duplicate(k: number): void {
    const e = this.inFlight[k];
    if (e !== undefined) this.inFlight.push(e);
  }

  /**
   * Deliver what is on the wire, in random order, including what the deliveries send, until nothing
   * is left (or `limit` deliveries). `hold(e)` may keep a message back: `'drop'` loses it,
   * `'delay'` leaves it on the wire for later; `'deliver'` (the default) delivers it.
   */
  flush(hold: (e: Envelope) => 'deliver' | 'drop' | 'delay' = () => 'deliver', limit = 2000): void {
    const later: Envelope[] = [];
    for (let n = 0; n < limit && this.inFlight.length > 0; n++) {
      const k = Math.floor(this.rng() * this.inFlight.length);
      const what = hold(this.inFlight[k]!);
      if (what === 'deliver') this.deliver(k);
      else if (what === 'drop') this.drop(k);
      else later.push(...this.inFlight.splice(k, 1));
    }
    this.inFlight.push(...later);
  }

  /** The node that leads in the highest term, if any. */
  leader(): RaftState | null {
    let best: RaftState | null = null;
    for (const id of this.ids) {
      const s = this.state(id);
      if (s.role === 'leader' && (best === null || s.term > best.term)) best = s;
    }
    return best;
  }
}

/** The options of these clusters: the defaults (pre-vote, check-quorum, flow control), a short timeout. */
function optionsWith(extra: Partial<NodeOptions> = {}): NodeOptions {
  return { ...DEFAULT_OPTIONS, electionTimeoutTicks: 4, ...extra };
}

/** Form the cluster on the first node and run until it has a leader every other node follows. */
function bootstrap(c: TimedCluster): RaftState {
  c.step(c.ids[0]!, { type: 'createCluster', voters: c.ids.slice() });
  for (let u = 0; u < 50; u++) {
    c.flush();
    const l = c.leader();
    const settled =
      l !== null &&
      l.commitIndex === l.log.lastIndex &&
      c.ids.every((id) => id === l.id || (c.state(id).votedFor === l.id && c.state(id).leaderAlive));
    if (settled) return l;
    c.tick();
  }
  throw new Error('the cluster did not settle on a leader within 50 ticks');
}

function log(name: string, x: unknown): void {
  // eslint-disable-next-line no-console
  console.log(`[coverage] ${name}: ${JSON.stringify(x)}`);
}

// ---------------------------------------------------------------------------------------------
// 1. Pre-vote: a node that rejoins does not raise the term

interface RejoinCase {
  readonly nodes: 3 | 5;
  readonly seed: number;
  /** Which follower is cut off (an index among the followers). */
  readonly victim: number;
  /** How long it is cut off, in ticks. */
  readonly partitionTicks: number;
  /** Proposals on the leader at each tick of the partition (a command count, 0 for none). */
  readonly load: readonly number[];
  /** Inside the majority, the chance that a message carrying entries is lost, or held for later. */
  readonly dropRate: number;
  readonly delayRate: number;
  /**
   * Heal the partition just before the cut-off node's timer fires (so that its pre-vote reaches the
   * majority before the leader's next heartbeat reaches it), rather than at a random moment.
   */
  readonly healAtTimeout: boolean;
}

const rejoinCaseArb: fc.Arbitrary<RejoinCase> = fc.record({
  nodes: fc.constantFrom<3 | 5>(3, 3, 5),
  seed: fc.integer(),
  victim: fc.nat({ max: 3 }),
  partitionTicks: fc.integer({ min: 4, max: 30 }),
  load: fc.array(fc.nat({ max: 3 }), { minLength: 30, maxLength: 30 }),
  dropRate: fc.double({ min: 0, max: 0.4, noNaN: true }),
  delayRate: fc.double({ min: 0, max: 0.4, noNaN: true }),
  healAtTimeout: fc.boolean(),
});

/**
 * Messages the majority side may lose or reorder without making the leader unhealthy: appends that
 * carry entries. Heartbeats (empty appends) and every reply get through within their tick, so the
 * leader keeps hearing from a majority (check-quorum) and its followers keep hearing from it.
 */
function carriesEntries(m: Message): boolean {
  return m.type === 'appendEntries' && entryCount(m.entries) > 0;
}

interface RejoinTotals {
  runs: number;
  preVotesByVictim: number;
  refusedWhileLeaderAlive: number;
  proposals: number;
  dropped: number;
}

function runRejoin(t: RejoinCase, totals: RejoinTotals): void {
  const c = new TimedCluster(nodeIds(t.nodes), optionsWith(), t.seed);
  const leader = bootstrap(c);
  const term = leader.term;
  const followers = c.ids.filter((id) => id !== leader.id);
  const victim = followers[t.victim % followers.length]!;
  // From here on: the term never rises anywhere, and the leader never changes.
  c.observers.push((done) => {
    if (done.after.term > term) {
      fail(`${done.id} raised its term to ${done.after.term} (the cluster's is ${term}) at time ${c.now}`);
    }
    const l = c.state(leader.id);
    if (l.role !== 'leader') fail(`the leader ${leader.id} lost its leadership at time ${c.now}`);
  });

  c.partition([victim]);
  const hold = (e: Envelope): 'deliver' | 'drop' | 'delay' => {
    if (!carriesEntries(e.message)) return 'deliver';
    const r = c.rng();
    return r < t.dropRate ? 'drop' : r < t.dropRate + t.delayRate ? 'delay' : 'deliver';
  };
  for (let u = 0; u < t.partitionTicks; u++) {
    c.tick();
    const count = t.load[u % t.load.length]!;
    if (count > 0) {
      c.step(leader.id, { type: 'propose', count });
      totals.proposals += count;
    }
    c.flush(hold);
  }
  // Wait (at most two election timeouts) for the cut-off node's timer to be due at the next tick.
  const e = c.options.electionTimeoutTicks;
  for (let u = 0; t.healAtTimeout && u < 2 * e && c.host.node(victim).timerDue !== c.now + 1; u++) {
    c.tick();
    c.flush(hold);
  }

  c.heal();
  for (let u = 0; u < 4 * e; u++) {
    c.tick();
    c.flush();
  }

  // The victim follows the same leader again, in the same term, and has caught up.
  const l = c.state(leader.id);
  const v = c.state(victim);
  if (v.role !== 'follower' || v.votedFor !== leader.id || v.term !== term) {
    fail(`${victim} did not rejoin ${leader.id}'s term ${term}: ${v.role} term=${v.term} votedFor=${v.votedFor}`);
  }
  if (v.log.lastIndex !== l.log.lastIndex) {
    fail(`${victim} did not catch up: its last index is ${v.log.lastIndex}, the leader's ${l.log.lastIndex}`);
  }
  totals.runs++;
  totals.preVotesByVictim += v.metrics.preVotesStarted;
  totals.dropped += c.counts.dropped;
  for (const id of c.ids) totals.refusedWhileLeaderAlive += c.state(id).metrics.preVotesRefusedWhileLeaderAlive;
}

describe('pre-vote and check-quorum', () => {
  test('a node that was cut off and rejoins never raises the term of a healthy cluster', () => {
    const totals: RejoinTotals = { runs: 0, preVotesByVictim: 0, refusedWhileLeaderAlive: 0, proposals: 0, dropped: 0 };
    fc.assert(
      fc.property(rejoinCaseArb, (t) => runRejoin(t, totals)),
      fcParams('extensions: pre-vote rejoin', runs(150)),
    );
    log('pre-vote rejoin', totals);
    if (process.env.FC_PATH) return;
    // The cut-off node did campaign (pre-votes), and its pre-votes were refused after it rejoined.
    expect(totals.preVotesByVictim).toBeGreaterThan(totals.runs);
    expect(totals.refusedWhileLeaderAlive).toBeGreaterThan(0);
    expect(totals.proposals).toBeGreaterThan(0);
    expect(totals.dropped).toBeGreaterThan(0);
  });
});

// ---------------------------------------------------------------------------------------------
// Random schedules, for reads and leases

/** One scheduling decision. Indices are taken modulo the number of nodes / messages in flight. */
type Choice =
  | { readonly t: 'tick' }
  | { readonly t: 'deliver'; readonly k: number }
  | { readonly t: 'drop'; readonly k: number }
  | { readonly t: 'duplicate'; readonly k: number }
  | { readonly t: 'flush' }
  | { readonly t: 'propose'; readonly i: number; readonly onLeader: boolean }
  | { readonly t: 'read'; readonly i: number }
  | { readonly t: 'partition'; readonly mask: number }
  | { readonly t: 'isolateLeader' }
  | { readonly t: 'heal' }
  | { readonly t: 'transfer'; readonly j: number }
  | { readonly t: 'restart'; readonly i: number };

interface Weights {
  readonly tick: number;
  readonly deliver: number;
  readonly drop: number;
  readonly duplicate: number;
  readonly flush: number;
  readonly propose: number;
  readonly read: number;
  readonly partition: number;
  /** Cut the newest leader off from every other node. */
  readonly isolateLeader: number;
  readonly heal: number;
  readonly transfer: number;
  readonly restart: number;
}

const WEIGHTS: Weights = {
  tick: 16,
  deliver: 40,
  drop: 4,
  duplicate: 2,
  flush: 10,
  propose: 8,
  read: 10,
  partition: 2,
  isolateLeader: 1,
  heal: 4,
  transfer: 2,
  restart: 1,
};

function choiceArb(w: Weights): fc.Arbitrary<Choice> {
  const k = fc.nat({ max: 1000 });
  const i = fc.nat({ max: 99 });
  const arbs: Array<{ weight: number; arbitrary: fc.Arbitrary<Choice> }> = [
    { weight: w.tick, arbitrary: fc.constant({ t: 'tick' as const }) },
    { weight: w.deliver, arbitrary: k.map((k) => ({ t: 'deliver' as const, k })) },
    { weight: w.drop, arbitrary: k.map((k) => ({ t: 'drop' as const, k })) },
    { weight: w.duplicate, arbitrary: k.map((k) => ({ t: 'duplicate' as const, k })) },
    { weight: w.flush, arbitrary: fc.constant({ t: 'flush' as const }) },
    {
      weight: w.propose,
      arbitrary: fc.record({ t: fc.constant('propose' as const), i, onLeader: fc.boolean() }),
    },
    { weight: w.read, arbitrary: i.map((i) => ({ t: 'read' as const, i })) },
    { weight: w.partition, arbitrary: fc.nat({ max: 31 }).map((mask) => ({ t: 'partition' as const, mask })) },
    { weight: w.isolateLeader, arbitrary: fc.constant({ t: 'isolateLeader' as const }) },
    { weight: w.heal, arbitrary: fc.constant({ t: 'heal' as const }) },
    { weight: w.transfer, arbitrary: i.map((j) => ({ t: 'transfer' as const, j })) },
    { weight: w.restart, arbitrary: i.map((i) => ({ t: 'restart' as const, i })) },
  ];
  return fc.oneof(...arbs.filter((a) => a.weight > 0));
}

function scheduleArb(maxLength: number, w: Weights): fc.Arbitrary<Choice[]> {
  return fc.array(choiceArb(w), { minLength: 1, maxLength, size: 'max' });
}

/** Carry out one decision. `read` issues the read with a fresh id through `issueRead`. */
function run(c: TimedCluster, choice: Choice, issueRead: (id: string) => void): void {
  const n = c.ids.length;
  const len = c.inFlight.length;
  switch (choice.t) {
    case 'tick':
      c.tick();
      return;
    case 'deliver':
      if (len > 0) c.deliver(choice.k % len);
      return;
    case 'drop':
      if (len > 0) c.drop(choice.k % len);
      return;
    case 'duplicate':
      if (len > 0) c.duplicate(choice.k % len);
      return;
    case 'flush':
      c.flush();
      return;
    case 'propose': {
      const l = choice.onLeader ? c.leader() : null;
      c.step(l?.id ?? c.ids[choice.i % n]!, { type: 'propose' });
      return;
    }
    case 'read':
      issueRead(c.ids[choice.i % n]!);
      return;
    case 'partition':
      c.partition(c.ids.filter((_, k) => (choice.mask >> k) & 1));
      return;
    case 'isolateLeader': {
      const l = c.leader();
      if (l !== null) c.partition([l.id]);
      return;
    }
    case 'heal':
      c.heal();
      return;
    case 'transfer': {
      const l = c.leader();
      if (l !== null) c.step(l.id, { type: 'transferLeadership', to: c.ids[choice.j % n]! });
      return;
    }
    case 'restart':
      c.restart(c.ids[choice.i % n]!);
      return;
  }
}

// ---------------------------------------------------------------------------------------------
// 2. Reads are never stale

/**
 * Follows every read from issue to answer. A read issued on node N records the highest commit index
 * any node has ever known (every write acknowledged so far lies at or below it); its `readReady`
 * must not be below that, nor above what is committed. A crash loses the reads of the crashed node.
 */
class ReadTracker {
  /** The highest commit index any node has known, over the whole run. */
  private committed = 0;
  private next = 0;
  private readonly pending = new Map<
    string,
    { readonly node: string; readonly required: number; readonly behind: boolean }
  >();
  readonly counts = {
    issued: 0,
    readyOnLeader: 0,
    readyOnFollower: 0,
    readyAtOnce: 0,
    staleCandidates: 0,
    answeredWhileBehind: 0,
    rejected: 0,
    lostInCrash: 0,
  };

  constructor(private readonly c: TimedCluster) {
    c.observers.push((done) => this.observe(done));
  }

  issue(node: string): void {
    const id = `r${++this.next}`;
    // `behind`: the node itself had not learned every commit yet, so its own commit index would be
    // a stale answer.
    const behind = this.c.state(node).commitIndex < this.committed;
    this.pending.set(id, { node, required: this.committed, behind });
    this.counts.issued++;
    const done = this.c.step(node, { type: 'read', id });
    if (done.actions.some((a) => a.type === 'readReady' && a.id === id)) this.counts.readyAtOnce++;
  }

  private observe(done: Carried): void {
    if (done.after.commitIndex > this.committed) this.committed = done.after.commitIndex;
    for (const a of done.actions) this.answer(done, a);
  }

  /** A restart: the reads the node held die with its memory. */
  crashed(node: string): void {
    for (const [id, r] of this.pending) {
      if (r.node === node) {
        this.pending.delete(id);
        this.counts.lostInCrash++;
      }
    }
  }

  private answer(done: Carried, a: RaftAction): void {
    if (a.type !== 'readReady' && !(a.type === 'rejected' && a.request === 'read')) return;
    const id = a.type === 'readReady' ? a.id : a.id!;
    const r = this.pending.get(id);
    if (r === undefined) fail(`${done.id}: read ${id} answered, but it was never issued or already answered`);
    if (r.node !== done.id) fail(`${done.id}: answered read ${id}, which was issued on ${r.node}`);
    this.pending.delete(id);
    if (a.type === 'rejected') {
      this.counts.rejected++;
      return;
    }
    if (a.index < r.required) {
      fail(
        `stale read: ${done.id} answered read ${id} with index ${a.index}, but index ${r.required} was known ` +
          `committed before the read was issued (time ${this.c.now})`,
      );
    }
    if (a.index > this.committed) {
      fail(`${done.id} answered read ${id} with index ${a.index}, above every commit index known (${this.committed})`);
    }
    if (r.required > 0) this.counts.staleCandidates++;
    if (r.behind) this.counts.answeredWhileBehind++;
    if (done.after.role === 'leader') this.counts.readyOnLeader++;
    else this.counts.readyOnFollower++;
  }
}

// ---------------------------------------------------------------------------------------------
// 3. At most one lease

/** The nodes that believe they hold a lease. */
function leaseHolders(c: TimedCluster): string[] {
  return c.ids.filter((id) => {
    const s = c.state(id);
    return s.role === 'leader' && leaseHolds(s);
  });
}

interface ScheduleTotals {
  runs: number;
  steps: number;
  ticks: number;
  leaderChanges: number;
  transfersStarted: number;
  restarts: number;
  lost: number;
  reads: ReadTracker['counts'];
  leaseTime: number;
  leaseHandovers: number;
}

function newScheduleTotals(): ScheduleTotals {
  return {
    runs: 0,
    steps: 0,
    ticks: 0,
    leaderChanges: 0,
    transfersStarted: 0,
    restarts: 0,
    lost: 0,
    reads: {
      issued: 0,
      readyOnLeader: 0,
      readyOnFollower: 0,
      readyAtOnce: 0,
      staleCandidates: 0,
      answeredWhileBehind: 0,
      rejected: 0,
      lostInCrash: 0,
    },
    leaseTime: 0,
    leaseHandovers: 0,
  };
}

/**
 * Run `schedule` on a fresh cluster of `n` nodes with `options`, checking the read property after
 * every step and, with `checkLeases`, that at most one node believes it holds a lease.
 */
function runSchedule(
  n: number,
  options: NodeOptions,
  seed: number,
  schedule: readonly Choice[],
  totals: ScheduleTotals,
  checkLeases: boolean,
  stepper?: Stepper,
): void {
  const c = new TimedCluster(nodeIds(n), options, seed, 1, stepper);
  const reads = new ReadTracker(c);
  let lastHolder: string | null = null;
  if (checkLeases) {
    c.observers.push((done) => {
      const holders = leaseHolders(c);
      if (holders.length > 1) {
        const show = holders.map((id) => {
          const s = c.state(id);
          return `${id} (term ${s.term}, ticks ${s.lead!.ticks} < ${s.lead!.leaseUntil})`;
        });
        fail(`two leases at time ${c.now}, after a step of ${done.id}: ${show.join(' and ')}`);
      }
      if (holders.length === 1 && holders[0] !== lastHolder) {
        if (lastHolder !== null) totals.leaseHandovers++;
        lastHolder = holders[0]!;
      }
    });
  }
  c.step(c.ids[0]!, { type: 'createCluster', voters: c.ids.slice() });
  for (const choice of schedule) {
    if (choice.t === 'restart') reads.crashed(c.ids[choice.i % n]!);
    run(c, choice, (node) => reads.issue(node));
    if (choice.t === 'tick') {
      totals.ticks++;
      if (checkLeases && leaseHolders(c).length > 0) totals.leaseTime++;
    }
  }
  totals.runs++;
  totals.steps += c.counts.steps;
  totals.restarts += c.counts.restarts;
  totals.lost += c.counts.lost;
  totals.leaderChanges += c.checker.coverage().leaderChanges;
  for (const id of c.ids) totals.transfersStarted += c.state(id).metrics.transfersStarted;
  for (const k of Object.keys(reads.counts) as Array<keyof ReadTracker['counts']>) totals.reads[k] += reads.counts[k];
}

const scheduleCaseArb = (w: Weights): fc.Arbitrary<{ seed: number; schedule: Choice[] }> =>
  fc.record({ seed: fc.integer(), schedule: scheduleArb(400, w) });

describe('reads and leases', () => {
  test('ReadIndex, 3 nodes: no read returns an index below a write known committed before it was issued', () => {
    const totals = newScheduleTotals();
    fc.assert(
      fc.property(scheduleCaseArb(WEIGHTS), ({ seed, schedule }) =>
        runSchedule(3, optionsWith(), seed, schedule, totals, false),
      ),
      fcParams('extensions: ReadIndex never stale, 3 nodes', runs(200)),
    );
    log('ReadIndex never stale, 3 nodes', totals);
    if (process.env.FC_PATH) return;
    expect(totals.reads.readyOnLeader).toBeGreaterThan(totals.runs);
    expect(totals.reads.readyOnFollower).toBeGreaterThan(totals.runs);
    expect(totals.reads.answeredWhileBehind).toBeGreaterThan(totals.runs / 4);
    expect(totals.reads.rejected).toBeGreaterThan(0);
    expect(totals.leaderChanges).toBeGreaterThan(totals.runs / 2);
    expect(totals.transfersStarted).toBeGreaterThan(totals.runs / 4);
  });

  test('ReadIndex, 5 nodes: the same', () => {
    const totals = newScheduleTotals();
    fc.assert(
      fc.property(scheduleCaseArb(WEIGHTS), ({ seed, schedule }) =>
        runSchedule(5, optionsWith(), seed, schedule, totals, false),
      ),
      fcParams('extensions: ReadIndex never stale, 5 nodes', runs(60)),
    );
    log('ReadIndex never stale, 5 nodes', totals);
    if (process.env.FC_PATH) return;
    expect(totals.reads.readyOnFollower).toBeGreaterThan(totals.runs);
    expect(totals.leaderChanges).toBeGreaterThan(totals.runs / 4);
  });

  // Leadership transfers are left out of the random schedules: the window in which a transfer
  // could break a lease is too narrow for them to hit; 'regressions' below covers it exactly.
  test('lease reads: no read returns a stale index, and at most one node holds a lease at any time', () => {
    const totals = newScheduleTotals();
    const options = optionsWith({ leaseReads: true, leaseDriftTicks: 1 });
    fc.assert(
      fc.property(scheduleCaseArb({ ...WEIGHTS, transfer: 0 }), ({ seed, schedule }) =>
        runSchedule(3, options, seed, schedule, totals, true),
      ),
      fcParams('extensions: lease reads', runs(200)),
    );
    log('lease reads', totals);
    if (process.env.FC_PATH) return;
    expect(totals.reads.readyAtOnce).toBeGreaterThan(totals.runs);
    expect(totals.reads.answeredWhileBehind).toBeGreaterThan(0);
    expect(totals.leaseTime).toBeGreaterThan(totals.ticks / 8);
    expect(totals.leaseHandovers).toBeGreaterThan(totals.runs / 8);
    expect(totals.leaderChanges).toBeGreaterThan(totals.runs / 2);
  });

  describe('the checks catch a broken core (so passing means something)', () => {
    // Up to 2,000 schedules, stopping at the first that fails: most seeds catch each mutant within a
    // few dozen, but 300 were not always enough (seed 704386012 needed more for the hasty reads), and
    // the seed changes with every run.
    function expectCaught(name: string, stepper: Stepper, options: NodeOptions, leases: boolean, what: RegExp): void {
      const result = fc.check(
        fc.property(scheduleCaseArb({ ...WEIGHTS, transfer: 0 }), ({ seed, schedule }) =>
          runSchedule(3, options, seed, schedule, newScheduleTotals(), leases, stepper),
        ),
        { ...fcParams(name, runs(2000)), path: undefined, endOnFailure: true },
      );
      expect(result.failed).toBe(true);
      expect(String(result.errorInstance)).toMatch(what);
    }

    test('a leader that answers reads at once, without a round: stale reads', () => {
      const hasty: Stepper = (s, e) =>
        e.type === 'read' && s.role === 'leader' && s.reads.every((r) => r.id !== e.id)
          ? [s, [{ type: 'readReady', id: e.id, index: s.commitIndex }]]
          : step(s, e);
      expectCaught('mutant: reads without a round', hasty, optionsWith(), false, /stale read/);
    });

    // (A lease a little too long is not enough to break the property: check-quorum steps a cut-off
    // leader down electionTimeoutTicks after it last heard from its majority, before any of that
    // majority can vote for another.)
    test('a leader whose clock stops: its lease never runs out (two leases, or a stale read)', () => {
      const frozen: Stepper = (s, e) => {
        const [next, actions] = step(s, e);
        if (e.type !== 'timeout' || s.role !== 'leader' || next.role !== 'leader') return [next, actions];
        return [{ ...next, lead: { ...next.lead, ticks: s.lead.ticks } }, actions];
      };
      const options = optionsWith({ leaseReads: true, leaseDriftTicks: 1 });
      expectCaught('mutant: frozen leader clock', frozen, options, true, /two leases|stale read/);
    });
  });
});

// ---------------------------------------------------------------------------------------------
// Two core bugs found by these properties, kept as deterministic regressions

describe('regressions: two ways a lease outlived its leader', () => {
  /** A 3-node cluster with lease reads, observed by the lease and read checks; a leads. */
  function leaseCluster(unitsPerTick: number): { c: TimedCluster; reads: ReadTracker; a: string; b: string } {
    const c = new TimedCluster(nodeIds(3), optionsWith({ leaseReads: true, leaseDriftTicks: 1 }), 1, unitsPerTick);
    const reads = new ReadTracker(c);
    c.observers.push((done) => {
      const holders = leaseHolders(c);
      if (holders.length > 1) fail(`two leases at time ${c.now}, after a step of ${done.id}: ${holders.join(' and ')}`);
    });
    const a = bootstrap(c).id;
    // One heartbeat interval: a's round is acknowledged, a holds a lease.
    for (let u = 0; u < unitsPerTick; u++) c.tick();
    c.flush();
    expect(leaseHolders(c)).toEqual([a]);
    return { c, reads, a, b: c.ids.find((id) => id !== a)! };
  }

  // The leader a hands leadership to b. b campaigns with `transfer`, which voters grant even while
  // they hear from a; b wins and gets its own lease. a, which has not heard of b yet (it is cut off
  // right after sending timeoutNow), still holds its lease and answers a read with its old commit
  // index although b has committed more: two leases, and a stale read. Fix: a leader that starts a
  // transfer (or at the latest sends timeoutNow) must stop serving lease reads (treat the lease as
  // expired while `transferTo` is set; a read then needs a round, which b's voters will not
  // acknowledge in a's term).
  test('a leader handing leadership over gives up its lease', () => {
    const { c, reads, a, b } = leaseCluster(1);
    c.step(a, { type: 'transferLeadership', to: b });
    c.flush((e) => (e.message.type === 'timeoutNow' ? 'deliver' : 'delay'));
    c.partition([a]);
    c.flush();
    c.tick(); // b's first round: b holds a lease too (the 'two leases' check fails here)
    c.flush();
    c.step(b, { type: 'propose' });
    c.flush();
    reads.issue(a); // a answers at once with its old commit index (the 'stale read' check)
  });

  // Time is measured in leader ticks, a tick being a firing of the heartbeat timer. But every
  // proposal (and every `heartbeat` event) asks for `setTimer heartbeat`, which cancels the armed
  // timer and arms it again: a leader that takes proposals more often than once per heartbeat
  // interval never ticks. Its clock stops: check-quorum never steps it down and its lease never
  // runs out. Here the leader a is cut off and its clients keep proposing (twice per heartbeat
  // interval, a clock of 2 units per interval): b and c elect b after their election timeout, and b
  // gets a lease while a still believes in its own. Fix: do not re-arm the heartbeat timer on
  // appends and `heartbeat` events (or count ticks from something a proposal cannot postpone).
  test("proposals do not stop the leader's clock", () => {
    const { c, reads, a } = leaseCluster(2);
    c.partition([a]);
    for (let u = 0; u < 40; u++) {
      c.step(a, { type: 'propose' });
      c.tick();
      c.flush();
    }
    // (the 'two leases' check would fail during the loop; as it is, a stepped down by check-quorum
    // and, cut off, has been timing out since)
    expect(c.state(a).role).not.toBe('leader');
    reads.issue(a);
  });
});
