/**
 * Node options: which protocol extensions a node runs and the bounds it keeps. Plain JSON, given to
 * `startNode(id, options)` and `restartNode({..., options})`, kept in the state (`state.options`).
 *
 * Time in the core is counted in ticks: one tick is one heartbeat interval, the time between two
 * `setTimer {wait: 'heartbeat'}` firings on a leader. The application arms its timers in real time;
 * the options below say how the two relate, and the application must arm them accordingly (see
 * `electionTimeoutTicks`).
 */

/** Every option of a node, with its value. See {@link DEFAULT_OPTIONS} for the defaults. */
export interface NodeOptions {
  /**
   * Pre-vote (Raft thesis §9.6). A node whose election timer fires first asks the voters whether
   * they would vote for it at the next term, without raising its own term; it campaigns only when
   * a majority would. A node that was partitioned away therefore cannot disrupt a healthy leader
   * when it rejoins. A node refuses a pre-vote while it hears from a live leader (its timer has not
   * fired since). Default true.
   */
  readonly preVote: boolean;
  /**
   * Check-quorum. A leader that has not heard from a majority of the voters (of each configuration,
   * while joint) within the last `electionTimeoutTicks` ticks steps down, and a node that hears
   * from a live leader ignores vote requests from other nodes (unless they come from a leadership
   * transfer). Required by `leaseReads`. Default true.
   */
  readonly checkQuorum: boolean;
  /**
   * The minimum election timeout, in ticks (heartbeat intervals): an integer from 2 to 1,000,000.
   * The application must arm a follower's and a candidate's timer (`wait: 'follower'` and
   * `'election'`) for at least this many heartbeat intervals, randomised above it (for example
   * between 1x and 2x). Check-quorum looks back this many ticks; a leadership transfer is
   * abandoned after this many; a lease lasts this many minus `leaseDriftTicks`. Default 10.
   */
  readonly electionTimeoutTicks: number;
  /**
   * Lease reads. The leader answers a read at once, without a round of messages, while its lease
   * holds: for `electionTimeoutTicks - leaseDriftTicks` ticks after the heartbeat round that a
   * majority last acknowledged was sent. Safe only when clocks advance at about the same rate on
   * every node and the leader's timer is not delayed by more than `leaseDriftTicks` ticks in total
   * (a process paused for longer, for example by a stop signal or a long garbage collection, can
   * serve a stale read). Requires `checkQuorum`. Default false.
   */
  readonly leaseReads: boolean;
  /**
   * The margin taken off a lease for clock drift and timer delay, in ticks: an integer from 1 to
   * `electionTimeoutTicks - 1`. Default 2.
   */
  readonly leaseDriftTicks: number;
  /**
   * Flow control (see `flow-control.ts`): a leader tracks the entries it has sent to each follower
   * and not had acknowledged, sends a follower that is behind what it lacks only when nothing is in
   * flight to it (what is in flight will bring it up to date otherwise), pauses a follower with
   * `maxInflightEntries` entries in flight, and sends at most `maxEntriesPerAppend` entries per
   * catch-up message. Off: every reply from a follower that is behind gets everything it lacks at
   * once, as in raftstep 0.1. Default true.
   */
  readonly flowControl: boolean;
  /**
   * Flow control: the most entries a leader keeps in flight to one follower (sent, not yet
   * acknowledged). A follower at the limit receives nothing more until it answers, so a follower that
   * does not answer costs at most this many entries (and, one entry per proposal at the least, this
   * many messages). Counted in entries rather than messages because an application may merge the
   * messages of many steps into one (`mergeActions`), which the node cannot see; entries are the
   * same however the steps were merged. An integer from 1 to 2^53 - 2. Default 16,384.
   */
  readonly maxInflightEntries: number;
  /**
   * Flow control: the most entries one AppendEntries carries when the leader catches a follower up
   * (the rest follows as the follower answers). An integer from 1 to 2^53 - 2. Proposals are not
   * split: one proposal's entries go out in one message. Default 4,096.
   */
  readonly maxEntriesPerAppend: number;
  /**
   * Concurrent leader writes (Raft thesis §10.2.1). A leader's `appendLog` of its own new entries
   * is marked `concurrent: true`: the application may send the messages that follow it while it is
   * still being written, so that the leader's disk write and its followers' run at the same time.
   * The leader then counts its own copy of those entries towards a commit only once the application
   * reports them durable: with this option on, the application must step
   * `{type: 'appendPersisted', term, index}` (see `AppendPersistedEvent`) with the last position of
   * every `appendLog` once that write is durable, on every node, whatever its role. An application
   * that never reports gets a leader that never commits. Off: the leader counts its entries at once
   * and every write must be durable before the messages after it. Default false.
   */
  readonly concurrentLeaderWrites: boolean;
}

/** The defaults: pre-vote, check-quorum and flow control on; lease reads and concurrent leader writes off. */
export const DEFAULT_OPTIONS: NodeOptions = Object.freeze({
  preVote: true,
  checkQuorum: true,
  electionTimeoutTicks: 10,
  leaseReads: false,
  leaseDriftTicks: 2,
  flowControl: true,
  maxInflightEntries: 16_384,
  maxEntriesPerAppend: 4096,
  concurrentLeaderWrites: false,
});

/** The options of {@link DEFAULT_OPTIONS} with every extension off: the protocol of raftstep 0.1. */
export const BASIC_OPTIONS: NodeOptions = Object.freeze({
  ...DEFAULT_OPTIONS,
  preVote: false,
  checkQuorum: false,
  flowControl: false,
});

const MAX_TICKS = 1_000_000;

/**
 * True when a leader's sends (an append, a requested heartbeat) re-arm its heartbeat timer, as in the
 * base protocol: a broadcast counts as a heartbeat, so a busy leader sends no empty ones. With
 * check-quorum or lease reads the leader's timer is its clock (a tick per firing: check-quorum's
 * window, the lease, a transfer's deadline), and a leader under steady load would never tick; so
 * then only a tick (and the start of a leadership) arms it.
 */
export function sendsRearmHeartbeat(o: NodeOptions): boolean {
  return !o.checkQuorum && !o.leaseReads;
}

/**
 * Options completed from the defaults, as a plain copy (each field read once), or the first problem
 * found. Unknown option names are refused, so that a misspelt option is not silently ignored.
 */
export function parseOptions(x: unknown): NodeOptions | string {
  if (x === undefined) return DEFAULT_OPTIONS;
  if (typeof x !== 'object' || x === null || Array.isArray(x)) return 'options must be an object';
  const given = x as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!(key in DEFAULT_OPTIONS))
      return `options.${key} is not an option (known: ${Object.keys(DEFAULT_OPTIONS).join(', ')})`;
  }
  const read = <K extends keyof NodeOptions>(key: K): unknown => (key in given ? given[key] : DEFAULT_OPTIONS[key]);
  const preVote = read('preVote');
  const checkQuorum = read('checkQuorum');
  const leaseReads = read('leaseReads');
  const flowControl = read('flowControl');
  const electionTimeoutTicks = read('electionTimeoutTicks');
  const leaseDriftTicks = read('leaseDriftTicks');
  const maxInflightEntries = read('maxInflightEntries');
  const maxEntriesPerAppend = read('maxEntriesPerAppend');
  const concurrentLeaderWrites = read('concurrentLeaderWrites');
  if (typeof preVote !== 'boolean') return 'options.preVote must be a boolean';
  if (typeof checkQuorum !== 'boolean') return 'options.checkQuorum must be a boolean';
  if (typeof leaseReads !== 'boolean') return 'options.leaseReads must be a boolean';
  if (typeof flowControl !== 'boolean') return 'options.flowControl must be a boolean';
  if (typeof concurrentLeaderWrites !== 'boolean') return 'options.concurrentLeaderWrites must be a boolean';
  if (!isIntegerIn(electionTimeoutTicks, 2, MAX_TICKS))
    return `options.electionTimeoutTicks must be an integer from 2 to ${MAX_TICKS}`;
  if (!isIntegerIn(leaseDriftTicks, 1, electionTimeoutTicks - 1))
    return 'options.leaseDriftTicks must be an integer from 1 to electionTimeoutTicks - 1';
  if (!isIntegerIn(maxInflightEntries, 1, Number.MAX_SAFE_INTEGER - 1))
    return 'options.maxInflightEntries must be an integer from 1 to 2^53 - 2';
  if (!isIntegerIn(maxEntriesPerAppend, 1, Number.MAX_SAFE_INTEGER - 1))
    return 'options.maxEntriesPerAppend must be an integer from 1 to 2^53 - 2';
  if (leaseReads && !checkQuorum) return 'options.leaseReads needs options.checkQuorum';
  return {
    preVote,
    checkQuorum,
    electionTimeoutTicks,
    leaseReads,
    leaseDriftTicks,
    flowControl,
    maxInflightEntries,
    maxEntriesPerAppend,
    concurrentLeaderWrites,
  };
}

function isIntegerIn(x: unknown, lo: number, hi: number): x is number {
  return typeof x === 'number' && Number.isInteger(x) && x >= lo && x <= hi;
}
