/**
 * Scenario files: data-driven tests in the spirit of etcd raft's testdata, one rule of Raft per file.
 *
 * A file is a list of commands. Under each command, after a `----` line, comes the output it must
 * produce; a blank line ends the block. Lines starting with `#` (outside output blocks) are
 * comments. Output never contains blank lines; a command with nothing to say prints `ok`.
 *
 *   start a b c [options=basic|default] [key=value ..]
 *                             fresh nodes (startNode) with these options: BASIC_OPTIONS (the
 *                             protocol without extensions) unless options=default (DEFAULT_OPTIONS:
 *                             pre-vote, check-quorum, flow control), then each NodeOptions key given
 *                             (preVote=true, electionTimeoutTicks=3, ...). Kept across restarts
 *   options [a..]             the options of the nodes that differ from BASIC_OPTIONS
 *   create a voters=a,b,c     step createCluster on a
 *   timeout a                 step a timeout (whether or not a timer is armed)
 *   heartbeat a               step a heartbeat request
 *   propose a [count=N]       step one propose event (N commands)
 *   read a ID                 step a read event {type: 'read', id: ID}
 *   transfer-leadership a b   step a transferLeadership event {to: b} on a
 *   persisted a (t,i)         step {type: 'appendPersisted', term: t, index: i} on a (the disk of
 *                             the scenarios is durable at once; this is the report a host sends)
 *   stepall a EV EV ...       step several events back to back with stepAll and carry out the
 *                             merged actions once. EV: propose, heartbeat, timeout, read(ID),
 *                             transferLeadership(TO), or a hand-built message `x->a MESSAGE`;
 *                             events are separated by spaces, a message by `;` from its neighbours
 *   send a->b MESSAGE         hand a hand-built message (scenario notation) to b at once
 *   deliver [a->b] [N] [quiet]  deliver queued messages (optionally only matching ones, a->* and
 *                             *->b work too), FIFO, at most N, until none is left; each delivered
 *                             message is printed with the receiver's actions indented below it
 *                             (quiet: print only how many were delivered)
 *   drop [a->b]               drop queued messages (and pending snapshot transfers)
 *   dup [a->b]                queue a second copy of the matching messages, at the back
 *   reorder [a->b]            reverse the order of the matching queued messages (prints the queue)
 *   truncate a->b N           cut matching queued AppendEntries to at most N entries (flow control)
 *   queue                     print the queued messages
 *   stop a                    crash a: its timer and its queued messages (both ways) are lost
 *   restart a [snapshot=(t,i)] [voters=..]   restart a from its disk (crashing it first if it runs);
 *                             snapshot= compacts the stored log at that position first
 *   isolate a [b..] / heal    partition nodes off (queued messages to and from them are dropped, and
 *                             new ones are lost) / reconnect everyone
 *   propose-config a [add=d,e] [remove=b]   step proposeConfig on a with
 *                             toJointConsensus(latestConfig(a), add, remove)
 *   propose-config a config(voters=..;newVoters=..;nonVoters=..)   ... with that configuration
 *   add-nonvoter a e / remove-nonvoter a e   ... with withNonVoters(latestConfig(a), [e], []) / ([], [e])
 *   promote a e               ... with toJointConsensus(latestConfig(a), [e], [])
 *   compact a [at=N]          local snapshot: a saves its state machine at N (default: its commit
 *                             index) and steps snapshotInstalled with positionAndConfigAt(a, N)
 *   snapshot a (t,i) config(...)   step a hand-built snapshotInstalled on a
 *   install-snapshot b from=a carry out a's pending installSnapshot action for b: b steps
 *                             snapshotInstalled with the snapshot a had when it asked (see `queue`)
 *   stepall also takes the event `snapshot (t,i) config(...)` (a part between `;`)
 *   config a [b..]            latest configuration, its index, committed or not, and the peers
 *   status [a..]              role, term, votedFor, commit index, last position, armed timer, votes
 *                             (candidate, pre-candidate) and match indices (leader); for nodes
 *                             running extensions also leaderAlive (follower) and the leader's
 *                             ticks, heard, inflight, round, lease and transfer; and the reads a
 *                             node holds (see extensionFields in scenario-cluster.ts)
 *   caught-up a               caughtUpNonVoters on a
 *   log a [b..]               the log in the state and what the disk holds
 *   commit-status a (t,i) ..  commitStatus of positions on a
 *   metrics a [b..]           the non-zero metrics counters
 *
 * The step output lists the actions in order (see scenario-notation.ts), then any messages lost on
 * the way out, then `role X -> Y` when the role changed.
 */
import { Cluster, parseFilter, type Filter } from './scenario-cluster.js';
import { parseConfig, parseIds, parseMessage, parsePos } from './scenario-notation.js';
import {
  BASIC_OPTIONS,
  DEFAULT_OPTIONS,
  latestConfig,
  positionAndConfigAt,
  toJointConsensus,
  withNonVoters,
  type ClusterConfig,
  type NodeOptions,
  type RaftEvent,
} from '../../src/index.js';

/** One item of a scenario file: a verbatim text line (comment or blank), or a command with its block. */
export type Item =
  | { readonly kind: 'text'; readonly line: string }
  | { readonly kind: 'command'; readonly line: string; readonly lineNo: number; readonly expected: readonly string[] };

/** Split a scenario file into items. */
export function parseScenario(text: string): Item[] {
  const lines = text.replace(/\r\n/g, '\n').replace(/\n+$/, '').split('\n');
  const items: Item[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (line.trim() === '' || line.startsWith('#')) {
      items.push({ kind: 'text', line });
      i++;
      continue;
    }
    const lineNo = i + 1;
    i++;
    const expected: string[] = [];
    if (lines[i] === '----') {
      i++;
      while (i < lines.length && lines[i]!.trim() !== '') expected.push(lines[i++]!);
    }
    items.push({ kind: 'command', line: line.trim(), lineNo, expected });
  }
  return items;
}

/** Render items, with `outputs[k]` as the block of the k-th command. */
export function renderScenario(items: readonly Item[], outputs: ReadonlyArray<readonly string[]>): string {
  const out: string[] = [];
  let k = 0;
  items.forEach((item, j) => {
    if (item.kind === 'text') {
      out.push(item.line);
      return;
    }
    out.push(item.line, '----', ...outputs[k++]!);
    const next = items[j + 1];
    if (next !== undefined && !(next.kind === 'text' && next.line.trim() === '')) out.push('');
  });
  return out.join('\n') + '\n';
}

/** The result of running a scenario file. */
export interface ScenarioRun {
  /** The file as it is (line endings normalised). */
  readonly expected: string;
  /** The file with every block replaced by what the commands printed. */
  readonly actual: string;
}

/**
 * Run a scenario. A command that cannot run (bad syntax, unknown node, a broken contract detected
 * by the driver) throws an error naming the line.
 */
export function runScenario(text: string, name = 'scenario'): ScenarioRun {
  const items = parseScenario(text);
  const cluster = new Cluster();
  const outputs: string[][] = [];
  for (const item of items) {
    if (item.kind !== 'command') continue;
    let lines: string[];
    try {
      lines = runCommand(cluster, item.line);
    } catch (err) {
      const msg = err instanceof Error ? err.message : String(err);
      throw new Error(`${name}:${item.lineNo}: ${item.line}\n  ${msg}`, { cause: err });
    }
    outputs.push(lines.length === 0 ? ['ok'] : lines);
  }
  return { expected: text.replace(/\r\n/g, '\n').replace(/\n*$/, '\n'), actual: renderScenario(items, outputs) };
}

/** Split `key=value` words off a command's arguments. */
function options(args: readonly string[]): { words: string[]; opts: Map<string, string> } {
  const words: string[] = [];
  const opts = new Map<string, string>();
  for (const a of args) {
    const eq = a.indexOf('=');
    if (eq > 0) opts.set(a.slice(0, eq), a.slice(eq + 1));
    else words.push(a);
  }
  return { words, opts };
}

function one(words: readonly string[], cmd: string): string {
  if (words.length !== 1) throw new Error(`${cmd}: expected one node id`);
  return words[0]!;
}

function noOptions(opts: Map<string, string>, cmd: string, allowed: readonly string[] = []): void {
  for (const k of opts.keys()) if (!allowed.includes(k)) throw new Error(`${cmd}: unknown option ${k}=`);
}

/** Optional filter and count arguments of the network commands. */
function filterAndCount(words: readonly string[]): { filter: Filter | null; count: number | null } {
  let filter: Filter | null = null;
  let count: number | null = null;
  for (const w of words) {
    if (/^\d+$/.test(w)) count = Number(w);
    else filter = parseFilter(w);
  }
  return { filter, count };
}

function requestEvent(word: string): RaftEvent {
  switch (word) {
    case 'propose':
    case 'heartbeat':
    case 'timeout':
      return { type: word };
    default: {
      const m = /^(read|transferLeadership)\(([^()\s]+)\)$/.exec(word);
      if (m !== null) return m[1] === 'read' ? { type: 'read', id: m[2]! } : { type: 'transferLeadership', to: m[2]! };
      throw new Error(
        `stepall: unknown event "${word}" (propose, heartbeat, timeout, read(ID) or transferLeadership(TO))`,
      );
    }
  }
}

/**
 * The options of `start`: `BASIC_OPTIONS`, or `DEFAULT_OPTIONS` with `options=default`, then each
 * `NodeOptions` key given (`true`/`false` or a number). `startNode` checks the values.
 */
function nodeOptions(opts: Map<string, string>): NodeOptions {
  const base = opts.get('options') ?? 'basic';
  if (base !== 'basic' && base !== 'default') throw new Error(`start: options=${base} (basic or default)`);
  const out: Record<string, unknown> = { ...(base === 'basic' ? BASIC_OPTIONS : DEFAULT_OPTIONS) };
  for (const [key, value] of opts) {
    if (key === 'options') continue;
    if (!(key in BASIC_OPTIONS))
      throw new Error(`start: unknown option ${key}= (${Object.keys(BASIC_OPTIONS).join(', ')})`);
    if (value === 'true' || value === 'false') out[key] = value === 'true';
    else if (/^\d+$/.test(value)) out[key] = Number(value);
    else throw new Error(`start: bad value ${key}=${value}`);
  }
  return out as unknown as NodeOptions;
}

/** `snapshot (t,i) config(...)`: a hand-built snapshotInstalled event. */
function snapshotEvent(text: string): RaftEvent | null {
  const m = /^snapshot\s+(\(\d+,\d+\))\s+config\((.*)\)$/.exec(text.trim());
  if (m === null) return null;
  const { term, index } = parsePos(m[1]!);
  return { type: 'snapshotInstalled', term, index, config: parseConfig(m[2]!) };
}

/** Two node ids: `cmd a e`. */
function two(words: readonly string[], cmd: string): [string, string] {
  if (words.length !== 2) throw new Error(`${cmd}: expected two node ids`);
  return [words[0]!, words[1]!];
}

function proposeConfig(c: Cluster, id: string, config: ClusterConfig): string[] {
  return c.stepNode(id, [{ type: 'proposeConfig', config }]);
}

function runCommand(c: Cluster, line: string): string[] {
  const [cmd, ...args] = line.split(/\s+/);
  if (cmd === 'send') {
    const m = /^send\s+(\S+)->(\S+)\s+(.+)$/.exec(line);
    if (m === null) throw new Error('send: expected send FROM->TO MESSAGE');
    return c.inject({ from: m[1]!, to: m[2]!, message: parseMessage(m[1]!, m[3]!) });
  }
  const { words, opts } = options(args);
  switch (cmd) {
    case 'start':
      if (words.length === 0) throw new Error('start: expected node ids');
      return c.start(words, nodeOptions(opts));
    case 'options':
      return (words.length === 0 ? c.ids() : words).map((id) => c.options(id));
    case 'read': {
      noOptions(opts, cmd);
      const [id, readId] = two(words, cmd);
      return c.stepNode(id, [{ type: 'read', id: readId }]);
    }
    case 'transfer-leadership': {
      noOptions(opts, cmd);
      const [id, to] = two(words, cmd);
      return c.stepNode(id, [{ type: 'transferLeadership', to }]);
    }
    case 'persisted': {
      noOptions(opts, cmd);
      const [id, pos] = two(words, cmd);
      const { term, index } = parsePos(pos);
      return c.stepNode(id, [{ type: 'appendPersisted', term, index }]);
    }
    case 'caught-up':
      noOptions(opts, cmd);
      return [c.caughtUp(one(words, cmd))];
    case 'create': {
      noOptions(opts, cmd, ['voters']);
      const voters = opts.get('voters');
      if (voters === undefined) throw new Error('create: expected voters=...');
      return c.stepNode(one(words, cmd), [{ type: 'createCluster', voters: parseIds(voters) }]);
    }
    case 'timeout':
    case 'heartbeat':
      noOptions(opts, cmd);
      return c.stepNode(one(words, cmd), [{ type: cmd }]);
    case 'propose': {
      noOptions(opts, cmd, ['count']);
      const count = opts.get('count');
      const event: RaftEvent = count === undefined ? { type: 'propose' } : { type: 'propose', count: Number(count) };
      return c.stepNode(one(words, cmd), [event]);
    }
    case 'stepall': {
      const m = /^stepall\s+(\S+)\s+(.+)$/.exec(line);
      if (m === null) throw new Error('stepall: expected a node id and events');
      const id = m[1]!;
      const events: RaftEvent[] = [];
      for (const part of splitEvents(m[2]!)) {
        const snap = snapshotEvent(part);
        if (snap !== null) {
          c.handBuilt();
          events.push(snap);
          continue;
        }
        const msg = /^(\S+)->(\S+)\s+(.+)$/.exec(part);
        if (msg === null) {
          events.push(...part.split(/\s+/).map(requestEvent));
          continue;
        }
        if (msg[2] !== id) throw new Error(`stepall: message ${msg[1]}->${msg[2]} is not addressed to ${id}`);
        c.handBuilt();
        events.push(parseMessage(msg[1]!, msg[3]!));
      }
      return c.stepNode(id, events);
    }
    case 'deliver': {
      noOptions(opts, cmd);
      const quiet = words.includes('quiet');
      const { filter, count } = filterAndCount(words.filter((w) => w !== 'quiet'));
      const lines = c.deliver(filter, count ?? Infinity);
      if (!quiet) return lines;
      return [`delivered ${lines.filter((l) => !l.startsWith(' ')).length} messages`];
    }
    case 'drop':
    case 'dup':
    case 'reorder': {
      noOptions(opts, cmd);
      const { filter, count } = filterAndCount(words);
      if (count !== null) throw new Error(`${cmd}: takes no count`);
      return cmd === 'drop' ? c.drop(filter) : cmd === 'dup' ? c.duplicate(filter) : c.reorder(filter);
    }
    case 'truncate': {
      noOptions(opts, cmd);
      const { filter, count } = filterAndCount(words);
      if (count === null) throw new Error('truncate: expected a maximum entry count');
      return c.truncate(filter, count);
    }
    case 'propose-config': {
      const raw = /^propose-config\s+(\S+)\s+config\((.*)\)$/.exec(line);
      if (raw !== null) return proposeConfig(c, raw[1]!, parseConfig(raw[2]!));
      noOptions(opts, cmd, ['add', 'remove']);
      const id = one(words, cmd);
      const add = parseIds(opts.get('add') ?? '');
      const remove = parseIds(opts.get('remove') ?? '');
      return proposeConfig(c, id, toJointConsensus(latestConfig(c.state(id)), add, remove));
    }
    case 'add-nonvoter':
    case 'remove-nonvoter': {
      noOptions(opts, cmd);
      const [id, e] = two(words, cmd);
      const config = latestConfig(c.state(id));
      return proposeConfig(
        c,
        id,
        cmd === 'add-nonvoter' ? withNonVoters(config, [e], []) : withNonVoters(config, [], [e]),
      );
    }
    case 'promote': {
      noOptions(opts, cmd);
      const [id, e] = two(words, cmd);
      return proposeConfig(c, id, toJointConsensus(latestConfig(c.state(id)), [e], []));
    }
    case 'compact': {
      noOptions(opts, cmd, ['at']);
      const id = one(words, cmd);
      const s = c.state(id);
      const atText = opts.get('at');
      if (atText !== undefined && !/^\d+$/.test(atText)) throw new Error(`compact: bad at=${atText}`);
      const index = atText === undefined ? s.commitIndex : Number(atText);
      const at = positionAndConfigAt(s, index);
      if (at === null) throw new Error(`compact: ${id} does not hold index ${index}`);
      if (index > s.commitIndex) c.handBuilt(); // a snapshot of entries not known committed
      return c.stepNode(id, [{ type: 'snapshotInstalled', ...at }]);
    }
    case 'snapshot': {
      const m = /^snapshot\s+(\S+)\s+(.+)$/.exec(line);
      const event = m === null ? null : snapshotEvent(`snapshot ${m[2]!}`);
      if (m === null || event === null) throw new Error('snapshot: expected snapshot NODE (t,i) config(...)');
      c.handBuilt();
      return c.stepNode(m[1]!, [event]);
    }
    case 'install-snapshot': {
      noOptions(opts, cmd, ['from']);
      const from = opts.get('from');
      if (from === undefined) throw new Error('install-snapshot: expected from=NODE');
      return c.installSnapshot(from, one(words, cmd));
    }
    case 'config':
      return (words.length === 0 ? c.ids() : words).flatMap((id) => c.config(id));
    case 'queue':
      return c.showQueue();
    case 'stop':
      noOptions(opts, cmd);
      return c.stop(one(words, cmd));
    case 'restart': {
      noOptions(opts, cmd, ['snapshot', 'voters']);
      const snapshot = opts.get('snapshot');
      const voters = opts.get('voters');
      return c.restart(
        one(words, cmd),
        snapshot === undefined ? null : parsePos(snapshot),
        voters === undefined ? null : parseIds(voters),
      );
    }
    case 'isolate':
      noOptions(opts, cmd);
      return c.isolate(words);
    case 'heal':
      return c.heal();
    case 'status':
      return (words.length === 0 ? c.ids() : words).map((id) => c.status(id));
    case 'log':
      return words.flatMap((id) => c.log(id));
    case 'commit-status': {
      const [id, ...positions] = words;
      if (id === undefined || positions.length === 0) throw new Error('commit-status: expected a node and positions');
      return c.commitStatus(id, positions.map(parsePos));
    }
    case 'metrics':
      return (words.length === 0 ? c.ids() : words).flatMap((id) => c.metrics(id));
    default:
      throw new Error(`unknown command "${cmd ?? ''}"`);
  }
}

/**
 * The events of a `stepall` line: parts separated by `;`, each a message `x->a ...`, a
 * `snapshot (t,i) config(...)` event, or request words separated by spaces (`propose heartbeat`).
 * The `;` inside a `config(...)` does not separate parts.
 */
function splitEvents(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === ';' && depth === 0) {
      parts.push(text.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(text.slice(start).trim());
  return parts.filter((p) => p !== '');
}

// ---------------------------------------------------------------------------------------------
// A small line diff for readable failures

/** A unified-style diff of two texts (`-` expected, `+` actual) with `context` lines around changes. */
export function lineDiff(expected: string, actual: string, context = 3): string {
  const a = expected.split('\n');
  const b = actual.split('\n');
  const n = a.length;
  const m = b.length;
  // LCS table, filled from the end.
  const lcs: number[][] = Array.from({ length: n + 1 }, () => new Array<number>(m + 1).fill(0));
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
    }
  }
  type Op = { tag: ' ' | '-' | '+'; text: string; line: number };
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && a[i] === b[j]) {
      ops.push({ tag: ' ', text: a[i]!, line: i + 1 });
      i++;
      j++;
    } else if (i < n && (j === m || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) {
      ops.push({ tag: '-', text: a[i]!, line: i + 1 });
      i++;
    } else {
      ops.push({ tag: '+', text: b[j]!, line: i + 1 });
      j++;
    }
  }
  const show = new Array<boolean>(ops.length).fill(false);
  ops.forEach((op, k) => {
    if (op.tag === ' ') return;
    for (let d = Math.max(0, k - context); d <= Math.min(ops.length - 1, k + context); d++) show[d] = true;
  });
  const out: string[] = [];
  let gap = true;
  ops.forEach((op, k) => {
    if (!show[k]) {
      gap = true;
      return;
    }
    if (gap) out.push(`@@ near line ${op.line} of the file @@`);
    gap = false;
    out.push(`${op.tag} ${op.text}`);
  });
  return out.join('\n');
}
