/**
 * The messages nodes exchange. Messages are plain JSON objects and are also events: the application
 * passes a received message to `step` as it is. Every message names its sender in `from` and a term
 * in `term`: the sender's current term, except a pre-vote request and a granted pre-vote, which carry
 * the term the sender would campaign in.
 *
 * Raft's four (`requestVote`, `requestVoteReply`, `appendEntries`, `appendEntriesReply`) carry the
 * protocol; the others carry its extensions: pre-vote (`preVote`, `preVoteReply`), leadership
 * transfer (`timeoutNow`), and linearizable reads (`leadershipCheck`, `leadershipCheckReply`,
 * `readIndex`, `readIndexReply`).
 */
import { dropFirst, entryCount, keepFirst, type LogEntries } from './log.js';

/**
 * A candidate asks for a vote in its term, giving its last log position `(lastTerm, lastIndex)`. A
 * voter grants it when that position is at least as up to date as its own and it has not voted for
 * another node in the term.
 */
export interface RequestVote {
  /** Discriminant: always `'requestVote'`. */
  readonly type: 'requestVote';
  /** The candidate. */
  readonly from: string;
  /**
   * The term the candidate campaigns in (its current term). A receiver of an older term adopts it
   * first, unless check-quorum makes it ignore the request (see `transfer`).
   */
  readonly term: number;
  /** The term of the candidate's last log entry (0 for an empty log); at most `term`. */
  readonly lastTerm: number;
  /** The index of the candidate's last log entry (0 for an empty log). */
  readonly lastIndex: number;
  /**
   * True when the candidate campaigns because the leader handed leadership to it (`timeoutNow`):
   * voters then grant it even while they still hear from that leader (with check-quorum, a request
   * of a higher term is otherwise ignored by such a node). A missing `transfer` reads as false; any
   * other value than a boolean makes the message an `invalidEvent`.
   */
  readonly transfer?: boolean;
}

/** The answer to a vote request. Refusals are only sent to candidates of an older term. */
export interface RequestVoteReply {
  /** Discriminant: always `'requestVoteReply'`. */
  readonly type: 'requestVoteReply';
  /** The voter answering. */
  readonly from: string;
  /** The voter's current term: the candidate's term when granted, a newer one when refused. */
  readonly term: number;
  /**
   * True when the voter gave the candidate its vote for `term`. A refusal (false) carries the
   * voter's newer term, which the candidate adopts; a candidate counts only granted votes of its
   * current term from voters of its latest configuration.
   */
  readonly granted: boolean;
}

/**
 * A leader replicates entries (or, with no entries, sends a heartbeat or a repair probe).
 * `entries.prevTerm`/`entries.prevIndex` are Raft's prevLogTerm/prevLogIndex. The application
 * attaches the command payloads for the indices `(entries.prevIndex, entries.lastIndex]` when it
 * sends the message.
 */
export interface AppendEntries {
  /** Discriminant: always `'appendEntries'`. */
  readonly type: 'appendEntries';
  /** The leader sending. A follower that accepts the call follows it (its `votedFor`). */
  readonly from: string;
  /**
   * The leader's term. A receiver of an older term adopts it; one of a newer term refuses the call,
   * replying with its own term.
   */
  readonly term: number;
  /**
   * The leader's commit index. A follower whose log, after the call, ends where the call's entries
   * end advances its own commit index to it (capped at its last index); a commit index never
   * decreases.
   */
  readonly commitIndex: number;
  /**
   * The run to append, anchored at Raft's prevLogTerm/prevLogIndex; empty for a heartbeat or a
   * probe. Its `lastTerm` is at most `term` (otherwise the message is an `invalidEvent`).
   */
  readonly entries: LogEntries;
}

/**
 * A follower's answer to AppendEntries. Instead of a success flag it carries the follower's last
 * log position, so the leader can jump straight to the point where the logs agree.
 */
export interface AppendEntriesReply {
  /** Discriminant: always `'appendEntriesReply'`. */
  readonly type: 'appendEntriesReply';
  /** The follower answering. */
  readonly from: string;
  /**
   * The follower's current term: the leader's when it took the call, a newer one when it refused a
   * call of an older term (the leader then adopts it and steps down).
   */
  readonly term: number;
  /** The term of the follower's last log entry after handling the call; at most `term`. */
  readonly lastTerm: number;
  /**
   * The index of the follower's last log entry after handling the call. The leader counts it as the
   * follower's match index when it holds `(lastTerm, lastIndex)`, and otherwise sends the entries
   * from the highest index where the logs can still agree (or a snapshot).
   */
  readonly lastIndex: number;
}

/**
 * A pre-candidate asks whether the receiver would vote for it in `term` (its own term plus one),
 * given its last log position `(lastTerm, lastIndex)`. Nobody's term changes: the receiver answers
 * and forgets.
 */
export interface PreVote {
  /** Discriminant: always `'preVote'`. */
  readonly type: 'preVote';
  /** The pre-candidate. */
  readonly from: string;
  /** The term the pre-candidate would campaign in (its own term plus one); never raises the receiver's term. */
  readonly term: number;
  /** The term of the pre-candidate's last log entry (0 for an empty log); at most `term`. */
  readonly lastTerm: number;
  /** The index of the pre-candidate's last log entry (0 for an empty log). */
  readonly lastIndex: number;
}

/**
 * The answer to a pre-vote. Granted: `term` is the term asked about. Refused: `term` is the
 * refuser's own term, so that a pre-candidate behind the cluster's term learns it.
 */
export interface PreVoteReply {
  /** Discriminant: always `'preVoteReply'`. */
  readonly type: 'preVoteReply';
  /** The node answering. */
  readonly from: string;
  /**
   * Granted: the term asked about (it does not raise the receiver's term). Refused: the refuser's own
   * term, which a pre-candidate behind it adopts.
   */
  readonly term: number;
  /**
   * True when the node would vote for the pre-candidate in `term`. A pre-candidate counts granted
   * pre-votes for its term plus one from voters of its latest configuration.
   */
  readonly granted: boolean;
}

/**
 * A leader hands leadership over: the receiver, a voter the leader has brought up to date, starts an
 * election at once, skipping pre-vote (its vote requests carry `transfer: true`).
 */
export interface TimeoutNow {
  /** Discriminant: always `'timeoutNow'`. */
  readonly type: 'timeoutNow';
  /** The leader handing leadership over. A follower ignores the message unless it follows this node. */
  readonly from: string;
  /** The leader's term. Only a receiver already in this term may act on the message. */
  readonly term: number;
}

/**
 * A leader confirms it still leads: round `round` of its leadership checks (rounds count up within
 * one leadership). A follower takes it as contact from its leader, like a heartbeat, and answers.
 */
export interface LeadershipCheck {
  /** Discriminant: always `'leadershipCheck'`. */
  readonly type: 'leadershipCheck';
  /** The leader; a follower that takes the check follows it. */
  readonly from: string;
  /** The leader's term. A receiver of a newer term answers with that term, so the stale leader steps down. */
  readonly term: number;
  /** The round number: at least 1 (0 makes the message an `invalidEvent`). */
  readonly round: number;
}

/** A follower acknowledges the leadership check `round` of the leader of `term`. */
export interface LeadershipCheckReply {
  /** Discriminant: always `'leadershipCheckReply'`. */
  readonly type: 'leadershipCheckReply';
  /** The follower acknowledging. */
  readonly from: string;
  /**
   * The replier's current term: the leader's when it acknowledges, a newer one when the check was
   * stale. A leader ignores replies of any other term than its own.
   */
  readonly term: number;
  /** The round acknowledged, copied from the check: at least 1 (0 makes the message an `invalidEvent`). */
  readonly round: number;
}

/**
 * A follower forwards reads to the leader it follows: `ids` are the ids the application gave them
 * on the follower. The leader answers with `readIndexReply` once each is confirmed.
 */
export interface ReadIndex {
  /** Discriminant: always `'readIndex'`. */
  readonly type: 'readIndex';
  /** The follower forwarding the reads; the leader's answer goes back to it. */
  readonly from: string;
  /**
   * The follower's current term (that of the leader it follows). A node that is not the leader of
   * this term refuses every read of the message (index -1).
   */
  readonly term: number;
  /**
   * The ids of the forwarded reads: non-empty strings, at least one, no duplicates (otherwise the
   * message is an `invalidEvent`). The leader keys them by (follower, id).
   */
  readonly ids: readonly string[];
}

/** One answered read: its id and its read index, or -1 when the leader could not serve it. */
export interface ReadAnswer {
  /** The id the follower forwarded. */
  readonly id: string;
  /**
   * The read index: the follower answers `readReady` with it once the read may be served after
   * applying every entry up to it. -1: the leader could not serve the read, and the follower rejects it.
   */
  readonly index: number;
}

/**
 * The leader answers reads a follower forwarded (see {@link ReadIndex}). The follower ignores answers
 * for reads it no longer holds.
 */
export interface ReadIndexReply {
  /** Discriminant: always `'readIndexReply'`. */
  readonly type: 'readIndexReply';
  /** The node answering: the leader, or a node that is not the leader of the reads' term, refusing them. */
  readonly from: string;
  /** The answering node's current term. */
  readonly term: number;
  /** The answered reads, at least one (an empty list makes the message an `invalidEvent`). */
  readonly reads: readonly ReadAnswer[];
}

/** Raft's own four messages. */
export type RaftMessage = RequestVote | RequestVoteReply | AppendEntries | AppendEntriesReply;

/** The messages of the extensions: pre-vote, leadership transfer, linearizable reads. */
export type ExtensionMessage =
  PreVote | PreVoteReply | TimeoutNow | LeadershipCheck | LeadershipCheckReply | ReadIndex | ReadIndexReply;

/** Any message. */
export type Message = RaftMessage | ExtensionMessage;

/** Every message type, in a fixed order. */
export const MESSAGE_TYPES: readonly Message['type'][] = Object.freeze([
  'requestVote',
  'requestVoteReply',
  'appendEntries',
  'appendEntriesReply',
  'preVote',
  'preVoteReply',
  'timeoutNow',
  'leadershipCheck',
  'leadershipCheckReply',
  'readIndex',
  'readIndexReply',
]);

/** True for messages that call for an answer in the sender's term (and are stale once it is over). */
export function isCall(message: Message): boolean {
  const t = message.type;
  return (
    t === 'requestVote' ||
    t === 'appendEntries' ||
    t === 'preVote' ||
    t === 'timeoutNow' ||
    t === 'leadershipCheck' ||
    t === 'readIndex'
  );
}

/**
 * The channel a message travels on when action lists merge (see `mergeActions`): a later message
 * to a destination replaces or joins an earlier one of the same channel only. Raft's messages,
 * pre-votes and `timeoutNow` share one channel (a later one supersedes an earlier one); each read
 * message type has its own, so that a read answer never displaces replication and the reverse.
 */
export function channelOf(message: Message): string {
  const t = message.type;
  return t === 'leadershipCheck' || t === 'leadershipCheckReply' || t === 'readIndex' || t === 'readIndexReply'
    ? t
    : 'raft';
}

/** The one constructor of {@link AppendEntries}. */
export function appendEntriesCall(from: string, term: number, commitIndex: number, entries: LogEntries): AppendEntries {
  return { type: 'appendEntries', from, term, commitIndex, entries };
}

/** The one constructor of {@link AppendEntriesReply}. */
export function appendEntriesReply(
  from: string,
  term: number,
  lastTerm: number,
  lastIndex: number,
): AppendEntriesReply {
  return { type: 'appendEntriesReply', from, term, lastTerm, lastIndex };
}

/** The one constructor of {@link RequestVote}. */
export function requestVote(
  from: string,
  term: number,
  lastTerm: number,
  lastIndex: number,
  transfer = false,
): RequestVote {
  return { type: 'requestVote', from, term, lastTerm, lastIndex, transfer };
}

/** The one constructor of {@link PreVote}. */
export function preVote(from: string, term: number, lastTerm: number, lastIndex: number): PreVote {
  return { type: 'preVote', from, term, lastTerm, lastIndex };
}

/** The one constructor of {@link PreVoteReply}. */
export function preVoteReply(from: string, term: number, granted: boolean): PreVoteReply {
  return { type: 'preVoteReply', from, term, granted };
}

/** The one constructor of {@link TimeoutNow}. */
export function timeoutNow(from: string, term: number): TimeoutNow {
  return { type: 'timeoutNow', from, term };
}

/** The one constructor of {@link LeadershipCheck}. */
export function leadershipCheck(from: string, term: number, round: number): LeadershipCheck {
  return { type: 'leadershipCheck', from, term, round };
}

/** The one constructor of {@link LeadershipCheckReply}. */
export function leadershipCheckReply(from: string, term: number, round: number): LeadershipCheckReply {
  return { type: 'leadershipCheckReply', from, term, round };
}

/** The one constructor of {@link ReadIndex}. */
export function readIndex(from: string, term: number, ids: readonly string[]): ReadIndex {
  return { type: 'readIndex', from, term, ids };
}

/** The one constructor of {@link ReadIndexReply}. */
export function readIndexReply(from: string, term: number, reads: readonly ReadAnswer[]): ReadIndexReply {
  return { type: 'readIndexReply', from, term, reads };
}

/** The one constructor of {@link RequestVoteReply}. */
export function requestVoteReply(from: string, term: number, granted: boolean): RequestVoteReply {
  return { type: 'requestVoteReply', from, term, granted };
}

/**
 * An AppendEntries message cut to carry at most `maxEntries` entries (from the front), for
 * applications that limit message size; the rest goes in a later message, for example the one the
 * leader sends when the follower replies. Other messages, and messages already small enough, are
 * returned unchanged. `maxEntries` below 0, or not a safe integer, counts as 0 (the message becomes a
 * heartbeat at its anchor).
 */
export function truncateAppendEntries(message: Message, maxEntries: number): Message {
  if (!Number.isSafeInteger(maxEntries)) maxEntries = 0;
  if (message.type !== 'appendEntries' || entryCount(message.entries) <= maxEntries) return message;
  return appendEntriesCall(message.from, message.term, message.commitIndex, keepFirst(message.entries, maxEntries));
}

/**
 * An AppendEntries message without its first `n` entries (its anchor moves forward), for
 * applications that know a prefix is already in flight. `n <= 0` returns the message unchanged;
 * `n` at or beyond the entry count leaves an empty message at the last position. An `n` that is not a
 * safe integer counts as 0. Other messages are returned unchanged.
 */
export function stripAppendEntriesPrefix(message: Message, n: number): Message {
  if (message.type !== 'appendEntries' || !Number.isSafeInteger(n) || n <= 0) return message;
  return appendEntriesCall(message.from, message.term, message.commitIndex, dropFirst(message.entries, n));
}
