// Builds the Marketplace package: bundle → stage → tfx extension create → dist/<publisher>.pat-rotate-<version>.vsix.
//
// The vsix carries no node_modules and no TypeScript: only what dist/stage/ holds:
//   vss-extension.json, overview.md, LICENSE, THIRD-PARTY-NOTICES.txt, images/icon.png,
//   tasks/PatRotate/{task.json, task.loc.json, icon.png, index.js, Strings/resources.resjson/en-US/resources.resjson}
//
// Versions: package.json "version" is the one place of truth. It is stamped into the staged vss-extension.json
// ("version") and the staged task.json ("version": {Major, Minor, Patch}), so the extension and the task always ship
// the same number and `npm version patch` is the whole release bump (agents only pick up a task whose version rose).
// task.loc.json and resources.resjson are generated from the staged task.json (scripts/loc.js), so they match too.
//
// Publisher and repository: the source files are templates. vss-extension.json's "publisher" is `your-publisher` and
// every link in vss-extension.json, overview.md and task.json (helpUrl, helpMarkDown) starts with
// https://github.com/your-publisher/pat-rotate. Packaging stamps them:
//   --publisher <id>    (or PATROTATE_PUBLISHER)  the Marketplace publisher id. Default: `local` (a local build).
//   --repository <url>  (or PATROTATE_REPOSITORY) the https URL of the public repository; home, get-started, learn,
//                       support, issues, licence and Q&A links, the manifest's repository, overview.md's links and the
//                       task's helpUrl/helpMarkDown all point into it (GitHub-style paths: /issues, /blob/main/LICENSE).
//                       Without it, the vsix carries no repository links at all (links removed, not guessed).
// A flag without a value, an empty environment variable, or a value still holding `your-publisher` is an error. Any
// staged file still holding `your-publisher` fails the build.
//
// dist/ keeps one vsix: older *.vsix files there are removed first.
// THIRD-PARTY-NOTICES.txt is generated from the bundle's esbuild metafile (scripts/notices.js).
//
// Fails on a non-zero tfx exit and on any tfx line containing "warning:" (tfx reports task.json problems as warnings).
//
// Usage: node scripts/package.js [--publisher <id>] [--repository <url>] [--skip-bundle]
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');
const { localize } = require('./loc');
const { readMetafile, thirdPartyNotices } = require('./notices');

const ROOT = path.join(__dirname, '..');
const DIST = path.join(ROOT, 'dist');
const STAGE = path.join(DIST, 'stage');
const TASK_REL = path.join('tasks', 'PatRotate');
const MAX_BYTES = 2 * 1024 * 1024;
const PLACEHOLDER = 'your-publisher';
const TEMPLATE_REPO = `https://github.com/${PLACEHOLDER}/pat-rotate`;
const LOCAL_PUBLISHER = 'local';
const USAGE = 'usage: npm run package [-- --publisher <id>] [--repository <https-url>] [--skip-bundle]';

function fail(message) {
  console.error(`npm run package: ${message}`);
  process.exit(1);
}

/** Parses argv: --publisher/--repository take a value (`--x v` or `--x=v`); a missing or empty value is an error. */
function parseArgs(argv) {
  const out = { skipBundle: false, publisher: undefined, repository: undefined };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--skip-bundle') {
      out.skipBundle = true;
      continue;
    }
    const m = /^--(publisher|repository)(?:=(.*))?$/s.exec(a);
    if (!m) {
      const hint = a.startsWith('-')
        ? ''
        : ' (with npm, flags go after a lone `--`: npm run package -- --publisher <id>)';
      fail(`unknown argument '${a}'${hint}.\n${USAGE}`);
    }
    let value = m[2];
    if (value === undefined) {
      value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) fail(`--${m[1]} needs a value.\n${USAGE}`);
      i++;
    }
    if (value.trim() === '') fail(`--${m[1]} needs a value.\n${USAGE}`);
    out[m[1]] = value.trim();
  }
  return out;
}

/** A flag wins over its environment variable; a set-but-empty variable is an error, not a silent fallback. */
function fromEnv(flagValue, envName) {
  if (flagValue !== undefined) return flagValue;
  const v = process.env[envName];
  if (v === undefined) return undefined;
  if (v.trim() === '') fail(`${envName} is set but empty: give it a value or unset it.`);
  return v.trim();
}

function resolveIdentity(args, sourcePublisher) {
  // `npm run package --publisher x` (no `--`) hands the flag to npm, which sets npm_config_publisher: say so.
  for (const name of ['publisher', 'repository']) {
    if (args[name] === undefined && process.env[`npm_config_${name}`] !== undefined) {
      fail(`npm took --${name} as its own option: write \`npm run package -- --${name} <value>\` (note the \`--\`).`);
    }
  }
  let publisher = fromEnv(args.publisher, 'PATROTATE_PUBLISHER');
  if (publisher === undefined)
    publisher = sourcePublisher && sourcePublisher !== PLACEHOLDER ? sourcePublisher : LOCAL_PUBLISHER;
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(publisher))
    fail(`publisher '${publisher}' is not a Marketplace publisher id (letters, digits, '-' and '_').`);
  if (publisher === PLACEHOLDER)
    fail(`'${PLACEHOLDER}' is the placeholder: pass your Marketplace publisher id with --publisher <id>.`);

  let repository = fromEnv(args.repository, 'PATROTATE_REPOSITORY');
  if (repository !== undefined) {
    repository = repository.replace(/\/+$/, '').replace(/\.git$/, '');
    let url;
    try {
      url = new URL(repository);
    } catch {
      url = undefined;
    }
    if (!url || url.protocol !== 'https:' || !url.hostname || url.search || url.hash || /\s/.test(repository)) {
      fail(`repository '${repository}' is not an https URL of a repository (e.g. https://github.com/acme/pat-rotate).`);
    }
    if (repository.includes(PLACEHOLDER))
      fail(`repository '${repository}' still holds the placeholder '${PLACEHOLDER}'.`);
  }
  return { publisher, repository };
}

/** Replaces the template repository URL in a text: with the real one, or (none given) drops the links to it. */
function stampText(text, repository) {
  if (repository) return text.split(TEMPLATE_REPO).join(repository);
  const esc = TEMPLATE_REPO.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return text
    .replace(new RegExp(`\\s*\\[Learn more\\]\\(${esc}[^)]*\\)`, 'g'), '')
    .replace(new RegExp(`\\[([^\\]]*)\\]\\(${esc}[^)]*\\)`, 'g'), '$1')
    .replace(new RegExp(`<?${esc}[^\\s)>"']*>?`, 'g'), 'the project repository');
}

/** stampText applied to every string in a parsed JSON value. */
function stampJson(value, repository) {
  if (typeof value === 'string') return stampText(value, repository);
  if (Array.isArray(value)) return value.map((v) => stampJson(v, repository));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, stampJson(v, repository)]));
  return value;
}

/** The manifest with publisher and repository stamped into every field that names them. */
function stampManifest(manifest, { publisher, repository }) {
  const m = JSON.parse(JSON.stringify(manifest));
  m.publisher = publisher;
  m.CustomerQnASupport = { enablemarketplaceqna: true, ...(repository ? { url: `${repository}/issues` } : {}) };
  if (repository) {
    m.links = {
      home: { uri: repository },
      getstarted: { uri: `${repository}#quick-start` },
      learn: { uri: `${repository}#readme` },
      support: { uri: `${repository}/issues` },
      repository: { uri: repository },
      issues: { uri: `${repository}/issues` },
      license: { uri: `${repository}/blob/main/LICENSE` },
    };
    m.repository = { type: 'git', uri: repository };
  } else {
    delete m.links;
    delete m.repository;
  }
  return stampJson(m, repository);
}

/** Staged files (relative paths) whose text still holds the placeholder. */
function placeholderHits(dir, rel = '') {
  return fs.readdirSync(path.join(dir, rel)).flatMap((n) => {
    const r = path.join(rel, n);
    if (fs.statSync(path.join(dir, r)).isDirectory()) return placeholderHits(dir, r);
    return fs.readFileSync(path.join(dir, r)).includes(PLACEHOLDER) ? [r] : [];
  });
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
  const args = parseArgs(process.argv.slice(2));
  const identity = resolveIdentity(args, readJson(path.join(ROOT, 'vss-extension.json')).publisher);
  const pkg = readJson(path.join(ROOT, 'package.json'));
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(pkg.version ?? '');
  if (!m) fail(`package.json version '${pkg.version}' is not major.minor.patch.`);
  const version = pkg.version;

  // 1. The bundle: one CommonJS file, no node_modules (self-contained: works right after `npm ci`).
  if (!args.skipBundle) {
    const b = spawnSync(process.execPath, [path.join(__dirname, 'bundle.js')], { cwd: ROOT, stdio: 'inherit' });
    if (b.status !== 0) fail('bundling tasks/PatRotate/src/main.ts failed.');
  }

  // 2. Stage exactly what ships.
  fs.rmSync(STAGE, { recursive: true, force: true });
  fs.mkdirSync(STAGE, { recursive: true });
  const overview = path.join(ROOT, 'overview.md');
  if (!fs.existsSync(overview)) fail('overview.md is missing.');
  fs.writeFileSync(path.join(STAGE, 'overview.md'), stampText(fs.readFileSync(overview, 'utf8'), identity.repository));
  copy('LICENSE');
  let notices;
  try {
    notices = thirdPartyNotices(readMetafile());
  } catch (e) {
    fail(`THIRD-PARTY-NOTICES.txt: ${e.message}`);
  }
  fs.writeFileSync(path.join(STAGE, 'THIRD-PARTY-NOTICES.txt'), notices);
  copy(path.join('images', 'icon.png'));
  copy(path.join(TASK_REL, 'icon.png'));
  copy(path.join(TASK_REL, 'index.js'));

  const sourceTask = readJson(path.join(ROOT, TASK_REL, 'task.json'));
  if (!identity.repository) delete sourceTask.helpUrl;
  const task = stampJson(sourceTask, identity.repository);
  task.version = { Major: Number(m[1]), Minor: Number(m[2]), Patch: Number(m[3]) };
  writeJson(path.join(STAGE, TASK_REL, 'task.json'), task);
  const { taskLoc, resources } = localize(task);
  writeJson(path.join(STAGE, TASK_REL, 'task.loc.json'), taskLoc);
  writeJson(path.join(STAGE, TASK_REL, 'Strings', 'resources.resjson', 'en-US', 'resources.resjson'), resources);

  const manifest = stampManifest(readJson(path.join(ROOT, 'vss-extension.json')), identity);
  manifest.version = version;
  writeJson(path.join(STAGE, 'vss-extension.json'), manifest);
  const hits = placeholderHits(STAGE);
  if (hits.length) fail(`the placeholder '${PLACEHOLDER}' survived stamping in: ${hits.join(', ')}`);

  // 3. tfx, offline. Any warning fails the build.
  // dist/ keeps only the vsix being built: an older version or publisher left there would be uploaded by mistake.
  for (const old of fs.readdirSync(DIST).filter((f) => f.endsWith('.vsix')))
    fs.rmSync(path.join(DIST, old), { force: true });
  const vsix = path.join(DIST, `${manifest.publisher}.${manifest.id}-${version}.vsix`);
  const tfx = path.join(ROOT, 'node_modules', '.bin', process.platform === 'win32' ? 'tfx.cmd' : 'tfx');
  if (!fs.existsSync(tfx)) fail('tfx-cli is not installed: run npm ci.');
  const r = spawnSync(
    tfx,
    [
      'extension',
      'create',
      '--root',
      STAGE,
      '--manifest-globs',
      'vss-extension.json',
      '--output-path',
      vsix,
      '--no-prompt',
    ],
    {
      cwd: ROOT,
      encoding: 'utf8',
      shell: process.platform === 'win32',
      env: { ...process.env, TFX_TRACE: '' },
    },
  );
  const output = `${r.stdout ?? ''}${r.stderr ?? ''}`;
  // tfx colours its output even into a pipe or a log file: pass the colours on only to a terminal, and never with NO_COLOR.
  // eslint-disable-next-line no-control-regex
  process.stdout.write(process.stdout.isTTY && !process.env.NO_COLOR ? output : output.replace(/\x1b\[[0-9;]*m/g, ''));
  const warnings = output.split(/\r?\n/).filter((l) => /warning:/i.test(l));
  if (r.error) fail(`could not run tfx: ${r.error.message}`);
  if (r.status !== 0) fail(`tfx extension create exited with ${r.status}.`);
  if (warnings.length) fail(`tfx reported ${warnings.length} warning(s):\n  ${warnings.join('\n  ')}`);
  if (!fs.existsSync(vsix)) fail(`tfx did not write ${vsix}.`);

  const buf = fs.readFileSync(vsix);
  if (buf.length > MAX_BYTES) fail(`${path.relative(ROOT, vsix)} is ${buf.length} bytes, over the 2 MB budget.`);
  console.log(
    `\nVSIX: ${path.relative(ROOT, vsix)}  (${(buf.length / 1024).toFixed(1)} KiB, ${zipNames(buf).filter((n) => !n.endsWith('/')).length} files, version ${version}, publisher ${manifest.publisher})`,
  );
  if (!identity.repository)
    console.log(
      'No --repository (or PATROTATE_REPOSITORY): the vsix carries no repository links. Give one to publish.',
    );
  else console.log(`Links: ${identity.repository}`);
}

main();
