/**
 * The core's edges, one regression per defect found by trying it as a hostile user would: values at
 * the top of the safe integers, quadratic configuration checks, exceptions inside rules, events that
 * are not plain data, configuration changes that change nothing, votes from strangers.
 */
import { BASIC_OPTIONS } from '../../src/options.js';
import fc from 'fast-check';
import { makeConfig, toJointConsensus, withNonVoters } from '../../src/config.js';
import type { RaftEvent } from '../../src/events.js';
import { appendCommands, appendConfig, appendTermStart, emptyEntries, MAX_INDEX } from '../../src/log.js';
import { requestVote, requestVoteReply } from '../../src/messages.js';
import { restartNode, startNode } from '../../src/node.js';
import * as replication from '../../src/replication.js';
import { latestConfig, type RaftState } from '../../src/state.js';
import { step, stepAll } from '../../src/step.js';
import { validateConfig, validateEvent } from '../../src/validate.js';
import { fcParams } from '../support/seed';
import { Net, threeNodeCluster } from './support';

const MAX_SAFE = Number.MAX_SAFE_INTEGER;

/** A single-voter leader of term 1 (its log: the configuration, its term start). */
function soloLeader(): RaftState {
  return step(startNode('a', BASIC_OPTIONS)[0], { type: 'createCluster', voters: ['a'] })[0];
}

describe('terms and indices at the top of the safe integers cannot stall a cluster', () => {
  test('a vote request at Number.MAX_SAFE_INTEGER is malformed: no room to campaign above it', () => {
    const b = threeNodeCluster().get('b');
    const [after, actions] = step(b, requestVote('x', MAX_SAFE, 0, 0));
    expect(after).toBe(b);
    expect(actions).toEqual([{ type: 'invalidEvent', reason: 'term must be an integer from 0 to 2^53 - 2' }]);
  });

  test('a vote request billions of terms ahead is ignored, and the cluster keeps electing leaders', () => {
    // The attack: one well-formed vote request at the top of the range, then timeouts.
    const net = threeNodeCluster();
    for (const id of ['a', 'b', 'c']) net.step(id, requestVote('x', MAX_SAFE - 1, 0, 0));
    for (const id of ['a', 'b', 'c']) {
      expect(net.get(id).term).toBe(1);
      expect(net.get(id).metrics.termJumpsRefused).toBe(1);
    }
    net.step('b', { type: 'timeout' });
    net.deliver();
    expect(net.get('b').role).toBe('leader');
    expect(net.get('b').term).toBe(2);
  });

  test('a node whose term reached 2^53 - 2 does not campaign (its next term would be unsafe)', () => {
    const log = appendConfig(emptyEntries(0, 0), makeConfig(['a', 'b']));
    const [a] = restartNode({
      options: BASIC_OPTIONS,
      id: 'a',
      term: MAX_SAFE - 1,
      votedFor: null,
      log,
      snapshotConfig: makeConfig([]),
    });
    const [after, actions] = step(a, { type: 'timeout' });
    // Nothing but the end of the leader contact a restarted node assumes (its timer fired).
    expect(after).toEqual({ ...a, leaderAlive: false });
    expect(actions).toEqual([]);
    // One below, it still can, and every term it sends is one its peers accept.
    const [b] = restartNode({
      options: BASIC_OPTIONS,
      id: 'b',
      term: MAX_SAFE - 2,
      votedFor: null,
      log,
      snapshotConfig: makeConfig([]),
    });
    const [candidate, calls] = step(b, { type: 'timeout' });
    expect(candidate.term).toBe(MAX_SAFE - 1);
    expect(calls.some((x) => x.type === 'broadcast')).toBe(true);
  });

  test('restartNode refuses a saved term or log index with no room to grow', () => {
    const log = emptyEntries(0, 0);
    expect(() =>
      restartNode({
        options: BASIC_OPTIONS,
        id: 'a',
        term: MAX_SAFE,
        votedFor: null,
        log,
        snapshotConfig: makeConfig([]),
      }),
    ).toThrow(/term must be an integer from 0 to 2\^53 - 2/);
    const full = { ...emptyEntries(1, MAX_SAFE), prevTerm: 1 };
    expect(() =>
      restartNode({
        options: BASIC_OPTIONS,
        id: 'a',
        term: 1,
        votedFor: null,
        log: full,
        snapshotConfig: makeConfig([]),
      }),
    ).toThrow(/log.prevIndex must be an integer from 0 to 2\^53 - 2/);
  });

  test('snapshotInstalled at an index of Number.MAX_SAFE_INTEGER is malformed', () => {
    const b = threeNodeCluster().get('b');
    const [after, actions] = step(b, {
      type: 'snapshotInstalled',
      term: 1,
      index: MAX_SAFE,
      config: makeConfig(['a', 'b', 'c']),
    });
    expect(after).toBe(b);
    expect(actions).toEqual([{ type: 'invalidEvent', reason: 'index must be an integer from 0 to 2^53 - 2' }]);
  });

  test('a proposal that would leave no room for term starts and configurations is refused', () => {
    // count 2^53 - 3 on a solo leader, after which (without the bound) a term start or a
    // configuration would land at 2^53.
    const a = soloLeader();
    const [after, actions] = step(a, { type: 'propose', count: MAX_SAFE - 2 });
    expect(after).toBe(a);
    expect(actions).toEqual([
      {
        type: 'invalidEvent',
        reason: 'count would take the log index past 2^53 - 2 - 2^20, the last index commands may use',
      },
    ]);
    // The largest proposal that fits leaves 2^20 indices for the protocol's own entries.
    const room = MAX_INDEX - 2 ** 20 - a.log.lastIndex;
    const [full] = step(a, { type: 'propose', count: room });
    expect(full.log.lastIndex).toBe(MAX_INDEX - 2 ** 20);
    expect(step(full, { type: 'propose' })[1][0]!.type).toBe('invalidEvent');
    // A configuration still fits, and its final entry too.
    const [changed] = step(full, {
      type: 'proposeConfig',
      config: withNonVoters(latestConfig(full), ['n'], []),
    });
    expect(changed.log.lastIndex).toBe(full.log.lastIndex + 1);
  });

  test('a configuration is refused with logFull when the log has no room for it and its final entry', () => {
    const config = makeConfig(['a']);
    let log = appendConfig(emptyEntries(0, 0), config);
    log = appendCommands(log, MAX_INDEX - 4);
    log = appendTermStart(log, 2); // index MAX_INDEX - 2
    const [restarted] = restartNode({
      options: BASIC_OPTIONS,
      id: 'a',
      term: 2,
      votedFor: null,
      log,
      snapshotConfig: makeConfig([]),
    });
    const [leader] = step(restarted, { type: 'timeout' }); // a solo voter: leads term 3, term start at MAX_INDEX - 1
    expect(leader.role).toBe('leader');
    expect(leader.log.lastIndex).toBe(MAX_INDEX - 1);
    const [after, actions] = step(leader, {
      type: 'proposeConfig',
      config: withNonVoters(latestConfig(leader), ['n'], []),
    });
    expect(after).toBe(leader);
    expect(actions).toEqual([
      { type: 'rejected', request: 'proposeConfig', reason: 'logFull', leaderHint: 'a', count: 0, id: null },
    ]);
    // A log that reached the very last index holds no more elections: a term start would not fit.
    const last = appendCommands(leader.log, 1);
    expect(last.lastIndex).toBe(MAX_INDEX);
    const [stuck] = restartNode({
      options: BASIC_OPTIONS,
      id: 'a',
      term: 3,
      votedFor: null,
      log: last,
      snapshotConfig: makeConfig([]),
    });
    expect(step(stuck, { type: 'timeout' })).toEqual([{ ...stuck, leaderAlive: false }, []]);
  });
});

describe('configurations are checked in linear time, each element read once', () => {
  /** A proxy over `list` counting reads of its elements. */
  function counted(list: readonly string[]): { proxy: readonly string[]; reads: () => number } {
    let reads = 0;
    const proxy = new Proxy(list as string[], {
      get(target, key, receiver) {
        if (typeof key === 'string' && /^\d+$/.test(key)) reads++;
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    return { proxy, reads: () => reads };
  }

  test.each([10, 1000, 20000])('%i voters and %i non-voters: every id read once', (n) => {
    const voters = Array.from({ length: n }, (_, i) => `v${String(i).padStart(6, '0')}`);
    const nonVoters = Array.from({ length: n }, (_, i) => `w${String(i).padStart(6, '0')}`);
    const v = counted(voters);
    const w = counted(nonVoters);
    expect(validateConfig({ voters: v.proxy, newVoters: [], nonVoters: w.proxy })).toBeNull();
    // The quadratic check read the voters once per non-voter: n * n reads.
    expect(v.reads()).toBe(n);
    expect(w.reads()).toBe(n);
  });

  test('a non-voter that is also a voter is found by the same single pass', () => {
    expect(validateConfig({ voters: ['a', 'c', 'e'], newVoters: ['b', 'd'], nonVoters: ['d', 'f'] })).toBe(
      'nonVoters must not contain a voter ("d")',
    );
  });
});

describe('an exception inside a rule is a bug, reported as internalError, never as a malformed event', () => {
  test('a rule that throws halts the node and names the event', () => {
    const leader = threeNodeCluster().get('a');
    const spy = jest.spyOn(replication, 'heartbeat').mockImplementation(() => {
      throw new Error('boom');
    });
    try {
      const [after, actions] = step(leader, { type: 'heartbeat' });
      expect(actions).toEqual([{ type: 'internalError', reason: 'boom', event: 'heartbeat' }]);
      expect(after.halted).toBe('internalError while handling "heartbeat": boom');
      // Nothing of the failed step took effect, and the node refuses everything after it.
      expect({ ...after, halted: null }).toEqual(leader);
      expect(step(after, { type: 'timeout' })[1]).toEqual([{ type: 'fatal', reason: after.halted }]);
    } finally {
      spy.mockRestore();
    }
  });

  test('a state that is not a node state and cannot even be halted: returned as given, with the report', () => {
    // `halted: null` passes the first check; the rule then trips over the missing fields, and
    // halting the state fails too (its id cannot be read). step still answers, without throwing.
    const broken = {
      halted: null,
      get id(): string {
        throw new Error('no id');
      },
    } as unknown as RaftState;
    const [after, actions] = step(broken, { type: 'heartbeat' });
    expect(after).toBe(broken);
    expect(actions).toEqual([expect.objectContaining({ type: 'internalError', event: 'heartbeat' })]);
  });

  test('an event whose field throws when read is malformed, not a bug', () => {
    const b = threeNodeCluster().get('b');
    const event = {
      type: 'requestVote',
      from: 'c',
      get term(): number {
        throw new Error('no term today');
      },
      lastTerm: 1,
      lastIndex: 2,
    };
    const [after, actions] = step(b, event as unknown as RaftEvent);
    expect(after).toBe(b);
    expect(actions).toEqual([{ type: 'invalidEvent', reason: 'event could not be read: no term today' }]);
  });
});

describe('events are read once, and the state keeps only plain copies of what they carry', () => {
  test('a term getter that answers differently on each read cannot put a string into the state', () => {
    const b = threeNodeCluster().get('b');
    let reads = 0;
    const event = {
      type: 'requestVote',
      from: 'c',
      get term(): unknown {
        return reads++ === 0 ? 2 : 'x';
      },
      lastTerm: 1,
      lastIndex: 2,
    };
    const [after] = step(b, event as unknown as RaftEvent);
    expect(reads).toBe(1);
    expect(after.term).toBe(2);
    expect(after.votedFor).toBe('c');
  });

  test('a count getter cannot make lastIndex NaN', () => {
    const a = soloLeader();
    let reads = 0;
    const event = {
      type: 'propose',
      get count(): unknown {
        return reads++ === 0 ? 2 : undefined;
      },
    };
    const [after] = step(a, event as unknown as RaftEvent);
    expect(reads).toBe(1);
    expect(after.log.lastIndex).toBe(a.log.lastIndex + 2);
  });

  test('a configuration with a non-enumerable list, or behind a proxy, is kept as a plain copy', () => {
    const a = soloLeader();
    const config: Record<string, unknown> = { voters: ['a'], newVoters: [] };
    Object.defineProperty(config, 'nonVoters', { value: ['n'], enumerable: false });
    const proxied = new Proxy(makeConfig(['a'], [], ['m']), {});
    for (const c of [config, proxied]) {
      const [after, actions] = step(a, { type: 'proposeConfig', config: c as never });
      expect(actions.some((x) => x.type === 'invalidEvent')).toBe(false);
      const kept = latestConfig(after);
      expect(Object.keys(kept)).toEqual(['voters', 'newVoters', 'nonVoters']);
      expect(JSON.parse(JSON.stringify(after))).toEqual(after);
      expect(() => structuredClone(after)).not.toThrow();
      expect(kept).not.toBe(c);
    }
  });

  test('the entries of an AppendEntries are copied, not kept by reference', () => {
    const net = threeNodeCluster();
    const a = net.get('a');
    const [, actions] = step(a, { type: 'propose' });
    const call = actions.find((x) => x.type === 'broadcast');
    if (call?.type !== 'broadcast' || call.message.type !== 'appendEntries') throw new Error('no broadcast');
    const message = call.message;
    const [b] = step(net.get('b'), message);
    expect(b.log.lastIndex).toBe(a.log.lastIndex + 1);
    expect(b.log).not.toBe(message.entries);
  });
});

describe('configuration changes follow one rule, whatever the entry point', () => {
  test('createCluster and proposeConfig both refuse unsorted or duplicate voters, naming the problem', () => {
    const fresh = startNode('a', BASIC_OPTIONS)[0];
    expect(step(fresh, { type: 'createCluster', voters: ['b', 'a'] })[1]).toEqual([
      { type: 'invalidEvent', reason: 'voters must be sorted ascending without duplicates' },
    ]);
    expect(step(fresh, { type: 'createCluster', voters: ['a', 'a'] })[1]).toEqual([
      { type: 'invalidEvent', reason: 'voters must be sorted ascending without duplicates' },
    ]);
    const leader = soloLeader();
    expect(
      step(leader, { type: 'proposeConfig', config: { voters: ['a'], newVoters: ['b', 'a'], nonVoters: [] } })[1],
    ).toEqual([{ type: 'invalidEvent', reason: 'config.newVoters must be sorted ascending without duplicates' }]);
  });

  test('a change that changes nothing is refused with noChange, joint or not', () => {
    const net = threeNodeCluster();
    const leader = net.get('a');
    const current = latestConfig(leader);
    for (const config of [current, toJointConsensus(current, [], []), withNonVoters(current, [], [])]) {
      const [after, actions] = step(leader, { type: 'proposeConfig', config });
      expect(after).toBe(leader);
      expect(actions).toEqual([
        { type: 'rejected', request: 'proposeConfig', reason: 'noChange', leaderHint: 'a', count: 0, id: null },
      ]);
    }
  });

  test('toJointConsensus refuses a change that would leave no voters', () => {
    const current = makeConfig(['a', 'b', 'c']);
    expect(() => toJointConsensus(current, [], ['a', 'b', 'c'])).toThrow(/leave no voters/);
  });
});

describe('votes are kept only from voters of the configuration', () => {
  test('20,000 granted votes from strangers leave the candidate as it was', () => {
    const net = new Net(['a', 'b', 'c']);
    net.step('a', { type: 'createCluster', voters: ['a', 'b', 'c'] });
    const candidate = net.get('a');
    const events = Array.from({ length: 20000 }, (_, i) => requestVoteReply(`s${i}`, 1, true));
    const [after, actions] = stepAll(candidate, events);
    expect(after.votes).toEqual(['a']);
    expect(after.role).toBe('candidate');
    expect(actions).toEqual([]);
    expect(after.metrics.requestVoteRepliesIgnoredFromNonVoters).toBe(20000);
    expect(JSON.stringify(after).length).toBeLessThan(JSON.stringify(candidate).length + 10);
  });

  test('a voter still wins the election with its peers votes (property: any strangers, any order)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.string({ minLength: 1, maxLength: 3 }), { maxLength: 30 }),
        fc.boolean(),
        (ids, first) => {
          const net = new Net(['a', 'b', 'c']);
          net.step('a', { type: 'createCluster', voters: ['a', 'b', 'c'] });
          const strangers = ids
            .filter((id) => !['a', 'b', 'c'].includes(id))
            .map((id) => requestVoteReply(id, 1, true));
          const vote = requestVoteReply('b', 1, true);
          const [after] = stepAll(net.get('a'), first ? [vote, ...strangers] : [...strangers, vote]);
          return after.role === 'leader';
        },
      ),
      fcParams('votes from strangers never count'),
    );
  });
});

describe('every entry point refuses what it cannot read, naming the problem', () => {
  const config = makeConfig(['a', 'b', 'c']);
  const log = appendConfig(emptyEntries(0, 0), config);
  const good = { id: 'a', term: 1, votedFor: null, log, snapshotConfig: makeConfig([]) };

  test.each([
    [null, 'persisted state must be an object'],
    [{ ...good, id: '' }, 'id must be a non-empty string'],
    [{ ...good, term: -1 }, 'term must be an integer from 0 to 2^53 - 2'],
    [{ ...good, votedFor: 7 }, 'votedFor must be null or a non-empty string'],
    [{ ...good, log: { ...log, lastIndex: 'x' } }, 'log.lastIndex must be an integer from 0 to 2^53 - 2'],
    [{ ...good, term: 0, log: appendTermStart(log, 1) }, 'log.lastTerm must not exceed term'],
    [
      { ...good, snapshotConfig: { voters: ['b', 'a'], newVoters: [], nonVoters: [] } },
      'snapshotConfig.voters must be',
    ],
  ])('restartNode(%j) throws a TypeError naming the problem', (persisted, problem) => {
    expect(() => restartNode(persisted as never)).toThrow(TypeError);
    expect(() => restartNode(persisted as never)).toThrow(`restartNode: ${problem}`);
  });

  test('restartNode keeps plain copies of what it is given', () => {
    const voters = ['a', 'b', 'c'];
    const [s] = restartNode({
      options: BASIC_OPTIONS,
      ...good,
      snapshotConfig: { voters, newVoters: [], nonVoters: [] },
    });
    voters.push('d');
    expect(s.snapshotConfig.voters).toEqual(['a', 'b', 'c']);
  });

  test.each([
    ['appendEntries', { type: 'appendEntries', from: 'b', term: 1, commitIndex: 0 }, 'entries'],
    ['appendEntriesReply', { type: 'appendEntriesReply', from: 'b', term: 1, lastTerm: 0 }, 'lastIndex'],
    ['requestVote', { type: 'requestVote', from: 'b', term: 1, lastTerm: 0 }, 'lastIndex'],
    ['requestVoteReply', { type: 'requestVoteReply', from: 'b', term: 1 }, 'granted'],
    ['propose', { type: 'propose' }, 'count'],
    ['createCluster', { type: 'createCluster' }, 'voters'],
    ['proposeConfig', { type: 'proposeConfig' }, 'config'],
    ['snapshotInstalled', { type: 'snapshotInstalled', term: 1, index: 1 }, 'config'],
    ['read', { type: 'read' }, 'id'],
    ['transferLeadership', { type: 'transferLeadership' }, 'to'],
    ['appendPersisted', { type: 'appendPersisted', term: 1 }, 'index'],
    ['preVote', { type: 'preVote', from: 'c', term: 2, lastTerm: 1 }, 'lastIndex'],
    ['readIndex', { type: 'readIndex', from: 'c', term: 1 }, 'ids'],
  ])('a %s whose %s getter throws is malformed, with the state unchanged', (_type, base, field) => {
    const b = threeNodeCluster().get('b');
    const event = { ...base };
    Object.defineProperty(event, field, {
      enumerable: true,
      get() {
        throw new Error(`no ${field}`);
      },
    });
    const [after, actions] = step(b, event as unknown as RaftEvent);
    expect(after).toBe(b);
    expect(actions).toEqual([{ type: 'invalidEvent', reason: `event could not be read: no ${field}` }]);
  });

  test('validateEvent names an event whose fields throw when read as malformed, without throwing', () => {
    const event = { type: 'propose' };
    Object.defineProperty(event, 'count', {
      enumerable: true,
      get() {
        throw new Error('no count');
      },
    });
    expect(validateEvent(event)).toBe('event could not be read: no count');
    const trap = new Proxy(
      {},
      {
        get: () => {
          throw new Error('trap');
        },
      },
    );
    expect(validateEvent(trap)).toBe('event could not be read: trap');
  });

  test('a value that is not a node state, given to step, is answered without throwing', () => {
    for (const state of [
      null,
      undefined,
      7,
      'x',
      {},
      new Proxy(
        {},
        {
          get: () => {
            throw new Error('trap');
          },
        },
      ),
    ]) {
      const r = step(state as never, { type: 'timeout' });
      expect(r[0]).toBe(state);
      expect(r[1]).toHaveLength(1);
      expect(r[1][0]).toMatchObject({ type: 'invalidEvent' });
      expect((r[1][0] as { reason: string }).reason).toMatch(/^the state given to step is not a node state/);
    }
  });

  test('an exception that cannot even be described is still reported', () => {
    const leader = threeNodeCluster().get('a');
    const spy = jest.spyOn(replication, 'heartbeat').mockImplementation(() => {
      // Deliberately not an Error: step must describe whatever a rule throws, even this.
      // eslint-disable-next-line @typescript-eslint/only-throw-error
      throw {
        toString(): string {
          throw new Error('nope');
        },
      };
    });
    try {
      expect(step(leader, { type: 'heartbeat' })[1]).toEqual([
        { type: 'internalError', reason: 'an exception that cannot be described', event: 'heartbeat' },
      ]);
    } finally {
      spy.mockRestore();
    }
  });
});
