/// <reference types="node" />
/**
 * The debugger's web server (Node only): static files and nothing else. It serves the bundled page
 * (`index.html`, `debugger.js`, `debugger.css`, `worker.js`, read once from the assets folder) and
 * the trace's text at `/trace.ndjson`; the page does all the work in the browser. It listens on
 * 127.0.0.1 only, answers GET and HEAD, and keeps no state between requests.
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';

/** The files of the bundled page, with their content types. */
export const PAGE_FILES: Readonly<Record<string, string>> = Object.freeze({
  'index.html': 'text/html; charset=utf-8',
  'debugger.js': 'text/javascript; charset=utf-8',
  'debugger.css': 'text/css; charset=utf-8',
  'worker.js': 'text/javascript; charset=utf-8',
});

/** The URL path of the trace. */
export const TRACE_PATH = '/trace.ndjson';

/** How to start a debugger server. */
export interface DebuggerServerOptions {
  /** The trace's text, served at `/trace.ndjson`. */
  readonly traceText: string;
  /** The trace's file name, given to the page (`Content-Disposition`) to show. */
  readonly traceName: string;
  /** The folder with the bundled page (see `PAGE_FILES`). */
  readonly assetsDir: string;
  /** The port (default 0: a free one). */
  readonly port?: number;
  /** The address to listen on (default 127.0.0.1). */
  readonly host?: string;
}

/** A running debugger server. */
export interface DebuggerServer {
  /** The page's URL: `http://127.0.0.1:PORT/`. */
  readonly url: string;
  /** The port it listens on. */
  readonly port: number;
  /** Stop listening (and close open connections). */
  close(): Promise<void>;
}

/** A file to serve: its bytes and content type. */
interface Served {
  readonly body: Buffer;
  readonly type: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * The page's files in `dir`, read now. Throws an Error naming the folder when one is missing (the
 * page was not built).
 */
export function readPageFiles(dir: string): Map<string, Served> {
  const files = new Map<string, Served>();
  for (const [name, type] of Object.entries(PAGE_FILES)) {
    const file = path.join(dir, name);
    if (!fs.existsSync(file)) {
      throw new Error(`the debugger page is not built (no ${file}): run \`npm run build:debugger\``);
    }
    files.set(`/${name}`, { body: fs.readFileSync(file), type });
  }
  files.set('/', files.get('/index.html')!);
  return files;
}

/** A file name safe in a `Content-Disposition` header (other characters become `_`). */
function headerSafe(name: string): string {
  return name.replace(/[^\w.\- ]/g, '_');
}

/** Answer one request from `files`. */
function answer(files: ReadonlyMap<string, Served>, req: http.IncomingMessage, res: http.ServerResponse): void {
  const method = req.method ?? 'GET';
  if (method !== 'GET' && method !== 'HEAD') {
    res.writeHead(405, { Allow: 'GET, HEAD', 'Content-Type': 'text/plain' }).end('method not allowed\n');
    return;
  }
  const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
  const file = files.get(pathname);
  if (file === undefined) {
    res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
    return;
  }
  res.writeHead(200, {
    'Content-Type': file.type,
    'Content-Length': String(file.body.length),
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
    ...file.headers,
  });
  res.end(method === 'HEAD' ? undefined : file.body);
}

/**
 * Start serving the page and `options.traceText`. Resolves once listening; rejects with the
 * listening error (a port in use, an address not available) or when the page's files are missing.
 */
export function startDebuggerServer(options: DebuggerServerOptions): Promise<DebuggerServer> {
  let files: Map<string, Served>;
  try {
    files = readPageFiles(options.assetsDir);
  } catch (err) {
    return Promise.reject(err as Error);
  }
  files.set(TRACE_PATH, {
    body: Buffer.from(options.traceText, 'utf8'),
    type: 'application/x-ndjson; charset=utf-8',
    headers: { 'Content-Disposition': `inline; filename="${headerSafe(options.traceName)}"` },
  });
  const host = options.host ?? '127.0.0.1';
  const server = http.createServer((req, res) => answer(files, req, res));
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      const port = (server.address() as AddressInfo).port;
      resolve({
        url: `http://${host}:${port}/`,
        port,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}
