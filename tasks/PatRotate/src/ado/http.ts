// The one door to Azure DevOps over HTTP: auth headers, JSON in and out, retries that honour Retry-After and
// never repeat a POST that may have been applied, and every failure turned into an AdoError (see errors.ts).
import { boundedExchange, redirectHost } from '../net/bounded';
import { deadlineMs, parseRetryAfter, withoutQuery, type NetworkSettings } from '../net/network';
import { OriginClients } from '../net/originClients';
import {
  AdoError,
  asVssErrorBody,
  errorFromNetwork,
  errorFromStatus,
  redirectError,
  scrub,
  signInPageError,
} from './errors';
import type { Credential } from './types';
import { sleep } from '../time';

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RetryPolicy {
  /** Attempts in all, the first one included. */
  maxAttempts: number;
  /** No new attempt starts once waiting would take the call past this many milliseconds. */
  maxTotalMs: number;
  /** First backoff delay; doubled per attempt, with jitter, unless the server sends Retry-After. */
  baseDelayMs: number;
  /** Upper bound of one computed backoff delay (Retry-After may ask for more, within maxTotalMs). */
  maxDelayMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** 0 ≤ x < 1; injectable so tests can pin the jitter. */
  random?: () => number;
}

export const defaultRetryPolicy: RetryPolicy = {
  maxAttempts: 5,
  maxTotalMs: 60_000,
  baseDelayMs: 1_000,
  maxDelayMs: 30_000,
};

export interface RetryInfo {
  method: HttpMethod;
  /** URL without its query string. */
  url: string;
  /** The attempt that just failed (1-based). */
  attempt: number;
  delayMs: number;
  /** e.g. "HTTP 429" or "network error". */
  reason: string;
}

export interface AdoHttpOptions {
  retry?: Partial<RetryPolicy>;
  /** Called before each wait, so the task can log "retrying after HTTP 429 in 2 s". */
  onRetry?: (info: RetryInfo) => void;
  userAgent?: string;
  /** Secrets of the run (tokens, new PAT values) to cut from server messages; read at each answer, so it may grow. */
  secrets?: Iterable<string>;
}

export interface SendOptions {
  credential: Credential;
  body?: unknown;
  /** Set false to make exactly one attempt. A POST is retried only after a 429 either way. */
  allowRetry?: boolean;
}

/** A 2xx answer: the parsed JSON body (undefined when empty) and the response headers (names lower-case). */
export interface Answer<T> {
  body: T | undefined;
  headers: Readonly<Record<string, string | string[] | undefined>>;
}

export class AdoHttp {
  private readonly clients: OriginClients;
  private readonly policy: Required<RetryPolicy>;

  constructor(
    private readonly network: NetworkSettings,
    private readonly options: AdoHttpOptions = {},
  ) {
    this.clients = new OriginClients(network, options.userAgent ?? 'PatRotate/1');
    const p = { ...defaultRetryPolicy, ...options.retry };
    this.policy = {
      maxAttempts: Math.max(1, p.maxAttempts),
      maxTotalMs: p.maxTotalMs,
      baseDelayMs: p.baseDelayMs,
      maxDelayMs: p.maxDelayMs ?? 30_000,
      sleep: p.sleep ?? sleep,
      random: p.random ?? Math.random,
    };
  }

  /** Sends one request (plus retries) and returns the parsed JSON body, or undefined for an empty 2xx. */
  async send<T>(method: HttpMethod, url: string, opts: SendOptions): Promise<T | undefined> {
    return (await this.exchange<T>(method, url, opts)).body;
  }

  /** As send, and the answer's headers too (e.g. Graph's X-MS-ContinuationToken), lower-cased. */
  async exchange<T>(method: HttpMethod, url: string, opts: SendOptions): Promise<Answer<T>> {
    // A POST is repeated only after a 429: a throttled request was refused unread, while a 5xx or a lost answer may
    // hide a PAT that was created (the executor's lost-create recovery handles those).
    const mayRetry = (e: AdoError) => opts.allowRetry !== false && (method !== 'POST' || e.status === 429);
    const started = Date.now();
    let slept = 0;
    let unanswered = false;
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.attempt<T>(method, url, opts);
      } catch (caught) {
        // Sent, and no answer came back: that attempt may still land, whatever later attempts answer.
        if (caught instanceof AdoError && caught.unanswered) unanswered = true;
        const e =
          caught instanceof AdoError && unanswered && !caught.unanswered
            ? new AdoError(caught.kind, caught.message, { ...caught, unanswered })
            : caught;
        if (!(e instanceof AdoError) || !e.retryable || !mayRetry(e) || attempt >= this.policy.maxAttempts) throw e;
        const delayMs = e.retryAfterMs ?? this.backoff(attempt);
        // Fake sleeps do not move the clock, so the time spent sleeping counts on its own too.
        const elapsed = Math.max(Date.now() - started, slept);
        if (elapsed + delayMs > this.policy.maxTotalMs) throw e;
        this.options.onRetry?.({
          method,
          url: withoutQuery(url),
          attempt,
          delayMs,
          reason: e.status !== undefined ? `HTTP ${e.status}` : 'network error',
        });
        await this.policy.sleep(delayMs);
        slept += delayMs;
      }
    }
  }

  /** Closes keep-alive sockets. */
  dispose(): void {
    this.clients.dispose();
  }

  private backoff(failedAttempt: number): number {
    const exp = Math.min(this.policy.baseDelayMs * 2 ** (failedAttempt - 1), this.policy.maxDelayMs);
    return Math.round(exp * (0.5 + this.policy.random() / 2)); // jitter: 50–100 % of the exponential step
  }

  private async attempt<T>(method: HttpMethod, url: string, opts: SendOptions): Promise<Answer<T>> {
    const where = `${method} ${withoutQuery(url)}`;
    const mutating = method !== 'GET';
    const headers: Record<string, string> = {
      Accept: 'application/json',
      'X-TFS-FedAuthRedirect': 'Suppress', // ask for 401 instead of a redirect to the sign-in page
      Authorization: authorizationHeader(opts.credential),
    };
    let data = '';
    if (opts.body !== undefined) {
      headers['Content-Type'] = 'application/json; charset=utf-8';
      data = JSON.stringify(opts.body);
    }
    let status: number;
    let contentType: string;
    let text: string;
    let retryAfter: string | undefined;
    let location: string | string[] | undefined;
    let answerHeaders: Answer<T>['headers'];
    try {
      const { client, handler } = this.clients.for(url);
      const res = await boundedExchange(client, handler, method, url, data, headers, {
        deadlineMs: deadlineMs(this.network),
      });
      status = res.status;
      contentType = String(res.headers['content-type'] ?? '');
      retryAfter = res.headers['retry-after'];
      location = res.headers.location;
      answerHeaders = res.headers;
      text = res.text;
    } catch (err) {
      throw errorFromNetwork(err, where, mutating);
    }
    // A server may quote what it was sent (a PAT in a group body): every secret the run knows is cut from its text.
    const secrets = [opts.credential.token, ...(this.options.secrets ?? [])];
    const looksHtml = /text\/html/i.test(contentType) || /^\s*</.test(text);
    // Redirects are never followed (they would carry the Authorization header along); Azure DevOps redirects only
    // to its sign-in page, so anything else is named as a redirect.
    if (status >= 300 && status < 400) {
      const host = redirectHost(location, url);
      throw isSignInRedirect(location, url) ? signInPageError(where, status, host) : redirectError(where, status, host);
    }
    // Azure DevOps sends its sign-in page (203 or HTML) when it does not accept the token.
    // HTML with an error status (e.g. a gateway's 503 page) is judged by its status below.
    if (status === 203 || (looksHtml && (status < 300 || status === 401))) {
      throw signInPageError(where, status);
    }
    if (status >= 200 && status < 300) return { body: parseSuccess<T>(text, where, mutating), headers: answerHeaders };

    let parsed: unknown;
    try {
      parsed = text.trim() === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined; // a non-JSON error body tells us nothing more than its status
    }
    const body = asVssErrorBody(parsed);
    if (body?.message) body.message = scrub(body.message, secrets);
    if (body?.patTokenErrorMessage) body.patTokenErrorMessage = scrub(body.patTokenErrorMessage, secrets);
    throw errorFromStatus(status, body, where, mutating, parseRetryAfter(retryAfter));
  }
}

/** A redirect to Microsoft's sign-in pages (or one without a Location): Azure DevOps did not accept the token. */
function isSignInRedirect(location: string | string[] | undefined, from: string): boolean {
  const value = Array.isArray(location) ? location[0] : location;
  if (!value) return true;
  try {
    const to = new URL(value, from);
    return (
      /(^|\.)(visualstudio\.com|microsoftonline\.com|live\.com)$/i.test(to.hostname) || /\/_signin\b/i.test(to.pathname)
    );
  } catch {
    return false;
  }
}

function parseSuccess<T>(text: string, where: string, mutating: boolean): T | undefined {
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as T;
  } catch {
    // A write answered 2xx was applied, but whatever it returned (e.g. a new PAT) is lost.
    throw new AdoError('protocol', `${where} answered 2xx with a body that is not valid JSON`, {
      lostResponse: mutating,
    });
  }
}

export function authorizationHeader(credential: Credential): string {
  return credential.kind === 'bearer'
    ? `Bearer ${credential.token}`
    : `Basic ${Buffer.from(`:${credential.token}`, 'utf8').toString('base64')}`;
}
