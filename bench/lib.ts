// Small helpers for the benchmarks: statistics, tables, raw HTTPS calls, child processes with peak RSS.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import * as https from 'node:https';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { BUNDLE, envName } from '../test/helpers/runTask';

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function ms(x: number): string {
  return x >= 10_000 ? `${(x / 1000).toFixed(1)} s` : `${Math.round(x)} ms`;
}

export function ratio(x: number): string {
  return `${x.toFixed(2)}×`;
}

/** A plain-text table with aligned columns. */
export function table(header: string[], rows: (string | number)[][]): string {
  const all = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...all.map((r) => [...(r[i] ?? '')].length)));
  const line = (r: string[]) => `| ${r.map((c, i) => c + ' '.repeat(widths[i] - [...c].length)).join(' | ')} |`;
  return [line(header), `|${widths.map((n) => '-'.repeat(n + 2)).join('|')}|`, ...all.slice(1).map(line)].join('\n');
}

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTPS request with node:https (no retries, no library): what a peer script does. */
export function request(
  agent: https.Agent,
  method: string,
  url: string,
  headers: Record<string, string>,
  body?: string,
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      url,
      {
        method,
        agent,
        headers: body === undefined ? headers : { ...headers, 'Content-Length': String(Buffer.byteLength(body)) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export function expectOk(a: HttpAnswer, what: string): HttpAnswer {
  if (a.status < 200 || a.status >= 300) throw new Error(`${what}: HTTP ${a.status} ${a.body.slice(0, 200)}`);
  return a;
}

let temp: string | undefined;
/** One temp folder for the whole bench, removed when it ends (the runs' summaries go there). */
function benchTemp(): string {
  if (!temp) {
    const dir = mkdtempSync(path.join(tmpdir(), 'patrotate-bench-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    temp = dir;
  }
  return temp;
}

/** The environment runTask builds (INPUT_* from inputs, the emulator's CA, an agent temp dir). */
export function taskEnv(
  inputs: Record<string, string | number | boolean | undefined>,
  extra: Record<string, string>,
  caFile: string,
): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(INPUT_|AGENT_|SYSTEM_|ENDPOINT_|BUILD_|TASK_|SECRET_)/i.test(k)) env[k] = v;
  }
  for (const [k, v] of Object.entries(inputs)) if (v !== undefined) env[envName('INPUT_', k)] = String(v);
  env.AGENT_TEMPDIRECTORY = mkdtempSync(path.join(benchTemp(), 'agent-'));
  env.NODE_EXTRA_CA_CERTS = caFile;
  return Object.assign(env, extra);
}

export interface ChildRun {
  code: number | null;
  wallMs: number;
  /** Peak resident set size in MiB (from /usr/bin/time -v, else VmHWM polled from /proc). */
  peakRssMiB?: number;
  rssSource?: string;
  stdout: string;
  stderr: string;
}

/** Runs `node <script>` as a child and measures wall time (spawn → exit) and, when asked, peak RSS. */
export function runNode(script: string, env: Record<string, string>, measureRss = false): Promise<ChildRun> {
  const useTime = measureRss && existsSync('/usr/bin/time');
  const [cmd, args] = useTime ? ['/usr/bin/time', ['-v', process.execPath, script]] : [process.execPath, [script]];
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let hwmKiB = 0;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const poll =
      measureRss && !useTime ? setInterval(() => (hwmKiB = Math.max(hwmKiB, vmHwmKiB(child.pid))), 10) : undefined;
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      if (poll) clearInterval(poll);
      let peakRssMiB: number | undefined;
      let rssSource: string | undefined;
      if (useTime) {
        const m = /Maximum resident set size \(kbytes\): (\d+)/.exec(stderr);
        if (m) [peakRssMiB, rssSource] = [Number(m[1]) / 1024, '/usr/bin/time -v'];
      } else if (measureRss) {
        [peakRssMiB, rssSource] = [hwmKiB / 1024, 'VmHWM polled every 10 ms'];
      }
      resolve({ code, wallMs, peakRssMiB, rssSource, stdout, stderr });
    });
  });
}

function vmHwmKiB(pid: number | undefined): number {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const status = (require('node:fs') as typeof import('node:fs')).readFileSync(`/proc/${pid}/status`, 'utf8');
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

export const TASK_BUNDLE = BUNDLE;
