/**
 * Runs every scenario file in tests/scenarios/ (see tests/support/scenario.ts for the format).
 *
 * Each file is one test: its commands run in order and the output they print must equal the
 * blocks written under them. `UPDATE_SCENARIOS=1 npx jest tests/scenarios` rewrites the blocks with
 * what the commands print now; read every rewritten block before keeping it — a golden file that
 * merely records current behaviour specifies nothing.
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseEntries, parseMessage, fmtEntries, fmtMessage } from './support/scenario-notation.js';
import { lineDiff, parseScenario, renderScenario, runScenario } from './support/scenario.js';

const DIR = path.join(__dirname, 'scenarios');
const UPDATE = process.env.UPDATE_SCENARIOS === '1';
const files = fs
  .readdirSync(DIR)
  .filter((f) => f.endsWith('.txt'))
  .sort();

describe('scenarios', () => {
  test('the folder holds scenario files', () => {
    expect(files.length).toBeGreaterThan(0);
  });

  test.each(files)('%s', (file) => {
    const full = path.join(DIR, file);
    const text = fs.readFileSync(full, 'utf8');
    const { expected, actual } = runScenario(text, path.join('tests', 'scenarios', file));
    if (actual === expected) return;
    if (UPDATE) {
      fs.writeFileSync(full, actual);
      return;
    }
    throw new Error(
      `tests/scenarios/${file}: output differs (- expected, + actual)\n${lineDiff(expected, actual)}\n\n` +
        'If the new output is right, rewrite with UPDATE_SCENARIOS=1 npx jest tests/scenarios and review the diff.',
    );
  });
});

describe('scenario format', () => {
  test('messages parse back from their printed form', () => {
    const printed = [
      'requestVote term=2 last=(1,3)',
      'requestVoteReply term=2 granted',
      'requestVoteReply term=3 refused',
      'appendEntries term=2 commit=3 prev=(1,3) entries=[]',
      'appendEntries term=2 commit=0 prev=(0,0) entries=[1:config(voters=a,b,c) 2:term(1) 3-5:cmd 6:term(2) 7:cmd]',
      'appendEntries term=4 commit=1 prev=(1,1) entries=[2:config(voters=a,b;newVoters=b,c;nonVoters=d) 3:cmd]',
      'appendEntriesReply term=2 last=(2,5)',
    ];
    for (const text of printed) expect(fmtMessage(parseMessage('a', text))).toBe(text);
  });

  test('badly formed entry lists are refused', () => {
    expect(() => parseEntries({ term: 1, index: 3 }, '5:cmd')).toThrow(/does not follow index 3/);
    expect(() => parseEntries({ term: 1, index: 3 }, '4:nop')).toThrow(/bad entry/);
    expect(fmtEntries(parseEntries({ term: 1, index: 3 }, '4-6:cmd'))).toBe('prev=(1,3) entries=[4-6:cmd]');
  });

  test('rendering a parsed file gives the file back', () => {
    const text = '# a comment\n\nstart a\n----\nok\n\nstatus a\n----\na: follower\n';
    expect(renderScenario(parseScenario(text), [['ok'], ['a: follower']])).toBe(text);
  });

  test('the diff shows expected and actual lines', () => {
    const diff = lineDiff('a\nb\nc\n', 'a\nB\nc\n');
    expect(diff).toContain('- b');
    expect(diff).toContain('+ B');
  });

  test('a broken command names the file and line', () => {
    expect(() => runScenario('start a\n----\nok\n\nfrobnicate a\n----\nok\n', 'x.txt')).toThrow(
      /x\.txt:5: frobnicate a/,
    );
  });
});
