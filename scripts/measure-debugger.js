#!/usr/bin/env node
// Measures the visual debugger on a long trace in a real browser (Debian's Chromium, headless, driven
// by playwright-core): how long the page takes to load the trace (fetch, parse with the hash chain
// checked, one replay for the lanes, markers, messages and checkpoints, the first segment's timeline),
// how long one step forward or back takes (from the key press to the page updated, measured in the
// page), how long a jump to the next leader change or commit takes, and when the network replay (the
// simulation run again in a worker, for partitions) answered.
// Usage: node scripts/measure-debugger.js [--events N (100000)] [--seed S (2)] [--nodes K (5)] [--runs R (3)]
// Needs chromium (apt-get install -y chromium, or CHROMIUM_PATH). Writes its bundles under build/.
'use strict';

const fs = require('node:fs');
const path = require('node:path');
const { buildDebuggerPage } = require('./build-debugger.js');

const root = path.resolve(__dirname, '..');

/** The command line's options. */
function parseArgs(argv) {
  const o = { events: 100_000, seed: 2, nodes: 5, runs: 3 };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in o) || !/^\d+$/.test(argv[i + 1] ?? '')) {
      console.error('usage: node scripts/measure-debugger.js [--events N] [--seed S] [--nodes K] [--runs R]');
      process.exit(2);
    }
    o[key] = Number(argv[i + 1]);
  }
  return o;
}

/** The simulator and the server, bundled from src/ for Node (no dependency on a build of the package). */
async function loadSources() {
  const out = path.join(root, 'build', 'measure-debugger', 'node.js');
  await require('esbuild').build({
    stdin: {
      contents:
        "export { simulate, serializeTrace } from './src/sim/index.ts';\n" +
        "export { startDebuggerServer } from './src/debugger/server.ts';\n",
      resolveDir: root,
      loader: 'ts',
    },
    bundle: true,
    platform: 'node',
    format: 'cjs',
    outfile: out,
    logLevel: 'warning',
  });
  return require(out);
}

/** The median, 95th percentile and maximum of `xs`, in milliseconds with one decimal. */
function stats(xs) {
  const s = [...xs].sort((a, b) => a - b);
  const at = (q) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
  return `median ${at(0.5).toFixed(1)} ms, p95 ${at(0.95).toFixed(1)} ms, max ${s[s.length - 1].toFixed(1)} ms (${s.length})`;
}

/** Press `key` `times` times, each time waiting until the page shows another point. */
async function press(page, key, times) {
  for (let i = 0; i < times; i++) {
    const before = await page.evaluate('window.__raftstepDebugger.point');
    await page.keyboard.press(key);
    await page.waitForFunction(`window.__raftstepDebugger.point !== ${before}`, null, { timeout: 10_000 });
  }
}

/** The step times the page recorded since `from`. */
async function stepTimes(page, from) {
  return (await page.evaluate('window.__raftstepDebugger.stepTimes')).slice(from);
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const browserPath = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'].find(
    (p) => p && fs.existsSync(p),
  );
  if (browserPath === undefined) {
    console.error('measure-debugger: no chromium (apt-get install -y chromium, or set CHROMIUM_PATH)');
    process.exit(2);
  }
  const assets = path.join(root, 'build', 'measure-debugger', 'page');
  await buildDebuggerPage(assets);
  const { simulate, serializeTrace, startDebuggerServer } = await loadSources();
  let t = Date.now();
  const run = simulate({ seed: o.seed, nodes: o.nodes, steps: o.events });
  const text = serializeTrace(run.trace);
  console.log(
    `trace: seed ${o.seed}, ${o.nodes} nodes, ${run.trace.events.length} events, ${(text.length / 1e6).toFixed(1)} MB ` +
      `(simulated in ${((Date.now() - t) / 1000).toFixed(1)} s)`,
  );
  const server = await startDebuggerServer({ traceText: text, traceName: 'measure.ndjson', assetsDir: assets });
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({ executablePath: browserPath, args: ['--no-sandbox'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const loads = [];
    for (let r = 0; r < o.runs; r++) {
      await page.goto('about:blank');
      t = Date.now();
      await page.goto(`${server.url}#${Math.floor(run.trace.events.length / 2)}`);
      await page.waitForFunction('window.__raftstepDebugger && window.__raftstepDebugger.ready', null, {
        timeout: 120_000,
      });
      const wall = Date.now() - t;
      const inPage = await page.evaluate('window.__raftstepDebugger.loadMs');
      const phases = Object.entries(await page.evaluate('window.__raftstepDebugger.phases'))
        .map(([k, v]) => `${k} ${Math.round(v)} ms`)
        .join(', ');
      loads.push(inPage);
      console.log(
        `load ${r + 1}: ${(inPage / 1000).toFixed(2)} s in the page (${phases}), ${(wall / 1000).toFixed(2)} s from navigation`,
      );
    }
    await page.waitForFunction('window.__raftstepDebugger.network !== "running"', null, { timeout: 120_000 });
    const network = await page.evaluate('[window.__raftstepDebugger.network, window.__raftstepDebugger.networkMs]');
    console.log(`network replay (worker): ${network[0]}, answered ${(network[1] / 1000).toFixed(2)} s after the start`);
    const heap = await page.evaluate('performance.memory ? performance.memory.usedJSHeapSize : 0');
    if (heap > 0) console.log(`JS heap after loading: ${(heap / 1e6).toFixed(0)} MB`);
    let seen = (await page.evaluate('window.__raftstepDebugger.stepTimes')).length;
    await press(page, 'ArrowRight', 300);
    const forward = await stepTimes(page, seen);
    seen += forward.length;
    await press(page, 'ArrowLeft', 300);
    const back = await stepTimes(page, seen);
    seen += back.length;
    await press(page, 'Shift+L', 10);
    await press(page, 'c', 20);
    await press(page, 'l', 20);
    const jumps = await stepTimes(page, seen);
    console.log(`step forward: ${stats(forward)}`);
    console.log(`step back:    ${stats(back)}`);
    console.log(`jumps (leader changes, commits): ${stats(jumps)}`);
    console.log(`load: ${stats(loads)}`);
  } finally {
    await browser.close();
    await server.close();
  }
}

main().catch((err) => {
  console.error(`measure-debugger: ${err.stack || err.message}`);
  process.exit(1);
});
