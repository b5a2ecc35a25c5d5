/**
 * A node's log as the page draws it, compressed: the snapshot boundary, then runs of entries of
 * equal term (raftstep keeps the log as term starts, so a run is one term start to the next), the
 * configuration entries, and the commit index. A log of a million commands over three terms is three
 * runs.
 */
import { flatItems, isJoint, type ClusterConfig, type RaftState } from '../../index.js';

/** Entries `first..last` of one term. */
export interface LogRun {
  /** Their term. */
  readonly term: number;
  /** The first index. */
  readonly first: number;
  /** The last index. */
  readonly last: number;
}

/** A configuration entry. */
export interface ConfigMark {
  /** Its index. */
  readonly index: number;
  /** True for a joint configuration (a voter change under way). */
  readonly joint: boolean;
  /** The configuration in a few words. */
  readonly text: string;
}

/** What the page draws of one log. */
export interface LogPicture {
  /** The snapshot boundary: entries up to `index` (of `term`) are compacted (0: none). */
  readonly snapshot: { readonly term: number; readonly index: number };
  /** The runs of equal term, oldest first (after `folded` older ones were left out). */
  readonly runs: readonly LogRun[];
  /** How many older runs were left out to keep at most `maxRuns`. */
  readonly folded: number;
  /** The configuration entries in the log. */
  readonly configs: readonly ConfigMark[];
  /** The commit index. */
  readonly commitIndex: number;
  /** The last index. */
  readonly lastIndex: number;
}

/** A configuration in a few words: `n1 n2 n3` (joint: `n1 n2 n3 → n2 n3 n4`; `+n5` non-voters). */
export function describeConfigShort(c: ClusterConfig): string {
  const voters = c.voters.join(' ');
  const joint = isJoint(c) ? ` → ${c.newVoters.join(' ')}` : '';
  const learners = c.nonVoters.map((id) => ` +${id}`).join('');
  return `${voters}${joint}${learners}`;
}

/** The picture of `state`'s log, keeping at most `maxRuns` runs (the newest). */
export function logPicture(state: RaftState, maxRuns = 8): LogPicture {
  const log = state.log;
  const runs: LogRun[] = [];
  let term = log.prevTerm;
  let first = log.prevIndex + 1;
  for (const start of flatItems(log.termStarts)) {
    if (start.index > first) runs.push({ term, first, last: start.index - 1 });
    term = start.term;
    first = start.index;
  }
  if (log.lastIndex >= first) runs.push({ term, first, last: log.lastIndex });
  const folded = Math.max(0, runs.length - maxRuns);
  return {
    snapshot: { term: log.prevTerm, index: log.prevIndex },
    runs: runs.slice(folded),
    folded,
    configs: log.configs.map((c) => ({
      index: c.index,
      joint: isJoint(c.config),
      text: describeConfigShort(c.config),
    })),
    commitIndex: state.commitIndex,
    lastIndex: log.lastIndex,
  };
}
