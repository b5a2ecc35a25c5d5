/**
 * The timeline's lanes, drawn on a canvas: a row of markers (leader changes, faults, configuration
 * changes, the violation), then one lane per node — its phase over time as coloured spans, a tick
 * where its term changed, a small tick where its commit index rose. Everything comes from the lanes
 * the scan precomputed; a redraw walks only what the visible window holds, at most one tick per
 * pixel column, and happens when the window or the width changes, never on a step (the cursor is
 * a separate element).
 */
import { h, type ComponentChild } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { MARKER_KINDS, type MarkerKind } from '../model/markers.js';
import type { TraceModel } from '../model/model.js';
import { firstAtOrAbove, lastAtOrBelow } from '../model/search.js';
import type { NodeLane } from '../model/lanes.js';
import { MARKER_COLORS, PHASE_COLORS } from './colors.js';

/** The visible part of the timeline: points `from..to`. */
export interface LaneWindow {
  readonly from: number;
  readonly to: number;
}

const MARKER_ROW = 18;
const ROW = 14;
const GAP = 2;

/** The x of point `p` in a canvas `width` wide showing `w`. */
function xOf(p: number, w: LaneWindow, width: number): number {
  return ((p - w.from) / Math.max(1, w.to - w.from)) * width;
}

/** The point under x in a canvas `width` wide showing `w`. */
export function pointAt(x: number, w: LaneWindow, width: number): number {
  return Math.round(w.from + (x / Math.max(1, width)) * (w.to - w.from));
}

/** Draw ticks at `points` (ascending) within `w`, at most one per pixel column. */
function ticks(
  ctx: CanvasRenderingContext2D,
  points: readonly number[],
  w: LaneWindow,
  width: number,
  y: number,
  height: number,
  tickWidth = 1,
): void {
  let k = firstAtOrAbove(points, w.from);
  if (k < 0) return;
  let lastX = -1;
  for (; k < points.length && points[k]! <= w.to; k++) {
    const x = Math.floor(xOf(points[k]!, w, width));
    if (x === lastX) continue;
    lastX = x;
    ctx.fillRect(x, y, tickWidth, height);
  }
}

/** Draw one node's lane at `y`. */
function drawLane(ctx: CanvasRenderingContext2D, lane: NodeLane, w: LaneWindow, width: number, y: number): void {
  const start = Math.max(0, lastAtOrBelow(lane.phaseAt, w.from));
  for (let k = start; k < lane.phaseAt.length && lane.phaseAt[k]! <= w.to; k++) {
    const phase = lane.phases[k]!;
    if (phase === 'notStarted') continue;
    const x0 = xOf(Math.max(w.from, lane.phaseAt[k]!), w, width);
    const end = k + 1 < lane.phaseAt.length ? lane.phaseAt[k + 1]! : w.to + 1;
    const x1 = xOf(Math.min(w.to + 1, end), w, width);
    ctx.fillStyle = PHASE_COLORS[phase];
    ctx.fillRect(x0, y, Math.max(1, x1 - x0), ROW);
  }
  ctx.fillStyle = 'rgba(0,0,0,0.65)';
  ticks(ctx, lane.termAt, w, width, y, ROW);
  ctx.fillStyle = '#1d4f91';
  ticks(ctx, lane.commitAt, w, width, y + ROW - 3, 3);
}

/** Draw the whole picture: markers, then lanes. */
function draw(canvas: HTMLCanvasElement, model: TraceModel, w: LaneWindow, width: number): void {
  const dpr = window.devicePixelRatio || 1;
  const height = MARKER_ROW + model.scan.lanes.length * (ROW + GAP);
  canvas.width = Math.round(width * dpr);
  canvas.height = Math.round(height * dpr);
  canvas.style.height = `${height}px`;
  const ctx = canvas.getContext('2d');
  if (ctx === null) return;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const kinds: MarkerKind[] = MARKER_KINDS.filter((k) => k !== 'commit');
  for (const kind of kinds) {
    ctx.fillStyle = MARKER_COLORS[kind];
    ticks(
      ctx,
      model.markers[kind],
      w,
      width,
      kind === 'violation' ? 0 : 4,
      kind === 'violation' ? MARKER_ROW : 10,
      kind === 'violation' ? 3 : 1,
    );
  }
  model.scan.lanes.forEach((lane, i) => drawLane(ctx, lane, w, width, MARKER_ROW + i * (ROW + GAP)));
}

/** The canvas element's width in CSS pixels, followed as it resizes. */
function useWidth(ref: { current: HTMLElement | null }): number {
  const [width, setWidth] = useState(0);
  useEffect(() => {
    const el = ref.current;
    if (el === null) return;
    const observer = new ResizeObserver(() => setWidth(el.clientWidth));
    observer.observe(el);
    setWidth(el.clientWidth);
    return () => observer.disconnect();
  }, [ref]);
  return width;
}

/** What the lanes need. */
export interface LanesProps {
  readonly model: TraceModel;
  readonly point: number;
  readonly window: LaneWindow;
  /** Go to a point (a click or drag on the lanes). */
  readonly onSeek: (p: number) => void;
  /** Zoom by `factor` (below 1: in) around point `at`. */
  readonly onZoom: (factor: number, at: number) => void;
}

/** The lanes with their labels, the cursor, and seeking by click or drag, zoom by wheel. */
export function Lanes(props: LanesProps): ComponentChild {
  const { model, point, window: w } = props;
  const box = useRef<HTMLDivElement>(null);
  const canvas = useRef<HTMLCanvasElement>(null);
  const width = useWidth(box);
  useEffect(() => {
    if (canvas.current !== null && width > 0) draw(canvas.current, model, w, width);
  }, [model, w.from, w.to, width]);
  const seekAt = (e: PointerEvent): void => {
    const rect = (e.currentTarget as HTMLElement).getBoundingClientRect();
    props.onSeek(Math.min(model.scan.length, Math.max(0, pointAt(e.clientX - rect.left, w, rect.width))));
  };
  const inside = point >= w.from && point <= w.to;
  return h(
    'div',
    { class: 'lanes' },
    h(
      'div',
      { class: 'lane-labels' },
      h('div', { class: 'lane-label markers-label', style: { height: `${MARKER_ROW}px` } }, 'marks'),
      ...model.scan.lanes.map((l) =>
        h('div', { class: 'lane-label', style: { height: `${ROW}px`, marginBottom: `${GAP}px` } }, l.id),
      ),
    ),
    h(
      'div',
      {
        class: 'lane-canvas',
        ref: box,
        onPointerDown: (e: PointerEvent) => {
          (e.currentTarget as HTMLElement).setPointerCapture(e.pointerId);
          seekAt(e);
        },
        onPointerMove: (e: PointerEvent) => {
          if (e.buttons === 1) seekAt(e);
        },
        onWheel: (e: WheelEvent) => {
          e.preventDefault();
          const rect = (e.currentTarget as HTMLElement).getBoundingClientRect();
          props.onZoom(e.deltaY > 0 ? 1.25 : 0.8, pointAt(e.clientX - rect.left, w, rect.width));
        },
      },
      h('canvas', { ref: canvas, class: 'lanes-canvas' }),
      inside ? h('div', { class: 'lane-cursor', style: { left: `${xOf(point, w, width)}px` } }) : null,
    ),
  );
}
