/**
 * A Redux action log as a time-travel recording: a store's run of raftstep nodes explored with
 * `createTimeline` (`raftstep/timetravel`) like a simulated or a host's run — every node's state
 * after any action, differences between two points, the first action where a predicate holds.
 *
 * This module imports only types of the recording format, so the Redux entry does not load time
 * travel (or immer) unless the application does.
 */
import type { UnknownAction } from '@reduxjs/toolkit';
import type { NodeOptions, PersistedState, RaftEvent, RaftState } from '../index.js';
import type { Lifecycle, RecordedEvent, Recording } from '../timetravel/recording.js';
import type { RaftSliceState } from './slice.js';

/** What {@link recordingFromActions} needs beside the actions. */
export interface ActionRecordingOptions {
  /**
   * The raft slice's state when the log starts: `slice.getInitialState()` for a store created
   * without preloaded state, or the preloaded (or rehydrated) slice state. Its nodes are the
   * recording's initial states.
   */
  readonly initial: RaftSliceState;
  /** The slice's name (the prefix of its action types). Default `'raft'`. */
  readonly name?: string;
  /**
   * The slice's node options (`createRaftSlice({options})`), which `started` and `restarted` fall
   * back to as the slice's reducer does. Default: raftstep's defaults.
   */
  readonly options?: Partial<NodeOptions>;
  /**
   * The action type whose `payload[name].nodes` replaces the nodes' states (redux-persist's
   * rehydration: each node becomes a `load`). Default `'persist/REHYDRATE'`.
   */
  readonly rehydrateActionType?: string;
}

/**
 * The recording of a raft slice's action log (the actions a store was sent, in order, e.g. from
 * `createActionRecorder`): each action that changes a node becomes what the slice's reducer does
 * with it — `stepped` a step, `proposed` a `propose` of as many commands, `started` and `restarted`
 * the lifecycle changes `start` and `restart` (with the options the reducer would use), `stopped` a
 * `shutdown`, a rehydration a `load` of each node it holds. Actions for a node the slice does not
 * hold at that point change nothing in the reducer and are left out, as are the runner's
 * bookkeeping (`effectsTaken`, `applied`) and every other action. Each event's `time` is its
 * position in the log. Never throws; the timeline checks what it replays.
 */
export function recordingFromActions(actions: readonly UnknownAction[], o: ActionRecordingOptions): Recording {
  const name = o.name ?? 'raft';
  const rehydrate = o.rehydrateActionType ?? 'persist/REHYDRATE';
  const nodes = new Map<string, NodeOptions | Partial<NodeOptions> | undefined>();
  const initial: Record<string, RaftState | null> = {};
  for (const [id, state] of Object.entries(o.initial.nodes)) {
    initial[id] = state;
    nodes.set(id, state.options);
  }
  const events: RecordedEvent[] = [];
  actions.forEach((action, time) => {
    if (action.type === rehydrate) {
      for (const [id, state] of Object.entries(rehydratedNodes(action, name))) {
        nodes.set(id, state.options);
        events.push({ node: id, lifecycle: { type: 'load', state }, time });
      }
      return;
    }
    if (!action.type.startsWith(`${name}/`)) return;
    const p = (action.payload ?? {}) as { node?: unknown };
    if (typeof p.node !== 'string') return;
    const node = p.node;
    const recorded = recordedOf(action.type.slice(name.length + 1), node, p, nodes, o.options);
    if (recorded !== null) events.push({ node, ...recorded, time });
  });
  for (const e of events) if (!(e.node in initial)) initial[e.node] = null; // not running at first
  return { initial, events, time: 0 };
}

/** What one slice action does to `node` (null: nothing), keeping `nodes` (running node -> options) up to date. */
function recordedOf(
  kind: string,
  node: string,
  payload: object,
  nodes: Map<string, NodeOptions | Partial<NodeOptions> | undefined>,
  sliceOptions: Partial<NodeOptions> | undefined,
): { event: RaftEvent } | { lifecycle: Lifecycle } | null {
  const running = nodes.has(node);
  switch (kind) {
    case 'stepped':
      return running ? { event: (payload as { event: RaftEvent }).event } : null;
    case 'proposed': {
      if (!running) return null;
      const commands = (payload as { commands?: unknown }).commands;
      return { event: { type: 'propose', count: Array.isArray(commands) ? commands.length : Number.NaN } };
    }
    case 'started': {
      if (running) return null;
      const options = (payload as { options?: Partial<NodeOptions> }).options ?? sliceOptions;
      nodes.set(node, options);
      return { lifecycle: options === undefined ? { type: 'start' } : { type: 'start', options } };
    }
    case 'restarted': {
      const given = (payload as { persisted: PersistedState }).persisted;
      const options = given.options ?? nodes.get(node) ?? sliceOptions;
      const persisted: PersistedState = { ...given, id: node, ...(options === undefined ? {} : { options }) };
      nodes.set(node, options);
      return { lifecycle: { type: 'restart', persisted } };
    }
    case 'stopped':
      if (!running) return null;
      nodes.delete(node);
      return { lifecycle: { type: 'shutdown' } };
    default:
      return null;
  }
}

/** The node states a rehydration action carries for the slice `name` (none when it carries none). */
function rehydratedNodes(action: UnknownAction, name: string): Record<string, RaftState> {
  const payload = action.payload as Record<string, unknown> | undefined;
  const slice = payload?.[name] as { nodes?: Record<string, RaftState> } | undefined;
  return slice?.nodes ?? {};
}
