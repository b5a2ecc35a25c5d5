/**
 * The timeline's controls: step back and forward one event, play and pause, the slider, a box to go
 * to an event, jumps to the next or previous leader change, commit, fault, configuration change or
 * violation, zoom — and the keyboard shortcuts that do the same.
 */
import { h, type ComponentChild } from 'preact';
import { MARKER_KINDS, type MarkerKind } from '../model/markers.js';

/** Something the user asked for. */
export type Command =
  | { readonly kind: 'step'; readonly by: number }
  | { readonly kind: 'edge'; readonly to: 'start' | 'end' }
  | { readonly kind: 'jump'; readonly marker: MarkerKind; readonly direction: 1 | -1 }
  | { readonly kind: 'play' }
  | { readonly kind: 'zoom'; readonly factor: number };

/** The key of each marker kind (lower case: next; with Shift: previous). */
export const JUMP_KEYS: Readonly<Record<MarkerKind, string>> = {
  leader: 'l',
  commit: 'c',
  fault: 'f',
  config: 'g',
  violation: 'v',
};

/** How the page names each marker kind. */
export const MARKER_NAMES: Readonly<Record<MarkerKind, string>> = {
  leader: 'leader change',
  commit: 'commit',
  fault: 'fault',
  config: 'config change',
  violation: 'violation',
};

/** The command of a key press, or null when the key means nothing here. */
export function commandForKey(e: {
  readonly key: string;
  readonly shiftKey: boolean;
  readonly ctrlKey: boolean;
  readonly metaKey: boolean;
  readonly altKey: boolean;
}): Command | null {
  if (e.ctrlKey || e.metaKey || e.altKey) return null;
  switch (e.key) {
    case 'ArrowRight':
      return { kind: 'step', by: e.shiftKey ? 10 : 1 };
    case 'ArrowLeft':
      return { kind: 'step', by: e.shiftKey ? -10 : -1 };
    case 'PageDown':
      return { kind: 'step', by: 100 };
    case 'PageUp':
      return { kind: 'step', by: -100 };
    case 'Home':
      return { kind: 'edge', to: 'start' };
    case 'End':
      return { kind: 'edge', to: 'end' };
    case ' ':
      return { kind: 'play' };
    case '+':
    case '=':
      return { kind: 'zoom', factor: 0.5 };
    case '-':
      return { kind: 'zoom', factor: 2 };
    case '0':
      return { kind: 'zoom', factor: Infinity };
  }
  for (const kind of MARKER_KINDS) {
    if (e.key.toLowerCase() === JUMP_KEYS[kind]) return { kind: 'jump', marker: kind, direction: e.shiftKey ? -1 : 1 };
  }
  return null;
}

/** What the controls show and do. */
export interface ControlsProps {
  readonly point: number;
  readonly length: number;
  readonly playing: boolean;
  readonly speed: number;
  /** How many points of each kind the run has. */
  readonly counts: Readonly<Record<MarkerKind, number>>;
  readonly run: (c: Command) => void;
  readonly seek: (p: number) => void;
  readonly setSpeed: (eventsPerSecond: number) => void;
}

/** A button that runs a command. */
function button(label: string, title: string, run: () => void, attrs: Record<string, string> = {}): ComponentChild {
  return h('button', { type: 'button', title, onClick: run, ...attrs }, label);
}

/** The jump buttons of one marker kind. */
function jumpGroup(kind: MarkerKind, props: ControlsProps): ComponentChild {
  const key = JUMP_KEYS[kind];
  const n = props.counts[kind];
  const jump = (direction: 1 | -1) => () => props.run({ kind: 'jump', marker: kind, direction });
  return h(
    'span',
    { class: `jump jump-${kind}`, title: `${n} in the run` },
    button('◀', `previous ${MARKER_NAMES[kind]} (Shift+${key.toUpperCase()})`, jump(-1), {
      'data-jump': kind,
      'data-dir': '-1',
    }),
    h('span', { class: 'jump-name' }, `${MARKER_NAMES[kind]} `, h('small', null, `(${n})`)),
    button('▶', `next ${MARKER_NAMES[kind]} (${key.toUpperCase()})`, jump(1), { 'data-jump': kind, 'data-dir': '1' }),
  );
}

/** The controls. */
export function Controls(props: ControlsProps): ComponentChild {
  const { point, length, playing, run } = props;
  return h(
    'div',
    { class: 'controls' },
    h(
      'div',
      { class: 'control-row' },
      button('|◀', 'first point (Home)', () => run({ kind: 'edge', to: 'start' }), { 'data-action': 'start' }),
      button('◀', 'back one event (←; Shift+← ten)', () => run({ kind: 'step', by: -1 }), { 'data-action': 'back' }),
      button(playing ? 'Pause' : 'Play', 'play or pause (Space)', () => run({ kind: 'play' }), {
        'data-action': 'play',
      }),
      button('▶', 'forward one event (→; Shift+→ ten)', () => run({ kind: 'step', by: 1 }), {
        'data-action': 'forward',
      }),
      button('▶|', 'last point (End)', () => run({ kind: 'edge', to: 'end' }), { 'data-action': 'end' }),
      h('input', {
        id: 'slider',
        type: 'range',
        min: 0,
        max: length,
        value: point,
        onInput: (e: Event) => props.seek(Number((e.currentTarget as HTMLInputElement).value)),
      }),
      h('span', { id: 'point', 'data-point': String(point) }, `${point}`),
      h('span', { class: 'muted' }, ` / ${length}`),
      h('input', {
        id: 'goto',
        type: 'number',
        min: 0,
        max: length,
        placeholder: 'go to event',
        onChange: (e: Event) => {
          const el = e.currentTarget as HTMLInputElement;
          if (el.value !== '') props.seek(Number(el.value));
        },
      }),
      h(
        'select',
        {
          title: 'playing speed',
          value: String(props.speed),
          onChange: (e: Event) => props.setSpeed(Number((e.currentTarget as HTMLSelectElement).value)),
        },
        ...[2, 10, 50, 250, 1000].map((s) => h('option', { value: String(s) }, `${s} events/s`)),
      ),
      button('−', 'zoom out (-)', () => run({ kind: 'zoom', factor: 2 })),
      button('+', 'zoom in (+)', () => run({ kind: 'zoom', factor: 0.5 })),
      button('all', 'whole run (0)', () => run({ kind: 'zoom', factor: Infinity })),
    ),
    h(
      'div',
      { class: 'control-row jumps' },
      h('span', { class: 'muted' }, 'Jump to: '),
      ...MARKER_KINDS.map((k) => jumpGroup(k, props)),
    ),
  );
}
