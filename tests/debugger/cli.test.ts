/**
 * `raftstep debug` and its server: every bad input is one line naming the problem and exit status 2,
 * before anything is served; a good trace is served with the page at the printed URL, on a free port
 * by default; the server answers GET and HEAD for its few files and nothing else.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseDebugArgs, runCli, USAGE, type DebugCliIO } from '../../src/debugger/cli.js';
import { PAGE_FILES, startDebuggerServer, TRACE_PATH, type DebuggerServer } from '../../src/debugger/server.js';
import { serializeTrace, simulate } from '../../src/sim/index.js';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'raftstep-debugger-cli-'));
const assets = path.join(work, 'page');
fs.mkdirSync(assets);
for (const name of Object.keys(PAGE_FILES)) fs.writeFileSync(path.join(assets, name), `/* ${name} */`);

const traceText = serializeTrace(simulate({ seed: 1, nodes: 3, steps: 300 }).trace!);
const files = new Map<string, string>([
  ['good.ndjson', traceText],
  ['bad.ndjson', 'not json\n'],
  ['edited.ndjson', traceText.replace('"node":"n2"', '"node":"n3"')],
]);

/** A fake I/O over `files`, collecting what is printed. */
function fakeIO(): DebugCliIO & { out: (t: string) => void; printed: () => string; errors: () => string } {
  let out = '';
  let err = '';
  return {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    readFile: (f) => {
      if (f === 'folder')
        throw Object.assign(new Error('EISDIR: illegal operation on a directory'), { code: 'EISDIR' });
      const text = files.get(f);
      if (text === undefined) throw Object.assign(new Error(`ENOENT: no such file ${f}`), { code: 'ENOENT' });
      return text;
    },
    assetsDir: assets,
    printed: () => out,
    errors: () => err,
  };
}

const running: DebuggerServer[] = [];
afterAll(async () => {
  await Promise.all(running.map((s) => s.close()));
  fs.rmSync(work, { recursive: true, force: true });
});

/** Run the command; it must be over (an exit status), not serving. */
async function status(argv: string[], io: DebugCliIO): Promise<number> {
  const outcome = await runCli(argv, io);
  if (typeof outcome !== 'number') {
    running.push(outcome);
    throw new Error('the command started a server');
  }
  return outcome;
}

describe('bad input: one line, exit 2, nothing served', () => {
  const cases: [string[], RegExp][] = [
    [[], /^raftstep: no command given/],
    [['serve'], /^raftstep: unknown command serve/],
    [['debug'], /^raftstep debug: no trace file given/],
    [['debug', 'missing.ndjson'], /^raftstep debug: cannot read missing\.ndjson: no such file$/],
    [['debug', 'folder'], /^raftstep debug: cannot read folder: it is a folder$/],
    [['debug', 'bad.ndjson'], /^raftstep debug: bad\.ndjson is not a raftstep trace: trace line 1: /],
    [
      ['debug', 'edited.ndjson'],
      /^raftstep debug: edited\.ndjson is not a raftstep trace: trace line \d+: the hash chain breaks/,
    ],
    [['debug', 'good.ndjson', '--port', 'x'], /^raftstep debug: --port must be an integer from 0 to 65535, not "x"$/],
    [['debug', 'good.ndjson', '--port', '70000'], /--port must be an integer from 0 to 65535/],
    [['debug', 'good.ndjson', '--port'], /--port must be an integer/],
    [['debug', 'good.ndjson', '--port=-1'], /--port must be an integer/],
    [['debug', 'good.ndjson', '--verbose'], /^raftstep debug: unknown option --verbose/],
    [['debug', 'good.ndjson', 'other.ndjson'], /^raftstep debug: one trace file only/],
  ];
  test.each(cases)('%j', async (argv, message) => {
    const io = fakeIO();
    expect(await status(argv, io)).toBe(2);
    const lines = io.errors().trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(io.printed()).toBe('');
  });

  test('a trace whose states do not replay', async () => {
    const trace = simulate({ seed: 2, nodes: 3, steps: 200 }).trace!;
    const end = { ...trace.end!, hashes: { ...trace.end!.hashes, n1: '00000000' } };
    files.set('wrong.ndjson', serializeTrace({ ...trace, end }));
    const io = fakeIO();
    expect(await status(['debug', 'wrong.ndjson'], io)).toBe(2);
    expect(io.errors()).toMatch(/^raftstep debug: wrong\.ndjson does not replay: after event \d+ the state of n1 /);
  });

  test('a port in use', async () => {
    const first = await runCli(['debug', 'good.ndjson'], fakeIO());
    if (typeof first === 'number') throw new Error('the first server did not start');
    running.push(first);
    const io = fakeIO();
    expect(await status(['debug', 'good.ndjson', '--port', String(first.port)], io)).toBe(2);
    expect(io.errors()).toBe(
      `raftstep debug: port ${first.port} is in use (try another --port, or 0 for a free one)\n`,
    );
  });

  test('a page not built', async () => {
    const io = { ...fakeIO(), assetsDir: path.join(work, 'nowhere') };
    expect(await status(['debug', 'good.ndjson'], io)).toBe(2);
    expect(io.errors()).toMatch(/the debugger page is not built .* run `npm run build:debugger`/);
  });
});

test('--help prints the usage and exits 0', async () => {
  for (const argv of [['--help'], ['debug', '--help'], ['help']]) {
    const io = fakeIO();
    expect(await status(argv, io)).toBe(0);
    expect(io.printed()).toBe(USAGE);
  }
});

test('arguments: the trace and the port, in any order', () => {
  expect(parseDebugArgs(['t.ndjson'])).toEqual({ trace: 't.ndjson', port: 0 });
  expect(parseDebugArgs(['--port', '8080', 't.ndjson'])).toEqual({ trace: 't.ndjson', port: 8080 });
  expect(parseDebugArgs(['t.ndjson', '--port=0'])).toEqual({ trace: 't.ndjson', port: 0 });
});

describe('serving', () => {
  let server: DebuggerServer;
  let printed: string;
  beforeAll(async () => {
    const io = fakeIO();
    const outcome = await runCli(['debug', 'good.ndjson'], io);
    if (typeof outcome === 'number') throw new Error(io.errors());
    server = outcome;
    running.push(server);
    printed = io.printed();
  });

  test('prints the URL of a free port on 127.0.0.1', () => {
    expect(server.port).toBeGreaterThan(0);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/`);
    expect(printed.split('\n')).toContain(server.url);
    expect(printed).toMatch(/^raftstep debugger: good\.ndjson \(\d+ events, seed 1\)/);
  });

  test('the page, its files, and the trace as it was read', async () => {
    const page = await fetch(server.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(await page.text()).toBe('/* index.html */');
    for (const name of Object.keys(PAGE_FILES)) expect((await fetch(server.url + name)).status).toBe(200);
    const trace = await fetch(server.url + TRACE_PATH.slice(1));
    expect(trace.headers.get('content-disposition')).toBe('inline; filename="good.ndjson"');
    expect(await trace.text()).toBe(traceText);
  });

  test('nothing else: 404 for other paths, 405 for other methods', async () => {
    expect((await fetch(server.url + 'package.json')).status).toBe(404);
    expect((await fetch(server.url + '..%2Fpackage.json')).status).toBe(404);
    expect((await fetch(server.url + 'trace.ndjson', { method: 'POST', body: 'x' })).status).toBe(405);
    const head = await fetch(server.url + 'trace.ndjson', { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-length')).toBe(String(Buffer.byteLength(traceText)));
  });

  test('a second server on a chosen port', async () => {
    const first = await startDebuggerServer({ traceText: 'x', traceName: 'x', assetsDir: assets });
    const port = first.port;
    await first.close();
    const second = await startDebuggerServer({ traceText: 'y', traceName: 'y', assetsDir: assets, port });
    running.push(second);
    expect(second.url).toBe(`http://127.0.0.1:${port}/`);
    expect(await (await fetch(second.url + 'trace.ndjson')).text()).toBe('y');
  });
});
