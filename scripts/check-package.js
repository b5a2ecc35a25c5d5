#!/usr/bin/env node
// Checks the package as a user receives it: packs it with `npm pack`, lints the tarball with publint
// (--strict) and @arethetypeswrong/cli (every entry under node10, node16 from CJS and ESM, and
// bundler resolution), then installs the tarball into fresh projects and uses every entry there:
//   esm      "type": "module", import of raftstep and raftstep/sim, one step run
//   cjs      require of both entries, one step run, the raftstep-sim command from node_modules/.bin, and
//            `raftstep debug`: its help, and the debugger served for a trace (page, bundle and trace fetched)
//   ts-*     TypeScript projects compiled with module/moduleResolution node16, bundler and node10
//            (commonjs), each importing both entries with their types
// Run `npm run build` first (the tarball packs dist/). Usage: node scripts/check-package.js
/* global fetch */
'use strict';

const { spawn, spawnSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const bin = (name) => path.join(root, 'node_modules', '.bin', name);
const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'raftstep-package-'));

/** Runs a command; exits with its status (and its output) when it fails. Returns its stdout. */
function run(label, command, args, cwd = root) {
  const started = Date.now();
  const r = spawnSync(command, args, { cwd, encoding: 'utf8', env: { ...process.env, NO_COLOR: '1' } });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    process.stderr.write(r.stdout + r.stderr);
    console.error(`check-package: ${label} failed (exit ${r.status ?? r.signal}); files kept in ${work}`);
    process.exit(1);
  }
  console.log(`check-package: ${label} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return r.stdout;
}

function write(dir, files) {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
}

if (!fs.existsSync(path.join(root, 'dist', 'cjs', 'index.js'))) {
  console.error('check-package: no dist/ — run `npm run build` first');
  process.exit(2);
}

// 1. The tarball, and what the linters say of it.
const packed = JSON.parse(run('npm pack', 'npm', ['pack', '--json', '--pack-destination', work]));
const tarball = path.join(work, packed[0].filename);
run('publint --strict (tarball)', bin('publint'), ['run', tarball, '--strict']);
run('attw (tarball)', bin('attw'), [tarball, '--format', 'table-flipped']);

// 2. Fresh projects that install the tarball.
const use = `
  const [s0] = raftstep.startNode('a');
  const [leader, actions] = raftstep.step(s0, { type: 'createCluster', voters: ['a'] });
  if (leader.role !== 'leader' || actions.length === 0) throw new Error('a single voter did not lead');
  if (typeof sim.simulate !== 'function') throw new Error('raftstep/sim has no simulate');
  const r = sim.simulate({ seed: 1, nodes: 3, steps: 300, faults: 'all' });
  if (r.violation) throw new Error('the simulation found a violation');
  console.log('ok', leader.role, r.summary.events);
`;
const projects = {
  esm: {
    'package.json': JSON.stringify({ name: 'esm-user', private: true, type: 'module' }),
    'main.js': `import * as raftstep from 'raftstep';\nimport * as sim from 'raftstep/sim';\n${use}`,
  },
  cjs: {
    'package.json': JSON.stringify({ name: 'cjs-user', private: true, type: 'commonjs' }),
    'main.js': `const raftstep = require('raftstep');\nconst sim = require('raftstep/sim');\n${use}`,
  },
};
const tsUse = `
import { startNode, step, type RaftState, type StepResult } from 'raftstep';
import { simulate, type SimOptions } from 'raftstep/sim';
const started: StepResult = startNode('a');
const s: RaftState = step(started[0], { type: 'createCluster', voters: ['a'] })[0];
const options: Partial<SimOptions> = { seed: 1, nodes: 3, steps: 100 };
export const ok: boolean = s.role === 'leader' && simulate(options).violation === null;
`;
const tsProjects = {
  'ts-node16': { module: 'node16', moduleResolution: 'node16', type: 'module' },
  'ts-bundler': { module: 'esnext', moduleResolution: 'bundler', type: 'module' },
  'ts-node10': { module: 'commonjs', moduleResolution: 'node10', type: 'commonjs', ignoreDeprecations: '6.0' },
};
for (const [name, t] of Object.entries(tsProjects)) {
  const compilerOptions = {
    module: t.module,
    moduleResolution: t.moduleResolution,
    target: 'es2022',
    strict: true,
    noEmit: true,
    skipLibCheck: false,
    types: [],
  };
  if (t.ignoreDeprecations) compilerOptions.ignoreDeprecations = t.ignoreDeprecations;
  projects[name] = {
    'package.json': JSON.stringify({ name: `${name}-user`, private: true, type: t.type }),
    'tsconfig.json': JSON.stringify({ compilerOptions, files: ['main.ts'] }),
    'main.ts': tsUse,
  };
}

for (const [name, files] of Object.entries(projects)) {
  const dir = path.join(work, name);
  write(dir, files);
  run(
    `${name}: npm install the tarball`,
    'npm',
    ['install', tarball, '--prefer-offline', '--no-audit', '--no-fund', '--no-package-lock'].concat([]),
    dir,
  );
  if (name.startsWith('ts-')) run(`${name}: tsc`, process.execPath, [tsc, '-p', dir], dir);
  else run(`${name}: node main.js`, process.execPath, ['main.js'], dir);
}

// 3. The command line, as installed.
const cli = path.join(work, 'cjs', 'node_modules', '.bin', 'raftstep-sim');
const out = run(
  'raftstep-sim from node_modules/.bin',
  cli,
  ['--seed', '1', '--nodes', '3', '--steps', '300', '--json'],
  path.join(work, 'cjs'),
);
if (!/"violation":null/.test(out)) {
  console.error(`check-package: raftstep-sim printed no summary without a violation:\n${out}`);
  process.exit(1);
}

// 4. The visual debugger, as installed: its page is in the package, `raftstep --help` answers, and
// `raftstep debug TRACE` serves the page, its bundle and the trace at the URL it prints.
const cjsDir = path.join(work, 'cjs');
const pageDir = path.join(cjsDir, 'node_modules', 'raftstep', 'dist', 'debugger');
for (const f of ['index.html', 'debugger.js', 'debugger.css', 'worker.js']) {
  if (!fs.existsSync(path.join(pageDir, f))) {
    console.error(`check-package: the package has no dist/debugger/${f} (the debugger's page)`);
    process.exit(1);
  }
}
const raftstepBin = path.join(cjsDir, 'node_modules', '.bin', 'raftstep');
if (!/raftstep debug TRACE/.test(run('raftstep --help from node_modules/.bin', raftstepBin, ['--help'], cjsDir))) {
  console.error('check-package: raftstep --help does not describe raftstep debug');
  process.exit(1);
}
fs.writeFileSync(
  path.join(cjsDir, 'write-trace.js'),
  `const sim = require('raftstep/sim');\nrequire('fs').writeFileSync('trace.ndjson', sim.serializeTrace(sim.simulate({ seed: 1, nodes: 3, steps: 300 }).trace));\n`,
);
run('cjs: write a trace', process.execPath, ['write-trace.js'], cjsDir);

/** Start `raftstep debug trace.ndjson` from node_modules/.bin; resolves to the URL it prints and the process. */
function startDebugger() {
  const child = spawn(raftstepBin, ['debug', 'trace.ndjson'], { cwd: cjsDir, stdio: ['ignore', 'pipe', 'pipe'] });
  let printed = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL within 20 s; it printed:\n${printed}`)), 20_000);
    const onData = (chunk) => {
      printed += chunk;
      const m = /http:\/\/127\.0\.0\.1:\d+\//.exec(printed);
      if (m === null) return;
      clearTimeout(timer);
      resolve({ url: m[0], child });
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => reject(new Error(`it exited (${code}) before serving; it printed:\n${printed}`)));
  });
}

/** Fetch the page, its bundle and the trace from the running debugger; throws on a difference. */
async function checkServed(url) {
  const trace = fs.readFileSync(path.join(cjsDir, 'trace.ndjson'), 'utf8');
  const page = await fetch(url);
  if (page.status !== 200 || !(await page.text()).includes('debugger.js'))
    throw new Error(`GET / answered ${page.status}`);
  const bundle = await fetch(url + 'debugger.js');
  if (bundle.status !== 200 || (await bundle.text()).length < 10_000)
    throw new Error('GET /debugger.js is not the bundle');
  if ((await (await fetch(url + 'trace.ndjson')).text()) !== trace)
    throw new Error('GET /trace.ndjson is not the trace');
}

(async () => {
  const started = Date.now();
  const { url, child } = await startDebugger();
  try {
    await checkServed(url);
  } finally {
    child.kill();
  }
  console.log(
    `check-package: raftstep debug from node_modules/.bin served ${url} (${((Date.now() - started) / 1000).toFixed(1)} s)`,
  );
  fs.rmSync(work, { recursive: true, force: true });
  console.log('check-package: all good');
})().catch((err) => {
  console.error(`check-package: raftstep debug failed: ${err.message}; files kept in ${work}`);
  process.exit(1);
});
