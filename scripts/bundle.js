// Bundles the task into one CommonJS file beside its task.json, so the extension ships no node_modules.
'use strict';
const path = require('path');
const esbuild = require('esbuild');

const taskDir = path.join(__dirname, '..', 'tasks', 'PatRotate');
esbuild
  .build({
    entryPoints: [path.join(taskDir, 'src', 'main.ts')],
    outfile: path.join(taskDir, 'index.js'),
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    sourcemap: false,
    minify: true,
    keepNames: true,
    legalComments: 'none',
    logLevel: 'warning',
  })
  .catch(() => process.exit(1));
