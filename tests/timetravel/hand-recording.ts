/**
 * A recording made by hand, the way a host runtime would log its nodes: three nodes in one
 * process, a FIFO of messages whose contents are logged after every event, a crash and a restart.
 */
import {
  peersOf,
  restartNode,
  startNode,
  step,
  type RaftActions,
  type RaftEvent,
  type RaftState,
} from '../../src/index.js';
import type { InFlightMessage, NetworkSnapshot, RecordedEvent, Recording } from '../../src/timetravel/index.js';

/** The recording, and the actions each of its events returned (in order). */
export function handRecording(): { recording: Recording; actions: RaftActions[] } {
  const ids = ['a', 'b', 'c'];
  const states = new Map<string, RaftState | null>(ids.map((id) => [id, startNode(id)[0]]));
  const initial = Object.fromEntries(states);
  const events: RecordedEvent[] = [];
  const actions: RaftActions[] = [];
  const queue: InFlightMessage[] = [];
  let time = 0;
  const network = (): NetworkSnapshot => ({ inFlight: queue.slice(), cuts: [] });
  const send = (from: string, state: RaftState, acts: RaftActions): void => {
    for (const a of acts) {
      if (a.type === 'send') queue.push({ from, to: a.to, message: a.message });
      if (a.type === 'broadcast') for (const to of peersOf(state)) queue.push({ from, to, message: a.message });
    }
  };
  const stepNode = (node: string, event: RaftEvent): void => {
    const [next, acts] = step(states.get(node)!, event);
    states.set(node, next);
    send(node, next, acts);
    events.push({ node, event, time: time++, network: network() });
    actions.push(acts);
  };
  const deliverAll = (): void => {
    for (let k = 0; k < 200 && queue.length > 0; k++) {
      const m = queue.shift()!;
      if (states.get(m.to) !== null) stepNode(m.to, m.message as RaftEvent);
    }
  };
  stepNode('a', { type: 'createCluster', voters: ids });
  stepNode('a', { type: 'timeout' });
  deliverAll();
  const c = states.get('c')!;
  states.set('c', null);
  events.push({ node: 'c', lifecycle: { type: 'crash' }, time: time++ });
  actions.push([]);
  stepNode('a', { type: 'propose', count: 2 });
  deliverAll();
  const persisted = { id: 'c', term: c.term, votedFor: c.votedFor, log: c.log, snapshotConfig: c.snapshotConfig };
  const [restarted, acts] = restartNode(persisted);
  states.set('c', restarted);
  events.push({ node: 'c', lifecycle: { type: 'restart', persisted }, time: time++, network: network() });
  actions.push(acts);
  stepNode('a', { type: 'heartbeat' });
  deliverAll();
  return { recording: { initial, events, network: { inFlight: [], cuts: [] }, time: null }, actions };
}
