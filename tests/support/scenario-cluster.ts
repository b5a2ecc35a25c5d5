/**
 * The scenario driver: a handful of raftstep nodes, their disks, their timers and a FIFO network,
 * all under the scenario's explicit control. Nothing happens unless a command says so.
 *
 * How the driver carries out the actions of one step (the application's side of the contract):
 * - it checks that the list is in the canonical order, so that every storage action comes before
 *   every message (the persistence rule), then makes the storage actions durable (the node's disk:
 *   the last `saveHardState`, and the log rebuilt from `appendLog` actions with `appendSuffix`),
 *   and only then puts the messages on the network;
 * - `setTimer` arms the node's single timer (shown by `status`; it fires only on `timeout`);
 * - a broadcast goes to `peersOf(state)` after the step;
 * - `compactLog` is carried out on the stored log with `applyToStoredLog` (the snapshot itself, with
 *   its configuration, was saved by the application before it stepped `snapshotInstalled`);
 * - `installSnapshot {to}` queues a snapshot transfer carrying the sender's snapshot at that moment
 *   (its position and configuration); `install-snapshot` carries it out: the receiver steps
 *   `snapshotInstalled` with it. Transfers are lost like messages (a node down, a partition);
 * - messages to a node that is down, or across a partition, are lost at once; the network delivers
 *   only to running nodes.
 *
 * It also checks, after every step, that the step did not modify its (deep-frozen) inputs, that the
 * new state survives a JSON round trip, and that no two nodes ever lead in the same term. A
 * violation throws: it can never be expected behaviour.
 */
import {
  appendSuffix,
  applyToStoredLog,
  commitStatus,
  containsPosition,
  emptyEntries,
  EMPTY_CONFIG,
  latestConfig,
  latestConfigIndex,
  makeConfig,
  METRIC_NAMES,
  peersOf,
  restartNode,
  startNode,
  step,
  stepAll,
  truncateAppendEntries,
  type Action,
  type Actions,
  type ClusterConfig,
  type LogEntries,
  type Message,
  type RaftEvent,
  type RaftState,
  type TimerWait,
} from '../../src/index.js';
import { fmtAction, fmtConfig, fmtEntries, fmtMessage, fmtPos } from './scenario-notation.js';

/** What a node's disk holds: what `restartNode` needs. */
interface Disk {
  term: number;
  votedFor: string | null;
  log: LogEntries;
  snapshotConfig: ClusterConfig;
}

interface Node {
  readonly id: string;
  state: RaftState;
  running: boolean;
  timer: TimerWait | null;
  disk: Disk;
}

/** A message on the network. */
export interface Envelope {
  readonly from: string;
  readonly to: string;
  readonly message: Message;
}

/** A snapshot transfer asked for by an `installSnapshot` action: the sender's snapshot then. */
export interface Transfer {
  readonly from: string;
  readonly to: string;
  readonly term: number;
  readonly index: number;
  readonly config: ClusterConfig;
}

export function fmtTransfer(t: Transfer): string {
  return `${t.from}->${t.to} snapshot ${fmtPos(t.term, t.index)} ${fmtConfig(t.config)}`;
}

/** Selects queued messages: `a->b`, `a->*`, `*->b`. */
export interface Filter {
  readonly from: string;
  readonly to: string;
}

export function parseFilter(text: string): Filter {
  const m = /^([^-\s>]+)->([^-\s>]+)$/.exec(text);
  if (m === null) throw new Error(`bad message filter "${text}" (expected from->to, either may be *)`);
  return { from: m[1]!, to: m[2]! };
}

function matches(f: Filter | null, e: { readonly from: string; readonly to: string }): boolean {
  return f === null || ((f.from === '*' || f.from === e.from) && (f.to === '*' || f.to === e.to));
}

const STORAGE: ReadonlySet<Action['type']> = new Set(['saveHardState', 'compactLog', 'appendLog']);
const MESSAGES: ReadonlySet<Action['type']> = new Set(['broadcast', 'send', 'installSnapshot']);

export function fmtEnvelope(e: Envelope): string {
  return `${e.from}->${e.to} ${fmtMessage(e.message)}`;
}

function deepFreeze<T>(x: T): T {
  if (typeof x === 'object' && x !== null && !Object.isFrozen(x)) {
    Object.freeze(x);
    for (const v of Object.values(x)) deepFreeze(v);
  }
  return x;
}

export class Cluster {
  private readonly nodes = new Map<string, Node>();
  private queue: Envelope[] = [];
  /** Snapshot transfers asked for and not yet carried out, in order. */
  private transfers: Transfer[] = [];
  private readonly isolated = new Set<string>();
  /** Who led each term, over the whole run (election safety). */
  private readonly leaders = new Map<number, string>();

  // ---------------------------------------------------------------- nodes

  start(ids: readonly string[]): string[] {
    for (const id of ids) {
      if (this.nodes.has(id)) throw new Error(`node ${id} already exists`);
      const state = startNode(id);
      const disk: Disk = { term: 0, votedFor: null, log: emptyEntries(0, 0), snapshotConfig: EMPTY_CONFIG };
      this.nodes.set(id, { id, state, running: true, timer: null, disk });
    }
    return [];
  }

  private node(id: string): Node {
    const n = this.nodes.get(id);
    if (n === undefined) throw new Error(`no node ${id}`);
    return n;
  }

  private running(id: string): Node {
    const n = this.node(id);
    if (!n.running) throw new Error(`node ${id} is down`);
    return n;
  }

  ids(): string[] {
    return [...this.nodes.keys()];
  }

  state(id: string): RaftState {
    return this.node(id).state;
  }

  /** Step one event (or several, merged with `stepAll`) on a running node; the printed result. */
  stepNode(id: string, events: readonly RaftEvent[], indent = ''): string[] {
    const n = this.running(id);
    const before = n.state;
    deepFreeze(before);
    deepFreeze(events);
    const beforeJson = JSON.stringify(before);
    const [next, actions] = events.length === 1 ? step(before, events[0]!) : stepAll(before, events);
    if (JSON.stringify(before) !== beforeJson) throw new Error(`step modified its input state (${id})`);
    if (JSON.stringify(JSON.parse(JSON.stringify(next))) !== JSON.stringify(next)) {
      throw new Error(`state of ${id} does not survive a JSON round trip`);
    }
    n.state = next;
    const lines = actions.length === 0 ? ['(no actions)'] : actions.map(fmtAction);
    lines.push(...this.carryOut(n, actions));
    if (next.role !== before.role) lines.push(`role ${before.role} -> ${next.role}`);
    this.checkElectionSafety(n);
    return lines.map((l) => indent + l);
  }

  /** Carry out the actions of one step: storage first (durable), then the network. */
  private carryOut(n: Node, actions: Actions): string[] {
    let sawMessage = false;
    for (const a of actions) {
      if (MESSAGES.has(a.type)) sawMessage = true;
      else if (STORAGE.has(a.type) && sawMessage) {
        throw new Error(`persistence rule broken: ${fmtAction(a)} comes after a message in the same list`);
      }
    }
    for (const a of actions) {
      if (a.type === 'saveHardState') {
        n.disk.term = a.term;
        n.disk.votedFor = a.votedFor;
      } else if (a.type === 'setTimer') {
        n.timer = a.wait;
      } else if (a.type === 'appendLog') {
        const log = appendSuffix(n.disk.log, a.entries);
        if (log === null) {
          throw new Error(`${fmtAction(a)}: the anchor is not in ${n.id}'s stored log ${fmtEntries(n.disk.log)}`);
        }
        n.disk.log = log;
      } else if (a.type === 'compactLog') {
        // The application stored the snapshot (with its configuration) before stepping the event.
        if (a.index >= n.disk.log.prevIndex) n.disk.snapshotConfig = n.state.snapshotConfig;
        n.disk.log = applyToStoredLog(n.disk.log, a);
      }
    }
    const lost: string[] = [];
    for (const a of actions) {
      if (a.type === 'broadcast') {
        for (const to of peersOf(n.state)) this.post({ from: n.id, to, message: a.message }, lost);
      } else if (a.type === 'send') {
        this.post({ from: n.id, to: a.to, message: a.message }, lost);
      } else if (a.type === 'installSnapshot') {
        const log = n.state.log;
        if (log.prevIndex === 0) throw new Error(`${fmtAction(a)}: ${n.id} has no snapshot to send`);
        const t: Transfer = {
          from: n.id,
          to: a.to,
          term: log.prevTerm,
          index: log.prevIndex,
          config: n.state.snapshotConfig,
        };
        const to = this.nodes.get(a.to);
        if (to === undefined) continue;
        if (!to.running) lost.push(`lost ${fmtTransfer(t)} (${a.to} is down)`);
        else if (this.isolated.has(n.id) || this.isolated.has(a.to)) lost.push(`lost ${fmtTransfer(t)} (partitioned)`);
        else this.transfers.push(t);
      }
    }
    return lost;
  }

  /** Put a message on the network, unless it cannot arrive (the loss is reported). */
  private post(e: Envelope, lost: string[]): void {
    const to = this.nodes.get(e.to);
    if (to === undefined) return; // a hand-built sender that is not a node: nobody to answer
    if (!to.running) lost.push(`lost ${e.from}->${e.to} (${e.to} is down)`);
    else if (this.isolated.has(e.from) || this.isolated.has(e.to)) lost.push(`lost ${e.from}->${e.to} (partitioned)`);
    else this.queue.push(e);
  }

  private checkElectionSafety(n: Node): void {
    if (n.state.role !== 'leader') return;
    const other = this.leaders.get(n.state.term);
    if (other !== undefined && other !== n.id) {
      throw new Error(`election safety broken: ${other} and ${n.id} both lead term ${n.state.term}`);
    }
    this.leaders.set(n.state.term, n.id);
  }

  /** Crash a node: its timer dies, messages to and from it are lost; its disk survives. */
  stop(id: string): string[] {
    const n = this.running(id);
    n.running = false;
    n.timer = null;
    return this.purge((e) => e.from === id || e.to === id, 'lost');
  }

  /** Carry out the oldest pending snapshot transfer `from->to`: `to` steps `snapshotInstalled`. */
  installSnapshot(from: string, to: string): string[] {
    const k = this.transfers.findIndex((t) => t.from === from && t.to === to);
    if (k < 0) throw new Error(`no pending snapshot transfer ${from}->${to} (an installSnapshot action queues one)`);
    const [t] = this.transfers.splice(k, 1);
    return [
      fmtTransfer(t!),
      ...this.stepNode(to, [{ type: 'snapshotInstalled', term: t!.term, index: t!.index, config: t!.config }], '  '),
    ];
  }

  /**
   * Restart a node from its disk (a crash first, if it is running). `snapshot` compacts the stored
   * log at that position first (keeping the suffix when the log holds it, else leaving an empty run
   * anchored there: a snapshot the log knows nothing of), with `voters` as the snapshot's
   * configuration (default: the configuration in effect there).
   */
  restart(id: string, snapshot: { term: number; index: number } | null, voters: string[] | null): string[] {
    const n = this.node(id);
    const lines = n.running ? this.stop(id) : [];
    if (snapshot !== null) {
      const log = n.disk.log;
      const config = voters !== null ? makeConfig(voters) : configAtIndex(n.disk, snapshot.index);
      n.disk.log = containsPosition(log, snapshot.term, snapshot.index)
        ? suffixAfter(log, snapshot.term, snapshot.index)
        : emptyEntries(snapshot.term, snapshot.index);
      n.disk.snapshotConfig = config;
    }
    const [state, actions] = restartNode({ id, ...n.disk });
    n.state = state;
    n.running = true;
    n.timer = null;
    lines.push(...actions.map(fmtAction), ...this.carryOut(n, actions));
    return lines;
  }

  isolate(ids: readonly string[]): string[] {
    for (const id of ids) {
      this.node(id);
      this.isolated.add(id);
    }
    return this.purge((e) => this.isolated.has(e.from) || this.isolated.has(e.to), 'dropped');
  }

  heal(): string[] {
    this.isolated.clear();
    return [];
  }

  // ---------------------------------------------------------------- network

  /** Remove the messages (and snapshot transfers) `pred` selects, printing them. */
  private purge(pred: (e: Envelope | Transfer) => boolean, verb: string): string[] {
    const out = this.queue.filter(pred).map((e) => `${verb} ${fmtEnvelope(e)}`);
    this.queue = this.queue.filter((e) => !pred(e));
    out.push(...this.transfers.filter(pred).map((t) => `${verb} ${fmtTransfer(t)}`));
    this.transfers = this.transfers.filter((t) => !pred(t));
    return out;
  }

  /** Deliver matching messages in FIFO order, at most `limit`, until none matches. */
  deliver(filter: Filter | null, limit: number): string[] {
    const lines: string[] = [];
    for (let done = 0; done < limit; done++) {
      const k = this.queue.findIndex((e) => matches(filter, e));
      if (k < 0) break;
      if (done >= 10_000) throw new Error('deliver: more than 10000 messages; the cluster does not settle');
      const [e] = this.queue.splice(k, 1);
      const to = this.node(e!.to);
      if (!to.running) {
        lines.push(`${fmtEnvelope(e!)} (lost: ${e!.to} is down)`);
        continue;
      }
      lines.push(fmtEnvelope(e!), ...this.stepNode(e!.to, [e!.message], '  '));
    }
    return lines;
  }

  /** Hand a hand-built message to a running node at once. */
  inject(e: Envelope): string[] {
    return this.stepNode(e.to, [e.message]);
  }

  drop(filter: Filter | null): string[] {
    return this.purge((e) => matches(filter, e), 'dropped');
  }

  /** Queue a second copy of every matching message (at the back of the queue). */
  duplicate(filter: Filter | null): string[] {
    const copies = this.queue.filter((e) => matches(filter, e));
    this.queue.push(...copies);
    return copies.map((e) => `duplicated ${fmtEnvelope(e)}`);
  }

  /** Reverse the order of the matching messages (each takes another's place in the queue). */
  reorder(filter: Filter | null): string[] {
    const slots: number[] = [];
    this.queue.forEach((e, k) => {
      if (matches(filter, e)) slots.push(k);
    });
    const picked = slots.map((k) => this.queue[k]!).reverse();
    slots.forEach((k, j) => (this.queue[k] = picked[j]!));
    return this.showQueue();
  }

  /** Cut every matching queued AppendEntries to at most `max` entries (what flow control does). */
  truncate(filter: Filter | null, max: number): string[] {
    const lines: string[] = [];
    this.queue = this.queue.map((e) => {
      if (!matches(filter, e) || e.message.type !== 'appendEntries') return e;
      const cut = { ...e, message: truncateAppendEntries(e.message, max) };
      lines.push(`truncated ${fmtEnvelope(cut)}`);
      return cut;
    });
    return lines;
  }

  showQueue(): string[] {
    const lines = [...this.queue.map(fmtEnvelope), ...this.transfers.map(fmtTransfer)];
    return lines.length === 0 ? ['(empty)'] : lines;
  }

  // ---------------------------------------------------------------- queries

  status(id: string): string {
    const n = this.node(id);
    const s = n.state;
    if (!n.running) {
      return `${id}: down; disk term=${n.disk.term} votedFor=${n.disk.votedFor ?? '-'} last=${fmtPos(n.disk.log.lastTerm, n.disk.log.lastIndex)}`;
    }
    const parts = [
      `${id}: ${s.role} term=${s.term} votedFor=${s.votedFor ?? '-'} commit=${s.commitIndex}`,
      `last=${fmtPos(s.log.lastTerm, s.log.lastIndex)}`,
    ];
    if (s.log.prevIndex > 0) parts.push(`snapshot=${fmtPos(s.log.prevTerm, s.log.prevIndex)}`);
    parts.push(`timer=${n.timer ?? 'none'}`);
    if (s.votes !== null) parts.push(`votes=${s.votes.join(',')}`);
    if (s.progress !== null) {
      parts.push(`match=${s.progress.peers.map((p, k) => `${p}:${s.progress!.match[k]}`).join(',') || '-'}`);
    }
    if (s.halted !== null) parts.push('HALTED');
    return parts.join(' ');
  }

  log(id: string): string[] {
    const n = this.node(id);
    const s = n.state;
    const lines = [`${id}: log ${fmtEntries(s.log)}`];
    if (s.log.prevIndex > 0) {
      lines.push(`${id}: snapshot ${fmtPos(s.log.prevTerm, s.log.prevIndex)} ${fmtConfig(s.snapshotConfig)}`);
    }
    lines.push(`${id}: disk term=${n.disk.term} votedFor=${n.disk.votedFor ?? '-'} ${fmtEntries(n.disk.log)}`);
    return lines;
  }

  /** The latest configuration, where it sits, whether it is committed, and who the peers are. */
  config(id: string): string[] {
    const s = this.node(id).state;
    const at = latestConfigIndex(s);
    const state = at <= s.commitIndex ? 'committed' : 'uncommitted';
    const lines = [`${id}: ${fmtConfig(latestConfig(s))} at ${at} ${state} peers=${peersOf(s).join(',') || '-'}`];
    return lines;
  }

  commitStatus(id: string, positions: ReadonlyArray<{ term: number; index: number }>): string[] {
    const s = this.node(id).state;
    return positions.map((p) => `${id}: ${fmtPos(p.term, p.index)} ${commitStatus(s, p)}`);
  }

  metrics(id: string): string[] {
    const n = this.node(id);
    if (!n.running) return [`${id}: down (metrics live in memory only)`];
    const m = n.state.metrics;
    const lines = METRIC_NAMES.filter((k) => m[k] !== 0).map((k) => `${id}: ${k}=${m[k]}`);
    return lines.length === 0 ? [`${id}: (all zero)`] : lines;
  }
}

/** The configuration in effect at `index` according to a disk: its last configuration entry up to there. */
function configAtIndex(disk: Disk, index: number): ClusterConfig {
  let config = disk.snapshotConfig;
  for (const c of disk.log.configs) if (c.index <= index) config = c.config;
  return config;
}

/** The part of `log` after the position it holds, `(term, index)`. */
function suffixAfter(log: LogEntries, term: number, index: number): LogEntries {
  return {
    prevTerm: term,
    prevIndex: index,
    lastTerm: log.lastTerm,
    lastIndex: log.lastIndex,
    termStarts: log.termStarts.filter((s) => s.index > index),
    configs: log.configs.filter((c) => c.index > index),
  };
}
