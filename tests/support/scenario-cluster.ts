/**
 * The scenario driver: a handful of raftstep nodes, their disks, their timers and a FIFO network,
 * all under the scenario's explicit control. Nothing happens unless a command says so.
 *
 * The nodes run on the shared test host (tests/support/host.ts), which carries out the actions of
 * one step as the README asks: the list must be in the canonical order (every storage action before
 * every message: the persistence rule); the storage actions become durable on the node's disk (the
 * last `saveHardState`, and the log rebuilt from `appendLog` and `compactLog` actions with
 * `applyToStoredLog`; the snapshot itself, with its configuration, was saved by the application
 * before it stepped `snapshotInstalled`); `setTimer` arms the node's single timer (shown by `status`;
 * it fires only on `timeout`); and only then do messages leave: a broadcast goes to `peersOf(state)`
 * after the step, and `installSnapshot {to}` becomes a snapshot transfer carrying the sender's
 * snapshot at that moment (its position and configuration). Invalid events and halted nodes are
 * printed like any other answer. This module adds the network:
 * - messages are queued; `install-snapshot` carries a queued transfer out (the receiver steps
 *   `snapshotInstalled` with it). Transfers are lost like messages (a node down, a partition);
 * - messages to a node that is down, or across a partition, are lost at once; the network delivers
 *   only to running nodes.
 *
 * It also checks, after every step, that the step did not modify its (deep-frozen) inputs and that
 * the new state survives a JSON round trip; and, after every step and restart, the invariants of the
 * shared checker (tests/support/checker.ts). Once a scenario feeds a node something no real node
 * produced (a hand-built message or snapshot, a forged disk: see {@link Cluster.handBuilt}), entries
 * no leader wrote may be held and committed, and only the checks of each node and each leadership
 * stay on. A violation throws: it can never be expected behaviour.
 */
import {
  BASIC_OPTIONS,
  caughtUpNonVoters,
  commitStatus,
  containsPosition,
  emptyEntries,
  latestConfig,
  latestConfigIndex,
  makeConfig,
  METRIC_NAMES,
  peersOf,
  truncateAppendEntries,
  type ClusterConfig,
  type LogEntries,
  type Message,
  type NodeOptions,
  type PendingRead,
  type RaftEvent,
  type RaftState,
  flatItems,
  toChunks,
} from '../../src/index.js';
import { sentTo } from '../../src/progress.js';
import { Checker } from './checker.js';
import { deepFreeze } from './freeze.js';
import { Host, transferEvent, type Disk, type HostNode, type Outgoing, type Transfer } from './host.js';
import { fmtAction, fmtConfig, fmtEntries, fmtMessage, fmtPos } from './scenario-notation.js';

/** A message on the network. */
export interface Envelope {
  readonly from: string;
  readonly to: string;
  readonly message: Message;
}

export type { Transfer };

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

export function fmtEnvelope(e: Envelope): string {
  return `${e.from}->${e.to} ${fmtMessage(e.message)}`;
}

export class Cluster {
  private readonly host = new Host();
  /** The invariant checker shared by the test suites, run after every step and restart. */
  private readonly checker = new Checker(this.host);
  /** Nodes that are down (crashed and not restarted). */
  private readonly down = new Set<string>();
  private queue: Envelope[] = [];
  /** Snapshot transfers asked for and not yet carried out, in order. */
  private transfers: Transfer[] = [];
  private readonly isolated = new Set<string>();

  // ---------------------------------------------------------------- nodes

  /**
   * The scenario feeds a node something no real node produced (a hand-built message or snapshot, a
   * forged disk): from now on the record of what was committed no longer applies.
   */
  handBuilt(): void {
    this.checker.narrow();
  }

  /** Fresh nodes, with `options` (`BASIC_OPTIONS`, the protocol without extensions, by default). */
  start(ids: readonly string[], options: NodeOptions = BASIC_OPTIONS): string[] {
    for (const id of ids) this.host.add(id, options);
    this.checker.check();
    return [];
  }

  private node(id: string): HostNode {
    return this.host.node(id);
  }

  private running(id: string): HostNode {
    const n = this.node(id);
    if (this.down.has(id)) throw new Error(`node ${id} is down`);
    return n;
  }

  ids(): string[] {
    return this.host.ids;
  }

  state(id: string): RaftState {
    return this.node(id).state;
  }

  /** Step one event (or several, merged with `stepAll`) on a running node; the printed result. */
  stepNode(id: string, events: readonly RaftEvent[], indent = ''): string[] {
    const before = this.running(id).state;
    deepFreeze(before);
    deepFreeze(events);
    const beforeJson = JSON.stringify(before);
    const done = this.host.step(id, events);
    const next = done.after;
    if (JSON.stringify(before) !== beforeJson) throw new Error(`step modified its input state (${id})`);
    if (JSON.stringify(JSON.parse(JSON.stringify(next))) !== JSON.stringify(next)) {
      throw new Error(`state of ${id} does not survive a JSON round trip`);
    }
    this.checker.check();
    const lines = done.actions.length === 0 ? ['(no actions)'] : done.actions.map(fmtAction);
    lines.push(...this.post(done.out));
    if (next.role !== before.role) lines.push(`role ${before.role} -> ${next.role}`);
    return lines.map((l) => indent + l);
  }

  /**
   * Put what a node let out (once its storage was durable) on the network, unless it cannot arrive:
   * to a node that is down or across a partition it is lost (the loss is reported). A message to a
   * hand-built sender that is not a node goes nowhere.
   */
  private post(out: readonly Outgoing[]): string[] {
    const lost: string[] = [];
    for (const o of out) {
      if (!this.host.has(o.to)) continue;
      const shown = o.kind === 'msg' ? `${o.from}->${o.to}` : fmtTransfer(o);
      if (this.down.has(o.to)) lost.push(`lost ${shown} (${o.to} is down)`);
      else if (this.isolated.has(o.from) || this.isolated.has(o.to)) lost.push(`lost ${shown} (partitioned)`);
      else if (o.kind === 'msg') this.queue.push({ from: o.from, to: o.to, message: o.message });
      else this.transfers.push(o);
    }
    return lost;
  }

  /** Crash a node: its timer dies, messages to and from it are lost; its disk survives. */
  stop(id: string): string[] {
    const n = this.running(id);
    this.down.add(id);
    n.timer = null;
    n.timerDue = null;
    return this.purge((e) => e.from === id || e.to === id, 'lost');
  }

  /** Carry out the oldest pending snapshot transfer `from->to`: `to` steps `snapshotInstalled`. */
  installSnapshot(from: string, to: string): string[] {
    const k = this.transfers.findIndex((t) => t.from === from && t.to === to);
    if (k < 0) throw new Error(`no pending snapshot transfer ${from}->${to} (an installSnapshot action queues one)`);
    const [t] = this.transfers.splice(k, 1);
    return [fmtTransfer(t!), ...this.stepNode(to, [transferEvent(t!)], '  ')];
  }

  /**
   * Restart a node from its disk (a crash first, if it is running). `snapshot` compacts the stored
   * log at that position first (keeping the suffix when the log holds it, else leaving an empty run
   * anchored there: a snapshot the log knows nothing of), with `voters` as the snapshot's
   * configuration (default: the configuration in effect there).
   */
  restart(id: string, snapshot: { term: number; index: number } | null, voters: string[] | null): string[] {
    const n = this.node(id);
    const lines = this.down.has(id) ? [] : this.stop(id);
    if (snapshot !== null) {
      this.handBuilt();
      const log = n.disk.log;
      const config = voters !== null ? makeConfig(voters) : configAtIndex(n.disk, snapshot.index);
      n.disk.log = containsPosition(log, snapshot.term, snapshot.index)
        ? suffixAfter(log, snapshot.term, snapshot.index)
        : emptyEntries(snapshot.term, snapshot.index);
      n.disk.snapshotConfig = config;
    }
    const done = this.host.restart(id);
    this.down.delete(id);
    this.checker.check();
    lines.push(...done.actions.map(fmtAction), ...this.post(done.out));
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
      this.node(e!.to);
      if (this.down.has(e!.to)) {
        lines.push(`${fmtEnvelope(e!)} (lost: ${e!.to} is down)`);
        continue;
      }
      lines.push(fmtEnvelope(e!), ...this.stepNode(e!.to, [e!.message], '  '));
    }
    return lines;
  }

  /** Hand a hand-built message to a running node at once. */
  inject(e: Envelope): string[] {
    this.handBuilt();
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
    if (this.down.has(id)) {
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
    parts.push(...extensionFields(s));
    if (s.halted !== null) parts.push('HALTED');
    return parts.join(' ');
  }

  /** The node's options that differ from `BASIC_OPTIONS` (the protocol without extensions). */
  options(id: string): string {
    const o = this.node(id).state.options;
    return `${id}: options ${fmtOptions(o)}`;
  }

  /** `caughtUpNonVoters` on a node. */
  caughtUp(id: string): string {
    const ids = caughtUpNonVoters(this.node(id).state);
    return `${id}: caughtUpNonVoters=${ids.join(',') || '-'}`;
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
    if (this.down.has(id)) return [`${id}: down (metrics live in memory only)`];
    const m = n.state.metrics;
    const lines = METRIC_NAMES.filter((k) => m[k] !== 0).map((k) => `${id}: ${k}=${m[k]}`);
    return lines.length === 0 ? [`${id}: (all zero)`] : lines;
  }
}

/** The options that differ from `BASIC_OPTIONS`, as `key=value` words (`basic` when none does). */
export function fmtOptions(o: NodeOptions): string {
  const keys = Object.keys(BASIC_OPTIONS) as Array<keyof NodeOptions>;
  const differ = keys.filter((k) => o[k] !== BASIC_OPTIONS[k]).map((k) => `${k}=${String(o[k])}`);
  return differ.length === 0 ? 'basic' : differ.join(' ');
}

/** True when the node runs any extension (its options are not `BASIC_OPTIONS`). */
function runsExtensions(o: NodeOptions): boolean {
  return o.preVote || o.checkQuorum || o.leaseReads || o.flowControl || o.concurrentLeaderWrites;
}

/**
 * The fields of the protocol extensions, for `status`. Printed only for nodes that run an extension
 * (so the files written for the base protocol print as before), except the reads a node holds,
 * printed whenever there are some:
 * - a follower: `leaderAlive=true|false` (it hears from a live leader: it refuses pre-votes and,
 *   with check-quorum, ignores vote requests);
 * - a leader: `ticks=N` (its clock), `heard=b:T,..` (check-quorum: the tick each peer was last
 *   heard from), `inflight=b:N,..` (flow control: entries sent and not acknowledged), `round=R/C`
 *   (the last leadership-check round sent / the last confirmed, once one was sent), `lease<T`
 *   (lease reads: the lease holds while ticks < T), `transferTo=b@T` (a transfer started at tick T);
 * - `reads=..`: on a leader `[from:]id@index#round` (`@?` while it waits for the first commit of its
 *   term, no `#` before a round covers it), on a follower the ids it forwarded.
 */
function extensionFields(s: RaftState): string[] {
  const parts: string[] = [];
  const o = s.options;
  if (runsExtensions(o)) {
    if (s.role === 'follower') parts.push(`leaderAlive=${s.leaderAlive}`);
    if (s.role === 'leader') {
      const { lead, progress } = s;
      parts.push(`ticks=${lead.ticks}`);
      const column = (f: (k: number) => number): string =>
        progress.peers.map((p, k) => `${p}:${f(k)}`).join(',') || '-';
      if (o.checkQuorum) parts.push(`heard=${column((k) => progress.heard[k]!)}`);
      if (o.flowControl) {
        parts.push(`inflight=${column((k) => sentTo(progress, k, s.log.lastIndex) - progress.match[k]!)}`);
      }
      if (o.concurrentLeaderWrites) parts.push(`persisted=${lead.persisted}`);
      if (lead.round > 0) parts.push(`round=${lead.round}/${lead.confirmed}`);
      if (o.leaseReads) parts.push(`lease<${lead.leaseUntil}`);
      if (lead.transferTo !== null) parts.push(`transferTo=${lead.transferTo}@${lead.transferTick}`);
    }
  }
  if (s.reads.length > 0) {
    const fmt = (r: PendingRead): string =>
      s.role === 'leader'
        ? `${r.from === null ? '' : `${r.from}:`}${r.id}@${r.index < 0 ? '?' : r.index}${r.round > 0 ? `#${r.round}` : ''}`
        : r.id;
    parts.push(`reads=${s.reads.map(fmt).join(',')}`);
  }
  return parts;
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
    termStarts: toChunks(flatItems(log.termStarts).filter((s) => s.index > index)),
    configs: log.configs.filter((c) => c.index > index),
  };
}
