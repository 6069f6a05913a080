// The spec fixtures are copies, not edits: every file in test/fixtures/specs is listed in its PROVENANCE.md with the
// sha256 of the original, and every listed file is there. Keeps the repository self-contained and the copies honest.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../helpers/runTask';

const SPECS = path.join(REPO_ROOT, 'test', 'fixtures', 'specs');
const NOT_LISTED = new Set(['PROVENANCE.md', 'LICENSE.vsts-rest-api-specs']);

function files(dir: string, rel = ''): string[] {
  return readdirSync(path.join(dir, rel)).flatMap((n) => {
    const r = rel ? `${rel}/${n}` : n;
    return statSync(path.join(dir, r)).isDirectory() ? files(dir, r) : [r];
  });
}

describe('package: spec fixtures', () => {
  const provenance = readFileSync(path.join(SPECS, 'PROVENANCE.md'), 'utf8');
  const listed = new Map<string, string>();
  for (const m of provenance.matchAll(/^\| ([^ |]+) \|(?: [^|]+ \|)? ([0-9a-f]{64}) \|$/gm)) listed.set(m[1], m[2]);

  it('lists every fixture file in PROVENANCE.md, and holds every listed file', () => {
    const present = files(SPECS)
      .filter((f) => !NOT_LISTED.has(f))
      .sort();
    assert.ok(present.length > 5, `only ${present.length} fixture files`);
    assert.deepEqual(present, [...listed.keys()].sort());
  });

  it('keeps every fixture byte-for-byte as copied (sha256 as in PROVENANCE.md)', () => {
    for (const [rel, sha] of listed) {
      const actual = createHash('sha256')
        .update(readFileSync(path.join(SPECS, rel)))
        .digest('hex');
      assert.equal(actual, sha, `${rel} differs from the copied original`);
    }
  });

  it('carries the MIT licence of the REST specs', () => {
    assert.match(
      readFileSync(path.join(SPECS, 'LICENSE.vsts-rest-api-specs'), 'utf8'),
      /MIT License[\s\S]*Microsoft Docs/,
    );
  });
});
