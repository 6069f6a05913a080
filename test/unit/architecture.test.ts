// The shape of the source, checked: small files, one door to task-lib, no import cycles, a thin entry point.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { REPO_ROOT } from '../helpers/runTask';

const SRC = path.join(REPO_ROOT, 'tasks', 'PatRotate', 'src');

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [path.join(dir, e.name)] : [],
  );
}

/** Relative imports of a file, resolved to source files (type-only imports count: they are still a dependency). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'/gm)].map((m) =>
    path.resolve(path.dirname(file), `${m[1]}.ts`),
  );
}

describe('architecture of tasks/PatRotate/src', () => {
  const files = sources(SRC);
  const rel = (f: string) => path.relative(SRC, f);

  it('has no file over 300 lines', () => {
    const long = files.filter((f) => readFileSync(f, 'utf8').split('\n').length > 300).map(rel);
    assert.deepEqual(long, []);
  });

  it('imports azure-pipelines-task-lib only in agent.ts', () => {
    const users = files.filter((f) => /from 'azure-pipelines-task-lib/.test(readFileSync(f, 'utf8'))).map(rel);
    assert.deepEqual(users, ['agent.ts']);
  });

  it('keeps main.ts under 30 lines', () => {
    assert.ok(readFileSync(path.join(SRC, 'main.ts'), 'utf8').split('\n').length < 30);
  });

  it('has no import cycle', () => {
    const graph = new Map(files.map((f) => [f, importsOf(f)]));
    // The reader must see imports at all, or this test could not fail.
    assert.ok(graph.get(path.join(SRC, 'app', 'run.ts'))?.includes(path.join(SRC, 'rotation', 'execute.ts')));
    const state = new Map<string, 'open' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, trail: string[]): void => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...trail.slice(trail.indexOf(f)), f].map(rel).join(' → '));
        return;
      }
      state.set(f, 'open');
      for (const g of graph.get(f) ?? []) visit(g, [...trail, f]);
      state.set(f, 'done');
    };
    files.forEach((f) => visit(f, []));
    assert.deepEqual(cycles, []);
  });
});
