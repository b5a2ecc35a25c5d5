/**
 * Recording and replaying a store's actions: the log that time travel and bug reports replay.
 *
 * Put the recorder last in the middleware chain (after the effects runner), so that it sees every
 * action in the order the reducer does, the runner's own included. A raft slice's reducer is pure,
 * so `replayActions(reducer, recorder.actions)` gives the store's state again, without any runner,
 * network or timer; the actions are JSON, so the log can be saved and replayed elsewhere.
 */
import type { Middleware, Reducer, UnknownAction } from '@reduxjs/toolkit';

/** A middleware that keeps every action that reaches the reducer. */
export interface ActionRecorder {
  /** The middleware: add it last, `getDefaultMiddleware().concat(effects.middleware, recorder.middleware)`. */
  readonly middleware: Middleware;
  /** The actions recorded so far, in reducer order (the array grows; copy it to keep a moment). */
  readonly actions: readonly UnknownAction[];
  /** Forget the actions recorded so far. */
  clear(): void;
}

/** Create an {@link ActionRecorder}. Functions dispatched (thunks) are not recorded; they reach no reducer. */
export function createActionRecorder(): ActionRecorder {
  let actions: UnknownAction[] = [];
  return {
    middleware: () => (next) => (action) => {
      if (typeof action === 'object' && action !== null && typeof (action as UnknownAction).type === 'string') {
        actions.push(action as UnknownAction);
      }
      return next(action);
    },
    get actions() {
      return actions;
    },
    clear() {
      actions = [];
    },
  };
}

/**
 * The state `reducer` reaches from `initial` (default: its own initial state) through `actions`, in
 * order: what a store that was sent those actions holds.
 */
export function replayActions<S>(reducer: Reducer<S>, actions: readonly UnknownAction[], initial?: S): S {
  let state = initial ?? reducer(undefined, { type: '@@raftstep/replay' });
  for (const a of actions) state = reducer(state, a);
  return state;
}
