// Runs the built task exactly as the agent would: a child Node process with INPUT_* variables, the pipeline's
// System.* variables, and the emulator's CA trusted through NODE_EXTRA_CA_CERTS. Parses the ##vso commands.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';

export const REPO_ROOT = path.resolve(__dirname, '..', '..', '..');
export const BUNDLE = path.join(REPO_ROOT, 'tasks', 'PatRotate', 'index.js');

export interface VsoCommand {
  name: string;
  props: Record<string, string>;
  message: string;
}

export interface TaskRun {
  code: number | null;
  stdout: string;
  stderr: string;
  commands: VsoCommand[];
  /** From the last task.complete command. */
  result?: 'Succeeded' | 'SucceededWithIssues' | 'Failed';
  /** The message of task.complete. */
  message: string;
  errors: string[];
  warnings: string[];
  /** setvariable commands by name (the last one wins), with their flags. */
  variables: Map<string, { value: string; secret: boolean; output: boolean }>;
  /** Values registered with task.setsecret. */
  secrets: string[];
  /** Markdown files published with task.uploadsummary (removed with the agent's temp folder after the run). */
  summaries: string[];
  /** Their contents. */
  summaryTexts: string[];
}

export interface TaskHandle {
  signal(name: 'SIGINT' | 'SIGTERM'): void;
}

export interface RunOptions {
  inputs: Record<string, string | number | boolean | undefined>;
  /** Extra environment: System.* variables, endpoint parameters, AGENT_* settings. */
  env?: Record<string, string>;
  caFile?: string;
  /** Defaults to the bundle; the vsix test passes the unpacked task. */
  entry?: string;
  timeoutMs?: number;
  /** Called once the task runs, with a handle to signal it as the agent does on a cancel. */
  onStart?: (task: TaskHandle) => void;
}

/** task-lib's mangling of an input or variable name into an environment variable name. */
export function envName(prefix: string, name: string): string {
  return `${prefix}${name.replace(/[. ]/g, '_').toUpperCase()}`;
}

export function runTask(options: RunOptions): Promise<TaskRun> {
  const env: Record<string, string> = {};
  // Only what a real agent would pass: no INPUT_* or AGENT_* leaking in from the test process.
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(INPUT_|AGENT_|SYSTEM_|ENDPOINT_|BUILD_|TASK_|SECRET_)/i.test(k)) env[k] = v;
  }
  for (const [k, v] of Object.entries(options.inputs)) {
    if (v !== undefined) env[envName('INPUT_', k)] = String(v);
  }
  const agentTemp = mkdtempSync(path.join(tmpdir(), 'patrotate-agent-'));
  env.AGENT_TEMPDIRECTORY = agentTemp;
  if (options.caFile) env.NODE_EXTRA_CA_CERTS = options.caFile;
  Object.assign(env, options.env ?? {});

  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [options.entry ?? BUNDLE], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    options.onStart?.({ signal: (name) => child.kill(name) });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const run = parseRun(code, stdout, stderr);
      // The summary files live in the agent's temp folder: keep their text, then leave the temp directory as it was.
      run.summaryTexts = run.summaries.map((f) => readFileSync(f, 'utf8'));
      rmSync(agentTemp, { recursive: true, force: true });
      resolve(run);
    });
  });
}

function unescapeProp(v: string): string {
  return v
    .replace(/%3B/g, ';')
    .replace(/%5D/g, ']')
    .replace(/%0D/g, '\r')
    .replace(/%0A/g, '\n')
    .replace(/%AZP25/g, '%');
}
function unescapeMsg(v: string): string {
  return v
    .replace(/%0D/g, '\r')
    .replace(/%0A/g, '\n')
    .replace(/%AZP25/g, '%');
}

/**
 * The agent's parser (Command.TryParse in azure-pipelines-agent): a line ends at \n, \r\n or a bare \r, and the first
 * `##vso[` ANYWHERE in it starts a command. The agent compares culture-sensitively, which skips zero-width and other
 * ignorable characters, so they are dropped first; case is ignored to be stricter than the agent.
 */
export function parseCommands(stdout: string): VsoCommand[] {
  const out: VsoCommand[] = [];
  for (const raw of stdout.split(/\r\n|\r|\n/)) {
    const line = raw.replace(/[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}]/gu, '');
    const at = line.toLowerCase().indexOf('##vso[');
    if (at < 0) continue;
    const rest = line.slice(at + '##vso['.length);
    const close = rest.indexOf(']');
    if (close < 0) continue;
    const head = rest.slice(0, close);
    const space = head.indexOf(' ');
    const name = (space < 0 ? head : head.slice(0, space)).trim();
    const props: Record<string, string> = {};
    for (const pair of (space < 0 ? '' : head.slice(space + 1)).split(';')) {
      const eq = pair.indexOf('=');
      if (eq > 0) props[pair.slice(0, eq).trim().toLowerCase()] = unescapeProp(pair.slice(eq + 1));
    }
    out.push({ name: name.toLowerCase(), props, message: unescapeMsg(rest.slice(close + 1)) });
  }
  return out;
}

export function parseRun(code: number | null, stdout: string, stderr: string): TaskRun {
  const commands = parseCommands(stdout);
  const complete = commands.filter((c) => c.name === 'task.complete').at(-1);
  const issues = (type: string) =>
    commands
      .filter((c) => (c.name === 'task.issue' || c.name === 'task.logissue') && c.props.type === type)
      .map((c) => c.message);
  const variables = new Map<string, { value: string; secret: boolean; output: boolean }>();
  for (const c of commands.filter((c) => c.name === 'task.setvariable')) {
    variables.set(`${c.props.variable}${c.props.isoutput === 'true' ? ' (output)' : ''}`, {
      value: c.message,
      secret: c.props.issecret === 'true',
      output: c.props.isoutput === 'true',
    });
  }
  return {
    code,
    stdout,
    stderr,
    commands,
    result: complete?.props.result as TaskRun['result'],
    message: complete?.message ?? '',
    errors: issues('error'),
    warnings: issues('warning'),
    variables,
    secrets: commands.filter((c) => c.name === 'task.setsecret').map((c) => c.message),
    summaries: commands.filter((c) => c.name === 'task.uploadsummary').map((c) => c.message),
    summaryTexts: [],
  };
}
