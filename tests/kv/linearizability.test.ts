/**
 * The linearizability checker (tests/support/linearizability.ts): small hand-written histories
 * (accepted, and the classic anomalies rejected), the register model's rules, large generated
 * histories — linearizable by construction, then with a stale read or a lost write planted at the
 * end — checked within a time bound, and both of its passes against a brute-force search on many
 * small histories, half of them corrupted.
 */
import {
  checkHistory,
  checkKey,
  describeOperation,
  parseHistory,
  registerStep,
  type OpKind,
  type Operation,
  type OpStatus,
  type RegisterValue,
} from '../support/linearizability.js';
import { seededRandom } from '../../src/host/memory-transport.js';
import { BASE_SEED } from '../support/seed.js';

// eslint-disable-next-line no-console
console.log(`[seed] kv linearizability: FC_SEED=${BASE_SEED}`);

/** An operation on key `x` by client `c` in [call, ret]. */
function op(
  c: number,
  kind: OpKind,
  call: number,
  ret: number | null,
  fields: { value?: string | null; expected?: string | null; output?: unknown; status?: OpStatus; key?: string } = {},
): Operation {
  return { client: c, op: kind, key: fields.key ?? 'x', call, return: ret, status: fields.status ?? 'ok', ...fields };
}

describe('the register model', () => {
  const at = (value: RegisterValue, o: Operation): RegisterValue | undefined => registerStep(value, o);

  test('reads must see the value; writes replace, append and delete it', () => {
    expect(at('a', op(1, 'get', 0, 1, { output: 'a' }))).toBe('a');
    expect(at('a', op(1, 'get', 0, 1, { output: 'b' }))).toBeUndefined();
    expect(at(null, op(1, 'get', 0, 1, { output: null }))).toBeNull();
    expect(at('a', op(1, 'put', 0, 1, { value: 'b' }))).toBe('b');
    expect(at(null, op(1, 'append', 0, 1, { value: 'b' }))).toBe('b');
    expect(at('a', op(1, 'append', 0, 1, { value: 'b', output: 'ab' }))).toBe('ab');
    expect(at('a', op(1, 'append', 0, 1, { value: 'b', output: 'b' }))).toBeUndefined();
    expect(at('a', op(1, 'delete', 0, 1))).toBeNull();
  });

  test('cas swaps only on the expected value, and its output must say whether it did', () => {
    expect(at('a', op(1, 'cas', 0, 1, { expected: 'a', value: 'b', output: true }))).toBe('b');
    expect(at('a', op(1, 'cas', 0, 1, { expected: 'z', value: 'b', output: false }))).toBe('a');
    expect(at('a', op(1, 'cas', 0, 1, { expected: 'z', value: 'b', output: true }))).toBeUndefined();
    expect(at(null, op(1, 'cas', 0, 1, { expected: null, value: 'b', output: true }))).toBe('b');
    // An info cas takes whichever branch the value gives.
    expect(at('z', op(1, 'cas', 0, null, { expected: 'z', value: 'b', status: 'info' }))).toBe('b');
  });
});

describe('small histories', () => {
  test('a sequential history is linearizable', () => {
    const h = [
      op(1, 'put', 0, 10, { value: 'a' }),
      op(1, 'get', 20, 30, { output: 'a' }),
      op(2, 'append', 40, 50, { value: 'b', output: 'ab' }),
      op(2, 'cas', 60, 70, { expected: 'ab', value: 'c', output: true }),
      op(1, 'delete', 80, 90),
      op(1, 'get', 100, 110, { output: null }),
    ];
    expect(checkHistory(h).linearizable).toBe(true);
  });

  test('concurrent operations may take effect in either order', () => {
    const h = [
      op(1, 'put', 0, 100, { value: 'a' }),
      op(2, 'put', 10, 90, { value: 'b' }),
      op(3, 'get', 20, 30, { output: 'b' }),
      op(3, 'get', 40, 50, { output: 'a' }),
      op(4, 'get', 110, 120, { output: 'a' }),
    ];
    expect(checkHistory(h).linearizable).toBe(true);
  });

  test('a stale read is caught', () => {
    const h = [
      op(1, 'put', 0, 10, { value: 'a' }),
      op(1, 'put', 20, 30, { value: 'b' }),
      op(2, 'get', 40, 50, { output: 'a' }),
    ];
    const r = checkHistory(h);
    expect(r.linearizable).toBe(false);
    expect(r.keys[0]!.stuckAt).toMatchObject({ op: 'get', output: 'a' });
  });

  test('a lost write is caught', () => {
    const h = [op(1, 'put', 0, 10, { value: 'a' }), op(2, 'get', 20, 30, { output: null })];
    expect(checkHistory(h).linearizable).toBe(false);
  });

  test('a read going back in time (two reads, one after the other) is caught', () => {
    const h = [
      op(1, 'put', 0, 100, { value: 'a' }),
      op(2, 'get', 10, 20, { output: 'a' }),
      op(3, 'get', 30, 40, { output: null }),
    ];
    expect(checkHistory(h).linearizable).toBe(false);
  });

  test('a failed write is ignored; an info write may or may not have happened', () => {
    const failed = [op(1, 'put', 0, 10, { value: 'a', status: 'fail' }), op(2, 'get', 20, 30, { output: null })];
    expect(checkHistory(failed).linearizable).toBe(true);
    const happened = [op(1, 'put', 0, 10, { value: 'a', status: 'info' }), op(2, 'get', 20, 30, { output: 'a' })];
    expect(checkHistory(happened).linearizable).toBe(true);
    const didNot = [op(1, 'put', 0, 10, { value: 'a', status: 'info' }), op(2, 'get', 20, 30, { output: null })];
    expect(checkHistory(didNot).linearizable).toBe(true);
    // ... but once: an info write cannot be seen, then unseen, then seen again.
    const flicker = [
      op(1, 'put', 0, 10, { value: 'a', status: 'info' }),
      op(2, 'get', 20, 30, { output: 'a' }),
      op(2, 'put', 40, 50, { value: 'b' }),
      op(2, 'get', 60, 70, { output: 'a' }),
    ];
    expect(checkHistory(flicker).linearizable).toBe(false);
  });

  test('two info writes that do the same thing may both have taken effect, one after the other', () => {
    // Each read of an absent key needs a delete of its own; only the two open deletes can be those.
    const h = [
      op(1, 'put', 0, 10, { value: 'a' }),
      op(2, 'delete', 11, null, { status: 'info' }),
      op(3, 'delete', 12, null, { status: 'info' }),
      op(1, 'get', 20, 30, { output: null }),
      op(1, 'put', 40, 50, { value: 'b' }),
      op(1, 'get', 60, 70, { output: null }),
    ];
    expect(checkHistory(h).linearizable).toBe(true);
    expect(checkHistory(h, { firstPassSteps: 0 }).linearizable).toBe(true);
    // ... but not three times.
    const third = [...h, op(1, 'put', 80, 90, { value: 'c' }), op(1, 'get', 100, 110, { output: null })];
    expect(checkHistory(third).linearizable).toBe(false);
    expect(checkHistory(third, { firstPassSteps: 0 }).linearizable).toBe(false);
  });

  test('info appends and a swapping info cas are placed where a later read needs them', () => {
    const h = [
      op(1, 'put', 0, 10, { value: 'a' }),
      op(2, 'append', 11, null, { value: '1', status: 'info' }),
      op(3, 'cas', 12, null, { expected: 'a1', value: 'b', status: 'info' }),
      op(4, 'append', 13, null, { value: '2', status: 'info' }),
      op(1, 'cas', 20, 30, { expected: 'a', value: 'z', output: false }),
      op(1, 'get', 40, 50, { output: 'b2' }),
    ];
    expect(checkHistory(h).linearizable).toBe(true);
    expect(checkHistory(h, { firstPassSteps: 0 }).linearizable).toBe(true);
    // 'b1' would need the append of '1' twice: once before the cas swapped, once after.
    const twice = h.map((o) => (o.op === 'get' ? { ...o, output: 'b1' } : o));
    expect(checkHistory(twice).linearizable).toBe(false);
    expect(checkHistory(twice, { firstPassSteps: 0 }).linearizable).toBe(false);
  });

  test('an info put is placed when appends that overlap can still give what a read saw', () => {
    // 'yabb' is 'y' + 'ab' + 'b', not 'y' + 'a' + 'b' + ...: the appends overlap, and only one of
    // their orders after the info put gives the read's value.
    const h = [
      op(1, 'put', 0, 10, { value: 'x' }),
      op(2, 'put', 11, null, { value: 'y', status: 'info' }),
      op(3, 'append', 12, null, { value: 'a', status: 'info' }),
      op(4, 'append', 13, null, { value: 'b', status: 'info' }),
      op(5, 'append', 14, null, { value: 'ab', status: 'info' }),
      op(1, 'get', 20, 30, { output: 'yabb' }),
    ];
    expect(checkHistory(h).linearizable).toBe(true);
    expect(checkHistory(h, { firstPassSteps: 0 }).linearizable).toBe(true);
  });

  test('a cas that claims success against the wrong value is caught', () => {
    const h = [op(1, 'put', 0, 10, { value: 'a' }), op(2, 'cas', 20, 30, { expected: 'z', value: 'b', output: true })];
    expect(checkHistory(h).linearizable).toBe(false);
  });

  test('keys are checked independently', () => {
    const h = [
      op(1, 'put', 0, 10, { value: 'a', key: 'k1' }),
      op(1, 'put', 0, 10, { value: 'b', key: 'k2' }),
      op(2, 'get', 20, 30, { output: 'a', key: 'k1' }),
      op(2, 'get', 20, 30, { output: 'a', key: 'k2' }),
    ];
    const r = checkHistory(h);
    expect(r.linearizable).toBe(false);
    expect(r.keys.map((k) => [k.key, k.linearizable])).toEqual([
      ['k1', true],
      ['k2', false],
    ]);
  });

  test('malformed operations are refused; histories parse from JSON lines', () => {
    expect(() => checkHistory([op(1, 'put', 10, 5, { value: 'a' })])).toThrow(RangeError);
    expect(() => checkHistory([{ ...op(1, 'get', 0, 1), op: 'scan' as OpKind }])).toThrow(RangeError);
    const text = `${JSON.stringify(op(1, 'put', 0, 1, { value: 'a' }))}\n\n${JSON.stringify(op(1, 'get', 2, 3, { output: 'a' }))}\n`;
    expect(checkHistory(parseHistory(text)).linearizable).toBe(true);
    expect(() => parseHistory('{"op":')).toThrow(/line 1/);
    expect(describeOperation(op(1, 'cas', 0, 1, { expected: 'a', value: 'b', output: true }))).toBe(
      'client 1: cas(x, "a" -> "b") => true [0, 1]',
    );
  });

  test('the step budget gives unknown instead of an answer', () => {
    const h = [op(1, 'put', 0, 10, { value: 'a' }), op(2, 'get', 20, 30, { output: 'a' })];
    expect(checkKey('x', h, { maxSteps: 1 }).linearizable).toBe('unknown');
  });
});

/**
 * A random history of `count` operations on `keys` keys (k0, k1, ...) by `clients` sequential
 * clients, linearizable by construction: each operation takes effect at a random point inside its
 * interval, and its output is what the register gave at that point. About `infoRate` of the writes
 * end `info` (half of them took effect, half did not). Values are unique.
 */
function generate(count: number, clients: number, seed: number, infoRate = 0.01, keys = 1): Operation[] {
  const random = seededRandom(seed);
  const kinds: OpKind[] = ['get', 'get', 'get', 'put', 'put', 'append', 'cas', 'delete'];
  const clock = new Array<number>(clients).fill(0);
  const planned: { op: Operation; at: number; applies: boolean }[] = [];
  const recent: string[] = [];
  for (let i = 0; i < count; i++) {
    const c = i % clients;
    const call = clock[c]! + 1 + Math.floor(random() * 20);
    const ret = call + 1 + Math.floor(random() * 60);
    clock[c] = ret;
    const kind = kinds[Math.floor(random() * kinds.length)]!;
    const info = kind !== 'get' && random() < infoRate;
    const at = call + random() * (ret - call);
    const value = kind === 'append' ? `a${i};` : `p${i}`;
    const expected = recent.length > 0 && random() < 0.8 ? recent[Math.floor(random() * recent.length)]! : null;
    if (kind === 'put') recent.push(value);
    if (recent.length > 4) recent.shift();
    const base: Operation = {
      client: c,
      op: kind,
      key: keys === 1 ? 'x' : `k${Math.floor(random() * keys)}`,
      call,
      return: ret,
      status: info ? 'info' : 'ok',
      ...(kind === 'put' || kind === 'append' || kind === 'cas' ? { value } : {}),
      ...(kind === 'cas' ? { expected } : {}),
    };
    planned.push({ op: base, at, applies: !info || random() < 0.5 });
  }
  const values = new Map<string, RegisterValue>();
  const out: Operation[] = [];
  for (const p of [...planned].sort((a, b) => a.at - b.at)) {
    if (!p.applies) {
      out.push(p.op);
      continue;
    }
    const o = p.op;
    const before = values.get(o.key) ?? null;
    const value = registerStep(before, { ...o, status: 'info' }) ?? null;
    values.set(o.key, value);
    const output =
      o.op === 'get' ? before : o.op === 'cas' ? before === (o.expected ?? null) : o.op === 'append' ? value : null;
    out.push(o.status === 'ok' ? { ...o, output } : o);
  }
  return out.sort((a, b) => a.call - b.call);
}

/**
 * The oracle: every order of `ops` (one key) that respects real time, `info` operations optional,
 * tried one by one. Exponential: for a handful of operations only.
 */
function bruteForce(ops: readonly Operation[]): boolean {
  const kept = ops.filter((o) => o.status === 'ok' || (o.status === 'info' && o.op !== 'get'));
  const returns = kept.map((o) => (o.status === 'info' ? Infinity : o.return!));
  const used = kept.map(() => false);
  const search = (value: RegisterValue): boolean => {
    if (kept.every((o, i) => used[i] || o.status === 'info')) return true;
    for (let i = 0; i < kept.length; i++) {
      const o = kept[i]!;
      if (used[i] || kept.some((_, j) => !used[j] && j !== i && returns[j]! < o.call)) continue;
      const after = registerStep(value, o);
      if (after === undefined) continue;
      used[i] = true;
      if (search(after)) return true;
      used[i] = false;
    }
    return false;
  };
  return search(null);
}

/** `h` with one operation's output replaced by something plausible (possibly wrong), by `random`. */
function corrupt(h: Operation[], random: () => number): Operation[] {
  const out = [...h];
  const i = Math.floor(random() * out.length);
  const o = out[i]!;
  const values = out.flatMap((x) => (typeof x.value === 'string' ? [x.value] : []));
  const any = (): string | null => (random() < 0.3 ? null : (values[Math.floor(random() * values.length)] ?? null));
  if (o.status !== 'ok') return out;
  if (o.op === 'get' || o.op === 'append') out[i] = { ...o, output: any() };
  else if (o.op === 'cas') out[i] = { ...o, output: o.output !== true };
  return out;
}

/**
 * `h` with one read's or append's output replaced by another operation's output (for an append,
 * followed by its own string), or one cas's output flipped: near misses, by `random`.
 */
function corruptFromOutputs(h: Operation[], random: () => number): Operation[] {
  const out = [...h];
  const i = Math.floor(random() * out.length);
  const o = out[i]!;
  if (o.status !== 'ok') return out;
  const outputs = out.flatMap((x) => (typeof x.output === 'string' ? [x.output] : []));
  const other = (): string | null => (random() < 0.2 ? null : (outputs[Math.floor(random() * outputs.length)] ?? null));
  if (o.op === 'get') out[i] = { ...o, output: other() };
  else if (o.op === 'append') out[i] = { ...o, output: (other() ?? '') + (o.value ?? '') };
  else if (o.op === 'cas') out[i] = { ...o, output: o.output !== true };
  return out;
}

/** `h` with about half of its appends' outputs left unchecked (null), by `random`. */
function uncheckSomeAppends(h: Operation[], random: () => number): Operation[] {
  return h.map((o) => (o.op === 'append' && random() < 0.5 ? { ...o, output: null } : o));
}

/** The last time anything in `h` returned. */
function end(h: readonly Operation[]): number {
  return Math.max(...h.map((o) => o.return ?? o.call));
}

describe('generated histories', () => {
  test('a few thousand operations on one key, eight clients, a few info writes, are checked fast', () => {
    const h = generate(4000, 8, BASE_SEED, 0.001);
    const r = checkHistory(h);
    expect(r.linearizable).toBe(true);
    expect(r.keys[0]!.operations).toBeGreaterThan(3900);
    expect(r.elapsedMs).toBeLessThan(10_000);
  });

  test('many seeds of small histories are all accepted', () => {
    for (let s = 0; s < 50; s++) expect(checkHistory(generate(200, 5, BASE_SEED + s, 0.05)).linearizable).toBe(true);
  });

  test('ten thousand operations on five keys, with info writes, are accepted', () => {
    const r = checkHistory(generate(10_000, 8, BASE_SEED + 4, 0.01, 5));
    expect(r.linearizable).toBe(true);
    expect(r.keys).toHaveLength(5);
    expect(r.elapsedMs).toBeLessThan(10_000);
  });

  test('ten thousand operations with hundreds of info writes, half never applied, are accepted', () => {
    // About 300 info writes; those that never took effect stay open to the end of the history.
    for (let s = 0; s < 3; s++) {
      const h = generate(10_000, 8, BASE_SEED + 10 + s, 0.05, 5);
      expect(h.filter((o) => o.status === 'info').length).toBeGreaterThan(200);
      expect([s, checkHistory(h).linearizable]).toEqual([s, true]);
    }
  });

  test('a stale read planted at the end of a long history is caught', () => {
    const h = generate(10_000, 8, BASE_SEED + 1, 0.005, 5);
    const t = end(h);
    h.push(op(90, 'put', t + 10, t + 20, { value: 'old', key: 'k0' }));
    h.push(op(90, 'put', t + 30, t + 40, { value: 'new', key: 'k0' }));
    h.push(op(91, 'get', t + 50, t + 60, { output: 'old', key: 'k0' }));
    const r = checkHistory(h);
    expect(r.linearizable).toBe(false);
    expect(r.keys[0]!.stuckAt).toMatchObject({ client: 91, op: 'get' });
    expect(r.keys.slice(1).every((k) => k.linearizable === true)).toBe(true);
  });

  test('a lost write planted at the end of a long history is caught', () => {
    const h = generate(10_000, 8, BASE_SEED + 2, 0.005, 5);
    const t = end(h);
    h.push(op(90, 'put', t + 10, t + 20, { value: 'kept', key: 'k3' }));
    h.push(op(90, 'append', t + 30, t + 40, { value: '+lost', output: 'kept+lost', key: 'k3' }));
    h.push(op(91, 'get', t + 50, t + 60, { output: 'kept', key: 'k3' }));
    const r = checkHistory(h);
    expect(r.linearizable).toBe(false);
    expect(r.keys.find((k) => k.key === 'k3')!.linearizable).toBe(false);
  });

  test('the second pass alone (cut where no operation is in flight) gives the same verdicts', () => {
    for (let s = 0; s < 40; s++) {
      const h = generate(300, 4, BASE_SEED + 100 + s, 0.05, 2);
      const both = checkHistory(h);
      const second = checkHistory(h, { firstPassSteps: 0 });
      expect(second.linearizable).toBe(true);
      expect(both.linearizable).toBe(true);
      // Plant a stale read at the end of key k0: both passes must reject it.
      const t = end(h);
      h.push(op(90, 'put', t + 10, t + 20, { value: 'old', key: 'k0' }));
      h.push(op(90, 'put', t + 30, t + 40, { value: 'new', key: 'k0' }));
      h.push(op(91, 'get', t + 50, t + 60, { output: 'old', key: 'k0' }));
      expect(checkHistory(h).linearizable).toBe(false);
      const r = checkHistory(h, { firstPassSteps: 0 });
      expect(r.linearizable).toBe(false);
      expect(r.keys[0]!.stuckAt).toMatchObject({ client: 91, op: 'get' });
    }
  });

  test('both passes agree with a brute-force search on small histories, most of them corrupted', () => {
    let rejected = 0;
    for (let s = 0; s < 1200; s++) {
      const random = seededRandom(BASE_SEED + 7 * s);
      let h = generate(4 + (s % 8), 1 + (s % 4), BASE_SEED + s, [0.25, 0.5, 0.8][s % 3]);
      if (s % 4 === 1) h = corrupt(h, random);
      if (s % 4 === 2) h = corruptFromOutputs(h, random);
      if (s % 4 === 3) h = uncheckSomeAppends(corrupt(h, random), random);
      const expected = bruteForce(h);
      if (!expected) rejected++;
      expect([s, checkHistory(h).linearizable]).toEqual([s, expected]);
      expect([s, checkHistory(h, { firstPassSteps: 0 }).linearizable]).toEqual([s, expected]);
    }
    expect(rejected).toBeGreaterThan(100);
  });

  test('a read answering from the middle of a long history is caught', () => {
    const h = generate(3000, 8, BASE_SEED + 3, 0);
    // A read called after everything returned, answering a value some put wrote long ago and a
    // later write replaced (values are unique, so nothing else wrote it).
    const t = end(h);
    const oldPut = h.find((o) => o.op === 'put' && o.return! < t / 2)!;
    h.push(op(90, 'put', t + 10, t + 20, { value: 'fresh' }));
    h.push(op(91, 'get', t + 30, t + 40, { output: oldPut.value }));
    expect(checkHistory(h).linearizable).toBe(false);
  });
});
