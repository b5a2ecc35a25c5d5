/**
 * Hashing for traces and for the replicated state machine: FNV-1a over strings, and a mixing step
 * for hash chains. 32-bit, deterministic, dependency-free.
 */
import type { RaftState } from '../index.js';

// Bound once: a global lookup per iteration is slow in sandboxed contexts (jest's vm, for one).
const imul = Math.imul;
const stringify = JSON.stringify;

/** FNV-1a (32-bit) of a string, as an unsigned integer. */
export function fnv1a(text: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The next link of a hash chain: `hash` extended by the integer `value`. */
export function mix(hash: number, value: number): number {
  let h = (hash ^ imul(value | 0, 0x9e3779b1)) >>> 0;
  h = imul(h ^ (h >>> 16), 0x85ebca6b);
  h = imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/**
 * A short fingerprint of a node state (8 hex digits of the FNV-1a of its JSON): what traces record
 * to prove that a replay reproduced the same states. States are plain JSON built with a fixed field
 * order, so equal states give equal fingerprints.
 */
export function hashState(state: RaftState | null): string {
  if (state === null) return 'down';
  return fnv1a(stringify(state)).toString(16).padStart(8, '0');
}
