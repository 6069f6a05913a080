// One source of HTTP options for every outgoing call (typed-rest-client for Azure DevOps, and MSAL's network
// client for Entra), so the agent's proxy, proxy bypass list and certificate settings apply everywhere alike.
import type { ICertConfiguration, IProxyConfiguration, IRequestOptions } from 'typed-rest-client/Interfaces';

export interface NetworkSettings {
  /** The proxy to use for this URL, or undefined to go direct (the agent's bypass list already applied). */
  proxyFor(url: string): IProxyConfiguration | undefined;
  /** CA bundle, client certificate and key from the agent (Agent.CAInfo, Agent.ClientCert…). */
  cert?: ICertConfiguration;
  /** Agent.SkipCertValidation */
  ignoreSslError: boolean;
  /** Socket timeout for one request, in milliseconds. */
  timeoutMs: number;
}

/** Direct connections, default CAs: for tests and tools that run outside an agent. */
export const directNetwork: NetworkSettings = {
  proxyFor: () => undefined,
  ignoreSslError: false,
  timeoutMs: 30_000,
};

/** typed-rest-client request options for calls to `url`. */
export function requestOptionsFor(settings: NetworkSettings, url: string): IRequestOptions {
  return {
    proxy: settings.proxyFor(url),
    cert: settings.cert,
    ignoreSslError: settings.ignoreSslError,
    socketTimeout: settings.timeoutMs,
    allowRetries: false, // retries are ours: they must honour Retry-After and never repeat a POST
    keepAlive: true,
  };
}

/** The URL without its query string: what logs and error messages may show (queries can carry ids and tokens). */
export function withoutQuery(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

/** Retry-After in seconds or as an HTTP date, in milliseconds from `now`; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | undefined, now: number = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
