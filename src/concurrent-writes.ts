/**
 * Concurrent leader writes (Raft thesis §10.2.1), with the option `concurrentLeaderWrites`.
 *
 * Rule: a leader may send its new entries to its followers before they are durable on its own disk,
 * so that its write and theirs overlap; but it counts its own copy towards a commit only once the
 * application reports the write durable (`appendPersisted`). A commit therefore still means "durable
 * on a majority", the leader's disk included: a leader that crashes before its write lands cannot
 * have counted entries it then lost.
 *
 * A report names the last position of a durable write. The leader only takes reports of entries of
 * its own term: it wrote them itself, during this leadership, and never cut its log since, so the
 * position names one write and every write before it (storage is written in order) is durable too.
 * A report of an older term may name a write that a later truncation undid; it is ignored, as is
 * every report on a node that is not leader (they carry no information the node needs).
 */
import { NO_ACTIONS, invalidEvent, mergeActions } from './actions.js';
import { advanceCommit } from './commit.js';
import { containsPosition } from './log.js';
import { readsAfterCommit } from './reads.js';
import { withLeadership, type RaftState, type StepResult } from './state.js';

/**
 * The application reports the write that ended at `(term, index)` durable. On a leader with the
 * option on and a report of its own term past what it knew: count its copy, and commit what a
 * majority now holds. A report of the leader's term beyond its last entry was never asked for: an
 * `invalidEvent`, the state unchanged. Everything else is ignored (the same state, no actions),
 * including a late report of entries a snapshot has covered since.
 */
export function onAppendPersisted(s: RaftState, term: number, index: number): StepResult {
  if (s.role !== 'leader' || !s.options.concurrentLeaderWrites || term !== s.term) return [s, NO_ACTIONS];
  // Already counted, or covered by a snapshot (compacted entries are committed: nothing to count).
  if (index <= s.lead.persisted || index <= s.log.prevIndex) return [s, NO_ACTIONS];
  if (!containsPosition(s.log, term, index)) {
    return [s, [invalidEvent(`appendPersisted reports (${term}, ${index}), which this leader never wrote`)]];
  }
  const [next, actions] = advanceCommit(withLeadership(s, { ...s.lead, persisted: index }));
  // Reads that waited for the first commit of this term (see reads.ts) may take it now.
  if (next.role !== 'leader' || next.commitIndex === s.commitIndex || next.reads.length === 0) return [next, actions];
  const [served, more] = readsAfterCommit(next);
  return [served, more.length === 0 ? actions : mergeActions(actions, more)];
}
