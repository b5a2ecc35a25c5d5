/**
 * Where the nodes of a local kv cluster live: node ids, ports and data directories, all derived
 * from a node's slot (its number), so that every process — a node, the launcher, a client — finds
 * every other one without a registry, including nodes added later.
 *
 * Node `n<i>` (slot i = 0, 1, 2, ...) serves HTTP on `basePort + i`, speaks Raft on
 * `raftBasePort + i`, and keeps its files in `<dataDir>/node-<i>`. With `proxyBasePort` set (the
 * load tool's partition nemesis), node i dials node j's Raft port through a proxy listening on
 * `proxyBasePort + i * PROXY_SLOTS + j`, which can cut the link.
 *
 * Also here: the command-line flag parser every kv program uses.
 */
import { join } from 'node:path';
import type { PeerAddress } from '../../src/host/index.js';

/** Slots a proxied cluster can have (the proxy ports form a PROXY_SLOTS x PROXY_SLOTS grid). */
export const PROXY_SLOTS = 16;

/** The port layout of a cluster (see the module comment). */
export interface Topology {
  /** The interface everything listens on and dials, e.g. 127.0.0.1. */
  readonly host: string;
  readonly basePort: number;
  readonly raftBasePort: number;
  readonly dataDir: string;
  readonly proxyBasePort?: number;
}

/** The id of the node in `slot`. */
export function nodeId(slot: number): string {
  return `n${slot}`;
}

/** The slot of node `id`, or undefined when `id` is not of the form n<i>. */
export function slotOf(id: string): number | undefined {
  const m = /^n(\d{1,4})$/.exec(id);
  return m === null ? undefined : Number(m[1]);
}

/** Where node `slot` serves HTTP. */
export function httpAddress(t: Topology, slot: number): PeerAddress {
  return { host: t.host, port: t.basePort + slot };
}

/** The base URL of node `slot`'s HTTP service, e.g. http://127.0.0.1:7001. */
export function httpUrl(t: Topology, slot: number): string {
  const a = httpAddress(t, slot);
  return `http://${a.host}:${a.port}`;
}

/** Where node `slot` listens for Raft traffic. */
export function raftAddress(t: Topology, slot: number): PeerAddress {
  return { host: t.host, port: t.raftBasePort + slot };
}

/** The proxy port carrying traffic from slot `from` to slot `to`. */
export function proxyPort(t: Topology & { proxyBasePort: number }, from: number, to: number): number {
  return t.proxyBasePort + from * PROXY_SLOTS + to;
}

/** Where node `from` dials node `toId` (directly, or through the proxy); undefined for a foreign id. */
export function peerAddress(t: Topology, from: number, toId: string): PeerAddress | undefined {
  const to = slotOf(toId);
  if (to === undefined) return undefined;
  if (t.proxyBasePort === undefined) return raftAddress(t, to);
  return { host: t.host, port: proxyPort({ ...t, proxyBasePort: t.proxyBasePort }, from, to) };
}

/** Node `slot`'s data directory. */
export function nodeDir(t: Topology, slot: number): string {
  return join(t.dataDir, `node-${slot}`);
}

/** Parsed command-line flags: `--name value`, `--name=value`, or a bare `--name` (the value "true"). */
export interface Flags {
  readonly values: ReadonlyMap<string, string>;
  /** Arguments that are not flags, in order. */
  readonly positional: readonly string[];
}

/** Parse `argv` (without the node and script paths) into flags and positional arguments. */
export function parseFlags(argv: readonly string[]): Flags {
  const values = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    if (eq >= 0) values.set(arg.slice(2, eq), arg.slice(eq + 1));
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) values.set(arg.slice(2), argv[++i]!);
    else values.set(arg.slice(2), 'true');
  }
  return { values, positional };
}

/** The string flag `name`, or `fallback`. */
export function stringFlag(flags: Flags, name: string, fallback: string): string {
  return flags.values.get(name) ?? fallback;
}

/** The integer flag `name` (at least `min`), or `fallback`; throws a RangeError naming the flag otherwise. */
export function intFlag(flags: Flags, name: string, fallback: number, min = 0): number {
  const raw = flags.values.get(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) throw new RangeError(`--${name} must be an integer >= ${min}, not ${raw}`);
  return n;
}

/** The boolean flag `name`: true when given bare or as true/1/yes. */
export function boolFlag(flags: Flags, name: string): boolean {
  const raw = flags.values.get(name);
  return raw !== undefined && ['true', '1', 'yes'].includes(raw);
}
