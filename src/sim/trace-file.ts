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

/** Read a trace file written by `writeTraceFile` (or by the CLI). */
export function readTraceFile(file: string): Trace {
  return parseTrace(fs.readFileSync(file, 'utf8'));
}
