// A stack trace from the shipped, minified index.js can be read: npm run stack maps it back to the TypeScript.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { BUNDLE, REPO_ROOT } from '../helpers/runTask';

describe('package: source maps', () => {
  it('maps a frame of the bundle to its source file and line', () => {
    const lines = readFileSync(BUNDLE, 'utf8').split('\n');
    const line = lines.findIndex((l) => l.includes('answered with group'));
    const column = lines[line].indexOf('answered with group');
    const trace = `Error: x\n    at read (/agent/_work/_tasks/PatRotate_1/1.1.0/index.js:${line + 1}:${column + 1})\n`;
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'stack.js')], {
      input: trace,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /at read \(src\/ado\/variableGroups\.ts:\d+:\d+\)/);
  });
});
