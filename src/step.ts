/**
 * The reducer. `step` only checks the event and dispatches it to the module that owns the rule.
 */
import { ActionFold, fatal, internalError, invalidEvent, mergeActions } from './actions.js';
import { onRequestVote, onRequestVoteReply } from './election.js';
import { onPreVote, onPreVoteReply } from './prevote.js';
import {
  onLeadershipCheck,
  onLeadershipCheckReply,
  onRead,
  onReadIndex,
  onReadIndexReply,
  settleReads,
} from './reads.js';
import { onTimeout } from './timeout.js';
import { onTimeoutNow, transferLeadership } from './transfer.js';
import type { RaftEvent } from './events.js';
import type { LogEntries } from './log.js';
import { appendEntriesCall, appendEntriesReply, type Message } from './messages.js';
import { createCluster } from './node.js';
import { onAppendPersisted } from './concurrent-writes.js';
import { proposeConfig } from './membership.js';
import { heartbeat, joinableCommands, onAppendEntries, onAppendEntriesReply, propose } from './replication.js';
import { onSnapshotInstalled } from './snapshot.js';
import { halt, type RaftState, type StepResult } from './state.js';
import { adoptTerm, atOwnTerm, ignoredForTerm, keepsTerm } from './term.js';
import {
  NOT_AN_OBJECT,
  appendEntriesProblem,
  isEventObject,
  parseAppendedEntries,
  parseCreateCluster,
  isExtensionType,
  parseExtension,
  parsePositionMessage,
  parseProposeConfig,
  parseProposeCount,
  parseSnapshotInstalled,
  parseVoteReply,
  positionMessageProblem,
  unknownTypeProblem,
  unreadable,
  type EventObject,
  type Parsed,
} from './validate.js';

/**
 * Apply one event to a node: `step(state, event) => [nextState, actions]`.
 *
 * Pure and total: it reads only its arguments, never modifies them, and never throws. An event
 * that changes nothing returns the same state object. A malformed event (see `validateEvent`;
 * this includes an event whose fields throw when read) returns the same state and one
 * `invalidEvent` action naming the problem. A halted node returns the same state and its `fatal`
 * action again, whatever the event. An exception inside a rule (a bug in raftstep, never the
 * event's fault: the rules only see a plain copy of the event) returns the given state, halted,
 * and one `internalError` action.
 *
 * The application carries out the returned actions in order (see `RaftAction`): storage first, then
 * messages. The actions of several steps may be merged with `mergeActions` before carrying them out.
 */
export function step(state: RaftState, event: RaftEvent): StepResult {
  let type: unknown;
  try {
    const halted: unknown = state.halted;
    if (halted !== null) {
      if (typeof halted === 'string') return [state, [fatal(halted)]];
      return invalid(state, 'the state given to step is not a node state');
    }
  } catch (err) {
    // Not a node state at all: the caller's mistake, not the event's, and not a rule's.
    return invalid(state, `the state given to step is not a node state (${describeError(err)})`);
  }
  try {
    if (!isEventObject(event)) return invalid(state, NOT_AN_OBJECT);
    type = event.type;
  } catch (err) {
    return invalid(state, unreadable(err));
  }
  // The parsers never throw (see validate.ts), nor do the reads of `appendEntriesEvent` and
  // `appendEntriesReplyEvent` (caught there): an exception from here on is a rule's, a bug.
  try {
    const result = dispatch(state, event, type);
    return state.reads.length === 0 && result[0].reads.length === 0 ? result : settleReads(state, result);
  } catch (err) {
    return onInternalError(state, typeof type === 'string' ? type : '', err);
  }
}

/**
 * A rule threw: report it as a bug, with the state halted so that nothing of the failed step takes
 * effect and later events are refused. When `state` is not even a node state (the caller passed
 * something else), it is returned as it came.
 */
function onInternalError(state: RaftState, type: string, err: unknown): StepResult {
  const reason = describeError(err);
  const report = internalError(reason, type);
  try {
    return [halt(state, `internalError while handling "${type}": ${reason}`), [report]];
  } catch {
    return [state, [report]];
  }
}

/** The message of anything thrown, itself without throwing. */
function describeError(err: unknown): string {
  try {
    return err instanceof Error ? String(err.message) : String(err);
  } catch {
    return 'an exception that cannot be described';
  }
}

/** The state unchanged, and the `invalidEvent` action naming `problem`. */
function invalid(s: RaftState, problem: string): StepResult {
  return [s, [invalidEvent(problem)]];
}

/**
 * Parse the event for its type (see `validate.ts`: a plain copy, each field read once), then hand
 * the copy to the module that owns the rule; the two hottest messages are read and handed over as
 * values (see {@link appendEntriesEvent}). One switch does both, so that the type is read once.
 */
function dispatch(s: RaftState, e: EventObject, type: unknown): StepResult {
  switch (type) {
    case 'appendEntries':
      return appendEntriesEvent(s, e);
    case 'appendEntriesReply':
      return appendEntriesReplyEvent(s, e);
    case 'requestVote': {
      const m = parsePositionMessage(e, type);
      if (typeof m === 'string') return invalid(s, m);
      return onMessage(s, m);
    }
    case 'requestVoteReply': {
      const m = parseVoteReply(e);
      if (typeof m === 'string') return invalid(s, m);
      return onMessage(s, m);
    }
    case 'propose': {
      const count = parseProposeCount(e);
      if (typeof count === 'string') return invalid(s, count);
      return propose(s, count);
    }
    case 'heartbeat':
      return heartbeat(s);
    case 'timeout':
      return onTimeout(s);
    case 'createCluster': {
      const c = parseCreateCluster(e);
      if (typeof c === 'string') return invalid(s, c);
      return createCluster(s, c.voters);
    }
    case 'proposeConfig': {
      const c = parseProposeConfig(e);
      if (typeof c === 'string') return invalid(s, c);
      return proposeConfig(s, c.config);
    }
    case 'snapshotInstalled': {
      const snap = parseSnapshotInstalled(e);
      if (typeof snap === 'string') return invalid(s, snap);
      return onSnapshotInstalled(s, snap.term, snap.index, snap.config);
    }
    default:
      return dispatchExtension(s, e, type);
  }
}

/**
 * The events of the protocol extensions (pre-vote, transfer, reads), in a function of their own so
 * that `dispatch`, on every hot path, stays small.
 */
function dispatchExtension(s: RaftState, e: EventObject, type: unknown): StepResult {
  if (!isExtensionType(type)) return invalid(s, unknownTypeProblem(type));
  const x = parseExtension(e, type);
  if (typeof x === 'string') return invalid(s, x);
  if (x.type === 'read') return onRead(s, x.id);
  if (x.type === 'transferLeadership') return transferLeadership(s, x.to);
  if (x.type === 'appendPersisted') return onAppendPersisted(s, x.term, x.index);
  return onMessage(s, x);
}

/**
 * An `appendEntries` message, the hottest event with its reply: each field read once (a read that
 * throws makes the event malformed), checked by `validate.ts`, and handed to the rule as the values
 * read (the entries as a plain copy), without a copy of the message itself. The term rule's usual
 * case (`atOwnTerm`) goes straight to the rule; any other case goes through {@link onMessage} with a
 * copy of the message.
 */
function appendEntriesEvent(s: RaftState, e: EventObject): StepResult {
  let from: unknown;
  let term: unknown;
  let commitIndex: unknown;
  let entries: Parsed<LogEntries>;
  try {
    from = e.from;
    term = e.term;
    commitIndex = e.commitIndex;
    const problem = appendEntriesProblem(from, term, commitIndex);
    if (problem !== null) return invalid(s, problem);
    entries = parseAppendedEntries(e.entries, term as number);
  } catch (err) {
    return invalid(s, unreadable(err));
  }
  if (typeof entries === 'string') return invalid(s, entries);
  // Checked: `from` is a node id, `term` and `commitIndex` naturals (see appendEntriesProblem).
  const id = from as string;
  const t = term as number;
  const c = commitIndex as number;
  if (atOwnTerm(s, id, t)) return onAppendEntries(s, id, t, c, entries);
  return onMessage(s, appendEntriesCall(id, t, c, entries));
}

/** An `appendEntriesReply` message: read, checked and handed over as `appendEntriesEvent` does. */
function appendEntriesReplyEvent(s: RaftState, e: EventObject): StepResult {
  let from: unknown;
  let term: unknown;
  let lastTerm: unknown;
  let lastIndex: unknown;
  try {
    from = e.from;
    term = e.term;
    lastTerm = e.lastTerm;
    lastIndex = e.lastIndex;
  } catch (err) {
    return invalid(s, unreadable(err));
  }
  const problem = positionMessageProblem(from, term, lastTerm, lastIndex);
  if (problem !== null) return invalid(s, problem);
  // Checked: `from` is a node id, the others naturals (see positionMessageProblem).
  const id = from as string;
  const t = term as number;
  const lt = lastTerm as number;
  const li = lastIndex as number;
  if (atOwnTerm(s, id, t)) return onAppendEntriesReply(s, id, t, lt, li);
  return onMessage(s, appendEntriesReply(id, t, lt, li));
}

/**
 * A message: the term rule first (`term.ts`: ignore our own messages and implausible terms, adopt
 * a higher term by stepping down), then the rule of its type.
 */
function onMessage(s: RaftState, m: Message): StepResult {
  if (atOwnTerm(s, m.from, m.term)) return handleMessage(s, m);
  const ignored = ignoredForTerm(s, m);
  if (ignored !== null) return ignored;
  if (m.term === s.term || keepsTerm(m)) return handleMessage(s, m);
  const down = adoptTerm(s, m.term);
  const handled = handleMessage(down[0], m);
  return [handled[0], mergeActions(down[1], handled[1])];
}

/** The rule of each message type (the term has already been reconciled, see `term.ts`). */
function handleMessage(s: RaftState, m: Message): StepResult {
  switch (m.type) {
    case 'appendEntries':
      return onAppendEntries(s, m.from, m.term, m.commitIndex, m.entries);
    case 'appendEntriesReply':
      return onAppendEntriesReply(s, m.from, m.term, m.lastTerm, m.lastIndex);
    case 'requestVote':
      return onRequestVote(s, m);
    case 'requestVoteReply':
      return onRequestVoteReply(s, m);
    case 'preVote':
      return onPreVote(s, m);
    case 'preVoteReply':
      return onPreVoteReply(s, m);
    case 'timeoutNow':
      return onTimeoutNow(s, m);
    case 'leadershipCheck':
      return onLeadershipCheck(s, m);
    case 'leadershipCheckReply':
      return onLeadershipCheckReply(s, m);
    case 'readIndex':
      return onReadIndex(s, m);
    case 'readIndexReply':
      return onReadIndexReply(s, m);
  }
}

/**
 * Step a list of events in order and merge their actions: the state after the last event and the
 * actions the application must carry out for all of them. The result is exactly the left fold of
 * `step` and `mergeActions` over the events; stepping N proposals this way yields one `appendLog`
 * and one message per peer (pipelining).
 *
 * It is also cheaper than that fold. A run of two or more well-formed proposals on a healthy leader
 * that is not handing leadership over is stepped as one proposal of their sum (each event still
 * checked on its own), since that gives the same state and the same merged actions; the run is cut
 * where flow control would pause a follower or the log would run out of room for commands, and the
 * rest is stepped as usual. Any other event is stepped on its own, and the lists of back-to-back
 * proposals stepped one by one are joined once, at the end of their run, rather than pair by pair.
 * The fields of an event in a joined run are read once; a proposal stepped on its own after all is
 * read once more, by `step` (each use sees one read: what a getter answers cannot differ between a
 * check and its use).
 */
export function stepAll(state: RaftState, events: readonly RaftEvent[]): StepResult {
  let s = state;
  const actions = new ActionFold();
  for (let i = 0; i < events.length;) {
    const run = i + 1 < events.length ? joinableRun(s, events, i) : null;
    let r: StepResult;
    if (run !== null) {
      r = step(s, { type: 'propose', count: run.commands });
      i = run.end;
    } else {
      r = step(s, events[i]!);
      i++;
    }
    s = r[0];
    actions.add(r[1]);
  }
  return [s, actions.result()];
}

/** A run of proposals `stepAll` steps as one: it ends before `events[end]` and holds `commands`. */
interface JoinableRun {
  readonly end: number;
  readonly commands: number;
}

/**
 * The run of two or more proposals starting at `events[start]` that `s` can take as one proposal
 * (see `joinableCommands`), cut where the next event is not a well-formed proposal or does not fit;
 * null when there is no such run.
 */
function joinableRun(s: RaftState, events: readonly RaftEvent[], start: number): JoinableRun | null {
  const first = proposedCount(events[start]);
  if (first < 0) return null;
  const room = joinableCommandsOf(s);
  if (first > room) return null;
  let commands = first;
  let end = start + 1;
  for (; end < events.length; end++) {
    const count = proposedCount(events[end]);
    if (count < 0 || count > room - commands) break;
    commands += count;
  }
  return end - start >= 2 ? { end, commands } : null;
}

/** `joinableCommands(s)`, or 0 when `s` is not a node state (`step` reports that). Never throws. */
function joinableCommandsOf(s: RaftState): number {
  try {
    return joinableCommands(s);
  } catch {
    return 0;
  }
}

/**
 * The count of `event` when `step` takes it as a well-formed `propose` event (its fields read as
 * `step` reads them); -1 otherwise. Never throws.
 */
function proposedCount(event: unknown): number {
  try {
    if (!isEventObject(event) || event.type !== 'propose') return -1;
  } catch {
    return -1;
  }
  const count = parseProposeCount(event);
  return typeof count === 'number' ? count : -1;
}
