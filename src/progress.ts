/**
 * The leader's view of its followers: for every other member of the latest configuration, the
 * highest log index known to be replicated there (its match index).
 *
 * Peers live in arrays aligned with a sorted member list, so that the hot paths update one slot of
 * a copied array instead of rebuilding a keyed record.
 */
import { allMembers, type ClusterConfig } from './config.js';

/**
 * Replication progress kept by a leader.
 *
 * - `peers`: every member of the latest configuration except the leader, sorted.
 * - `match`: `match[k]` is the match index of `peers[k]`; 0 until the peer first acknowledges. It
 *   never decreases within one leadership.
 * - `voterSlots` / `newVoterSlots`: for each voter of the old and of the new voter set, where its
 *   match index lives: `-1` for the leader itself, else a slot of `match`. Derived from the
 *   configuration, kept so that commit counting does no lookups.
 */
export interface LeaderProgress {
  readonly peers: readonly string[];
  readonly match: readonly number[];
  readonly voterSlots: readonly number[];
  readonly newVoterSlots: readonly number[];
}

/** The one constructor of {@link LeaderProgress}. */
export function makeProgress(
  peers: readonly string[],
  match: readonly number[],
  voterSlots: readonly number[],
  newVoterSlots: readonly number[],
): LeaderProgress {
  return { peers, match, voterSlots, newVoterSlots };
}

/**
 * Progress for the latest configuration. Peers that were already tracked keep their match index
 * (a member that stays across a configuration change keeps its progress); new peers start at 0;
 * peers no longer in the configuration are dropped.
 */
export function progressFor(config: ClusterConfig, selfId: string, previous: LeaderProgress | null): LeaderProgress {
  const peers = allMembers(config).filter((id) => id !== selfId);
  const match = peers.map((id) => {
    if (previous === null) return 0;
    const k = previous.peers.indexOf(id);
    return k < 0 ? 0 : previous.match[k]!;
  });
  const slotOf = (id: string): number => (id === selfId ? -1 : peers.indexOf(id));
  return makeProgress(peers, match, config.voters.map(slotOf), config.newVoters.map(slotOf));
}

/** The slot of `id` in `progress`, or -1 when the leader does not track it. */
export function slotOf(progress: LeaderProgress, id: string): number {
  const peers = progress.peers;
  for (let k = 0; k < peers.length; k++) if (peers[k] === id) return k;
  return -1;
}

/** `progress` with the match index of slot `k` set to `index`. */
export function withMatch(progress: LeaderProgress, k: number, index: number): LeaderProgress {
  const match = progress.match.slice();
  match[k] = index;
  return makeProgress(progress.peers, match, progress.voterSlots, progress.newVoterSlots);
}
