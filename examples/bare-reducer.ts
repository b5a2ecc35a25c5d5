/**
 * The bare reducer, without the host runtime: three raftstep nodes in one process form a cluster,
 * elect a leader and commit commands to a tiny key-value store; then the leader is stopped, another
 * node is elected and commits too.
 *
 * The point of this file is its `Host` class: everything an application does around `step` —
 * storage, network, timers, applying committed commands — in about a hundred lines, for those who
 * write their own host. Most applications use `createHost` (raftstep/host) instead: see
 * examples/quickstart.ts.
 *
 * Run: npm run build:examples && node build/examples/bare-reducer.js
 */
import {
  applyToStoredLog,
  emptyEntries,
  forEachEntry,
  peersOf,
  startNode,
  step,
  EMPTY_CONFIG,
  restartNode,
  type RaftAction,
  type LogEntries,
  type Message,
  type RaftEvent,
  type RaftState,
} from '../src/index.js';

/** What travels on our pretend network: a Raft message plus the payloads of the entries it carries. */
interface Envelope {
  to: string;
  message: Message;
  payloads: Record<number, string>;
}

/** One node and everything the application keeps for it. */
class Host {
  state: RaftState;
  running = true;
  // Durable storage: the hard state, the log (as raftstep describes it) and payloads by index.
  saved = { term: 0, votedFor: null as string | null };
  storedLog: LogEntries = emptyEntries(0, 0);
  payloads = new Map<number, string>();
  // The state machine: a key-value map, and how far it has applied the log.
  kv = new Map<string, string>();
  applied = 0;
  timer: string | null = null;

  constructor(
    readonly id: string,
    private readonly net: Envelope[],
  ) {
    this.state = startNode(id)[0];
  }

  /** Step an event and carry out the actions, in order: storage first, then messages. */
  handle(event: RaftEvent, payloads: Record<number, string> = {}): RaftState {
    const [next, actions] = step(this.state, event);
    this.state = next;
    for (const a of actions) this.execute(a, payloads);
    return next;
  }

  private execute(a: RaftAction, incoming: Record<number, string>): void {
    switch (a.type) {
      case 'setTimer':
        this.timer = a.wait; // a real host arms a clock timer: short for a leader, long for a follower
        return;
      case 'saveHardState':
        this.saved = { term: a.term, votedFor: a.votedFor }; // durable before any message below is sent
        return;
      case 'appendLog': {
        // Truncate after the anchor, then append; keep payloads by index.
        this.storedLog = applyToStoredLog(this.storedLog, a); // throws if a write the node relied on was lost
        for (let i = a.entries.prevIndex + 1; i <= a.entries.lastIndex; i++) {
          const p = incoming[i];
          if (p !== undefined) this.payloads.set(i, p);
        }
        return;
      }
      case 'commitAdvanced':
        this.applyUpTo(a.commitIndex);
        return;
      case 'broadcast':
        for (const peer of peersOf(this.state)) this.net.push(this.envelope(peer, a.message));
        return;
      case 'send':
        this.net.push(this.envelope(a.to, a.message));
        return;
      case 'rejected':
        say(
          `  ${this.id} refused a ${a.request} (${a.reason}); it believes the leader is ${a.leaderHint ?? 'unknown'}`,
        );
        return;
      default:
        say(`  ${this.id}: ${JSON.stringify(a)}`);
    }
  }

  /** Attach the payloads of the commands an AppendEntries carries. */
  private envelope(to: string, message: Message): Envelope {
    const payloads: Record<number, string> = {};
    if (message.type === 'appendEntries') {
      for (let i = message.entries.prevIndex + 1; i <= message.entries.lastIndex; i++) {
        const p = this.payloads.get(i);
        if (p !== undefined) payloads[i] = p;
      }
    }
    return { to, message, payloads };
  }

  /** Apply committed commands (term starts and configurations carry no command). */
  private applyUpTo(commitIndex: number): void {
    forEachEntry(this.state.log, this.applied + 1, commitIndex, (i, _term, kind) => {
      const payload = this.payloads.get(i);
      if (kind === 'command' && payload !== undefined) {
        const [key, value] = payload.split('=') as [string, string];
        this.kv.set(key, value);
      }
    });
    this.applied = Math.max(this.applied, commitIndex);
  }

  /** Propose `key=value` on this node, if it leads. */
  propose(command: string): void {
    const index = this.state.log.lastIndex + 1;
    this.payloads.set(index, command); // keep the payload before stepping: appendLog refers to it
    const next = this.handle({ type: 'propose' });
    if (next.role === 'leader') say(`  ${this.id} proposed "${command}" at index ${index}`);
    else this.payloads.delete(index);
  }

  /** Restart from durable storage only. */
  restart(): void {
    const [state, actions] = restartNode({
      id: this.id,
      term: this.saved.term,
      votedFor: this.saved.votedFor,
      log: this.storedLog,
      snapshotConfig: EMPTY_CONFIG,
    });
    this.state = state;
    this.running = true;
    this.applied = 0;
    this.kv.clear();
    for (const a of actions) this.execute(a, {});
  }
}

function say(line: string): void {
  console.log(line);
}

const net: Envelope[] = [];
const hosts = new Map(['n1', 'n2', 'n3'].map((id) => [id, new Host(id, net)]));
const host = (id: string): Host => hosts.get(id)!;

/** Deliver messages until the network is quiet; messages to stopped nodes are lost. */
function deliverAll(): void {
  while (net.length > 0) {
    const { to, message, payloads } = net.shift()!;
    const h = host(to);
    if (h.running) h.handle(message, payloads);
  }
}

function describe(): void {
  for (const h of hosts.values()) {
    const s = h.state;
    const kv = [...h.kv].map(([k, v]) => `${k}=${v}`).join(' ') || '(empty)';
    say(
      `  ${h.id}: ${h.running ? s.role.padEnd(9) : 'stopped  '} term ${s.term}, log up to ${s.log.lastIndex}, ` +
        `committed ${s.commitIndex}; store: ${kv}`,
    );
  }
}

function leader(): Host | undefined {
  return [...hosts.values()].find((h) => h.running && h.state.role === 'leader');
}

say('1. n1 forms a cluster of n1, n2, n3 and asks for votes.');
host('n1').handle({ type: 'createCluster', voters: ['n1', 'n2', 'n3'] });
deliverAll();
describe();
const first = leader();
if (first === undefined) throw new Error('no leader elected');
say(`   ${first.id} is the leader of term ${first.state.term}.`);

say('\n2. The leader commits three commands; a heartbeat tells the followers the commit index.');
first.propose('color=blue');
first.propose('size=large');
first.propose('shape=round');
deliverAll();
first.handle({ type: 'heartbeat' });
deliverAll();
describe();

say(`\n3. ${first.id} stops. The followers' election timers fire, one after the other.`);
first.running = false;
// With pre-vote (on by default) a node asks before it campaigns, and a follower that still hears
// from a leader refuses: the first timer to fire finds the other follower still waiting for n1.
// Once that one's timer has fired too, it grants, and the next pre-candidate wins the election.
const [early, late] = [...hosts.values()].filter((h) => h.running);
early!.handle({ type: 'timeout' });
deliverAll();
late!.handle({ type: 'timeout' });
deliverAll();
const second = leader();
if (second === undefined || second === first) throw new Error('no new leader elected');
say(`   ${second.id} is the leader of term ${second.state.term}.`);

say('\n4. The new leader commits a command; a proposal sent to the follower is refused.');
second.propose('color=green');
const follower = [...hosts.values()].find((h) => h.running && h !== second)!;
follower.propose('size=small');
deliverAll();
second.handle({ type: 'heartbeat' });
deliverAll();
describe();

say(`\n5. ${first.id} restarts from its durable storage and catches up from the leader.`);
first.restart();
second.handle({ type: 'heartbeat' });
deliverAll();
describe();

const stores = [...hosts.values()].map((h) => JSON.stringify([...h.kv].sort()));
if (new Set(stores).size !== 1 || !stores[0]!.includes('color","green')) {
  throw new Error(`stores disagree: ${stores.join(' | ')}`);
}
say('\nAll three stores agree. Done.');
