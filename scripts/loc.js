// Generates tasks/PatRotate/task.loc.json and Strings/resources.resjson/en-US/resources.resjson from task.json, with
// the same keys as Microsoft's make-util.js (createTaskLocJson / createResjson): loc.friendlyName, loc.helpMarkDown,
// loc.description, loc.instanceNameFormat, loc.releaseNotes, loc.group.displayName.<g>, loc.input.label.<in>,
// loc.input.help.<in>, loc.messages.<key>. task.json stays the one English source.
// Usage: node scripts/loc.js            writes both files
//        node scripts/loc.js --check    exits 1 if they are out of date
'use strict';
const fs = require('node:fs');
const path = require('node:path');

const TASK_DIR = path.join(__dirname, '..', 'tasks', 'PatRotate');
const LOC_JSON = path.join(TASK_DIR, 'task.loc.json');
const RESJSON = path.join(TASK_DIR, 'Strings', 'resources.resjson', 'en-US', 'resources.resjson');

const has = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
const res = (key) => `ms-resource:${key}`;

/** @param {Record<string, any>} task parsed task.json @returns {{ taskLoc: object, resources: Record<string, string> }} */
function localize(task) {
  const taskLoc = JSON.parse(JSON.stringify(task));
  const resources = {};
  for (const field of ['friendlyName', 'helpMarkDown', 'description', 'instanceNameFormat', 'releaseNotes']) {
    if (has(task, field)) resources[`loc.${field}`] = task[field];
  }
  taskLoc.friendlyName = res('loc.friendlyName');
  taskLoc.helpMarkDown = res('loc.helpMarkDown');
  taskLoc.description = res('loc.description');
  taskLoc.instanceNameFormat = res('loc.instanceNameFormat');
  if (has(taskLoc, 'releaseNotes')) taskLoc.releaseNotes = res('loc.releaseNotes');
  for (const group of taskLoc.groups ?? []) {
    if (!has(group, 'name')) continue;
    resources[`loc.group.displayName.${group.name}`] = group.displayName;
    group.displayName = res(`loc.group.displayName.${group.name}`);
  }
  for (const input of taskLoc.inputs ?? []) {
    if (!has(input, 'name')) continue;
    resources[`loc.input.label.${input.name}`] = input.label;
    input.label = res(`loc.input.label.${input.name}`);
    if (input.helpMarkDown) {
      resources[`loc.input.help.${input.name}`] = input.helpMarkDown;
      input.helpMarkDown = res(`loc.input.help.${input.name}`);
    }
  }
  for (const key of Object.keys(taskLoc.messages ?? {})) {
    resources[`loc.messages.${key}`] = taskLoc.messages[key];
    taskLoc.messages[key] = res(`loc.messages.${key}`);
  }
  return { taskLoc, resources };
}

/** The exact file contents both outputs should have for the task.json in `taskDir`. */
function expectedFiles(taskDir = TASK_DIR) {
  const task = JSON.parse(fs.readFileSync(path.join(taskDir, 'task.json'), 'utf8'));
  const { taskLoc, resources } = localize(task);
  return {
    [path.join(taskDir, 'task.loc.json')]: `${JSON.stringify(taskLoc, null, 2)}\n`,
    [path.join(taskDir, 'Strings', 'resources.resjson', 'en-US', 'resources.resjson')]:
      `${JSON.stringify(resources, null, 2)}\n`,
  };
}

/** Files whose content differs from what task.json implies (empty = up to date). */
function staleFiles(taskDir = TASK_DIR) {
  return Object.entries(expectedFiles(taskDir))
    .filter(([file, text]) => !fs.existsSync(file) || fs.readFileSync(file, 'utf8').replace(/\r\n/g, '\n') !== text)
    .map(([file]) => file);
}

function write(taskDir = TASK_DIR) {
  for (const [file, text] of Object.entries(expectedFiles(taskDir))) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
}

module.exports = { localize, expectedFiles, staleFiles, write, LOC_JSON, RESJSON };

if (require.main === module) {
  const rel = (f) => path.relative(process.cwd(), f);
  if (process.argv.includes('--check')) {
    const stale = staleFiles();
    if (stale.length) {
      console.error(`Out of date with task.json: ${stale.map(rel).join(', ')}. Run: npm run loc`);
      process.exit(1);
    }
    console.log('task.loc.json and resources.resjson are up to date.');
  } else {
    write();
    console.log(`Wrote ${rel(LOC_JSON)} and ${rel(RESJSON)}.`);
  }
}
