/**
 * One card per running (or crashed) node at the point: role, term, vote, commit index, last entry,
 * the leader it believes in, its badges, and its log drawn compressed (the snapshot boundary, runs
 * of equal term, configuration entries, the commit index).
 */
import { h, type ComponentChild } from 'preact';
import type { RaftState } from '../../index.js';
import type { NodeView } from '../../timetravel/index.js';
import { logPicture, type LogPicture, type LogRun } from '../model/log-picture.js';
import { phaseOf } from '../model/lanes.js';
import { nodeBadges } from './cluster.js';
import { PHASE_COLORS } from './colors.js';
import type { PointData } from './point.js';

/** A hue for a term, so that equal terms look alike across nodes. */
function termColor(term: number): string {
  return `hsl(${(term * 47) % 360} 55% 78%)`;
}

/** One run of equal term in the log bar; `commit` marks the commit index when it falls inside. */
function runBlock(run: LogRun, log: LogPicture): ComponentChild {
  const count = run.last - run.first + 1;
  const inside = log.commitIndex >= run.first && log.commitIndex <= run.last;
  const committed = log.commitIndex >= run.last;
  const configs = log.configs.filter((c) => c.index >= run.first && c.index <= run.last);
  const commitAt = ((log.commitIndex - run.first + 1) / count) * 100;
  return h(
    'span',
    {
      class: `log-run${committed ? ' committed' : ''}`,
      style: { flexGrow: Math.log2(count + 1) + 1, background: termColor(run.term) },
      title: `term ${run.term}: entries ${run.first}–${run.last} (${count})`,
    },
    h(
      'span',
      { class: 'run-label' },
      `t${run.term} ${run.first === run.last ? run.first : `${run.first}–${run.last}`}`,
    ),
    ...configs.map((c) =>
      h(
        'span',
        {
          class: `log-config${c.joint ? ' joint' : ''}`,
          style: { left: `${((c.index - run.first + 0.5) / count) * 100}%` },
          title: `configuration at ${c.index}: ${c.text}`,
        },
        '◆',
      ),
    ),
    inside && !committed
      ? h('span', { class: 'log-commit', style: { left: `${commitAt}%` }, title: `commit index ${log.commitIndex}` })
      : null,
  );
}

/** A node's log, compressed. */
export function LogBar(props: { state: RaftState }): ComponentChild {
  const log = logPicture(props.state);
  const snap = log.snapshot;
  return h(
    'div',
    { class: 'log-bar', title: `log (${snap.index}..${log.lastIndex}], commit ${log.commitIndex}` },
    snap.index > 0
      ? h(
          'span',
          { class: 'log-snapshot', title: `snapshot up to ${snap.index} (term ${snap.term})` },
          `▨ ≤${snap.index}`,
        )
      : null,
    log.folded > 0 ? h('span', { class: 'log-folded', title: `${log.folded} older runs` }, `…${log.folded}`) : null,
    ...log.runs.map((r) => runBlock(r, log)),
    log.runs.length === 0 ? h('span', { class: 'log-empty' }, 'empty') : null,
  );
}

/** One field of a card. */
function field(name: string, value: string, cls: string): ComponentChild {
  return h(
    'span',
    { class: `field ${cls}-field` },
    h('span', { class: 'field-name' }, name),
    h('span', { class: cls }, value),
  );
}

/** The card of one node. */
function card(view: NodeView, data: PointData): ComponentChild {
  const state = (data.record.nodes[view.id] ?? null) as RaftState | null;
  const phase = phaseOf(view.status, state);
  const badges = nodeBadges(view.id, data, phase);
  const classes = ['node-card', ...badges.map((b) => `is-${b}`)];
  const shownBadges = badges.filter((b) => b !== 'crashed'); // the role pill says crashed already
  if (data.event?.node === view.id) classes.push('is-stepping');
  const cut = data.cutFrom.get(view.id);
  return h(
    'div',
    { class: classes.join(' '), 'data-node': view.id },
    h(
      'div',
      { class: 'card-head' },
      h('span', { class: 'card-id' }, view.id),
      h('span', { class: `role role-${phase}`, style: { background: PHASE_COLORS[phase] } }, view.role ?? phase),
      ...shownBadges.map((b) =>
        h('span', { class: `badge badge-${b}` }, b === 'paused' ? `paused by ${data.paused.get(view.id)}` : b),
      ),
    ),
    state === null
      ? h('div', { class: 'card-fields' }, field('status', view.status, 'status'))
      : h(
          'div',
          { class: 'card-fields' },
          field('term', String(state.term), 'term'),
          field('vote', state.votedFor ?? '—', 'vote'),
          field('commit', String(state.commitIndex), 'commit'),
          field('last', `${state.log.lastIndex} (t${state.log.lastTerm})`, 'last'),
          field('leader', view.leader ?? '—', 'leader'),
        ),
    state !== null && state.halted !== null ? h('div', { class: 'halted' }, `halted: ${state.halted}`) : null,
    cut !== undefined && data.partitioned.has(view.id)
      ? h('div', { class: 'cut-off' }, `cut off from ${[...cut].sort().join(' ')}`)
      : null,
    state === null ? null : h(LogBar, { state }),
  );
}

/** The cards of every node that runs or crashed at the point, then a line for the others. */
export function NodeCards(props: { nodes: readonly string[]; data: PointData }): ComponentChild {
  const { nodes, data } = props;
  const shown: NodeView[] = [];
  const others: string[] = [];
  for (const id of nodes) {
    const v = data.view.nodes[id]!;
    if (v.status === 'up' || v.status === 'crashed') shown.push(v);
    else others.push(`${id} (${v.status === 'shutdown' ? 'shut down' : 'not started'})`);
  }
  return h(
    'div',
    { class: 'cards' },
    ...shown.map((v) => card(v, data)),
    others.length > 0 ? h('div', { class: 'others' }, `Not running: ${others.join(', ')}`) : null,
  );
}
