/**
 * The kv state machine (examples/kv/machine.ts): the writes, deduplication by client and seq, and
 * snapshots that carry the deduplication table.
 */
import { KvMachine, type KvCommand } from '../../examples/kv/machine.js';

describe('KvMachine', () => {
  test('put, append, cas and delete', () => {
    const m = new KvMachine();
    expect(m.apply({ op: 'put', key: 'a', value: 'x' })).toEqual({ ok: true, prev: null, value: 'x' });
    expect(m.apply({ op: 'append', key: 'a', value: 'y' })).toEqual({ ok: true, prev: 'x', value: 'xy' });
    expect(m.apply({ op: 'append', key: 'b', value: 'z' })).toEqual({ ok: true, prev: null, value: 'z' });
    expect(m.apply({ op: 'cas', key: 'a', expected: 'nope', value: 'w' })).toEqual({
      ok: false,
      prev: 'xy',
      value: 'xy',
    });
    expect(m.apply({ op: 'cas', key: 'a', expected: 'xy', value: 'w' })).toEqual({ ok: true, prev: 'xy', value: 'w' });
    expect(m.apply({ op: 'cas', key: 'c', expected: null, value: 'new' })).toEqual({
      ok: true,
      prev: null,
      value: 'new',
    });
    expect(m.apply({ op: 'delete', key: 'a' })).toEqual({ ok: true, prev: 'w', value: null });
    expect(m.query('a')).toBeNull();
    expect(m.query('b')).toBe('z');
    expect(m.size).toBe(2);
  });

  test('a retried write is applied once and answers as the first time; an older seq is stale', () => {
    const m = new KvMachine();
    const append = (seq: number): KvCommand => ({ op: 'append', key: 'k', value: '+', client: 'c', seq });
    expect(m.apply(append(1))).toEqual({ ok: true, prev: null, value: '+' });
    expect(m.apply(append(1))).toEqual({ ok: true, prev: null, value: '+' });
    expect(m.apply(append(2))).toEqual({ ok: true, prev: '+', value: '++' });
    expect(m.apply(append(2))).toEqual({ ok: true, prev: '+', value: '++' });
    expect(m.apply(append(1))).toMatchObject({ ok: false, stale: true });
    expect(m.query('k')).toBe('++');
    // Another client, and writes without a client, are independent.
    expect(m.apply({ op: 'append', key: 'k', value: '!', client: 'd', seq: 1 }).value).toBe('++!');
    expect(m.apply({ op: 'append', key: 'k', value: '?' }).value).toBe('++!?');
    expect(m.apply({ op: 'append', key: 'k', value: '?' }).value).toBe('++!??');
    expect(m.clientCount).toBe(2);
  });

  test('a snapshot restores the keys and the deduplication table', () => {
    const m = new KvMachine();
    m.apply({ op: 'put', key: 'a', value: '1', client: 'c', seq: 7 });
    m.apply({ op: 'put', key: 'b', value: '2' });
    const copy = new KvMachine();
    copy.apply({ op: 'put', key: 'gone', value: 'x' });
    copy.restore(m.snapshot());
    expect(copy.query('a')).toBe('1');
    expect(copy.query('b')).toBe('2');
    expect(copy.query('gone')).toBeNull();
    // The retry of seq 7 after the restore is answered from the table, not applied again.
    expect(copy.apply({ op: 'put', key: 'a', value: 'other', client: 'c', seq: 7 })).toEqual({
      ok: true,
      prev: null,
      value: '1',
    });
    expect(copy.query('a')).toBe('1');
  });
});
