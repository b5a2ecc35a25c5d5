/// <reference types="node" />
/**
 * Node-only helpers to write and read trace files (the rest of raftstep/sim does no I/O).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseTrace, traceLines, type Trace } from './trace.js';

/** Where a run's trace goes when no path was given: `traces/sim-seed-<seed>.ndjson` under `dir`. */
export function defaultTracePath(seed: number, dir = 'traces'): string {
  return path.join(dir, `sim-seed-${seed}.ndjson`);
}

/** Write `trace` as newline-delimited JSON to `file` (creating its directory). */
export function writeTraceFile(file: string, trace: Trace): void {
  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const fd = fs.openSync(file, 'w');
  try {
    let buf = '';
    for (const line of traceLines(trace)) {
      buf += line + '\n';
      if (buf.length > 1 << 20) {
        fs.writeSync(fd, buf);
        buf = '';
      }
    }
    if (buf !== '') fs.writeSync(fd, buf);
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Why a trace could not be written to `file`, or null when it can (as far as can be told without
 * writing): an empty path, a path that is a folder, or a folder on the way that is a file or cannot
 * be written. The command line checks this before a run, so that a long run does not end in an error.
 */
export function traceFileProblem(file: string): string | null {
  if (file === '') return 'the path is empty';
  const full = path.resolve(file);
  const stat = statOrNull(full);
  if (stat !== null) {
    if (stat.isDirectory()) return 'is a folder, not a file';
    return writable(full) ? null : 'cannot be written';
  }
  return traceDirProblem(path.dirname(full));
}

/** Why trace files could not be created in the folder `dir` (made if missing), or null. */
export function traceDirProblem(dir: string): string | null {
  if (dir === '') return 'the path is empty';
  let at = path.resolve(dir);
  for (;;) {
    const stat = statOrNull(at);
    if (stat !== null) {
      if (!stat.isDirectory()) return `${at} is a file, not a folder`;
      return writable(at) ? null : `${at} cannot be written`;
    }
    const up = path.dirname(at);
    if (up === at) return `${at} does not exist`;
    at = up;
  }
}

function statOrNull(p: string): fs.Stats | null {
  try {
    return fs.statSync(p);
  } catch {
    return null;
  }
}

function writable(p: string): boolean {
  try {
    fs.accessSync(p, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

/** Read a trace file written by `writeTraceFile` (or by the CLI). */
export function readTraceFile(file: string): Trace {
  return parseTrace(fs.readFileSync(file, 'utf8'));
}
