// `npm run local -- --operation list --organization <url-or-name> [options]`: runs the built task on this machine as
// an agent would (a child Node process with INPUT_* variables), streams its log the way the pipeline shows it (debug
// lines only with --verbose, secrets masked), then prints its outputs (secret ones masked) and exits 0 when the task
// succeeded.
//
// Two uses:
//   - against a real organization, e.g. the device-code bootstrap from a laptop: sign in once as the PAT owner and let
//     the task save the refresh token in a variable group (--save-to-group), as the bootstrap pipeline would;
//   - against the project's emulator (--emulator): starts it in-process with the demo data (user alice, organization
//     contoso, project Platform, group pat-store) and a fresh refresh token, so every run starts from the same state.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { load as loadYaml } from 'js-yaml';
import { start, type Emulator } from '../test/emulator';
import { DEMO_RT_SECRET, seedDemo, seedDemoVault } from '../test/emulator/demo-seed';
import { BUNDLE, envName, parseCommands, REPO_ROOT } from '../test/helpers/runTask';
import { Masker, palette, renderLine } from './log-render';

const c = palette(process.stdout);
const SECRET_INPUTS = new Set(['refreshToken', 'accessToken', 'password', 'clientSecret']);
const CREDENTIAL_INPUTS = ['refreshToken', 'accessToken', 'password', 'clientSecret'];
const DEFAULT_RT_VARIABLE = 'PatRotate.RefreshToken';

const USAGE = `usage: npm run local -- [options]
  --operation <op>            list | rotate | renew | create | revoke (the task's operation input)
  --organization <org>        a name (contoso) or a URL (https://dev.azure.com/contoso)
  --auth-method <method>      refreshToken | deviceCode | usernamePassword | accessToken
                              (default: deviceCode when no credential input is given; refreshToken with --emulator)
  --project <name>            the project of the variable group (input project)
  --input <name>=<value>      any task input; repeat as needed (later ones win)
  --inputs <file.yml>         inputs from a YAML file: an 'inputs:' block, as in a pipeline step
  --save-to-group <group>     save the rolled refresh token in this variable group
                              (refreshTokenGroup; refreshTokenVariable defaults to ${DEFAULT_RT_VARIABLE})
  --emulator                  run against the local emulator with the demo data and a fresh refresh token
  --verbose                   show the task's debug lines
  --help                      this text`;

class UsageError extends Error {}

interface Options {
  inputs: Map<string, string>;
  verbose: boolean;
  emulator: boolean;
  saveToGroup?: string;
}

interface TaskJson {
  instanceNameFormat: string;
  inputs: { name: string }[];
}

function readTaskJson(): TaskJson {
  return JSON.parse(readFileSync(path.join(REPO_ROOT, 'tasks', 'PatRotate', 'task.json'), 'utf8')) as TaskJson;
}

/** The `inputs:` mapping of a YAML file: top level, or of a step (`- task: PatRotate@1` with `inputs:`). */
export function inputsFromYaml(text: string, file = 'the inputs file'): Map<string, string> {
  let doc: unknown;
  try {
    doc = loadYaml(text);
  } catch (e) {
    throw new UsageError(`${file} is not valid YAML: ${e instanceof Error ? e.message.split('\n')[0] : String(e)}`);
  }
  const isObject = (v: unknown): v is Record<string, unknown> =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  // A bare `inputs:` block, one step, a list of steps, or a pipeline with `steps:`: the first step with inputs.
  const steps: unknown = isObject(doc) && !('inputs' in doc) && Array.isArray(doc.steps) ? doc.steps : doc;
  const holder: unknown = Array.isArray(steps) ? steps.find((st) => isObject(st) && 'inputs' in st) : steps;
  const block = isObject(holder) ? holder.inputs : undefined;
  if (!isObject(block))
    throw new UsageError(`${file} has no 'inputs:' block (a mapping of task input names to values).`);
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(block)) {
    if (v === null || v === undefined) continue;
    if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean')
      throw new UsageError(`${file}: input '${k}' must be a single value, not a list or mapping.`);
    out.set(k, String(v));
  }
  return out;
}

export function parseArgs(argv: string[], known: Set<string>): Options {
  const o: Options = { inputs: new Map(), verbose: false, emulator: false };
  const set = (name: string, value: string): void => {
    if (!known.has(name))
      throw new UsageError(`'${name}' is not an input of PatRotate@1. Inputs: ${[...known].join(', ')}.`);
    o.inputs.set(name, value);
  };
  const flagInputs: Record<string, string> = {
    '--operation': 'operation',
    '--organization': 'organization',
    '--auth-method': 'authMethod',
    '--project': 'project',
  };
  for (let i = 0; i < argv.length; i++) {
    const eq = argv[i].startsWith('--') ? argv[i].indexOf('=') : -1;
    const flag = eq > 0 ? argv[i].slice(0, eq) : argv[i];
    const value = (): string => {
      const v = eq > 0 ? argv[i].slice(eq + 1) : argv[++i];
      if (v === undefined || (eq < 0 && v.startsWith('--')) || v.trim() === '')
        throw new UsageError(`${flag} needs a value.`);
      return v;
    };
    if (flag === '--verbose') o.verbose = true;
    else if (flag === '--emulator') o.emulator = true;
    else if (flag === '--help' || flag === '-h') throw new UsageError('');
    else if (flagInputs[flag]) set(flagInputs[flag], value());
    else if (flag === '--save-to-group') o.saveToGroup = value();
    else if (flag === '--input') {
      const v = value();
      const at = v.indexOf('=');
      if (at <= 0) throw new UsageError(`--input needs name=value, not '${v}'.`);
      set(v.slice(0, at).trim(), v.slice(at + 1));
    } else if (flag === '--inputs') {
      // npm runs scripts in the package root: a relative path is meant from where `npm run local` was typed.
      const given = value();
      const file = path.resolve(process.env.INIT_CWD ?? process.cwd(), given);
      if (!existsSync(file)) throw new UsageError(`--inputs: ${given} does not exist.`);
      // The file comes first: flags given on the command line override it, whatever their order.
      const fromFile = inputsFromYaml(readFileSync(file, 'utf8'), file);
      for (const [k, v] of fromFile) if (!o.inputs.has(k)) set(k, v);
    } else throw new UsageError(`unknown option '${argv[i]}'.`);
  }
  return o;
}

/**
 * Task inputs and agent variables for a run against the emulator: its organization, authority and demo user; with
 * target keyVault or refreshTokenSecret, also the demo vault and its workload identity federation connection.
 */
async function emulatorRun(
  emu: Emulator,
  o: Options,
): Promise<{
  inputs: Map<string, string>;
  env: Record<string, string>;
  notes: string[];
  user: { oid: string; upn: string };
}> {
  const seed = seedDemo(emu);
  const inputs = new Map(o.inputs);
  const org = inputs.get('organization') ?? seed.org.name;
  if (/^https?:/i.test(org) && !org.startsWith(emu.url))
    throw new UsageError(`with --emulator, give --organization as a name (e.g. ${seed.org.name}), not ${org}.`);
  inputs.set('organization', /^https?:/i.test(org) ? org : `${emu.url}/${org}`);
  const method = inputs.get('authMethod') ?? 'refreshToken';
  inputs.set('authMethod', method);
  for (const [k, v] of [
    ['authorityHost', emu.url],
    ['tenantId', emu.state.tenantId],
    ['clientId', seed.clientId],
  ] as const)
    if (!inputs.has(k)) inputs.set(k, v);
  if (method === 'refreshToken' && !inputs.has('refreshToken')) inputs.set('refreshToken', seed.refreshToken);
  // Keep the rolled refresh token in the demo group, as a scheduled pipeline would (no "not saved" warning).
  if (!inputs.has('refreshTokenGroup')) inputs.set('refreshTokenGroup', seed.group.name);
  if (!inputs.has('refreshTokenVariable')) inputs.set('refreshTokenVariable', DEFAULT_RT_VARIABLE);
  if (method === 'usernamePassword') {
    if (!inputs.has('username')) inputs.set('username', seed.user.upn);
    if (!inputs.has('password')) inputs.set('password', 'alice-password');
  }
  if (method === 'accessToken' && !inputs.has('accessToken'))
    inputs.set('accessToken', emu.state.issueAccessToken(seed.user.oid));
  const notes = [
    `emulator ${emu.url}: user ${seed.user.upn}, organization ${seed.org.name}, project ${seed.project.name}, variable group ${seed.group.name}`,
    `PATs ${seed.pats.expiringSoon.displayName}, ${seed.pats.fresh.displayName}, ${seed.pats.expired.displayName} (expired); a fresh refresh token for this run`,
  ];
  let vaultEnv: Record<string, string> = {};
  if (inputs.get('target')?.toLowerCase() === 'keyvault' || inputs.has('refreshTokenSecret')) {
    // The demo vault, its connection and the agent's view of it, as in a pipeline; the refresh token is in it too.
    const kv = await seedDemoVault(emu, seed, seed.refreshToken);
    vaultEnv = kv.env;
    if (!inputs.has('azureSubscription')) inputs.set('azureSubscription', kv.connectionId);
    if (!inputs.has('keyVaultName')) inputs.set('keyVaultName', kv.url);
    notes.push(
      `vault ${kv.url} (connection ${kv.connectionId}, workload identity federation; secret ${DEMO_RT_SECRET} holds the refresh token)`,
    );
  }
  return {
    inputs,
    user: { oid: seed.user.oid, upn: seed.user.upn },
    env: {
      SYSTEM_TEAMPROJECT: seed.project.name,
      SYSTEM_COLLECTIONURI: `${emu.url}/${seed.org.name}/`,
      NODE_EXTRA_CA_CERTS: emu.caFile,
      ...vaultEnv,
    },
    notes,
  };
}

/** Approves each device code the task asks for as the demo user, so a --emulator deviceCode run completes alone. */
function autoApproveDeviceCodes(
  emu: Emulator,
  user: { oid: string; upn: string },
  say: (line: string) => void,
): () => void {
  const timer = setInterval(() => {
    for (const dc of emu.state.pendingDeviceCodes()) {
      emu.state.approveDeviceCode(dc.userCode, user.oid);
      say(c.dim(`(emulator: ${user.upn} entered code ${dc.userCode} and signed in)`));
    }
  }, 500);
  return () => clearInterval(timer);
}

interface Outcome {
  result?: string;
  message: string;
  code: number | null;
  outputs: { name: string; value: string; secret: boolean }[];
  /** Markdown files the task published with task.uploadsummary (in its temp directory). */
  summaries: string[];
}

/** Runs the bundle, streaming its log line by line (a device code must show while the task waits). */
function runStreaming(
  inputs: Map<string, string>,
  env: Record<string, string>,
  masker: Masker,
  verbose: boolean,
  say: (line: string) => void,
): Promise<Outcome> {
  const childEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(INPUT_|AGENT_|SYSTEM_|ENDPOINT_|BUILD_|TASK_|SECRET_)/i.test(k)) childEnv[k] = v;
  }
  for (const [k, v] of inputs) childEnv[envName('INPUT_', k)] = v;
  childEnv.AGENT_TEMPDIRECTORY = mkdtempSync(path.join(tmpdir(), 'patrotate-local-'));
  Object.assign(childEnv, env);

  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BUNDLE], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const outcome: Outcome = { message: '', code: null, outputs: [], summaries: [] };
    const onLine = (raw: string): void => {
      for (const cmd of raw.startsWith('##vso[') ? parseCommands(raw) : []) {
        if (cmd.name === 'task.complete') {
          outcome.result = cmd.props.result;
          outcome.message = cmd.message;
        }
        if (cmd.name === 'task.uploadsummary') outcome.summaries.push(cmd.message);
        if (cmd.name === 'task.setvariable') {
          const name = `${cmd.props.variable}${cmd.props.isoutput === 'true' ? ' (output)' : ''}`;
          outcome.outputs = outcome.outputs.filter((x) => x.name !== name);
          outcome.outputs.push({ name, value: cmd.message, secret: cmd.props.issecret === 'true' });
        }
      }
      const line = renderLine(raw, { masker, colours: c, verbose });
      if (line !== undefined) say(line);
    };
    const lines = (stream: NodeJS.ReadableStream, each: (l: string) => void): void => {
      let buf = '';
      stream.on('data', (d: Buffer) => {
        buf += d.toString();
        const parts = buf.split(/\r?\n/);
        buf = parts.pop() ?? '';
        parts.forEach(each);
      });
      stream.on('end', () => {
        if (buf) each(buf);
      });
    };
    lines(child.stdout, onLine);
    lines(child.stderr, (l) => {
      if (l.trim()) say(c.red(masker.mask(l)));
    });
    const stop = (): void => {
      child.kill('SIGTERM');
    };
    process.once('SIGINT', stop);
    child.on('error', reject);
    child.on('close', (code) => {
      process.off('SIGINT', stop);
      outcome.code = code;
      resolve(outcome);
    });
  });
}

async function main(argv: string[]): Promise<number> {
  const say = (line = ''): void => {
    process.stdout.write(`${line}\n`);
  };
  const task = readTaskJson();
  const o = parseArgs(argv, new Set(task.inputs.map((i) => i.name)));
  if (!o.inputs.has('operation')) throw new UsageError('--operation is required (e.g. --operation list).');
  if (o.saveToGroup) {
    o.inputs.set('refreshTokenGroup', o.saveToGroup);
    if (!o.inputs.has('refreshTokenVariable')) o.inputs.set('refreshTokenVariable', DEFAULT_RT_VARIABLE);
  }

  let emu: Emulator | undefined;
  let stopApproving = (): void => undefined;
  try {
    let inputs = o.inputs;
    let env: Record<string, string> = {};
    const notes: string[] = [];
    if (o.emulator) {
      emu = await start();
      const r = await emulatorRun(emu, o);
      ({ inputs, env } = r);
      notes.push(...r.notes);
      if (inputs.get('authMethod') === 'deviceCode') stopApproving = autoApproveDeviceCodes(emu, r.user, say);
    } else {
      if (!inputs.has('organization'))
        throw new UsageError(
          '--organization is required outside a pipeline (a name like contoso, or https://dev.azure.com/contoso); or use --emulator.',
        );
      if (!inputs.has('authMethod') && !CREDENTIAL_INPUTS.some((k) => inputs.has(k))) {
        inputs.set('authMethod', 'deviceCode');
        notes.push(
          'no credential given: signing in with a device code (--auth-method deviceCode); the code shows as a warning below',
        );
      }
      if (inputs.has('refreshTokenGroup') && !inputs.has('project'))
        throw new UsageError('--save-to-group needs --project <name>: the project that holds the variable group.');
    }

    const masker = new Masker();
    for (const [k, v] of inputs) if (SECRET_INPUTS.has(k)) masker.add(v);
    const instance = task.instanceNameFormat.replace(/\$\((\w+)\)/g, (_, k: string) => inputs.get(k) ?? '').trim();

    say(c.bold('PatRotate, run locally') + c.dim(` (${path.relative(REPO_ROOT, BUNDLE)})`));
    for (const n of notes) say(c.dim(`  ${n}`));
    say(c.dim('  - task: PatRotate@1'));
    say(c.dim('    inputs:'));
    for (const [k, v] of inputs) say(c.dim(`      ${k}: ${SECRET_INPUTS.has(k) ? '***' : v}`));
    say();
    say(c.cyan(`##[section]Starting: ${instance}`));
    const outcome = await runStreaming(inputs, env, masker, o.verbose, say);
    const ok = outcome.result === 'Succeeded' || outcome.result === 'SucceededWithIssues';
    const colour = outcome.result === 'Succeeded' ? c.green : ok ? c.yellow : c.red;
    say(
      c.cyan(`##[section]Finishing: ${instance}`) +
        `  → ${colour(outcome.result ?? `no result (exit ${String(outcome.code)})`)}`,
    );

    say();
    say(c.bold('Outputs') + c.dim(' (secret values masked)'));
    if (outcome.outputs.length === 0) say(c.dim('  (none)'));
    for (const v of outcome.outputs) say(`  ${v.name} = ${v.secret ? '***' : masker.mask(v.value)}`);
    for (const f of outcome.summaries) say(c.dim(`  Run summary (markdown, names and ids only): ${f}`));
    if (!o.emulator && inputs.get('authMethod') === 'deviceCode' && ok && !inputs.has('refreshTokenGroup')) {
      say(
        c.dim(
          '  The refresh token is not saved anywhere: add --save-to-group <group> --project <name> to keep it for scheduled runs.',
        ),
      );
    }
    return ok ? 0 : 1;
  } finally {
    stopApproving();
    await emu?.close();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      if (e instanceof UsageError) {
        if (e.message) process.stderr.write(`npm run local: ${e.message}\n\n`);
        process.stderr.write(`${USAGE}\n`);
        process.exit(e.message ? 2 : 0);
      }
      process.stderr.write(`npm run local failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exit(1);
    },
  );
}
