#!/usr/bin/env node
// Bundles the visual debugger's page with esbuild into one folder the `raftstep debug` server serves:
//   index.html     copied from src/debugger/page/index.html
//   debugger.css   copied from src/debugger/page/style.css
//   debugger.js    src/debugger/page/main.ts and everything it imports (preact, raftstep, immer), one
//                  IIFE for browsers, minified; no network access at run time (the page works offline)
//   worker.js      src/debugger/page/worker.ts: the worker that runs a simulation again for its network
// Usage: node scripts/build-debugger.js [--out DIR] [--sourcemap]
//   default DIR: build/debugger (what `npm run debugger` serves); `npm run build` writes dist/debugger.
'use strict';

const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const page = path.join(root, 'src', 'debugger', 'page');

/** The command line's options: the output folder, and whether to write source maps. */
function parseArgs(argv) {
  let out = path.join(root, 'build', 'debugger');
  let sourcemap = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--out' && argv[i + 1] !== undefined) out = path.resolve(argv[++i]);
    else if (a === '--sourcemap') sourcemap = true;
    else {
      console.error(
        `build-debugger: unknown argument ${a} (usage: node scripts/build-debugger.js [--out DIR] [--sourcemap])`,
      );
      process.exit(2);
    }
  }
  return { out, sourcemap };
}

/** Bundle the page into `out`; resolves to the sizes written, by file name. */
async function buildDebuggerPage(out, options = {}) {
  const esbuild = require('esbuild');
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  const common = {
    bundle: true,
    platform: 'browser',
    format: 'iife',
    target: ['es2022'],
    minify: true,
    sourcemap: options.sourcemap === true,
    legalComments: 'none',
    // immer and preact pick their production builds; raftstep's own code reads no environment.
    define: { 'process.env.NODE_ENV': '"production"' },
    logLevel: 'warning',
    absWorkingDir: root,
  };
  await esbuild.build({ ...common, entryPoints: [path.join(page, 'main.ts')], outfile: path.join(out, 'debugger.js') });
  await esbuild.build({ ...common, entryPoints: [path.join(page, 'worker.ts')], outfile: path.join(out, 'worker.js') });
  fs.copyFileSync(path.join(page, 'index.html'), path.join(out, 'index.html'));
  fs.copyFileSync(path.join(page, 'style.css'), path.join(out, 'debugger.css'));
  const sizes = {};
  for (const f of ['index.html', 'debugger.css', 'debugger.js', 'worker.js'])
    sizes[f] = fs.statSync(path.join(out, f)).size;
  return sizes;
}

module.exports = { buildDebuggerPage };

if (require.main === module) {
  const { out, sourcemap } = parseArgs(process.argv.slice(2));
  const started = Date.now();
  buildDebuggerPage(out, { sourcemap }).then(
    (sizes) => {
      const list = Object.entries(sizes)
        .map(([f, n]) => `${f} ${(n / 1024).toFixed(0)} kB`)
        .join(', ');
      console.log(`build-debugger: ${path.relative(root, out) || out} (${list}; ${Date.now() - started} ms)`);
    },
    (err) => {
      console.error(`build-debugger: ${err.message}`);
      process.exit(1);
    },
  );
}
