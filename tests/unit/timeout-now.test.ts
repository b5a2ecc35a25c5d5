/**
 * `timeoutNow` (src/transfer.ts, the last step of a leadership transfer): the leader of the node's
 * term tells it to campaign at once. Only a voter acts on it; the rest of the transfer is in the
 * scenario files (leadership transfer) and the simulator.
 */
import { makeConfig } from '../../src/config.js';
import { appendConfig, emptyEntries } from '../../src/log.js';
import { timeoutNow } from '../../src/messages.js';
import { restartNode } from '../../src/node.js';
import { BASIC_OPTIONS } from '../../src/options.js';
import type { RaftState } from '../../src/state.js';
import { step } from '../../src/step.js';

/** Node `id` following `a` in term 1, its log holding the configuration {a, b voters; c non-voter}. */
function followerOfA(id: string): RaftState {
  const log = appendConfig(emptyEntries(0, 0), makeConfig(['a', 'b'], [], ['c']));
  return restartNode({ id, term: 1, votedFor: 'a', log, snapshotConfig: makeConfig([]), options: BASIC_OPTIONS })[0];
}

describe('timeoutNow', () => {
  test('a voter told by its leader campaigns at once, in the next term, as a transfer', () => {
    const [after, actions] = step(followerOfA('b'), timeoutNow('a', 1));
    expect(after.role).toBe('candidate');
    expect(after.term).toBe(2);
    expect(actions).toContainEqual({
      type: 'broadcast',
      message: { type: 'requestVote', from: 'b', term: 2, lastTerm: 0, lastIndex: 1, transfer: true },
    });
  });

  test('a non-voter cannot win an election: it ignores the message', () => {
    const c = followerOfA('c');
    expect(step(c, timeoutNow('a', 1))).toEqual([c, []]);
  });

  test('from someone other than the leader it follows, or from another term, it is ignored', () => {
    const b = followerOfA('b');
    expect(step(b, timeoutNow('c', 1))[0]).toBe(b);
    expect(step(b, timeoutNow('a', 0))[0]).toBe(b);
  });
});
