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
 * A candidate asks for a vote. `(lastTerm, lastIndex)` is the candidate's last log position.
 * `transfer` is true when the candidate campaigns because the leader handed leadership to it
 * (`timeoutNow`): voters then grant it even while they still hear from that leader. A missing
 * `transfer` reads as false.
 */
export interface RequestVote {
  readonly type: 'requestVote';
  readonly from: string;
  readonly term: number;
  readonly lastTerm: number;
  readonly lastIndex: number;
  readonly transfer?: boolean;
}

/** The answer to a vote request. Refusals are only sent to candidates of an older term. */
export interface RequestVoteReply {
  readonly type: 'requestVoteReply';
  readonly from: string;
  readonly term: number;
  readonly granted: boolean;
}

/**
 * A leader replicates entries (or, with no entries, sends a heartbeat or a repair probe).
 * `entries.prevTerm`/`entries.prevIndex` are Raft's prevLogTerm/prevLogIndex; `commitIndex` is the
 * leader's commit index. The application attaches the command payloads for the indices
 * `(entries.prevIndex, entries.lastIndex]` when it sends the message.
 */
export interface AppendEntries {
  readonly type: 'appendEntries';
  readonly from: string;
  readonly term: number;
  readonly commitIndex: number;
  readonly entries: LogEntries;
}

/**
 * A follower's answer to AppendEntries. Instead of a success flag it carries the follower's last
 * log position, so the leader can jump straight to the point where the logs agree.
 */
export interface AppendEntriesReply {
  readonly type: 'appendEntriesReply';
  readonly from: string;
  readonly term: number;
  readonly lastTerm: number;
  readonly lastIndex: number;
}

/**
 * A pre-candidate asks whether the receiver would vote for it in `term` (its own term plus one),
 * given its last log position `(lastTerm, lastIndex)`. Nobody's term changes: the receiver answers
 * and forgets.
 */
export interface PreVote {
  readonly type: 'preVote';
  readonly from: string;
  readonly term: number;
  readonly lastTerm: number;
  readonly lastIndex: number;
}

/**
 * The answer to a pre-vote. Granted: `term` is the term asked about. Refused: `term` is the
 * refuser's own term, so that a pre-candidate behind the cluster's term learns it.
 */
export interface PreVoteReply {
  readonly type: 'preVoteReply';
  readonly from: string;
  readonly term: number;
  readonly granted: boolean;
}

/**
 * A leader hands leadership over: the receiver, a voter the leader has brought up to date, starts an
 * election at once, skipping pre-vote (its vote requests carry `transfer: true`).
 */
export interface TimeoutNow {
  readonly type: 'timeoutNow';
  readonly from: string;
  readonly term: number;
}

/**
 * A leader confirms it still leads: round `round` of its leadership checks (rounds count up within
 * one leadership). A follower takes it as contact from its leader, like a heartbeat, and answers.
 */
export interface LeadershipCheck {
  readonly type: 'leadershipCheck';
  readonly from: string;
  readonly term: number;
  readonly round: number;
}

/** A follower acknowledges the leadership check `round` of the leader of `term`. */
export interface LeadershipCheckReply {
  readonly type: 'leadershipCheckReply';
  readonly from: string;
  readonly term: number;
  readonly round: number;
}

/**
 * A follower forwards reads to the leader it follows: `ids` are the ids the application gave them
 * on the follower. The leader answers with `readIndexReply` once each is confirmed.
 */
export interface ReadIndex {
  readonly type: 'readIndex';
  readonly from: string;
  readonly term: number;
  readonly ids: readonly string[];
}

/** One answered read: its id and its read index, or -1 when the leader could not serve it. */
export interface ReadAnswer {
  readonly id: string;
  readonly index: number;
}

/** The leader answers reads a follower forwarded (see {@link ReadIndex}). */
export interface ReadIndexReply {
  readonly type: 'readIndexReply';
  readonly from: string;
  readonly term: number;
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
