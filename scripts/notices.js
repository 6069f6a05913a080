// THIRD-PARTY-NOTICES.txt for the vsix, from the bundle's actual inputs: esbuild's metafile (written by bundle.js)
// lists every source file that went into tasks/PatRotate/index.js; each file under node_modules/ belongs to one
// package, whose package.json gives name, version and licence, and whose LICENSE/COPYING/NOTICE files give the text.
// Fails when a bundled package has no licence file: the notice must carry the text, not just the SPDX id.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
/** Where bundle.js writes esbuild's metafile (build/ is gitignored and rebuilt by npm run build). */
const METAFILE = path.join(ROOT, 'build', 'bundle-meta.json');

/** Package directories (relative to the root, '/'-separated) of every node_modules input of the bundle. */
function bundledPackageDirs(metafile) {
  const dirs = new Set();
  for (const input of Object.keys(metafile.inputs)) {
    const f = input.replace(/\\/g, '/');
    const i = f.lastIndexOf('node_modules/');
    if (i < 0) continue;
    const parts = f.slice(i + 'node_modules/'.length).split('/');
    const name = parts[0].startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
    dirs.add(`${f.slice(0, i)}node_modules/${name}`);
  }
  return [...dirs];
}

/** @returns {{ name: string, version: string, license: string, files: { name: string, text: string }[] }[]} sorted by name, version */
function bundledPackages(metafile, root = ROOT) {
  const seen = new Map();
  for (const dir of bundledPackageDirs(metafile)) {
    const abs = path.join(root, dir);
    const pkg = JSON.parse(fs.readFileSync(path.join(abs, 'package.json'), 'utf8'));
    const key = `${pkg.name}@${pkg.version}`;
    if (seen.has(key)) continue;
    const license =
      typeof pkg.license === 'string'
        ? pkg.license
        : (pkg.license?.type ?? (pkg.licenses ?? []).map((l) => l.type).join(' OR '));
    const files = fs
      .readdirSync(abs)
      .filter((n) => /^(licen[cs]e|copying|notice)([.-].*)?$/i.test(n) && fs.statSync(path.join(abs, n)).isFile())
      .sort()
      .map((n) => ({ name: n, text: fs.readFileSync(path.join(abs, n), 'utf8').replace(/\r\n/g, '\n').trimEnd() }));
    if (!files.some((f) => !/^notice/i.test(f.name)))
      throw new Error(`${dir} (${key}) has no LICENSE or COPYING file to copy into the notices`);
    seen.set(key, { name: pkg.name, version: pkg.version, license: license || 'UNKNOWN', files });
  }
  return [...seen.values()].sort((a, b) =>
    a.name === b.name ? a.version.localeCompare(b.version) : a.name.localeCompare(b.name),
  );
}

function thirdPartyNotices(metafile, root = ROOT) {
  const pkgs = bundledPackages(metafile, root);
  const rule = '='.repeat(100);
  const out = [
    'THIRD-PARTY NOTICES for the PatRotate Azure DevOps extension',
    '',
    'tasks/PatRotate/index.js bundles the following open-source packages (generated from the bundle at package time).',
    'Each keeps its own licence, reproduced below.',
    '',
    ...pkgs.map((p) => `  ${p.name} ${p.version} (${p.license})`),
    '',
  ];
  for (const p of pkgs) {
    out.push(rule, `${p.name} ${p.version}`, `License: ${p.license}`, rule, '');
    for (const f of p.files) out.push(`--- ${f.name} ---`, '', f.text, '');
  }
  return `${out.join('\n')}\n`;
}

function readMetafile() {
  if (!fs.existsSync(METAFILE))
    throw new Error(`${path.relative(ROOT, METAFILE)} is missing: run npm run build (scripts/bundle.js writes it).`);
  return JSON.parse(fs.readFileSync(METAFILE, 'utf8'));
}

module.exports = { METAFILE, bundledPackages, thirdPartyNotices, readMetafile };
