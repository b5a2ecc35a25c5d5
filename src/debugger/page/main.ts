/**
 * The page's entry: fetch the trace the server serves at `trace.ndjson`, start the network replay
 * in a worker (from the header and end lines alone, so it runs while the trace is read), build the
 * model, and draw the page — at the violation when the run ended in one, else at the point in the
 * URL's hash (`#1234`), else at 0.
 */
import { h, render } from 'preact';
import type { TraceEnd, TraceHeader } from '../../sim/trace.js';
import { parseTrace } from '../../sim/trace.js';
import { modelOfTrace, type TraceModel } from '../model/model.js';
import type { NetworkReplay } from '../model/network.js';
import { App, probe } from './app.js';

/** The first line of `text` (with `back`: its last line that is not blank). */
function edgeLine(text: string, back: boolean): string {
  if (!back) return text.slice(0, text.indexOf('\n') < 0 ? text.length : text.indexOf('\n'));
  const trimmed = text.trimEnd();
  return trimmed.slice(trimmed.lastIndexOf('\n') + 1);
}

/** Start running the trace's simulation again in a worker, or null when the trace is not a simulation's. */
function startNetworkReplay(text: string): Promise<NetworkReplay> | null {
  let header: TraceHeader;
  let end: TraceEnd | null = null;
  try {
    header = JSON.parse(edgeLine(text, false)) as TraceHeader;
    const last = JSON.parse(edgeLine(text, true)) as { type?: unknown };
    if (last.type === 'end') end = last as unknown as TraceEnd;
  } catch {
    return null; // loading the trace says what is wrong with it
  }
  if (header.options === null || end === null || typeof Worker === 'undefined') return null;
  return new Promise((resolve, reject) => {
    const worker = new Worker('worker.js');
    worker.onmessage = (e: MessageEvent<NetworkReplay>) => {
      resolve(e.data);
      worker.terminate();
    };
    worker.onerror = (e) => reject(new Error(e.message || 'the worker failed'));
    worker.postMessage({ header, end });
  });
}

/** The trace's file name, from the server's Content-Disposition header. */
function traceName(res: Response): string {
  const m = /filename="([^"]*)"/.exec(res.headers.get('Content-Disposition') ?? '');
  return m?.[1] ?? 'trace.ndjson';
}

/** A frame later (so that what was just rendered is painted before a long task). */
function nextFrame(): Promise<void> {
  return new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
}

/** Show `message` in place of the page. */
function fail(root: HTMLElement, message: string): void {
  probe().error = message;
  render(h('div', { class: 'load-error' }, h('h2', null, 'The trace cannot be shown'), h('p', null, message)), root);
}

/** The point to open at. */
function initialPoint(model: TraceModel): number {
  if (model.violation !== null) return Math.min(model.scan.length, model.violation.event);
  const asked = Number(location.hash.slice(1));
  return location.hash.length > 1 && Number.isSafeInteger(asked) ? Math.min(model.scan.length, Math.max(0, asked)) : 0;
}

/** Load the trace and draw the page. */
async function start(root: HTMLElement): Promise<void> {
  const started = performance.now();
  const res = await fetch('trace.ndjson', { cache: 'no-store' });
  if (!res.ok) return fail(root, `fetching trace.ndjson answered ${res.status} ${res.statusText}`);
  const text = await res.text();
  const fetched = performance.now();
  const name = traceName(res);
  document.title = `${name} — raftstep debugger`;
  const network = startNetworkReplay(text);
  void network?.finally(() => (probe().networkMs = performance.now() - started));
  render(h('p', { class: 'loading' }, `Replaying ${name} (${(text.length / 1e6).toFixed(1)} MB)…`), root);
  await nextFrame();
  const marks = [performance.now()];
  let model: TraceModel;
  try {
    const trace = parseTrace(text);
    marks.push(performance.now());
    model = modelOfTrace(trace);
    marks.push(performance.now());
    model.timeline.view(initialPoint(model));
    marks.push(performance.now());
  } catch (err) {
    return fail(root, err instanceof Error ? err.message : String(err));
  }
  const loadMs = performance.now() - started;
  render(h(App, { model, name, loadMs, network, initial: initialPoint(model) }), root);
  const pr = probe();
  const phases = {
    fetch: fetched - started,
    parse: marks[1]! - marks[0]!,
    scan: marks[2]! - marks[1]!,
    segment: marks[3]! - marks[2]!,
  };
  Object.assign(pr, { ready: true, loadMs, phases, length: model.scan.length });
  document.body.dataset.ready = 'true';
}

const root = document.getElementById('app');
if (root !== null) {
  start(root).catch((err: unknown) => fail(root, err instanceof Error ? err.message : String(err)));
}
