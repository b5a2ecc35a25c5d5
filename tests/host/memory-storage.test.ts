/**
 * `MemoryStorage` (src/host/memory-storage.ts): the shared Storage contract, and what is particular
 * to it (contents that survive `close` for `reopened`).
 */
import { MemoryStorage } from '../../src/host/memory-storage.js';
import { append, describeStorageContract, firstLeaderLog, hardState, loadCanonical } from './storage-contract.js';

describeStorageContract('MemoryStorage', () => {
  let last: MemoryStorage | null = null;
  return Promise.resolve({
    open: () => {
      last = last === null ? new MemoryStorage() : last.reopened();
      return Promise.resolve(last);
    },
    cleanup: () => Promise.resolve(),
  });
});

describe('MemoryStorage', () => {
  test('reopened() gives a storage over the same contents, as after a restart', async () => {
    const a = new MemoryStorage();
    await a.load();
    await a.write([hardState(2, 'b'), append(firstLeaderLog(2, 3))]);
    const before = await loadCanonical(a);
    await a.close();
    const b = a.reopened();
    expect(await loadCanonical(b)).toEqual(before);
    await b.write([hardState(3)]);
    expect((await a.reopened().load()).hardState.term).toBe(3);
  });

  test('a fresh storage is empty and needs no load() before writing', async () => {
    const s = new MemoryStorage();
    await s.write([hardState(1)]);
    expect((await s.load()).hardState).toEqual({ term: 1, votedFor: null });
  });
});
