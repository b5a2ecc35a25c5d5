/**
 * The operator: the person (or control plane) who changes a cluster's membership, as raftstep's
 * membership rules ask.
 *
 * - Adding a node: start it with `startNode` first, then have the leader propose a configuration
 *   with it, as a non-voter (`withNonVoters`, no joint phase) or straight as a voter
 *   (`toJointConsensus`, through a joint configuration the leader finalises by itself).
 * - Promoting a non-voter: `toJointConsensus(config, [id], [])` (it leaves the non-voters).
 * - Removing a voter (possibly the leader itself) or a non-voter.
 * - Removed nodes are shut down once a committed configuration leaves them out; a node whose
 *   addition was lost (its configuration entry was overwritten: another entry committed at its
 *   index, or an entry of a later term committed before it) is shut down too, since it may hold a
 *   configuration that makes it campaign, and nothing would ever reach it again.
 */
import {
  allMembers,
  configChangeInProgress,
  latestConfig,
  toJointConsensus,
  withNonVoters,
  type ClusterConfig,
} from '../index.js';
import type { World } from './world.js';

/** The membership changes the operator can make. */
export type MembershipChange = 'addNonVoter' | 'addVoter' | 'promote' | 'removeVoter' | 'removeNonVoter';

/** Every membership change, in a fixed order (the simulator picks from them at random). */
export const MEMBERSHIP_CHANGES: readonly MembershipChange[] = Object.freeze([
  'addNonVoter',
  'addVoter',
  'promote',
  'removeVoter',
  'removeNonVoter',
]);

/** What came of an attempt to change the membership. */
export type ChangeOutcome =
  | {
      /** The leader appended the new configuration (it is not committed yet). */
      readonly ok: true;
      /** The change made: the one asked for, or the one chosen at random. */
      readonly change: MembershipChange;
      /**
       * The node added, promoted or removed. An added node is a fresh node `n<k>`, started before
       * the proposal.
       */
      readonly node: string;
      /** The log index of the configuration entry the leader appended. */
      readonly index: number;
    }
  | {
      /** No change was made. */
      readonly ok: false;
      /**
       * Why: `noLeader`, no node is up as leader; `busy`, a membership change is under way
       * (`configChangeInProgress`); `impossible`, no change fits the limits, or the one asked for
       * does not; `refused`, the leader appended nothing for the proposal (a node started for an
       * addition is shut down again).
       */
      readonly reason: 'noLeader' | 'busy' | 'impossible' | 'refused';
    };

/**
 * Makes a world's membership changes through its leader, one at a time, and shuts down the nodes a
 * committed configuration leaves out (see the module comment). `limits` bound the cluster:
 * at most `maxMembers` members, and no voter removed below `minVoters`; new nodes are named
 * `n<k>` from `firstNewId` on.
 */
export class Operator {
  private nextId: number;
  /** Shut-downs decided while a replica was applying, carried out right after. */
  private readonly toShutDown: string[] = [];

  constructor(
    private readonly world: World,
    private readonly limits: { maxMembers: number; minVoters: number },
    firstNewId: number,
  ) {
    this.nextId = firstNewId;
    world.onConfigCommitted.push((index, config) => this.configCommitted(index, config));
    world.onCommitted.push((index, term) => this.entryCommitted(index, term));
  }

  /**
   * Make one membership change through the current leader: `change` if given (and possible), else
   * a possible one chosen at random; `pick` chooses among the candidate nodes.
   */
  change(change?: MembershipChange, pick?: number): ChangeOutcome {
    const w = this.world;
    const leader = w.leader();
    if (leader === null) return { ok: false, reason: 'noLeader' };
    const s = leader.state!;
    if (configChangeInProgress(s)) return { ok: false, reason: 'busy' };
    const config = latestConfig(s);
    const members = allMembers(config);
    const canAdd = members.length < this.limits.maxMembers;
    const possible: MembershipChange[] = [];
    if (canAdd) possible.push('addNonVoter', 'addVoter');
    if (config.nonVoters.length > 0) possible.push('promote', 'removeNonVoter');
    if (config.voters.length > this.limits.minVoters) possible.push('removeVoter');
    if (possible.length === 0) return { ok: false, reason: 'impossible' };
    const kind = change !== undefined ? change : w.rng.pick(possible);
    if (!possible.includes(kind)) return { ok: false, reason: 'impossible' };
    const choose = (ids: readonly string[]): string =>
      pick === undefined ? w.rng.pick(ids) : ids[Math.abs(pick) % ids.length]!;
    let node: string;
    let next: ClusterConfig;
    switch (kind) {
      case 'addNonVoter':
      case 'addVoter':
        node = this.newNodeId();
        w.startNode(node);
        next = kind === 'addVoter' ? toJointConsensus(config, [node], []) : withNonVoters(config, [node], []);
        break;
      case 'promote':
        node = choose(config.nonVoters);
        next = toJointConsensus(config, [node], []);
        break;
      case 'removeVoter':
        node = choose(config.voters);
        next = toJointConsensus(config, [], [node]);
        break;
      case 'removeNonVoter':
        node = choose(config.nonVoters);
        next = withNonVoters(config, [], [node]);
        break;
    }
    const [after] = w.stepNode(leader.id, { type: 'proposeConfig', config: next });
    if (after.log.lastIndex === s.log.lastIndex) {
      if (kind === 'addVoter' || kind === 'addNonVoter') w.shutdown(node);
      return { ok: false, reason: 'refused' };
    }
    w.stats.configProposals++;
    if (kind === 'addVoter' || kind === 'addNonVoter') {
      w.stats.nodesAdded++;
      w.node(node)!.addedAt = { term: after.term, index: after.log.lastIndex };
    }
    if (kind === 'promote') w.stats.promotions++;
    if (w.narrator !== null) {
      const what = {
        addNonVoter: `add ${node} as a non-voter`,
        addVoter: `add ${node} as a voter`,
        promote: `promote ${node} to voter`,
        removeVoter: `remove voter ${node}`,
        removeNonVoter: `remove non-voter ${node}`,
      }[kind];
      w.tell('membership', `leader ${leader.id} proposed to ${what}`);
    }
    return { ok: true, change: kind, node, index: after.log.lastIndex };
  }

  /** Carry out the shut-downs decided while replicas applied entries. */
  flush(): void {
    while (this.toShutDown.length > 0) this.world.shutdown(this.toShutDown.shift()!);
  }

  private newNodeId(): string {
    for (;;) {
      const id = `n${this.nextId++}`;
      if (this.world.node(id) === undefined) return id;
    }
  }

  private configCommitted(_index: number, config: ClusterConfig): void {
    const members = allMembers(config);
    for (const h of this.world.nodes()) {
      if (h.status === 'removed') continue;
      if (members.includes(h.id)) {
        h.committedMember = true;
        h.addedAt = null;
      } else if (h.committedMember) {
        h.committedMember = false;
        this.later(h.id);
      }
    }
  }

  private entryCommitted(index: number, term: number): void {
    for (const h of this.world.nodes()) {
      const a = h.addedAt;
      // The configuration that added this node was overwritten: another entry committed at its index,
      // or an entry of a later term committed before it (log terms never decrease along a log, so no
      // log holding that entry at a.index can hold a later term below it). It will never be a member.
      const lost = a !== null && ((a.index === index && a.term !== term) || (index < a.index && term > a.term));
      if (a !== null && h.status !== 'removed' && lost) {
        h.addedAt = null;
        this.later(h.id);
      }
    }
  }

  private later(id: string): void {
    if (!this.toShutDown.includes(id)) this.toShutDown.push(id);
    this.world.after(0, () => this.flush());
  }
}
