/**
 * The keys the simulator's run summary documents (README, "Simulation"): the `--json` line of
 * `npm run sim` and `simulate(...).summary` must both carry every one of them.
 */
export const DOCUMENTED_SUMMARY_KEYS: readonly string[] = [
  'seed',
  'nodes',
  'steps',
  'elections',
  'leaderChanges',
  'commits',
  'drops',
  'duplicates',
  'partitions',
  'crashes',
  'restarts',
  'snapshotsInstalled',
  'configChanges',
  'reads',
  'readsChecked',
  'readsRejected',
  'preVotes',
  'transfers',
  'checkQuorumStepDowns',
  'violations',
];
