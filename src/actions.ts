/**
 * Actions: what `step` asks the application to do, and how the actions of several steps merge.
 *
 * A list of actions is always in this order, and the application carries it out in this order:
 *
 * 1. `setTimer`        — (re)arm the node's single timer.
 * 2. `saveHardState`   — durably store the term and the vote.
 * 3. `compactLog`      — durably drop the stored log entries a snapshot now covers.
 * 4. `appendLog`       — durably truncate the stored log after the anchor, then append.
 * 5. `commitAdvanced`  — entries up to `commitIndex` are committed: apply them.
 * 6. `broadcast`       — send a message to every peer.
 * 7. `send`            — send a message to one peer (ascending by `to`).
 * 8. `installSnapshot` — transfer the local snapshot to a peer (ascending by `to`).
 * 9. `readReady`, `rejected`, `invalidEvent`, `fatal`, `internalError` — outcomes to report; nothing to carry out
 *    (but `fatal` and `internalError` mean the node must be taken out of service).
 *
 * The persistence rule: every storage action (`saveHardState`, `compactLog`, `appendLog`) must be durable before
 * any message after it in the same list is sent. Because storage actions always come first, "finish
 * the storage actions, then send" is enough. The one exception is an `appendLog` marked
 * `concurrent` (a leader's own entries, with the option `concurrentLeaderWrites`): the messages
 * after it may go while it is written; the other storage actions of the list must still be durable
 * first.
 */
import {
  comparePositions,
  containsPosition,
  emptyEntries,
  makeEntries,
  since,
  spliceSuffix,
  type LogEntries,
} from './log.js';
import {
  appendEntriesCall,
  appendEntriesReply,
  channelOf,
  isCall,
  preVote,
  readIndex,
  readIndexReply,
  requestVote,
  type AppendEntries,
  type Message,
} from './messages.js';

/** Which wait the timer needs: the role decides. */
export type TimerWait = 'heartbeat' | 'election' | 'follower';

/**
 * (Re)arm the node's one timer, cancelling any armed one, and step `{type: 'timeout'}` when it
 * fires. `heartbeat` (leader): short, well below the followers' wait. `election` (candidate):
 * randomised, to break split votes. `follower`: long, longer than the heartbeat interval.
 */
export interface SetTimer {
  /** Discriminant: always `'setTimer'`. */
  readonly type: 'setTimer';
  /** Which wait to arm the timer with; the application picks the duration of each (see above). */
  readonly wait: TimerWait;
}

/** Durably store `term` and `votedFor` (they are what a restart needs, with the log). */
export interface SaveHardState {
  /** Discriminant: always `'saveHardState'`. */
  readonly type: 'saveHardState';
  /** The node's current term, to store in place of the stored one (it never decreases). */
  readonly term: number;
  /**
   * The node this one voted for in `term` (on a follower, also the leader it follows), or null when
   * it has not voted in `term`. Store it as it is, null included.
   */
  readonly votedFor: string | null;
}

/**
 * The node installed a snapshot covering the log up to `(term, index)` (it asked for nothing else:
 * the application saved or received the snapshot itself). Durably record the new log start: drop
 * the stored entries up to `index` and their payloads — or every stored entry, when the stored log
 * did not hold `(term, index)` (a snapshot from a leader, beyond or off this node's log).
 */
export interface CompactLog {
  /** Discriminant: always `'compactLog'`. */
  readonly type: 'compactLog';
  /** The term of the snapshot's last entry: the new log start's term. */
  readonly term: number;
  /** The snapshot's last index: the stored log now starts after it. */
  readonly index: number;
}

/**
 * Durably truncate the stored log after `entries.prevIndex`, then append the entries
 * `(entries.prevIndex, entries.lastIndex]`. The anchor may lie anywhere in the stored log (a
 * follower overwriting a divergent tail). The application stores command payloads by index: for a
 * leader's own proposals it has them; for a follower they arrive with the AppendEntries message.
 */
export interface AppendLog {
  /** Discriminant: always `'appendLog'`. */
  readonly type: 'appendLog';
  /**
   * The run to store: truncate the stored log after its anchor `(entries.prevTerm,
   * entries.prevIndex)`, then append its entries. Empty, it only truncates.
   */
  readonly entries: LogEntries;
  /**
   * Present (true) only on a leader's append of its own new entries with the option
   * `concurrentLeaderWrites`: the messages after this action need not wait for it to be durable.
   * Write it in order with the other storage actions all the same, and step
   * `{type: 'appendPersisted', term: entries.lastTerm, index: entries.lastIndex}` once it is
   * durable (with that option, every append is reported so, concurrent or not). Absent: the
   * persistence rule applies in full.
   */
  readonly concurrent?: true;
}

/** Entries up to `commitIndex` are committed: apply the ones not applied yet, in index order. */
export interface CommitAdvanced {
  /** Discriminant: always `'commitAdvanced'`. */
  readonly type: 'commitAdvanced';
  /** The node's new commit index; it only grows. Apply every entry up to it not applied yet. */
  readonly commitIndex: number;
}

/** Send `message` to every peer (every member of the latest configuration but this node). */
export interface Broadcast {
  /** Discriminant: always `'broadcast'`. */
  readonly type: 'broadcast';
  /** The message, the same for every peer (for an AppendEntries, attach the payloads it names). */
  readonly message: Message;
}

/** Send `message` to the peer `to`. Sending may fail, be delayed or reordered: Raft copes. */
export interface Send {
  /** Discriminant: always `'send'`. */
  readonly type: 'send';
  /** The id of the peer to send to. */
  readonly to: string;
  /** The message (for an AppendEntries, attach the payloads it names). */
  readonly message: Message;
}

/**
 * Transfer this node's latest snapshot (its position `log.prevTerm`/`log.prevIndex`, its
 * configuration `snapshotConfig`, and the state machine saved there) to `to`, which is too far
 * behind to catch up from the log. The receiver installs it, then steps `snapshotInstalled`. The
 * leader is not told: the follower's next AppendEntries reply carries its new position.
 */
export interface InstallSnapshot {
  /** Discriminant: always `'installSnapshot'`. */
  readonly type: 'installSnapshot';
  /** The id of the peer to send the snapshot to. */
  readonly to: string;
}

/** Why a request was refused. */
export type RejectReason =
  | 'notLeader'
  | 'alreadyInCluster'
  | 'noVoters'
  | 'changeInProgress'
  | 'votersMismatch'
  | 'noChange'
  | 'logFull'
  | 'snapshotFromFutureTerm'
  | 'snapshotNotCommitted'
  | 'snapshotMismatch'
  | 'transferInProgress'
  | 'notAVoter'
  | 'alreadyLeader'
  | 'duplicateRead'
  | 'leaderChanged';

/**
 * A request the node could not take. Nothing changed in the state for the request itself (a read
 * the node had accepted earlier is refused this way when it can no longer be served).
 */
export interface Rejected {
  /** Discriminant: always `'rejected'`. */
  readonly type: 'rejected';
  /** The type of the refused request event. */
  readonly request:
    'propose' | 'heartbeat' | 'createCluster' | 'proposeConfig' | 'snapshotInstalled' | 'read' | 'transferLeadership';
  /** Why the request was refused. */
  readonly reason: RejectReason;
  /** The node believed to lead (this node itself, when it leads), or null when unknown: where to retry. */
  readonly leaderHint: string | null;
  /** How many commands a refused proposal carried; 0 for other requests. */
  readonly count: number;
  /** The id of a refused read; null for other requests. */
  readonly id: string | null;
}

/**
 * The read `id` may be answered: once the application has applied every entry up to `index`, the
 * state machine holds every write acknowledged before the read was issued (linearizability).
 */
export interface ReadReady {
  /** Discriminant: always `'readReady'`. */
  readonly type: 'readReady';
  /** The id the application gave the read on this node. */
  readonly id: string;
  /** The read index: answer the read once every entry up to it is applied. */
  readonly index: number;
}

/** The event was malformed; `reason` names the first problem found. The state is unchanged. */
export interface InvalidEvent {
  /** Discriminant: always `'invalidEvent'`. */
  readonly type: 'invalidEvent';
  /** The first problem found, as text (e.g. `term must be an integer from 0 to 2^53 - 2`). */
  readonly reason: string;
}

/**
 * The node found its persistent state inconsistent with the cluster (noraft's
 * `LocalSnapshotMismatch`) and halted: it ignores every later event. Take it out of service; it
 * may rejoin only as a new, empty member.
 */
export interface Fatal {
  /** Discriminant: always `'fatal'`. */
  readonly type: 'fatal';
  /** What the node found inconsistent (the same text answers every later event), for logs and operators. */
  readonly reason: string;
}

/**
 * A bug in raftstep: a rule threw an exception while handling an event that passed validation.
 * `reason` is the exception's message and `event` names the event's type. The state returned with
 * it is the one given to `step`, marked halted (every later event answers `fatal`), so nothing of
 * the failed step took effect. Take the node out of service, keep the event and the state for a bug
 * report, and restart the node from its persisted state (`restartNode`) if you must keep serving.
 */
export interface InternalError {
  /** Discriminant: always `'internalError'`. */
  readonly type: 'internalError';
  /** The message of the exception a rule threw. */
  readonly reason: string;
  /** The type of the event being handled (empty when the type was not a string). */
  readonly event: string;
}

/** Anything `step` can ask for or report. */
export type RaftAction =
  | SetTimer
  | SaveHardState
  | CompactLog
  | AppendLog
  | CommitAdvanced
  | Broadcast
  | Send
  | InstallSnapshot
  | ReadReady
  | Rejected
  | InvalidEvent
  | Fatal
  | InternalError;

/** A list of actions in the canonical order above. */
export type RaftActions = readonly RaftAction[];

/** The empty action list (shared; never modify). */
export const NO_ACTIONS: RaftActions = Object.freeze([]);

/** The three timer actions (shared constants). */
export const TIMER_HEARTBEAT: SetTimer = Object.freeze({ type: 'setTimer', wait: 'heartbeat' });
export const TIMER_ELECTION: SetTimer = Object.freeze({ type: 'setTimer', wait: 'election' });
export const TIMER_FOLLOWER: SetTimer = Object.freeze({ type: 'setTimer', wait: 'follower' });

/** Constructors, one literal shape per action type. */
export function saveHardState(term: number, votedFor: string | null): SaveHardState {
  return { type: 'saveHardState', term, votedFor };
}
export function compactLog(term: number, index: number): CompactLog {
  return { type: 'compactLog', term, index };
}
export function appendLog(entries: LogEntries): AppendLog {
  return { type: 'appendLog', entries };
}
/** A leader's own append that may be written while the messages after it go (see `AppendLog.concurrent`). */
export function concurrentAppendLog(entries: LogEntries): AppendLog {
  return { type: 'appendLog', entries, concurrent: true };
}
/** An append of `entries`, concurrent when both `x` and `y` are (merging never relaxes the persistence rule). */
function joinedAppendLog(entries: LogEntries, x: AppendLog, y: AppendLog): AppendLog {
  return x.concurrent === true && y.concurrent === true ? concurrentAppendLog(entries) : appendLog(entries);
}
export function commitAdvanced(commitIndex: number): CommitAdvanced {
  return { type: 'commitAdvanced', commitIndex };
}
export function broadcast(message: Message): Broadcast {
  return { type: 'broadcast', message };
}
export function send(to: string, message: Message): Send {
  return { type: 'send', to, message };
}
export function installSnapshot(to: string): InstallSnapshot {
  return { type: 'installSnapshot', to };
}
export function rejected(
  request: Rejected['request'],
  reason: RejectReason,
  leaderHint: string | null,
  count: number,
): Rejected {
  return { type: 'rejected', request, reason, leaderHint, count, id: null };
}
export function readRejected(id: string, reason: RejectReason, leaderHint: string | null): Rejected {
  return { type: 'rejected', request: 'read', reason, leaderHint, count: 0, id };
}
export function readReady(id: string, index: number): ReadReady {
  return { type: 'readReady', id, index };
}
export function invalidEvent(reason: string): InvalidEvent {
  return { type: 'invalidEvent', reason };
}
export function fatal(reason: string): Fatal {
  return { type: 'fatal', reason };
}
export function internalError(reason: string, event: string): InternalError {
  return { type: 'internalError', reason, event };
}

/** The rank of each action type in the canonical order. */
const RANK: { readonly [K in RaftAction['type']]: number } = {
  setTimer: 0,
  saveHardState: 1,
  compactLog: 2,
  appendLog: 3,
  commitAdvanced: 4,
  broadcast: 5,
  send: 6,
  installSnapshot: 7,
  readReady: 8,
  rejected: 8,
  invalidEvent: 8,
  fatal: 8,
  internalError: 8,
};

/** The position of an action's type in the canonical order (0 for `setTimer`, upward). */
export function actionRank(a: RaftAction): number {
  return RANK[a.type];
}

/**
 * Merge the actions of a later step (`later`) into those of an earlier one (`earlier`), as if the
 * application had not yet carried out `earlier`. This is Raft pipelining: N proposals stepped back
 * to back merge into one `appendLog` and one message per peer.
 *
 * Rules: the later timer and hard state win; log appends join (the later run replaces the earlier
 * one from its anchor on); the highest commit index wins; a later message to the same destination
 * replaces the earlier one, except that two AppendEntries merge into one carrying both runs of
 * entries with the later term and commit index; snapshot transfers are deduplicated; reports are
 * kept in order. When `later` raises the term (a `saveHardState` with a higher term), calls of
 * `earlier` from older terms are dropped: they are stale.
 *
 * When `later` compacts the log (`compactLog` at a snapshot of term T), `earlier` is rebased onto
 * the snapshot. Its appends keep only the entries after the snapshot (and disappear when none is
 * left). Its messages of a term older than T are dropped, whatever their kind: vote requests,
 * AppendEntries, and the replies to both. Its other messages are rebased: an AppendEntries anchored
 * behind the snapshot carries only its entries after it (none, anchored at it, when it does not hold
 * the snapshot's position), and a vote request or AppendEntries reply whose position is behind the
 * snapshot reports the snapshot's position instead.
 *
 * Why a message of a term older than T is dropped: the node had reached T when it installed the
 * snapshot (a snapshot from a term it has not reached is refused), and the snapshot ends on a
 * committed entry of term T, so a majority of the cluster has reached T as well. A message of an
 * older term is ignored or refused by every receiver that knows a newer term; what it could still
 * do for one that does not (a vote, entries or an acknowledgement in a term that is over) is nothing
 * Raft needs, and the network may lose any message anyway. So dropping it loses nothing, while
 * keeping it cannot be done right: as sent, an AppendEntries behind the snapshot needs payloads the
 * compaction has just deleted; rebased onto the snapshot, it (or the position a vote request or reply
 * reports) would claim a position of a term above its own, which `validateEvent`, and so every
 * receiver, refuses. (A term raise alone keeps older replies: the older term may still have a working leader,
 * which such a reply helps to commit; a snapshot of T proves that term over.) In step order the
 * older calls are already gone, dropped by the `saveHardState` of a step in between that raised the
 * term to T; the rule matters when lists are merged out of order or with steps left out, and gives
 * the same result for those calls.
 *
 * Neither input is modified. Any two lists `step` returned, merged in either order (and merges of
 * such merges), give a list in canonical order whose every message is well-formed. Inputs that are
 * not in canonical order give a result in canonical order, but which duplicates coalesce is then
 * unspecified.
 */
export function mergeActions(earlier: RaftActions, later: RaftActions): RaftActions {
  if (later.length === 0) return earlier;
  if (earlier.length === 0) return later;
  if ((later.length === 3 || later.length === 2) && earlier.length === later.length) {
    const pipelined = mergeBackToBackProposals(earlier, later);
    if (pipelined !== null) return pipelined;
  }
  return mergeByRules(earlier, later);
}

/** `mergeActions` by its general rules (the caller has handled the empty and pipelined cases). */
function mergeByRules(earlier: RaftActions, later: RaftActions): RaftActions {
  let out = earlier.slice();
  const raisedTo = termSavedBy(later);
  if (raisedTo > 0) out = out.filter((a) => !isStaleCall(a, raisedTo));
  const compaction = findType(later, 'compactLog');
  if (compaction >= 0) out = rebaseOnSnapshot(out, later[compaction] as CompactLog);
  for (let i = 0; i < later.length; i++) foldAction(out, later[i]!);
  return out;
}

/**
 * The fast path of pipelining: two leader proposals stepped back to back, each
 * `[setTimer, appendLog(e), broadcast(appendEntries(e))]` (or the same without `setTimer`, when
 * sends do not re-arm the heartbeat timer) with the second run starting where the first ends, merge
 * into one run shared by the append and the broadcast. The result is exactly what the general rules
 * give; null when the lists do not have that shape.
 */
function mergeBackToBackProposals(earlier: RaftActions, later: RaftActions): RaftActions | null {
  if (earlier.length !== later.length) return null;
  const m1 = proposalCall(earlier);
  const m2 = proposalCall(later);
  if (m1 === null || m2 === null || !follows(m1, m2)) return null;
  const concurrent = appendOfRun(earlier).concurrent === true && appendOfRun(later).concurrent === true;
  return joinedRun(later, spliceSuffix(m1.entries, m2.entries), concurrent, m2);
}

/**
 * Merge any number of action lists, in order. `mergeAll([a, b, c])` equals
 * `mergeActions(mergeActions(a, b), c)`.
 */
export function mergeAll(lists: readonly RaftActions[]): RaftActions {
  const fold = new ActionFold();
  for (let i = 0; i < lists.length; i++) fold.add(lists[i]!);
  return fold.result();
}

/**
 * The left fold of `mergeActions` over lists given one at a time (`mergeAll`, `stepAll`), with
 * one shortcut: a run of leader proposals stepped back to back, which the fold would join pairwise
 * (see `mergeBackToBackProposals`), is joined once, when the run ends. Only the run's last list is
 * kept meanwhile, so a long run holds no garbage. The result is exactly the fold's.
 */
export class ActionFold {
  /** The fold of the lists before the open run (with its first list). */
  private acc: RaftActions = NO_ACTIONS;
  /** The last list of the run continuing `acc`, not joined in yet; null when no run is open. */
  private last: RaftActions | null = null;
  /**
   * The call a list must continue to extend the run: of `last`, or of `acc` when no run is open
   * and `acc` has the proposal shape (see {@link proposalCall}); null when nothing can.
   */
  private call: AppendEntries | null = null;
  /** Whether every append of `acc` and the open run is concurrent (see `joinedAppendLog`). */
  private concurrent = false;

  /** Merge `later` after the lists added so far. */
  add(later: RaftActions): void {
    const before = this.call;
    if (before !== null && later.length === this.acc.length) {
      const m = proposalCall(later);
      if (m !== null && continuesWithCommands(before, m)) {
        this.concurrent = this.concurrent && appendOfRun(later).concurrent === true;
        this.last = later;
        this.call = m;
        return;
      }
    }
    this.closeRun();
    const acc = mergeActions(this.acc, later);
    this.acc = acc;
    this.call = proposalCall(acc);
    if (this.call !== null) this.concurrent = appendOfRun(acc).concurrent === true;
  }

  /** The merge of every list added. */
  result(): RaftActions {
    this.closeRun();
    return this.acc;
  }

  /** Join the open run into `acc`: what the pairwise fold gives, built once. */
  private closeRun(): void {
    const last = this.last;
    if (last === null) return;
    const first = appendOfRun(this.acc).entries;
    const m = this.call!;
    const end = m.entries;
    const joined = makeEntries(
      first.prevTerm,
      first.prevIndex,
      end.lastTerm,
      end.lastIndex,
      first.termStarts,
      first.configs,
    );
    const acc = joinedRun(last, joined, this.concurrent, m);
    this.acc = acc;
    this.last = null;
    this.call = proposalCall(acc);
  }
}

/**
 * The list a run of proposals ending with `last` (whose call is `m`) merges into: `last`'s timer
 * when it has one, one append of `joined` (concurrent when every append of the run was), and one
 * broadcast of `m`'s call carrying `joined`.
 */
function joinedRun(last: RaftActions, joined: LogEntries, concurrent: boolean, m: AppendEntries): RaftActions {
  const append = concurrent ? concurrentAppendLog(joined) : appendLog(joined);
  const call = broadcast(appendEntriesCall(m.from, m.term, m.commitIndex, joined));
  return last.length === 3 ? [last[0]!, append, call] : [append, call];
}

/** The `appendLog` of a list of the proposal shape (see {@link proposalCall}). */
function appendOfRun(l: RaftActions): AppendLog {
  return l[l.length - 2] as AppendLog;
}

/**
 * The AppendEntries call of a list of the proposal shape, `[setTimer, appendLog(e),
 * broadcast(appendEntries(e))]` or the same without `setTimer`; null for any other list.
 */
function proposalCall(l: RaftActions): AppendEntries | null {
  const n = l.length;
  if ((n !== 3 && n !== 2) || (n === 3 && l[0]!.type !== 'setTimer')) return null;
  const a = l[n - 2]!;
  const b = l[n - 1]!;
  if (a.type !== 'appendLog' || b.type !== 'broadcast') return null;
  const m = b.message;
  return m.type === 'appendEntries' && m.entries === a.entries ? m : null;
}

/**
 * True when merging a list whose call is `m` after one whose call is `before` (both lists of the
 * proposal shape, of one length) is the pipelining shortcut with nothing but commands added: one
 * term, `m`'s entries starting where `before`'s end, with no term start and no configuration. The
 * merge then keeps the earlier anchor, runs and shape, with the later end, timer and message fields.
 */
function continuesWithCommands(before: AppendEntries, m: AppendEntries): boolean {
  return follows(before, m) && m.entries.termStarts.length === 0 && m.entries.configs.length === 0;
}

/** True when the call `m` is of `before`'s term and its entries start where `before`'s end. */
function follows(before: AppendEntries, m: AppendEntries): boolean {
  const e1 = before.entries;
  const e2 = m.entries;
  return m.term === before.term && e2.prevIndex === e1.lastIndex && e2.prevTerm === e1.lastTerm;
}

function termSavedBy(actions: RaftActions): number {
  for (let i = 0; i < actions.length; i++) {
    const a = actions[i]!;
    if (a.type === 'saveHardState') return a.term;
  }
  return 0;
}

function isStaleCall(a: RaftAction, term: number): boolean {
  return (a.type === 'broadcast' || a.type === 'send') && isCall(a.message) && a.message.term < term;
}

/** Fold one action into a canonical list owned by the caller (the list is modified in place). */
function foldAction(out: RaftAction[], a: RaftAction): void {
  switch (a.type) {
    case 'setTimer':
    case 'saveHardState': {
      const k = findType(out, a.type);
      if (k >= 0) out[k] = a;
      else insertByRank(out, a);
      return;
    }
    case 'compactLog': {
      const k = findType(out, a.type);
      if (k < 0) insertByRank(out, a);
      else if ((out[k] as CompactLog).index < a.index) out[k] = a;
      return;
    }
    case 'commitAdvanced': {
      const k = findType(out, a.type);
      if (k < 0) insertByRank(out, a);
      else if ((out[k] as CommitAdvanced).commitIndex < a.commitIndex) out[k] = a;
      return;
    }
    case 'appendLog': {
      const k = findLastType(out, 'appendLog');
      if (k < 0) {
        insertByRank(out, a);
        return;
      }
      const earlier = out[k] as AppendLog;
      const joined = joinAppends(earlier.entries, a.entries);
      if (joined === null) out.splice(k + 1, 0, a);
      else if (joined === a.entries && earlier.concurrent === a.concurrent) out[k] = a;
      else out[k] = joinedAppendLog(joined, earlier, a);
      return;
    }
    case 'broadcast': {
      const channel = channelOf(a.message);
      for (let k = 0; k < out.length; k++) {
        const o = out[k]!;
        if (o.type === 'broadcast' && channelOf(o.message) === channel) {
          out[k] = broadcast(mergeMessages(o.message, a.message));
          return;
        }
      }
      insertByRank(out, a);
      return;
    }
    case 'send': {
      const channel = channelOf(a.message);
      for (let k = 0; k < out.length; k++) {
        const o = out[k]!;
        if (o.type === 'send' && o.to === a.to && channelOf(o.message) === channel) {
          out[k] = send(a.to, mergeMessages(o.message, a.message));
          return;
        }
      }
      insertByRank(out, a);
      return;
    }
    case 'installSnapshot': {
      for (const o of out) if (o.type === 'installSnapshot' && o.to === a.to) return;
      insertByRank(out, a);
      return;
    }
    default:
      out.push(a);
  }
}

function findType(out: readonly RaftAction[], type: RaftAction['type']): number {
  for (let k = 0; k < out.length; k++) if (out[k]!.type === type) return k;
  return -1;
}

function findLastType(out: readonly RaftAction[], type: RaftAction['type']): number {
  for (let k = out.length - 1; k >= 0; k--) if (out[k]!.type === type) return k;
  return -1;
}

function insertByRank(out: RaftAction[], a: RaftAction): void {
  const r = RANK[a.type];
  const to = a.type === 'send' || a.type === 'installSnapshot' ? a.to : '';
  let k = out.length;
  while (k > 0) {
    const o = out[k - 1]!;
    const ro = RANK[o.type];
    if (ro < r) break;
    if (ro === r && (r === 8 || (to !== '' && (o as Send | InstallSnapshot).to < to))) break;
    k--;
  }
  out.splice(k, 0, a);
}

/**
 * `actions` rebased onto a snapshot at `(term, index)` (noraft's pending-action rebase): appends
 * keep only what lies after the snapshot (and disappear when nothing does); messages of a term older
 * than the snapshot's are dropped, the others rebased by {@link rebaseMessage}. Message terms do not
 * change.
 */
function rebaseOnSnapshot(actions: RaftAction[], snap: CompactLog): RaftAction[] {
  const out: RaftAction[] = [];
  for (const a of actions) {
    if (a.type === 'appendLog') {
      const e = rebaseEntries(a.entries, snap);
      if (e === a.entries) out.push(a);
      else if (e.lastIndex > e.prevIndex) out.push(appendLog(e));
    } else if (a.type === 'broadcast' || a.type === 'send') {
      const m = rebaseMessage(a.message, snap);
      if (m === null) continue;
      out.push(m === a.message ? a : a.type === 'broadcast' ? broadcast(m) : send(a.to, m));
    } else {
      out.push(a);
    }
  }
  return out;
}

function rebaseEntries(e: LogEntries, snap: CompactLog): LogEntries {
  if (snap.index < e.prevIndex) return e;
  return since(e, snap.term, snap.index) ?? emptyEntries(snap.term, snap.index);
}

/**
 * A message of an earlier step rebased onto a later step's snapshot, or null when it is stale: of a
 * term older than the snapshot's, whatever its kind (see `mergeActions` for why). Otherwise
 * `m.term >= snap.term`, so a rebased message never claims a position of a term above its own: an
 * AppendEntries keeps only the entries after the snapshot (none, anchored at it, when it holds no
 * entry after it); a vote request or AppendEntries reply behind the snapshot reports the snapshot's
 * position; anything else is returned as it is.
 */
function rebaseMessage(m: Message, snap: CompactLog): Message | null {
  if (m.term < snap.term) return null;
  switch (m.type) {
    case 'appendEntries': {
      const e = rebaseEntries(m.entries, snap);
      return e === m.entries ? m : appendEntriesCall(m.from, m.term, m.commitIndex, e);
    }
    case 'requestVote':
    case 'preVote':
    case 'appendEntriesReply':
      if (comparePositions(m.lastTerm, m.lastIndex, snap.term, snap.index) >= 0) return m;
      if (m.type === 'requestVote') return requestVote(m.from, m.term, snap.term, snap.index, m.transfer);
      if (m.type === 'preVote') return preVote(m.from, m.term, snap.term, snap.index);
      return appendEntriesReply(m.from, m.term, snap.term, snap.index);
    default:
      return m;
  }
}

/**
 * The single storage run equivalent to writing `first` and then `second`, or null when `second`
 * starts after the end of `first` (a gap: the two must stay separate actions, in order).
 */
function joinAppends(first: LogEntries, second: LogEntries): LogEntries | null {
  if (second.prevIndex <= first.prevIndex) return second;
  if (second.prevIndex > first.lastIndex) return null;
  return spliceSuffix(first, second);
}

/**
 * The message that replaces `older` when `newer` goes to the same destination on the same channel
 * (see `channelOf`): `newer`, except that two AppendEntries merge — the later term and commit index,
 * and the older entries extended by the newer ones when the older run holds the newer anchor — and
 * that forwarded reads (`readIndex`) and their answers (`readIndexReply`) join their lists.
 */
export function mergeMessages(older: Message, newer: Message): Message {
  if (older.type === 'readIndex' && newer.type === 'readIndex' && older.term === newer.term) {
    const ids = older.ids.concat(newer.ids.filter((id) => !older.ids.includes(id)));
    return readIndex(newer.from, newer.term, ids);
  }
  if (older.type === 'readIndexReply' && newer.type === 'readIndexReply') {
    return readIndexReply(newer.from, newer.term, older.reads.concat(newer.reads));
  }
  if (older.type !== 'appendEntries' || newer.type !== 'appendEntries') return newer;
  const o = older.entries;
  const n = newer.entries;
  if (!containsPosition(o, n.prevTerm, n.prevIndex)) return newer;
  return appendEntriesCall(newer.from, newer.term, newer.commitIndex, spliceSuffix(o, n));
}
