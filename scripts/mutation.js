#!/usr/bin/env node
// Mutation testing of the core (src/*.ts, not the subfolders), one Stryker run per file.
//
// Stryker writes its report only at the end of a run, and the whole core takes hours on two cores; one
// run per file keeps every finished file's result. Each file's JSON report goes to
// build/mutation/files/<file>.json (and an HTML report next to it). A file is skipped when its report is
// newer than the file itself and than every test the mutation run uses (tests/scenarios*, tests/unit,
// tests/membership, tests/support, the Stryker and Jest configs), so a re-run only redoes what changed.
// At the end the reports are merged into one table (killed, survived, timeout, no coverage, compile
// errors and the mutation score per file) followed by the surviving mutants.
//
// Usage:
//   node scripts/mutation.js                 run every core file that has no up-to-date report, then the table
//   node scripts/mutation.js quorum commit   run these files (even if up to date), then the table
//   node scripts/mutation.js --summary       only the table of the reports there are (--markdown: as Markdown)
//   node scripts/mutation.js --missing       run only the files that have no report at all (ignore staleness)
//   node scripts/mutation.js --survivors [f] re-test only the undetected mutants of these files (default: all
//                                            with a report) and update their reports; a file changed since
//                                            its report is mutated whole instead; with --timeouts, the
//                                            mutants that timed out too (a loaded machine can time out a
//                                            mutant that merely ran slowly)
//
// The options of stryker.config.json apply; this script sets only the file to mutate, the reporters and
// the report paths (a config per file under build/mutation/configs/, as the JSON reporter's file name
// has no command-line option). While the file named by MUTATION_PAUSE_FILE exists (someone wants the machine quiet for
// a benchmark), the script waits before starting the next file.
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const outDir = path.join(root, 'build', 'mutation');
const filesDir = path.join(outDir, 'files');
const configDir = path.join(outDir, 'configs');
const timingsFile = path.join(outDir, 'timings.json');
/** A file whose presence pauses the run between files (MUTATION_PAUSE_FILE; none by default). */
const QUIET = process.env.MUTATION_PAUSE_FILE || null;

/** The core files, the rules of Raft first; any other src/*.ts file follows in name order. */
const ORDER = [
  'quorum',
  'commit',
  'term',
  'election',
  'prevote',
  'check-quorum',
  'transfer',
  'concurrent-writes',
  'append',
  'replication',
  'progress',
  'flow-control',
  'reads',
  'membership',
  'config',
  'snapshot',
  'proposals',
  'leadership',
  'timeout',
  'log',
  'chunks',
  'messages',
  'actions',
  'validate',
  'step',
  'state',
  'node',
  'options',
  'events',
  'queries',
  'metrics',
  'roles',
  'index',
];

function coreFiles() {
  const present = fs
    .readdirSync(path.join(root, 'src'))
    .filter((f) => f.endsWith('.ts'))
    .map((f) => f.slice(0, -3))
    .sort();
  return [...ORDER.filter((f) => present.includes(f)), ...present.filter((f) => !ORDER.includes(f))];
}

/** Every file under `dir` (recursively), or none when it does not exist. */
function walk(dir) {
  if (!fs.existsSync(dir)) return [];
  const out = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...walk(full));
    else out.push(full);
  }
  return out;
}

/** The newest modification time among the tests and configs the mutation run depends on. */
function newestTestTime() {
  const inputs = [
    path.join(root, 'tests', 'scenarios.test.ts'),
    ...walk(path.join(root, 'tests', 'scenarios')),
    ...walk(path.join(root, 'tests', 'unit')),
    ...walk(path.join(root, 'tests', 'membership')),
    ...walk(path.join(root, 'tests', 'support')),
    path.join(root, 'stryker.config.json'),
    path.join(root, 'jest.mutation.config.js'),
    path.join(root, 'jest.config.js'),
  ];
  let newest = 0;
  for (const f of inputs) if (fs.existsSync(f)) newest = Math.max(newest, fs.statSync(f).mtimeMs);
  return newest;
}

const reportPath = (file) => path.join(filesDir, `${file}.json`);
const partialPath = (file) => path.join(outDir, 'partial', `${file}.json`);

function upToDate(file, testsTime) {
  const report = reportPath(file);
  if (!fs.existsSync(report)) return false;
  const t = fs.statSync(report).mtimeMs;
  return t > fs.statSync(path.join(root, 'src', `${file}.ts`)).mtimeMs && t > testsTime;
}

const stamp = () => new Date().toISOString().replace('T', ' ').slice(0, 19);
const log = (line) => console.log(`[mutation ${stamp()}] ${line}`);
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const minutes = (ms) => `${(ms / 60000).toFixed(1)} min`;

async function waitForQuiet() {
  if (QUIET === null || !fs.existsSync(QUIET)) return;
  log(`${QUIET} exists: waiting until it is gone`);
  while (fs.existsSync(QUIET)) await sleep(10_000);
  log(`${QUIET} gone: continuing`);
}

function readTimings() {
  try {
    return JSON.parse(fs.readFileSync(timingsFile, 'utf8'));
  } catch {
    return {};
  }
}

/**
 * One Stryker run on src/<file>.ts (or only on the line ranges `mutate`, reported to `partialPath`);
 * resolves with its exit code.
 */
function runFile(file, mutate = null) {
  const base = JSON.parse(fs.readFileSync(path.join(root, 'stryker.config.json'), 'utf8'));
  delete base.$schema;
  const config =
    mutate === null
      ? {
          ...base,
          mutate: [`src/${file}.ts`],
          reporters: ['json', 'html', 'progress-append-only'],
          jsonReporter: { fileName: path.relative(root, reportPath(file)) },
          htmlReporter: { fileName: path.relative(root, path.join(filesDir, `${file}.html`)) },
        }
      : {
          ...base,
          mutate,
          reporters: ['json', 'progress-append-only'],
          jsonReporter: { fileName: path.relative(root, partialPath(file)) },
        };
  fs.mkdirSync(configDir, { recursive: true });
  const configPath = path.join(configDir, `${file}${mutate === null ? '' : '.survivors'}.json`);
  fs.writeFileSync(configPath, JSON.stringify(config, null, 2) + '\n');
  const stryker = path.join(root, 'node_modules', '.bin', 'stryker');
  return new Promise((resolve) => {
    const child = spawn(stryker, ['run', path.relative(root, configPath)], { cwd: root, stdio: 'inherit' });
    child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
    child.on('error', (err) => {
      console.error(err);
      resolve(1);
    });
  });
}

// ---------------------------------------------------------------------------------------------------
// The summary

const DETECTED = new Set(['Killed', 'Timeout']);
const UNDETECTED = new Set(['Survived', 'NoCoverage']);

function count(mutants) {
  const c = { killed: 0, survived: 0, timeout: 0, noCoverage: 0, compileError: 0, other: 0, total: mutants.length };
  for (const m of mutants) {
    if (m.status === 'Killed') c.killed++;
    else if (m.status === 'Survived') c.survived++;
    else if (m.status === 'Timeout') c.timeout++;
    else if (m.status === 'NoCoverage') c.noCoverage++;
    else if (m.status === 'CompileError') c.compileError++;
    else c.other++; // RuntimeError, Ignored, Pending: not part of the score either
  }
  return c;
}

/** Stryker's mutation score: detected / (detected + undetected); compile and runtime errors excluded. */
function score(mutants) {
  const detected = mutants.filter((m) => DETECTED.has(m.status)).length;
  const undetected = mutants.filter((m) => UNDETECTED.has(m.status)).length;
  return detected + undetected === 0 ? null : (100 * detected) / (detected + undetected);
}

/** The text a mutant replaces (locations are 1-based lines and columns, the end exclusive). */
function originalText(source, { start, end }) {
  const lines = source.split('\n');
  if (start.line === end.line) return lines[start.line - 1].slice(start.column - 1, end.column - 1);
  return [
    lines[start.line - 1].slice(start.column - 1),
    ...lines.slice(start.line, end.line - 1),
    lines[end.line - 1].slice(0, end.column - 1),
  ].join('\n');
}

function summary() {
  const timings = readTimings();
  const rows = [];
  const all = [];
  const survivors = [];
  const missing = [];
  for (const file of coreFiles()) {
    if (!fs.existsSync(reportPath(file))) {
      missing.push(file);
      continue;
    }
    const report = JSON.parse(fs.readFileSync(reportPath(file), 'utf8'));
    const mutants = [];
    for (const [name, entry] of Object.entries(report.files)) {
      for (const m of entry.mutants) {
        mutants.push(m);
        if (UNDETECTED.has(m.status)) survivors.push({ name, m, original: originalText(entry.source, m.location) });
      }
    }
    all.push(...mutants);
    const date = new Date(fs.statSync(reportPath(file)).mtimeMs).toISOString().slice(0, 10);
    rows.push({ file: `src/${file}.ts`, ...count(mutants), score: score(mutants), date, time: timings[file] });
  }
  const pct = (s) => (s === null ? 'n/a' : `${s.toFixed(2)} %`);
  const header = [
    'file',
    'mutants',
    'killed',
    'survived',
    'timeout',
    'no cov.',
    'compile err.',
    'score',
    'run',
    'date',
  ];
  const table = rows.map((r) => [
    r.file,
    r.total,
    r.killed,
    r.survived,
    r.timeout,
    r.noCoverage,
    r.compileError,
    pct(r.score),
    r.time === undefined ? '' : minutes(r.time),
    r.date,
  ]);
  const t = count(all);
  table.push([
    'total',
    t.total,
    t.killed,
    t.survived,
    t.timeout,
    t.noCoverage,
    t.compileError,
    pct(score(all)),
    '',
    '',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => String(row[i]).length)));
  const markdown = process.argv.includes('--markdown');
  const line = markdown
    ? (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(' | ')} |`
    : (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ');
  console.log('');
  console.log(line(header));
  console.log(line(widths.map((w) => '-'.repeat(w))));
  for (const row of table) console.log(line(row));
  if (missing.length > 0) console.log(`\nNo report yet: ${missing.join(', ')}`);
  if (survivors.length > 0) {
    console.log(`\nUndetected mutants (${survivors.length}):`);
    survivors.sort((a, b) => a.name.localeCompare(b.name) || a.m.location.start.line - b.m.location.start.line);
    const short = (text) => text.replace(/\s+/g, ' ').slice(0, 80);
    for (const { name, m, original } of survivors) {
      const where = `${name}:${m.location.start.line}:${m.location.start.column}`;
      console.log(`  ${where}  ${m.status}  ${m.mutatorName}: ${short(original)}  ->  ${short(m.replacement ?? '')}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------------
// Re-testing only the undetected mutants of a file (after new tests were written for them)

/** The same mutant in two reports of the same source: same place, same mutator, same replacement. */
const mutantKey = (m) =>
  [
    m.mutatorName,
    m.replacement,
    m.location.start.line,
    m.location.start.column,
    m.location.end.line,
    m.location.end.column,
  ].join('|');

/**
 * Runs Stryker on the lines of `file`'s undetected mutants only, and writes their new statuses into the
 * file's report. Needs the file unchanged since its report (otherwise the mutants are not the same):
 * returns false, and does nothing, when it changed.
 */
async function retestSurvivors(file, label) {
  const report = JSON.parse(fs.readFileSync(reportPath(file), 'utf8'));
  const name = `src/${file}.ts`;
  const entry = report.files[name];
  if (entry === undefined || entry.source !== fs.readFileSync(path.join(root, name), 'utf8')) return false;
  // One mutation range per undetected mutant: its own place (report columns are 1-based, Stryker's
  // ranges take 0-based columns). Mutants nested in the same place are re-tested with it.
  const ranges = new Set();
  const retest = process.argv.includes('--timeouts') ? new Set([...UNDETECTED, 'Timeout']) : UNDETECTED;
  for (const m of entry.mutants) {
    if (!retest.has(m.status)) continue;
    const { start, end } = m.location;
    ranges.add(`${name}:${start.line}:${start.column - 1}-${end.line}:${end.column - 1}`);
  }
  if (ranges.size === 0) {
    log(`${label}: no undetected mutants`);
    return true;
  }
  const mutate = [...ranges];
  log(`${label}: re-testing the mutants at ${mutate.map((r) => r.slice(name.length + 1)).join(', ')}`);
  const started = Date.now();
  const code = await runFile(file, mutate);
  if (code !== 0 || !fs.existsSync(partialPath(file)) || fs.statSync(partialPath(file)).mtimeMs < started) {
    log(`${label}: Stryker failed (exit ${code})`);
    return true;
  }
  const partial = JSON.parse(fs.readFileSync(partialPath(file), 'utf8')).files[name];
  const fresh = new Map(partial.mutants.map((m) => [mutantKey(m), m]));
  let changed = 0;
  for (const m of entry.mutants) {
    const now = fresh.get(mutantKey(m));
    if (now === undefined) continue;
    if (now.status !== m.status) changed++;
    m.status = now.status;
    m.statusReason = now.statusReason;
    // Test ids are numbered per report: those of the partial run mean nothing in this one.
    delete m.killedBy;
    delete m.coveredBy;
  }
  fs.writeFileSync(reportPath(file), JSON.stringify(report));
  log(`${label}: ${changed} of ${fresh.size} re-tested mutants changed status (${minutes(Date.now() - started)})`);
  return true;
}

async function main() {
  const args = process.argv.slice(2);
  if (args.includes('--summary')) {
    summary();
    return;
  }
  const survivorsOnly = args.includes('--survivors');
  const onlyMissing = args.includes('--missing');
  const named = args.filter((a) => !a.startsWith('--')).map((a) => a.replace(/^src\//, '').replace(/\.ts$/, ''));
  const known = coreFiles();
  for (const f of named) {
    if (!known.includes(f)) {
      console.error(`mutation: no core file src/${f}.ts (core files: ${known.join(', ')})`);
      process.exit(2);
    }
  }
  fs.mkdirSync(filesDir, { recursive: true });
  const todo = named.length > 0 ? named : known;
  const failed = [];
  for (const [i, file] of todo.entries()) {
    const label = `[${i + 1}/${todo.length}] src/${file}.ts`;
    if (survivorsOnly && fs.existsSync(reportPath(file))) {
      await waitForQuiet();
      if (await retestSurvivors(file, label)) continue;
      log(`${label}: changed since its report: mutating the whole file`);
    } else if (named.length === 0) {
      const fresh = onlyMissing ? fs.existsSync(reportPath(file)) : upToDate(file, newestTestTime());
      if (fresh) {
        log(`${label}: report up to date, skipped`);
        continue;
      }
    }
    await waitForQuiet();
    log(`${label}: mutating`);
    const started = Date.now();
    const code = await runFile(file);
    const took = Date.now() - started;
    if (code !== 0 || !fs.existsSync(reportPath(file)) || fs.statSync(reportPath(file)).mtimeMs < started) {
      log(`${label}: Stryker failed (exit ${code}) after ${minutes(took)}`);
      failed.push(file);
      continue;
    }
    const timings = readTimings();
    timings[file] = took;
    fs.writeFileSync(timingsFile, JSON.stringify(timings, null, 2) + '\n');
    const report = JSON.parse(fs.readFileSync(reportPath(file), 'utf8'));
    const mutants = Object.values(report.files).flatMap((f) => f.mutants);
    const s = score(mutants);
    const c = count(mutants);
    log(
      `${label}: done in ${minutes(took)}: ${c.total} mutants, ${c.survived} survived, ` +
        `${c.noCoverage} without coverage, score ${s === null ? 'n/a' : s.toFixed(2) + ' %'}`,
    );
  }
  // A failed run is usually a passing state of the checkout caught mid-edit (Stryker's dry run type-checks
  // and runs the tests first): each failed file is tried once more at the end.
  for (const file of failed.splice(0)) {
    await waitForQuiet();
    log(`src/${file}.ts: trying again after a failed run`);
    const started = Date.now();
    const code = await runFile(file);
    if (code !== 0 || !fs.existsSync(reportPath(file)) || fs.statSync(reportPath(file)).mtimeMs < started) {
      log(`src/${file}.ts: Stryker failed again (exit ${code})`);
      failed.push(file);
      continue;
    }
    const timings = readTimings();
    timings[file] = Date.now() - started;
    fs.writeFileSync(timingsFile, JSON.stringify(timings, null, 2) + '\n');
  }
  summary();
  if (failed.length > 0) {
    console.log(`\nStryker failed on: ${failed.join(', ')}`);
    process.exitCode = 1;
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
