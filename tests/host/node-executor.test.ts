/**
 * The node executor on its own, driven by a hand-written stepping loop (what `createHost` and the
 * Redux host executor each do): a step's storage actions made durable, the commands' payloads
 * stored and applied to the machine, the timer handing back a timeout, and a halt when a step's
 * payloads did not come with it (the storage and the transport then closed).
 */
import type { HaltInfo } from '../../src/host/errors.js';
import { MemoryStorage } from '../../src/host/memory-storage.js';
import { createMemoryNetwork } from '../../src/host/memory-transport.js';
import { createNodeExecutor, type NodeExecutor, type PayloadSource } from '../../src/host/node-executor.js';
import { startNode, step, type RaftActions, type RaftEvent, type RaftState } from '../../src/index.js';
import { FakeClock, settle } from './support-host.js';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** One node 'a', its executor, and a loop that steps what it is handed or told. */
function single() {
  const clock = new FakeClock();
  const storage = new MemoryStorage();
  const transport = createMemoryNetwork().transport('a');
  const handed: RaftEvent[] = [];
  const applied: [index: number, term: number, command: string][] = [];
  const appliedUpTo: number[] = [];
  const halts: HaltInfo[] = [];
  let state: RaftState = startNode('a')[0];
  const executor: NodeExecutor = createNodeExecutor({
    id: 'a',
    storage,
    transport,
    machine: {
      apply: (index, term, payload) => void applied.push([index, term, decoder.decode(payload)]),
      appliedUpTo: (index) => void appliedUpTo.push(index),
      snapshot: () => new Uint8Array(0),
      restore: () => undefined,
    },
    options: { snapshot: {} },
    clock,
    random: () => 0.5,
    state,
    snapshot: null,
    stepNext: (event) => void handed.push(event),
    halted: (info) => void halts.push(info),
  });
  /** Step `event`, hand the result to the executor, and let it start on the batch. */
  const run = (event: RaftEvent, payloads?: PayloadSource): RaftActions => {
    const [next, actions] = step(state, event);
    state = next;
    executor.execute(next, actions, payloads);
    executor.flush();
    return actions;
  };
  return { clock, storage, transport, executor, handed, applied, appliedUpTo, halts, run, state: () => state };
}

test('a single voter: writes before anything else, applies its command, and hands back its timeouts', async () => {
  const t = single();
  await t.transport.start((from, bytes) => t.executor.receive(from, bytes));
  t.executor.begin([]);
  t.run({ type: 'createCluster', voters: ['a'] });
  await settle();
  const first = await t.storage.load();
  expect(first.hardState).toEqual({ term: 1, votedFor: 'a' });
  expect(first.log.lastIndex).toBe(2); // the configuration, then the leader's term start
  expect(t.appliedUpTo).toEqual([2]);

  const hello = encoder.encode('hello');
  t.run({ type: 'propose', count: 1 }, (index, term) => (index === 3 && term === 1 ? hello : undefined));
  await settle();
  expect(t.applied).toEqual([[3, 1, 'hello']]);
  expect(t.appliedUpTo).toEqual([2, 3]);
  expect(t.executor.appliedIndex).toBe(3);
  expect((await t.storage.payloads(2, 3)).map((p) => decoder.decode(p))).toEqual(['hello']);
  expect(t.executor.stats()).toMatchObject({ storageWrites: 2, stepsBatched: 2, entriesApplied: 1, badFrames: 0 });

  // The leader's heartbeat timer: one tick later the executor hands over a timeout to step.
  expect(t.handed).toEqual([]);
  await t.clock.advance(50);
  expect(t.handed).toEqual([{ type: 'timeout' }]);
  // A frame that is not an envelope is counted and dropped.
  t.executor.receive('b', new Uint8Array([1, 2, 3]));
  expect(t.executor.stats().badFrames).toBe(1);
  expect(t.handed).toHaveLength(1);
  await t.executor.halt({ kind: 'stopped', reason: 'done' });
  expect(t.halts).toEqual([{ kind: 'stopped', reason: 'done' }]);
});

test('a step whose payloads did not come with it halts the executor, which closes its storage and transport', async () => {
  const t = single();
  t.executor.begin([]);
  t.run({ type: 'createCluster', voters: ['a'] });
  await settle();
  t.run({ type: 'propose', count: 1 }); // no payloads given
  const info: HaltInfo = {
    kind: 'host',
    reason: 'host error: an append holds the command at index 3, whose payload did not come with it',
  };
  expect(t.halts).toEqual([info]);
  expect(t.executor.halted).toEqual(info);
  await expect(t.executor.stopped).resolves.toEqual(info);
  expect(t.transport.closed).toBe(true);
  await expect(t.storage.load()).rejects.toThrow('MemoryStorage is closed');
  // Nothing of the halted step was written, and later steps are ignored.
  t.run({ type: 'timeout' });
  expect(t.halts).toHaveLength(1);
  expect((await t.storage.reopened().load()).log.lastIndex).toBe(2);
});
