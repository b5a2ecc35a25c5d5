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

/** Parsed command-line flags: `--name value`, `--name=value`, or a switch `--name` (the value "true"). */
export interface Flags {
  readonly values: ReadonlyMap<string, string>;
  /** Arguments that are not flags, in order. */
  readonly positional: readonly string[];
}

/**
 * The flags a tool takes: each name (without `--`) is a `value` flag (`--name value` or
 * `--name=value`) or a `switch` (`--name`, never followed by a value, so a positional argument after
 * it stays positional; `--name=false` turns it off).
 */
export type FlagSpec = Readonly<Record<string, 'value' | 'switch'>>;

/**
 * A command line a tool cannot run (an unknown flag, a missing or bad value): the tools print its
 * message as one line and exit with {@link USAGE_EXIT_CODE}, before starting anything.
 */
export class UsageError extends RangeError {}

/** The exit code of a usage error: 64, `EX_USAGE` of sysexits (the tools use 0–2 for outcomes). */
export const USAGE_EXIT_CODE = 64;

const SWITCH_VALUES = ['true', 'false', '1', '0', 'yes', 'no'];

/**
 * Parse `argv` (without the node and script paths) into flags and positional arguments; throws a
 * {@link UsageError} for a flag `spec` does not name, a value flag without a value, or a switch
 * given a value other than true/false, 1/0, yes/no.
 */
export function parseFlags(argv: readonly string[], spec: FlagSpec): Flags {
  const values = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const kind = Object.prototype.hasOwnProperty.call(spec, name) ? spec[name] : undefined;
    if (kind === undefined) {
      const known = Object.keys(spec)
        .map((k) => `--${k}`)
        .join(', ');
      throw new UsageError(`unknown flag --${name} (this tool takes ${known})`);
    }
    if (kind === 'switch') {
      const value = eq >= 0 ? arg.slice(eq + 1) : 'true';
      if (!SWITCH_VALUES.includes(value)) throw new UsageError(`--${name} is a switch: --${name}, or --${name}=false`);
      values.set(name, value);
    } else if (eq >= 0) values.set(name, arg.slice(eq + 1));
    else if (i + 1 < argv.length && !argv[i + 1]!.startsWith('--')) values.set(name, argv[++i]!);
    else throw new UsageError(`--${name} needs a value`);
  }
  return { values, positional };
}

/** The string flag `name`, or `fallback`. */
export function stringFlag(flags: Flags, name: string, fallback: string): string {
  return flags.values.get(name) ?? fallback;
}

/** The integer flag `name` (at least `min`), or `fallback`; throws a UsageError naming the flag otherwise. */
export function intFlag(flags: Flags, name: string, fallback: number, min = 0): number {
  const raw = flags.values.get(name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isSafeInteger(n) || n < min) throw new UsageError(`--${name} must be an integer >= ${min}, not ${raw}`);
  return n;
}

/** The boolean flag `name`: true when given bare or as true/1/yes. */
export function boolFlag(flags: Flags, name: string): boolean {
  const raw = flags.values.get(name);
  return raw !== undefined && ['true', '1', 'yes'].includes(raw);
}
