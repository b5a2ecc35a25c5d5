/**
 * Stepping a node and carrying out its actions, as a careful application must (README, "What to do
 * for each action"):
 * - `setTimer` arms the node's one timer (on the clock);
 * - storage writes (`saveHardState`, `appendLog`, `compactLog`) apply at once to what the
 *   application has written and become durable after a latency, in order;
 * - the persistence rule: everything after a storage write that leaves the node — messages,
 *   snapshot transfers, and the application of committed entries — waits until every write before
 *   it is durable (a crash loses both the unfinished writes and what waited for them), except that
 *   nothing waits for a `concurrent` append (a leader's own entries, `concurrentLeaderWrites`);
 * - with `concurrentLeaderWrites`, every append becoming durable is reported to its node
 *   (`appendPersisted`), as the host runtime does;
 * - command payloads travel with AppendEntries messages and are stored by index;
 * - committed entries are applied to the node's state machine (and the user's application), and
 *   snapshots received from a leader are installed;
 * - `readReady` and a `rejected` read go to the read tracker, which checks the answer against the
 *   committed history (`client-reads.ts`); other `rejected` actions need nothing;
 * - `invalidEvent` and `fatal` for a well-formed event break raftstep's contract, and
 *   `internalError` is a bug in raftstep: each of these stops the run with a violation.
 *
 * Each step is an event of the journal, and the checker checks the node after it.
 */
import {
  forEachEntry,
  peersOf,
  type RaftActions,
  type LogEntries,
  type Message,
  type RaftEvent,
  type RaftState,
  type StepResult,
} from '../index.js';
import type { Checker } from './checker.js';
import type { ReadTracker } from './client-reads.js';
import type { Clock } from './clock.js';
import { mix } from './hash.js';
import { errorText, type Journal } from './journal.js';
import type { Network, Packet } from './network.js';
import type { Nodes, Outbound, SimNode } from './nodes.js';
import type { Timing } from './options.js';
import type { SimApplication, Stepper } from './plugins.js';
import type { Rng } from './rng.js';
import type { WorldStats } from './stats.js';
import type { SnapshotData, Write } from './storage.js';
import type { InvariantName } from './violation.js';

/** The payloads of the commands an event brings, by log index (null: it brings none). */
export type Incoming = ((index: number) => number | undefined) | null;

/** What carrying out actions touches in the rest of the world. */
export interface ExecutorParts {
  readonly stepper: Stepper;
  readonly clock: Clock;
  readonly network: Network;
  readonly nodes: Nodes;
  readonly journal: Journal;
  readonly checker: Checker;
  readonly stats: WorldStats;
  readonly rng: Rng;
  readonly timing: Timing;
  readonly app: SimApplication | null;
  /** Client commands by id (only with an application). */
  readonly commands: ReadonlyMap<number, unknown>;
  /** The client reads in flight, and their check. */
  readonly reads: ReadTracker;
}

const EMPTY: readonly number[] = Object.freeze([]);

/** See the module comment. */
export class Executor {
  constructor(private readonly parts: ExecutorParts) {}

  /**
   * Step `event` on the running node `h` and carry out the actions. `incoming` gives the payloads
   * of the commands the event brings (AppendEntries payloads, or a proposal's new commands);
   * `snapshot` is the snapshot a `snapshotInstalled` event installs.
   */
  step(h: SimNode, event: RaftEvent, incoming: Incoming = null, snapshot: SnapshotData | null = null): StepResult {
    const { journal, checker } = this.parts;
    const before = h.state!;
    journal.record(h.id, { step: event });
    let result: StepResult;
    try {
      result = this.parts.stepper(before, event);
    } catch (err) {
      return this.fail('contract', `step threw on ${event.type}: ${errorText(err)}`, [h.id]);
    }
    const [after, actions] = result;
    h.state = after;
    checker.afterStep(h, before, after, event, result[1]);
    this.execute(h, after, actions, incoming, snapshot);
    journal.checkpoint(h, after);
    journal.afterEvent(h.id);
    return result;
  }

  /** A violation found now (throws). */
  private fail(invariant: InvariantName, message: string, nodes: readonly string[]): never {
    return this.parts.journal.fail(invariant, message, nodes);
  }

  /** `p` reached the node it was sent to: step it there (nothing happens when that node is not up). */
  receive(p: Packet): void {
    const stats = this.parts.stats;
    const h = this.parts.nodes.get(p.to);
    if (h === undefined || h.status !== 'up') {
      stats.downDrops++;
      return;
    }
    stats.delivered++;
    if (p.snapshot !== null) {
      this.installSnapshot(h, p.snapshot);
      return;
    }
    const m = p.message!;
    let incoming: Incoming = null;
    if (m.type === 'appendEntries' && p.payloads !== null) {
      const base = m.entries.prevIndex + 1;
      const payloads = p.payloads;
      incoming = (i) => payloads[i - base];
    }
    this.step(h, m, incoming);
  }

  /** A snapshot transfer ended (installed, refused or lost): its sender may start another. */
  transferEnded(p: Packet): void {
    const from = this.parts.nodes.get(p.from);
    if (from !== undefined && from.transfers.get(p.to) === p.id) from.transfers.delete(p.to);
  }

  /** Carry out `actions`, which `h` asked for on reaching `after` (see the module comment). */
  execute(h: SimNode, after: RaftState, actions: RaftActions, incoming: Incoming, snapshot: SnapshotData | null): void {
    for (const a of actions) {
      switch (a.type) {
        case 'setTimer':
          this.parts.clock.arm(h, a.wait, () => this.step(h, { type: 'timeout' }));
          break;
        case 'saveHardState':
          this.write(h, { k: 'hard', term: a.term, votedFor: a.votedFor });
          break;
        case 'compactLog':
          if (snapshot === null || snapshot.term !== a.term || snapshot.index !== a.index) {
            this.fail('contract', `compactLog (${a.term}, ${a.index}) for a snapshot the application did not install`, [
              h.id,
            ]);
          }
          this.write(h, { k: 'snapshot', snapshot });
          break;
        case 'appendLog': {
          const payloads = this.payloadsFor(h, a.entries, incoming);
          if (!this.write(h, { k: 'append', entries: a.entries, payloads }, a.concurrent === true)) {
            const e = a.entries;
            const l = h.live.log;
            this.fail(
              'contract',
              `appendLog anchored at (${e.prevTerm}, ${e.prevIndex}) outside the stored log (${l.prevTerm}, ${l.prevIndex})..(${l.lastTerm}, ${l.lastIndex})`,
              [h.id],
            );
          }
          break;
        }
        case 'commitAdvanced':
          this.emit(h, { k: 'apply', commitIndex: a.commitIndex, term: after.term });
          break;
        case 'broadcast': {
          const payloads = this.attach(h, a.message);
          for (const to of peersOf(after)) this.emit(h, { k: 'msg', to, message: a.message, payloads });
          break;
        }
        case 'send':
          if (a.to === h.id) this.fail('contract', `a message to itself: ${a.message.type}`, [h.id]);
          this.emit(h, { k: 'msg', to: a.to, message: a.message, payloads: this.attach(h, a.message) });
          break;
        case 'installSnapshot': {
          const snap = h.live.snapshot;
          if (snap === null) this.fail('contract', `installSnapshot to ${a.to} without a snapshot`, [h.id]);
          this.emit(h, { k: 'snap', to: a.to, snapshot: snap });
          break;
        }
        case 'readReady':
          this.parts.reads.answered(h.id, a.id, a.index);
          break;
        case 'rejected':
          if (a.request === 'read') this.parts.reads.refused(h.id, a.id ?? '', a.reason);
          break;
        case 'invalidEvent':
          this.fail('contract', `invalidEvent for a well-formed event: ${a.reason}`, [h.id]);
          break;
        case 'fatal':
          this.fail('contract', `fatal: ${a.reason}`, [h.id]);
          break;
        case 'internalError':
          this.fail('noInternalError', `step failed with an internal error on ${a.event}: ${a.reason}`, [h.id]);
      }
    }
  }

  // ------------------------------------------------------------------------------------------
  // Payloads

  /** The payloads of an append: from the event (`incoming`) for commands; 0 for the other entries. */
  private payloadsFor(h: SimNode, e: LogEntries, incoming: Incoming): number[] {
    const out = new Array<number>(e.lastIndex - e.prevIndex);
    forEachEntry(e, e.prevIndex + 1, e.lastIndex, (i, _term, kind) => {
      if (kind !== 'command') {
        out[i - e.prevIndex - 1] = 0;
        return;
      }
      const p = incoming === null ? undefined : incoming(i);
      if (p === undefined || p <= 0)
        this.fail('contract', `appendLog holds a command at ${i} that the event did not bring`, [h.id]);
      out[i - e.prevIndex - 1] = p;
    });
    return out;
  }

  /** The payloads to send along with `m` (AppendEntries only). */
  private attach(h: SimNode, m: Message): readonly number[] | null {
    if (m.type !== 'appendEntries') return null;
    const e = m.entries;
    return e.lastIndex === e.prevIndex ? EMPTY : h.live.payloads.range(e.prevIndex, e.lastIndex);
  }

  // ------------------------------------------------------------------------------------------
  // Storage and the persistence rule

  /**
   * Issue the write `w`: applied at once to what `h` has written, durable after a latency. What `h`
   * sends after it waits for it, unless it is `concurrent`.
   */
  private write(h: SimNode, w: Write, concurrent = false): boolean {
    if (!h.live.apply(w)) return false;
    const { clock, rng, timing } = this.parts;
    const seq = ++h.writeSeq;
    if (!concurrent) h.barrierSeq = seq;
    h.pending.push({ seq, write: w });
    const done = Math.max(clock.now, h.lastWriteDone) + rng.int(timing.storageMin, timing.storageMax);
    h.lastWriteDone = done;
    const life = h.incarnation;
    clock.at(done, () => this.writeDone(h, life, seq));
    return true;
  }

  /** The writes of `h` up to `seq` are durable: so is what waited for them. */
  private writeDone(h: SimNode, life: number, seq: number): void {
    if (h.incarnation !== life) return;
    const reports: LogEntries[] = [];
    while (h.pending.length > 0 && h.pending[0]!.seq <= seq) {
      const w = h.pending.shift()!.write;
      if (w.k === 'hard' && w.term < h.durable.term) {
        this.fail('termMonotonic', `durable term would go from ${h.durable.term} down to ${w.term}`, [h.id]);
      }
      h.durable.apply(w);
      if (w.k === 'append') reports.push(w.entries);
    }
    while (h.outbox.length > 0 && h.outbox[0]!.barrier <= seq) this.dispatch(h, h.outbox.shift()!.out);
    if (h.state === null || !h.state.options.concurrentLeaderWrites) return;
    for (const e of reports) {
      if (h.incarnation !== life || h.state === null) return;
      this.step(h, { type: 'appendPersisted', term: e.lastTerm, index: e.lastIndex });
    }
  }

  /** Send `out` now, or hold it until every write it must wait for (see `write`) is durable. */
  private emit(h: SimNode, out: Outbound): void {
    const barrier = h.barrierSeq;
    if (h.pending.length > 0 && h.pending[0]!.seq <= barrier) h.outbox.push({ barrier, out });
    else this.dispatch(h, out);
  }

  private dispatch(h: SimNode, out: Outbound): void {
    switch (out.k) {
      case 'apply':
        this.applyCommitted(h, out.commitIndex, out.term);
        return;
      case 'msg':
        this.parts.network.send(h.id, out.to, out.message, out.payloads, null);
        return;
      case 'snap': {
        // One transfer per follower at a time: a careful application does not start another while
        // one is in flight (the leader asks again on every reply until the follower caught up).
        if (h.transfers.has(out.to)) return;
        const p = this.parts.network.send(h.id, out.to, null, null, out.snapshot);
        h.transfers.set(out.to, p.id);
        this.parts.stats.snapshotsSent++;
      }
    }
  }

  // ------------------------------------------------------------------------------------------
  // The state machine

  /** Apply the committed entries up to `commitIndex` (known in `term`) on `h`'s state machine. */
  private applyCommitted(h: SimNode, commitIndex: number, term: number): void {
    const s = h.state;
    if (s === null) return;
    const from = h.machine.index + 1;
    if (commitIndex < from) return;
    const { checker, commands } = this.parts;
    const log = s.log;
    if (from <= log.prevIndex || commitIndex > log.lastIndex) {
      this.fail(
        'stateMachineSafety',
        `cannot apply (${from}..${commitIndex}]: the log holds (${log.prevIndex}..${log.lastIndex}]`,
        [h.id],
      );
    }
    let hash = h.machine.hash;
    let app = h.machine.app;
    const appDef = this.parts.app;
    const payloads = h.live.payloads;
    forEachEntry(log, from, commitIndex, (i, t, kind, config) => {
      let payload = 0;
      if (kind === 'command') {
        const p = payloads.get(i);
        if (p === undefined || p <= 0)
          this.fail('stateMachineSafety', `committed command at ${i} has no payload`, [h.id]);
        payload = p;
        hash = mix(hash, p);
        if (appDef !== null) {
          try {
            app = appDef.apply(app, commands.get(p), i);
          } catch (err) {
            this.fail('application', `apply threw at ${i}: ${errorText(err)}`, [h.id]);
          }
        }
      }
      checker.committed(h, i, t, kind, payload, config, hash, app, appDef);
    });
    h.machine = { index: commitIndex, hash, app };
    checker.commitKnown(h, term, commitIndex);
  }

  /** `h` received a snapshot from a leader: install it (step `snapshotInstalled`) and take its state machine. */
  private installSnapshot(h: SimNode, snap: SnapshotData): void {
    const [, actions] = this.step(
      h,
      { type: 'snapshotInstalled', term: snap.term, index: snap.index, config: snap.config },
      null,
      snap,
    );
    if (!actions.some((a) => a.type === 'compactLog')) return;
    this.parts.stats.snapshotsInstalled++;
    this.parts.journal.tell('snapshot', `${h.id} installed a snapshot at index ${snap.index} sent by the leader`);
    if (snap.index > h.machine.index) h.machine = snap.machine;
    this.parts.checker.snapshotInstalled(h, snap);
  }
}
