// Bundles the task into one CommonJS file beside its task.json, so the extension ships no node_modules.
// Also writes esbuild's metafile to build/bundle-meta.json: package.js generates THIRD-PARTY-NOTICES.txt from it.
'use strict';
const fs = require('fs');
const path = require('path');
const esbuild = require('esbuild');
const { METAFILE } = require('./notices');

const taskDir = path.join(__dirname, '..', 'tasks', 'PatRotate');
esbuild
  .build({
    entryPoints: [path.join(taskDir, 'src', 'main.ts')],
    outfile: path.join(taskDir, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: 'external', // index.js.map beside the bundle, never shipped: npm run stack maps a user's stack trace
    minify: true,
    keepNames: true,
    legalComments: 'none',
    logLevel: 'warning',
    metafile: true,
    absWorkingDir: path.join(__dirname, '..'),
  })
  .then((result) => {
    fs.mkdirSync(path.dirname(METAFILE), { recursive: true });
    fs.writeFileSync(METAFILE, `${JSON.stringify(result.metafile)}\n`);
  })
  .catch(() => process.exit(1));
