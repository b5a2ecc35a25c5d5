#!/usr/bin/env node
// Builds the published output from src/ with plain tsc (no bundler):
//   dist/esm  ES modules    + .d.ts   (tsconfig.build.esm.json)   dist/esm/package.json {"type":"module"}
//   dist/cjs  CommonJS      + .d.ts   (tsconfig.build.cjs.json)   dist/cjs/package.json {"type":"commonjs"}
// and the visual debugger's page, the one bundle (esbuild, scripts/build-debugger.js):
//   dist/debugger  index.html, debugger.js, debugger.css, worker.js   (served by `raftstep debug`)
// then loads every emitted module in Node (ESM with import(), CJS with require()) and the package
// itself by name through its `exports` map, so a build that Node cannot load fails here and not at a
// user's. `npm run build` runs publint afterwards.
'use strict';

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const dist = path.join(root, 'dist');
const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });

/** Runs `node args...` in the project root; exits the build with its status when it fails. */
function run(label, args) {
  const started = Date.now();
  const r = spawnSync(process.execPath, args, { cwd: root, stdio: 'inherit' });
  if (r.error) throw r.error;
  if (r.status !== 0) {
    console.error(`build: ${label} failed (exit ${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
  console.log(`build: ${label} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

/** The .js files under `dir`, relative to it, with forward slashes. */
function jsFiles(dir, prefix = '') {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const rel = prefix + e.name;
    if (e.isDirectory()) return jsFiles(path.join(dir, e.name), rel + '/');
    return e.isFile() && e.name.endsWith('.js') ? [rel] : [];
  });
}

fs.rmSync(dist, { recursive: true, force: true });

run('tsc -p tsconfig.build.esm.json', [tsc, '-p', 'tsconfig.build.esm.json']);
run('tsc -p tsconfig.build.cjs.json', [tsc, '-p', 'tsconfig.build.cjs.json']);

run('debugger page (scripts/build-debugger.js)', [
  path.join(__dirname, 'build-debugger.js'),
  '--out',
  path.join(dist, 'debugger'),
]);

fs.writeFileSync(path.join(dist, 'esm', 'package.json'), JSON.stringify({ type: 'module' }, null, 2) + '\n');
fs.writeFileSync(path.join(dist, 'cjs', 'package.json'), JSON.stringify({ type: 'commonjs' }, null, 2) + '\n');

// Smoke check: every emitted module loads in this Node (a missing `.js` extension in a relative import,
// or a module emitted in the wrong format, fails here), and the package loads by its own name through
// `exports` (Node's self-reference) as `import` and as `require`, with the same named exports.
const esm = jsFiles(path.join(dist, 'esm')).map((f) => './dist/esm/' + f);
const cjs = jsFiles(path.join(dist, 'cjs')).map((f) => './dist/cjs/' + f);
const name = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).name;
const check = `
  const { pathToFileURL } = require('node:url');
  const path = require('node:path');
  (async () => {
    for (const f of ${JSON.stringify(esm)}) await import(pathToFileURL(path.resolve(f)).href);
    for (const f of ${JSON.stringify(cjs)}) require(path.resolve(f));
    const viaImport = Object.keys(await import(${JSON.stringify(name)})).filter((k) => k !== 'default').sort();
    const viaRequire = Object.keys(require(${JSON.stringify(name)})).sort();
    if (viaImport.join() !== viaRequire.join()) {
      throw new Error('ESM and CJS builds export different names:\\n  import:  ' + viaImport + '\\n  require: ' + viaRequire);
    }
    if (viaImport.length === 0) throw new Error('the package exports nothing');
    console.log('build: ' + ${esm.length} + ' ESM + ' + ${cjs.length} + ' CJS modules load; ' +
      ${JSON.stringify(name)} + ' exports ' + viaImport.length + ' names both ways');
  })().catch((e) => { console.error(e); process.exit(1); });
`;
run('load check', ['-e', check]);
