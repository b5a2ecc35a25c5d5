/**
 * The shared test support catches what it is there to catch: the test host (tests/support/host.ts)
 * refuses every way of breaking the persistence rule and of losing what a node stored, and rebuilds
 * a restarted node from its disk; the invariant checker (tests/support/checker.ts) reports each
 * invariant it checks when a state breaks it; `deepFreeze` (tests/support/freeze.ts) freezes
 * everything reachable. The property suites only pass meaningfully if these can fail.
 */
import { BASIC_OPTIONS } from '../../src/options.js';
import {
  emptyEntries,
  followerMatchIndex,
  makeConfig,
  restartNode,
  startNode,
  step,
  type RaftAction,
  type LogEntries,
  type RaftEvent,
  type RaftState,
  type StepResult,
} from '../../src/index.js';
import { appendCommands, appendConfig, appendTermStart, truncateAfter } from '../../src/log.js';
import { Checker, type Observed } from '../support/checker';
import { deepFreeze } from '../support/freeze';
import { Host, Violation, type Outgoing, type Stepper } from '../support/host';
import { threeNodeCluster } from './support';

const STORAGE = new Set<RaftAction['type']>(['saveHardState', 'compactLog', 'appendLog']);

/** A host of three nodes whose `a` steps through `stepper`; `a` forms the cluster. */
function hostWith(stepper: Stepper, wellFormed = false): Host {
  return new Host(['a', 'b', 'c'], { step: stepper, wellFormed });
}

/** A stepper that rewrites the actions of the real step. */
function rewrite(f: (actions: readonly RaftAction[], next: RaftState) => readonly RaftAction[]): Stepper {
  return (s: RaftState, e: RaftEvent): StepResult => {
    const [next, actions] = step(s, e);
    return [next, f(actions, next)];
  };
}

const CREATE: RaftEvent = { type: 'createCluster', voters: ['a', 'b', 'c'] };

/** Deliver everything in flight (FIFO) until the hosts' network is quiet. */
function settle(host: Host, out: Outgoing[]): void {
  for (let n = 0; out.length > 0 && n < 1000; n++) {
    const o = out.shift()!;
    if (o.kind === 'msg') out.push(...host.step(o.to, [o.message]).out);
  }
}

describe('the test host', () => {
  test('carries out a step: storage durable, then the messages to the peers after the step', () => {
    const host = new Host(['a', 'b', 'c']);
    const done = host.step('a', [CREATE]);
    const a = host.node('a');
    expect(a.disk).toMatchObject({ term: done.after.term, votedFor: 'a' });
    expect(a.disk.log).toEqual(done.after.log);
    expect(a.timer).toBe('election');
    expect(done.out.map((o) => `${o.from}->${o.to} ${o.kind}`)).toEqual(['a->b msg', 'a->c msg']);
  });

  test('a storage action after a message breaks the persistence rule', () => {
    const late = rewrite((actions) => [
      ...actions.filter((a) => !STORAGE.has(a.type)),
      ...actions.filter((a) => STORAGE.has(a.type)),
    ]);
    expect(() => hostWith(late).step('a', [CREATE])).toThrow(Violation);
    expect(() => hostWith(late).step('a', [CREATE])).toThrow(/persistence rule broken: storage action/);
  });

  test('a hard state or an append left unstored is a stored state that differs from the node', () => {
    const noHardState = rewrite((actions) => actions.filter((a) => a.type !== 'saveHardState'));
    expect(() => hostWith(noHardState).step('a', [CREATE])).toThrow(/stored hard state \(0, null\) differs/);
    const noAppend = rewrite((actions) => actions.filter((a) => a.type !== 'appendLog'));
    expect(() => hostWith(noAppend).step('a', [CREATE])).toThrow(/is not a prefix of the stored log/);
  });

  test('an append not anchored in the stored log is refused (the storage lost a write)', () => {
    const host = new Host(['a', 'b', 'c']);
    settle(host, [...host.step('a', [CREATE]).out]);
    host.node('a').disk.log = emptyEntries(0, 0);
    expect(() => host.step('a', [{ type: 'propose' }])).toThrow(/does not hold the append's anchor/);
  });

  test('a message to itself, or a snapshot transfer without a snapshot, is refused', () => {
    const toSelf = rewrite((actions, next) => [
      ...actions,
      {
        type: 'send',
        to: next.id,
        message: { type: 'requestVoteReply', from: next.id, term: next.term, granted: true },
      },
    ]);
    expect(() => hostWith(toSelf).step('a', [CREATE])).toThrow(/a sends a message to itself/);
    const noSnapshot = rewrite((actions) => [...actions, { type: 'installSnapshot', to: 'b' }]);
    expect(() => hostWith(noSnapshot).step('a', [CREATE])).toThrow(/although it has no snapshot/);
  });

  test('invalidEvent and fatal are violations only for well-formed runs; internalError always is', () => {
    const bad: RaftEvent = { type: 'propose', count: 0 };
    expect(new Host(['a']).step('a', [bad]).actions.map((a) => a.type)).toEqual(['invalidEvent']);
    expect(() => new Host(['a'], { wellFormed: true }).step('a', [bad])).toThrow(/invalidEvent .* well-formed/);
    const broken = rewrite(() => [{ type: 'internalError', reason: 'boom', event: 'timeout' }]);
    expect(() => hostWith(broken).step('a', [{ type: 'timeout' }])).toThrow(/internalError \(boom\)/);
  });

  test('a restart rebuilds the node with restartNode from what it stored, and counts it', () => {
    const host = new Host(['a', 'b', 'c']);
    settle(host, [...host.step('a', [CREATE]).out]);
    settle(host, [...host.step('a', [{ type: 'propose', count: 3 }]).out]);
    const before = host.state('a');
    expect(before.commitIndex).toBe(5);
    const disk = { ...host.node('a').disk };
    const done = host.restart('a');
    expect(done.before).toBe(before);
    expect([done.after, done.actions]).toEqual(restartNode({ options: BASIC_OPTIONS, id: 'a', ...disk }));
    expect(done.after.log).toEqual(before.log);
    expect(done.after.commitIndex).toBe(0);
    expect(host.node('a')).toMatchObject({ restarts: 1, timer: 'follower' });
  });

  test('a snapshot transfer carries the sender snapshot as it is after the step', () => {
    const host = new Host(['a', 'b', 'c']);
    settle(host, [...host.step('a', [CREATE]).out]);
    const lagging: Outgoing[] = [...host.step('a', [{ type: 'propose', count: 3 }]).out];
    settle(
      host,
      lagging.filter((o) => o.to !== 'c'),
    );
    const leader = host.state('a');
    host.step('a', [{ type: 'snapshotInstalled', term: 1, index: 5, config: makeConfig(['a', 'b', 'c']) }]);
    expect(host.node('a').disk.log.prevIndex).toBe(5);
    // c answers a heartbeat from behind the snapshot: the leader asks for a transfer.
    const [hb] = host.step('a', [{ type: 'heartbeat' }]).out.filter((o) => o.to === 'c');
    const [reply] = host.step('c', [(hb as { message: RaftEvent }).message]).out;
    const out = host.step('a', [(reply as { message: RaftEvent }).message]).out;
    expect(out).toContainEqual({
      kind: 'snap',
      from: 'a',
      to: 'c',
      term: 1,
      index: 5,
      config: makeConfig(['a', 'b', 'c']),
    });
    expect(leader.role).toBe('leader');
  });
});

// ---------------------------------------------------------------------------------------------
// The checker, fed states by hand

class Fake implements Observed {
  readonly nodes = new Map<string, { state: RaftState; restarts: number }>();
  constructor(states: readonly RaftState[]) {
    for (const s of states) this.nodes.set(s.id, { state: s, restarts: 0 });
  }
  get ids(): string[] {
    return [...this.nodes.keys()];
  }
  node(id: string): { state: RaftState; restarts: number } {
    return this.nodes.get(id)!;
  }
  set(s: RaftState, restarted = false): void {
    const n = this.nodes.get(s.id)!;
    this.nodes.set(s.id, { state: s, restarts: n.restarts + (restarted ? 1 : 0) });
  }
}

/** A state with some fields replaced: what a broken implementation could return. */
function forge(s: RaftState, patch: Partial<Record<keyof RaftState, unknown>>): RaftState {
  return { ...s, ...patch } as RaftState;
}

/**
 * The three nodes after the leader `a` committed three commands at 3..5 and told the followers
 * (and `c0`, the state `c` had before the commands).
 */
function committedCluster(): { a: RaftState; b: RaftState; c: RaftState; c0: RaftState } {
  const net = threeNodeCluster();
  const c0 = net.get('c');
  net.step('a', { type: 'propose', count: 3 });
  net.deliver();
  net.step('a', { type: 'heartbeat' });
  net.deliver();
  return { a: net.get('a'), b: net.get('b'), c: net.get('c'), c0 };
}

/** A checker that watched fresh nodes become `states` (checked once). */
function checked(...states: RaftState[]): { fake: Fake; checker: Checker } {
  const fake = new Fake(states.map((s) => startNode(s.id, BASIC_OPTIONS)[0]));
  const checker = new Checker(fake);
  for (const s of states) fake.set(s);
  checker.check();
  return { fake, checker };
}

/** The log `[config a,b,c @1, termStart(term) @2]` and `n` commands. */
function logOfTerm(term: number, n: number): LogEntries {
  const log = appendTermStart(appendConfig(emptyEntries(0, 0), makeConfig(['a', 'b', 'c'])), term);
  return n > 0 ? appendCommands(log, n) : log;
}

describe('the invariant checker', () => {
  test('a real cluster passes', () => {
    const { a, b, c } = committedCluster();
    const { checker } = checked(a, b, c);
    expect(checker.coverage()).toMatchObject({ leaderships: 1, maxCommit: 5, maxTerm: 1 });
  });

  test('election safety: two leaders in one term', () => {
    const { a, b, c } = committedCluster();
    const { fake, checker } = checked(a, b, c);
    fake.set(forge(a, { id: 'b' }));
    expect(() => checker.check()).toThrow(/two leaders in term 1: a and b/);
  });

  test('terms never decrease, commit indices never decrease while a node runs', () => {
    const { a, b, c } = committedCluster();
    const { fake, checker } = checked(a, b, c);
    fake.set(forge(b, { term: 0 }));
    expect(() => checker.check()).toThrow(/b: term went from 1 down to 0/);
    const second = checked(a, b, c);
    second.fake.set(forge(b, { commitIndex: 4 }));
    expect(() => second.checker.check()).toThrow(/b: commit index went from 5 down to 4/);
  });

  test('a restarted node starts again at its snapshot: commit 0 without one', () => {
    const { a, b, c } = committedCluster();
    const { fake, checker } = checked(a, b, c);
    const [restarted] = restartNode({
      options: BASIC_OPTIONS,
      id: 'b',
      term: b.term,
      votedFor: b.votedFor,
      log: b.log,
      snapshotConfig: b.snapshotConfig,
    });
    fake.set(restarted, true);
    checker.check();
    fake.set(forge(restarted, { commitIndex: 5 }), true);
    expect(() => checker.check()).toThrow(/b: restarted with commit 5, not 0/);
  });

  test('state-machine safety: a committed entry never changes', () => {
    const { a, b, c } = committedCluster();
    const { fake, checker } = checked(a, b, c);
    fake.set(forge(c, { term: 2, log: logOfTerm(2, 3) }));
    expect(() => checker.check()).toThrow(/c: committed index 2 has term 2, but term 1 was committed there/);
  });

  test('state-machine safety: a committed configuration entry is held, the same, by every node', () => {
    const { a, b, c } = committedCluster();
    const { fake, checker } = checked(a, b, c);
    const other = appendCommands(appendTermStart(appendConfig(emptyEntries(0, 0), makeConfig(['a', 'b', 'x'])), 1), 3);
    fake.set(forge(c, { log: other }));
    expect(() => checker.check()).toThrow(/c: committed configuration at 1 differs from the record/);
  });

  test('leader completeness: a new leader holds what leaders before it committed', () => {
    const { a, b, c0 } = committedCluster();
    const { fake, checker } = checked(a, b, c0);
    expect(c0.log.lastIndex).toBe(2);
    fake.set(forge(c0, { role: 'leader', term: 2, votedFor: 'c', progress: a.progress }));
    expect(() => checker.check()).toThrow(/c leads term 2 without the entries committed up to 5: its log is shorter/);
  });

  test('leader append-only, and match indices that never decrease within a leadership', () => {
    const { a, b, c } = committedCluster();
    const { fake, checker } = checked(a, b, c);
    const [grown] = step(a, { type: 'propose', count: 2 });
    fake.set(grown);
    checker.check();
    fake.set(forge(grown, { log: truncateAfter(grown.log, 6) }));
    expect(() => checker.check()).toThrow(/a: leader of term 1 lost entries/);

    const second = checked(a, b, c);
    expect(followerMatchIndex(a, 'b')).toBe(5);
    const progress = a.progress!;
    second.fake.set(forge(a, { progress: { ...progress, match: progress.match.map(() => 3) } }));
    expect(() => second.checker.check()).toThrow(/a: match index of b went from 5 to 3 in term 1/);
    const third = checked(a, b, c);
    third.fake.set(forge(a, { progress: { ...progress, match: progress.match.map(() => 9) } }));
    expect(() => third.checker.check()).toThrow(/a: match index 9 of b beyond the leader's log/);
  });

  test('configuration entries follow the joint consensus rules', () => {
    const { a, b, c } = committedCluster();
    const { fake, checker } = checked(a, b, c);
    const joint = makeConfig(['a', 'b', 'c'], ['a', 'b', 'd']);
    const bad = appendConfig(appendConfig(a.log, joint), makeConfig(['a', 'b', 'e']));
    fake.set(forge(b, { log: bad }));
    expect(() => checker.check()).toThrow(/b: the joint configuration .* is followed at 7 by/);
    const second = checked(a, b, c);
    second.fake.set(forge(b, { log: appendConfig(a.log, makeConfig(['a', 'd'])) }));
    expect(() => second.checker.check()).toThrow(/b: configuration at 6 does not start from the voters before it/);
  });

  test("a snapshot's configuration is the committed one in effect at its index", () => {
    const { a, b, c } = committedCluster();
    const { fake, checker } = checked(a, b, c);
    const compacted = step(b, { type: 'snapshotInstalled', term: 1, index: 4, config: makeConfig(['a', 'b', 'c']) })[0];
    expect(compacted.log.prevIndex).toBe(4);
    fake.set(forge(compacted, { snapshotConfig: makeConfig(['a', 'b']) }));
    expect(() => checker.check()).toThrow(/b: snapshot at 4 has configuration/);
  });

  test('narrowed, it keeps the rules of each node and leadership but forgets the record of commits', () => {
    const { a, b, c } = committedCluster();
    const { fake, checker } = checked(a, b, c);
    checker.narrow();
    fake.set(forge(c, { term: 2, log: logOfTerm(2, 3) }));
    checker.check();
    fake.set(forge(a, { id: 'b' }));
    expect(() => checker.check()).toThrow(/two leaders in term 1: a and b/);
  });
});

describe('deepFreeze', () => {
  test('freezes everything reachable, symbol keys and cycles included, and returns its argument', () => {
    const sym = Symbol('s');
    const inner = { list: [1, { deep: true }] };
    const x: Record<string | symbol, unknown> = { inner, [sym]: { hidden: 1 } };
    x.self = x;
    expect(deepFreeze(x)).toBe(x);
    for (const o of [x, inner, inner.list, inner.list[1], x[sym]]) expect(Object.isFrozen(o)).toBe(true);
    expect(() => {
      (inner.list[1] as { deep: boolean }).deep = false;
    }).toThrow(TypeError);
  });

  test('reaches inside objects that were only frozen shallowly', () => {
    const child = { n: 1 };
    const parent = Object.freeze({ child });
    deepFreeze(parent);
    expect(Object.isFrozen(child)).toBe(true);
  });
});
