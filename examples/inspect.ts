/**
 * A three-node cluster in the simulator, partitioned and healed, recorded, then explored: time
 * travel (the first election, what it changed, the first commit, stepping back) and the run as
 * XState inspection events, the way Stately's inspector would receive them.
 *
 * Run: npx tsc -p tsconfig.examples.json && node build/examples/inspect.js [seed]
 * To watch it in Stately's inspector, pass `(e) => inspector.adapter.send(e)` (from
 * `createBrowserInspector()` or `createWebSocketInspector()` of `@statelyai/inspect`) as `emit`.
 */
import { World } from '../src/sim/index.js';
import { inspectTimeline, type InspectionEvent } from '../src/inspect/index.js';
import { becameLeader, createTimeline, firstCommitAtOrAbove, recordingFromTrace } from '../src/timetravel/index.js';

const seed = Number(process.argv[2] ?? 11);
if (!Number.isSafeInteger(seed)) {
  console.error('usage: node build/examples/inspect.js [seed]');
  process.exit(2);
}

// A run: elect a leader, commit a few commands, cut the leader off, let the others elect a new
// one, heal, and commit again. The network loses nothing here: the partition is the only fault.
const world = new World({ seed, faults: [] });
const ids = ['n1', 'n2', 'n3'];
world.bootstrap(ids);
world.advance(1_000);
const first = world.leader()?.id;
if (first === undefined) throw new Error('no leader after a second');
world.propose(first, 3);
world.advance(200);
const others = ids.filter((id) => id !== first);
const cut = world.cut([first], others);
world.advance(2_000);
const second = world.leader()?.id ?? '(none)';
world.healCut(cut);
world.advance(500);
const leader = world.leader()?.id;
if (leader !== undefined) world.propose(leader, 2);
world.advance(500);

const trace = world.trace();
if (trace === null) throw new Error('the world recorded no trace');
const timeline = createTimeline(recordingFromTrace(trace));
console.log(`seed ${seed}: ${timeline.length} events over ${world.now} virtual ms on ${timeline.nodes.join(', ')}`);
console.log(`${first} led first; cut off from ${others.join(' and ')}, which then elected ${second}; healed\n`);

// Time travel.
const elected = timeline.findFirst(becameLeader());
const change = timeline.diff(elected - 1, elected).nodes[0]!;
console.log(
  `event ${elected}: the first leader (${timeline.view(elected).leaders.join(', ')}); what the event changed on ${change.id}:`,
);
for (const f of change.fields.filter((x) => typeof x.after !== 'object')) {
  console.log(`  ${f.field}: ${JSON.stringify(f.before)} -> ${JSON.stringify(f.after)}`);
}
console.log(
  `event ${timeline.findFirst(firstCommitAtOrAbove(3))}: an entry at index 3 or above is first known committed`,
);
const cursor = timeline.cursor(timeline.length);
const last = cursor.view().leaders.at(-1);
if (last !== undefined) {
  // Step back (constant time per event: inverse patches) while the last leader still leads.
  while (cursor.view().nodes[last]?.role === 'leader' && cursor.stepBack());
  console.log(`stepping back from the end: ${last} has led since event ${cursor.position + 1}\n`);
}

// The run as inspection events.
const events: InspectionEvent[] = [];
inspectTimeline(timeline, (e) => events.push(e));
const describe = (e: InspectionEvent): string => {
  const what =
    e.type === '@xstate.actor'
      ? `actor ${e.name}, ${e.snapshot.value}`
      : e.type === '@xstate.event'
        ? `${e.event.type}${e.sourceRef === undefined ? '' : ` from ${e.sourceRef.id}`}`
        : `${e.snapshot.value}, term ${e.snapshot.context.term}, commit ${e.snapshot.context.commitIndex}`;
  return `  #${e.id} t=${e.createdAt} ${e.type.padEnd(16)} ${e.sessionId}: ${what}`;
};
console.log('the first inspection events:');
for (const e of events.slice(0, 12)) console.log(describe(e));
console.log(`\none of them in full:\n  ${JSON.stringify(events.find((e) => e.type === '@xstate.snapshot'))}\n`);
const counts = new Map<string, number>();
for (const e of events) counts.set(e.type, (counts.get(e.type) ?? 0) + 1);
console.log('inspection events per kind:');
for (const [kind, count] of counts) console.log(`  ${kind.padEnd(16)} ${count}`);
const sources = events.filter((e) => e.type === '@xstate.event' && e.sourceRef !== undefined).length;
console.log(`  (${sources} of the events are messages, with their sender as sourceRef)`);
