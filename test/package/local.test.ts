// `npm run local`: the built task on this machine, against the emulator here (a real organization needs a person at
// the device-code prompt). Runs it as a user would, through scripts/built.js, and reads only what it prints.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { REPO_ROOT } from '../helpers/runTask';
import { inputsFromYaml } from '../../scripts/local';
import { palette } from '../../scripts/log-render';

/** Secrets the emulator issues: refresh tokens, device codes, JWTs, PAT values (52 base32 characters). */
const SECRET_SHAPES = /1\.AQ[A-Za-z0-9_-]{8}|DAQABAAEAAA|eyJ[A-Za-z0-9_-]{10}|\b[a-z2-7]{52}\b|[A-Za-z0-9_-]{64,}/;

/** The runs' own temp folder (the local runner keeps each run's summary for the person who ran it). */
const runsTemp = mkdtempSync(path.join(tmpdir(), 'patrotate-local-runs-'));

function local(
  args: string[],
  env: Record<string, string> = {},
): { status: number | null; stdout: string; stderr: string } {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env))
    if (v !== undefined && !/^(INPUT_|NO_COLOR$|FORCE_COLOR$)/.test(k)) base[k] = v;
  const r = spawnSync(
    process.execPath,
    [path.join(REPO_ROOT, 'scripts', 'built.js'), 'local', 'scripts/local.js', ...args],
    {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      env: { ...base, TMPDIR: runsTemp, ...env },
      timeout: 60_000,
    },
  );
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('package: npm run local', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'patrotate-local-test-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
    rmSync(runsTemp, { recursive: true, force: true });
  });

  it('--emulator --operation list works twice in a row (a fresh refresh token each time), outputs masked, no colour on a pipe', () => {
    for (const run of [1, 2]) {
      const r = local(['--emulator', '--operation', 'list']);
      assert.equal(r.status, 0, `run ${run}:\n${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /Finishing: PatRotate: list {2}→ Succeeded/);
      // Each PAT on a log line with its authorization id (the emulator note above the log names them without ids).
      for (const name of ['build-feed', 'release-bot', 'old-deploy'])
        assert.match(r.stdout, new RegExp(`${name}\\b.*[0-9a-f]{8}-[0-9a-f]{4}-`), `run ${run}: ${name} not listed`);
      assert.match(r.stdout, /^ {2}refreshToken \(output\) = \*\*\*$/m);
      assert.match(r.stdout, /^ {2}count \(output\) = 3$/m);
      assert.match(r.stdout, /^ {6}refreshToken: \*\*\*$/m, 'the refresh token input is not masked');
      assert.doesNotMatch(r.stdout, /##\[debug\]|##vso\[/, 'debug lines or raw commands shown without --verbose');
      assert.ok(!r.stdout.includes('\x1b['), 'ANSI colour codes on a pipe');
      assert.doesNotMatch(`${r.stdout}${r.stderr}`, SECRET_SHAPES, 'a secret-shaped value in the output');
    }
  });

  it('--emulator with target keyVault rotates into the demo vault, the refresh token read from it', () => {
    const r = local([
      '--emulator',
      '--operation',
      'rotate',
      '--input',
      'displayName=release-bot',
      '--input',
      'rotateWithinDays=0',
      '--input',
      'target=keyVault',
      '--input',
      'refreshTokenSecret=PatRotate-RefreshToken',
      '--input',
      'refreshToken=',
    ]);
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(
      r.stdout,
      /Read the refresh token from https:\/\/127\.0\.0\.1:\d+ \(secret 'PatRotate-RefreshToken'\)/,
    );
    assert.match(r.stdout, /Stored in Key Vault https:\/\/127\.0\.0\.1:\d+ as 'release-bot' \(read back\)/);
    assert.match(r.stdout, /Finishing: PatRotate: rotate release-bot {2}→ Succeeded/);
    assert.doesNotMatch(`${r.stdout}${r.stderr}`, SECRET_SHAPES, 'a secret-shaped value in the output');
  });

  it('takes inputs from a YAML step (--inputs), lets flags override them, and shows debug lines with --verbose', () => {
    const file = path.join(dir, 'rotate.yml');
    writeFileSync(
      file,
      [
        'steps:',
        '  - task: PatRotate@1',
        '    inputs:',
        '      operation: list',
        '      displayName: build-feed',
        '      dryRun: true',
        '',
      ].join('\n'),
    );
    const r = local(['--emulator', '--inputs', file, '--operation', 'rotate', '--verbose']);
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /rotate.*'build-feed'|build-feed.*rotat/i);
    assert.match(r.stdout, /^ {2}count \(output\) = 1$/m);
    assert.match(r.stdout, /^##\[debug\]/m);
    assert.ok(!r.stdout.includes('\x1b['));
  });

  it('--emulator --auth-method deviceCode signs in through the device-code flow and saves the refresh token in the group', () => {
    const r = local(['--emulator', '--auth-method', 'deviceCode', '--operation', 'list']);
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /##\[warning\]To sign in, use a web browser/);
    assert.match(r.stdout, /Signed in as alice@contoso\.example/);
    assert.match(r.stdout, /saved .*refresh token.*'pat-store'/i);
  });

  for (const [args, message] of [
    [['--emulator', '--operation'], /--operation needs a value/],
    [['--emulator', '--operation', 'list', '--input', 'bogus=1'], /'bogus' is not an input of PatRotate@1/],
    [['--emulator', '--operation', 'list', '--input', 'novalue'], /--input needs name=value/],
    [['--operation', 'list'], /--organization is required outside a pipeline/],
    [
      ['--organization', 'contoso', '--operation', 'list', '--save-to-group', 'pat-store'],
      /--save-to-group needs --project/,
    ],
    [['--emulator'], /--operation is required/],
    [['--emulator', '--operation', 'list', '--colour'], /unknown option '--colour'/],
  ] as [string[], RegExp][]) {
    it(`refuses ${args.join(' ')} with a usage message`, () => {
      const r = local(args);
      assert.equal(r.status, 2, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, message);
      assert.match(r.stderr, /usage: npm run local/);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'a stack trace');
    });
  }

  it('reads an inputs: block bare, from one step, from a list of steps or from a pipeline', () => {
    const want = new Map([
      ['operation', 'list'],
      ['dryRun', 'true'],
    ]);
    assert.deepEqual(inputsFromYaml('inputs:\n  operation: list\n  dryRun: true\n'), want);
    assert.deepEqual(inputsFromYaml('task: PatRotate@1\ninputs:\n  operation: list\n  dryRun: true\n'), want);
    assert.deepEqual(
      inputsFromYaml('- script: echo\n- task: PatRotate@1\n  inputs:\n    operation: list\n    dryRun: true\n'),
      want,
    );
    assert.deepEqual(
      inputsFromYaml('steps:\n  - task: PatRotate@1\n    inputs: { operation: list, dryRun: true }\n'),
      want,
    );
    assert.throws(() => inputsFromYaml('operation: list\n'), /no 'inputs:' block/);
    assert.throws(() => inputsFromYaml('inputs: [a, b]\n'), /no 'inputs:' block/);
    assert.throws(() => inputsFromYaml('inputs:\n  scopes: [a, b]\n'), /single value/);
    assert.throws(() => inputsFromYaml('inputs: {\n'), /not valid YAML/);
  });
});

describe('package: colour in demo and local output', () => {
  const saved = process.env.NO_COLOR;
  afterEach(() => {
    if (saved === undefined) delete process.env.NO_COLOR;
    else process.env.NO_COLOR = saved;
  });

  it('paints only a terminal, and never with NO_COLOR set', () => {
    delete process.env.NO_COLOR;
    assert.equal(palette({ isTTY: true }).red('x'), '\x1b[31mx\x1b[0m');
    assert.equal(palette({ isTTY: false }).red('x'), 'x');
    assert.equal(palette({}).red('x'), 'x');
    process.env.NO_COLOR = '1';
    assert.equal(palette({ isTTY: true }).red('x'), 'x');
  });

  it('npm run demo writes no ANSI codes into a pipe', function () {
    this.timeout(60_000);
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'build', 'scripts', 'demo.js')], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
    assert.ok(!r.stdout.includes('\x1b['), 'ANSI colour codes in the demo output');
    assert.match(r.stdout, /\(in 3 days\)/, 'the demo table counts days as the task log does');
  });
});

describe('package: scripts that need a build', () => {
  it('say "run npm run build first" instead of a stack trace', () => {
    const r = spawnSync(
      process.execPath,
      [path.join(REPO_ROOT, 'scripts', 'built.js'), 'emulator', 'test/emulator/not-built.js'],
      { cwd: REPO_ROOT, encoding: 'utf8' },
    );
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /^npm run emulator: build\/test\/emulator\/not-built\.js is not built yet: run npm run build first\.$/m,
    );
    assert.doesNotMatch(r.stderr, /\n\s+at /);
  });
});
