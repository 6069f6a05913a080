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
  /** Idle socket timeout for one request, in milliseconds (PatRotate.RequestTimeoutSeconds). */
  timeoutMs: number;
  /**
   * Total time one request may take, connect to last body byte, in milliseconds: a server that drips a byte now
   * and then never trips the idle timeout. Default: twice timeoutMs.
   */
  deadlineMs?: number;
}

/** Direct connections, default CAs: for tests and tools that run outside an agent. */
export const directNetwork: NetworkSettings = {
  proxyFor: () => undefined,
  ignoreSslError: false,
  timeoutMs: 30_000,
};

export const REQUEST_TIMEOUT_VARIABLE = 'PatRotate.RequestTimeoutSeconds';
export const DEFAULT_REQUEST_TIMEOUT_SECONDS = 30;

/**
 * The idle timeout per request from the PatRotate.RequestTimeoutSeconds variable: a plain decimal integer 1–600,
 * 30 when unset. The total deadline per request is twice this.
 */
export function requestTimeoutMs(value: string | undefined): number {
  const text = (value ?? '').trim();
  if (text === '') return DEFAULT_REQUEST_TIMEOUT_SECONDS * 1000;
  const seconds = /^\d{1,4}$/.test(text) ? Number(text) : NaN;
  if (!(seconds >= 1 && seconds <= 600)) {
    throw new Error(
      `The variable ${REQUEST_TIMEOUT_VARIABLE} must be a whole number of seconds from 1 to 600, got "${text.slice(0, 20)}".`,
    );
  }
  return seconds * 1000;
}

/** The total deadline per request (see NetworkSettings.deadlineMs). */
export function deadlineMs(settings: NetworkSettings): number {
  return settings.deadlineMs ?? 2 * settings.timeoutMs;
}

/** typed-rest-client request options for calls to `url`. */
export function requestOptionsFor(settings: NetworkSettings, url: string): IRequestOptions {
  return {
    proxy: settings.proxyFor(url),
    cert: settings.cert,
    ignoreSslError: settings.ignoreSslError,
    socketTimeout: settings.timeoutMs,
    allowRetries: false, // retries are ours: they must honour Retry-After and never repeat a POST
    allowRedirects: false, // a redirect would carry the Authorization header or the credentials in the body elsewhere
    keepAlive: true,
  };
}

/** Network error codes of a connection that never reached the server: nothing it carried can have been applied. */
export const NEVER_SENT_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

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
