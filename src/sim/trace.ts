/**
 * Traces: what a simulation recorded, how to write and read it, and how to replay it. (To look at
 * any node at any point of a trace, make a timeline of it: `createTimeline(recordingFromTrace(trace))`
 * of `raftstep/timetravel`.)
 *
 * A trace is newline-delimited JSON. The first line is a header (format, version, seed and the full
 * options of the run); then one line per event, in the order they happened, each numbered `n` from 1
 * with its virtual time `t`:
 *
 *     {"n":12,"t":40,"node":"n2","step":{...the event given to step...}}
 *     {"n":13,"t":41,"node":"n3","crash":true}
 *     {"n":14,"t":900,"node":"n3","restart":{...the persisted state given to restartNode...}}
 *     {"n":1,"t":0,"node":"n1","start":true}        (startNode)
 *     {"n":99,"t":5000,"node":"n4","shutdown":true} (a removed node was shut down)
 *
 * Every few steps of a node a checkpoint line gives the fingerprint of its state after event `check`
 * (`{"check":12,"node":"n2","hash":"1f0e33a2"}`); the last line gives every node's final
 * fingerprint, the run's summary and its violation, if any. Replaying the events through `step`
 * must reproduce every fingerprint: that is what `replayTrace` verifies.
 *
 * A hash chain runs through the file: every line after the header ends with `"h"`, the FNV-1a of the
 * line without it, seeded with the `h` of the line before (the header's own FNV-1a for the first),
 * and the end line records the last link as `chain`. `parseTrace` recomputes the chain, so an edited,
 * inserted, reordered or deleted line — a step replaced by `null`, a second end line — is refused with
 * the number of the first line where the chain breaks, even where the fingerprints (taken every few
 * steps) would not see the difference.
 */
import {
  restartNode,
  startNode,
  step as realStep,
  type NodeOptions,
  type PersistedState,
  type RaftEvent,
  type RaftState,
} from '../index.js';
import { fnv1a, hashState } from './hash.js';
import { MUTANT_NAMES, stepFor } from './mutants.js';
import { FAULT_NAMES, FEATURES, type SimOptions } from './options.js';
import type { Stepper } from './plugins.js';

/** The `format` of every trace header: what `parseTrace` expects on the first line. */
export const TRACE_FORMAT = 'raftstep-sim-trace';
/**
 * The trace format's version, written in every header. `parseTrace` reads this version only
 * (version 1 traces carry no hash chain: record the run again).
 */
export const TRACE_VERSION = 2;

/** The first line of a trace. */
export interface TraceHeader {
  /** Discriminant: always `'header'`. */
  readonly type: 'header';
  /** Always {@link TRACE_FORMAT}: a first line with another format is refused by `parseTrace`. */
  readonly format: typeof TRACE_FORMAT;
  /** The format version, {@link TRACE_VERSION} when written; `parseTrace` refuses any other. */
  readonly version: number;
  /** The seed of the run (the world's random generator); 0 by default for a trace made of host records. */
  readonly seed: number;
  /** The full options of a simulation, or null for a trace recorded by a hand-driven world. */
  readonly options: SimOptions | null;
  /** The initial nodes. */
  readonly nodes: readonly string[];
}

interface EventBase {
  /** The event number: 1 for the first event of the run, then one more for each. */
  readonly n: number;
  /** Virtual time, in virtual milliseconds. */
  readonly t: number;
  /** The node the event happened to. */
  readonly node: string;
}

/** One event of one node. */
export type TraceEvent =
  | (EventBase & {
      /** The node started fresh (`startNode`); replay starts it over, whatever it was before. */
      readonly start: true;
      /**
       * The options given to `startNode` (a simulation records the full options of its nodes);
       * absent when it was given none (a host without `options`): the defaults.
       */
      readonly options?: Partial<NodeOptions>;
    })
  | (EventBase & {
      /**
       * The event given to `step`, exactly as stepped (invalid ones included). Replay fails with an
       * error when the node is not running.
       */
      readonly step: RaftEvent;
    })
  | (EventBase & {
      /** The node restarted: the persisted state given to `restartNode` (its durable storage). */
      readonly restart: PersistedState;
    })
  | (EventBase & {
      /** The node crashed: its state is gone and it is not running until a `restart`. */
      readonly crash: true;
    })
  | (EventBase & {
      /** The node was shut down for good, removed from the cluster: it is not running. */
      readonly shutdown: true;
    });

/** The fingerprint (`hashState`) of `node`'s state right after event `check`. */
export interface TraceCheck {
  /** The number of the event after which the fingerprint was taken. */
  readonly check: number;
  /** The node whose state was fingerprinted. */
  readonly node: string;
  /** The fingerprint: 8 hex digits, or `down` for a node not running. */
  readonly hash: string;
}

/**
 * The last line: where the run ended, every node's final fingerprint, and the outcome. In a file it
 * also carries `chain`, the last link of the hash chain (see the module's header); in memory the
 * chain is not kept.
 */
export interface TraceEnd {
  /** Discriminant: always `'end'`. */
  readonly type: 'end';
  /** The number of events the run went through (the number of the last event). */
  readonly events: number;
  /** Virtual time at the end, in virtual milliseconds. */
  readonly time: number;
  /** Every node's final fingerprint (`hashState`), by node id: 8 hex digits, or `down` for a node not running. */
  readonly hashes: Readonly<Record<string, string>>;
  /** The run's numbers (a simulation writes its `SimSummary`); not checked when read. */
  readonly summary: unknown;
  /** The violation that stopped the run (a simulation writes a `Violation`), or null; not checked when read. */
  readonly violation: unknown;
}

/** A trace in memory. */
export interface Trace {
  /** The first line: format, version, seed, options and initial nodes. */
  readonly header: TraceHeader;
  /** Every event, in the order they happened, numbered from 1 without gaps. */
  readonly events: readonly TraceEvent[];
  /** The checkpoint fingerprints, in event order. */
  readonly checks: readonly TraceCheck[];
  /** The last line, or null while a run is still recording (or for a trace without one, e.g. of host records). */
  readonly end: TraceEnd | null;
}

/** Collects a trace while a world runs. */
export class TraceRecorder {
  readonly events: TraceEvent[] = [];
  readonly checks: TraceCheck[] = [];
  end: TraceEnd | null = null;

  constructor(public header: TraceHeader) {}

  trace(): Trace {
    return { header: this.header, events: this.events, checks: this.checks, end: this.end };
  }
}

/** A link of the hash chain as written: 8 hex digits. */
function link(hash: number): string {
  return hash.toString(16).padStart(8, '0');
}

/** `json` (an object's JSON) with the chain's next link appended as `"h"`; the link is `hash`. */
function chained(json: string, hash: number): string {
  return `${json.slice(0, -1)},"h":"${link(hash)}"}`;
}

/**
 * The lines of a trace (without newlines), in order: header, events with their checkpoints, end,
 * each line after the header linked into the hash chain (see the module's header).
 */
export function* traceLines(trace: Trace): Generator<string> {
  const head = JSON.stringify(trace.header);
  yield head;
  let h = fnv1a(head);
  const checks = trace.checks;
  let c = 0;
  const next = (x: object): string => {
    const json = JSON.stringify(x);
    h = fnv1a(json, h);
    return chained(json, h);
  };
  for (const e of trace.events) {
    yield next(e);
    while (c < checks.length && checks[c]!.check <= e.n) yield next(checks[c++]!);
  }
  while (c < checks.length) yield next(checks[c++]!);
  if (trace.end !== null) yield JSON.stringify({ ...trace.end, chain: link(h) });
}

/** A trace as newline-delimited JSON text. */
export function serializeTrace(trace: Trace): string {
  let out = '';
  for (const line of traceLines(trace)) out += line + '\n';
  return out;
}

/** How `parseTrace` reads: `verifyChain: false` reads a trace whose hash chain is broken (to look at it). */
export interface ParseOptions {
  readonly verifyChain?: boolean;
}

const LINK = /,"h":"([0-9a-f]{8})"\}$/;

/**
 * Read newline-delimited JSON trace text. Throws a SyntaxError naming the line of a problem: a line
 * that is not JSON or not a trace line, event numbers that do not follow one another, a second end
 * line or anything after it, and (unless `verifyChain` is false) the first line where the hash chain
 * breaks — the line itself was edited, or a line before it was deleted, inserted or moved.
 */
export function parseTrace(text: string, options: ParseOptions = {}): Trace {
  const verify = options.verifyChain !== false;
  const events: TraceEvent[] = [];
  const checks: TraceCheck[] = [];
  let header: TraceHeader | null = null;
  let end: TraceEnd | null = null;
  let h = 0;
  let lastN = 0;
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const where = `trace line ${i + 1}`;
    if (end !== null) throw new SyntaxError(`${where}: a line after the end line`);
    let x: Record<string, unknown>;
    try {
      x = JSON.parse(line) as Record<string, unknown>;
    } catch (err) {
      throw new SyntaxError(`${where}: ${(err as Error).message}`, { cause: err });
    }
    if (typeof x !== 'object' || x === null || Array.isArray(x)) throw new SyntaxError(`${where}: not a trace line`);
    if (header === null) {
      if (x.type !== 'header' || x.format !== TRACE_FORMAT) {
        throw new SyntaxError(`${where}: expected a ${TRACE_FORMAT} header`);
      }
      if (x.version !== TRACE_VERSION) {
        const old = x.version === 1 ? ' (version 1 traces carry no hash chain: record the run again)' : '';
        throw new SyntaxError(`trace version ${String(x.version)} is not supported${old}`);
      }
      const problem = headerProblem(x);
      if (problem !== null) throw new SyntaxError(`${where}: ${problem}`);
      header = x as unknown as TraceHeader;
      h = fnv1a(line);
      continue;
    }
    if (x.type === 'end') {
      if (verify && x.chain !== link(h)) {
        throw new SyntaxError(`${where}: the end line's chain ${String(x.chain)} is not the last link ${link(h)}`);
      }
      const { chain: _chain, ...rest } = x;
      end = rest as unknown as TraceEnd;
      continue;
    }
    const m = LINK.exec(line);
    if (m === null) throw new SyntaxError(`${where}: no hash chain link ("h") at the end of the line`);
    h = fnv1a(line.slice(0, m.index) + '}', h);
    if (verify && m[1] !== link(h)) {
      throw new SyntaxError(
        `${where}: the hash chain breaks here (this line was edited, or a line before it was deleted, inserted or moved)`,
      );
    }
    const { h: _h, ...rest } = x;
    if (typeof rest.check === 'number') {
      checks.push(rest as unknown as TraceCheck);
    } else if (typeof rest.n === 'number' && typeof rest.node === 'string') {
      if (!('step' in rest || 'start' in rest || 'restart' in rest || 'crash' in rest || 'shutdown' in rest)) {
        throw new SyntaxError(`${where}: unknown event`);
      }
      if (rest.n !== lastN + 1) {
        throw new SyntaxError(
          `${where}: event ${rest.n} follows event ${lastN} (events are numbered one after another)`,
        );
      }
      lastN = rest.n;
      events.push(rest as unknown as TraceEvent);
    } else {
      throw new SyntaxError(`${where}: not a trace line`);
    }
  }
  if (header === null) throw new SyntaxError('empty trace');
  return { header, events, checks, end };
}

/** What is wrong with a header line's fields (beyond its format and version), or null. */
function headerProblem(x: Record<string, unknown>): string | null {
  if (typeof x.seed !== 'number') return 'the header has no numeric seed';
  if (!Array.isArray(x.nodes) || !x.nodes.every((n) => typeof n === 'string')) {
    return 'the header has no list of nodes';
  }
  const o = x.options;
  if (o === null) return null;
  if (typeof o !== 'object' || Array.isArray(o)) return 'options must be an object or null';
  const options = o as Record<string, unknown>;
  const faults = options.faults;
  if (!Array.isArray(faults)) return 'options.faults must be a list of fault names';
  for (const f of faults) {
    if (!(FAULT_NAMES as readonly unknown[]).includes(f))
      return `options.faults names an unknown fault ${JSON.stringify(f)}`;
  }
  const mutant = options.mutant;
  if (mutant !== undefined && mutant !== null && !(MUTANT_NAMES as readonly unknown[]).includes(mutant)) {
    return `options.mutant ${JSON.stringify(mutant)} is not a known mutant (known: ${MUTANT_NAMES.join(', ')})`;
  }
  if (typeof options.nodes !== 'number') return 'options.nodes must be a number';
  const features = options.features;
  if (features !== undefined && !(FEATURES as readonly unknown[]).includes(features)) {
    return `options.features ${JSON.stringify(features)} is not one of ${FEATURES.join(', ')}`;
  }
  return null;
}

/** The state of a node after `e`, given its state before (`null`: not running). */
export function applyTraceEvent(state: RaftState | null, e: TraceEvent, stepper: Stepper = realStep): RaftState | null {
  if ('step' in e) {
    if (state === null) throw new Error(`event ${e.n}: ${e.node} stepped while not running`);
    return stepper(state, e.step)[0];
  }
  if ('start' in e) return startNode(e.node, e.options)[0];
  if ('restart' in e) return restartNode(e.restart)[0];
  return null;
}

/** A difference between a replay and what the trace recorded. */
export interface ReplayMismatch {
  /** The event after which the states differ (the last event for the end line). */
  readonly n: number;
  /** The node whose state differs. */
  readonly node: string;
  /** The fingerprint the trace recorded. */
  readonly expected: string;
  /** The fingerprint of the replayed state (`down` for a node not running). */
  readonly actual: string;
}

/** What a replay found. */
export interface ReplayReport {
  /** True when every recorded fingerprint was reproduced. */
  readonly ok: boolean;
  /** The number of events in the trace (all of them, even when an `error` stopped the replay early). */
  readonly events: number;
  /** Every node the replay met, in the order of their first event. */
  readonly nodes: readonly string[];
  /** How many fingerprints were compared (checkpoints and the end line). */
  readonly compared: number;
  /** Every fingerprint that differed, in the order compared; empty when all matched. */
  readonly mismatches: readonly ReplayMismatch[];
  /** Every node's state after the last event (null: not running). */
  readonly states: ReadonlyMap<string, RaftState | null>;
  /** A problem that stopped the replay (a step on a node that was not running, ...). */
  readonly error: string | null;
}

/**
 * Replay every event of `trace` through `step` (or `stepper`, for a trace recorded with a custom
 * step; a run with a mutant replays with it by default) and compare each recorded fingerprint with
 * the replayed state's.
 */
export function replayTrace(trace: Trace, stepper: Stepper = stepFor(trace.header.options)): ReplayReport {
  const states = new Map<string, RaftState | null>();
  const mismatches: ReplayMismatch[] = [];
  const checks = trace.checks;
  let c = 0;
  let compared = 0;
  let error: string | null = null;
  const compare = (n: number, node: string, expected: string): void => {
    compared++;
    const actual = hashState(states.get(node) ?? null);
    if (actual !== expected) mismatches.push({ n, node, expected, actual });
  };
  let last = 0;
  try {
    for (const e of trace.events) {
      states.set(e.node, applyTraceEvent(states.get(e.node) ?? null, e, stepper));
      last = e.n;
      while (c < checks.length && checks[c]!.check <= e.n) {
        const k = checks[c++]!;
        compare(k.check, k.node, k.hash);
      }
    }
    if (trace.end !== null) {
      for (const [node, hash] of Object.entries(trace.end.hashes)) compare(last, node, hash);
    }
  } catch (err) {
    error = err instanceof Error ? err.message : String(err);
  }
  return {
    ok: error === null && mismatches.length === 0,
    events: trace.events.length,
    nodes: [...states.keys()],
    compared,
    mismatches,
    states,
    error,
  };
}
