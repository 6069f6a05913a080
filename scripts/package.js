// Builds the Marketplace package: bundle → stage → tfx extension create → dist/<publisher>.pat-rotate-<version>.vsix.
//
// The vsix carries no node_modules and no TypeScript: only what dist/stage/ holds:
//   vss-extension.json, overview.md, LICENSE, images/icon.png,
//   tasks/PatRotate/{task.json, task.loc.json, icon.png, index.js, Strings/resources.resjson/en-US/resources.resjson}
//
// Versions: package.json "version" is the one place of truth. It is stamped into the staged vss-extension.json
// ("version") and the staged task.json ("version": {Major, Minor, Patch}), so the extension and the task always ship
// the same number and `npm version patch` is the whole release bump (agents only pick up a task whose version rose).
// task.loc.json and resources.resjson are generated from the staged task.json (scripts/loc.js), so they match too.
//
// Fails on a non-zero tfx exit and on any tfx line containing "warning:" (tfx reports task.json problems as warnings).
//
// Usage: node scripts/package.js [--publisher <id>] [--skip-bundle]
//        (or PATROTATE_PUBLISHER=<id>); the publisher defaults to vss-extension.json's "publisher".
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { localize } = require('./loc');

const ROOT = path.join(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const STAGE = path.join(DIST, 'stage');
const TASK_REL = path.join('tasks', 'PatRotate');
const MAX_BYTES = 2 * 1024 * 1024;

function fail(message) {
  console.error(`npm run package: ${message}`);
  process.exit(1);
}

function arg(name) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

function readJson(file) {
  return JSON.parse(fs.readFileSync(file, 'utf8'));
}

function writeJson(file, value) {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

function copy(rel, destRel = rel) {
  const from = path.join(ROOT, rel);
  if (!fs.existsSync(from)) fail(`${rel} is missing.`);
  const to = path.join(STAGE, destRel);
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(from, to);
}

/** Names in a zip's central directory (directories end in '/'). */
function zipNames(buf) {
  let eocd = -1;
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 22 - 0xffff); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip file (no end of central directory)');
  const names = [];
  let p = buf.readUInt32LE(eocd + 16);
  for (let n = buf.readUInt16LE(eocd + 10); n > 0; n--) {
    const nameLen = buf.readUInt16LE(p + 28);
    names.push(buf.toString('utf8', p + 46, p + 46 + nameLen));
    p += 46 + nameLen + buf.readUInt16LE(p + 30) + buf.readUInt16LE(p + 32);
  }
  return names;
}

function main() {
  const pkg = readJson(path.join(ROOT, 'package.json'));
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(pkg.version ?? '');
  if (!m) fail(`package.json version '${pkg.version}' is not major.minor.patch.`);
  const version = pkg.version;

  // 1. The bundle: one CommonJS file, no node_modules (self-contained: works right after `npm ci`).
  if (!process.argv.includes('--skip-bundle')) {
    const b = spawnSync(process.execPath, [path.join(__dirname, 'bundle.js')], { cwd: ROOT, stdio: 'inherit' });
    if (b.status !== 0) fail('bundling tasks/PatRotate/src/main.ts failed.');
  }

  // 2. Stage exactly what ships.
  fs.rmSync(STAGE, { recursive: true, force: true });
  fs.mkdirSync(STAGE, { recursive: true });
  copy('overview.md');
  copy('LICENSE');
  copy(path.join('images', 'icon.png'));
  copy(path.join(TASK_REL, 'icon.png'));
  copy(path.join(TASK_REL, 'index.js'));

  const task = readJson(path.join(ROOT, TASK_REL, 'task.json'));
  task.version = { Major: Number(m[1]), Minor: Number(m[2]), Patch: Number(m[3]) };
  writeJson(path.join(STAGE, TASK_REL, 'task.json'), task);
  const { taskLoc, resources } = localize(task);
  writeJson(path.join(STAGE, TASK_REL, 'task.loc.json'), taskLoc);
  writeJson(path.join(STAGE, TASK_REL, 'Strings', 'resources.resjson', 'en-US', 'resources.resjson'), resources);

  const manifest = readJson(path.join(ROOT, 'vss-extension.json'));
  manifest.version = version;
  const publisher = arg('publisher') || process.env.PATROTATE_PUBLISHER;
  if (publisher) manifest.publisher = publisher;
  writeJson(path.join(STAGE, 'vss-extension.json'), manifest);

  // 3. tfx, offline. Any warning fails the build.
  const vsix = path.join(DIST, `${manifest.publisher}.${manifest.id}-${version}.vsix`);
  fs.rmSync(vsix, { force: true });
  const tfx = path.join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? 'tfx.cmd' : 'tfx');
  if (!fs.existsSync(tfx)) fail('tfx-cli is not installed: run npm ci.');
  const r = spawnSync(tfx, ['extension', 'create', '--root', STAGE, '--manifest-globs', 'vss-extension.json', '--output-path', vsix, '--no-prompt'], {
    cwd: ROOT,
    encoding: 'utf8',
    shell: process.platform === 'win32',
    env: { ...process.env, TFX_TRACE: '' },
  });
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  process.stdout.write(output);
  const warnings = output.split(/\r?\n/).filter((l) => /warning:/i.test(l));
  if (r.error) fail(`could not run tfx: ${r.error.message}`);
  if (r.status !== 0) fail(`tfx extension create exited with ${r.status}.`);
  if (warnings.length) fail(`tfx reported ${warnings.length} warning(s):\n  ${warnings.join('\n  ')}`);
  if (!fs.existsSync(vsix)) fail(`tfx did not write ${vsix}.`);

  const buf = fs.readFileSync(vsix);
  if (buf.length > MAX_BYTES) fail(`${path.relative(ROOT, vsix)} is ${buf.length} bytes, over the 2 MB budget.`);
  console.log(`\nVSIX: ${path.relative(ROOT, vsix)}  (${(buf.length / 1024).toFixed(1)} KiB, ${zipNames(buf).filter((n) => !n.endsWith('/')).length} files, version ${version}, publisher ${manifest.publisher})`);
}

main();
