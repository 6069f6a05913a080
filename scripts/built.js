// Runs a compiled script from build/ (npm run emulator, npm run local). Before a build there is nothing to run: say
// "run npm run build first" instead of Node's MODULE_NOT_FOUND stack trace.
// Usage: node scripts/built.js <script name> <path under build/> [args…]
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const ROOT = path.join(__dirname, '..');
const [name, rel] = process.argv.splice(2, 2);
if (!name || !rel) {
  console.error('usage: node scripts/built.js <script name> <path under build/> [args…]');
  process.exit(2);
}
const needed = [path.join(ROOT, 'build', rel)];
if (name === 'local') needed.push(path.join(ROOT, 'tasks', 'PatRotate', 'index.js'));
const missing = needed.filter((f) => !fs.existsSync(f)).map((f) => path.relative(ROOT, f));
if (missing.length) {
  console.error(
    `npm run ${name}: ${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not built yet: run npm run build first.`,
  );
  process.exit(1);
}
// Run it as the main module (require.main === module), as `node build/<rel>` would.
process.argv[1] = needed[0];
require('node:module').runMain();
