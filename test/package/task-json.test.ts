// task.json, the generated loc files, the extension manifest and the icons: what tfx only warns about, and what the
// agent and the pipeline editor would trip over, checked before anything is packaged.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import Ajv from 'ajv-draft-04';
import { REPO_ROOT } from '../helpers/runTask';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const TASK_DIR = path.join(REPO_ROOT, 'tasks', 'PatRotate');
const SPECS = path.join(REPO_ROOT, 'test', 'fixtures', 'specs');

function readJson(file: string): Json {
  return JSON.parse(readFileSync(file, 'utf8').replace(/^\uFEFF/, ''));
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const f = path.join(dir, n);
    if (statSync(f).isDirectory()) return sources(f);
    return f.endsWith('.ts') ? [f] : [];
  });
}

/** Input names the task's code reads: config.ts's text/choice/bool/int helpers, and task-lib's getInput family. */
function inputsReadByCode(files: string[]): Set<string> {
  const helper = /(?<![\w$.])(?:input|text|bool|int|choice(?:<[^>()]*>)?)\(\s*'([A-Za-z][A-Za-z0-9_]*)'/g;
  const taskLib = /\bget(?:Bool|Path|Delimited)?Input(?:Required)?\(\s*'([A-Za-z][A-Za-z0-9_]*)'/g;
  const names = new Set<string>();
  for (const f of files) {
    const src = readFileSync(f, 'utf8');
    for (const re of [helper, taskLib]) for (const m of src.matchAll(re)) names.add(m[1]);
  }
  return names;
}

/** Parses a visibleRule into its clauses; fails on parentheses or mixed && / ||. */
function parseVisibleRule(rule: string): { input: string; op: string; value: string }[] {
  assert.ok(!/[()]/.test(rule), `visibleRule '${rule}': the designer does not support parentheses`);
  const and = rule.includes('&&');
  const or = rule.includes('||');
  assert.ok(!(and && or), `visibleRule '${rule}': use one operator kind (&& or ||), not both`);
  return rule.split(/&&|\|\|/).map((clause) => {
    const m =
      /^\s*([A-Za-z][A-Za-z0-9_]*)\s*(!=|<=|>=|=|<|>|\bNotContains\b|\bContains\b|\bNotEndsWith\b|\bEndsWith\b|\bNotStartsWith\b|\bStartsWith\b)\s*(.*?)\s*$/.exec(
        clause,
      );
    assert.ok(m, `visibleRule '${rule}': cannot read clause '${clause.trim()}'`);
    return { input: m[1], op: m[2], value: m[3] };
  });
}

describe('package: task.json', () => {
  const task: Json = readJson(path.join(TASK_DIR, 'task.json'));
  const inputs: Json[] = task.inputs ?? [];
  const inputNames = new Set(inputs.map((i) => i.name as string));
  const srcFiles = sources(path.join(TASK_DIR, 'src'));

  it('validates against tasks.schema.json (draft-04)', () => {
    const schema = readJson(path.join(SPECS, 'tasks.schema.json'));
    const ajv = new Ajv({ unicodeRegExp: false, strict: false, allErrors: true });
    const validate = ajv.compile(schema);
    const ok = validate(task);
    assert.ok(ok, ajv.errorsText(validate.errors, { separator: '\n' }));
  });

  it('has a friendlyName of at most 40 characters and an instanceNameFormat', () => {
    assert.ok(typeof task.friendlyName === 'string' && task.friendlyName.length > 0);
    assert.ok(task.friendlyName.length <= 40, `friendlyName is ${task.friendlyName.length} characters`);
    assert.ok(task.instanceNameFormat);
  });

  it('gives every input help and an existing group', () => {
    const groups = new Set((task.groups ?? []).map((g: Json) => g.name as string));
    for (const i of inputs) {
      assert.ok(typeof i.helpMarkDown === 'string' && i.helpMarkDown.trim(), `input ${i.name} has no helpMarkDown`);
      assert.ok(groups.has(i.groupName), `input ${i.name}: group '${i.groupName}' is not declared`);
    }
    assert.equal(inputNames.size, inputs.length, 'duplicate input names');
  });

  it('uses simple visibleRules that reference declared inputs (and their options)', () => {
    const holders: Json[] = [...inputs, ...(task.groups ?? [])];
    for (const h of holders.filter((x) => x.visibleRule)) {
      for (const c of parseVisibleRule(h.visibleRule)) {
        assert.ok(inputNames.has(c.input), `${h.name}: visibleRule references undeclared input '${c.input}'`);
        const target = inputs.find((i) => i.name === c.input);
        if (target.options && (c.op === '=' || c.op === '!=')) {
          assert.ok(
            Object.keys(target.options).includes(c.value),
            `${h.name}: '${c.value}' is not an option of ${c.input}`,
          );
        }
      }
    }
  });

  it('runs on Node20_1 and Node24, both targeting index.js', () => {
    for (const handler of ['Node20_1', 'Node24']) {
      assert.equal(task.execution?.[handler]?.target, 'index.js', `execution.${handler}.target`);
    }
  });

  it('declares every input the code reads, and the code reads every declared input', () => {
    const read = inputsReadByCode(srcFiles);
    assert.ok(read.size > 10, `found only ${read.size} input reads: has config.ts changed its helpers?`);
    // An old name kept as an alias (groupAuth for storeAuth) is declared too: the code may read it as a fallback.
    const aliases = new Set(inputs.flatMap((i) => (i.aliases ?? []) as string[]));
    assert.deepEqual(
      [...read].filter((n) => !inputNames.has(n) && !aliases.has(n)).sort(),
      [],
      'read by the code but not declared in task.json',
    );
    assert.deepEqual([...inputNames].filter((n) => !read.has(n)).sort(), [], 'declared in task.json but never read');
  });

  it('has no runtime messages: what the task prints is English, written where it arises (README, Localization)', () => {
    assert.equal('messages' in task, false);
    for (const f of srcFiles) assert.doesNotMatch(readFileSync(f, 'utf8'), /\bloc\(/, `${f} localizes a message`);
  });

  it('has no restrictions (the variable names are user inputs, and the task uploads a summary)', () => {
    assert.equal('restrictions' in task, false);
  });

  it('has outputVariables with descriptions', () => {
    for (const o of task.outputVariables ?? []) assert.ok(o.description, `output ${o.name} has no description`);
  });

  it('has task.loc.json and resources.resjson up to date (npm run loc)', () => {
    const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'scripts', 'loc.js'), '--check'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    });
    assert.equal(r.status, 0, r.stderr);
    const loc = readJson(path.join(TASK_DIR, 'task.loc.json'));
    assert.equal(loc.friendlyName, 'ms-resource:loc.friendlyName');
    const res = readJson(path.join(TASK_DIR, 'Strings', 'resources.resjson', 'en-US', 'resources.resjson'));
    for (const i of inputs) assert.equal(res[`loc.input.label.${i.name}`], i.label);
  });
});

function pngSize(file: string): { width: number; height: number } {
  const b = readFileSync(file);
  assert.equal(b.toString('latin1', 1, 4), 'PNG', `${file} is not a PNG`);
  assert.equal(b.toString('latin1', 12, 16), 'IHDR');
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

describe('package: extension manifest and icons', () => {
  const manifest: Json = readJson(path.join(REPO_ROOT, 'vss-extension.json'));

  it('is a cloud-only Azure Pipelines extension that contributes the task folder', () => {
    assert.equal(manifest.manifestVersion, 1);
    assert.equal(manifest.id, 'pat-rotate');
    assert.ok(manifest.publisher);
    assert.match(manifest.version, /^\d+\.\d+\.\d+$/);
    assert.deepEqual(manifest.categories, ['Azure Pipelines']);
    assert.deepEqual(manifest.targets, [{ id: 'Microsoft.VisualStudio.Services.Cloud' }]);
    assert.equal(manifest.icons.default, 'images/icon.png');
    assert.equal(manifest.content.details.path, 'overview.md');
    const task = manifest.contributions.find((c: Json) => c.type === 'ms.vss-distributed-task.task');
    assert.deepEqual(task, {
      id: 'pat-rotate-task',
      type: 'ms.vss-distributed-task.task',
      targets: ['ms.vss-distributed-task.tasks'],
      properties: { name: 'tasks/PatRotate' },
    });
  });

  it('has a 128x128 extension icon and a 32x32 task icon', () => {
    assert.deepEqual(pngSize(path.join(REPO_ROOT, 'images', 'icon.png')), { width: 128, height: 128 });
    assert.deepEqual(pngSize(path.join(TASK_DIR, 'icon.png')), { width: 32, height: 32 });
  });
});
