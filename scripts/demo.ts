// `npm run demo`: PatRotate end to end in a few seconds, offline. Starts the local Entra + Azure DevOps emulator
// in-process, seeds it (user alice, org contoso, project Platform, three PATs, variable group pat-store), then runs the
// packaged task twice exactly as an agent would (a child process with INPUT_* variables):
//   1. rotate the PAT that expires in 3 days into the variable group, signing in with a refresh token and saving the
//      rolled refresh token in the same group;
//   2. a dry-run list of every PAT, signing in with the refresh token run 1 saved;
//   3. rotate 'release-bot' into Azure Key Vault with a workload identity federation service connection, the refresh
//      token read from the vault and the rolled one saved back there (no variable group at all).
// It prints each run's log the way the pipeline UI shows it (commands hidden, warnings/errors marked, secrets masked),
// and the state before and after. Exits non-zero when the rotation did not succeed.
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import {
  DEMO_RT_SECRET as RT_SECRET,
  DEMO_VAULT as KV_NAME,
  seedDemo,
  seedDemoVault,
  type DemoSeed,
  type DemoVault,
} from '../test/emulator/demo-seed';
import { start, type Emulator, type PatRecord, type VariableGroupRecord } from '../test/emulator';
import { BUNDLE, REPO_ROOT, runTask, type TaskRun } from '../test/helpers/runTask';
import { daysAgoText, daysLeftText } from '../tasks/PatRotate/src/rotation/days';
import { palette, renderLog as render, table } from './log-render';

const SECRET_INPUTS = new Set(['refreshToken', 'accessToken', 'password', 'clientSecret']);
// Colour only on a terminal, never with NO_COLOR (scripts/log-render.ts).
const { bold, dim, yellow, red, green, cyan } = palette(process.stdout);

function out(line = ''): void {
  process.stdout.write(`${line}\n`);
}

/** The packaged task: dist/stage (what the vsix carries) when it holds the current bundle, else the fresh bundle. */
function taskEntry(): { entry: string; label: string } {
  const staged = path.join(REPO_ROOT, 'dist', 'stage', 'tasks', 'PatRotate', 'index.js');
  if (existsSync(staged) && existsSync(BUNDLE) && readFileSync(staged).equals(readFileSync(BUNDLE))) {
    return { entry: staged, label: 'dist/stage/tasks/PatRotate/index.js (the staged vsix content)' };
  }
  const note = existsSync(staged) ? '; dist/stage is older: run npm run package to refresh it' : '';
  return { entry: BUNDLE, label: `tasks/PatRotate/index.js (the bundle the vsix ships${note})` };
}

/** Renders agent output as the pipeline log shows it: ##vso commands consumed, issues marked, secrets masked. */
function renderLog(run: TaskRun): string[] {
  return render(run, { colours: { bold, dim, yellow, red, green, cyan } });
}

/** The date, and "in N days" / "expired N days ago" counted as the task log counts them (rotation/days.ts). */
function expiry(p: PatRecord): string {
  const left = p.validTo.getTime() - Date.now();
  return `${p.validTo.toISOString().slice(0, 10)} (${left > 0 ? `in ${daysLeftText(left)}` : `expired ${daysAgoText(-left)} ago`})`;
}

function status(p: PatRecord): string {
  if (p.revoked) return red('revoked');
  if (p.validTo.getTime() <= Date.now()) return dim('expired');
  return green('live');
}

function printPats(emu: Emulator, seed: DemoSeed): void {
  const rows = emu.state
    .pats(seed.user.oid)
    .slice()
    .sort((a, b) => a.displayName.localeCompare(b.displayName) || a.createdAt - b.createdAt)
    .map((p) => [p.displayName, p.authorizationId, expiry(p), p.scope, status(p)]);
  table([[bold('PAT'), bold('authorization id'), bold('expires'), bold('scopes'), bold('status')], ...rows]).forEach(
    (l) => out(l),
  );
}

type VarSnapshot = Record<string, { value: string | null; isSecret: boolean }>;

function snapshotGroup(group: VariableGroupRecord): VarSnapshot {
  return Object.fromEntries(
    Object.entries(group.variables).map(([k, v]) => [k, { value: v.value, isSecret: v.isSecret === true }]),
  );
}

function printGroup(group: VariableGroupRecord, before?: VarSnapshot): void {
  const now = snapshotGroup(group);
  const names = [...new Set([...Object.keys(before ?? {}), ...Object.keys(now)])].sort();
  const rows = names.map((n) => {
    const v = now[n];
    const shown = !v ? dim('(deleted)') : v.isSecret ? '***' : String(v.value);
    const row = [n, v?.isSecret ? 'secret' : 'plain', shown];
    if (before) {
      const b = before[n];
      row.push(
        !b
          ? yellow('added')
          : !v
            ? yellow('deleted')
            : b.value !== v.value || b.isSecret !== v.isSecret
              ? yellow('changed')
              : dim('unchanged'),
      );
    }
    return row;
  });
  const head = [bold('variable'), bold('kind'), bold('value')];
  if (before) head.push(bold('this demo'));
  out(`  Variable group '${group.name}' (id ${group.id}):`);
  table([head, ...rows]).forEach((l) => out(l));
}

function banner(title: string): void {
  out();
  out(bold(`━━ ${title} ${'━'.repeat(Math.max(0, 74 - title.length))}`));
}

function printRun(title: string, inputs: Record<string, string>, run: TaskRun, instanceName: string): void {
  banner(title);
  out(dim('  - task: PatRotate@1'));
  out(dim('    inputs:'));
  for (const [k, v] of Object.entries(inputs)) out(dim(`      ${k}: ${SECRET_INPUTS.has(k) ? '***' : v}`));
  out();
  out(cyan(`##[section]Starting: ${instanceName}`));
  renderLog(run).forEach((l) => out(l));
  const colour = run.result === 'Succeeded' ? green : run.result === 'SucceededWithIssues' ? yellow : red;
  out(
    cyan(`##[section]Finishing: ${instanceName}`) +
      `  → ${colour(run.result ?? `no result (exit ${String(run.code)})`)}`,
  );
}

function printVault(kv: DemoVault): void {
  out(`  Key Vault '${KV_NAME}' (${kv.url}):`);
  const rows = kv
    .names()
    .flatMap((n) =>
      kv
        .versions(n)
        .map((v, i, all) => [
          n,
          `${v.version.slice(0, 8)}…${i === all.length - 1 ? ' (latest)' : ''}${v.enabled ? '' : ' (disabled)'}`,
          v.exp ? new Date(v.exp * 1000).toISOString().slice(0, 10) : dim('-'),
          v.contentType ?? dim('-'),
          v.tags?.authorizationId ?? dim('-'),
        ]),
    );
  table([
    [bold('secret'), bold('version'), bold('expires'), bold('content type'), bold('authorizationId tag')],
    ...rows,
  ]).forEach((l) => out(l));
}

async function main(): Promise<number> {
  const t0 = Date.now();
  const { entry, label } = taskEntry();
  if (!existsSync(entry)) throw new Error(`${entry} is missing: run npm run build first.`);
  const task = JSON.parse(readFileSync(path.join(REPO_ROOT, 'tasks', 'PatRotate', 'task.json'), 'utf8')) as {
    instanceNameFormat: string;
  };
  const instance = (inputs: Record<string, string>): string =>
    task.instanceNameFormat.replace(/\$\((\w+)\)/g, (_, k: string) => inputs[k] ?? '').trim();

  const emu = await start();
  try {
    const seed = seedDemo(emu);
    const st = emu.state;
    out(
      bold('PatRotate demo') + dim(`: the Marketplace task against a local Entra + Azure DevOps emulator (${emu.url})`),
    );
    out(dim(`  task: ${label}`));
    out(dim(`  user ${seed.user.upn}, organization ${seed.org.name}, project ${seed.project.name}`));

    banner('Before');
    printPats(emu, seed);
    out();
    printGroup(seed.group);
    const groupBefore = snapshotGroup(seed.group);
    const due = seed.pats.expiringSoon;

    const common = {
      organization: `${emu.url}/${seed.org.name}`,
      authMethod: 'refreshToken',
      authorityHost: emu.url,
      tenantId: st.tenantId,
      clientId: seed.clientId,
      refreshTokenVariable: 'PatRotate.RefreshToken',
      refreshTokenGroup: seed.group.name,
    };
    const env = { SYSTEM_TEAMPROJECT: seed.project.name, SYSTEM_COLLECTIONURI: `${emu.url}/${seed.org.name}/` };

    // Run 1: the nightly rotation.
    const rotateInputs = {
      ...common,
      refreshToken: seed.refreshToken,
      operation: 'rotate',
      displayName: due.displayName,
      target: 'variableGroup',
      variableGroup: seed.group.name,
      variableName: due.displayName,
    };
    const rotate = await runTask({ entry, inputs: rotateInputs, env, caFile: emu.caFile });
    printRun(
      `Run 1: rotate '${due.displayName}' into variable group '${seed.group.name}'`,
      rotateInputs,
      rotate,
      instance(rotateInputs),
    );

    // Run 2: the next run signs in with the refresh token run 1 saved, and lists every PAT without changing anything.
    const savedRt = seed.group.variables['PatRotate.RefreshToken']?.value ?? '';
    const listInputs = { ...common, refreshToken: savedRt, operation: 'list', dryRun: 'true' };
    const list = await runTask({ entry, inputs: listInputs, env, caFile: emu.caFile });
    printRun(
      'Run 2: dry-run list of all PATs (signed in with the refresh token run 1 saved)',
      listInputs,
      list,
      instance(listInputs),
    );

    // Run 3: Key Vault. The refresh token moves into the vault; the connection's identity writes the vault.
    const kv = await seedDemoVault(emu, seed, seed.group.variables['PatRotate.RefreshToken']?.value ?? '');
    const rtVersionsBefore = kv.versions(RT_SECRET).length;
    const kvInputs = {
      organization: common.organization,
      authMethod: 'refreshToken',
      authorityHost: emu.url,
      tenantId: st.tenantId,
      clientId: seed.clientId,
      azureSubscription: kv.connectionId,
      keyVaultName: kv.url,
      refreshTokenSecret: RT_SECRET,
      operation: 'rotate',
      displayName: seed.pats.fresh.displayName,
      rotateWithinDays: '0',
      target: 'keyVault',
    };
    const kvRun = await runTask({ entry, inputs: kvInputs, env: { ...env, ...kv.env }, caFile: emu.caFile });
    printRun(
      `Run 3: rotate '${seed.pats.fresh.displayName}' into Key Vault '${KV_NAME}' (workload identity federation)`,
      kvInputs,
      kvRun,
      instance(kvInputs),
    );

    banner('After');
    printPats(emu, seed);
    out();
    printGroup(seed.group, groupBefore);
    out();
    printVault(kv);

    // What "it worked" means: a new live PAT with the old name and scopes holds the group's value; the old one is revoked.
    const stored = seed.group.variables[due.displayName]?.value;
    const fresh = st.pats(seed.user.oid).find((p) => p.token === stored);
    const checks: [string, boolean][] = [
      ['rotation run Succeeded', rotate.result === 'Succeeded'],
      [
        `'${due.displayName}' in the group is a new live PAT with the same scopes`,
        !!fresh && fresh.authorizationId !== due.authorizationId && !fresh.revoked && fresh.scope === due.scope,
      ],
      [
        'the old PAT is revoked',
        st.pats(seed.user.oid).find((p) => p.authorizationId === due.authorizationId)?.revoked === true,
      ],
      [
        'the other secrets in the group are untouched',
        ['db-password', 'api-key'].every((k) => seed.group.variables[k]?.value === groupBefore[k]?.value),
      ],
      [
        'the rolled refresh token was saved and worked for run 2',
        !!savedRt && savedRt !== seed.refreshToken && list.result === 'Succeeded',
      ],
      [
        `Key Vault run Succeeded: '${seed.pats.fresh.displayName}' is a new secret version holding a new live PAT`,
        kvRun.result === 'Succeeded' &&
          (() => {
            const held = st.patByToken(kv.versions(seed.pats.fresh.displayName).at(-1)?.value ?? '');
            return !!held && !held.revoked && held.authorizationId !== seed.pats.fresh.authorizationId;
          })(),
      ],
      [
        'the refresh token was read from the vault and the rolled one saved there',
        kv.versions(RT_SECRET).length === rtVersionsBefore + 1,
      ],
      [
        'no issued secret appears in any log',
        ![rotate, list, kvRun].some((r) =>
          renderLog(r).some((l) => emu.issuedSecrets().some((s) => s.length >= 8 && l.includes(s))),
        ),
      ],
    ];
    banner('Result');
    for (const [what, ok] of checks) out(`  ${ok ? green('✔') : red('✘')} ${what}`);
    out(dim(`  ${((Date.now() - t0) / 1000).toFixed(1)} s. Next: npm test, npm run package (README.md, "Install").`));
    return checks.every(([, ok]) => ok) ? 0 : 1;
  } finally {
    await emu.close();
  }
}

main().then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`demo failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exit(1);
  },
);
