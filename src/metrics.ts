/**
 * The node's counters, kept in the state: noraft's eighteen, one for votes from non-voters and one
 * for messages whose term jumps too far. They start at zero when a node is
 * started or restarted, survive role changes, are not persisted, and saturate at
 * `Number.MAX_SAFE_INTEGER`.
 */

/** The counters. Each names the event it counts; see `bump` and `bumpBy` in `metrics.ts` for how they change. */
export interface Metrics {
  /** Messages whose `from` is this node, ignored. */
  readonly selfMessagesIgnored: number;
  /** Messages with a higher term that made this node adopt that term. */
  readonly termAdvancesFromMessages: number;
  /** Messages more than 2^32 terms ahead of this node, ignored (see `MAX_TERM_STEP`). */
  readonly termJumpsRefused: number;
  /** Vote requests from an older term, answered with a refusal carrying the current term. */
  readonly requestVoteCallsRejectedByOldTerm: number;
  /** Vote requests silently refused because the candidate's log is behind this node's. */
  readonly requestVoteCallsRejectedByLog: number;
  /** Vote requests silently refused because this node voted for (or follows) someone else this term. */
  readonly requestVoteCallsRejectedByExistingVote: number;
  /** Granted votes from an older term, ignored. */
  readonly requestVoteRepliesIgnoredFromOldTerms: number;
  /** Vote replies that arrived while this node was not a candidate, ignored. */
  readonly requestVoteRepliesIgnoredWhileNotCandidate: number;
  /** Granted votes from nodes that are not voters of the candidate's configuration, ignored. */
  readonly requestVoteRepliesIgnoredFromNonVoters: number;
  /** AppendEntries calls from an older term, answered with this node's term. */
  readonly appendEntriesCallsRejectedByOldTerm: number;
  /** AppendEntries calls of the current term received by the leader itself (cannot happen in correct Raft). */
  readonly sameTermAppendEntriesCallsReceivedByLeader: number;
  /** Divergent tails found (and truncated) by this node as a follower. */
  readonly logDivergencesDetectedByFollower: number;
  /** AppendEntries replies from an older term, ignored. */
  readonly appendEntriesRepliesIgnoredFromOldTerms: number;
  /** AppendEntries replies that arrived while this node was not leader, ignored. */
  readonly appendEntriesRepliesIgnoredWhileNotLeader: number;
  /** AppendEntries replies from nodes the leader does not track, ignored. */
  readonly appendEntriesRepliesIgnoredFromUnknownNodes: number;
  /** AppendEntries replies behind the follower's known match index (delayed or reordered), ignored. */
  readonly appendEntriesRepliesIgnoredBehindMatchIndex: number;
  /** AppendEntries replies claiming a log longer than the leader's, ignored. */
  readonly appendEntriesRepliesAheadOfLeader: number;
  /** Follower tails found divergent by this node as leader (a probe was sent). */
  readonly logDivergencesDetectedByLeader: number;
  /** Elections this node started as a voter. */
  readonly electionsStarted: number;
  /** Times this node became leader. */
  readonly leadershipsStarted: number;
  /** Pre-vote rounds started (pre-vote on): a timer fired and the node asked before campaigning. */
  readonly preVotesStarted: number;
  /** Pre-votes refused because this node still hears from a live leader (or is the leader). */
  readonly preVotesRefusedWhileLeaderAlive: number;
  /** Pre-votes refused because the pre-candidate's log is behind this node's. */
  readonly preVotesRefusedByLog: number;
  /** Vote requests ignored (check-quorum on) because this node hears from a live leader or leads. */
  readonly voteRequestsIgnoredWhileLeaderAlive: number;
  /** Times this node stepped down as leader because a majority of voters went quiet (check-quorum). */
  readonly checkQuorumStepDowns: number;
  /** Leadership transfers this node started as leader. */
  readonly transfersStarted: number;
  /** Leadership transfers this node abandoned after an election timeout. */
  readonly transfersAbandoned: number;
  /** Reads this node answered with `readReady`. */
  readonly readsReady: number;
  /** Reads this node answered with `rejected`. */
  readonly readsRejected: number;
}

/** The name of one counter. */
export type MetricName = keyof Metrics;

/** Every counter at zero. */
export const ZERO_METRICS: Metrics = Object.freeze({
  selfMessagesIgnored: 0,
  termAdvancesFromMessages: 0,
  termJumpsRefused: 0,
  requestVoteCallsRejectedByOldTerm: 0,
  requestVoteCallsRejectedByLog: 0,
  requestVoteCallsRejectedByExistingVote: 0,
  requestVoteRepliesIgnoredFromOldTerms: 0,
  requestVoteRepliesIgnoredWhileNotCandidate: 0,
  requestVoteRepliesIgnoredFromNonVoters: 0,
  appendEntriesCallsRejectedByOldTerm: 0,
  sameTermAppendEntriesCallsReceivedByLeader: 0,
  logDivergencesDetectedByFollower: 0,
  appendEntriesRepliesIgnoredFromOldTerms: 0,
  appendEntriesRepliesIgnoredWhileNotLeader: 0,
  appendEntriesRepliesIgnoredFromUnknownNodes: 0,
  appendEntriesRepliesIgnoredBehindMatchIndex: 0,
  appendEntriesRepliesAheadOfLeader: 0,
  logDivergencesDetectedByLeader: 0,
  electionsStarted: 0,
  leadershipsStarted: 0,
  preVotesStarted: 0,
  preVotesRefusedWhileLeaderAlive: 0,
  preVotesRefusedByLog: 0,
  voteRequestsIgnoredWhileLeaderAlive: 0,
  checkQuorumStepDowns: 0,
  transfersStarted: 0,
  transfersAbandoned: 0,
  readsReady: 0,
  readsRejected: 0,
});

/** The names of all the counters, in declaration order. */
export const METRIC_NAMES: readonly MetricName[] = Object.freeze(Object.keys(ZERO_METRICS) as MetricName[]);

/** `metrics` with counter `name` raised by one (saturating). Never modifies its input. */
export function bump(metrics: Metrics, name: MetricName): Metrics {
  return bumpBy(metrics, name, 1);
}

/** `metrics` with counter `name` raised by `n` (a positive integer), saturating at `Number.MAX_SAFE_INTEGER`. */
export function bumpBy(metrics: Metrics, name: MetricName, n: number): Metrics {
  const v = metrics[name];
  if (v >= Number.MAX_SAFE_INTEGER) return metrics;
  const copy = copyOf(metrics);
  copy[name] = Math.min(v + n, Number.MAX_SAFE_INTEGER);
  return copy;
}

/**
 * A copy of `m`, written field by field: one object literal of a fixed shape is much faster to build
 * than a spread (`{...m}`), whose result V8 then has to store into by a computed key.
 */
function copyOf(m: Metrics): { -readonly [K in MetricName]: number } {
  return {
    selfMessagesIgnored: m.selfMessagesIgnored,
    termAdvancesFromMessages: m.termAdvancesFromMessages,
    termJumpsRefused: m.termJumpsRefused,
    requestVoteCallsRejectedByOldTerm: m.requestVoteCallsRejectedByOldTerm,
    requestVoteCallsRejectedByLog: m.requestVoteCallsRejectedByLog,
    requestVoteCallsRejectedByExistingVote: m.requestVoteCallsRejectedByExistingVote,
    requestVoteRepliesIgnoredFromOldTerms: m.requestVoteRepliesIgnoredFromOldTerms,
    requestVoteRepliesIgnoredWhileNotCandidate: m.requestVoteRepliesIgnoredWhileNotCandidate,
    requestVoteRepliesIgnoredFromNonVoters: m.requestVoteRepliesIgnoredFromNonVoters,
    appendEntriesCallsRejectedByOldTerm: m.appendEntriesCallsRejectedByOldTerm,
    sameTermAppendEntriesCallsReceivedByLeader: m.sameTermAppendEntriesCallsReceivedByLeader,
    logDivergencesDetectedByFollower: m.logDivergencesDetectedByFollower,
    appendEntriesRepliesIgnoredFromOldTerms: m.appendEntriesRepliesIgnoredFromOldTerms,
    appendEntriesRepliesIgnoredWhileNotLeader: m.appendEntriesRepliesIgnoredWhileNotLeader,
    appendEntriesRepliesIgnoredFromUnknownNodes: m.appendEntriesRepliesIgnoredFromUnknownNodes,
    appendEntriesRepliesIgnoredBehindMatchIndex: m.appendEntriesRepliesIgnoredBehindMatchIndex,
    appendEntriesRepliesAheadOfLeader: m.appendEntriesRepliesAheadOfLeader,
    logDivergencesDetectedByLeader: m.logDivergencesDetectedByLeader,
    electionsStarted: m.electionsStarted,
    leadershipsStarted: m.leadershipsStarted,
    preVotesStarted: m.preVotesStarted,
    preVotesRefusedWhileLeaderAlive: m.preVotesRefusedWhileLeaderAlive,
    preVotesRefusedByLog: m.preVotesRefusedByLog,
    voteRequestsIgnoredWhileLeaderAlive: m.voteRequestsIgnoredWhileLeaderAlive,
    checkQuorumStepDowns: m.checkQuorumStepDowns,
    transfersStarted: m.transfersStarted,
    transfersAbandoned: m.transfersAbandoned,
    readsReady: m.readsReady,
    readsRejected: m.readsRejected,
  };
}
