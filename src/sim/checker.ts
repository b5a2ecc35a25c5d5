/**
 * The invariant checker: Raft's safety properties, checked incrementally after every event of a
 * world (see `World`), so that a long run costs time proportional to its events, not to its history.
 *
 * - Election safety: at most one leader per term.
 * - Log matching: every log agrees with the one history the leaders wrote. Each term's entries are
 *   written by its leader only, so the checker keeps, per term, where its leader started it (and the
 *   term before that point), how far it went, and the configuration entries it wrote; every log must
 *   start each term where its leader did, after the same term, and hold no more of it than its
 *   leader wrote. Two logs that agree with that history agree with each other up to any common
 *   entry — the log matching property — and their snapshot boundaries agree with what was committed.
 * - Leader append-only: during its tenure a leader's log only grows.
 * - Leader completeness: a new leader holds every entry committed in an earlier term (and a current
 *   leader of a later term holds every entry as soon as its commit becomes known).
 * - State-machine safety: a global record keeps what was committed at each index (its term, its
 *   command payload, and the hash chain of the commands up to it); every replica must apply exactly
 *   that, and every snapshot must hold the state machine of the record at its index.
 * - A node's term and commit index never decrease while it runs; its durable term never decreases.
 * - A leader's match index for a follower (`followerMatchIndex`) never decreases within its tenure.
 * - Elected by a majority: a node that becomes leader of term t had received votes of t from a
 *   majority of the voters of its latest configuration (of each voter set while joint), and each of
 *   those voters had cast that vote (every vote any node casts is recorded as it happens). Checked the
 *   moment the leadership starts — not only later, if a second leader of the same term appears.
 * - Election restriction: a node votes only for a candidate whose last log position is at least as up
 *   to date as its own (Raft §5.4.1), checked on every vote as it is cast.
 * - Committed by a majority: when a leader raises its commit index to c, a majority of the voters
 *   of its latest configuration (of each set while joint) hold its entry at c — in their current
 *   log (written, durable or not: a lenient reading), under their snapshot, or, for a node that is
 *   down, in its durable log; with concurrent leader writes, the leader's own copy counts only in
 *   its durable log (it may send its entries before writing them). Checked at the moment of the
 *   commit, not only later, if a faulty commit happens to be overwritten.
 * - No pre-vote while a leader is alive (pre-vote, Raft thesis §9.6): a node grants no pre-vote
 *   while it leads, or while it follows a leader whose message (AppendEntries or leadership check of
 *   its term) it accepted since its election timer last fired. The checker keeps that contact
 *   itself, from the events each node stepped, and counts it only where raftstep's rule surely does
 *   (a restarted node, which raftstep also counts as hearing from a leader, is not counted), so a
 *   correct node is never reported.
 * - Reads are confirmed (ReadIndex, Raft thesis §6.4; lease reads off): a leader answers a read —
 *   its own (`readReady`) or one a follower forwarded (`readIndexReply` with an index) — only once a
 *   majority of the voters (of each set while joint; itself included) acknowledged a leadership
 *   check it sent after the read arrived. The checker keeps the rounds each leader sent, the
 *   acknowledgements it received and when each read arrived, from the leader's steps and actions.
 *   (With lease reads a leader answers at once while its lease holds; the answers are then checked
 *   against the committed history only, see `client-reads.ts`.)
 * - Flow control (when on): a follower that does not answer costs its leader a bounded number of
 *   entries. The checker counts the entries a leader sends each follower in AppendEntries messages
 *   (from the actions of its steps) since it last heard from it (an AppendEntries or
 *   leadership-check reply of its term), and fails above `maxInflightEntries + maxEntriesPerAppend`
 *   (a follower below the limit gets the next proposal whole). The leader's own count (entries
 *   after `progress.match` up to what it sent) is not this bound: a new leader's match indices are
 *   0 while it has sent nothing yet, so it counts its whole log as in flight.
 *
 * It also keeps the highest commit index any node ever had (`maxCommit`: no read may be answered
 * above it) and the committed record (`recorded`: every read must be answered at or above where it
 * ended when the read was issued; see `client-reads.ts`), and the counters of the protocol
 * extensions (pre-votes, transfers, check-quorum step-downs) across restarts, which reset a node's
 * metrics.
 */
import {
  containsPosition,
  flatItems,
  followerMatchIndex,
  latestConfig,
  peersOf,
  termAt,
  type RaftActions,
  type ClusterConfig,
  type LogEntries,
  type LogEntry,
  type RaftEvent,
  type RaftState,
  type RequestVote,
} from '../index.js';
import { lastItem } from '../chunks.js';
import { comparePositions } from '../log.js';
import type { SimApplication } from './plugins.js';
import type { Happening, WorldStats } from './stats.js';
import type { SnapshotData } from './storage.js';
import type { InvariantName } from './violation.js';

/** A node as the checker sees it (a `SimNode` is one). */
export interface Replica {
  /** The node's id. */
  readonly id: string;
  /** Where the node is in its life: `up`, `down` or `removed` (see `NodeStatus`). */
  readonly status: string;
  /** Its Raft state; null while it is down or removed. */
  readonly state: RaftState | null;
  /** What survives a crash: the durable term and log. */
  readonly durable: {
    /** The durable current term (the last hard state written and durable; 0 before any). */
    readonly term: number;
    /**
     * The durable log: what `restartNode` would get. Its anchor (`prevIndex`, `prevTerm`) is the
     * durable snapshot's position, or (0, 0) without one.
     */
    readonly log: LogEntries;
  };
}

/** What the checker needs from the world it checks (a `World` is one). */
export interface CheckedWorld {
  /**
   * The world's counters; the checker keeps those it sees in steps (elections, leaderships, terms,
   * pre-votes, transfers, check-quorum step-downs, entries in flight).
   */
  readonly stats: WorldStats;
  /** The listener for happenings, or null (the checker then builds no text). */
  readonly narrator: ((h: Happening) => void) | null;
  /** Every node ever started. */
  nodes(): readonly Replica[];
  /** Report a violation (throws). */
  fail(invariant: InvariantName, message: string, nodes: readonly string[]): never;
  /** Tell the narrator, if any, about a happening. */
  tell(kind: Happening['kind'], text: string): void;
  /** Index `index` was committed for the first time (with `payload`, and `config` if a configuration entry). */
  noteCommitted(index: number, term: number, payload: number, config: ClusterConfig | null): void;
}

/**
 * A leader's ReadIndex bookkeeping in its current tenure: the last leadership-check round it sent,
 * the highest round each peer acknowledged, and for each read not answered yet (keyed by its id, or
 * `follower/id` for a forwarded one) the first round that covers it (the first sent after it arrived).
 */
interface ReadBook {
  lastRound: number;
  readonly acked: Map<string, number>;
  readonly arrivals: Map<string, number>;
}

/** What the leader of one term wrote. */
interface TermHistory {
  readonly leader: string;
  /** The index of its term-start entry (1 for term 0, whose only entry is the initial config). */
  readonly start: number;
  /** The term of the entry just before `start` in its log. */
  readonly pred: number;
  /** The highest index it ever held in this term. */
  end: number;
  /** The configuration entries it wrote, in index order (configs as JSON). */
  readonly configs: Array<{ index: number; json: string }>;
}

const jsonCache = new WeakMap<ClusterConfig, string>();
function configJson(c: ClusterConfig): string {
  let j = jsonCache.get(c);
  if (j === undefined) {
    j = JSON.stringify([c.voters, c.newVoters, c.nonVoters]);
    jsonCache.set(c, j);
  }
  return j;
}

/**
 * The votes a node that just became leader had received: those it held as a candidate of the same
 * term, and the granted vote of the event that made it leader (a single voter wins with its own).
 */
function votesReceived(id: string, before: RaftState, after: RaftState, event: RaftEvent): ReadonlySet<string> {
  const received = new Set<string>(before.role === 'candidate' && before.term === after.term ? before.votes : [id]);
  if (event.type === 'requestVoteReply' && event.granted && event.term === after.term) received.add(event.from);
  return received;
}

/** See the module comment. One checker belongs to one world. */
export class Checker {
  private readonly terms = new Map<number, TermHistory>();
  /**
   * term -> (node -> the candidates it voted for in that term), as the votes were cast. Usually one;
   * a node that crashed before its vote was durable may vote again after restarting (its first
   * reply was never sent).
   */
  private readonly votes = new Map<number, Map<string, Set<string>>>();
  /** The last log of each node that was checked in full or incrementally. */
  private readonly checkedLogs = new Map<string, LogEntries>();
  /** term U -> the highest index known committed by (or learned in) term U. */
  private readonly commitsByTerm = new Map<number, number>();
  private lastLeader: string | null = null;
  /** The global record of what was committed, by index (index 0 is the empty position). */
  private readonly recTerm: number[] = [0];
  private readonly recPayload: number[] = [0];
  private readonly recHash: number[] = [0];
  private readonly recConfig = new Map<number, string>();
  private readonly recApp = new Map<number, string>();
  /** The highest index in the record (the record is contiguous from 1). */
  recorded = 0;
  /**
   * The highest commit index any node ever had (crashed ones included; a single voter's may not have
   * been durable).
   */
  maxCommit = 0;
  /**
   * The nodes that hear from a live leader by the checker's own count: followers that accepted a
   * message of their term's leader since their timer last fired (see the module comment).
   */
  private readonly leaderContact = new Set<string>();
  /**
   * Flow control: per leader, the entries it sent each follower in AppendEntries since it last heard
   * from that follower (in its current tenure).
   */
  private readonly inflight = new Map<string, Map<string, number>>();
  /** ReadIndex bookkeeping of the current leaders (see {@link checkReadRule}), by leader id. */
  private readonly readBooks = new Map<string, ReadBook>();
  /** Nodes campaigning because a leader handed leadership to them: node -> the term. */
  private readonly transferCandidates = new Map<string, number>();

  constructor(private readonly world: CheckedWorld) {}

  /** The term of the entry committed at `index` (undefined when not known committed). */
  committedTerm(index: number): number | undefined {
    return index <= this.recorded ? this.recTerm[index] : undefined;
  }

  /** The payload committed at `index` (0: not a command; undefined: not known committed). */
  committedPayload(index: number): number | undefined {
    return index <= this.recorded ? this.recPayload[index] : undefined;
  }

  /** The leader of `term`, if one was elected. */
  leaderOf(term: number): string | undefined {
    const t = this.terms.get(term);
    return t === undefined || term === 0 ? undefined : t.leader;
  }

  private fail(invariant: InvariantName, message: string, nodes: readonly string[]): never {
    return this.world.fail(invariant, message, nodes);
  }

  // ------------------------------------------------------------------------------------------
  // Lifecycle

  /** `h` was started fresh (`startNode`): forget what was checked of its earlier lives. */
  onStart(h: Replica): void {
    this.checkedLogs.delete(h.id);
    this.leaderContact.delete(h.id);
  }

  /**
   * `h` crashed. A leadership of a term its durable state never reached is void: nothing of it left
   * the node (messages and applied commits wait for the writes before them to be durable), and the
   * node may lead that term again after restarting (a single voter elects itself at once).
   */
  onCrash(h: Replica): void {
    this.leaderContact.delete(h.id);
    this.inflight.delete(h.id);
    this.readBooks.delete(h.id);
    for (const [t, info] of this.terms) if (t > 0 && info.leader === h.id && t > h.durable.term) this.terms.delete(t);
  }

  /** `h` restarted from its durable state: check its log (and its snapshot boundary) from scratch. */
  onRestart(h: Replica): void {
    this.checkedLogs.delete(h.id);
    this.leaderContact.delete(h.id);
    const s = h.state!;
    this.checkLog(h.id, s.log);
    this.checkBoundary(h.id, s.log);
  }

  /**
   * Check every running node from scratch (the incremental checks after each event already cover
   * this; tests call it between commands as a second line of defence).
   */
  checkAll(): void {
    for (const h of this.world.nodes()) {
      const s = h.state;
      if (h.status !== 'up' || s === null) continue;
      this.checkedLogs.delete(h.id);
      this.checkLog(h.id, s.log);
      this.checkBoundary(h.id, s.log);
      if (s.commitIndex > s.log.lastIndex)
        this.fail('contract', `commit index ${s.commitIndex} beyond the log`, [h.id]);
      if (s.role === 'leader') {
        const owner = this.terms.get(s.term);
        if (owner === undefined || owner.leader !== h.id)
          this.fail('electionSafety', `${h.id} leads term ${s.term} unrecorded`, [h.id]);
        let need = 0;
        for (const [u, c] of this.commitsByTerm) if (u < s.term && c > need) need = c;
        if (need > 0) this.requireCommitted(h.id, s.log, need, `leads term ${s.term}`);
      }
    }
  }

  // ------------------------------------------------------------------------------------------
  // After each step

  /**
   * `h` stepped `event` from `before` to `after`, asking for `actions` (given by the simulator's
   * executor; without them, the pre-vote rule is not checked).
   */
  afterStep(h: Replica, before: RaftState, after: RaftState, event: RaftEvent, actions?: RaftActions): void {
    const id = h.id;
    if (actions !== undefined) {
      if (event.type === 'preVote') this.checkPreVote(id, before, event.from, actions);
      if (after.role === 'leader' || this.readBooks.has(id)) this.checkReadRule(id, before, after, event, actions);
      if (after.role === 'leader' || this.inflight.has(id)) this.countInflight(id, before, after, event, actions);
    }
    this.noteLeaderContact(id, before, after, event);
    if (after === before) return;
    const stats = this.world.stats;
    if (after.term < before.term)
      this.fail('termMonotonic', `term went from ${before.term} down to ${after.term}`, [id]);
    if (after.commitIndex < before.commitIndex) {
      this.fail('commitMonotonic', `commit index went from ${before.commitIndex} down to ${after.commitIndex}`, [id]);
    }
    if (after.commitIndex > after.log.lastIndex) {
      this.fail('contract', `commit index ${after.commitIndex} beyond the last index ${after.log.lastIndex}`, [id]);
    }
    if (after.term > stats.maxTerm) stats.maxTerm = after.term;
    if (after.commitIndex > this.maxCommit) this.maxCommit = after.commitIndex;
    // An election started: by a timeout, a won pre-vote, a leadership transfer, or forming a cluster.
    if (after.term > before.term && after.votedFor === id && after.role !== 'follower') {
      stats.elections++;
      if (event.type === 'timeoutNow') this.transferCandidates.set(id, after.term);
    }
    if (after.metrics !== before.metrics) this.countMetrics(before, after);
    if (event.type === 'createCluster' && after.log !== before.log) this.noteTermZero(id, after.log);
    if (after.votedFor !== null && (after.votedFor !== before.votedFor || after.term !== before.term)) {
      this.noteVote(id, after.term, after.votedFor);
      if (event.type === 'requestVote' && after.votedFor === event.from) this.checkVoteRestriction(id, before, event);
    }
    // A leader's own commit (also the one that makes it step down, when it removed itself).
    const leaderCommit = after.role === 'leader' || (before.role === 'leader' && after.term === before.term);
    if (leaderCommit && after.commitIndex > before.commitIndex) this.checkCommitQuorum(id, after);

    const sameTenure = before.role === 'leader' && before.term === after.term;
    if (sameTenure) {
      this.checkAppendOnly(id, before.log, after.log, after.term);
      if (after.role === 'leader') this.checkMatchIndex(id, before, after);
      this.noteLeaderLog(after.log, after.term);
    } else if (after.role === 'leader') {
      this.becameLeader(id, after, votesReceived(id, before, after, event));
      if (this.transferCandidates.get(id) === after.term) stats.transfersCompleted++;
    }

    if (after.log !== before.log) {
      this.checkLog(id, after.log);
      if (after.log.prevIndex !== before.log.prevIndex || after.log.prevTerm !== before.log.prevTerm) {
        this.checkBoundary(id, after.log);
      }
    }
  }

  /**
   * The checker's own count of leader contact (see the module comment): a message of the leader of
   * its term that a follower accepted adds it; a timer firing (or `timeoutNow`), a change of term or
   * role, a crash and a restart remove it. Only ever a subset of raftstep's `leaderAlive`.
   */
  private noteLeaderContact(id: string, before: RaftState, after: RaftState, event: RaftEvent): void {
    const t = event.type;
    if (t === 'appendEntries' || t === 'leadershipCheck') {
      if (after.role === 'follower' && after.term === event.term && after.votedFor === event.from) {
        this.leaderContact.add(id);
      }
    } else if (t === 'timeout' || t === 'timeoutNow') {
      this.leaderContact.delete(id);
    }
    if (after.role !== 'follower' || after.term !== before.term) this.leaderContact.delete(id);
  }

  /** No pre-vote while a leader is alive (see the module comment). */
  private checkPreVote(id: string, before: RaftState, from: string, actions: RaftActions): void {
    const leads = before.role === 'leader';
    if (!leads && !this.leaderContact.has(id)) return;
    for (const a of actions) {
      if (a.type === 'send' && a.message.type === 'preVoteReply' && a.message.granted) {
        const why = leads
          ? `it leads term ${before.term}`
          : `it follows ${String(before.votedFor)}, the leader of term ${before.term}, whose message it accepted since its timer last fired`;
        this.fail('preVoteRestriction', `${id} granted a pre-vote to ${from} while ${why}`, [id, from]);
      }
    }
  }

  /**
   * Flow control's bound (see the module comment): count the entries leader `id` sends each
   * follower in AppendEntries messages, from the last time it heard from that follower (an
   * AppendEntries or leadership-check reply of its term), and fail above the bound.
   */
  private countInflight(id: string, before: RaftState, after: RaftState, event: RaftEvent, actions: RaftActions): void {
    if (after.role !== 'leader' || !after.options.flowControl) {
      this.inflight.delete(id);
      return;
    }
    let counts = this.inflight.get(id);
    if (counts === undefined || before.role !== 'leader' || before.term !== after.term) {
      this.inflight.set(id, (counts = new Map<string, number>()));
    }
    if ((event.type === 'appendEntriesReply' || event.type === 'leadershipCheckReply') && event.term === after.term) {
      counts.set(event.from, 0);
    }
    const bound = after.options.maxInflightEntries + after.options.maxEntriesPerAppend;
    const stats = this.world.stats;
    const add = (to: string, n: number): void => {
      const c = (counts.get(to) ?? 0) + n;
      counts.set(to, c);
      if (c > stats.maxInflight) stats.maxInflight = c;
      if (c > bound) {
        this.fail(
          'inflightBound',
          `leader ${id} of term ${after.term} sent ${to} ${c} entries since it last heard from it, ` +
            `more than maxInflightEntries + maxEntriesPerAppend = ${bound}`,
          [id, to],
        );
      }
    };
    for (const a of actions) {
      if ((a.type !== 'send' && a.type !== 'broadcast') || a.message.type !== 'appendEntries') continue;
      const n = a.message.entries.lastIndex - a.message.entries.prevIndex;
      if (n <= 0) continue;
      if (a.type === 'send') add(a.to, n);
      else for (const to of peersOf(after)) add(to, n);
    }
  }

  /**
   * Reads are confirmed (see the module comment): on leader `id`, note the reads arriving, the
   * leadership-check rounds sent and acknowledged; fail on an answer that no majority-acknowledged
   * round sent after the read's arrival covers. Not checked with lease reads on.
   */
  private checkReadRule(id: string, before: RaftState, after: RaftState, event: RaftEvent, actions: RaftActions): void {
    if (after.role !== 'leader' || after.options.leaseReads) {
      this.readBooks.delete(id);
      return;
    }
    let book = this.readBooks.get(id);
    if (book === undefined || before.role !== 'leader' || before.term !== after.term) {
      this.readBooks.set(id, (book = { lastRound: 0, acked: new Map(), arrivals: new Map() }));
    }
    // Reads arriving: each must be covered by a round sent after this step's rounds before it.
    const next = book.lastRound + 1;
    if (event.type === 'read') {
      if (!book.arrivals.has(event.id)) book.arrivals.set(event.id, next);
    } else if (event.type === 'readIndex' && event.term === after.term) {
      for (const rid of event.ids) {
        const key = `${event.from}/${rid}`;
        if (!book.arrivals.has(key)) book.arrivals.set(key, next);
      }
    } else if (event.type === 'leadershipCheckReply' && event.term === after.term) {
      if ((book.acked.get(event.from) ?? 0) < event.round) book.acked.set(event.from, event.round);
    }
    for (const a of actions) {
      if ((a.type === 'broadcast' || a.type === 'send') && a.message.type === 'leadershipCheck') {
        if (a.message.round > book.lastRound) book.lastRound = a.message.round;
      }
    }
    for (const a of actions) {
      if (a.type === 'readReady') this.checkConfirmed(id, after, book, a.id, `read ${a.id}`);
      else if (a.type === 'send' && a.message.type === 'readIndexReply') {
        for (const r of a.message.reads) {
          if (r.index >= 0)
            this.checkConfirmed(id, after, book, `${a.to}/${r.id}`, `read ${r.id} forwarded by ${a.to}`);
        }
      }
    }
  }

  /** The read `key` answered by leader `id` now: a majority must have acknowledged a round covering it. */
  private checkConfirmed(id: string, s: RaftState, book: ReadBook, key: string, what: string): void {
    const need = book.arrivals.get(key);
    book.arrivals.delete(key);
    if (need === undefined) {
      this.fail('leadershipConfirmed', `leader ${id} of term ${s.term} answered ${what}, which never reached it`, [id]);
    }
    const config = latestConfig(s);
    const acked = (v: string): boolean => v === id || (book.acked.get(v) ?? 0) >= need;
    for (const set of config.newVoters.length === 0 ? [config.voters] : [config.voters, config.newVoters]) {
      const got = set.filter(acked);
      if (got.length < Math.floor(set.length / 2) + 1) {
        this.fail(
          'leadershipConfirmed',
          `leader ${id} of term ${s.term} answered ${what} before a majority acknowledged a leadership check ` +
            `sent after it arrived (round ${need} or later: acknowledged by ${got.join(', ')} among the voters ${set.join(', ')})`,
          [id],
        );
      }
    }
  }

  /** Add what the step counted in the extensions' metrics to the world's counters. */
  private countMetrics(before: RaftState, after: RaftState): void {
    const stats = this.world.stats;
    const b = before.metrics;
    const a = after.metrics;
    stats.preVotes += Math.max(0, a.preVotesStarted - b.preVotesStarted);
    stats.transfers += Math.max(0, a.transfersStarted - b.transfersStarted);
    stats.checkQuorumStepDowns += Math.max(0, a.checkQuorumStepDowns - b.checkQuorumStepDowns);
  }

  private noteTermZero(id: string, log: LogEntries): void {
    const first = log.configs[0];
    if (first === undefined || first.index !== 1) return;
    const json = configJson(first.config);
    const known = this.terms.get(0);
    if (known !== undefined) {
      if (known.configs[0]!.json !== json) {
        this.fail('logMatching', `${id} created a second cluster (first created by ${known.leader})`, [
          id,
          known.leader,
        ]);
      }
      return;
    }
    this.terms.set(0, { leader: id, start: 1, pred: 0, end: 1, configs: [{ index: 1, json }] });
  }

  /** `id` voted for (or, as a follower, follows) `candidate` in `term`. */
  private noteVote(id: string, term: number, candidate: string): void {
    let byNode = this.votes.get(term);
    if (byNode === undefined) this.votes.set(term, (byNode = new Map<string, Set<string>>()));
    let cast = byNode.get(id);
    if (cast === undefined) byNode.set(id, (cast = new Set<string>()));
    cast.add(candidate);
  }

  /** The election restriction (see the module comment): a vote only for a log at least as up to date. */
  private checkVoteRestriction(id: string, before: RaftState, m: RequestVote): void {
    const own = before.log;
    if (comparePositions(own.lastTerm, own.lastIndex, m.lastTerm, m.lastIndex) > 0) {
      this.fail(
        'electionRestriction',
        `${id} voted for ${m.from} in term ${m.term}, whose log ends at (${m.lastTerm}, ${m.lastIndex}), behind its own (${own.lastTerm}, ${own.lastIndex})`,
        [id, m.from],
      );
    }
  }

  /** Elected by a majority (see the module comment): of the votes it received, each one cast. */
  private checkVoteQuorum(id: string, s: RaftState, received: ReadonlySet<string>): void {
    const config = latestConfig(s);
    const byNode = this.votes.get(s.term);
    const votedFor = (v: string): boolean => received.has(v) && byNode?.get(v)?.has(id) === true;
    for (const set of config.newVoters.length === 0 ? [config.voters] : [config.voters, config.newVoters]) {
      const got = set.filter(votedFor);
      if (got.length < Math.floor(set.length / 2) + 1) {
        this.fail(
          'electedByMajority',
          `${id} became leader of term ${s.term} with the votes of ${got.join(', ') || 'no one'} among the voters ${set.join(', ')}`,
          [id],
        );
      }
    }
  }

  /** Committed by a majority (see the module comment). */
  private checkCommitQuorum(id: string, s: RaftState): void {
    const c = s.commitIndex;
    const term = termAt(s.log, c);
    if (term < 0) return; // a commit index at or below the snapshot: nothing left to count
    const config = latestConfig(s);
    const byId = new Map<string, Replica>();
    for (const r of this.world.nodes()) byId.set(r.id, r);
    const holds = (v: string): boolean => {
      // With concurrent leader writes, the leader's own copy counts only once durable.
      if (v === id && !s.options.concurrentLeaderWrites) return true;
      const r = byId.get(v);
      if (r === undefined) return false;
      const log = r.state !== null && v !== id ? r.state.log : r.durable.log;
      return c <= log.prevIndex || containsPosition(log, term, c);
    };
    for (const set of config.newVoters.length === 0 ? [config.voters] : [config.voters, config.newVoters]) {
      const holding = set.filter(holds);
      if (holding.length < Math.floor(set.length / 2) + 1) {
        this.fail(
          'committedByMajority',
          `leader ${id} of term ${s.term} committed (${term}, ${c}), held only by ${holding.join(', ') || 'no one'} among the voters ${set.join(', ')}`,
          [id],
        );
      }
    }
  }

  private becameLeader(id: string, s: RaftState, received: ReadonlySet<string>): void {
    const t = s.term;
    const known = this.terms.get(t);
    if (known !== undefined && t > 0) {
      this.fail('electionSafety', `${id} and ${known.leader} both lead term ${t}`, [id, known.leader]);
    }
    if (t > 0) this.checkVoteQuorum(id, s, received);
    const last = lastItem(s.log.termStarts);
    if (last === undefined || last.term !== t) {
      this.fail('contract', `${id} leads term ${t} without the term's first entry at the end of its log`, [id]);
    }
    const history: TermHistory = {
      leader: id,
      start: last.index,
      pred: termAt(s.log, last.index - 1),
      end: s.log.lastIndex,
      configs: [],
    };
    for (const c of s.log.configs)
      if (c.index >= last.index) history.configs.push({ index: c.index, json: configJson(c.config) });
    this.terms.set(t, history);
    const stats = this.world.stats;
    stats.leaderships++;
    if (this.world.narrator !== null) {
      const change = this.lastLeader !== null && this.lastLeader !== id ? ` (taking over from ${this.lastLeader})` : '';
      this.world.tell('leader', `${id} was elected leader of term ${t}${change}`);
    }
    if (this.lastLeader !== null && this.lastLeader !== id) stats.leaderChanges++;
    this.lastLeader = id;
    // Leader completeness: everything committed in an earlier term.
    let need = 0;
    for (const [u, c] of this.commitsByTerm) if (u < t && c > need) need = c;
    if (need > 0) this.requireCommitted(id, s.log, need, `became leader of term ${t}`);
  }

  private requireCommitted(id: string, log: LogEntries, index: number, what: string): void {
    if (index <= log.prevIndex) {
      const rt = this.committedTerm(log.prevIndex);
      if (rt !== undefined && rt !== log.prevTerm) {
        this.fail(
          'leaderCompleteness',
          `${id} ${what} with a snapshot at (${log.prevTerm}, ${log.prevIndex}), but (${rt}, ${log.prevIndex}) was committed`,
          [id],
        );
      }
      return;
    }
    const rt = this.recTerm[index]!;
    if (index > log.lastIndex || termAt(log, index) !== rt) {
      this.fail(
        'leaderCompleteness',
        `${id} ${what} without the entry (${rt}, ${index}) committed earlier; its log ends at (${log.lastTerm}, ${log.lastIndex})` +
          (index <= log.lastIndex ? ` and holds term ${termAt(log, index)} at ${index}` : ''),
        [id],
      );
    }
  }

  private checkAppendOnly(id: string, b: LogEntries, a: LogEntries, term: number): void {
    if (a.lastIndex < b.lastIndex) {
      this.fail(
        'leaderAppendOnly',
        `leader of term ${term}: its log shrank from ${b.lastIndex} to ${a.lastIndex} entries`,
        [id],
      );
    }
    if (b.lastIndex >= a.prevIndex && !containsPosition(a, b.lastTerm, b.lastIndex)) {
      this.fail('leaderAppendOnly', `leader of term ${term} overwrote its entry (${b.lastTerm}, ${b.lastIndex})`, [id]);
    }
  }

  private checkMatchIndex(id: string, before: RaftState, after: RaftState): void {
    for (const peer of peersOf(after)) {
      const was = followerMatchIndex(before, peer);
      const now = followerMatchIndex(after, peer);
      if (was !== null && now !== null && now < was) {
        this.fail(
          'matchIndexMonotonic',
          `leader of term ${after.term}: match index of ${peer} went from ${was} down to ${now}`,
          [id, peer],
        );
      }
    }
  }

  /** A leader's log grew in its term: extend the term's history. */
  private noteLeaderLog(log: LogEntries, term: number): void {
    const h = this.terms.get(term);
    if (h === undefined || log.lastTerm !== term) return;
    if (log.lastIndex > h.end) h.end = log.lastIndex;
    const configs = log.configs;
    const lastKnown = h.configs.length === 0 ? h.start - 1 : h.configs[h.configs.length - 1]!.index;
    let k = configs.length;
    while (k > 0 && configs[k - 1]!.index > lastKnown) k--;
    for (; k < configs.length; k++) h.configs.push({ index: configs[k]!.index, json: configJson(configs[k]!.config) });
  }

  /** Log matching: `log` agrees with the history the leaders wrote (see the module comment). */
  checkLog(id: string, log: LogEntries): void {
    const prev = this.checkedLogs.get(id);
    this.checkedLogs.set(id, log);
    if (
      prev !== undefined &&
      log.prevIndex === prev.prevIndex &&
      log.prevTerm === prev.prevTerm &&
      log.termStarts === prev.termStarts &&
      log.configs === prev.configs &&
      log.lastIndex >= prev.lastIndex
    ) {
      // The common case: commands appended in the last term.
      if (log.lastIndex > prev.lastIndex) this.checkSegment(id, log, log.lastTerm, prev.lastIndex, log.lastIndex);
      return;
    }
    let term = log.prevTerm;
    let lo = log.prevIndex;
    if (lo > 0 && !this.terms.has(term)) {
      this.fail('logMatching', `${id}'s log starts after (${term}, ${lo}), a term no leader wrote`, [id]);
    }
    for (const ts of flatItems(log.termStarts)) {
      this.checkSegment(id, log, term, lo, ts.index - 1);
      const h = this.terms.get(ts.term);
      if (h === undefined)
        this.fail('logMatching', `${id} holds entries of term ${ts.term}, which no leader wrote`, [id]);
      if (h.start !== ts.index) {
        this.fail(
          'logMatching',
          `${id}'s log starts term ${ts.term} at ${ts.index}; its leader ${h.leader} started it at ${h.start}`,
          [id, h.leader],
        );
      }
      if (h.pred !== term) {
        this.fail(
          'logMatching',
          `${id} holds term ${term} at ${ts.index - 1}, before term ${ts.term}; the leader of term ${ts.term} (${h.leader}) held term ${h.pred} there`,
          [id, h.leader],
        );
      }
      term = ts.term;
      lo = ts.index - 1;
    }
    this.checkSegment(id, log, term, lo, log.lastIndex);
  }

  /** The entries `(lo, hi]` of `log`, all of term `term`, agree with the leader's history. */
  private checkSegment(id: string, log: LogEntries, term: number, lo: number, hi: number): void {
    if (hi <= lo) return;
    const h = this.terms.get(term);
    if (h === undefined) this.fail('logMatching', `${id} holds entries of term ${term}, which no leader wrote`, [id]);
    if (hi > h.end) {
      this.fail(
        'logMatching',
        `${id} holds (${term}, ${hi}), but the leader of term ${term} (${h.leader}) never went past ${h.end}`,
        [id, h.leader],
      );
    }
    // Configuration entries in (lo, hi]: the same as the leader's.
    const mine = log.configs;
    let a = 0;
    while (a < mine.length && mine[a]!.index <= lo) a++;
    let b = 0;
    const theirs = h.configs;
    while (b < theirs.length && theirs[b]!.index <= lo) b++;
    for (;;) {
      const x = a < mine.length && mine[a]!.index <= hi ? mine[a]! : null;
      const y = b < theirs.length && theirs[b]!.index <= hi ? theirs[b]! : null;
      if (x === null && y === null) return;
      if (x === null || y === null || x.index !== y.index || configJson(x.config) !== y.json) {
        const at = Math.min(x?.index ?? Infinity, y?.index ?? Infinity);
        this.fail(
          'logMatching',
          `${id}'s log and the leader of term ${term} (${h.leader}) disagree on the configuration entry at ${at}`,
          [id, h.leader],
        );
      }
      a++;
      b++;
    }
  }

  /** A snapshot boundary must sit on a committed entry. */
  private checkBoundary(id: string, log: LogEntries): void {
    if (log.prevIndex === 0) return;
    const rt = this.committedTerm(log.prevIndex);
    if (rt === undefined) {
      this.fail('stateMachineSafety', `${id} holds a snapshot at ${log.prevIndex}, an index never committed`, [id]);
    }
    if (rt !== log.prevTerm) {
      this.fail(
        'logMatching',
        `${id}'s snapshot ends at (${log.prevTerm}, ${log.prevIndex}), but (${rt}, ${log.prevIndex}) was committed`,
        [id],
      );
    }
  }

  // ------------------------------------------------------------------------------------------
  // The state machine

  /** Replica `h` applies the committed entry at `index`. */
  committed(
    h: Replica,
    index: number,
    term: number,
    kind: LogEntry['kind'],
    payload: number,
    config: ClusterConfig | null,
    hash: number,
    app: unknown,
    appDef: SimApplication | null,
  ): void {
    let fp: string | undefined;
    if (appDef !== null && kind === 'command') fp = appDef.fingerprint ? appDef.fingerprint(app) : JSON.stringify(app);
    if (index <= this.recorded) {
      const rt = this.recTerm[index]!;
      const rp = this.recPayload[index]!;
      if (rt !== term || rp !== payload || this.recHash[index] !== hash) {
        this.fail(
          'stateMachineSafety',
          `${h.id} applied ${describeEntry(term, payload, config)} at ${index}, but ${describeEntry(rt, rp, null)} was committed there`,
          [h.id],
        );
      }
      if (config !== null && this.recConfig.get(index) !== configJson(config)) {
        this.fail(
          'stateMachineSafety',
          `${h.id} applied another configuration at ${index} than the one committed there`,
          [h.id],
        );
      }
      if (fp !== undefined && this.recApp.get(index) !== fp) {
        this.fail('stateMachineSafety', `${h.id}'s application state after ${index} differs from the other replicas'`, [
          h.id,
        ]);
      }
    } else if (index === this.recorded + 1) {
      this.recTerm.push(term);
      this.recPayload.push(payload);
      this.recHash.push(hash);
      if (config !== null) this.recConfig.set(index, configJson(config));
      if (fp !== undefined) this.recApp.set(index, fp);
      this.recorded = index;
      this.world.noteCommitted(index, term, payload, config);
    } else {
      this.fail(
        'stateMachineSafety',
        `${h.id} applied ${index} while only ${this.recorded} entries are known committed`,
        [h.id],
      );
    }
    if (appDef?.check !== undefined && kind === 'command') {
      const problem = appDef.check(app, index);
      if (problem !== null) this.fail('application', `${h.id} after ${index}: ${problem}`, [h.id]);
    }
  }

  /** Replica `h`, in term `term`, knows that everything up to `index` is committed. */
  commitKnown(h: Replica, term: number, index: number): void {
    const known = this.commitsByTerm.get(term);
    if (known === undefined || index > known) this.commitsByTerm.set(term, index);
    for (const other of this.world.nodes()) {
      const s = other.state;
      if (other.status === 'up' && s !== null && s.role === 'leader' && s.term > term) {
        this.requireCommitted(other.id, s.log, index, `leads term ${s.term}`);
      }
    }
  }

  /** Replica `h` installed a snapshot from a leader: its state machine must be the record's. */
  snapshotInstalled(h: Replica, snap: SnapshotData): void {
    const i = snap.index;
    if (i > this.recorded)
      this.fail('stateMachineSafety', `${h.id} installed a snapshot at ${i}, an index never committed`, [h.id]);
    if (this.recTerm[i] !== snap.term || this.recHash[i] !== snap.machine.hash || snap.machine.index !== i) {
      this.fail(
        'stateMachineSafety',
        `${h.id} installed a snapshot at (${snap.term}, ${i}) whose state machine is not the committed one`,
        [h.id],
      );
    }
  }
}

function describeEntry(term: number, payload: number, config: ClusterConfig | null): string {
  if (payload > 0) return `command #${payload} of term ${term}`;
  return config !== null ? `a configuration of term ${term}` : `an entry without a command of term ${term}`;
}
