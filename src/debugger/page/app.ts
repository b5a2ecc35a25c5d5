/**
 * The debugger page: the header, the cluster picture and node cards at the current point, the
 * timeline (controls and lanes) and the inspector. The current point is the one piece of state;
 * everything shown is computed from it and the model (`pointData`), through one timeline cursor
 * that moves one event at a time by patches.
 */
import { h, type ComponentChild } from 'preact';
import { useCallback, useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import { formatMs } from '../model/format.js';
import { PHASES } from '../model/lanes.js';
import { MARKER_KINDS, jumpTarget, type MarkerKind } from '../model/markers.js';
import { withNetwork, type TraceModel } from '../model/model.js';
import type { NetworkReplay } from '../model/network.js';
import type { SegmentCursor, SegmentedTimeline } from '../model/segments.js';
import { NodeCards } from './cards.js';
import { Cluster } from './cluster.js';
import { FATE_COLORS, MARKER_COLORS, PHASE_COLORS } from './colors.js';
import { Controls, MARKER_NAMES, commandForKey, type Command } from './controls.js';
import { Lanes, type LaneWindow } from './lanes.js';
import { Inspector } from './panels.js';
import { pointData } from './point.js';

/** What the page tells a test or a benchmark driving it (as `window.__raftstepDebugger`). */
export interface DebuggerProbe {
  /** True once the trace is loaded and the page drawn. */
  ready: boolean;
  /** Milliseconds from the page's start to the model built (fetch, parse, scan, first segment). */
  loadMs: number;
  /** Those milliseconds by phase: fetching the trace, parsing it, the one replay, the first segment's timeline. */
  phases: { fetch: number; parse: number; scan: number; segment: number };
  /** The number of events. */
  length: number;
  /** The current point. */
  point: number;
  /** For each move asked for (a key, a button, the slider): milliseconds until the page was updated. */
  stepTimes: number[];
  /** Where the network replay stands: `running`, `ok`, or why it is not available. */
  network: string;
  /** Milliseconds from the page's start until the network replay answered (0: not yet, or none). */
  networkMs: number;
  /** The error that stopped loading, if any. */
  error: string | null;
}

declare global {
  interface Window {
    __raftstepDebugger?: DebuggerProbe;
  }
}

/** The probe, made on first use. */
export function probe(): DebuggerProbe {
  window.__raftstepDebugger ??= {
    ready: false,
    loadMs: 0,
    phases: { fetch: 0, parse: 0, scan: 0, segment: 0 },
    length: 0,
    point: 0,
    stepTimes: [],
    network: 'running',
    networkMs: 0,
    error: null,
  };
  return window.__raftstepDebugger;
}

/** What the page is given once the trace is loaded. */
export interface AppProps {
  readonly model: TraceModel;
  /** The trace's file name. */
  readonly name: string;
  /** How long loading took. */
  readonly loadMs: number;
  /** The network replay under way in a worker (null: not a simulator trace). */
  readonly network: Promise<NetworkReplay> | null;
  /** The point to open at. */
  readonly initial: number;
}

/** Build, while the page is idle, the segment next to `p` when `p` is near its edge. */
function prefetch(timeline: SegmentedTimeline, p: number): void {
  const k = timeline.segmentOf(p);
  const offset = p - k * timeline.size;
  const next = offset > (timeline.size * 3) / 4 ? k + 1 : offset < timeline.size / 4 ? k - 1 : -1;
  if (next >= 0 && next < timeline.count && !timeline.isBuilt(next)) timeline.segment(next);
}

/** The window of `span` points around `p`, within `0..length`. */
function windowAround(p: number, span: number, length: number): LaneWindow {
  const s = Math.max(1, Math.min(length, Math.round(span)));
  const from = Math.max(0, Math.min(length - s, Math.round(p - s / 2)));
  return { from, to: from + s };
}

/** The header: the trace, its numbers, and the violation it ends in. */
function Header(props: {
  model: TraceModel;
  name: string;
  loadMs: number;
  network: string;
  go: (p: number) => void;
}): ComponentChild {
  const { model, name } = props;
  const h0 = model.trace.header;
  const v = model.violation;
  const m = model.scan.messages.counts;
  return h(
    'header',
    { class: 'top' },
    h(
      'div',
      { class: 'title' },
      h('strong', null, 'raftstep debugger'),
      h('span', { class: 'trace-name' }, name),
      h(
        'span',
        { class: 'muted' },
        `seed ${h0.seed} · ${model.scan.nodes.length} nodes · ${model.scan.length} events · ` +
          `${m.delivered + m.dropped + m.inFlight} messages (${m.dropped} dropped, ${m.duplicate} duplicated) · ` +
          `loaded in ${formatMs(props.loadMs)} · partitions: ${props.network}`,
      ),
    ),
    v === null
      ? null
      : h(
          'div',
          { class: 'violation-banner' },
          h('strong', null, `${v.invariant} violated at event ${v.event}`),
          ` [${v.nodes.join(', ')}]: ${v.message} `,
          h('button', { type: 'button', onClick: () => props.go(v.event), 'data-action': 'violation' }, 'show'),
        ),
  );
}

/** The legend of colours. */
function Legend(): ComponentChild {
  const swatch = (color: string, text: string): ComponentChild =>
    h('span', { class: 'swatch' }, h('i', { style: { background: color } }), text);
  return h(
    'div',
    { class: 'legend' },
    ...PHASES.filter((p) => p !== 'notStarted').map((p) => swatch(PHASE_COLORS[p], p)),
    swatch(FATE_COLORS.dropped, 'dropped'),
    swatch(FATE_COLORS.duplicate, 'duplicate'),
    swatch('#1e9e4a', 'delivered now'),
    ...MARKER_KINDS.map((k) => swatch(MARKER_COLORS[k], MARKER_NAMES[k])),
  );
}

/** The point `c` leads to from `point`, or null when it moves nothing. */
function target(model: TraceModel, point: number, c: Command): number | null {
  const length = model.scan.length;
  switch (c.kind) {
    case 'step':
      return Math.min(length, Math.max(0, point + c.by));
    case 'edge':
      return c.to === 'start' ? 0 : length;
    case 'jump': {
      const p = jumpTarget(model.markers, c.marker, point, c.direction);
      return p < 0 ? null : p;
    }
    default:
      return null;
  }
}

/** Counts of points per marker kind. */
function markerCounts(model: TraceModel): Record<MarkerKind, number> {
  const out = {} as Record<MarkerKind, number>;
  for (const k of MARKER_KINDS) out[k] = model.markers[k].length;
  return out;
}

/** Follow the network replay: the model gains partitions when it succeeds; `setStatus` says how it went. */
function useNetwork(
  replay: Promise<NetworkReplay> | null,
  setModel: (f: (m: TraceModel) => TraceModel) => void,
): string {
  const [status, setStatus] = useState(replay === null ? 'not recorded (not a simulator trace)' : 'running');
  useEffect(() => {
    if (replay === null) return;
    replay.then(
      (r) => {
        if (r.ok) {
          setModel((m) => withNetwork(m, r.history));
          setStatus(`${r.history.cuts.length} cuts, ${r.history.slow.length} slow episodes`);
        } else setStatus(`unknown (${r.reason})`);
      },
      (err: unknown) => setStatus(`unknown (${err instanceof Error ? err.message : String(err)})`),
    );
  }, [replay]);
  probe().network =
    status === 'running' ? 'running' : status.startsWith('unknown') || status.startsWith('not') ? status : 'ok';
  return status;
}

/** Step forward `speed` events per second while `playing`; stop at the end. */
function usePlayer(playing: boolean, speed: number, length: number, advance: (n: number) => void): void {
  useEffect(() => {
    if (!playing) return;
    let last = performance.now();
    let owed = 0;
    let frame = requestAnimationFrame(function tick(now: number) {
      owed += ((now - last) / 1000) * speed;
      last = now;
      const n = Math.floor(owed);
      if (n > 0) {
        owed -= n;
        advance(n);
      }
      frame = requestAnimationFrame(tick);
    });
    return () => cancelAnimationFrame(frame);
  }, [playing, speed, length]);
}

/** The page. */
export function App(props: AppProps): ComponentChild {
  const [model, setModel] = useState(props.model);
  const length = model.scan.length;
  const [point, setPoint] = useState(props.initial);
  const [playing, setPlaying] = useState(false);
  const [speed, setSpeed] = useState(50);
  const [win, setWin] = useState<LaneWindow>({ from: 0, to: length });
  const cursor = useRef<SegmentCursor | null>(null);
  cursor.current ??= model.timeline.cursor(props.initial);
  const asked = useRef(0);
  const network = useNetwork(props.network, setModel);

  const go = useCallback(
    (p: number) => {
      asked.current = performance.now();
      setPoint(Math.min(length, Math.max(0, Math.round(p))));
    },
    [length],
  );
  const data = useMemo(() => pointData(model, cursor.current!, point), [model, point]);

  useLayoutEffect(() => {
    const pr = probe();
    pr.point = point;
    if (asked.current > 0) {
      pr.stepTimes.push(performance.now() - asked.current);
      if (pr.stepTimes.length > 5000) pr.stepTimes.shift();
      asked.current = 0;
    }
  }, [data]);

  useEffect(() => {
    if (playing) return;
    const t = setTimeout(() => history.replaceState(null, '', `#${point}`), 300);
    const idle = setTimeout(() => prefetch(model.timeline, point), 120);
    return () => {
      clearTimeout(t);
      clearTimeout(idle);
    };
  }, [point, playing, model]);

  useEffect(() => {
    const onHash = (): void => {
      const p = Number(location.hash.slice(1));
      if (location.hash.length > 1 && Number.isSafeInteger(p)) go(p);
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, [go]);

  useEffect(() => {
    if (point < win.from || point > win.to) setWin(windowAround(point, win.to - win.from, length));
  }, [point]);

  // Set at once on play and pause, so that no frame already scheduled moves after a pause.
  const playingNow = useRef(false);
  playingNow.current = playing;
  usePlayer(playing, speed, length, (n) => {
    if (!playingNow.current) return;
    setPoint((p) => {
      const q = Math.min(length, p + n);
      if (q >= length) setPlaying(false);
      return q;
    });
  });

  const zoom = (factor: number, at: number): void => {
    const span = factor === Infinity ? length : (win.to - win.from) * factor;
    setWin(factor === Infinity ? { from: 0, to: length } : windowAround(at, Math.max(20, span), length));
  };
  const run = (c: Command): void => {
    if (c.kind === 'play') {
      playingNow.current = !playingNow.current && point < length;
      setPlaying(playingNow.current);
    } else if (c.kind === 'zoom') zoom(c.factor, point);
    else {
      const p = target(model, point, c);
      if (p !== null) go(p);
    }
  };
  const runRef = useRef(run);
  runRef.current = run;
  useEffect(() => {
    const onKey = (e: KeyboardEvent): void => {
      const el = e.target as HTMLElement | null;
      if (
        el !== null &&
        (el.tagName === 'SELECT' || (el.tagName === 'INPUT' && (el as HTMLInputElement).type !== 'range'))
      ) {
        return;
      }
      const c = commandForKey(e);
      if (c === null) return;
      e.preventDefault();
      runRef.current(c);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  return h(
    'div',
    { class: 'app' },
    h(Header, { model, name: props.name, loadMs: props.loadMs, network, go }),
    h(
      'div',
      { class: 'main' },
      h('div', { class: 'picture' }, h(Cluster, { nodes: model.scan.nodes, data }), h(Legend, null)),
      h(NodeCards, { nodes: model.scan.nodes, data }),
    ),
    h(
      'div',
      { class: 'timeline' },
      h(Controls, {
        point,
        length,
        playing,
        speed,
        counts: markerCounts(model),
        run,
        seek: go,
        setSpeed,
      }),
      h(Lanes, { model, point, window: win, onSeek: go, onZoom: zoom }),
      h(
        'p',
        { class: 'keys muted' },
        'Keys: ← → one event (Shift: ten), PgUp/PgDn a hundred, Home/End, Space play/pause; ' +
          'L C F G V next leader change, commit, fault, config change, violation (Shift: previous); + − 0 zoom. ' +
          'Lanes: role over time, black ticks term changes, blue ticks commits; click or drag to move, wheel to zoom.',
      ),
    ),
    h(Inspector, { data, length }),
  );
}
