// An in-memory Agent: the task's application code runs in the test process, and what it tells the agent is written
// as the lines task-lib would print (same command format and escaping), so runs parse and scan exactly like those of
// the real bundle. Inputs and variables come from an environment map with task-lib's names (INPUT_X, SYSTEM_TEAMPROJECT).
import type { Agent, ServiceConnectionAuth, StopReason, TaskResult } from '../../tasks/PatRotate/src/app/agent';
import {
  REQUEST_TIMEOUT_VARIABLE,
  requestTimeoutMs,
  type NetworkSettings,
} from '../../tasks/PatRotate/src/net/network';
import { envName } from './runTask';
import { UNDEFINED_MACRO } from '../../tasks/PatRotate/src/config';

/** Inputs that carry secrets: the real agent masks them as it reads them (tasks/PatRotate/src/agent.ts). */
const SECRET_INPUTS = new Set(['refreshToken', 'password', 'clientSecret', 'accessToken']);
/** Connection parameters the real agent masks as it reads them (tasks/PatRotate/src/agent.ts). */
const SECRET_PARAMETERS = new Set(['serviceprincipalkey', 'serviceprincipalcertificate', 'certificatepassword']);

/** task-lib's escaping of command data, and of property values. */
const escapeData = (s: string) => s.replace(/%/g, '%AZP25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
const escapeProp = (s: string) => escapeData(s).replace(/]/g, '%5D').replace(/;/g, '%3B');

const RESULT: Record<TaskResult, string> = {
  succeeded: 'Succeeded',
  succeededWithIssues: 'SucceededWithIssues',
  failed: 'Failed',
};

export class FakeAgent implements Agent {
  private readonly out: string[] = [];
  private stopHandler?: (reason: StopReason) => void;
  readonly summaryTexts: string[] = [];
  exitCode?: number;

  /** `env`: the process environment the agent would give the task (INPUT_*, SYSTEM_*, AGENT_*, ENDPOINT_*). */
  constructor(
    private readonly env: Readonly<Record<string, string>>,
    private readonly caFile?: string,
  ) {}

  /** Everything the task printed, as one stdout text. */
  get stdout(): string {
    return this.out.map((l) => `${l}\n`).join('');
  }

  /** As the agent does on a cancel. */
  signal(name: 'SIGINT' | 'SIGTERM'): void {
    this.stopHandler?.({ signal: name });
  }

  input(name: string): string | undefined {
    const value = this.env[envName('INPUT_', name)]?.trim();
    if (value && SECRET_INPUTS.has(name) && !UNDEFINED_MACRO.test(value)) this.setSecret(value);
    return value || undefined;
  }

  variable(name: string): string | undefined {
    return this.env[envName('', name)] ?? this.env[envName('SECRET_', name)];
  }

  print(line: string): void {
    this.out.push(line);
  }

  debug(text: string): void {
    this.out.push(`##vso[task.debug]${escapeData(text)}`);
  }

  warning(text: string): void {
    this.out.push(`##vso[task.issue type=warning;source=TaskInternal;]${escapeData(text)}`);
  }

  /** As agent.ts: one mask per line (task-lib itself refuses a value with a line break). */
  setSecret(value: string): void {
    for (const line of value.split(/\r\n|\r|\n/))
      if (line.trim()) this.out.push(`##vso[task.setsecret]${escapeData(line)}`);
  }

  /** task-lib refuses a secret variable whose value has a line break; so does this fake. */
  private static refuseMultiline(name: string, value: string, secret: boolean): void {
    if (secret && /[\r\n]/.test(value)) throw new Error(`Secrets cannot contain multiple lines (${name})`);
  }

  setVariable(name: string, value: string, secret: boolean, isOutput: boolean): void {
    FakeAgent.refuseMultiline(name, value, secret);
    this.out.push(
      `##vso[task.setvariable variable=${escapeProp(name)};isOutput=${isOutput};issecret=${secret};]${escapeData(value)}`,
    );
  }

  uploadSummary(markdown: string): void {
    this.summaryTexts.push(markdown);
    this.out.push(`##vso[task.uploadsummary]in-memory-summary-${this.summaryTexts.length}.md`);
  }

  /** Files attached to the run, in order. */
  readonly uploadedFiles: string[] = [];

  uploadFile(path: string): void {
    this.uploadedFiles.push(path);
    this.out.push(`##vso[task.uploadfile]${escapeData(path)}`);
  }

  complete(result: TaskResult, message: string): void {
    if (result === 'failed') this.out.push(`##vso[task.issue type=error;source=TaskInternal;]${escapeData(message)}`);
    this.out.push(`##vso[task.complete result=${RESULT[result]};]${escapeData(message)}`);
  }

  /** As agent.ts reads them: the proxy (with its bypass list), the CA file (here the emulator's), SkipCertValidation, the timeout. */
  network(): NetworkSettings {
    const proxyUrl = this.variable('Agent.ProxyUrl');
    const proxyPassword = this.variable('Agent.ProxyPassword');
    if (proxyPassword) this.setSecret(proxyPassword);
    const bypass = (JSON.parse(this.variable('Agent.ProxyBypassList') ?? '[]') as string[]).map(
      (p) => new RegExp(p, 'i'),
    );
    return {
      proxyFor: (url) =>
        proxyUrl && !bypass.some((re) => re.test(url))
          ? { proxyUrl, proxyUsername: this.variable('Agent.ProxyUsername'), proxyPassword, proxyBypassHosts: [] }
          : undefined,
      cert: this.caFile ? { caFile: this.caFile } : undefined,
      ignoreSslError: (this.variable('Agent.SkipCertValidation') ?? '').toLowerCase() === 'true',
      timeoutMs: requestTimeoutMs(this.variable(REQUEST_TIMEOUT_VARIABLE)),
    };
  }

  jobAccessToken(): string | undefined {
    const token = this.env.ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN;
    if (token) this.setSecret(token);
    return token || undefined;
  }

  /** As task-lib reads them: ENDPOINT_AUTH_SCHEME_<id>, ENDPOINT_AUTH_PARAMETER_<id>_<NAME>, ENDPOINT_DATA_<id>_<NAME>. */
  serviceConnection(id: string): ServiceConnectionAuth | undefined {
    const scheme = this.env[`ENDPOINT_AUTH_SCHEME_${id}`];
    if (!scheme) return undefined;
    return {
      scheme,
      parameter: (name) => {
        const value = this.env[`ENDPOINT_AUTH_PARAMETER_${id}_${name.toUpperCase()}`];
        if (value && SECRET_PARAMETERS.has(name.toLowerCase())) this.setSecret(value);
        return value || undefined;
      },
      data: (name) => this.env[`ENDPOINT_DATA_${id}_${name.toUpperCase()}`] || undefined,
    };
  }

  onStop(handler: (reason: StopReason) => void): void {
    this.stopHandler = handler;
  }

  exit(code: number): void {
    this.exitCode = code;
  }
}
