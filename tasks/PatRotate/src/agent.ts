// The one seam to the agent (azure-pipelines-task-lib): inputs, secrets, variables, log structure, the job summary,
// and the agent's proxy and certificate settings. Everything else in the task takes plain arguments.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import * as tl from 'azure-pipelines-task-lib/task';
import type { InputSource } from './config';
import { REQUEST_TIMEOUT_VARIABLE, requestTimeoutMs, type NetworkSettings } from './net/network';

/** Strings come from task.json's `messages` (localizable through task.loc.json), beside the bundled index.js. */
export function initStrings(): void {
  tl.setResourcePath(path.join(__dirname, 'task.json'));
}

export function loc(key: string, ...args: (string | number)[]): string {
  return tl.loc(key, ...args);
}

/** Inputs that carry secrets: read without task-lib's debug echo of the value, and masked at once. */
const SECRET_INPUTS = new Set(['refreshToken', 'password', 'clientSecret', 'accessToken']);
const discard = new Writable({ write: (_chunk, _enc, done) => done() });

/** Runs `read` with task-lib's stdout muted: its getters echo values (`##vso[task.debug]name=value`) before we could mask them. */
function quietly<T>(read: () => T): T {
  tl.setStdStream(discard);
  try {
    return read();
  } finally {
    tl.setStdStream(process.stdout);
  }
}

function readInput(name: string): string | undefined {
  if (!SECRET_INPUTS.has(name)) return tl.getInput(name, false);
  const value = quietly(() => tl.getInput(name, false));
  if (value) tl.setSecret(value.trim());
  return value;
}

export const agentInputs: InputSource = {
  input: readInput,
  variable: (name) => tl.getVariable(name),
};

/**
 * The agent's proxy (with credentials and bypass list), CA bundle, client certificate and SSL settings, and the
 * per-request timeout from the PatRotate.RequestTimeoutSeconds variable (the total deadline is twice that).
 */
export function agentNetwork(): NetworkSettings {
  const timeoutMs = requestTimeoutMs(tl.getVariable(REQUEST_TIMEOUT_VARIABLE));
  const cert = quietly(() => tl.getHttpCertConfiguration()) ?? undefined;
  if (cert?.passphrase) tl.setSecret(cert.passphrase);
  let masked = false;
  return {
    proxyFor: (url) => {
      const proxy = quietly(() => tl.getHttpProxyConfiguration(url));
      if (proxy?.proxyPassword && !masked) {
        tl.setSecret(proxy.proxyPassword);
        masked = true;
      }
      return proxy ? { proxyUrl: proxy.proxyUrl, proxyUsername: proxy.proxyUsername, proxyPassword: proxy.proxyPassword, proxyBypassHosts: proxy.proxyBypassHosts } : undefined;
    },
    cert,
    ignoreSslError: (tl.getVariable('Agent.SkipCertValidation') ?? '').toLowerCase() === 'true',
    timeoutMs,
  };
}

/** The job's own access token (System.AccessToken), for groupAuth: jobToken. */
export function jobAccessToken(): string | undefined {
  const token = quietly(() => tl.getEndpointAuthorizationParameter('SystemVssConnection', 'AccessToken', true));
  if (token) tl.setSecret(token);
  return token || undefined;
}

export const log = {
  info: (text: string): void => console.log(text),
  debug: (text: string): void => tl.debug(text),
  /** A warning shows on the run summary. */
  warn: (text: string): void => tl.warning(text),
  /** Red in the log only: the failure itself reaches the run summary once, through the task result. */
  errorLine: (text: string): void => console.log(`##[error]${text}`),
  section: (text: string): void => console.log(`##[section]${text}`),
  group: (text: string): void => console.log(`##[group]${text}`),
  endGroup: (): void => console.log('##[endgroup]'),
};

export const secrets = {
  /** Masks the value in every later line of the log. Call before anything could print it. */
  setSecret: (value: string): void => {
    if (value) tl.setSecret(value);
  },
  setVariable: (name: string, value: string, secret: boolean, isOutput: boolean): void => tl.setVariable(name, value, secret, isOutput),
};

/** Publishes markdown on the run's summary page (task.uploadsummary needs a file). */
export function uploadSummary(markdown: string): void {
  const dir = tl.getVariable('Agent.TempDirectory') || os.tmpdir();
  const file = path.join(dir, `PatRotate-summary-${process.pid}-${Date.now()}.md`);
  fs.writeFileSync(file, markdown, 'utf8');
  tl.uploadSummary(file);
}

export function fail(message: string): void {
  tl.setResult(tl.TaskResult.Failed, message);
}

export function finish(result: 'succeeded' | 'succeededWithIssues' | 'failed', message: string): void {
  const map = { succeeded: tl.TaskResult.Succeeded, succeededWithIssues: tl.TaskResult.SucceededWithIssues, failed: tl.TaskResult.Failed };
  tl.setResult(map[result], message);
}
