/**
 * The debugger page end to end, in a real browser: Debian's Chromium, headless, driven by
 * playwright-core. The page is bundled (scripts/build-debugger.js) into build/debugger-e2e and
 * served in-process for traces the simulator makes here; the test steps through a run with the
 * keyboard, the buttons and the go-to box and checks each node's role and term against
 * `timeline.view(N)` computed in Node, jumps to leader changes and faults, and opens a mutant's
 * trace at its violation with the violation's nodes highlighted. Screenshots go to
 * build/debugger-screenshots/; with RAFTSTEP_UPDATE_SCREENSHOT=1 the README's docs/debugger.png is
 * written again.
 *
 * Skipped, saying so, only when no Chromium is installed (`apt-get install chromium`; or set
 * CHROMIUM_PATH).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startDebuggerServer, type DebuggerServer } from '../../src/debugger/server.js';
import { loadTrace } from '../../src/debugger/model/model.js';
import { replayNetwork } from '../../src/debugger/model/network.js';
import { serializeTrace, simulate, type SimResult } from '../../src/sim/index.js';
import {
  becameLeader,
  createTimeline,
  recordingFromTraceText,
  type ClusterView,
  type Timeline,
} from '../../src/timetravel/index.js';

const root = path.resolve(__dirname, '..', '..');
const assets = path.join(root, 'build', 'debugger-e2e');
const shots = path.join(root, 'build', 'debugger-screenshots');

/** The Chromium to drive: CHROMIUM_PATH, or Debian's. */
const browserPath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
  (p): p is string => p !== undefined && p !== '' && fs.existsSync(p),
);

/** A run with a trace, served, and its whole timeline in Node. */
interface Served {
  readonly run: SimResult;
  readonly text: string;
  readonly timeline: Timeline;
  readonly server: DebuggerServer;
}

/** Serve the trace of `run`. */
async function serve(run: SimResult, name: string): Promise<Served> {
  const text = serializeTrace(run.trace!);
  const server = await startDebuggerServer({ traceText: text, traceName: name, assetsDir: assets });
  return { run, text, timeline: createTimeline(recordingFromTraceText(text)), server };
}

/** The first seed's run of `mutant` that breaks an invariant with more than one node named (else any). */
function failingRun(): SimResult {
  let any: SimResult | null = null;
  for (let seed = 1; seed <= 40; seed++) {
    const r = simulate({ seed, nodes: 5, steps: 2000, mutant: 'believesStaleReplies' });
    if (r.violation === null) continue;
    if (r.violation.nodes.length > 1) return r;
    any ??= r;
  }
  if (any === null) throw new Error('no seed of 1..40 makes believesStaleReplies fail');
  return any;
}

/** The first run from seed 1 with a partition and a crash. */
function faultyRun(): SimResult {
  for (let seed = 1; seed <= 40; seed++) {
    const r = simulate({ seed, nodes: 5, steps: 1500, faults: 'all' });
    if (r.summary.partitions > 0 && r.summary.crashes > 0 && r.violation === null) return r;
  }
  throw new Error('no seed of 1..40 gives a run with a partition and a crash');
}

/** The point of `from..to - 1` with a leader and the most messages in flight (a lively picture). */
function busiestPoint(served: Served, from: number, to: number): number {
  const messages = loadTrace(served.text).scan.messages;
  let best = from;
  let most = -1;
  for (let p = from; p < to; p++) {
    const n = messages.inFlightAt(p).length;
    if (n > most && served.timeline.view(p).leaders.length > 0) [best, most] = [p, n];
  }
  return best;
}

/** What the page tells about itself (`window.__raftstepDebugger`, see src/debugger/page/app.ts). */
interface Probe {
  readonly ready: boolean;
  readonly point: number;
  readonly stepTimes: number[];
  readonly network: string;
  readonly error: string | null;
}

/** The page's probe (this file has no DOM types: the page's code is given as text). */
async function probe(page: Page): Promise<Probe> {
  return (await page.evaluate('window.__raftstepDebugger')) as Probe;
}

/** Wait until the page's probe satisfies `condition` (JavaScript over `p`, the probe). */
async function until(page: Page, condition: string): Promise<void> {
  await page.waitForFunction(
    `(() => { const p = window.__raftstepDebugger; return p !== undefined && (${condition}); })()`,
  );
}

/** Open `url` and wait until the trace is loaded. */
async function open(page: Page, url: string): Promise<void> {
  await page.goto('about:blank');
  await page.goto(url);
  await until(page, 'p.ready === true || p.error !== null');
  const error = (await probe(page)).error;
  if (error !== null) throw new Error(`the page could not load the trace: ${error}`);
}

/** The `data-node` attribute of every element `selector` matches. */
async function nodesOf(page: Page, selector: string): Promise<string[]> {
  const list = page.locator(selector);
  const out: string[] = [];
  for (let i = 0; i < (await list.count()); i++) out.push((await list.nth(i).getAttribute('data-node')) ?? '');
  return out;
}

/** Wait until the page shows point `n`. */
async function at(page: Page, n: number): Promise<void> {
  await page.waitForSelector(`#point[data-point="${n}"]`, { timeout: 5000 });
}

/** Every node card's id, role text and term text. */
async function cards(page: Page): Promise<{ id: string; role: string; term: string | null }[]> {
  const list = page.locator('.node-card');
  const out: { id: string; role: string; term: string | null }[] = [];
  for (let i = 0; i < (await list.count()); i++) {
    const card = list.nth(i);
    const term = card.locator('.term');
    out.push({
      id: (await card.getAttribute('data-node')) ?? '',
      role: (await card.locator('.role').textContent()) ?? '',
      term: (await term.count()) === 0 ? null : await term.textContent(),
    });
  }
  return out;
}

/** The cards the page should show for `view`: running nodes with role and term, crashed ones. */
function expectedCards(view: ClusterView): { id: string; role: string; term: string | null }[] {
  return Object.values(view.nodes)
    .filter((n) => n.status === 'up' || n.status === 'crashed')
    .map((n) => ({ id: n.id, role: n.role ?? n.status, term: n.term === null ? null : String(n.term) }));
}

/** The page's cards match `timeline.view(n)`. */
async function expectMatches(page: Page, served: Served, n: number): Promise<void> {
  await at(page, n);
  expect(await cards(page)).toEqual(expectedCards(served.timeline.view(n)));
}

if (browserPath === undefined) {
  test.skip('chromium is not installed (apt-get install -y chromium, or set CHROMIUM_PATH): the browser tests are skipped', () => {});
} else {
  describe('the debugger page in Chromium', () => {
    let browser: Browser;
    let page: Page;
    let faulty: Served;
    let failing: Served;
    const errors: string[] = [];

    beforeAll(async () => {
      const built = spawnSync(process.execPath, [path.join(root, 'scripts', 'build-debugger.js'), '--out', assets], {
        encoding: 'utf8',
      });
      if (built.status !== 0) throw new Error(`bundling the page failed: ${built.stderr}`);
      fs.mkdirSync(shots, { recursive: true });
      faulty = await serve(faultyRun(), 'faulty.ndjson');
      failing = await serve(failingRun(), 'mutant.ndjson');
      browser = await chromium.launch({ executablePath: browserPath, args: ['--no-sandbox'] });
      page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      page.on('pageerror', (e) => errors.push(e.message));
    });

    afterAll(async () => {
      await browser?.close();
      await faulty?.server.close();
      await failing?.server.close();
    });

    afterEach(() => expect(errors).toEqual([]));

    test('steps forward and back, one event at a time, and shows what timeline.view(N) says', async () => {
      await open(page, `${faulty.server.url}#0`);
      await expectMatches(page, faulty, 0);
      for (let n = 1; n <= 40; n++) {
        await page.keyboard.press('ArrowRight');
        if (n % 8 === 0) await expectMatches(page, faulty, n);
      }
      for (let n = 39; n >= 25; n--) await page.keyboard.press('ArrowLeft');
      await expectMatches(page, faulty, 25);
      await page.click('button[data-action="forward"]');
      await expectMatches(page, faulty, 26);
      await page.click('button[data-action="back"]');
      await expectMatches(page, faulty, 25);
      const far = Math.floor(faulty.timeline.length * 0.6);
      await page.fill('#goto', String(far));
      await page.press('#goto', 'Enter');
      await expectMatches(page, faulty, far);
      await page.locator('body').click({ position: { x: 5, y: 5 } });
      await page.keyboard.press('ArrowLeft');
      await expectMatches(page, faulty, far - 1);
      const stepTimes = (await probe(page)).stepTimes;
      expect(stepTimes.length).toBeGreaterThan(50);
      stepTimes.sort((a, b) => a - b);
      expect(stepTimes[stepTimes.length >> 1]).toBeLessThan(100);
    });

    test('shows the event, its actions and what it changed', async () => {
      const n = 30;
      await open(page, `${faulty.server.url}#${n}`);
      await at(page, n);
      const event = faulty.timeline.event(n);
      expect(await page.textContent('.event-panel h3')).toBe(`Event ${n}`);
      expect(JSON.parse((await page.textContent('.raw-event'))!)).toEqual(JSON.parse(JSON.stringify(event)));
      expect(await page.locator('.actions li').count()).toBe(faulty.timeline.actionsOf(n).length);
      const changed = faulty.timeline.diff(n - 1, n).nodes.map((d) => d.id);
      expect(await nodesOf(page, '.node-diff')).toEqual(changed);
    });

    test('jumps to the next leader change and fault, with the keyboard and the buttons', async () => {
      await open(page, `${faulty.server.url}#0`);
      await page.keyboard.press('l');
      const elected = faulty.timeline.findFirst(becameLeader());
      await expectMatches(page, faulty, elected);
      expect(await page.locator('.node-card .role').allTextContents()).toContain('leader');
      const lifecycle = faulty.run.trace!.events.filter((e) => 'crash' in e || 'restart' in e || 'shutdown' in e);
      const history = replayNetwork(faulty.run.trace!.header, faulty.run.trace!.end);
      if (!history.ok) throw new Error(history.reason);
      await until(page, "p.network !== 'running'");
      const spans = [...history.history.cuts, ...history.history.slow];
      const faults = [...lifecycle.map((e) => e.n), ...spans.flatMap((c) => [c.from, c.to ?? 0])].filter(
        (p) => p > elected,
      );
      await page.click('button[data-jump="fault"][data-dir="1"]');
      await at(page, Math.min(...faults));
      await page.keyboard.press('Shift+L');
      const before = await page.getAttribute('#point', 'data-point');
      expect(Number(before)).toBeLessThan(Math.min(...faults));
    });

    test('shows a partition: the cut-off node and the cut links', async () => {
      const history = replayNetwork(faulty.run.trace!.header, faulty.run.trace!.end);
      if (!history.ok) throw new Error(history.reason);
      const cut = history.history.cuts[0]!;
      const p = busiestPoint(faulty, cut.from + 1, cut.to ?? faulty.timeline.length);
      await open(page, `${faulty.server.url}#${p}`);
      await until(page, "p.network !== 'running'");
      await page.waitForSelector('.node-card.is-partitioned');
      const cutOff = new Set(cut.links.flat());
      for (const id of await nodesOf(page, '.node-card.is-partitioned')) expect(cutOff.has(id)).toBe(true);
      expect(await page.locator('line.cut-link').count()).toBeGreaterThan(0);
      await page.screenshot({ path: path.join(shots, 'partition.png'), fullPage: true });
      if (process.env.RAFTSTEP_UPDATE_SCREENSHOT === '1') {
        await page.screenshot({ path: path.join(root, 'docs', 'debugger.png') });
      }
    });

    test("opens a mutant's trace at the violation, with the violation's nodes highlighted", async () => {
      const v = failing.run.violation!;
      await open(page, failing.server.url);
      await at(page, v.event);
      expect(await page.textContent('.violation-banner')).toContain(`${v.invariant} violated at event ${v.event}`);
      expect((await nodesOf(page, '.node-card.is-violation')).sort()).toEqual([...v.nodes].sort());
      expect((await nodesOf(page, 'svg g.node.is-violation')).sort()).toEqual([...v.nodes].sort());
      await expectMatches(page, failing, v.event);
      await page.screenshot({ path: path.join(shots, 'violation.png'), fullPage: true });
      await page.keyboard.press('ArrowLeft');
      await at(page, v.event - 1);
      expect(await page.locator('.node-card.is-violation').count()).toBe(0);
      await page.keyboard.press('v');
      await at(page, v.event);
    });

    test('plays and pauses', async () => {
      await open(page, `${faulty.server.url}#0`);
      await page.selectOption('select', '1000');
      await page.keyboard.press(' ');
      await until(page, 'p.point > 50');
      await page.keyboard.press(' ');
      await page.waitForSelector('button[data-action="play"]:text("Play")');
      const stopped = (await probe(page)).point;
      await page.waitForTimeout(200);
      expect((await probe(page)).point).toBe(stopped);
      await expectMatches(page, faulty, stopped);
      await page.screenshot({ path: path.join(shots, 'playing.png'), fullPage: true });
    });
  });
}
