/**
 * Quick start with the host runtime: three nodes in one process, each a `createHost` with an
 * in-memory storage and an in-process network, run a replicated key-value store. The application
 * writes its state machine and nothing else: the runtime steps the nodes, stores, sends, arms the
 * timers and applies what commits.
 *
 * It forms the cluster, writes through the leader, reads on a follower (linearizable: ReadIndex,
 * forwarded to the leader), hands leadership over, stops the new leader and writes again once the
 * remaining two have elected another.
 *
 * Run: npm run build:examples && node build/examples/quickstart.js
 * (A real deployment uses FileStorage and TcpTransport from raftstep/node instead: see examples/kv.)
 */
import { MemoryStorage, createHost, createMemoryNetwork, type Host, type StateMachine } from '../src/host/index.js';

/** The application: a key-value store. Commands set a key; queries read one. */
type Command = { readonly key: string; readonly value: string };
type Query = { readonly key: string };

function keyValueStore(): StateMachine<Command, string | null, Query, string | null> {
  let data = new Map<string, string>();
  return {
    apply(command) {
      const previous = data.get(command.key) ?? null;
      data.set(command.key, command.value);
      return previous;
    },
    query(q) {
      return data.get(q.key) ?? null;
    },
    snapshot() {
      return new TextEncoder().encode(JSON.stringify([...data]));
    },
    restore(bytes) {
      data = new Map(JSON.parse(new TextDecoder().decode(bytes)) as Array<[string, string]>);
    },
  };
}

const say = (text: string): void => void process.stdout.write(`${text}\n`);

async function waitFor<T>(what: string, probe: () => T | undefined, ms = 5_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const found = probe();
    if (found !== undefined) return found;
    if (Date.now() > end) throw new Error(`${what} did not happen within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function main(): Promise<void> {
  const ids = ['n1', 'n2', 'n3'];
  const network = createMemoryNetwork();
  const hosts = new Map<string, Host<Command, string | null, Query, string | null>>();
  for (const id of ids) {
    const host = await createHost({
      id,
      storage: new MemoryStorage(),
      transport: network.transport(id),
      stateMachine: keyValueStore(),
      options: { heartbeatMs: 20 },
    });
    hosts.set(id, host);
  }
  const leaderOf = (among: readonly string[]): Host<Command, string | null, Query, string | null> | undefined =>
    among.map((id) => hosts.get(id)!).find((h) => h.status().role === 'leader');

  say('1. n1 forms the cluster n1, n2, n3; a leader is elected.');
  await hosts.get('n1')!.createCluster(ids);
  const first = await waitFor('an election', () => leaderOf(ids));
  say(`   ${first.status().id} leads term ${first.status().term}.`);

  say('2. Writes go through the leader; each resolves with what the key held before, once applied.');
  say(`   color: ${String(await first.propose({ key: 'color', value: 'blue' }))} -> blue`);
  say(`   color: ${String(await first.propose({ key: 'color', value: 'green' }))} -> green`);

  const follower = ids.map((id) => hosts.get(id)!).find((h) => h !== first)!;
  say(`3. A linearizable read on the follower ${follower.status().id} sees the last write.`);
  const color = await follower.read({ key: 'color' });
  say(`   color = ${String(color)}`);
  if (color !== 'green') throw new Error('the read missed the write');

  say(`4. ${first.status().id} hands leadership to ${follower.status().id}.`);
  await first.transferLeadership(follower.status().id);
  const second = await waitFor('the transfer', () => leaderOf(ids));
  say(`   ${second.status().id} leads term ${second.status().term}.`);

  say(`5. ${second.status().id} stops; the other two elect a leader and take writes again.`);
  await second.stop();
  const rest = ids.filter((id) => id !== second.status().id);
  const third = await waitFor('a new election', () => leaderOf(rest), 10_000);
  say(`   ${third.status().id} leads term ${third.status().term}.`);
  await third.propose({ key: 'size', value: 'large' });
  const size = await hosts.get(rest.find((id) => id !== third.status().id)!)!.read({ key: 'size' });
  say(`   size = ${String(size)} (read on the other survivor)`);
  if (size !== 'large') throw new Error('the read missed the write');

  for (const id of rest) await hosts.get(id)!.stop();
  say('Done.');
}

main().catch((err: unknown) => {
  process.stderr.write(`quickstart failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
