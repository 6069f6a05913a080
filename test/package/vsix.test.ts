// The shipped artifact, black-box: `npm run package`, unpack the vsix with a pure-Node zip reader, check what it
// carries, then run the task from the unpacked copy against the emulator, as an agent would.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { start, type Emulator } from '../emulator';
import { assertNoSecretLeaks } from '../helpers/leaks';
import { REPO_ROOT, runTask } from '../helpers/runTask';
import { extractZip, type ZipEntry } from './zip';

const DAY = 24 * 3600 * 1000;
/** The Key Vault client is in the bundle: the vsix stays within 512 KB and 25 files (issue 12). */
const MAX_BYTES = 512 * 1024;
const MAX_FILES = 25;

describe('package: the vsix', function () {
  this.timeout(120_000);
  let vsix: string;
  let entries: ZipEntry[];
  let unpacked: string;
  let packageOutput: string;

  before(function () {
    this.timeout(120_000);
    const r = spawnSync('npm', ['run', 'package', '--silent'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      shell: process.platform === 'win32',
    });
    packageOutput = `${r.stdout}${r.stderr}`;
    assert.equal(r.status, 0, `npm run package failed:\n${packageOutput}`);
    const version = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).version as string;
    const found = readdirSync(path.join(REPO_ROOT, 'dist')).filter((f) => f.endsWith(`-${version}.vsix`));
    assert.equal(found.length, 1, `expected one vsix for ${version} in dist/: ${found.join(', ')}`);
    vsix = path.join(REPO_ROOT, 'dist', found[0]);
    unpacked = mkdtempSync(path.join(tmpdir(), 'patrotate-vsix-'));
    entries = extractZip(readFileSync(vsix), unpacked);
  });

  after(() => {
    if (unpacked) rmSync(unpacked, { recursive: true, force: true });
  });

  it('printed the vsix path, size and file count, with no tfx warning', () => {
    assert.match(packageOutput, /VSIX: dist\/\S+\.vsix\s+\([\d.]+ KiB, \d+ files/);
    assert.doesNotMatch(packageOutput, /warning:/i);
  });

  it('carries the manifest, the bundled task and its metadata, and nothing else', () => {
    const files = entries.map((e) => e.name).filter((n) => !n.endsWith('/'));
    for (const f of [
      'extension.vsixmanifest',
      'extension.vsomanifest',
      'images/icon.png',
      'overview.md',
      'LICENSE',
      'tasks/PatRotate/index.js',
      'tasks/PatRotate/task.json',
      'tasks/PatRotate/task.loc.json',
      'tasks/PatRotate/icon.png',
      'tasks/PatRotate/Strings/resources.resjson/en-US/resources.resjson',
    ]) {
      assert.ok(files.includes(f), `missing ${f}`);
    }
    assert.deepEqual(
      files.filter((f) => /(^|\/)node_modules\//.test(f)),
      [],
      'node_modules in the vsix',
    );
    assert.deepEqual(
      files.filter((f) => /\.(ts|map)$/.test(f)),
      [],
      'TypeScript or source maps in the vsix',
    );
    assert.deepEqual(
      files.filter((f) => f.startsWith('tasks/PatRotate/src/')),
      [],
    );
    assert.ok(files.length <= 15, `unexpected extra files: ${files.join(', ')}`);
  });

  it('is at most 512 KB and 25 files', () => {
    assert.ok(statSync(vsix).size <= MAX_BYTES, `${statSync(vsix).size} bytes`);
    assert.ok(entries.filter((e) => !e.name.endsWith('/')).length <= MAX_FILES, `${entries.length} entries`);
  });

  it('ships the extension and the task with the version of package.json', () => {
    const version = JSON.parse(readFileSync(path.join(REPO_ROOT, 'package.json'), 'utf8')).version as string;
    const [Major, Minor, Patch] = version.split('.').map(Number);
    const task = JSON.parse(readFileSync(path.join(unpacked, 'tasks', 'PatRotate', 'task.json'), 'utf8'));
    assert.deepEqual(task.version, { Major, Minor, Patch });
    const loc = JSON.parse(readFileSync(path.join(unpacked, 'tasks', 'PatRotate', 'task.loc.json'), 'utf8'));
    assert.deepEqual(loc.version, { Major, Minor, Patch });
    const xml = readFileSync(path.join(unpacked, 'extension.vsixmanifest'), 'utf8');
    assert.match(xml, new RegExp(`<Identity [^>]*Id="pat-rotate"[^>]*Version="${version.replace(/\./g, '\\.')}"`));
    assert.match(xml, /<InstallationTarget Id="Microsoft\.VisualStudio\.Services\.Cloud"\s*\/>/);
  });

  describe('the unpacked task against the emulator', () => {
    let emu: Emulator;
    before(async () => {
      emu = await start();
    });
    after(async () => {
      await emu?.close();
    });

    it('rotates a PAT that expires in 2 days into a secret pipeline variable', async () => {
      const st = emu.state;
      const user = st.addUser({ upn: 'rotator@contoso.example' });
      st.addOrg('contoso');
      st.addProject('contoso', 'Platform');
      const old = st.addPat(user.oid, 'contoso', {
        displayName: 'ci-feed',
        scope: 'vso.packaging',
        validFrom: new Date(Date.now() - 28 * DAY),
        validTo: new Date(Date.now() + 2 * DAY),
      }).pat;
      const accessToken = st.issueAccessToken(user.oid);

      const run = await runTask({
        entry: path.join(unpacked, 'tasks', 'PatRotate', 'index.js'),
        caFile: emu.caFile,
        inputs: {
          organization: `${emu.url}/contoso`,
          authMethod: 'accessToken',
          accessToken,
          operation: 'rotate',
          displayName: 'ci-feed',
        },
        env: { SYSTEM_TEAMPROJECT: 'Platform' },
      });

      assert.equal(run.result, 'Succeeded', `${run.message}\n${run.stdout}\n${run.stderr}`);
      const token = run.variables.get('token (output)');
      assert.ok(token?.secret, 'the token output is not secret');
      assert.ok(run.secrets.includes(token.value), 'the new PAT was not registered with setsecret');
      const fresh = st.pats(user.oid).find((p) => p.token === token.value);
      assert.ok(
        fresh && !fresh.revoked && fresh.displayName === 'ci-feed' && fresh.scope === old.scope,
        'the output is not a live PAT with the old name and scopes',
      );
      assert.ok(
        st.pats(user.oid).find((p) => p.authorizationId === old.authorizationId)?.revoked,
        'the old PAT was not revoked',
      );
      assertNoSecretLeaks(run, [...emu.issuedSecrets(), accessToken]);
    });
  });
});
