// The README's promises that drift silently: the two commands, and an inputs/outputs table that matches task.json.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../helpers/runTask';

interface TaskJson {
  inputs: { name: string; defaultValue?: string }[];
  outputVariables: { name: string }[];
}

const read = (rel: string): string => readFileSync(path.join(REPO_ROOT, rel), 'utf8');

/** The text of one `## title` section. */
function section(markdown: string, title: string): string {
  const start = markdown.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, `README has no section ## ${title}`);
  const end = markdown.indexOf('\n## ', start + 4);
  return markdown.slice(start, end < 0 ? undefined : end);
}

describe('package: documentation', () => {
  const readme = read('README.md');
  const task = JSON.parse(read('tasks/PatRotate/task.json')) as TaskJson;

  it('gives the main and the test command', () => {
    assert.match(readme, /npm ci && npm run demo/);
    assert.match(readme, /npm test/);
  });

  it('documents every input with its default, and no input that does not exist', () => {
    const rows = new Map<string, string>();
    for (const m of section(readme, 'Inputs').matchAll(/^\| `([A-Za-z]+)` \| ([^|]*) \|/gm))
      rows.set(m[1], m[2].trim());
    for (const i of task.inputs) {
      assert.ok(rows.has(i.name), `README has no row for input ${i.name}`);
      const expected = i.defaultValue ? `\`${i.defaultValue}\`` : '—';
      assert.equal(rows.get(i.name), expected, `README default of ${i.name}`);
    }
    const inputs = new Set(task.inputs.map((i) => i.name));
    assert.deepEqual(
      [...rows.keys()].filter((n) => !inputs.has(n)),
      [],
      'README rows for inputs task.json does not declare',
    );
  });

  it('documents every output variable', () => {
    const outputs = section(readme, 'Output variables');
    for (const o of task.outputVariables)
      assert.match(outputs, new RegExp(`^\\| \`${o.name}\` \\|`, 'm'), `output ${o.name}`);
  });

  it('ships an MIT licence, a changelog for the current version and a Marketplace overview', () => {
    assert.match(read('LICENSE'), /MIT License[\s\S]*Copyright \(c\) 2026 PatRotate contributors/);
    const version = (JSON.parse(read('package.json')) as { version: string }).version;
    assert.match(
      read('CHANGELOG.md'),
      new RegExp(`^## ${version.replace(/\./g, '\\.')}\\b`, 'm'),
      `CHANGELOG.md has no '## ${version}' entry: add one for the version in package.json (README, Release)`,
    );
    assert.ok(read('overview.md').length > 500);
  });
});
