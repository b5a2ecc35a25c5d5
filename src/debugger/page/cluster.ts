/**
 * The cluster at one point, in SVG: every node on a circle (coloured by role, ringed when it is cut
 * off, marked when it crashed, is slow, is held back by flow control, or is one the violation
 * names), the links a partition cuts, and the messages in flight as arrows with a dot where the
 * message is on its way (dropped ones crossed out, duplicates in orange, the one this event delivered
 * in green).
 */
import { h, type ComponentChild } from 'preact';
import type { NodeView } from '../../timetravel/index.js';
import { messageLabel } from '../model/format.js';
import { phaseOf, type Phase } from '../model/lanes.js';
import type { FlightMessage } from '../model/messages.js';
import { FATE_COLORS, PHASE_COLORS, messageColor } from './colors.js';
import type { PointData } from './point.js';

/** A point in the picture. */
interface XY {
  readonly x: number;
  readonly y: number;
}

const WIDTH = 520;
const HEIGHT = 430;
const CENTER: XY = { x: WIDTH / 2, y: HEIGHT / 2 };

/** The radius of a node's circle when there are `n` nodes. */
function nodeRadius(n: number): number {
  return n <= 7 ? 26 : n <= 12 ? 21 : 16;
}

/** Where each node sits: on a circle, in the timeline's order (stable over the whole run). */
export function layout(nodes: readonly string[]): Map<string, XY> {
  const r = Math.min(WIDTH, HEIGHT) / 2 - 46;
  const out = new Map<string, XY>();
  nodes.forEach((id, i) => {
    const a = -Math.PI / 2 + (2 * Math.PI * i) / Math.max(1, nodes.length);
    out.set(id, { x: CENTER.x + r * Math.cos(a), y: CENTER.y + r * Math.sin(a) });
  });
  return out;
}

/** The two ends of an arrow from `a` to `b`, off the circles and shifted to the side of its direction. */
function arrowEnds(a: XY, b: XY, radius: number): { from: XY; to: XY } {
  const dx = b.x - a.x;
  const dy = b.y - a.y;
  const len = Math.max(1, Math.hypot(dx, dy));
  const ux = dx / len;
  const uy = dy / len;
  const side = 5; // messages each way travel side by side
  const ox = -uy * side;
  const oy = ux * side;
  return {
    from: { x: a.x + ux * (radius + 2) + ox, y: a.y + uy * (radius + 2) + oy },
    to: { x: b.x - ux * (radius + 6) + ox, y: b.y - uy * (radius + 6) + oy },
  };
}

/** How far along its way message `m` is at time `now` (0: just sent; 1: arriving). */
function progress(m: FlightMessage, now: number): number {
  if (m.fate === 'dropped') return 0.5;
  const span = m.fate === 'inFlight' ? 10 : m.deliveredTime - m.sentTime;
  if (!(span > 0)) return 0.5;
  return Math.min(0.92, Math.max(0.08, (now - m.sentTime) / span));
}

/** The arrow of one message. */
function arrow(
  m: FlightMessage,
  ends: { from: XY; to: XY },
  now: number,
  arriving: boolean,
  label: boolean,
): ComponentChild {
  const f = arriving ? 1 : progress(m, now);
  const at = { x: ends.from.x + (ends.to.x - ends.from.x) * f, y: ends.from.y + (ends.to.y - ends.from.y) * f };
  const color = arriving ? '#1e9e4a' : FATE_COLORS[m.fate];
  const cls = `msg msg-${arriving ? 'arriving' : m.fate}`;
  const title = `${m.type} ${m.from} → ${m.to}: ${arriving ? 'delivered by this event' : m.fate} (sent at event ${m.sent})`;
  return h(
    'g',
    { class: cls, 'data-from': m.from, 'data-to': m.to, 'data-fate': arriving ? 'arriving' : m.fate },
    h('title', null, title),
    h('line', {
      x1: ends.from.x,
      y1: ends.from.y,
      x2: ends.to.x,
      y2: ends.to.y,
      stroke: color,
      'stroke-width': arriving ? 2.5 : 1.2,
      'stroke-dasharray':
        m.fate === 'dropped' || m.fate === 'inFlight' ? '4 3' : m.fate === 'duplicate' ? '2 2' : undefined,
      'marker-end': `url(#head-${arriving ? 'arriving' : m.fate})`,
    }),
    m.fate === 'dropped' && !arriving
      ? h('text', { x: at.x, y: at.y + 4, class: 'drop-x', fill: color }, '✕')
      : h('circle', { cx: at.x, cy: at.y, r: 4, fill: messageColor(m.type), stroke: 'white', 'stroke-width': 1 }),
    label || arriving
      ? h(
          'text',
          { x: at.x + 6, y: at.y - 5, class: 'msg-label' },
          messageLabel(m.type) + (m.fate === 'duplicate' ? ' ×2' : ''),
        )
      : null,
  );
}

/** The arrow heads, one per kind of arrow. */
function defs(): ComponentChild {
  const head = (id: string, color: string): ComponentChild =>
    h(
      'marker',
      { id: `head-${id}`, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 6, markerHeight: 6, orient: 'auto' },
      h('path', { d: 'M0,0 L10,5 L0,10 z', fill: color }),
    );
  return h('defs', null, ...Object.entries(FATE_COLORS).map(([k, c]) => head(k, c)), head('arriving', '#1e9e4a'));
}

/** The badges drawn under a node: why it is special at this point. */
export function nodeBadges(id: string, data: PointData, phase: Phase): string[] {
  const out: string[] = [];
  if (data.highlighted.has(id)) out.push('violation');
  if (phase === 'crashed') out.push('crashed');
  if (phase === 'halted') out.push('halted');
  if (data.partitioned.has(id)) out.push('partitioned');
  if (data.slow.has(id)) out.push('slow');
  if (data.paused.has(id)) out.push('paused');
  return out;
}

/** One node: its circle, id, role and term, and badges. */
function nodeGlyph(view: NodeView, data: PointData, at: XY, radius: number): ComponentChild {
  const state = data.record.nodes[view.id] ?? null;
  const phase = phaseOf(view.status, state);
  const absent = phase === 'notStarted' || phase === 'shutdown';
  const badges = nodeBadges(view.id, data, phase);
  const shown = badges.filter((b) => b !== 'crashed'); // the role under the circle says crashed already
  const classes = ['node', `phase-${phase}`, ...badges.map((b) => `is-${b}`)];
  if (data.event?.node === view.id) classes.push('is-stepping');
  const role = view.role === null ? phase : view.role === 'preCandidate' ? 'pre-cand.' : view.role;
  const cut = data.cutFrom.get(view.id);
  const title = `${view.id}: ${phase}${view.term === null ? '' : `, term ${view.term}`}${
    cut === undefined ? '' : `, cut off from ${[...cut].sort().join(' ')}`
  }`;
  return h(
    'g',
    { class: classes.join(' '), 'data-node': view.id, opacity: absent ? 0.35 : 1 },
    h('title', null, title),
    data.highlighted.has(view.id)
      ? h('circle', { cx: at.x, cy: at.y, r: radius + 7, class: 'violation-ring', fill: 'none' })
      : null,
    data.partitioned.has(view.id)
      ? h('circle', { cx: at.x, cy: at.y, r: radius + 4, class: 'partition-ring', fill: 'none' })
      : null,
    h('circle', {
      cx: at.x,
      cy: at.y,
      r: radius,
      fill: PHASE_COLORS[phase],
      class: 'node-circle',
      'stroke-dasharray': absent ? '3 3' : undefined,
    }),
    phase === 'crashed' ? h('text', { x: at.x, y: at.y + 10, class: 'crash-x' }, '✕') : null,
    h('text', { x: at.x, y: at.y - 2, class: 'node-id' }, view.id),
    h('text', { x: at.x, y: at.y + 11, class: 'node-term' }, view.term === null ? '' : `T${view.term}`),
    h('text', { x: at.x, y: at.y + radius + 13, class: 'node-role' }, absent ? phase : role),
    shown.length > 0 ? h('text', { x: at.x, y: at.y + radius + 25, class: 'node-badges' }, shown.join(' · ')) : null,
  );
}

/** The cut links, one dashed red line per pair of nodes cut apart (either way). */
function cutLines(data: PointData, where: ReadonlyMap<string, XY>): ComponentChild[] {
  const seen = new Set<string>();
  const out: ComponentChild[] = [];
  for (const c of data.cuts) {
    for (const [a, b] of c.links) {
      const key = a < b ? `${a}|${b}` : `${b}|${a}`;
      const pa = where.get(a);
      const pb = where.get(b);
      if (seen.has(key) || pa === undefined || pb === undefined) continue;
      seen.add(key);
      out.push(h('line', { x1: pa.x, y1: pa.y, x2: pb.x, y2: pb.y, class: 'cut-link' }));
    }
  }
  return out;
}

/** The cluster picture at one point. */
export function Cluster(props: { nodes: readonly string[]; data: PointData }): ComponentChild {
  const { nodes, data } = props;
  const where = layout(nodes);
  const radius = nodeRadius(nodes.length);
  const arriving = new Set(data.delivered.map((m) => m.id));
  const flights = data.flights.filter((m) => !arriving.has(m.id));
  const label = flights.length <= 14;
  const arrows = [...flights.map((m) => [m, false] as const), ...data.delivered.map((m) => [m, true] as const)];
  return h(
    'svg',
    { class: 'cluster', viewBox: `0 0 ${WIDTH} ${HEIGHT}`, role: 'img', 'aria-label': 'the cluster' },
    defs(),
    ...cutLines(data, where),
    ...arrows.map(([m, isArriving]) => {
      const a = where.get(m.from);
      const b = where.get(m.to);
      return a === undefined || b === undefined
        ? null
        : arrow(m, arrowEnds(a, b, radius), data.time, isArriving, label);
    }),
    ...nodes.map((id) => nodeGlyph(data.view.nodes[id]!, data, where.get(id)!, radius)),
  );
}
