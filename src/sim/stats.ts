/**
 * What a simulated world tells about itself: the counters of what happened in it
 * ({@link WorldStats}, `world.stats`) and the noteworthy happenings, in words ({@link Happening},
 * told to `world.narrator`). Every part of the world adds to the same counters.
 */

/** Counters of what happened in a world. */
export interface WorldStats {
  /** Messages and snapshot transfers handed to the network. */
  sent: number;
  delivered: number;
  /** Messages lost at random (the `drop` fault). */
  dropped: number;
  /** Messages lost to a partition. */
  partitionDrops: number;
  /** Messages that arrived at a node that was down or removed. */
  downDrops: number;
  duplicates: number;
  reordered: number;
  partitions: number;
  crashes: number;
  /** Crashes that lost writes not yet durable, and the writes they lost. */
  crashesLosingWrites: number;
  lostWrites: number;
  restarts: number;
  /** Snapshot transfers sent, lost, and installed by their receiver. */
  snapshotsSent: number;
  snapshotsLost: number;
  snapshotsInstalled: number;
  /** Local compactions (a node snapshotting its own state machine). */
  compactions: number;
  /** Client proposals (events), commands they carried, and proposals refused. */
  proposals: number;
  commandsProposed: number;
  proposalsRejected: number;
  /** Configuration proposals the leader took; configuration changes committed (final configs). */
  configProposals: number;
  configChanges: number;
  nodesAdded: number;
  nodesRemoved: number;
  promotions: number;
  /** Elections started, leaders elected, elected leaders that differ from the previous one. */
  elections: number;
  leaderships: number;
  leaderChanges: number;
  maxTerm: number;
  /** Client commands committed (applied first by some replica), and the highest committed index. */
  commits: number;
  commitIndex: number;
  /** Proposals refused because the leader was handing leadership over (`transferInProgress`). */
  proposalsRejectedByTransfer: number;
  /** Client reads issued (`read` events). */
  reads: number;
  /** Reads answered (`readReady`) whose index the checker verified against the committed history. */
  readsChecked: number;
  /** Reads refused (`rejected`): counted, never a violation. */
  readsRejected: number;
  /** Reads whose node crashed or was shut down before answering (their answer died with it). */
  readsLost: number;
  /** Pre-vote rounds started (the nodes' `preVotesStarted` counters, kept across restarts). */
  preVotes: number;
  /** Leadership transfers the operator asked for, and those a leader started (`transfersStarted`). */
  transferRequests: number;
  transfers: number;
  /** Leadership transfers that ended with their target elected (it campaigned on `timeoutNow` and won). */
  transfersCompleted: number;
  /** Leaders that stepped down because their majority went quiet (`checkQuorumStepDowns`). */
  checkQuorumStepDowns: number;
  /** Times a follower became slow, and messages dropped because a slow follower's queue was full. */
  slowEpisodes: number;
  slowDrops: number;
  /** The most entries a leader ever had in flight to one follower (`sent - match`, flow control on). */
  maxInflight: number;
  /** Nodes whose timers run off real time (the `skew` fault), and the largest skew drawn. */
  skewedNodes: number;
  maxSkew: number;
}

/** A world's counters before anything happened. */
export function zeroStats(): WorldStats {
  return {
    sent: 0,
    delivered: 0,
    dropped: 0,
    partitionDrops: 0,
    downDrops: 0,
    duplicates: 0,
    reordered: 0,
    partitions: 0,
    crashes: 0,
    crashesLosingWrites: 0,
    lostWrites: 0,
    restarts: 0,
    snapshotsSent: 0,
    snapshotsLost: 0,
    snapshotsInstalled: 0,
    compactions: 0,
    proposals: 0,
    commandsProposed: 0,
    proposalsRejected: 0,
    configProposals: 0,
    configChanges: 0,
    nodesAdded: 0,
    nodesRemoved: 0,
    promotions: 0,
    elections: 0,
    leaderships: 0,
    leaderChanges: 0,
    maxTerm: 0,
    commits: 0,
    commitIndex: 0,
    proposalsRejectedByTransfer: 0,
    reads: 0,
    readsChecked: 0,
    readsRejected: 0,
    readsLost: 0,
    preVotes: 0,
    transferRequests: 0,
    transfers: 0,
    transfersCompleted: 0,
    checkQuorumStepDowns: 0,
    slowEpisodes: 0,
    slowDrops: 0,
    maxInflight: 0,
    skewedNodes: 0,
    maxSkew: 0,
  };
}

/** Something noteworthy that happened, in words (see `World.narrator`). */
export interface Happening {
  /** Virtual time, in virtual milliseconds. */
  readonly time: number;
  /** The number of the last event. */
  readonly event: number;
  readonly kind:
    | 'leader'
    | 'crash'
    | 'restart'
    | 'shutdown'
    | 'partition'
    | 'heal'
    | 'compaction'
    | 'snapshot'
    | 'membership'
    | 'config'
    | 'liveness';
  readonly text: string;
}
