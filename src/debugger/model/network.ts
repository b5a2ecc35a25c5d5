/**
 * Partitions and slow nodes of a simulator run. A trace records what every node stepped, not what
 * the network did; but a simulator run is deterministic, so the debugger runs it again from the
 * header's options (in a worker, while the page is already usable) and listens to the world's own
 * calls that cut, heal and slow the network (`cut`, `healCut`, `heal`, `setSlow`, `clearSlow`,
 * `calmNetwork`), and to its happenings in words. The run again must be the run recorded: the same
 * number of events and every node's final fingerprint equal to the trace's end line; otherwise (a
 * run made with a custom step or application, a host's trace without options) nothing is shown.
 */
import { hashState } from '../../sim/hash.js';
import { Simulation } from '../../sim/simulator.js';
import type { Happening } from '../../sim/stats.js';
import type { TraceEnd, TraceHeader } from '../../sim/trace.js';

/** Links cut from point `from` until point `to` (null: still cut when the run ended). */
export interface CutSpan {
  /** The point the cut was made at (the number of events before it). */
  readonly from: number;
  /** The point it healed at, or null. */
  readonly to: number | null;
  /** The cut links, as [sender, receiver]: messages from the first to the second are stopped. */
  readonly links: readonly (readonly [string, string])[];
}

/** A node slow (a bounded incoming queue, each message handled slowly) from `from` until `to`. */
export interface SlowSpan {
  /** The node. */
  readonly node: string;
  /** The point it became slow at. */
  readonly from: number;
  /** The point it was no longer slow (null: still slow when the run ended). */
  readonly to: number | null;
}

/** What the network did during a run. */
export interface NetworkHistory {
  /** Every cut, in the order made. */
  readonly cuts: readonly CutSpan[];
  /** Every slow episode, in the order begun. */
  readonly slow: readonly SlowSpan[];
  /** The world's happenings in words (elections, partitions, crashes, ...), in order. */
  readonly happenings: readonly Happening[];
}

/** The outcome of running a trace's simulation again. */
export type NetworkReplay =
  { readonly ok: true; readonly history: NetworkHistory } | { readonly ok: false; readonly reason: string };

/** Spans while they are recorded: open ones have `to` null. */
type Open<T> = { -readonly [K in keyof T]: T[K] };

/** `"a>b"` as [a, b]. */
function linkPair(link: string): readonly [string, string] {
  const k = link.indexOf('>');
  return [link.slice(0, k), link.slice(k + 1)];
}

/** Wrap the world's network calls of `sim` to record cuts and slow episodes into `cuts` and `slow`. */
function listen(sim: Simulation, cuts: Open<CutSpan>[], slow: Open<SlowSpan>[]): void {
  const w = sim.world;
  const open = new Map<readonly string[], Open<CutSpan>>();
  const closeSlow = (node: string | null): void => {
    for (const s of slow) if (s.to === null && (node === null || s.node === node)) s.to = w.events;
  };
  const [cut, healCut, heal] = [w.cut.bind(w), w.healCut.bind(w), w.heal.bind(w)];
  const [setSlow, clearSlow, calmNetwork] = [w.setSlow.bind(w), w.clearSlow.bind(w), w.calmNetwork.bind(w)];
  w.cut = (a, b, oneWay) => {
    const links = cut(a, b, oneWay);
    const span: Open<CutSpan> = { from: w.events, to: null, links: links.map(linkPair) };
    cuts.push(span);
    open.set(links, span);
    return links;
  };
  w.healCut = (links) => {
    healCut(links);
    const span = open.get(links);
    if (span !== undefined) span.to = w.events;
    open.delete(links);
  };
  w.heal = () => {
    heal();
    for (const span of open.values()) span.to = w.events;
    open.clear();
  };
  w.setSlow = (id, capacity) => {
    setSlow(id, capacity);
    slow.push({ node: id, from: w.events, to: null });
  };
  w.clearSlow = (id) => {
    clearSlow(id);
    closeSlow(id);
  };
  w.calmNetwork = () => {
    calmNetwork();
    closeSlow(null);
  };
}

/** Why the run again is not the recorded run, or null when it is. */
function mismatch(sim: Simulation, events: number, end: TraceEnd): string | null {
  if (events !== end.events) return `the run again had ${events} events, the trace ${end.events}`;
  const nodes = sim.world.nodes();
  if (nodes.length !== Object.keys(end.hashes).length) return 'the run again had other nodes than the trace';
  for (const h of nodes) {
    if (hashState(h.state) !== end.hashes[h.id]) return `${h.id} ended in another state than in the trace`;
  }
  return null;
}

/**
 * Run the simulation of a trace (its header and end line) again and return what its network did,
 * or why that cannot be known (see the module comment).
 */
export function replayNetwork(header: TraceHeader, end: TraceEnd | null): NetworkReplay {
  if (header.options === null) return { ok: false, reason: 'the trace was not recorded by a simulation' };
  if (end === null) return { ok: false, reason: 'the trace has no end line' };
  const cuts: Open<CutSpan>[] = [];
  const slow: Open<SlowSpan>[] = [];
  const happenings: Happening[] = [];
  let sim: Simulation;
  let events: number;
  try {
    sim = new Simulation({ ...header.options, record: false }, { onHappening: (h) => happenings.push(h) });
    listen(sim, cuts, slow);
    events = sim.run().summary.events;
  } catch (err) {
    return {
      ok: false,
      reason: `the simulation failed to run again: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  const problem = mismatch(sim, events, end);
  if (problem !== null) return { ok: false, reason: `${problem} (a custom step or application?)` };
  return { ok: true, history: { cuts, slow, happenings } };
}

/** The cuts in force at point `p`. */
export function cutsAt(history: NetworkHistory, p: number): CutSpan[] {
  return history.cuts.filter((c) => c.from <= p && (c.to === null || p < c.to));
}

/** The nodes cut off from some other node (either way) at point `p`, with the nodes they cannot reach or hear. */
export function partitionedAt(history: NetworkHistory, p: number): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const add = (a: string, b: string): void => {
    const set = out.get(a);
    if (set === undefined) out.set(a, new Set([b]));
    else set.add(b);
  };
  for (const c of cutsAt(history, p)) {
    for (const [from, to] of c.links) {
      add(from, to);
      add(to, from);
    }
  }
  return out;
}

/**
 * The nodes a partition leaves on the wrong side: those cut from at least half of the other nodes
 * the cuts touch (in a split, both sides; when one node is isolated, that node only).
 */
export function partitionedNodes(cutFrom: ReadonlyMap<string, ReadonlySet<string>>): Set<string> {
  const others = cutFrom.size - 1;
  return new Set([...cutFrom].filter(([, from]) => from.size * 2 >= others).map(([id]) => id));
}

/** The nodes slow at point `p`. */
export function slowAt(history: NetworkHistory, p: number): Set<string> {
  const out = new Set<string>();
  for (const s of history.slow) if (s.from <= p && (s.to === null || p < s.to)) out.add(s.node);
  return out;
}

/** The points where the network changed (a cut made or healed, a node slow or no longer), ascending. */
export function networkFaultPoints(history: NetworkHistory): number[] {
  const points = new Set<number>();
  for (const s of [...history.cuts, ...history.slow]) {
    points.add(s.from);
    if (s.to !== null) points.add(s.to);
  }
  return [...points].sort((a, b) => a - b);
}
