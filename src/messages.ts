/**
 * The four Raft messages. Messages are plain JSON objects and are also events: the application
 * passes a received message to `step` as it is. Every message names its sender in `from` and the
 * sender's current term in `term`.
 */
import { dropFirst, entryCount, keepFirst, type LogEntries } from './log.js';

/** A candidate asks for a vote. `(lastTerm, lastIndex)` is the candidate's last log position. */
export interface RequestVote {
  readonly type: 'requestVote';
  readonly from: string;
  readonly term: number;
  readonly lastTerm: number;
  readonly lastIndex: number;
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

/** Any Raft message. */
export type Message = RequestVote | RequestVoteReply | AppendEntries | AppendEntriesReply;

/** True for messages that call for an answer (vote requests and AppendEntries). */
export function isCall(message: Message): message is RequestVote | AppendEntries {
  return message.type === 'requestVote' || message.type === 'appendEntries';
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
export function requestVote(from: string, term: number, lastTerm: number, lastIndex: number): RequestVote {
  return { type: 'requestVote', from, term, lastTerm, lastIndex };
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
