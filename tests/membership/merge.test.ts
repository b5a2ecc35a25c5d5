/**
 * Merging actions across a snapshot install (mergeActions / stepAll: pending actions not carried out
 * yet are rebased onto a snapshot that a later step installs). The contract: the application may carry out the merged actions of several steps
 * instead of each step's actions in turn, and its storage ends the same — in particular every
 * `appendLog` of the merged list is anchored in the stored log at the moment it is carried out.
 *
 * tests/unit/actions.test.ts checks this on real traces with local compaction. Here a follower x
 * with a divergent uncommitted tail takes, in one batch, AppendEntries from its deposed leader p
 * (appends on x's branch), from the new leader q (heartbeats, probes, appends on the committed
 * branch: gaps and divergences) and installs of q's snapshots — on x's log, beyond it, or on the
 * other branch, which resets x's log.
 */
import { BASIC_OPTIONS } from '../../src/options.js';
import fc from 'fast-check';
import {
  EMPTY_CONFIG,
  makeConfig,
  restartNode,
  step,
  stepAll,
  type RaftActions,
  type LogEntries,
  type RaftEvent,
  type RaftState,
  flatItems,
} from '../../src/index.js';
import {
  appendCommands,
  appendConfig,
  appendTermStart,
  emptyEntries,
  makeEntries,
  since,
  termAt,
  truncateAfter,
} from '../../src/log.js';
import { fcParams } from '../support/seed';
import { freshDisk, store, type Disk } from '../support/host';
import { sameEntries, showLog } from '../support/logs';

const CONFIG = makeConfig(['p', 'q', 'x']);

/**
 * A small consistent history with two branches after a common prefix C (the configuration at 1,
 * term 1 from 2 on, some commands):
 * - F, x's log: C, then a run of term tF appended by a leader p of term tF that was then deposed;
 *   p's own log P is F and possibly more entries of term tF;
 * - G, the committed branch of a leader q of term 4: C, a run of term tG, then term 4.
 * Either tF = 2 and tG = 3 (x's tail is older than the branch that won), or tF = 3 and tG = 2 (the
 * Raft paper's Figure 8: a branch of an older term is committed later by q, and x's divergent tail
 * has a higher term than the snapshot that replaces it).
 */
interface World {
  readonly f: LogEntries;
  readonly p: LogEntries;
  readonly g: LogEntries;
  readonly tF: number;
}

const worldArb: fc.Arbitrary<World> = fc
  .record({
    c: fc.nat({ max: 3 }),
    figure8: fc.boolean(),
    f: fc.nat({ max: 4 }),
    more: fc.nat({ max: 3 }),
    g1: fc.nat({ max: 3 }),
    g2: fc.nat({ max: 3 }),
  })
  .map(({ c, figure8, f, more, g1, g2 }) => {
    let common = appendTermStart(appendConfig(emptyEntries(0, 0), CONFIG), 1);
    if (c > 0) common = appendCommands(common, c);
    const tF = figure8 ? 3 : 2;
    const tG = figure8 ? 2 : 3;
    const commands = (l: LogEntries, n: number): LogEntries => (n > 0 ? appendCommands(l, n) : l);
    const fLog = commands(appendTermStart(common, tF), f);
    const g = commands(appendTermStart(commands(appendTermStart(common, tG), g1), 4), g2);
    return { f: fLog, p: commands(fLog, more), g, tF };
  });

/** An event: an AppendEntries from p (on P) or q (on G), or the install of a snapshot of G. */
type EventSpec =
  | { readonly t: 'p' | 'q'; readonly anchor: number; readonly n: number; readonly commit: number }
  | { readonly t: 'snap'; readonly index: number };

const specArb: fc.Arbitrary<EventSpec> = fc.oneof(
  {
    weight: 3,
    arbitrary: fc.record({
      t: fc.constantFrom('p' as const, 'q' as const),
      anchor: fc.nat({ max: 16 }),
      n: fc.nat({ max: 3 }),
      commit: fc.nat({ max: 16 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('snap' as const), index: fc.nat({ max: 16 }) }) },
);

/** The run of `log` after its position at `anchor` (clamped), at most `n` entries long. */
function slice(log: LogEntries, anchor: number, n: number): LogEntries {
  const at = Math.min(anchor, log.lastIndex);
  const rest = since(log, termAt(log, at), at)!;
  return truncateAfter(rest, Math.min(rest.lastIndex, at + n));
}

/**
 * The events of `specs` in `w`. p's messages carry its term tF and its commit index (within C);
 * q's carry term 4. A snapshot of G comes from q, so it is only installed after q's first message
 * (the application steps the leader's AppendEntries first); earlier ones are left out.
 */
function resolve(specs: readonly EventSpec[], w: World, commonEnd: number): RaftEvent[] {
  const out: RaftEvent[] = [];
  let heardFromQ = false;
  for (const s of specs) {
    if (s.t === 'snap') {
      const index = Math.max(1, Math.min(s.index, w.g.lastIndex));
      if (heardFromQ) out.push({ type: 'snapshotInstalled', term: termAt(w.g, index), index, config: CONFIG });
    } else if (s.t === 'p') {
      const entries = slice(w.p, s.anchor, s.n);
      out.push({ type: 'appendEntries', from: 'p', term: w.tF, commitIndex: Math.min(s.commit, commonEnd), entries });
    } else {
      heardFromQ = true;
      const entries = slice(w.g, s.anchor, s.n);
      out.push({ type: 'appendEntries', from: 'q', term: 4, commitIndex: Math.min(s.commit, w.g.lastIndex), entries });
    }
  }
  return out;
}

/** Carry out the storage actions on `disk` (the shared host's way); a message naming the problem, or null. */
function storeOn(disk: Disk, actions: RaftActions, after: RaftState): string | null {
  try {
    store(disk, actions, after.snapshotConfig);
    return null;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

function clean(l: LogEntries): LogEntries {
  return makeEntries(l.prevTerm, l.prevIndex, l.lastTerm, l.lastIndex, l.termStarts, l.configs);
}

describe('merged actions across snapshot installs are what the steps ask for one by one', () => {
  test('a follower taking AppendEntries and snapshots in one batch: the merged storage actions apply, and store the same log', () => {
    let resets = 0;
    let batchesWithInstall = 0;
    fc.assert(
      fc.property(worldArb, fc.array(specArb, { minLength: 2, maxLength: 6 }), (w, specs) => {
        const commonEnd = flatItems(w.f.termStarts).find((t) => t.term === w.tF)!.index - 1;
        const log = w.f;
        const events = resolve(specs, w, commonEnd);
        const [start] = restartNode({
          options: BASIC_OPTIONS,
          id: 'x',
          term: w.tF,
          votedFor: 'p',
          log,
          snapshotConfig: EMPTY_CONFIG,
        });
        // One by one.
        const one: Disk = { ...freshDisk(), log };
        let s: RaftState = start;
        let installs = 0;
        for (const e of events) {
          const before = s;
          const [next, actions] = step(s, e);
          s = next;
          if (actions.some((a) => a.type === 'compactLog')) {
            installs++;
            if (termAt(before.log, next.log.prevIndex) !== next.log.prevTerm) resets++;
          }
          const problem = storeOn(one, actions, next);
          if (problem !== null) throw new Error(`one by one: ${problem}`);
        }
        if (installs > 0) batchesWithInstall++;
        // Merged.
        const [merged, actions] = stepAll(start, events);
        expect(merged).toEqual(s);
        const all: Disk = { ...freshDisk(), log };
        const problem = storeOn(all, actions, merged);
        if (problem !== null) {
          throw new Error(
            `merged ${JSON.stringify(actions)} of ${JSON.stringify(events)} on ${showLog(log)}: ${problem}`,
          );
        }
        expect(clean(all.log)).toEqual(clean(one.log));
        // The node's log is a prefix of what is stored.
        const mem = merged.log;
        expect(all.log.prevIndex).toBe(mem.prevIndex);
        expect(sameEntries(all.log, mem, mem.prevIndex, mem.lastIndex)).toBe(true);
      }),
      fcParams('membership: merged actions across snapshot installs', 3000),
    );
    // eslint-disable-next-line no-console
    console.log(`[coverage] merge across installs: batches with an install ${batchesWithInstall}, resets ${resets}`);
    if (process.env.FC_PATH) return;
    expect(batchesWithInstall).toBeGreaterThan(300);
    expect(resets).toBeGreaterThan(100);
  });
});
