/**
 * The application's state machine, as a host runs it, and the codec that turns its commands into
 * the bytes stored in the log and carried to the peers.
 *
 * A host (`createHost`, ./host.ts) applies every committed command to the state machine exactly
 * once per process lifetime, in log order, and only once it is durable on this node. The state
 * machine must be deterministic: the same commands in the same order give the same states and
 * results on every node (no clocks, no randomness, no I/O whose outcome differs between nodes).
 *
 * Restart: a host restores the state machine from the latest snapshot in its storage (or leaves it
 * as given, when there is none) and then re-applies the committed entries above the snapshot. So the
 * state machine given to `createHost` must be fresh (empty) or hold exactly what `restore` would put
 * in it.
 *
 * This module has no dependencies and runs in browsers.
 */

/**
 * Commands as bytes. `encode` runs on the node that proposes, `decode` on every node that applies:
 * `decode(encode(c))` must give a command equivalent to `c`. Both must be deterministic. An
 * exception from `decode` is handled as an exception from `apply` (see {@link StateMachine.apply}).
 */
export interface CommandCodec<Command> {
  /** The bytes of `command` (what the log stores and the leader replicates). */
  encode(command: Command): Uint8Array;
  /** The command of `bytes`. */
  decode(bytes: Uint8Array): Command;
}

/**
 * A replicated state machine.
 *
 * - `Command`: what `propose` replicates and `apply` applies.
 * - `Result`: what `apply` returns; the proposer's `propose` promise resolves with it.
 * - `Query`: what `read` asks; `QueryResult`: what `query` answers.
 */
export interface StateMachine<Command, Result, Query, QueryResult> {
  /**
   * Apply the committed command at log `index` and return its result. Called once per committed
   * command, in index order. An exception is treated as the command's result: the proposer's
   * promise rejects with it, and the host goes on with the next entry (the state machine is
   * deterministic, so every node throws the same way and the replicas stay equal).
   */
  apply(command: Command, index: number): Result;
  /**
   * Answer a read from the current state (called once every entry up to the read's index is
   * applied; must not change the state). An exception rejects the read's promise.
   */
  query(query: Query): QueryResult;
  /** The whole state, serialized (called synchronously right after an entry was applied). */
  snapshot(): Uint8Array;
  /** Replace the whole state with the one `snapshot` serialized. */
  restore(snapshot: Uint8Array): void;
  /** How commands become bytes; JSON (UTF-8) when left out ({@link jsonCodec}). */
  readonly codec?: CommandCodec<Command>;
}

/**
 * The default codec: `JSON.stringify` as UTF-8. Commands must be JSON values (`undefined`,
 * functions, `BigInt`, cycles do not survive); `decode` of bytes that are not JSON throws.
 */
export function jsonCodec<Command>(): CommandCodec<Command> {
  const encoder = new TextEncoder();
  const decoder = new TextDecoder('utf-8', { fatal: true });
  return {
    encode(command: Command): Uint8Array {
      const text = JSON.stringify(command);
      if (text === undefined) throw new TypeError('jsonCodec: the command is not a JSON value');
      return encoder.encode(text);
    },
    decode(bytes: Uint8Array): Command {
      return JSON.parse(decoder.decode(bytes)) as Command;
    },
  };
}
