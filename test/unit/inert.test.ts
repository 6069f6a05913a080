import assert from 'node:assert/strict';
import { inert, markdownCell } from '../../tasks/PatRotate/src/report/inert';
import { parseCommands } from '../helpers/runTask';

const ATTACKS = [
  '##vso[task.setvariable variable=X]y',
  'name ##vso[task.setvariable variable=X]y',
  'a\r##vso[task.prependpath]/evil',
  'a\n##[error]fake',
  'a\r\n##vso[task.complete result=Succeeded]x',
  '#\u200b#vso[task.setvariable variable=X]zero-width',
  '#\u00ad#vso[task.setvariable variable=X]soft-hyphen',
  '#\u2060#vso[task.setvariable variable=X]word-joiner',
  '#\u0000#vso[task.setvariable variable=X]nul',
  // ICU ignores more than the format characters (e.g. the Arabic tatweel, Hebrew points): no '#' may survive at all.
  '#\u0640#vso[task.setvariable variable=X]tatweel',
  '#\u0591#vso[task.setvariable variable=X]accent',
  '###vso[task.setvariable variable=X]three',
  '##VSO[task.setvariable variable=X]upper',
  'a\u2028##vso[task.setvariable variable=X]ls',
  'a\u0085##vso[task.setvariable variable=X]nel',
];

describe('inert: outside text cannot form a logging command', () => {
  for (const attack of ATTACKS) {
    it(`neutralises ${JSON.stringify(attack)}`, () => {
      // The test's parser follows the agent's rule; as printed by console.log, and as a log line with a prefix.
      assert.deepEqual(parseCommands(`${inert(attack)}\n`), []);
      assert.deepEqual(parseCommands(`##[section]${inert(attack)}\n`), []);
      assert.ok(!/[\r\n#]/.test(inert(attack)));
    });
  }

  it('the parser itself sees each attack when printed raw (so the tests above can fail)', () => {
    for (const attack of ATTACKS.filter((a) => !a.includes('##[error]') && !/\u0640|\u0591/.test(a))) {
      assert.ok(parseCommands(`${attack}\n`).length > 0, JSON.stringify(attack));
    }
  });

  it('keeps ordinary text readable', () => {
    assert.equal(inert('deploy-pat (vso.code) #1'), 'deploy-pat (vso.code) ＃1');
    assert.equal(inert('line one\nline two'), 'line one ⏎ line two');
    assert.equal(inert('Zürich – 東京'), 'Zürich – 東京');
  });

  it('escapes markdown and HTML in a table cell', () => {
    assert.equal(markdownCell('a|b'), 'a\\|b');
    assert.equal(markdownCell('<img src=x>'), '&lt;img src=x&gt;');
    assert.equal(markdownCell('[x](https://e.example)'), '\\[x\\]\\(https:&#47;&#47;e.example\\)');
    assert.ok(!markdownCell('a\nb').includes('\n'));
  });
});
