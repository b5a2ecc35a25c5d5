/**
 * The disruptive-vote queries of src/queries.ts (noraft's `could_be_disruptive_request_vote`): what
 * an application may ask before stepping a vote request, to drop requests from servers that were
 * removed and keep timing out. A request is disruptive when it would make a node that follows a
 * leader give up that leader for a higher term it did not start.
 */
import { appendEntriesReply, requestVote, type Message } from '../../src/messages.js';
import { BASIC_OPTIONS } from '../../src/options.js';
import { isDisruptiveVoteFromNonMember, isDisruptiveVoteRequest } from '../../src/queries.js';
import type { RaftState } from '../../src/state.js';
import { step } from '../../src/step.js';
import { threeNodeCluster } from './support';

/** A vote request from `from` at `term`, with a log as long as anyone's. */
function voteAt(from: string, term: number): Message {
  return requestVote(from, term, term, 1_000);
}

/** Follower `b` of a three-node cluster led by `a` in term 1, and the leader itself. */
function cluster(): { follower: RaftState; leader: RaftState } {
  const net = threeNodeCluster();
  return { follower: net.get('b'), leader: net.get('a') };
}

describe('isDisruptiveVoteRequest', () => {
  test('a higher-term vote request from someone else, to a follower that follows a leader, is disruptive', () => {
    const { follower } = cluster();
    expect(follower.role).toBe('follower');
    expect(follower.votedFor).toBe('a');
    expect(isDisruptiveVoteRequest(follower, voteAt('c', follower.term + 1))).toBe(true);
    expect(isDisruptiveVoteRequest(follower, voteAt('x', follower.term + 5))).toBe(true);
  });

  test('a request at the node’s own term or below changes nothing and is not disruptive', () => {
    const { follower } = cluster();
    expect(isDisruptiveVoteRequest(follower, voteAt('c', follower.term))).toBe(false);
    expect(isDisruptiveVoteRequest(follower, voteAt('c', follower.term - 1))).toBe(false);
  });

  test('a request from the leader the node follows is not disruptive (it is that leader campaigning again)', () => {
    const { follower } = cluster();
    expect(isDisruptiveVoteRequest(follower, voteAt('a', follower.term + 1))).toBe(false);
  });

  test('a node that follows no one, or is campaigning itself, is not disrupted', () => {
    const { follower } = cluster();
    const [fresh] = step(follower, { type: 'timeout' }); // pre-vote off here: a candidate of term 2
    expect(fresh.role).toBe('candidate');
    expect(isDisruptiveVoteRequest(fresh, voteAt('c', fresh.term + 1))).toBe(false);

    const withPreVote = threeNodeCluster({ ...BASIC_OPTIONS, preVote: true });
    const [preCandidate] = step(withPreVote.get('b'), { type: 'timeout' });
    expect(preCandidate.role).toBe('preCandidate');
    expect(isDisruptiveVoteRequest(preCandidate, voteAt('c', preCandidate.term + 1))).toBe(false);

    const net = threeNodeCluster();
    const lonely = net.get('c');
    // A node that has not heard from any leader in its term yet: nothing to disrupt.
    const [higher] = step(lonely, appendEntriesReply('z', lonely.term + 1, 0, 0));
    expect(higher.votedFor).toBeNull();
    expect(isDisruptiveVoteRequest(higher, voteAt('c2', higher.term + 1))).toBe(false);
  });

  test('only vote requests are judged', () => {
    const { follower } = cluster();
    expect(isDisruptiveVoteRequest(follower, appendEntriesReply('c', follower.term + 1, 1, 2))).toBe(false);
  });

  test('on the leader itself a higher-term request from another node is disruptive', () => {
    const { leader } = cluster();
    expect(leader.role).toBe('leader');
    expect(isDisruptiveVoteRequest(leader, voteAt('b', leader.term + 1))).toBe(true);
  });
});

describe('isDisruptiveVoteFromNonMember', () => {
  test('a disruptive request from a voter of the latest configuration is let through', () => {
    const { follower } = cluster();
    expect(isDisruptiveVoteFromNonMember(follower, voteAt('c', follower.term + 1))).toBe(false);
  });

  test('a disruptive request from a server outside the configuration (a removed one) is to be dropped', () => {
    const { follower } = cluster();
    expect(isDisruptiveVoteFromNonMember(follower, voteAt('removed', follower.term + 1))).toBe(true);
  });

  test('a request that is not disruptive is not flagged, member or not', () => {
    const { follower } = cluster();
    expect(isDisruptiveVoteFromNonMember(follower, voteAt('removed', follower.term))).toBe(false);
  });
});
