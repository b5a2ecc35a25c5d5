/**
 * Mutants: deliberately broken versions of `step`, each wrapping the real one, to show that the
 * simulator's checks can fail (`npm run sim -- --mutant votesWithoutLogCheck`) and to test checks
 * of your own. A run with a mutant records it in its options, so its trace replays with it.
 */
import { followerMatchIndex, latestConfig, step, type Action, type RaftEvent, type RaftState } from '../index.js';
import { actionRank } from '../actions.js';
import type { Stepper } from './plugins.js';

/** The names of the mutants. */
export type MutantName = 'votesWithoutLogCheck' | 'commitsOnAMinority' | 'winsWithOneVote' | 'believesStaleReplies';

const byRank = (a: Action, b: Action): number => actionRank(a) - actionRank(b);

/** The highest log index an event may carry (2^53 - 2: one more must still be a safe integer). */
const HIGHEST_INDEX = Number.MAX_SAFE_INTEGER - 1;

/** Grants votes (and pre-votes) without the log check: every candidate looks as up to date as can be. */
const votesWithoutLogCheck: Stepper = (s, e) =>
  e.type === 'requestVote' || e.type === 'preVote'
    ? step(s, { ...e, lastTerm: e.term, lastIndex: HIGHEST_INDEX })
    : step(s, e);

/** A leader that commits what one follower acknowledged (a minority). */
const commitsOnAMinority: Stepper = (s, e) => {
  const [after, actions] = step(s, e);
  if (after.role !== 'leader' || e.type !== 'appendEntriesReply') return [after, actions];
  const index = Math.min(followerMatchIndex(after, e.from) ?? 0, after.log.lastIndex);
  if (index <= after.commitIndex) return [after, actions];
  const next: RaftState = { ...after, commitIndex: index };
  const list: Action[] = actions.filter((a) => a.type !== 'commitAdvanced');
  list.push({ type: 'commitAdvanced', commitIndex: index });
  return [next, list.sort(byRank)];
};

/** A candidate that wins at its first granted vote (it forges the others). */
const winsWithOneVote: Stepper = (s, e) => {
  const [after, actions] = step(s, e);
  if (!(s.role === 'candidate' && after.role === 'candidate' && e.type === 'requestVoteReply' && e.granted)) {
    return [after, actions];
  }
  let state: RaftState = after;
  let all: Action[] = actions.slice();
  const config = latestConfig(after);
  for (const v of [...config.voters, ...config.newVoters]) {
    if (state.role !== 'candidate') break;
    const forged: RaftEvent = { type: 'requestVoteReply', from: v, term: state.term, granted: true };
    const [next, more] = step(state, forged);
    state = next;
    all = all.concat(more);
  }
  return [state, all.sort(byRank)];
};

/** A leader that believes stale AppendEntries replies: its match index for a follower goes back. */
const believesStaleReplies: Stepper = (s, e) => {
  const [after, actions] = step(s, e);
  if (s.role !== 'leader' || after.role !== 'leader' || e.type !== 'appendEntriesReply' || after.progress === null) {
    return [after, actions];
  }
  const k = after.progress.peers.indexOf(e.from);
  if (k < 0 || e.term !== after.term || e.lastIndex >= after.progress.match[k]!) return [after, actions];
  const match = after.progress.match.slice();
  match[k] = e.lastIndex;
  return [{ ...after, progress: { ...after.progress, match } }, actions];
};

/** Every mutant: what it breaks, and its step. */
export const MUTANTS: Readonly<Record<MutantName, { readonly breaks: string; readonly step: Stepper }>> = Object.freeze(
  {
    votesWithoutLogCheck: {
      breaks: 'grants votes without checking that the candidate is up to date',
      step: votesWithoutLogCheck,
    },
    commitsOnAMinority: { breaks: 'a leader commits what a single follower holds', step: commitsOnAMinority },
    winsWithOneVote: { breaks: 'a candidate becomes leader at its first vote', step: winsWithOneVote },
    believesStaleReplies: { breaks: "a leader's match index goes back on stale replies", step: believesStaleReplies },
  },
);

/** The names of every mutant. */
export const MUTANT_NAMES = Object.freeze(Object.keys(MUTANTS) as MutantName[]);

/** The step a run with these options uses: the mutant's, or the real one. */
export function stepFor(options: { readonly mutant?: MutantName | null } | null | undefined): Stepper {
  const m = options?.mutant;
  return m === undefined || m === null ? step : MUTANTS[m].step;
}
