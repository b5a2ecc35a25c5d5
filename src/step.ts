/**
 * The reducer. `step` only checks the event and dispatches it to the module that owns the rule.
 */
import { NO_ACTIONS, fatal, invalidEvent, mergeActions, type Actions } from './actions.js';
import { becomeFollower, onRequestVote, onRequestVoteReply, startElection } from './election.js';
import type { CreateCluster, Propose, ProposeConfig, RaftEvent, SnapshotInstalled } from './events.js';
import type { Message } from './messages.js';
import { bump } from './metrics.js';
import { createCluster } from './node.js';
import { proposeConfig } from './membership.js';
import { heartbeat, onAppendEntries, onAppendEntriesReply, propose } from './replication.js';
import { onSnapshotInstalled } from './snapshot.js';
import { withMetrics, type RaftState, type StepResult } from './state.js';
import {
  NOT_AN_OBJECT,
  appendEntriesProblem,
  createClusterProblem,
  isEventObject,
  positionMessageProblem,
  proposeConfigProblem,
  proposeProblem,
  snapshotInstalledProblem,
  unknownTypeProblem,
  voteReplyProblem,
  type EventObject,
} from './validate.js';

/**
 * Apply one event to a node: `step(state, event) => [nextState, actions]`.
 *
 * Pure and total: it reads only its arguments, never modifies them, and never throws. An event
 * that changes nothing returns the same state object. A malformed event (see `validateEvent`)
 * returns the same state and one `invalidEvent` action naming the problem. A halted node (after a
 * `fatal` action) returns the same state and the `fatal` action again, whatever the event.
 *
 * The application carries out the returned actions in order (see `Action`): storage first, then
 * messages. The actions of several steps may be merged with `mergeActions` before carrying them out.
 */
export function step(state: RaftState, event: RaftEvent): StepResult {
  try {
    if (state.halted !== null) return [state, [fatal(state.halted)]];
    if (!isEventObject(event)) return invalid(state, NOT_AN_OBJECT);
    return dispatch(state, event);
  } catch (err) {
    // Unreachable for well-formed states; kept so that `step` stays total even when handed a value
    // that is not a RaftState.
    return invalid(state, `state or event rejected: ${describeError(err)}`);
  }
}

/** The message of anything thrown, itself without throwing (a hostile getter may throw anything). */
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
 * Check the event's shape for its type (see `validate.ts`), then hand it to the module that owns
 * the rule. One switch does both, so that each event's type is read once.
 */
function dispatch(s: RaftState, e: EventObject): StepResult {
  let problem: string | null;
  switch (e.type) {
    case 'appendEntries':
      problem = appendEntriesProblem(e);
      return problem === null ? onMessage(s, e as unknown as Message) : invalid(s, problem);
    case 'appendEntriesReply':
    case 'requestVote':
      problem = positionMessageProblem(e);
      return problem === null ? onMessage(s, e as unknown as Message) : invalid(s, problem);
    case 'requestVoteReply':
      problem = voteReplyProblem(e);
      return problem === null ? onMessage(s, e as unknown as Message) : invalid(s, problem);
    case 'propose':
      problem = proposeProblem(e);
      return problem === null ? onPropose(s, (e as unknown as Propose).count ?? 1) : invalid(s, problem);
    case 'heartbeat':
      return heartbeat(s);
    case 'timeout':
      return s.role === 'leader' ? heartbeat(s) : startElection(s);
    case 'createCluster':
      problem = createClusterProblem(e);
      return problem === null ? createCluster(s, (e as unknown as CreateCluster).voters) : invalid(s, problem);
    case 'proposeConfig':
      problem = proposeConfigProblem(e);
      return problem === null ? proposeConfig(s, (e as unknown as ProposeConfig).config) : invalid(s, problem);
    case 'snapshotInstalled': {
      problem = snapshotInstalledProblem(e);
      if (problem !== null) return invalid(s, problem);
      const { term, index, config } = e as unknown as SnapshotInstalled;
      return onSnapshotInstalled(s, term, index, config);
    }
    default:
      return invalid(s, unknownTypeProblem(e));
  }
}

/** A proposal of `count` commands, unless it would take the log index past the safe integers. */
function onPropose(s: RaftState, count: number): StepResult {
  if (s.log.lastIndex + count > Number.MAX_SAFE_INTEGER) {
    return invalid(s, 'count would take the log index past Number.MAX_SAFE_INTEGER');
  }
  return propose(s, count);
}

/** Messages: ignore our own, adopt a higher term (stepping down), then let the rule's module decide. */
function onMessage(s: RaftState, m: Message): StepResult {
  if (m.from === s.id) return [withMetrics(s, bump(s.metrics, 'selfMessagesIgnored')), NO_ACTIONS];
  return m.term > s.term ? onHigherTerm(s, m) : handle(s, m);
}

/** A message from a higher term: step down to follower in that term first, then handle it. */
function onHigherTerm(s: RaftState, m: Message): StepResult {
  const stepDown = becomeFollower(withMetrics(s, bump(s.metrics, 'termAdvancesFromMessages')), m.term);
  const handled = handle(stepDown[0], m);
  return [handled[0], mergeActions(stepDown[1], handled[1])];
}

function handle(s: RaftState, m: Message): StepResult {
  switch (m.type) {
    case 'appendEntries':
      return onAppendEntries(s, m);
    case 'appendEntriesReply':
      return onAppendEntriesReply(s, m);
    case 'requestVote':
      return onRequestVote(s, m);
    case 'requestVoteReply':
      return onRequestVoteReply(s, m);
  }
}

/**
 * Step a list of events in order and merge their actions: the state after the last event and the
 * actions the application must carry out for all of them. Stepping N proposals this way yields one
 * `appendLog` and one message per peer (pipelining).
 */
export function stepAll(state: RaftState, events: readonly RaftEvent[]): StepResult {
  let s = state;
  let actions: Actions = NO_ACTIONS;
  for (let i = 0; i < events.length; i++) {
    const r = step(s, events[i]!);
    s = r[0];
    actions = mergeActions(actions, r[1]);
  }
  return [s, actions];
}
