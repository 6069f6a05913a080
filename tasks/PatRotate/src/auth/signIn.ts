// Sign in to Entra as a user and return an Azure DevOps access token (plus the rotated refresh token).
import { InteractionRequiredAuthError, ServerError } from '@azure/msal-node';
import { useAccessToken } from './accessToken';
import { explainSignInError, SignInError } from './aadErrors';
import { byDeviceCode, byRefreshToken, byUsernamePassword } from './flows';
import { createMsalApp, type MsalApp } from './msalApp';
import type { HttpExchange } from './networkClient';
import { parseRetryAfter } from '../net/network';
import { sleep } from '../time';
import type { AuthMethod, SignedIn, SignInConfig, SignInDeps } from './types';

type Flow = (app: MsalApp, cfg: SignInConfig, deps: SignInDeps) => Promise<SignedIn>;

const FLOWS: Record<Exclude<AuthMethod, 'accessToken'>, Flow> = {
  refreshToken: byRefreshToken,
  deviceCode: byDeviceCode,
  usernamePassword: byUsernamePassword,
};

const MAX_RETRIES = 2;
const DEFAULT_RETRY_MS = 5_000;
const MAX_RETRY_MS = 60_000;

/** Signs in as config.ts checked `cfg` (every input rule lives there). */
export async function signIn(cfg: SignInConfig, deps: SignInDeps): Promise<SignedIn> {
  for (const secret of [cfg.refreshToken, cfg.password, cfg.clientSecret, cfg.accessToken]) {
    if (secret) deps.setSecret(secret);
  }
  if (cfg.method === 'accessToken') return useAccessToken(cfg.accessToken ?? '', deps);
  if (cfg.method === 'usernamePassword') {
    deps.warn(
      'The usernamePassword method fails as soon as MFA or Conditional Access applies to this user, and Microsoft is retiring it: ' +
        'prefer one deviceCode bootstrap, then the refreshToken method.',
    );
  }
  const flow = FLOWS[cfg.method];
  for (let retries = 0; ; retries++) {
    const seen: { lastFailure?: HttpExchange } = {};
    // A fresh client per attempt: MSAL refuses to resend a request that got a 429/5xx on the same client.
    const app = createMsalApp(cfg, deps, (x) => {
      if (x.networkError || (x.status !== undefined && (x.status < 200 || x.status >= 300))) seen.lastFailure = x;
    });
    try {
      return await flow(app, cfg, deps);
    } catch (err) {
      const wait = retries < MAX_RETRIES ? throttleDelay(err, seen.lastFailure, cfg.method) : undefined;
      if (wait === undefined) throw explainSignInError(err, cfg, seen.lastFailure);
      const what =
        seen.lastFailure?.status !== undefined
          ? `Entra answered HTTP ${seen.lastFailure.status}`
          : 'The connection to Entra broke';
      deps.info(`${what} (retry ${retries + 1} of ${MAX_RETRIES} in ${Math.round(wait / 1000)} s).`);
      await (deps.sleep ?? sleep)(wait);
    }
  }
}

/** Entra answers that mean "not now": throttled, or a server-side fault. Nothing was redeemed, so trying again is safe. */
const TRANSIENT_STATUS = new Set([429, 500, 502, 503, 504]);

/** A connection that broke or timed out (not one refused, unresolvable or untrusted: those are settings to fix). */
const BROKEN_CONNECTION = /ECONNRESET|ETIMEDOUT|ESOCKETTIMEDOUT|EPIPE|socket hang up|timed? ?out/i;
const NETWORK_RETRY_MS = 2_000;

/** Milliseconds to wait before retrying, or undefined when the failure is not transient. */
export function throttleDelay(
  err: unknown,
  lastFailure: HttpExchange | undefined,
  method?: AuthMethod,
): number | undefined {
  // A device-code sign-in started again would show the person a new code: only the non-interactive flows retry this.
  const net = lastFailure?.networkError;
  if (net && method !== 'deviceCode' && BROKEN_CONNECTION.test(`${net.code ?? ''} ${net.message}`))
    return NETWORK_RETRY_MS;
  const throttled = lastFailure?.status !== undefined && TRANSIENT_STATUS.has(lastFailure.status);
  const serverSide =
    (err instanceof ServerError && !(err instanceof InteractionRequiredAuthError)) ||
    (err instanceof Error && (err as { errorCode?: string }).errorCode === 'device_code_polling_cancelled');
  if (!throttled || !serverSide) return undefined;
  return retryAfterMs(lastFailure.retryAfter);
}

/** Retry-After in seconds or as an HTTP date; bounded so a bad header cannot stall the pipeline. */
export function retryAfterMs(header: string | undefined, now = Date.now()): number {
  return Math.min(parseRetryAfter(header, now) ?? DEFAULT_RETRY_MS, MAX_RETRY_MS);
}

export { SignInError, explainSignInError };
