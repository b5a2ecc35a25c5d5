/**
 * A small cluster for the membership-and-snapshot safety property: up to five nodes, instantly
 * durable storage (rebuilt from the storage actions with `applyToStoredLog`), and a network whose
 * deliveries, losses, duplications and reorderings — of messages and of snapshot transfers alike —
 * are chosen by a generated schedule. The schedule is plain data, so fast-check shrinks it and a
 * failure replays exactly. Not a test file: `safety.test.ts` drives it.
 *
 * What the application does here, as the README asks:
 * - storage actions are carried out in order before any message leaves (the list is checked to be
 *   in canonical order); `compactLog` and `appendLog` go through `applyToStoredLog`, which throws
 *   when an append is not anchored in the stored log;
 * - `installSnapshot {to}` puts a transfer of the sender's snapshot (position and configuration, as
 *   they are after the step) on the network; when it is delivered, the receiver steps
 *   `snapshotInstalled` with it;
 * - local compaction: a node saves its state machine at a committed index and steps
 *   `snapshotInstalled` with `positionAndConfigAt`;
 * - membership changes are proposed on the newest leader, built from its latest configuration with
 *   `toJointConsensus` / `withNonVoters`;
 * - a batch delivers several messages to one node at once with `stepAll` and carries out the
 *   merged actions (pipelining; this is where `mergeActions` rebases pending actions onto a snapshot).
 */
import {
  EMPTY_CONFIG,
  applyToStoredLog,
  configsEqual,
  emptyEntries,
  isJoint,
  isMember,
  isVoter,
  latestConfig,
  latestConfigIndex,
  peersOf,
  positionAndConfigAt,
  restartNode,
  startNode,
  step,
  stepAll,
  termAt,
  toJointConsensus,
  withNonVoters,
  type Actions,
  type ClusterConfig,
  type LogEntries,
  type Message,
  type RaftEvent,
  type RaftState,
} from '../../src/index.js';

// ---------------------------------------------------------------------------------------------
// The schedule

/**
 * A membership change about node j: one of the single-node changes, or `replace` (add j as a voter
 * and remove the voter after it, in one joint change: old and new majorities then differ by more
 * than one node, which is where joint consensus matters).
 */
export type ConfigOp = 'addVoter' | 'removeVoter' | 'addNonVoter' | 'removeNonVoter' | 'promote' | 'replace';

/** One scheduling decision; indices are taken modulo what there is to choose from. */
export type Choice =
  | { readonly t: 'deliver' | 'drop' | 'duplicate'; readonly k: number }
  | { readonly t: 'batch'; readonly i: number; readonly n: number }
  | { readonly t: 'cut'; readonly i: number }
  | { readonly t: 'timeout' | 'heartbeat' | 'restart'; readonly i: number }
  | { readonly t: 'propose'; readonly i: number; readonly count: number }
  | { readonly t: 'config'; readonly op: ConfigOp; readonly j: number }
  | { readonly t: 'compact'; readonly i: number; readonly f: number };

/** Something on the wire: a Raft message, or a snapshot transfer. */
export type Envelope =
  | { readonly from: string; readonly to: string; readonly kind: 'msg'; readonly message: Message }
  | {
      readonly from: string;
      readonly to: string;
      readonly kind: 'snap';
      readonly term: number;
      readonly index: number;
      readonly config: ClusterConfig;
    };

export class Violation extends Error {
  override name = 'Violation';
}

export function fail(message: string): never {
  throw new Violation(message);
}

// ---------------------------------------------------------------------------------------------
// The cluster

interface Stored {
  term: number;
  votedFor: string | null;
  log: LogEntries;
  snapshotConfig: ClusterConfig;
}

/** Counters, for the coverage assertions. */
export interface Counts {
  steps: number;
  delivered: number;
  dropped: number;
  duplicated: number;
  batches: number;
  /** Batches whose merged actions held a compactLog and an appendLog or message rebased with it. */
  batchesWithCompaction: number;
  restarts: number;
  configsProposed: number;
  configsRejected: number;
  compactions: number;
  transfersSent: number;
  transfersDropped: number;
  /** Snapshot transfers that the receiver installed (a compactLog came back). */
  snapshotsInstalled: number;
  /** Installed transfers that reset the receiver's log (the position was not in it). */
  snapshotResets: number;
  /** Leaders that stepped down in their own term because they were removed. */
  removedLeaderStepDowns: number;
}

/** Every counter at zero. */
export function zeroCounts(): Counts {
  return {
    steps: 0,
    delivered: 0,
    dropped: 0,
    duplicated: 0,
    batches: 0,
    batchesWithCompaction: 0,
    restarts: 0,
    configsProposed: 0,
    configsRejected: 0,
    compactions: 0,
    transfersSent: 0,
    transfersDropped: 0,
    snapshotsInstalled: 0,
    snapshotResets: 0,
    removedLeaderStepDowns: 0,
  };
}

export class Cluster {
  readonly states = new Map<string, RaftState>();
  readonly stored = new Map<string, Stored>();
  inFlight: Envelope[] = [];
  /** Nodes restarted since the last check (their commit index starts over). */
  readonly restarted = new Set<string>();
  readonly counts: Counts = zeroCounts();

  constructor(readonly ids: readonly string[]) {
    for (const id of ids) {
      this.states.set(id, startNode(id));
      this.stored.set(id, { term: 0, votedFor: null, log: emptyEntries(0, 0), snapshotConfig: EMPTY_CONFIG });
    }
  }

  state(id: string): RaftState {
    return this.states.get(id)!;
  }

  /** The leader of the highest term, if any. */
  leader(): RaftState | null {
    let best: RaftState | null = null;
    for (const s of this.states.values()) if (s.role === 'leader' && (best === null || s.term > best.term)) best = s;
    return best;
  }

  /** Step one event on `id` and carry out the actions. */
  stepNode(id: string, event: RaftEvent): Actions {
    return this.stepMany(id, [event]);
  }

  /** Step events on `id` (several: with `stepAll`, merged) and carry out the actions. */
  stepMany(id: string, events: readonly RaftEvent[]): Actions {
    const before = this.state(id);
    const [after, actions] = events.length === 1 ? step(before, events[0]!) : stepAll(before, events);
    this.counts.steps++;
    this.states.set(id, after);
    this.execute(id, before, after, actions, events);
    return actions;
  }

  /** Crash `id` and bring it back from what it stored. */
  restart(id: string): void {
    const st = this.stored.get(id)!;
    const [after, actions] = restartNode({ id, ...st });
    this.counts.restarts++;
    this.restarted.add(id);
    this.states.set(id, after);
    this.execute(id, after, after, actions, []);
  }

  /** Carry out one decision; false when there was nothing to act on. */
  run(c: Choice): boolean {
    const n = this.ids.length;
    switch (c.t) {
      case 'deliver':
      case 'drop':
      case 'duplicate': {
        if (this.inFlight.length === 0) return false;
        const k = c.k % this.inFlight.length;
        const env = this.inFlight[k]!;
        if (c.t === 'duplicate') {
          this.inFlight.push(env);
          this.counts.duplicated++;
          return true;
        }
        this.inFlight.splice(k, 1);
        if (c.t === 'drop') {
          this.counts.dropped++;
          if (env.kind === 'snap') this.counts.transfersDropped++;
          return true;
        }
        this.deliver([env]);
        return true;
      }
      case 'batch': {
        if (this.inFlight.length === 0) return false;
        // The receiver of the k-th message in flight takes its next n messages at once.
        const to = this.inFlight[c.i % this.inFlight.length]!.to;
        const picked: Envelope[] = [];
        this.inFlight = this.inFlight.filter((e) => {
          if (e.to !== to || picked.length >= c.n) return true;
          picked.push(e);
          return false;
        });
        this.counts.batches++;
        this.deliver(picked);
        return true;
      }
      case 'cut': {
        // A burst of loss: everything in flight from or to one node.
        const id = this.ids[c.i % n]!;
        const before = this.inFlight.length;
        this.inFlight = this.inFlight.filter((e) => e.from !== id && e.to !== id);
        this.counts.dropped += before - this.inFlight.length;
        return true;
      }
      case 'timeout':
      case 'heartbeat':
        this.stepNode(this.ids[c.i % n]!, { type: c.t });
        return true;
      case 'propose':
        this.stepNode(this.ids[c.i % n]!, { type: 'propose', count: c.count });
        return true;
      case 'restart':
        this.restart(this.ids[c.i % n]!);
        return true;
      case 'compact': {
        // The application snapshots its state machine at a committed index above its snapshot.
        const s = this.state(this.ids[c.i % n]!);
        if (s.commitIndex <= s.log.prevIndex) return false;
        const index = s.log.prevIndex + Math.max(1, Math.ceil(c.f * (s.commitIndex - s.log.prevIndex)));
        const at = positionAndConfigAt(s, index);
        if (at === null) fail(`${s.id}: positionAndConfigAt(${index}) is null below the commit index ${s.commitIndex}`);
        const actions = this.stepNode(s.id, { type: 'snapshotInstalled', ...at });
        if (!actions.some((a) => a.type === 'compactLog')) {
          fail(`${s.id}: local snapshot at committed (${at.term}, ${at.index}) refused: ${JSON.stringify(actions)}`);
        }
        this.counts.compactions++;
        return true;
      }
      case 'config': {
        const s = this.leader();
        if (s === null) return false;
        const next = proposal(latestConfig(s), c.op, this.ids[c.j % n]!);
        if (next === null) return false;
        this.counts.configsProposed++;
        const actions = this.stepNode(s.id, { type: 'proposeConfig', config: next });
        if (actions.some((a) => a.type === 'rejected')) this.counts.configsRejected++;
        return true;
      }
    }
  }

  /** Deliver envelopes to their (common) receiver: one step, or one `stepAll` for several. */
  private deliver(envs: readonly Envelope[]): void {
    if (envs.length === 0) return;
    const to = envs[0]!.to;
    this.counts.delivered += envs.length;
    const events: RaftEvent[] = envs.map((e) =>
      e.kind === 'msg' ? e.message : { type: 'snapshotInstalled', term: e.term, index: e.index, config: e.config },
    );
    const before = this.state(to);
    const actions = this.stepMany(to, events);
    if (envs.length > 1 && actions.some((a) => a.type === 'compactLog')) this.counts.batchesWithCompaction++;
    if (envs.some((e) => e.kind === 'snap') && actions.some((a) => a.type === 'compactLog')) {
      this.counts.snapshotsInstalled++;
      const snaps = envs.filter((e) => e.kind === 'snap');
      if (snaps.some((e) => termAt(before.log, e.index) !== e.term)) this.counts.snapshotResets++;
    }
  }

  /** The application's side: storage first, then the network. */
  private execute(
    id: string,
    before: RaftState,
    after: RaftState,
    actions: Actions,
    events: readonly RaftEvent[],
  ): void {
    const st = this.stored.get(id)!;
    const what = (): string => `${id} after ${JSON.stringify(events)}: ${JSON.stringify(actions)}`;
    let sent = false;
    for (const a of actions) {
      switch (a.type) {
        case 'setTimer':
        case 'commitAdvanced':
        case 'rejected':
          break;
        case 'saveHardState':
        case 'compactLog':
        case 'appendLog':
          if (sent) fail(`${id}: storage action ${a.type} after a message: ${what()}`);
          if (a.type === 'saveHardState') {
            st.term = a.term;
            st.votedFor = a.votedFor;
          } else {
            if (a.type === 'compactLog' && a.index >= st.log.prevIndex) st.snapshotConfig = after.snapshotConfig;
            try {
              st.log = applyToStoredLog(st.log, a);
            } catch (err) {
              fail(`${id}: ${err instanceof Error ? err.message : String(err)}; ${what()}`);
            }
          }
          break;
        case 'broadcast':
          sent = true;
          for (const to of peersOf(after)) this.inFlight.push({ from: id, to, kind: 'msg', message: a.message });
          break;
        case 'send':
          sent = true;
          if (a.to === id) fail(`${id} sends to itself: ${what()}`);
          this.inFlight.push({ from: id, to: a.to, kind: 'msg', message: a.message });
          break;
        case 'installSnapshot': {
          sent = true;
          const log = after.log;
          if (log.prevIndex === 0) fail(`${id}: installSnapshot to ${a.to} without a snapshot: ${what()}`);
          this.counts.transfersSent++;
          this.inFlight.push({
            from: id,
            to: a.to,
            kind: 'snap',
            term: log.prevTerm,
            index: log.prevIndex,
            config: after.snapshotConfig,
          });
          break;
        }
        case 'invalidEvent':
        case 'fatal':
          fail(`${id}: ${a.type} (${a.reason}) for well-formed events: ${what()}`);
      }
    }
    if (before.role === 'leader' && after.role === 'follower' && after.term === before.term) {
      this.counts.removedLeaderStepDowns++;
    }
    // Storage is durable at once: it holds what the node holds.
    if (st.term !== after.term || st.votedFor !== after.votedFor) {
      fail(`${id}: stored hard state (${st.term}, ${st.votedFor}) differs from (${after.term}, ${after.votedFor})`);
    }
    const log = after.log;
    if (st.log.prevIndex !== log.prevIndex || st.log.prevTerm !== log.prevTerm) {
      fail(`${id}: stored snapshot (${st.log.prevTerm},${st.log.prevIndex}) differs from the state's ${show(log)}`);
    }
    if (!configsEqual(st.snapshotConfig, after.snapshotConfig)) {
      fail(`${id}: stored snapshot configuration differs from the state's`);
    }
    // In memory the log may be shorter (a truncation is persisted with the next append): a prefix.
    if (st.log.lastIndex < log.lastIndex || !sameEntries(st.log, log, log.prevIndex, log.lastIndex)) {
      fail(`${id}: the log ${show(log)} is not a prefix of the stored log ${show(st.log)}; ${what()}`);
    }
  }
}

/** The configuration a leader with `config` proposes for `op` on `j`; null when `op` does not apply. */
export function proposal(config: ClusterConfig, op: ConfigOp, j: string): ClusterConfig | null {
  switch (op) {
    case 'addVoter':
      return isMember(config, j) ? null : toJointConsensus(config, [j], []);
    case 'removeVoter':
      return config.voters.includes(j) && config.voters.length > 2 ? toJointConsensus(config, [], [j]) : null;
    case 'addNonVoter':
      return isMember(config, j) ? null : withNonVoters(config, [j], []);
    case 'removeNonVoter':
      return config.nonVoters.includes(j) ? withNonVoters(config, [], [j]) : null;
    case 'promote':
      return config.nonVoters.includes(j) ? toJointConsensus(config, [j], []) : null;
    case 'replace': {
      // Like removeVoter, only while there are more than two voters (see safety.test.ts).
      if (isVoter(config, j) || config.voters.length <= 2) return null;
      const out = config.voters.find((v) => v > j) ?? config.voters[0];
      return out === undefined ? null : toJointConsensus(config, [j], [out]);
    }
  }
}

/** The configuration that ends a joint change (what the leader appends when the joint one commits). */
export function finalOf(joint: ClusterConfig): ClusterConfig {
  return { voters: joint.newVoters, newVoters: [], nonVoters: joint.nonVoters };
}

// ---------------------------------------------------------------------------------------------
// Log helpers

export function show(l: LogEntries): string {
  const starts = l.termStarts.map((s) => `${s.term}@${s.index}`).join(',');
  const configs = l.configs.map((c) => c.index).join(',');
  return `(${l.prevTerm},${l.prevIndex})..(${l.lastTerm},${l.lastIndex})[terms ${starts}; configs ${configs}]`;
}

/**
 * Calls `f(from, to, term)` for each maximal run of indices in `[lo, hi]` (clamped to what `log`
 * holds, the anchor included) that share one term.
 */
export function forEachRun(
  log: LogEntries,
  lo: number,
  hi: number,
  f: (from: number, to: number, term: number) => void,
): void {
  const a = Math.max(lo, log.prevIndex);
  const b = Math.min(hi, log.lastIndex);
  if (a > b) return;
  let from = a;
  let term = termAt(log, a);
  for (const s of log.termStarts) {
    if (s.index <= a) continue;
    if (s.index > b) break;
    f(from, s.index - 1, term);
    from = s.index;
    term = s.term;
  }
  f(from, b, term);
}

/** True when both logs hold the same terms and configuration entries at every index of `[lo, hi]`. */
export function sameEntries(a: LogEntries, b: LogEntries, lo: number, hi: number): boolean {
  if (lo > hi) return true;
  if (termAt(a, lo) !== termAt(b, lo) || termAt(a, hi) !== termAt(b, hi)) return false;
  const starts = (l: LogEntries): string => JSON.stringify(l.termStarts.filter((s) => s.index > lo && s.index <= hi));
  const configs = (l: LogEntries): string => JSON.stringify(l.configs.filter((c) => c.index > lo && c.index <= hi));
  return starts(a) === starts(b) && configs(a) === configs(b);
}

export { isJoint, isVoter, latestConfigIndex };
