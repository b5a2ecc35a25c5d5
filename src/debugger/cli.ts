#!/usr/bin/env node
/// <reference types="node" />
/**
 * The `raftstep` command (Node only); its one subcommand opens a recorded run in the visual
 * debugger:
 *
 *     raftstep debug TRACE [--port N]        (npm run debugger -- TRACE [--port N] in this repository)
 *
 * It reads the trace, checks that it is one (its hash chain) and that it replays (its fingerprints),
 * then serves the debugger page and the trace on 127.0.0.1 and prints the page's URL; the page
 * rebuilds every state in the browser. Every bad input — a missing or unreadable file, text that is
 * not a trace or does not replay, a bad port, an unknown option — is one line naming the problem and
 * exit status 2, before anything is served.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseTrace, replayTrace, type Trace } from '../sim/trace.js';
import { startDebuggerServer, type DebuggerServer, type DebuggerServerOptions } from './server.js';

/** Where the command reads and writes; the real process by default, replaced in tests. */
export interface DebugCliIO {
  out(text: string): void;
  err(text: string): void;
  /** The text of a file (throws like `fs.readFileSync`). */
  readFile(file: string): string;
  /** The folder of the bundled page. */
  readonly assetsDir: string;
  /** Start the server (default: `startDebuggerServer`). */
  readonly start?: (options: DebuggerServerOptions) => Promise<DebuggerServer>;
}

/** The bundled page's folder: `debugger/` beside the compiled tree (`dist/debugger`, `build/debugger`). */
export function defaultAssetsDir(): string {
  const here = typeof __dirname === 'string' ? __dirname : path.dirname(fs.realpathSync(process.argv[1] ?? '.'));
  return path.resolve(here, '..', '..', 'debugger');
}

/** The real process's I/O. */
export const processIO: DebugCliIO = {
  out: (t) => void process.stdout.write(t),
  err: (t) => void process.stderr.write(t),
  readFile: (f) => fs.readFileSync(f, 'utf8'),
  get assetsDir() {
    return defaultAssetsDir();
  },
};

/** The command's help text (`raftstep --help`). */
export const USAGE = `raftstep — Raft consensus as a pure reducer

  raftstep debug TRACE [--port N]
      Open a recorded run (a simulator trace, NDJSON: npm run sim -- --trace FILE, or a host's
      onEvent records written with serializeTrace) in the visual debugger: serves the page and the
      trace on http://127.0.0.1:N/ (default: a free port) and prints the URL. The page replays the
      run in the browser: every node's role, term, vote, commit index and log at every event,
      messages in flight, a timeline with per-node lanes, jumps to leader changes, commits, faults,
      configuration changes and violations. Stop with Ctrl+C.

  raftstep --help
      This text.

Bad input (a missing file, a trace that does not parse or replay, a bad port, an unknown option)
prints one line naming the problem and exits with status 2.
`;

/** A usage error: one line, exit status 2. */
class UsageError extends Error {}

/** The options of `raftstep debug`. */
interface DebugArgs {
  readonly trace: string;
  readonly port: number;
}

/** A port number from `text`, or a UsageError. */
function parsePort(text: string | undefined): number {
  const port = Number(text);
  if (text === undefined || !/^\d+$/.test(text) || !Number.isSafeInteger(port) || port > 65535) {
    throw new UsageError(`--port must be an integer from 0 to 65535, not ${JSON.stringify(text ?? '')}`);
  }
  return port;
}

/** The options of `raftstep debug ARGS...`, or a UsageError naming what is wrong. */
export function parseDebugArgs(args: readonly string[]): DebugArgs {
  let trace: string | null = null;
  let port = 0;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--port') port = parsePort(args[++i]);
    else if (a.startsWith('--port=')) port = parsePort(a.slice('--port='.length));
    else if (a.startsWith('-') && a !== '-') throw new UsageError(`unknown option ${a} (try raftstep --help)`);
    else if (trace !== null) throw new UsageError(`one trace file only (got ${trace} and ${a})`);
    else trace = a;
  }
  if (trace === null) throw new UsageError('no trace file given (usage: raftstep debug TRACE [--port N])');
  return { trace, port };
}

/** The message of something thrown, without a trailing period. */
function errorText(err: unknown): string {
  return (err instanceof Error ? err.message : String(err)).replace(/\.$/, '');
}

/** Why `file` could not be read, in words. */
function readProblem(file: string, err: unknown): string {
  const code = (err as { code?: unknown }).code;
  if (code === 'ENOENT') return `cannot read ${file}: no such file`;
  if (code === 'EISDIR') return `cannot read ${file}: it is a folder`;
  if (code === 'EACCES') return `cannot read ${file}: permission denied`;
  return `cannot read ${file}: ${errorText(err)}`;
}

/** The trace in `file`, read, parsed and replayed; a UsageError naming the problem otherwise. */
function readCheckedTrace(io: DebugCliIO, file: string): { text: string; trace: Trace } {
  let text: string;
  try {
    text = io.readFile(file);
  } catch (err) {
    throw new UsageError(readProblem(file, err));
  }
  let trace: Trace;
  try {
    trace = parseTrace(text);
  } catch (err) {
    throw new UsageError(`${file} is not a raftstep trace: ${errorText(err)}`);
  }
  const report = replayTrace(trace);
  if (report.error !== null) throw new UsageError(`${file} does not replay: ${report.error}`);
  const m = report.mismatches[0];
  if (m !== undefined) {
    throw new UsageError(
      `${file} does not replay: after event ${m.n} the state of ${m.node} does not match the recorded fingerprint (the trace was recorded with another step function or was changed)`,
    );
  }
  return { text, trace };
}

/** Why the server could not start, in words. */
function listenProblem(port: number, err: unknown): string {
  const code = (err as { code?: unknown }).code;
  if (code === 'EADDRINUSE') return `port ${port} is in use (try another --port, or 0 for a free one)`;
  if (code === 'EACCES') return `port ${port} needs privileges (try a port above 1023, or 0)`;
  return errorText(err);
}

/** `raftstep debug ARGS...`: check the input, start the server, print the URL. */
async function debug(args: readonly string[], io: DebugCliIO): Promise<number | DebuggerServer> {
  if (args.includes('--help') || args.includes('-h')) {
    io.out(USAGE);
    return 0;
  }
  const { trace: file, port } = parseDebugArgs(args);
  const { text, trace } = readCheckedTrace(io, file);
  const start = io.start ?? startDebuggerServer;
  let server: DebuggerServer;
  try {
    server = await start({ traceText: text, traceName: path.basename(file), assetsDir: io.assetsDir, port });
  } catch (err) {
    throw new UsageError(listenProblem(port, err));
  }
  const v = trace.end?.violation;
  const what = `${trace.events.length} events, seed ${trace.header.seed}${v ? ', ends in a violation' : ''}`;
  io.out(`raftstep debugger: ${file} (${what})\n${server.url}\n(Ctrl+C stops it)\n`);
  return server;
}

/**
 * Run the command with `argv` (without `node` and the script). Resolves to the exit status of a
 * command that is over (0, or 2 for bad input, its one line written to `io.err`), or to the running
 * server of `raftstep debug`.
 */
export async function runCli(argv: readonly string[], io: DebugCliIO = processIO): Promise<number | DebuggerServer> {
  const [command, ...rest] = argv;
  try {
    if (command === '--help' || command === '-h' || command === 'help') {
      io.out(USAGE);
      return 0;
    }
    if (command === 'debug') return await debug(rest, io);
    throw new UsageError(
      command === undefined
        ? 'no command given (usage: raftstep debug TRACE [--port N]; raftstep --help)'
        : `unknown command ${command} (the commands: debug; try raftstep --help)`,
    );
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`raftstep${command === 'debug' ? ' debug' : ''}: ${err.message}\n`);
    return 2;
  }
}

// ---------------------------------------------------------------------------------------------
// Entry: run only as the command (bin `raftstep`, or this compiled file), not when imported.

if (/([\\/]debugger[\\/]cli\.js|[\\/]raftstep)$/.test(process.argv[1] ?? '')) {
  runCli(process.argv.slice(2)).then(
    (outcome) => {
      if (typeof outcome === 'number') process.exitCode = outcome;
    },
    (err: unknown) => {
      process.stderr.write(`raftstep: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = 1;
    },
  );
}
