/**
 * Pre-vote (src/prevote.ts; Raft thesis §9.6) rule by rule, on single steps:
 * - a node grants a pre-vote for its own term when it could still vote in that term (it has not
 *   voted for another) and is not the leader; otherwise, and for any term below its own, it refuses
 *   with its term, so that the pre-candidate catches up (etcd #8243);
 * - a pre-candidate counts a granted pre-vote once, from a voter, for the term it asked for.
 */
import { BASIC_OPTIONS } from '../../src/options.js';
import { preVote, preVoteReply, requestVote } from '../../src/messages.js';
import type { RaftState } from '../../src/state.js';
import { step } from '../../src/step.js';
import { Net, threeNodeCluster } from './support';

const PRE_VOTE = { ...BASIC_OPTIONS, preVote: true };

/** a leads term 1 over a,b,c (pre-vote on); every log ends at (1, 2). */
const cluster = (): Net => threeNodeCluster(PRE_VOTE);

/** b in term 2 without a vote: it refused c's vote request of term 2 (c's log is behind). */
function unvotedInTerm2(): RaftState {
  const [b] = step(cluster().get('b'), requestVote('c', 2, 0, 0));
  expect(b).toMatchObject({ role: 'follower', term: 2, votedFor: null, leaderAlive: false });
  return b;
}

describe('granting a pre-vote for the node’s own term', () => {
  test('a follower that has not voted in the term grants it', () => {
    const b = unvotedInTerm2();
    const [after, actions] = step(b, preVote('c', 2, 1, 2));
    expect(after).toBe(b);
    expect(actions).toEqual([{ type: 'send', to: 'c', message: preVoteReply('b', 2, true) }]);
  });

  test('a follower that voted for the asker in the term grants it too', () => {
    const [b] = step(cluster().get('b'), requestVote('c', 2, 1, 2));
    expect(b).toMatchObject({ term: 2, votedFor: 'c', leaderAlive: false });
    const [after, actions] = step(b, preVote('c', 2, 1, 2));
    expect(after).toBe(b);
    expect(actions).toEqual([{ type: 'send', to: 'c', message: preVoteReply('b', 2, true) }]);
  });

  test('a follower that voted for another in the term refuses, with its term', () => {
    const [b] = step(cluster().get('b'), requestVote('a', 2, 1, 2));
    expect(b).toMatchObject({ term: 2, votedFor: 'a' });
    const [, actions] = step(b, preVote('c', 2, 1, 2));
    expect(actions).toEqual([{ type: 'send', to: 'c', message: preVoteReply('b', 2, false) }]);
  });

  test('the leader refuses, with its term (the asker is behind), and counts nothing', () => {
    const a = cluster().get('a');
    expect(a).toMatchObject({ role: 'leader', term: 1 });
    const [after, actions] = step(a, preVote('c', 1, 1, 2));
    expect(after).toBe(a);
    expect(actions).toEqual([{ type: 'send', to: 'c', message: preVoteReply('a', 1, false) }]);
  });
});

describe('a pre-vote for a term below the node’s own is refused with its term', () => {
  test('even when the node has not voted in its own term', () => {
    const b = unvotedInTerm2();
    const [after, actions] = step(b, preVote('c', 1, 1, 2));
    expect(after).toBe(b);
    expect(actions).toEqual([{ type: 'send', to: 'c', message: preVoteReply('b', 2, false) }]);
  });
});

describe('a pre-candidate counts each voter’s granted pre-vote once, for the term it asked', () => {
  /** b, a pre-candidate of term 1 in a 3-voter cluster (it asked for term 2), with its own pre-vote. */
  function preCandidate(): RaftState {
    const net = cluster();
    net.step('b', { type: 'timeout' });
    const b = net.get('b');
    expect(b).toMatchObject({ role: 'preCandidate', term: 1, votes: ['b'] });
    return b;
  }

  test('a pre-vote granted for another term is not counted', () => {
    const b = preCandidate();
    for (const term of [1, 3]) {
      const [after, actions] = step(b, preVoteReply('c', term, true));
      expect(after).toBe(b);
      expect(actions).toEqual([]);
    }
  });

  test('a pre-vote for the term asked makes a majority with its own: it campaigns', () => {
    const [after] = step(preCandidate(), preVoteReply('c', 2, true));
    expect(after).toMatchObject({ role: 'candidate', term: 2 });
  });

  test('a second grant from the same voter, or a grant from a non-member, changes nothing', () => {
    // Five voters: b needs three pre-votes, its own and two others.
    const net = new Net(['a', 'b', 'c', 'd', 'e'], PRE_VOTE);
    net.step('a', { type: 'createCluster', voters: ['a', 'b', 'c', 'd', 'e'] });
    net.deliver();
    net.step('b', { type: 'timeout' });
    const [b] = step(net.get('b'), preVoteReply('c', 2, true));
    expect(b).toMatchObject({ role: 'preCandidate', term: 1, votes: ['b', 'c'] });
    for (const from of ['c', 'x']) {
      const [after, actions] = step(b, preVoteReply(from, 2, true));
      expect(after).toBe(b);
      expect(actions).toEqual([]);
    }
  });
});
