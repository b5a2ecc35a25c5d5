/**
 * What a simulated world tells about itself: the counters of what happened in it
 * ({@link WorldStats}, `world.stats`) and the noteworthy happenings, in words ({@link Happening},
 * told to `world.narrator`). Every part of the world adds to the same counters.
 */

/**
 * Counters of what happened in a world. Every counter starts at 0 and only grows, except `maxTerm`,
 * `commitIndex`, `maxInflight` and `maxSkew`, which hold the highest value seen.
 */
export interface WorldStats {
  /** Messages and snapshot transfers handed to the network. */
  sent: number;
  /** Messages and snapshot transfers that reached a running node (each copy of a duplicate counts). */
  delivered: number;
  /** Messages lost at random (the `drop` fault), or dropped by hand in manual mode. */
  dropped: number;
  /**
   * Messages lost to a partition: their link was cut when they were sent, or when they arrived
   * (snapshot transfers count here when the cut came while they were on the way).
   */
  partitionDrops: number;
  /** Messages that arrived at a node that was down or removed. */
  downDrops: number;
  /** Messages and snapshot transfers sent twice (the `dup` fault, or duplicated by hand in manual mode). */
  duplicates: number;
  /** Message copies held back by the `reorder` fault, so that later messages may overtake them. */
  reordered: number;
  /** Cuts made in the network (a split, an isolated node or a one-way cut), counted when made. */
  partitions: number;
  /** Node crashes. */
  crashes: number;
  /** Crashes that lost writes not yet durable. */
  crashesLosingWrites: number;
  /** Storage writes not yet durable that crashes lost. */
  lostWrites: number;
  /** Restarts of crashed nodes from their durable state (`restartNode`). */
  restarts: number;
  /** Snapshot transfers sent (at most one at a time from a node to a follower). */
  snapshotsSent: number;
  /**
   * Snapshot transfers lost: by the `snapshot` fault, to a cut in place when sent, or dropped by hand
   * in manual mode.
   */
  snapshotsLost: number;
  /** Snapshot transfers their receiver installed (it compacted its log to them). */
  snapshotsInstalled: number;
  /** Local compactions (a node snapshotting its own state machine). */
  compactions: number;
  /** Client proposals (`propose` events stepped by `World.propose`), whatever became of them. */
  proposals: number;
  /** Commands carried by the client proposals the node accepted. */
  commandsProposed: number;
  /** Client proposals the node refused (a `rejected` action, whatever the reason). */
  proposalsRejected: number;
  /** Configuration proposals the leader took (the operator's membership changes). */
  configProposals: number;
  /** Configuration changes committed: final (not joint) configurations, the initial one excluded. */
  configChanges: number;
  /** Nodes the operator started and had the leader take as new members (voters or non-voters). */
  nodesAdded: number;
  /**
   * Nodes shut down for good (`World.shutdown`): members a committed configuration left out, and
   * added nodes whose addition the leader refused or that was lost.
   */
  nodesRemoved: number;
  /** Promotions of a non-voter to voter that the operator had the leader take (proposed, not yet committed). */
  promotions: number;
  /**
   * Elections started: a node raised its term voting for itself (by a timeout, a won pre-vote, a
   * leadership transfer, or forming a cluster).
   */
  elections: number;
  /** Leaders elected (a node becoming leader of a term). */
  leaderships: number;
  /** Elected leaders that differ from the one elected before them. */
  leaderChanges: number;
  /** The highest term any node reached. */
  maxTerm: number;
  /**
   * Client commands committed (counted when their index is first committed anywhere; term starts
   * and configuration entries excluded).
   */
  commits: number;
  /** The highest index committed anywhere (term starts and configuration entries included). */
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
  /** Leadership transfers the operator asked for (`World.transferLeadership`), taken or refused. */
  transferRequests: number;
  /** Leadership transfers a leader started (the nodes' `transfersStarted` counters, kept across restarts). */
  transfers: number;
  /** Leadership transfers that ended with their target elected (it campaigned on `timeoutNow` and won). */
  transfersCompleted: number;
  /** Leaders that stepped down because their majority went quiet (`checkQuorumStepDowns`). */
  checkQuorumStepDowns: number;
  /** Times a follower became slow (the `slow` fault). */
  slowEpisodes: number;
  /** Messages dropped because a slow node's incoming queue was full. */
  slowDrops: number;
  /** The most entries a leader ever had in flight to one follower (`sent - match`, flow control on). */
  maxInflight: number;
  /** Nodes started with a skewed timer rate (the `skew` fault), each counted when started. */
  skewedNodes: number;
  /** The largest skew drawn: the largest `|rate - 1|` of a node's timer rate (0.05: 5% fast or slow). */
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
  /**
   * What happened: a leader elected (or a transfer asked of one), a node crashed, restarted or shut
   * down, a partition or a slow node (`partition`) and its end (`heal`), a local compaction, a
   * snapshot installed from a leader, a membership change proposed, a configuration committed, a
   * liveness check passed after the faults stopped.
   */
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
  /** What happened, in words: one line for a log or a narrated run. */
  readonly text: string;
}
