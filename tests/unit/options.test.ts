/**
 * Node options (src/options.ts): what `startNode` and `restartNode` accept, the defaults they fill
 * in, and the one-line reason they give for each option they refuse (a TypeError, nothing started).
 */
import { makeConfig } from '../../src/config.js';
import { emptyEntries } from '../../src/log.js';
import { restartNode, startNode } from '../../src/node.js';
import { BASIC_OPTIONS, DEFAULT_OPTIONS, parseOptions } from '../../src/options.js';

describe('node options', () => {
  test('absent options, or an empty object, are the defaults: pre-vote, check-quorum and flow control on', () => {
    expect(parseOptions(undefined)).toBe(DEFAULT_OPTIONS);
    expect(parseOptions({})).toEqual(DEFAULT_OPTIONS);
    expect(DEFAULT_OPTIONS).toMatchObject({ preVote: true, checkQuorum: true, flowControl: true, leaseReads: false });
    expect(startNode('a')[0].options).toEqual(DEFAULT_OPTIONS);
  });

  test('given options replace the defaults one by one; the result is a plain copy', () => {
    const given = { preVote: false, maxEntriesPerAppend: 7 };
    const parsed = parseOptions(given);
    expect(parsed).toEqual({ ...DEFAULT_OPTIONS, preVote: false, maxEntriesPerAppend: 7 });
    expect(parsed).not.toBe(given);
    expect(parseOptions(BASIC_OPTIONS)).toEqual(BASIC_OPTIONS);
  });

  test('options that are not an object are refused', () => {
    for (const bad of [null, 3, 'fast', true, [], [{ preVote: true }]]) {
      expect(parseOptions(bad)).toBe('options must be an object');
    }
    expect(() => startNode('a', [] as never)).toThrow(new TypeError('startNode: options must be an object'));
  });

  test('a misspelt option is refused, naming the known ones', () => {
    const problem = parseOptions({ prevote: true });
    expect(problem).toMatch(/^options\.prevote is not an option \(known: preVote, checkQuorum, /);
    for (const name of Object.keys(DEFAULT_OPTIONS)) expect(problem).toContain(name);
  });

  test.each([
    ['preVote', 'yes', 'options.preVote must be a boolean'],
    ['checkQuorum', 1, 'options.checkQuorum must be a boolean'],
    ['leaseReads', null, 'options.leaseReads must be a boolean'],
    ['flowControl', 'off', 'options.flowControl must be a boolean'],
    ['electionTimeoutTicks', 1, 'options.electionTimeoutTicks must be an integer from 2 to 1000000'],
    ['electionTimeoutTicks', 2.5, 'options.electionTimeoutTicks must be an integer from 2 to 1000000'],
    ['electionTimeoutTicks', 1_000_001, 'options.electionTimeoutTicks must be an integer from 2 to 1000000'],
    ['leaseDriftTicks', 0, 'options.leaseDriftTicks must be an integer from 1 to electionTimeoutTicks - 1'],
    [
      'leaseDriftTicks',
      DEFAULT_OPTIONS.electionTimeoutTicks,
      'options.leaseDriftTicks must be an integer from 1 to electionTimeoutTicks - 1',
    ],
    ['maxInflightEntries', 0, 'options.maxInflightEntries must be an integer from 1 to 2^53 - 2'],
    ['maxInflightEntries', Number.MAX_SAFE_INTEGER, 'options.maxInflightEntries must be an integer from 1 to 2^53 - 2'],
    ['maxEntriesPerAppend', -1, 'options.maxEntriesPerAppend must be an integer from 1 to 2^53 - 2'],
    ['maxEntriesPerAppend', '4096', 'options.maxEntriesPerAppend must be an integer from 1 to 2^53 - 2'],
    [
      'maxEntriesPerAppend',
      Number.MAX_SAFE_INTEGER,
      'options.maxEntriesPerAppend must be an integer from 1 to 2^53 - 2',
    ],
  ])('%s = %p is refused: "%s"', (name, value, problem) => {
    expect(parseOptions({ [name]: value })).toBe(problem);
    expect(() => startNode('a', { [name]: value })).toThrow(new TypeError(`startNode: ${problem}`));
  });

  test('every bound is inclusive: the least and the greatest values are taken', () => {
    const least = { electionTimeoutTicks: 2, leaseDriftTicks: 1, maxInflightEntries: 1, maxEntriesPerAppend: 1 };
    expect(parseOptions(least)).toEqual({ ...DEFAULT_OPTIONS, ...least });
    const most = {
      electionTimeoutTicks: 1_000_000,
      leaseDriftTicks: 999_999,
      maxInflightEntries: Number.MAX_SAFE_INTEGER - 1,
      maxEntriesPerAppend: Number.MAX_SAFE_INTEGER - 1,
    };
    expect(parseOptions(most)).toEqual({ ...DEFAULT_OPTIONS, ...most });
  });

  test('the lease drift is bounded by the election timeout as given, not the default', () => {
    expect(parseOptions({ electionTimeoutTicks: 4, leaseDriftTicks: 3 })).toMatchObject({ leaseDriftTicks: 3 });
    expect(parseOptions({ electionTimeoutTicks: 4, leaseDriftTicks: 4 })).toBe(
      'options.leaseDriftTicks must be an integer from 1 to electionTimeoutTicks - 1',
    );
  });

  test('restartNode checks the options it is given the same way, and refuses bad ones', () => {
    const persisted = { id: 'a', term: 1, votedFor: null, log: emptyEntries(0, 0), snapshotConfig: makeConfig([]) };
    expect(() => restartNode({ ...persisted, options: { maxInflightEntries: 0 } })).toThrow(
      new TypeError('restartNode: options.maxInflightEntries must be an integer from 1 to 2^53 - 2'),
    );
    expect(() => restartNode({ ...persisted, options: { preVote: 'yes' as never } })).toThrow(
      new TypeError('restartNode: options.preVote must be a boolean'),
    );
    expect(restartNode({ ...persisted, options: { preVote: false } })[0].options).toEqual({
      ...DEFAULT_OPTIONS,
      preVote: false,
    });
  });

  test('lease reads need check-quorum', () => {
    expect(parseOptions({ leaseReads: true, checkQuorum: false })).toBe('options.leaseReads needs options.checkQuorum');
    expect(parseOptions({ leaseReads: true })).toMatchObject({ leaseReads: true, checkQuorum: true });
  });
});
