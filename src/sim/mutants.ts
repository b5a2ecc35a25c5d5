/**
 * Mutants: deliberately broken versions of `step`, each wrapping the real one, to show that the
 * simulator's checks can fail (`npm run sim -- --mutant votesWithoutLogCheck`) and to test checks
 * of your own. A run with a mutant records it in its options, so its trace replays with it.
 */
import {
  followerMatchIndex,
  latestConfig,
  step,
  type RaftAction,
  type RaftEvent,
  type RaftState,
  type StepResult,
} from '../index.js';
import { actionRank, mergeActions, readReady, send } from '../actions.js';
import { readIndexReply } from '../messages.js';
import type { Stepper } from './plugins.js';

/** The names of the mutants. */
export type MutantName =
  | 'votesWithoutLogCheck'
  | 'commitsOnAMinority'
  | 'winsWithOneVote'
  | 'believesStaleReplies'
  | 'readBeforeRound'
  | 'preVoteWhileLeaderAlive'
  | 'countsOwnWriteAtOnce';

const byRank = (a: RaftAction, b: RaftAction): number => actionRank(a) - actionRank(b);

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
  const list: RaftAction[] = actions.filter((a) => a.type !== 'commitAdvanced');
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
  let all: RaftAction[] = actions.slice();
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

/**
 * A leader that answers reads at once with its commit index, without confirming that it still leads
 * (no leadership-check round, no lease, not even waiting for a commit of its own term): its own
 * reads with `readReady`, reads forwarded by followers with `readIndexReply`. A deposed leader that
 * has not heard of its successor serves stale reads.
 */
const readBeforeRound: Stepper = (s, e): StepResult => {
  if (s.role !== 'leader') return step(s, e);
  if (e.type === 'read' && !s.reads.some((r) => r.id === e.id && r.from === null)) {
    return [s, [readReady(e.id, s.commitIndex)]];
  }
  if (e.type === 'readIndex' && e.term === s.term && e.from !== s.id) {
    const answers = e.ids.map((id) => ({ id, index: s.commitIndex }));
    return [s, [send(e.from, readIndexReply(s.id, s.term, answers))]];
  }
  return step(s, e);
};

/**
 * A follower that grants pre-votes while it hears from a live leader: it handles a pre-vote as if
 * its election timer had fired (it keeps counting the leader as alive otherwise). A node that was
 * cut off can then win a pre-vote, campaign and depose a healthy leader.
 */
const preVoteWhileLeaderAlive: Stepper = (s, e): StepResult => {
  if (e.type !== 'preVote' || s.role !== 'follower' || !s.leaderAlive) return step(s, e);
  const blind: RaftState = { ...s, leaderAlive: false };
  const [after, actions] = step(blind, e);
  if (after === blind) return [s, actions];
  const keep = after.role === 'follower' && after.term === s.term;
  return [keep ? { ...after, leaderAlive: true } : after, actions];
};

/**
 * A leader with concurrent leader writes that counts its own new entries at once, as if they were
 * durable (it reports them to itself), while the host still sends them before writing them: a
 * commit can then rest on a copy that a crash of the leader loses.
 */
const countsOwnWriteAtOnce: Stepper = (s, e): StepResult => {
  const [after, actions] = step(s, e);
  if (after.role !== 'leader' || !after.options.concurrentLeaderWrites) return [after, actions];
  const log = after.log;
  if (log.lastTerm !== after.term || after.lead.persisted >= log.lastIndex) return [after, actions];
  const [counted, more] = step(after, { type: 'appendPersisted', term: log.lastTerm, index: log.lastIndex });
  return [counted, mergeActions(actions, more)];
};

/** Every mutant: what it breaks, and its step. */
export const MUTANTS: Readonly<
  Record<
    MutantName,
    {
      /** What the mutant gets wrong, in words (a run's description shows it). */
      readonly breaks: string;
      /**
       * The broken step, to use instead of `step`: it wraps the real one. A run whose options name
       * the mutant steps every node with it (unless its plugins give a `step`), and its trace
       * replays with it.
       */
      readonly step: Stepper;
    }
  >
> = Object.freeze({
  votesWithoutLogCheck: {
    breaks: 'grants votes without checking that the candidate is up to date',
    step: votesWithoutLogCheck,
  },
  commitsOnAMinority: { breaks: 'a leader commits what a single follower holds', step: commitsOnAMinority },
  winsWithOneVote: { breaks: 'a candidate becomes leader at its first vote', step: winsWithOneVote },
  believesStaleReplies: { breaks: "a leader's match index goes back on stale replies", step: believesStaleReplies },
  readBeforeRound: {
    breaks: 'a leader answers reads at once with its commit index, without a leadership check',
    step: readBeforeRound,
  },
  preVoteWhileLeaderAlive: {
    breaks: 'a follower grants pre-votes while it hears from a live leader',
    step: preVoteWhileLeaderAlive,
  },
  countsOwnWriteAtOnce: {
    breaks: 'a leader counts its own entries towards a commit before they are durable, while sending them',
    step: countsOwnWriteAtOnce,
  },
});

/** The names of every mutant. */
export const MUTANT_NAMES = Object.freeze(Object.keys(MUTANTS) as MutantName[]);

/** The step a run with these options uses: the mutant's, or the real one. */
export function stepFor(options: { readonly mutant?: MutantName | null } | null | undefined): Stepper {
  const m = options?.mutant;
  return m === undefined || m === null ? step : MUTANTS[m].step;
}
