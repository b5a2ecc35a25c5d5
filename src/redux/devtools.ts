/**
 * Redux DevTools for raft slices: sanitizers that keep the state view readable (each node's
 * twenty-nine metrics counters folded away, options shown only where they differ from the
 * defaults) and long command lists short. They change only what DevTools shows and records, never
 * the store.
 *
 * ```ts
 * configureStore({ reducer, middleware, devTools: raftDevTools(raft) });
 * ```
 *
 * DevTools replays with the store's own reducer, so jumping to any action works as usual; pause the
 * effects runner while you jump (see ./runner.ts).
 */
import type { UnknownAction } from '@reduxjs/toolkit';
import { DEFAULT_OPTIONS, METRIC_NAMES, type NodeOptions, type RaftState } from '../index.js';
import type { RaftSliceState } from './slice.js';

/** Options of the sanitizers; every field is optional. */
export interface RaftDevToolsOptions {
  /**
   * How each node's metrics are shown: `'hidden'` (default: a short note instead of the counters),
   * `'nonZero'` (only the counters above zero) or `'all'`.
   */
  metrics?: 'hidden' | 'nonZero' | 'all';
  /** The most commands shown of a `proposed` or `applied` action; the rest are counted. Default 10. */
  commands?: number;
}

/** What {@link raftDevTools} returns: spread it into (or pass it as) `configureStore`'s `devTools`. */
export interface RaftDevToolsConfig {
  /** Rewrites the state DevTools shows (see {@link raftStateSanitizer}). */
  stateSanitizer: <S>(state: S, index?: number) => S;
  /** Rewrites the actions DevTools shows (see {@link raftActionSanitizer}). */
  actionSanitizer: <A extends UnknownAction>(action: A, id?: number) => A;
}

/** The part of a slice the sanitizers need: where it is mounted and its action types' prefix. */
export interface RaftSliceLocation {
  /** The slice's key in the root state. */
  readonly reducerPath: string;
  /** The slice's name (the prefix of its action types). */
  readonly name: string;
}

/** The sanitizers of every slice in `slices`, for `configureStore({ devTools: raftDevTools(raft) })`. */
export function raftDevTools(
  slices: RaftSliceLocation | readonly RaftSliceLocation[],
  options: RaftDevToolsOptions = {},
): RaftDevToolsConfig {
  return {
    stateSanitizer: raftStateSanitizer(slices, options),
    actionSanitizer: raftActionSanitizer(slices, options),
  };
}

/**
 * A DevTools `stateSanitizer`: the root state with each raft slice's nodes shown folded (metrics
 * per `options.metrics`, `options` as the differences from `DEFAULT_OPTIONS` or `'default'`).
 * Anything that is not a raft slice state is left as it is.
 */
export function raftStateSanitizer(
  slices: RaftSliceLocation | readonly RaftSliceLocation[],
  options: RaftDevToolsOptions = {},
): <S>(state: S, index?: number) => S {
  const paths = listOf(slices).map((s) => s.reducerPath);
  const metrics = options.metrics ?? 'hidden';
  return <S>(state: S): S => {
    if (typeof state !== 'object' || state === null) return state;
    const root = state as Record<string, unknown>;
    let out: Record<string, unknown> | null = null;
    for (const path of paths) {
      const slice = root[path];
      if (!isRaftSliceState(slice)) continue;
      out ??= { ...root };
      const nodes: Record<string, unknown> = {};
      for (const id of Object.keys(slice.nodes)) nodes[id] = foldNode(slice.nodes[id]!, metrics);
      out[path] = { ...slice, nodes };
    }
    return (out ?? state) as S;
  };
}

/**
 * A DevTools `actionSanitizer`: `proposed` and `applied` actions of the slices with at most
 * `options.commands` commands shown (the rest replaced by a count); other actions as they are.
 */
export function raftActionSanitizer(
  slices: RaftSliceLocation | readonly RaftSliceLocation[],
  options: RaftDevToolsOptions = {},
): <A extends UnknownAction>(action: A, id?: number) => A {
  const types = new Set(listOf(slices).flatMap((s) => [`${s.name}/proposed`, `${s.name}/applied`]));
  const limit = options.commands ?? 10;
  return <A extends UnknownAction>(action: A): A => {
    if (!types.has(action.type)) return action;
    const payload = action.payload as { commands?: unknown } | undefined;
    const commands = payload?.commands;
    if (!Array.isArray(commands) || commands.length <= limit) return action;
    const shown: unknown[] = commands.slice(0, limit);
    shown.push(`… ${commands.length - limit} more`);
    return { ...action, payload: { ...payload, commands: shown } };
  };
}

function listOf(slices: RaftSliceLocation | readonly RaftSliceLocation[]): readonly RaftSliceLocation[] {
  return isList(slices) ? slices : [slices];
}

function isList(x: RaftSliceLocation | readonly RaftSliceLocation[]): x is readonly RaftSliceLocation[] {
  return Array.isArray(x);
}

function isRaftSliceState(x: unknown): x is RaftSliceState {
  return typeof x === 'object' && x !== null && typeof (x as { nodes?: unknown }).nodes === 'object';
}

/** A node as DevTools shows it. */
function foldNode(node: RaftState, metrics: 'hidden' | 'nonZero' | 'all'): unknown {
  if (typeof node !== 'object' || node === null) return node;
  let shownMetrics: unknown = node.metrics;
  if (metrics === 'hidden') {
    let nonZero = 0;
    for (const name of METRIC_NAMES) if (node.metrics[name] !== 0) nonZero++;
    shownMetrics = `${METRIC_NAMES.length} counters hidden (${nonZero} above zero)`;
  } else if (metrics === 'nonZero') {
    const m: Record<string, number> = {};
    for (const name of METRIC_NAMES) if (node.metrics[name] !== 0) m[name] = node.metrics[name];
    shownMetrics = m;
  }
  return { ...node, options: foldOptions(node.options), metrics: shownMetrics };
}

/** `'default'`, or the options that differ from the defaults. */
function foldOptions(options: NodeOptions): unknown {
  const diff: Record<string, unknown> = {};
  let any = false;
  for (const key of Object.keys(DEFAULT_OPTIONS) as (keyof NodeOptions)[]) {
    if (options[key] !== DEFAULT_OPTIONS[key]) {
      diff[key] = options[key];
      any = true;
    }
  }
  return any ? diff : 'default';
}
