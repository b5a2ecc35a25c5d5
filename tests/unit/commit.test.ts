/**
 * When a leader counts: as noraft does, the commit index is recomputed when an acknowledgement
 * raises a follower's match index above the commit index, and at no other time. That matters in
 * one place: the final configuration of a joint change takes effect as it is appended, and its
 * quorum can be smaller than the joint one, so entries the voters that stay already hold become
 * committable at that append; they commit at the next acknowledgement above the commit index, not
 * at the append and not at an acknowledgement that stays at or below it (scenario 59 shows the
 * other half).
 */
import { toJointConsensus } from '../../src/config.js';
import { latestConfig } from '../../src/state.js';
import { Net, ofType, type Envelope } from './support';

const toOrFrom =
  (id: string) =>
  (e: Envelope): boolean =>
    e.to === id || e.from === id;

const replyFrom =
  (id: string) =>
  (e: Envelope): boolean =>
    e.from === id && e.to === 'a';

describe('a leader counts acknowledgements that raise a match index above its commit index', () => {
  test('after a lagging voter is removed, an acknowledgement at or below the commit index commits nothing', () => {
    // Voters a, b, c, d; a leads term 1, its log [config @1, term start @2], all committed.
    const net = new Net(['a', 'b', 'c', 'd']);
    net.step('a', { type: 'createCluster', voters: ['a', 'b', 'c', 'd'] });
    net.deliver();
    expect(net.get('a').commitIndex).toBe(2);

    // Remove d: the joint configuration {a,b,c,d} & {a,b,c} at index 3.
    net.step('a', { type: 'proposeConfig', config: toJointConsensus(latestConfig(net.get('a')), [], ['d']) });
    const jointToC = net.take((e) => e.to === 'c'); // c gets it only at the end
    net.deliver(toOrFrom('b')); // b holds 3
    net.deliver((e) => e.to === 'd'); // d holds 3; its reply stays in flight
    // Two commands at 4 and 5 reach b only.
    net.step('a', { type: 'propose', count: 2 });
    net.drop((e) => e.to === 'c' || e.to === 'd');
    net.deliver(toOrFrom('b'));
    expect(net.get('a').commitIndex).toBe(2); // of the old voters, only a and b hold 3

    // d's reply: a, b and d of the old voters hold 3, so the joint entry commits, and nothing above
    // it (the old voters' majority holds 3). The final configuration {a,b,c} is appended at 6.
    let [leader, actions] = net.step('a', net.take(replyFrom('d')).message);
    expect(leader.log.lastIndex).toBe(6);
    expect(latestConfig(leader)).toEqual({ voters: ['a', 'b', 'c'], newVoters: [], nonVoters: [] });
    expect(leader.commitIndex).toBe(3);
    expect(ofType(actions, 'commitAdvanced')).toEqual([{ type: 'commitAdvanced', commitIndex: 3 }]);

    // Under {a,b,c}, a and b (a majority) hold 5. c now acknowledges 3: its match rises, but not above
    // the commit index, so nothing is counted and 4-5 stay uncommitted.
    net.step('c', jointToC.message);
    [leader, actions] = net.step('a', net.take(replyFrom('c')).message);
    expect(leader.commitIndex).toBe(3);
    expect(ofType(actions, 'commitAdvanced')).toEqual([]);

    // b acknowledges the final configuration: counted, and a and b commit everything up to 6.
    net.drop((e) => e.to === 'c');
    net.deliver(toOrFrom('b'));
    expect(net.get('a').commitIndex).toBe(6);
  });
});
