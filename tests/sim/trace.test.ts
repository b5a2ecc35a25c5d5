/**
 * Record, replay and time travel: a trace replays through `step` to the very states the run had,
 * tampering is detected, and the state of any node after any event comes back without re-running.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { step, type RaftState } from '../../src/index.js';
import { createTimeline, recordingFromTrace } from '../../src/timetravel/index.js';
import {
  FAULT_NAMES,
  applyTraceEvent,
  hashState,
  parseTrace,
  replayTrace,
  serializeTrace,
  simulate,
  type Trace,
  type World,
} from '../../src/sim/index.js';
import { readTraceFile, writeTraceFile } from '../../src/sim/trace-file.js';
import { fnv1a } from '../../src/sim/hash.js';

/** A run that also keeps every node's state after every event (the ground truth for time travel). */
function recordedRun(
  seed: number,
  steps: number,
): { trace: Trace; truth: Map<number, Map<string, RaftState | null>>; world: World } {
  const truth = new Map<number, Map<string, RaftState | null>>();
  const r = simulate(
    { seed, steps, checkpointEvery: 16 },
    {
      invariants: [
        (w) => {
          const states = new Map<string, RaftState | null>();
          for (const h of w.nodes()) states.set(h.id, h.state);
          truth.set(w.events, states);
          return null;
        },
      ],
    },
  );
  expect(r.violation).toBeNull();
  return { trace: r.trace!, truth, world: r.world };
}

describe('traces', () => {
  const { trace, truth, world } = recordedRun(21, 3000);

  test('the header holds the seed and the full options; events are numbered 1, 2, 3, ...', () => {
    expect(trace.header.seed).toBe(21);
    expect(trace.header.options?.steps).toBe(3000);
    expect(trace.header.options?.faults).toEqual(FAULT_NAMES);
    expect(trace.header.nodes).toEqual(['n1', 'n2', 'n3', 'n4', 'n5']);
    trace.events.forEach((e, i) => expect(e.n).toBe(i + 1));
    expect(trace.end?.events).toBe(trace.events.length);
    expect(trace.checks.length).toBeGreaterThan(50);
  });

  test('serialize and parse are inverse; the text is one JSON value per line', () => {
    const text = serializeTrace(trace);
    const lines = text.trimEnd().split('\n');
    expect(lines.length).toBe(1 + trace.events.length + trace.checks.length + 1);
    for (const line of lines.slice(0, 50)) expect(() => JSON.parse(line) as unknown).not.toThrow();
    const back = parseTrace(text);
    expect(back).toEqual(JSON.parse(JSON.stringify(trace)));
  });

  test('replaying through step reproduces every recorded fingerprint and every final state', () => {
    const report = replayTrace(parseTrace(serializeTrace(trace)));
    expect(report.error).toBeNull();
    expect(report.mismatches).toEqual([]);
    expect(report.ok).toBe(true);
    expect(report.compared).toBe(trace.checks.length + Object.keys(trace.end!.hashes).length);
    for (const h of world.nodes()) expect(report.states.get(h.id) ?? null).toEqual(h.state);
  });

  test('a tampered trace is detected', () => {
    const text = serializeTrace(trace);
    // Form the cluster with another voter set: every later state differs.
    // (Read without the hash chain's check, which refuses the edit outright: see below.)
    const edited = text.replace('"voters":["n1","n2","n3","n4","n5"]', '"voters":["n1","n2","n3","n4"]');
    expect(() => parseTrace(edited)).toThrow('the hash chain breaks here');
    const tampered = parseTrace(edited, { verifyChain: false });
    const report = replayTrace(tampered);
    expect(report.ok).toBe(false);
    expect(report.mismatches.length).toBeGreaterThan(0);
    // And a trace replayed with another step function differs too.
    const other = replayTrace(trace, (s, e) => (e.type === 'timeout' ? [s, []] : step(s, e)));
    expect(other.ok).toBe(false);
  });

  test('time travel gives the state of any node after any event, as the run had it', () => {
    const timeline = createTimeline(recordingFromTrace(parseTrace(serializeTrace(trace))), { checkpointEvery: 32 });
    expect(timeline.nodes).toEqual(expect.arrayContaining(['n1', 'n2', 'n3', 'n4', 'n5']));
    const last = timeline.length;
    expect(last).toBe(trace.events.length);
    // In random order, so that checkpoints are used in every direction.
    const points = [last, 1, 2, 17, 999, 500, 2500, 1200, 1201, 3, last - 1, 2048, 1500, 64, 65];
    for (const n of points) {
      const expected = truth.get(n)!;
      for (const [id, state] of expected) expect(timeline.stateAt(n, id)).toEqual(state);
    }
    expect(timeline.stateAt(0, 'n1')).toBeNull();
    expect(() => timeline.stateAt(10, 'nobody')).toThrow('nobody');
    expect(timeline.event(5)).toEqual(expect.objectContaining({ node: trace.events[4]!.node }));
    expect(() => timeline.event(last + 1)).toThrow(RangeError);
    for (const [id, s] of Object.entries(timeline.statesAt(last))) expect(s).toEqual(world.node(id)!.state);
  });

  test('time travel replays the trace once, then answers any point without stepping', () => {
    let steps = 0;
    const counting = (s: RaftState, e: Parameters<typeof step>[1]): ReturnType<typeof step> => {
      steps++;
      return step(s, e);
    };
    const timeline = createTimeline({ ...recordingFromTrace(trace), step: counting }, { checkpointEvery: 50 });
    expect(steps).toBe(trace.events.filter((e) => 'step' in e).length);
    steps = 0;
    for (const at of [0.5, 0.1, 0.9, 0.3]) timeline.stateAt(Math.floor(timeline.length * at), 'n2');
    expect(steps).toBe(0);
  });

  test('trace files: written and read back', () => {
    const dir = mkdtempSync(join(tmpdir(), 'raftstep-trace-'));
    try {
      const file = join(dir, 'sub', 'run.ndjson');
      writeTraceFile(file, trace);
      expect(readFileSync(file, 'utf8')).toBe(serializeTrace(trace));
      expect(replayTrace(readTraceFile(file)).ok).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test('malformed traces are refused with the line named', () => {
    expect(() => parseTrace('')).toThrow('empty trace');
    expect(() => parseTrace('{"type":"header","format":"other"}')).toThrow('line 1');
    const header = JSON.stringify(trace.header);
    expect(() => parseTrace(`${header}\nnot json`)).toThrow('trace line 2');
    const bad = '{"n":1,"t":0,"node":"n1"}';
    expect(() => parseTrace(`${header}\n${bad}`)).toThrow('trace line 2: no hash chain link');
    const linked = `${bad.slice(0, -1)},"h":"${fnv1a(bad, fnv1a(header)).toString(16).padStart(8, '0')}"}`;
    expect(() => parseTrace(`${header}\n${linked}`)).toThrow('trace line 2: unknown event');
    expect(() => parseTrace(header.replace('"version":2', '"version":99'))).toThrow('not supported');
    expect(() => parseTrace(header.replace('"version":2', '"version":1'))).toThrow('no hash chain');
  });

  test('the hash chain finds any edit of a trace file, and names the line', () => {
    const lines = serializeTrace(trace).trimEnd().split('\n');
    const text = (ls: readonly string[]): string => ls.join('\n') + '\n';
    const stepLine = lines.findIndex((l, i) => i > 10 && l.includes('"step":'));
    // A deleted event line: the next line's link no longer follows.
    const deleted = lines.filter((_, i) => i !== stepLine);
    expect(() => parseTrace(text(deleted))).toThrow(`trace line ${stepLine + 1}: `);
    // A step replaced by null (it would replay as a malformed event that changes nothing).
    const nulled = lines.map((l, i) => (i === stepLine ? l.replace(/"step":\{.*\},"h"/, '"step":null,"h"') : l));
    expect(nulled[stepLine]).toContain('"step":null');
    expect(() => parseTrace(text(nulled))).toThrow(`trace line ${stepLine + 1}: the hash chain breaks here`);
    // A second end line, or anything after the end.
    expect(() => parseTrace(text([...lines, lines[lines.length - 1]!]))).toThrow(
      `trace line ${lines.length + 1}: a line after the end line`,
    );
    // Two lines swapped.
    const swapped = lines.slice();
    [swapped[stepLine], swapped[stepLine + 1]] = [swapped[stepLine + 1]!, swapped[stepLine]!];
    expect(() => parseTrace(text(swapped))).toThrow(`trace line ${stepLine + 1}: `);
    // An edited checkpoint line, and an edited end line.
    const checkLine = lines.findIndex((l) => l.startsWith('{"check":'));
    const edit = lines.map((l, i) => (i === checkLine ? l.replace(/"hash":"[0-9a-f]{8}"/, '"hash":"00000000"') : l));
    expect(() => parseTrace(text(edit))).toThrow(`trace line ${checkLine + 1}: the hash chain breaks here`);
    const endEdit = lines.map((l, i) =>
      i === lines.length - 1 ? l.replace(/"chain":"[0-9a-f]{8}"/, '"chain":"00000000"') : l,
    );
    expect(() => parseTrace(text(endEdit))).toThrow(`trace line ${lines.length}: the end line's chain`);
    // The untouched file reads and replays.
    expect(replayTrace(parseTrace(text(lines))).ok).toBe(true);
  });

  test('applyTraceEvent: a step on a node that is not running is an error', () => {
    expect(() => applyTraceEvent(null, { n: 1, t: 0, node: 'n1', step: { type: 'timeout' } })).toThrow('not running');
    expect(applyTraceEvent(null, { n: 1, t: 0, node: 'n1', start: true })?.id).toBe('n1');
    expect(hashState(null)).toBe('down');
  });
});
