/**
 * The inspector under the timeline: the selected event as recorded (raw JSON) and in words, the
 * actions its step returned, what it changed in each node's state (the timeline's difference
 * between the point before and this one, down to the values that differ), and the messages it sent
 * and delivered.
 */
import { h, type ComponentChild } from 'preact';
import { describeAction, describeEvent, messageLabel, shortJson, valueChanges } from '../model/format.js';
import type { FlightMessage } from '../model/messages.js';
import type { NodeDiff } from '../../timetravel/index.js';
import type { PointData } from './point.js';

/** A titled panel. */
function panel(title: string, cls: string, ...children: ComponentChild[]): ComponentChild {
  return h('section', { class: `panel ${cls}` }, h('h3', null, title), ...children);
}

/** The raw event, as recorded, and its place in the run. */
function eventPanel(data: PointData, length: number): ComponentChild {
  const e = data.event;
  if (e === null) {
    return panel(
      'Event',
      'event-panel',
      h('p', { class: 'muted' }, `Point 0: before the first event (${length} events in all).`),
    );
  }
  const raw = JSON.stringify(e, null, 1);
  return panel(
    `Event ${data.point}`,
    'event-panel',
    h('p', { class: 'event-what' }, describeEvent(e), h('span', { class: 'muted' }, ` · t = ${data.time} ms`)),
    ...data.notes.map((n) => h('p', { class: n.startsWith('VIOLATION') ? 'note violation-note' : 'note' }, n)),
    h('pre', { class: 'raw-event' }, raw.length > 6000 ? `${raw.slice(0, 6000)}\n…` : raw),
  );
}

/** The actions of the step. */
function actionsPanel(data: PointData): ComponentChild {
  const list = data.actions;
  return panel(
    `Actions (${list.length})`,
    'actions-panel',
    list.length === 0
      ? h('p', { class: 'muted' }, data.event === null ? '—' : 'none')
      : h('ol', { class: 'actions' }, ...list.map((a) => h('li', null, h('code', null, describeAction(a))))),
  );
}

/** One node's changes. */
function nodeChanges(d: NodeDiff): ComponentChild {
  const rows: ComponentChild[] = [];
  if (d.status !== null) {
    rows.push(h('tr', null, h('td', null, 'status'), h('td', null, d.status.before), h('td', null, d.status.after)));
  }
  for (const f of d.fields) {
    for (const c of valueChanges(f)) {
      rows.push(
        h(
          'tr',
          null,
          h('td', null, c.path),
          h('td', { class: 'before' }, c.before),
          h('td', { class: 'after' }, c.after),
        ),
      );
    }
  }
  return h(
    'div',
    { class: 'node-diff', 'data-node': d.id },
    h('h4', null, d.id),
    h(
      'table',
      null,
      h('thead', null, h('tr', null, h('th', null, 'field'), h('th', null, 'before'), h('th', null, 'after'))),
      h('tbody', null, ...rows),
    ),
  );
}

/** What the event changed: `diff(point - 1, point)`. */
function changesPanel(data: PointData): ComponentChild {
  const d = data.diff;
  if (d === null) return panel('Changes', 'changes-panel', h('p', { class: 'muted' }, '—'));
  return panel(
    `Changes ${d.from} → ${d.to}`,
    'changes-panel',
    d.nodes.length === 0 ? h('p', { class: 'muted' }, 'no node changed') : null,
    ...d.nodes.map(nodeChanges),
  );
}

/** A message in a line. */
function messageLine(m: FlightMessage): ComponentChild {
  const what = m.message === null ? `snapshot ≤${m.snapshot?.index ?? '?'}` : shortJson(m.message, 110);
  return h(
    'li',
    { class: `fate-${m.fate}` },
    `${messageLabel(m.type)} ${m.from}→${m.to} [${m.fate}] `,
    h('code', null, what),
  );
}

/** The messages the event sent and delivered, and how many are in flight. */
function messagesPanel(data: PointData): ComponentChild {
  const byFate = new Map<string, number>();
  for (const m of data.flights) byFate.set(m.fate, (byFate.get(m.fate) ?? 0) + 1);
  const summary = [...byFate].map(([f, n]) => `${n} ${f}`).join(', ') || 'none';
  return panel(
    'Messages',
    'messages-panel',
    h('p', null, `In flight here: ${summary}.`),
    data.delivered.length > 0 ? h('p', { class: 'sub' }, 'Delivered by this event:') : null,
    data.delivered.length > 0 ? h('ul', null, ...data.delivered.map(messageLine)) : null,
    data.sent.length > 0 ? h('p', { class: 'sub' }, 'Sent by this event:') : null,
    data.sent.length > 0 ? h('ul', null, ...data.sent.map(messageLine)) : null,
  );
}

/** The inspector: event, actions, changes, messages. */
export function Inspector(props: { data: PointData; length: number }): ComponentChild {
  const { data, length } = props;
  return h(
    'div',
    { class: 'inspector' },
    eventPanel(data, length),
    actionsPanel(data),
    changesPanel(data),
    messagesPanel(data),
  );
}
