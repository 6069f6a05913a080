// Packaging for a real publisher: `npm run package -- --publisher <id> --repository <url>` (or the environment) stamps
// the publisher and every link into the vsix, leaves no placeholder, ships the third-party notices of every bundled
// package, and keeps one vsix in dist/. Bad flags fail before anything is built.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../helpers/runTask';
import { readZip, type ZipEntry } from './zip';

const SCRIPT = path.join(REPO_ROOT, 'scripts', 'package.js');
const DIST = path.join(REPO_ROOT, 'dist');
const REPO = 'https://github.com/acme/pat-rotate';
const version = (JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

// eslint-disable-next-line @typescript-eslint/no-require-imports
const notices = require(path.join(REPO_ROOT, 'scripts', 'notices.js')) as {
  readMetafile(): unknown;
  bundledPackages(metafile: unknown): { name: string; version: string; license: string }[];
};

function pack(args: string[], env: Record<string, string> = {}): { status: number | null; output: string } {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !/^(PATROTATE_|npm_config_(publisher|repository)$)/i.test(k)) base[k] = v;
  const r = spawnSync(process.execPath, [SCRIPT, ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    env: { ...base, ...env },
    timeout: 120_000,
  });
  return { status: r.status, output: `${r.stdout}${r.stderr}` };
}

function vsixFiles(): string[] {
  return readdirSync(DIST).filter((f) => f.endsWith('.vsix'));
}

function text(entries: ZipEntry[], name: string): string {
  const e = entries.find((x) => x.name === name);
  assert.ok(e, `the vsix has no ${name}`);
  return e.data.toString('utf8');
}

describe('package: publisher, links and notices', function () {
  this.timeout(180_000);

  describe('npm run package -- --publisher acme --repository ' + REPO, () => {
    let entries: ZipEntry[];
    before(() => {
      const r = pack(['--publisher', 'acme', '--repository', `${REPO}.git`]);
      assert.equal(r.status, 0, r.output);
      assert.ok(!r.output.includes('\x1b['), 'ANSI colour codes in the packaging output (not a terminal)');
      assert.deepEqual(vsixFiles(), [`acme.pat-rotate-${version}.vsix`], 'dist/ keeps exactly the new vsix');
      entries = readZip(readFileSync(path.join(DIST, `acme.pat-rotate-${version}.vsix`)));
    });

    it('leaves no placeholder in any file of the vsix', () => {
      for (const e of entries) assert.ok(!e.data.includes('your-publisher'), `${e.name} still holds your-publisher`);
    });

    it('stamps the publisher, every manifest link, the repository and the Q&A link', () => {
      const xml = text(entries, 'extension.vsixmanifest');
      assert.match(xml, /<Identity [^>]*Publisher="acme"/);
      const props = new Map([...xml.matchAll(/<Property Id="([^"]+)" Value="([^"]*)"/g)].map((m) => [m[1], m[2]]));
      for (const k of ['Home', 'Getstarted', 'Learn', 'Support', 'Repository', 'Issues', 'License']) {
        assert.ok(
          props.get(`Microsoft.VisualStudio.Services.Links.${k}`)?.startsWith(REPO),
          `link ${k}: ${props.get(`Microsoft.VisualStudio.Services.Links.${k}`)}`,
        );
      }
      assert.equal(props.get('Microsoft.VisualStudio.Services.Links.Support'), `${REPO}/issues`);
      assert.equal(props.get('Microsoft.VisualStudio.Services.Links.License'), `${REPO}/blob/main/LICENSE`);
      assert.equal(props.get('Microsoft.VisualStudio.Services.CustomerQnALink'), `${REPO}/issues`);
      assert.equal(props.get('Microsoft.VisualStudio.Services.EnableMarketplaceQnA'), 'true');
    });

    it('points the task help and the overview at the repository', () => {
      const task = JSON.parse(text(entries, 'tasks/PatRotate/task.json'));
      assert.equal(task.helpUrl, `${REPO}#readme`);
      assert.match(task.helpMarkDown, new RegExp(`\\(${REPO.replace(/[./]/g, '\\$&')}#readme\\)`));
      const res = JSON.parse(text(entries, 'tasks/PatRotate/Strings/resources.resjson/en-US/resources.resjson'));
      assert.equal(res['loc.helpMarkDown'], task.helpMarkDown);
      assert.match(text(entries, 'overview.md'), new RegExp(`\\]\\(${REPO.replace(/[./]/g, '\\$&')}/issues\\)`));
    });

    it('ships THIRD-PARTY-NOTICES.txt naming every bundled package with its version, licence and licence text', () => {
      const txt = text(entries, 'THIRD-PARTY-NOTICES.txt');
      const pkgs = notices.bundledPackages(notices.readMetafile());
      assert.ok(pkgs.length >= 10, `only ${pkgs.length} bundled packages found in the metafile`);
      for (const p of ['@azure/msal-node', 'azure-pipelines-task-lib', 'typed-rest-client'])
        assert.ok(
          pkgs.some((x) => x.name === p),
          `${p} is not in the metafile`,
        );
      for (const p of pkgs) {
        assert.ok(txt.includes(`\n  ${p.name} ${p.version} (${p.license})\n`), `${p.name} ${p.version} is not listed`);
        const at = txt.indexOf(`\n${p.name} ${p.version}\nLicense: ${p.license}\n`);
        assert.ok(at >= 0, `${p.name} ${p.version} has no licence section`);
        assert.match(
          txt.slice(at, at + 4000),
          /--- (licen[cs]e|copying)[^\n]*---\n\n\S/i,
          `${p.name}: no licence text`,
        );
      }
    });
  });

  it('takes the publisher and repository from PATROTATE_PUBLISHER / PATROTATE_REPOSITORY, and removes the older vsix', () => {
    const r = pack(['--skip-bundle'], {
      PATROTATE_PUBLISHER: 'acme-two',
      PATROTATE_REPOSITORY: 'https://github.com/acme-two/pat-rotate/',
    });
    assert.equal(r.status, 0, r.output);
    assert.deepEqual(vsixFiles(), [`acme-two.pat-rotate-${version}.vsix`]);
    const entries = readZip(readFileSync(path.join(DIST, vsixFiles()[0])));
    assert.equal(
      JSON.parse(text(entries, 'tasks/PatRotate/task.json')).helpUrl,
      'https://github.com/acme-two/pat-rotate#readme',
    );
  });

  it('without flags builds a local vsix (publisher local) with no repository links and no placeholder', () => {
    const r = pack(['--skip-bundle']);
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /no repository links/);
    assert.deepEqual(vsixFiles(), [`local.pat-rotate-${version}.vsix`]);
    const entries = readZip(readFileSync(path.join(DIST, vsixFiles()[0])));
    for (const e of entries) assert.ok(!e.data.includes('your-publisher'), `${e.name} still holds your-publisher`);
    assert.doesNotMatch(text(entries, 'extension.vsixmanifest'), /Links\.|github\.com/);
    const task = JSON.parse(text(entries, 'tasks/PatRotate/task.json'));
    assert.equal(task.helpUrl, undefined);
    assert.doesNotMatch(task.helpMarkDown, /\]\(/);
    assert.ok(entries.some((e) => e.name === 'THIRD-PARTY-NOTICES.txt'));
  });

  for (const [args, env, message] of [
    [['--publisher'], {}, /--publisher needs a value/],
    [['--publisher', '--repository', REPO], {}, /--publisher needs a value/],
    [['--publisher', 'acme', '--repository'], {}, /--repository needs a value/],
    [['--publisher='], {}, /--publisher needs a value/],
    [['--publisher', 'acme', '--repository', 'http://github.com/acme/pat-rotate'], {}, /not an https URL/],
    [['--publisher', 'your-publisher'], {}, /placeholder/],
    [['--publisher', 'acme corp'], {}, /not a Marketplace publisher id/],
    [['--publisher', 'acme', '--bogus'], {}, /unknown argument '--bogus'/],
    [[], { PATROTATE_PUBLISHER: '' }, /PATROTATE_PUBLISHER is set but empty/],
    [[], { PATROTATE_REPOSITORY: ' ' }, /PATROTATE_REPOSITORY is set but empty/],
  ] as [string[], Record<string, string>, RegExp][]) {
    it(`fails on ${args.length ? args.join(' ') : Object.keys(env).join(' ') + ' empty'}`, () => {
      const r = pack(args, env);
      assert.equal(r.status, 1, r.output);
      assert.match(r.output, message);
    });
  }
});
