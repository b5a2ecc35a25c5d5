#!/usr/bin/env node
// Checks the package as a user receives it: packs it with `npm pack`, lints the tarball with publint
// (--strict) and @arethetypeswrong/cli (every entry under node10, node16 from CJS and ESM, and
// bundler resolution), then installs the tarball into fresh projects and uses every entry there:
//   esm      "type": "module", import of raftstep and raftstep/sim, one step run
//   cjs      require of both entries, one step run, and the raftstep-sim command from node_modules/.bin
//   ts-*     TypeScript projects compiled with module/moduleResolution node16, bundler and node10
//            (commonjs), each importing both entries with their types
// Run `npm run build` first (the tarball packs dist/). Usage: node scripts/check-package.js
'use strict';

const { spawnSync } = require('node:child_process');
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

fs.rmSync(work, { recursive: true, force: true });
console.log('check-package: all good');
