/**
 * The message catalogue (`src/messages.ts`): every message type is listed once, which messages are
 * calls (stale once their term is over) and which replies, and the channels that keep the reads'
 * messages apart from replication when action lists merge — each seen through `mergeActions`, where
 * the application meets them.
 */
import { mergeActions, saveHardState, send, broadcast, type RaftActions } from '../../src/actions.js';
import { appendCommands, emptyEntries } from '../../src/log.js';
import {
  MESSAGE_TYPES,
  appendEntriesCall,
  appendEntriesReply,
  channelOf,
  isCall,
  leadershipCheck,
  leadershipCheckReply,
  preVote,
  preVoteReply,
  readIndex,
  readIndexReply,
  requestVote,
  requestVoteReply,
  timeoutNow,
  type Message,
} from '../../src/messages.js';

/** One message of every type, sent in term 5 by "a" (the key set is every type: the compiler says so). */
const SAMPLES: { readonly [T in Message['type']]: Extract<Message, { type: T }> } = {
  requestVote: requestVote('a', 5, 4, 10),
  requestVoteReply: requestVoteReply('a', 5, true),
  appendEntries: appendEntriesCall('a', 5, 9, appendCommands(emptyEntries(4, 10), 2)),
  appendEntriesReply: appendEntriesReply('a', 5, 5, 12),
  preVote: preVote('a', 5, 4, 10),
  preVoteReply: preVoteReply('a', 5, true),
  timeoutNow: timeoutNow('a', 5),
  leadershipCheck: leadershipCheck('a', 5, 3),
  leadershipCheckReply: leadershipCheckReply('a', 5, 3),
  readIndex: readIndex('a', 5, ['r1']),
  readIndexReply: readIndexReply('a', 5, [{ id: 'r1', index: 12 }]),
};

const CALLS = ['requestVote', 'appendEntries', 'preVote', 'timeoutNow', 'leadershipCheck', 'readIndex'];

test('MESSAGE_TYPES lists every message type once', () => {
  expect([...MESSAGE_TYPES].sort()).toEqual(Object.keys(SAMPLES).sort());
  expect(new Set(MESSAGE_TYPES).size).toBe(MESSAGE_TYPES.length);
});

test('the calls are the messages that ask for an answer; the rest are answers', () => {
  for (const m of Object.values(SAMPLES)) expect([m.type, isCall(m)]).toEqual([m.type, CALLS.includes(m.type)]);
});

test('a later list that raises the term drops every call of an older term it merges over, and keeps the answers', () => {
  for (const m of Object.values(SAMPLES)) {
    const earlier: RaftActions = [send('b', m)];
    const merged = mergeActions(earlier, [saveHardState(7, null)]);
    const kept = merged.some((a) => a.type === 'send' && a.message === m);
    expect([m.type, kept]).toEqual([m.type, !CALLS.includes(m.type)]);
  }
});

test("the reads' messages travel on channels of their own: merging never lets one displace another kind", () => {
  const raft: Message[] = [SAMPLES.appendEntriesReply, SAMPLES.requestVoteReply, SAMPLES.preVoteReply];
  const reads: Message[] = [
    SAMPLES.leadershipCheckReply,
    SAMPLES.readIndexReply,
    SAMPLES.leadershipCheck,
    SAMPLES.readIndex,
  ];
  for (const first of [...raft, ...reads]) {
    for (const second of reads) {
      if (first.type === second.type) continue;
      const merged = mergeActions([send('b', first)], [send('b', second)]);
      const types = merged.flatMap((a) => (a.type === 'send' ? [a.message.type] : [])).sort();
      expect([first.type, second.type, types]).toEqual([first.type, second.type, [first.type, second.type].sort()]);
    }
  }
  // Raft's own messages (and pre-votes, transfers) share one channel: the later supersedes.
  const merged = mergeActions([broadcast(SAMPLES.preVote)], [broadcast(SAMPLES.requestVote)]);
  expect(merged.flatMap((a) => (a.type === 'broadcast' ? [a.message.type] : []))).toEqual(['requestVote']);
  expect(new Set(raft.map(channelOf)).size).toBe(1);
  expect(new Set(reads.map(channelOf)).size).toBe(reads.length);
});
