// The secret-leak scan every end-to-end test runs: no secret the emulator issued or the test supplied may appear
// in stdout or stderr, except as the value of a ##vso[task.setsecret] or a secret ##vso[task.setvariable] command
// (the agent consumes those lines and never shows them).
import assert from 'node:assert/strict';
import type { TaskRun } from './runTask';

function visibleText(output: string): string {
  return output
    .split(/\r?\n/)
    .filter((line) => !line.startsWith('##vso[task.setsecret]'))
    .filter(
      (line) =>
        !(line.startsWith('##vso[task.setvariable ') && /issecret=true/i.test(line.slice(0, line.indexOf(']')))),
    )
    .join('\n');
}

/** Fails with the kind of secret found (never the secret itself, which would leak it into the test log). */
export function assertNoSecretLeaks(
  run: Pick<TaskRun, 'stdout' | 'stderr'>,
  secrets: Iterable<string | undefined>,
): void {
  const out = visibleText(run.stdout);
  const err = visibleText(run.stderr);
  for (const s of secrets) {
    if (!s || s.length < 8) continue;
    const where = out.includes(s) ? 'stdout' : err.includes(s) ? 'stderr' : undefined;
    assert.equal(where, undefined, `a secret (${s.slice(0, 3)}…, ${s.length} chars) appeared in ${where}`);
  }
}
