/**
 * Read-only questions an application asks of a node state before or after stepping it.
 */
import { isVoter } from './config.js';
import type { Message } from './messages.js';
import { latestConfig, type RaftState } from './state.js';

/**
 * True when `message` is a vote request that could disrupt this node's cluster: a `requestVote` of
 * a term above the node's own, reaching a node that is not campaigning and has voted in (or
 * follows a leader of) its current term for someone else (noraft's
 * `could_be_disruptive_request_vote`, Raft §6 on removed servers). An application may drop such a
 * message before stepping it, typically only when its sender is not a member of the node's latest
 * configuration (see `isDisruptiveVoteFromNonMember`).
 *
 * How it relates to the protocol extensions: with check-quorum on (the default), a node that hears
 * from a live leader already ignores such requests itself (`voteRequestsIgnoredWhileLeaderAlive`),
 * and with pre-vote on a removed server's pre-votes are refused while the leader lives, so it never
 * reaches a real vote request. The filter is for clusters running with both off; combined with
 * pre-vote it can stall elections (a node could drop the vote requests of the pre-vote's winner),
 * so do not use it there.
 */
export function isDisruptiveVoteRequest(s: RaftState, message: Message): boolean {
  return (
    message.type === 'requestVote' &&
    message.term > s.term &&
    s.role !== 'candidate' &&
    s.role !== 'preCandidate' &&
    s.votedFor !== null &&
    s.votedFor !== message.from
  );
}

/**
 * {@link isDisruptiveVoteRequest}, restricted to senders that are not voters of this node's latest
 * configuration: the usual filter for vote requests from removed servers.
 */
export function isDisruptiveVoteFromNonMember(s: RaftState, message: Message): boolean {
  return isDisruptiveVoteRequest(s, message) && !isVoter(latestConfig(s), message.from);
}

/**
 * On a leader, the non-voters of its latest configuration whose match index has reached the
 * leader's commit index: caught up, so that promoting them to voters (`toJointConsensus`) does not
 * stall commits while they catch up. Empty on other roles. Sorted.
 */
export function caughtUpNonVoters(s: RaftState): readonly string[] {
  if (s.role !== 'leader') return [];
  const { peers, match } = s.progress;
  const nonVoters = latestConfig(s).nonVoters;
  return peers.filter((id, k) => nonVoters.includes(id) && match[k]! >= s.commitIndex);
}
