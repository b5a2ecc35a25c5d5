/**
 * Requests of a host that wait for its node to reach some state: a membership change (until the
 * new configuration is committed) and a leadership transfer (until the target leads). The host
 * checks every waiter after every step (./host.ts); a waiter settles its promise once, and says so.
 *
 * This module imports only the core and the host's own modules, and runs in browsers.
 */
import {
  commitStatus,
  configsEqual,
  isJoint,
  latestConfig,
  latestConfigIndex,
  leaderHint,
  toJointConsensus,
  withNonVoters,
  type ClusterConfig,
  type RaftEvent,
  type RaftState,
} from '../index.js';
import type { MembershipChange } from './api.js';
import { HostError } from './errors.js';
import { overwritten } from './proposals.js';

/** A request waiting for the node to reach some state. */
export interface Waiter {
  /** Look at the node after a step (`event` was stepped); true when settled. */
  check(state: RaftState, event: RaftEvent): boolean;
  /** Reject the request (the host stopped). */
  reject(e: unknown): void;
}

/**
 * The configuration to propose for `change` on a leader whose latest configuration is `current`:
 * voters through a joint configuration, non-voters directly. Throws a RangeError when the change
 * would leave no voters.
 */
export function proposedConfig(current: ClusterConfig, change: MembershipChange): ClusterConfig {
  let config = current;
  const addVoters = change.addVoters ?? [];
  const removeVoters = change.removeVoters ?? [];
  if (addVoters.length > 0 || removeVoters.length > 0) config = toJointConsensus(config, addVoters, removeVoters);
  const addNonVoters = change.addNonVoters ?? [];
  const removeNonVoters = change.removeNonVoters ?? [];
  if (addNonVoters.length > 0 || removeNonVoters.length > 0) {
    config = withNonVoters(config, addNonVoters, removeNonVoters);
  }
  return config;
}

/**
 * A waiter for the configuration `proposed`, taken by the node at `position`: resolved with the
 * final configuration once it (the joint configuration's successor, for a voter change) is the
 * latest one and committed; rejected `overwritten` when the entry at `position` will never commit.
 * `done` is called when it settles (to forget it).
 */
export function configWaiter(
  proposed: ClusterConfig,
  position: { term: number; index: number },
  resolve: (config: ClusterConfig) => void,
  reject: (e: Error) => void,
  done: (w: Waiter) => void,
): Waiter {
  const target: ClusterConfig = isJoint(proposed)
    ? { voters: proposed.newVoters, newVoters: [], nonVoters: proposed.nonVoters }
    : proposed;
  const waiter: Waiter = {
    check: (state) => {
      const status = commitStatus(state, position);
      if (status === 'rejected') {
        done(waiter);
        reject(overwritten(position, leaderHint(state)));
        return true;
      }
      if (status === 'inProgress') return false;
      const latest = latestConfig(state);
      if (!configsEqual(latest, target) || latestConfigIndex(state) > state.commitIndex) return false;
      done(waiter);
      resolve(latest);
      return true;
    },
    reject,
  };
  return waiter;
}

/**
 * A waiter for a leadership transfer to `to`, started by the leader of `term`: resolved when this
 * node hears from `to` as the leader of a later term; rejected `abandoned` when another node leads a
 * later term, or the transfer ended with this node still leading. `done` is called when it settles.
 */
export function transferWaiter(
  term: number,
  to: string,
  resolve: () => void,
  reject: (e: Error) => void,
  done: (w: Waiter) => void,
): Waiter {
  const waiter: Waiter = {
    check: (state, event) => {
      let outcome: 'won' | 'lost' | null = null;
      if (event.type === 'appendEntries' && event.term > term) outcome = event.from === to ? 'won' : 'lost';
      else if (state.role === 'leader' && state.term === term && state.lead.transferTo === null) outcome = 'lost';
      else if (state.role === 'leader' && state.term > term) outcome = 'lost';
      if (outcome === null) return false;
      done(waiter);
      if (outcome === 'won') resolve();
      else
        reject(
          new HostError('abandoned', `the leadership transfer to ${to} ended without it leading`, leaderHint(state)),
        );
      return true;
    },
    reject,
  };
  return waiter;
}
