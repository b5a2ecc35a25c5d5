/**
 * Asynchronous storage in the in-memory executor: a storage whose writes the test resolves by hand,
 * to see that no message leaves before the writes before it are durable (the persistence rule) and
 * that a node's batches run in order. (The host runtime's storage runs through the host executor:
 * ./host-executor.test.ts.)
 */
import { createMemoryRaftStorage, type RaftStorage, type RaftWrite } from '../../src/redux/index.js';
import { failOnConsoleOutput, makeStore, settleAsync, type Put } from './support.js';

failOnConsoleOutput();

/** A storage whose writes wait until the test releases them. */
function gated(inner: RaftStorage<Put>) {
  const waiting: { node: string; writes: readonly RaftWrite<Put>[]; resolve: () => void }[] = [];
  const storage: RaftStorage<Put> = {
    write: (node, writes) =>
      new Promise<void>((resolve) => {
        waiting.push({
          node,
          writes,
          resolve: () => {
            void inner.write(node, writes);
            resolve();
          },
        });
      }),
    payloads: (node, from, to) => inner.payloads(node, from, to),
    load: (node) => inner.load(node),
  };
  return { storage, waiting };
}

test('messages wait until the writes before them are durable', async () => {
  const { storage, waiting } = gated(createMemoryRaftStorage<Put>());
  const t = makeStore({ nodes: ['n1', 'n2', 'n3'], effects: { storage } });
  const { raft, store, clock, network } = t;
  store.dispatch(raft.actions.stepped('n1', { type: 'createCluster', voters: ['n1', 'n2', 'n3'] }));
  // n1 asks to save its term, vote and configuration entry, then to send pre-votes: nothing is sent yet.
  expect(waiting.map((w) => w.node)).toEqual(['n1']);
  expect(waiting[0]!.writes.map((w) => w.kind)).toEqual(['hardState', 'append']);
  await new Promise<void>((r) => setImmediate(r));
  expect(network.stats().sent).toBe(0);
  // A second step of n1 (its timer fires: a new pre-vote round) queues behind the pending write.
  store.dispatch(raft.actions.stepped('n1', { type: 'timeout' }));
  expect(waiting).toHaveLength(1);
  await new Promise<void>((r) => setImmediate(r));
  expect(network.stats().sent).toBe(0);
  waiting.shift()!.resolve();
  await new Promise<void>((r) => setImmediate(r));
  expect(network.stats().sent).toBe(4); // both rounds, to n2 and n3, in order

  // Release every write as it comes, and the cluster elects a leader.
  const release = () => {
    while (waiting.length > 0) waiting.shift()!.resolve();
    return t.leader() !== null;
  };
  await settleAsync(clock, release);
  t.effects.stop();
});
