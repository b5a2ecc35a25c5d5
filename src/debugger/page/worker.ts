/**
 * The page's worker: runs a trace's simulation again (see `replayNetwork`) off the page's thread
 * and answers with what the network did. It is given the trace's header and end lines.
 */
import type { TraceEnd, TraceHeader } from '../../sim/trace.js';
import { replayNetwork } from '../model/network.js';

/** The little of a worker's global scope used here (the page's types are the DOM's). */
const scope = self as unknown as {
  onmessage: ((e: MessageEvent<{ header: TraceHeader; end: TraceEnd | null }>) => void) | null;
  postMessage(message: unknown): void;
};

scope.onmessage = (e) => {
  const { header, end } = e.data;
  let answer;
  try {
    answer = replayNetwork(header, end);
  } catch (err) {
    answer = { ok: false, reason: err instanceof Error ? err.message : String(err) };
  }
  scope.postMessage(answer);
};
