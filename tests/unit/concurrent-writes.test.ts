/**
 * Concurrent leader writes (`concurrentLeaderWrites`, src/concurrent-writes.ts): the leader's own
 * appends are marked `concurrent`, and it counts its copy towards a commit only once reported
 * durable (`appendPersisted`). The three-node rule is in scenario 56; these are the edges: a single
 * voter, waiting reads, the option off, bad reports, and how merging treats the mark.
 */
import { mergeActions, type AppendLog, type RaftActions } from '../../src/actions.js';
import { emptyEntries, appendCommands } from '../../src/log.js';
import { startNode } from '../../src/node.js';
import { BASIC_OPTIONS, DEFAULT_OPTIONS, parseOptions } from '../../src/options.js';
import type { StepResult } from '../../src/state.js';
import { step } from '../../src/step.js';
import { threeNodeCluster } from './support';
import { latestConfig } from '../../src/state.js';

const CONCURRENT = { ...BASIC_OPTIONS, concurrentLeaderWrites: true };

function appendsOf(actions: RaftActions): AppendLog[] {
  return actions.filter((a): a is AppendLog => a.type === 'appendLog');
}

/** A single voter `a` that created its cluster (and so leads term 1), with `options`. */
function soloLeader(options = CONCURRENT): StepResult {
  const [s0] = startNode('a', options);
  return step(s0, { type: 'createCluster', voters: ['a'] });
}

describe('concurrent leader writes', () => {
  test('the option is a boolean, off by default', () => {
    expect(DEFAULT_OPTIONS.concurrentLeaderWrites).toBe(false);
    expect(parseOptions({ concurrentLeaderWrites: 'yes' })).toBe('options.concurrentLeaderWrites must be a boolean');
    expect(parseOptions({ concurrentLeaderWrites: true })).toMatchObject({ concurrentLeaderWrites: true });
  });

  test('a single voter commits its own entries only once they are reported durable', () => {
    const [leader, created] = soloLeader();
    expect(leader.role).toBe('leader');
    // The configuration entry was written as a candidate (not concurrent); merged with the
    // leader's term start, the append is not concurrent either: merging never relaxes the rule.
    expect(appendsOf(created).map((a) => a.concurrent)).toEqual([undefined]);
    expect(leader.commitIndex).toBe(0);

    const [proposed, actions] = step(leader, { type: 'propose', count: 2 });
    expect(appendsOf(actions)).toEqual([expect.objectContaining({ concurrent: true })]);
    expect(proposed.commitIndex).toBe(0);

    const [half, halfActions] = step(proposed, { type: 'appendPersisted', term: 1, index: 2 });
    expect(half.commitIndex).toBe(2);
    expect(halfActions).toEqual([{ type: 'commitAdvanced', commitIndex: 2 }]);

    const [all, allActions] = step(half, { type: 'appendPersisted', term: 1, index: 4 });
    expect(all.commitIndex).toBe(4);
    expect(allActions).toEqual([{ type: 'commitAdvanced', commitIndex: 4 }]);
  });

  test('a read waiting for the first commit of the term is answered when the report commits it', () => {
    const [leader] = soloLeader();
    const [waiting, none] = step(leader, { type: 'read', id: 'r1' });
    expect(none.filter((a) => a.type === 'readReady')).toEqual([]);
    const [, actions] = step(waiting, { type: 'appendPersisted', term: 1, index: 2 });
    expect(actions).toContainEqual({ type: 'readReady', id: 'r1', index: 2 });
  });

  test('reports that carry nothing new leave the state object as it was', () => {
    const [leader] = soloLeader();
    const [done] = step(leader, { type: 'appendPersisted', term: 1, index: 2 });
    for (const report of [
      { term: 1, index: 2 }, // already counted
      { term: 1, index: 1 }, // below it
      { term: 0, index: 1 }, // an older term
    ]) {
      const [after, actions] = step(done, { type: 'appendPersisted', ...report });
      expect(after).toBe(done);
      expect(actions).toEqual([]);
    }
    // Without the option, or on a node that is not leader, a report is ignored.
    const [basic] = soloLeader(BASIC_OPTIONS);
    expect(step(basic, { type: 'appendPersisted', term: 1, index: 2 })[0]).toBe(basic);
    const [follower] = startNode('b', CONCURRENT);
    expect(step(follower, { type: 'appendPersisted', term: 0, index: 0 })).toEqual([follower, []]);
  });

  test('a late report of entries a snapshot has covered since is ignored', () => {
    // Three nodes: the followers commit the entries without the leader's own copy, the leader
    // compacts them into a snapshot, and only then does the report of its write arrive.
    const net = threeNodeCluster(CONCURRENT);
    net.step('a', { type: 'propose', count: 3 });
    net.deliver();
    const leader = net.get('a');
    expect(leader.role).toBe('leader');
    expect(leader.lead!.persisted).toBeLessThan(leader.commitIndex); // committed by b and c
    const at = leader.commitIndex;
    const [compacted, compaction] = step(leader, {
      type: 'snapshotInstalled',
      term: 1,
      index: at,
      config: latestConfig(leader),
    });
    expect(compaction.map((a) => a.type)).toEqual(['compactLog']);
    expect(compacted.lead!.persisted).toBeLessThan(at);
    expect(step(compacted, { type: 'appendPersisted', term: 1, index: at - 1 })).toEqual([compacted, []]);
  });

  test('a report the leader never asked for, or a malformed one, is an invalidEvent and changes nothing', () => {
    const [leader] = soloLeader();
    const [after, actions] = step(leader, { type: 'appendPersisted', term: 1, index: 7 });
    expect(after).toBe(leader);
    expect(actions).toEqual([
      { type: 'invalidEvent', reason: 'appendPersisted reports (1, 7), which this leader never wrote' },
    ]);
    const bad = step(leader, { type: 'appendPersisted', term: -1, index: 2 } as never);
    expect(bad[0]).toBe(leader);
    expect(bad[1]).toHaveLength(1);
    expect(bad[1][0]).toMatchObject({ type: 'invalidEvent' });
    expect(JSON.stringify(bad[1][0])).toContain('term');
    const noIndex = step(leader, { type: 'appendPersisted', term: 1 } as never);
    expect(noIndex[1]).toHaveLength(1);
    expect(JSON.stringify(noIndex[1][0])).toContain('index');
  });

  test('merging keeps the mark only when both appends carry it', () => {
    const first = emptyEntries(1, 2);
    const a = appendCommands(first, 1);
    const e1 = { ...a, prevTerm: 1, prevIndex: 2 };
    const e2 = { ...appendCommands(a, 1), prevTerm: 1, prevIndex: 3 };
    const plain = (entries: typeof e1): AppendLog => ({ type: 'appendLog', entries });
    const marked = (entries: typeof e1): AppendLog => ({ type: 'appendLog', entries, concurrent: true });
    expect(appendsOf(mergeActions([marked(e1)], [marked(e2)]))[0]!.concurrent).toBe(true);
    expect(appendsOf(mergeActions([plain(e1)], [marked(e2)]))[0]!.concurrent).toBeUndefined();
    expect(appendsOf(mergeActions([marked(e1)], [plain(e2)]))[0]!.concurrent).toBeUndefined();
  });

  test('back-to-back proposals of a leader with peers merge into one concurrent append', () => {
    const net = threeNodeCluster(CONCURRENT);
    const leader = net.get('a');
    expect(leader.role).toBe('leader');
    const [l1, a1] = step(leader, { type: 'propose' });
    const [, a2] = step(l1, { type: 'propose' });
    const merged = mergeActions(a1, a2);
    const appends = appendsOf(merged);
    expect(appends).toHaveLength(1);
    expect(appends[0]!.concurrent).toBe(true);
    expect(appends[0]!.entries.lastIndex - appends[0]!.entries.prevIndex).toBe(2);
    expect(merged.filter((a) => a.type === 'broadcast')).toHaveLength(1);
  });
});
