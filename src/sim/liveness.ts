/**
 * Liveness: once the faults stop and the network heals, a leader is elected and a new proposal
 * commits within a bounded virtual time.
 */
import type { World } from './world.js';

/** How liveness was established after healing. */
export interface LivenessReport {
  /** Virtual time at which the faults stopped and the network healed. */
  readonly healedAt: number;
  /** The leader whose proposal committed, its term, and when. */
  readonly leader: string;
  readonly term: number;
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
