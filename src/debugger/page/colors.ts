/**
 * The page's colours, shared by the SVG, the canvas and (by the same names) the style sheet.
 */
import type { MarkerKind } from '../model/markers.js';
import type { Phase } from '../model/lanes.js';
import type { MessageFate } from '../model/messages.js';

/** The fill of each phase, in the cluster picture and the lanes. */
export const PHASE_COLORS: Readonly<Record<Phase, string>> = {
  follower: '#9bbbd9',
  preCandidate: '#f3dc8f',
  candidate: '#f0a05a',
  leader: '#3aa76d',
  halted: '#9b59b6',
  crashed: '#d9534f',
  shutdown: '#d5d5d5',
  notStarted: '#eeeeee',
};

/** The colour of each marker kind. */
export const MARKER_COLORS: Readonly<Record<MarkerKind, string>> = {
  leader: '#2e8b57',
  commit: '#2f6fb5',
  fault: '#d9534f',
  config: '#8e44ad',
  violation: '#b0001e',
};

/** The colour of a message arrow, by fate. */
export const FATE_COLORS: Readonly<Record<MessageFate, string>> = {
  delivered: '#4a5a6a',
  duplicate: '#e67e22',
  dropped: '#d9534f',
  inFlight: '#7f8c8d',
  unmatched: '#7f8c8d',
};

/** The colour of a message's dot, by type (votes warm, replication cool, reads grey). */
export function messageColor(type: string): string {
  if (type.startsWith('requestVote') || type.startsWith('preVote') || type === 'timeoutNow') return '#e67e22';
  if (type.startsWith('appendEntries')) return '#2f6fb5';
  if (type === 'snapshot') return '#8e44ad';
  return '#607080';
}
