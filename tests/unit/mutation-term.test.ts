/**
 * The term rule (src/term.ts, Raft §5.1) at its edges: a node's own messages are ignored at every
 * term, and the bound on how far one message may raise a term is exact (2^32 terms, from any term).
 */
import { emptyEntries } from '../../src/log.js';
import { appendEntriesCall, requestVote } from '../../src/messages.js';
import type { RaftState } from '../../src/state.js';
import { step } from '../../src/step.js';
import { MAX_TERM_STEP } from '../../src/term.js';
import { threeNodeCluster } from './support';

/** `after` is `before` with one more of the metric `name`, and nothing else changed. */
function onlyCounted(before: RaftState, after: RaftState, name: keyof RaftState['metrics']): void {
  expect(after).toEqual({ ...before, metrics: { ...before.metrics, [name]: before.metrics[name] + 1 } });
}

describe('a node ignores messages that claim to come from itself', () => {
  test('at its own term: a vote request from itself is dropped, not answered as a vote request', () => {
    const b = threeNodeCluster().get('b');
    expect(b.term).toBe(1);
    const [after, actions] = step(b, requestVote('b', 1, 1, 2));
    expect(actions).toEqual([]);
    onlyCounted(b, after, 'selfMessagesIgnored');
  });

  test('at its own term: an AppendEntries from itself does not make it follow itself', () => {
    const b = threeNodeCluster().get('b');
    const call = appendEntriesCall('b', 1, 2, emptyEntries(b.log.lastTerm, b.log.lastIndex));
    const [after, actions] = step(b, call);
    expect(actions).toEqual([]);
    onlyCounted(b, after, 'selfMessagesIgnored');
  });

  test('below its own term as well', () => {
    const net = threeNodeCluster();
    net.step('b', { type: 'timeout' }); // b campaigns in term 2
    const b = net.get('b');
    expect(b.term).toBe(2);
    const [after, actions] = step(b, requestVote('b', 1, 1, 2));
    expect(actions).toEqual([]);
    onlyCounted(b, after, 'selfMessagesIgnored');
  });
});

describe('one message raises a term by at most MAX_TERM_STEP (2^32)', () => {
  test('exactly 2^32 terms above the node is adopted, from a term other than 0', () => {
    const b = threeNodeCluster().get('b');
    expect(MAX_TERM_STEP).toBe(2 ** 32);
    expect(b.term).toBe(1);
    const [after] = step(b, requestVote('c', b.term + MAX_TERM_STEP, 1, 2));
    expect(after.term).toBe(1 + 2 ** 32);
    expect(after.votedFor).toBe('c');
    expect(after.metrics.termJumpsRefused).toBe(0);
  });

  test('one term more is ignored: the node keeps its term and counts the refusal', () => {
    const b = threeNodeCluster().get('b');
    const [after, actions] = step(b, requestVote('c', b.term + MAX_TERM_STEP + 1, 1, 2));
    expect(actions).toEqual([]);
    onlyCounted(b, after, 'termJumpsRefused');
  });
});
