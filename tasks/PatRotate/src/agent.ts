// The Agent (app/agent.ts) over azure-pipelines-task-lib: inputs, secrets, variables, the log, the job summary, the
// result, the agent's proxy and certificate settings, and its signals. The only module that imports task-lib.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import * as tl from 'azure-pipelines-task-lib/task';
import type { Agent, ServiceConnectionAuth, StopReason, TaskResult } from './app/agent';
import { UNDEFINED_MACRO } from './config';
import { REQUEST_TIMEOUT_VARIABLE, requestTimeoutMs, type NetworkSettings } from './net/network';

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
  // An undefined `$(Name)` comes through as that text: no secret, and masking it would hide the name in the error.
  if (value && !UNDEFINED_MACRO.test(value.trim())) maskSecret(value.trim());
  return value;
}

/**
 * The agent's proxy (with credentials and bypass list), CA bundle, client certificate and SSL settings, and the
 * per-request timeout from the PatRotate.RequestTimeoutSeconds variable (the total deadline is twice that).
 */
export function agentNetwork(): NetworkSettings {
  const timeoutMs = requestTimeoutMs(tl.getVariable(REQUEST_TIMEOUT_VARIABLE));
  const cert = quietly(() => tl.getHttpCertConfiguration()) ?? undefined;
  if (cert?.passphrase) maskSecret(cert.passphrase);
  let masked = false;
  return {
    proxyFor: (url) => {
      const proxy = quietly(() => tl.getHttpProxyConfiguration(url));
      if (proxy?.proxyPassword && !masked) {
        maskSecret(proxy.proxyPassword);
        masked = true;
      }
      return proxy
        ? {
            proxyUrl: proxy.proxyUrl,
            proxyUsername: proxy.proxyUsername,
            proxyPassword: proxy.proxyPassword,
            proxyBypassHosts: proxy.proxyBypassHosts,
          }
        : undefined;
    },
    cert,
    ignoreSslError: (tl.getVariable('Agent.SkipCertValidation') ?? '').toLowerCase() === 'true',
    timeoutMs,
  };
}

/** The job's own access token (System.AccessToken), for groupAuth: jobToken. */
function jobAccessToken(): string | undefined {
  const token = quietly(() => tl.getEndpointAuthorizationParameter('SystemVssConnection', 'AccessToken', true));
  if (token) maskSecret(token);
  return token || undefined;
}

/** Authorization parameters of an Azure Resource Manager connection that are secrets (compared case-insensitively). */
const SECRET_PARAMETERS = new Set(['serviceprincipalkey', 'serviceprincipalcertificate', 'certificatepassword']);

/** A connection the inputs reference; task-lib's getters echo values into the debug log, so they are read quietly. */
function serviceConnection(id: string): ServiceConnectionAuth | undefined {
  const scheme = quietly(() => tl.getEndpointAuthorizationScheme(id, true));
  if (!scheme) return undefined;
  return {
    scheme,
    parameter: (name) => {
      const value = quietly(() => tl.getEndpointAuthorizationParameter(id, name, true));
      if (value && SECRET_PARAMETERS.has(name.toLowerCase())) maskSecret(value);
      return value || undefined;
    },
    data: (name) => quietly(() => tl.getEndpointDataParameter(id, name, true)) || undefined,
  };
}

/** The agent of a real pipeline run. */
export function taskLibAgent(): Agent {
  const results = {
    succeeded: tl.TaskResult.Succeeded,
    succeededWithIssues: tl.TaskResult.SucceededWithIssues,
    failed: tl.TaskResult.Failed,
  };
  return {
    input: readInput,
    variable: (name) => tl.getVariable(name),
    print: (line) => console.log(line),
    debug: (text) => tl.debug(text),
    warning: (text) => tl.warning(text),
    setSecret: maskSecret,
    setVariable: (name, value, secret, isOutput) => tl.setVariable(name, value, secret, isOutput),
    uploadSummary,
    uploadFile: (file) => tl.uploadFile(file),
    complete: (result: TaskResult, message: string) => tl.setResult(results[result], message),
    network: () => agentNetwork(),
    jobAccessToken,
    serviceConnection,
    onStop,
    exit: (code) => {
      process.stdout.write('', () => process.exit(code));
    },
  };
}

/**
 * Masks a value. task-lib refuses a value with a line break (it throws): each line is masked instead, so an odd
 * value from a server can never stop the run between receiving a token and recording it.
 */
function maskSecret(value: string): void {
  for (const line of value.split(/\r\n|\r|\n/)) if (line.trim()) tl.setSecret(line);
}

/** Publishes markdown on the run's summary page (task.uploadsummary needs a file). */
function uploadSummary(markdown: string): void {
  const dir = tl.getVariable('Agent.TempDirectory') || os.tmpdir();
  const file = path.join(dir, `PatRotate-summary-${process.pid}-${Date.now()}.md`);
  fs.writeFileSync(file, markdown, 'utf8');
  tl.uploadSummary(file);
}

/**
 * Calls `handler` on a cancel (the agent sends SIGINT, then SIGTERM, then kills the process) and on an error nothing
 * else caught. task-lib's own handlers are removed: they would fail the task as "Unhandled" before anything is undone.
 */
function onStop(handler: (reason: StopReason) => void): void {
  process.removeAllListeners('uncaughtException');
  process.removeAllListeners('unhandledRejection');
  process.on('SIGINT', () => handler({ signal: 'SIGINT' }));
  process.on('SIGTERM', () => handler({ signal: 'SIGTERM' }));
  process.on('uncaughtException', (error) => handler({ error }));
  process.on('unhandledRejection', (error) => handler({ error }));
}
