// Maps a stack trace from the shipped (minified) index.js back to the TypeScript sources, with the index.js.map that
// `npm run build` writes beside the bundle (build the same version the user ran: the bundle is reproducible).
// Usage: npm run stack < trace.txt   (or paste the trace and end with Ctrl-D)
'use strict';
const fs = require('fs');
const path = require('path');
const { SourceMap } = require('module');

const mapFile = path.join(__dirname, '..', 'tasks', 'PatRotate', 'index.js.map');
if (!fs.existsSync(mapFile)) {
  console.error(
    'npm run stack: no tasks/PatRotate/index.js.map: run npm run build first (for the version the trace came from).',
  );
  process.exit(1);
}
const map = new SourceMap(JSON.parse(fs.readFileSync(mapFile, 'utf8')));

/** "index.js:1:2345" → "src/app/run.ts:120:7 (name)" when the map knows the place. */
function original(line) {
  return line.replace(/(?:[^\s(]*[\\/])?index\.js:(\d+):(\d+)/g, (whole, l, c) => {
    const e = map.findEntry(Number(l) - 1, Number(c) - 1);
    if (!e || !e.originalSource) return whole;
    const where = `${path.relative(path.join(__dirname, '..'), e.originalSource.replace(/^file:\/\//, ''))}:${e.originalLine + 1}:${e.originalColumn + 1}`;
    return e.name ? `${where} (${e.name})` : where;
  });
}

const input = fs.readFileSync(0, 'utf8');
process.stdout.write(input.split('\n').map(original).join('\n'));
