/**
 * The replicated state machine of the kv service: string keys to string values, and, per client,
 * the last request applied and its result, so that a retried write is applied once.
 *
 * Deduplication lives inside the state machine, so it is replicated and survives a change of
 * leader: a client numbers its writes (`client`, `seq`, one write in flight at a time) and retries
 * a write with the same number until it has an answer. Applying a command whose `seq` equals the
 * client's last one returns the result saved then, without applying it again; one whose `seq` is
 * older is stale (the client has moved on: it cannot be waiting for it) and changes nothing.
 * Commands without a client are applied every time.
 */
import type { StateMachine } from '../../src/host/index.js';

/** A write, as replicated. `client` and `seq` (a positive integer) identify it for deduplication. */
export type KvCommand =
  | {
      readonly op: 'put';
      readonly key: string;
      readonly value: string;
      readonly client?: string;
      readonly seq?: number;
    }
  | {
      readonly op: 'append';
      readonly key: string;
      readonly value: string;
      readonly client?: string;
      readonly seq?: number;
    }
  | {
      readonly op: 'cas';
      readonly key: string;
      readonly expected: string | null;
      readonly value: string;
      readonly client?: string;
      readonly seq?: number;
    }
  | { readonly op: 'delete'; readonly key: string; readonly client?: string; readonly seq?: number };

/** What a write did. */
export interface KvResult {
  /** False for a `cas` whose expected value did not match, and for a stale request. */
  readonly ok: boolean;
  /** The key's value before and after (null: absent). */
  readonly prev: string | null;
  readonly value: string | null;
  /** True when the request's `seq` was older than the client's last: nothing was done. */
  readonly stale?: boolean;
}

/** The last request of a client, and its result. */
interface ClientRecord {
  readonly seq: number;
  readonly result: KvResult;
}

/** The serialized state (see `snapshot`). */
interface SnapshotData {
  readonly data: [string, string][];
  readonly clients: [string, number, KvResult][];
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The kv state machine (see the module comment). Queries are keys; answers are values or null. */
export class KvMachine implements StateMachine<KvCommand, KvResult, string, string | null> {
  private data = new Map<string, string>();
  private clients = new Map<string, ClientRecord>();

  /** Apply a committed write (deduplicated by client and seq). */
  apply(command: KvCommand): KvResult {
    const client = command.client;
    const seq = command.seq;
    if (client === undefined || seq === undefined) return this.write(command);
    const last = this.clients.get(client);
    if (last !== undefined && seq === last.seq) return last.result;
    if (last !== undefined && seq < last.seq) return { ok: false, prev: null, value: null, stale: true };
    const result = this.write(command);
    this.clients.set(client, { seq, result });
    return result;
  }

  /** The write itself. */
  private write(command: KvCommand): KvResult {
    const prev = this.data.get(command.key) ?? null;
    switch (command.op) {
      case 'put':
        return this.set(command.key, prev, command.value);
      case 'append':
        return this.set(command.key, prev, (prev ?? '') + command.value);
      case 'cas':
        return prev === command.expected
          ? this.set(command.key, prev, command.value)
          : { ok: false, prev, value: prev };
      case 'delete':
        this.data.delete(command.key);
        return { ok: true, prev, value: null };
    }
  }

  /** Set `key` to `value` and say so. */
  private set(key: string, prev: string | null, value: string): KvResult {
    this.data.set(key, value);
    return { ok: true, prev, value };
  }

  /** The value of `key`, or null. */
  query(key: string): string | null {
    return this.data.get(key) ?? null;
  }

  /** The keys and the client table, as JSON. */
  snapshot(): Uint8Array {
    const state: SnapshotData = {
      data: [...this.data],
      clients: [...this.clients].map(([id, r]) => [id, r.seq, r.result]),
    };
    return encoder.encode(JSON.stringify(state));
  }

  /** Replace the state with a snapshot's. */
  restore(snapshot: Uint8Array): void {
    const state = JSON.parse(decoder.decode(snapshot)) as SnapshotData;
    this.data = new Map(state.data);
    this.clients = new Map(state.clients.map(([id, seq, result]) => [id, { seq, result }]));
  }

  /** How many keys are stored (for /status). */
  get size(): number {
    return this.data.size;
  }

  /** How many clients are remembered for deduplication (for /status). */
  get clientCount(): number {
    return this.clients.size;
  }
}
