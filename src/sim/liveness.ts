/**
 * Liveness: once the faults stop and the network heals, a leader is elected and a new proposal
 * commits within a bounded virtual time.
 */
import type { World } from './world.js';

/** How liveness was established after healing. */
export interface LivenessReport {
  /** Virtual time at which the faults stopped and the network healed. */
  readonly healedAt: number;
  /** The leader whose proposal committed. */
  readonly leader: string;
  /** The term in which that leader proposed it (the term of the committed entry). */
  readonly term: number;
  /** Virtual time at which the proposal was first committed. */
  readonly committedAt: number;
  /** `committedAt - healedAt`. */
  readonly took: number;
}

/**
 * Stop every fault in `world` (heal every cut, no more drops, duplicates, reordering or lost
 * snapshots; a hand-driven world starts delivering by itself), restart the crashed nodes, then run
 * until a leader commits a new proposal. Throws a `liveness` violation when that takes more than
 * `timeout` virtual milliseconds. `onEvent` is called after every scheduled thing that ran.
 */
export function awaitLiveness(world: World, timeout: number, onEvent?: () => void): LivenessReport {
  const healedAt = world.now;
  const deadline = healedAt + timeout;
  world.heal();
  world.calmNetwork();
  if (world.mode === 'manual') world.goAutomatic();
  for (const h of world.nodes()) if (h.status === 'down') world.restart(h.id);
  let probe: { leader: string; term: number; index: number } | null = null;
  let report: LivenessReport | null = null;
  const listener = (index: number, term: number): void => {
    if (probe !== null && report === null && probe.index === index && probe.term === term) {
      report = { healedAt, leader: probe.leader, term, committedAt: world.now, took: world.now - healedAt };
    }
  };
  world.onCommitted.push(listener);
  const every = Math.max(1, Math.floor(world.timing.heartbeat / 2));
  const tick = (): void => {
    if (report !== null) return;
    const leader = world.leader();
    if (leader !== null && (probe === null || probe.leader !== leader.id || probe.term !== leader.state!.term)) {
      const placed = world.propose(leader.id, 1);
      if (placed.accepted) probe = { leader: leader.id, term: placed.term, index: placed.lastIndex };
    }
    world.after(every, tick);
  };
  try {
    tick();
    while (report === null) {
      if (world.agenda.peekTime() > deadline || !world.runNext()) {
        const leader = world.leader();
        const p = probe as { leader: string; term: number; index: number } | null;
        if (leader === null) {
          world.fail(
            'liveness',
            `no leader elected within ${timeout} ms after the faults stopped at t=${healedAt}`,
            [],
          );
        }
        world.fail(
          'liveness',
          `leader ${leader.id} (term ${leader.state!.term}) did not commit a new proposal within ${timeout} ms after the faults stopped at t=${healedAt}` +
            (p === null ? '' : ` (last probe at (${p.term}, ${p.index}) on ${p.leader})`),
          [leader.id],
        );
      }
      onEvent?.();
    }
  } finally {
    world.onCommitted.splice(world.onCommitted.indexOf(listener), 1);
  }
  return report;
}

/** How the reads in flight settled after healing (see {@link awaitReads}). */
export interface ReadsReport {
  /** Reads that were still waiting for an answer when the wait began. */
  readonly waiting: number;
  /** Virtual time it took until none was left (0 when none waited). */
  readonly took: number;
}

/**
 * Every read is answered or refused: run `world` (which should be healed, see {@link awaitLiveness})
 * until no read issued on a node that is still in the same life waits for an answer, and throw a
 * `readAnswered` violation naming the oldest read left when that takes more than `timeout` virtual
 * milliseconds. Then check that every answered index is in the committed record. Reads whose node
 * crashed or was shut down are counted as lost, not waited for.
 */
export function awaitReads(world: World, timeout: number, onEvent?: () => void): ReadsReport {
  const start = world.now;
  const deadline = start + timeout;
  const waiting = world.reads.unresolved().length;
  let left = waiting;
  while (left > 0) {
    if (world.agenda.peekTime() > deadline || !world.runNext()) {
      const r = world.reads.unresolved()[0];
      if (r === undefined) break;
      world.fail(
        'readAnswered',
        `read ${r.id}, issued on ${r.node} at t=${r.issuedAt} ms (event ${r.issuedEvent}), was neither answered ` +
          `nor refused within ${timeout} ms after the faults stopped, though ${r.node} stayed up`,
        [r.node],
      );
    }
    onEvent?.();
    left = world.reads.unresolved().length;
  }
  world.reads.checkAnswersCommitted();
  return { waiting, took: waiting === 0 ? 0 : world.now - start };
}
