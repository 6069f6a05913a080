// Entra / MSAL failures → one line: cause and fix. Keyed on the AADSTS number first (MSAL classifies by the
// error/suberror strings, which Entra does not send consistently), then on error/suberror, then on the network.
import { AuthError } from '@azure/msal-node';
import { REDIRECT_REFUSED, type HttpExchange } from './networkClient';
import type { SignInConfig } from './types';
import { errorMessage } from '../errorMessage';

export class SignInError extends Error {
  override readonly name = 'SignInError';
  /** 'AADSTS700082', 'network', 'tls', 'device_code_expired', 'config', … */
  constructor(
    readonly code: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** What to do about a refresh token that no longer works: a new bootstrap, saved where the runs read it. */
const rtAgain = (cfg: SignInConfig): string =>
  cfg.refreshTokenHome
    ? `run the deviceCode bootstrap again with refreshTokenSecret, which saves the new refresh token in ${cfg.refreshTokenHome}`
    : 'run the deviceCode bootstrap again and store the new refresh token in the variable named by the refreshTokenVariable input';
const MFA_FIX = 'sign in once with the deviceCode method (it can do MFA), then use the refreshToken method';

type Explain = (cfg: SignInConfig) => string;

const BY_AADSTS: Record<string, Explain> = {
  '700082': (cfg) => `The refresh token has expired (unused for 90 days, or past its maximum age): ${rtAgain(cfg)}.`,
  '70000': (cfg) =>
    `The refresh token or grant is invalid: it was already redeemed (each use rolls it, only the newest works), revoked, or issued for another client: ${rtAgain(cfg)}.`,
  '9002313': (cfg) =>
    `The refresh token is invalid, already used (each use rolls it, only the newest works) or revoked: ${rtAgain(cfg)}.`,
  '50173': (cfg) => `The refresh token was revoked (password change or an admin's "revoke sessions"): ${rtAgain(cfg)}.`,
  '50076': () => `Multi-factor authentication is required, which this non-interactive method cannot do: ${MFA_FIX}.`,
  '50079': () => `The user must register for or complete multi-factor authentication: ${MFA_FIX}.`,
  '50158': () =>
    `An external security challenge (MFA, Conditional Access) must be satisfied interactively: ${MFA_FIX}.`,
  '65001': (c) =>
    `The user or an admin has not consented to app ${c.clientId} using Azure DevOps: an admin grants consent at ${adminConsentUrl(c)} (or Enterprise applications → the app → Permissions → Grant admin consent); a user may consent once by running the deviceCode bootstrap.`,
  '7000218': (c) =>
    `App registration ${c.clientId} does not allow public client flows: enable "Allow public client flows" (Authentication blade) or give a clientSecret.`,
  '7000215': (c) =>
    `The client secret is invalid for app ${c.clientId} (wrong value, expired, or given for a public client app that needs none): ${c.clientSecret ? 'fix or remove the clientSecret input' : 'check the app registration'}.`,
  '7000222': (c) =>
    `The client secret of app ${c.clientId} has expired: create a new one and update the clientSecret input.`,
  '700016': (c) =>
    `App ${c.clientId} was not found in tenant ${c.tenantId}: check the clientId and tenantId inputs (a single-tenant app needs its own tenantId, not 'organizations').`,
  '50126': () =>
    'Wrong username or password (or the account is federated to another identity provider, which this method cannot use): check the inputs, or use the deviceCode bootstrap and refreshToken.',
  '50034': () => 'The user account does not exist in this tenant: check the username and tenantId inputs.',
  '50053': () => 'The account is locked after too many failed sign-ins: wait, or ask an admin to unlock it.',
  '50055': () => 'The password has expired: reset it, then run the deviceCode bootstrap again.',
  '50057': () => 'The user account is disabled: use an enabled account.',
  '53003': () =>
    'Conditional Access blocked this sign-in (for example location, device or app rules): ask the tenant admin to allow it for this user and app, then sign in again.',
  '90002': (c) =>
    `Tenant ${c.tenantId} was not found: check the tenantId input (a tenant GUID or a verified domain; 'organizations' also works).`,
  '90033': () => 'Entra was unavailable or throttled this client: try again later.',
  '700084': (cfg) => `The refresh token was issued to a single-page app and cannot be used here: ${rtAgain(cfg)}.`,
  '50058': () => `Entra has no signed-in session for this user: ${MFA_FIX}.`,
  '700003': (cfg) => `The device or session behind the refresh token no longer exists: ${rtAgain(cfg)}.`,
  '50196': () =>
    'Entra detected a client loop (too many identical sign-ins): wait a few minutes and run the task less often.',
};

const BY_ERROR: Record<string, Explain> = {
  consent_required: BY_AADSTS['65001'],
  basic_action: BY_AADSTS['50076'],
  additional_action: BY_AADSTS['50076'],
  interaction_required: () => `Entra requires an interactive sign-in (MFA, Conditional Access or consent): ${MFA_FIX}.`,
  login_required: (cfg) => `Entra requires a new sign-in: ${rtAgain(cfg)}.`,
  bad_token: (cfg) => `The refresh token is invalid or expired: ${rtAgain(cfg)}.`,
  user_password_expired: BY_AADSTS['50055'],
  authorization_declined: () =>
    'The device code sign-in was declined by the user: run the task again and approve the sign-in.',
  expired_token: () =>
    'The device code expired before anyone signed in: run the task again and enter the code shown in the warning within its lifetime.',
  bad_verification_code: () => 'Entra did not recognise the device code: run the task again.',
  device_code_expired: () =>
    'The device code expired before anyone signed in: run the task again and enter the code shown in the warning within its lifetime.',
  user_timeout_reached: () =>
    'Nobody completed the device code sign-in within deviceCodeTimeoutMinutes: run the task again, open the URL and enter the code shown in the warning, or raise deviceCodeTimeoutMinutes.',
  device_code_polling_cancelled: () =>
    'The device code endpoint returned no user code: check the clientId and tenantId inputs and that the app allows public client flows.',
  unauthorized_client: (c) =>
    `App ${c.clientId} may not use this flow in tenant ${c.tenantId}: check clientId/tenantId and, for deviceCode or usernamePassword, "Allow public client flows".`,
  invalid_client: (c) =>
    `Entra rejected client ${c.clientId}: check the clientId input, and give a clientSecret only for an app that is not a public client.`,
  invalid_grant: (c) =>
    c.method === 'usernamePassword'
      ? `Entra rejected the username/password sign-in: check the inputs, or ${MFA_FIX}.`
      : c.method === 'deviceCode'
        ? 'Entra rejected the device code: run the task again.'
        : `Entra rejected the refresh token: ${rtAgain(c)}.`,
  temporarily_unavailable: () => 'Entra is temporarily unavailable or throttling: try again later.',
  http_429: () => 'Entra throttled the sign-in (HTTP 429) even after retries: run the task again later.',
  http_503: () => 'Entra was unavailable (HTTP 503) even after retries: run the task again later.',
};

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_UNTRUSTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_NOT_YET_VALID',
]);

export function adminConsentUrl(cfg: Pick<SignInConfig, 'authorityHost' | 'tenantId' | 'clientId'>): string {
  const tenant = cfg.tenantId === 'organizations' || cfg.tenantId === 'common' ? 'organizations' : cfg.tenantId;
  return `${cfg.authorityHost.replace(/\/+$/, '')}/${tenant}/adminconsent?client_id=${encodeURIComponent(cfg.clientId)}`;
}

/** `lastFailure` is the last non-2xx or failed request MSAL made: its details often never reach MSAL's error. */
export function explainSignInError(err: unknown, cfg: SignInConfig, lastFailure?: HttpExchange): SignInError {
  if (err instanceof SignInError) return err;
  const e = err instanceof AuthError ? err : undefined;
  if (e?.errorCode === REDIRECT_REFUSED) return new SignInError('redirect', redact(e.errorMessage), { cause: err });
  const no = aadstsNumber(e, lastFailure);
  const tag = no ? `AADSTS${no}` : undefined;
  if (no && BY_AADSTS[no]) return new SignInError(tag!, `${tag}: ${BY_AADSTS[no](cfg)}`, { cause: err });
  const net = lastFailure?.networkError;
  if (!no && net && (!e || ['network_error', 'endpoints_resolution_error'].includes(e.errorCode)))
    return networkError(net, lastFailure, cfg, err);
  const key = [
    e?.subError,
    e?.errorCode,
    e?.errorCode === 'post_request_failed' ? e.errorMessage : undefined,
    lastFailure?.error,
  ].find((k): k is string => !!k && k in BY_ERROR);
  if (key) return new SignInError(tag ?? key, `${tag ? `${tag}: ` : ''}${BY_ERROR[key](cfg)} [${key}]`, { cause: err });
  if (tag) {
    const text = serverDescription(e) ?? e?.errorCode ?? 'sign-in failed';
    return new SignInError(tag, `${tag}: ${text} (see https://login.microsoftonline.com/error?code=${no}).`, {
      cause: err,
    });
  }
  if (e?.errorCode === 'endpoints_resolution_error') {
    const status = lastFailure?.status ? ` (HTTP ${lastFailure.status} from ${lastFailure.url})` : '';
    return new SignInError(
      'authority',
      `Could not read the OpenID configuration of ${cfg.authorityHost}/${cfg.tenantId}${status}: check the authorityHost and tenantId inputs.`,
      { cause: err },
    );
  }
  if (e?.errorCode === 'token_parsing_error') {
    return new SignInError(
      'not_json',
      `Entra's answer was not JSON (${redact(e.errorMessage)}): a proxy or firewall may be answering instead of ${cfg.authorityHost}.`,
      { cause: err },
    );
  }
  const what = e
    ? `${e.errorCode}${e.subError ? `/${e.subError}` : ''}: ${redact(e.errorMessage)}`
    : redact(errorMessage(err));
  return new SignInError(e?.errorCode || 'unknown', `Sign-in (${cfg.method}) failed: ${what}`, { cause: err });
}

function aadstsNumber(e: AuthError | undefined, lastFailure?: HttpExchange): string | undefined {
  // Typed as string, but MSAL copies error_codes[0] from the JSON: usually a number.
  const errorNo = (e as { errorNo?: string | number } | undefined)?.errorNo;
  if (errorNo !== undefined && /^\d+$/.test(`${errorNo}`)) return `${errorNo}`;
  const inText = /AADSTS(\d+)/.exec(e?.errorMessage ?? '')?.[1];
  if (inText) return inText;
  // MSAL drops the description of device-code polling errors and of failed discovery: take it off the wire.
  const fromWire = lastFailure?.errorCodes?.[0];
  const lostByMsal =
    !e || ['post_request_failed', 'endpoints_resolution_error', 'device_code_polling_cancelled'].includes(e.errorCode);
  return fromWire !== undefined && lostByMsal ? String(fromWire) : undefined;
}

function networkError(
  net: NonNullable<HttpExchange['networkError']>,
  at: HttpExchange | undefined,
  cfg: SignInConfig,
  cause: unknown,
): SignInError {
  const host = at ? new URL(at.url).host : cfg.authorityHost;
  const detail = `${net.code ? `${net.code}: ` : ''}${redact(net.message)}`;
  if (net.code && TLS_CODES.has(net.code)) {
    return new SignInError(
      'tls',
      `The TLS certificate of ${host} is not trusted (${detail}): if a TLS-inspecting proxy or a private CA is in the way, give the agent that CA (Agent.CAInfo / config --sslcacert).`,
      { cause },
    );
  }
  const status = /statusCode=(\d+)/.exec(net.message)?.[1];
  if (status) {
    const why =
      status === '407'
        ? 'the proxy credentials were refused: check the agent proxy username and password'
        : 'check the agent proxy settings and that the proxy allows this host';
    return new SignInError('proxy', `The proxy refused the tunnel to ${host} (HTTP ${status}): ${why}.`, { cause });
  }
  return new SignInError(
    'network',
    `Cannot reach ${host} (${detail}): check the authorityHost input, DNS, the firewall and the agent proxy settings.`,
    { cause },
  );
}

/** Entra's own error_description from MSAL's "Error(s): … - Description: … - Correlation ID" text. */
function serverDescription(e: AuthError | undefined): string | undefined {
  if (!e?.errorMessage) return undefined;
  const m = /Description: (.*?)(?: - Correlation ID|\r|\n|$)/.exec(e.errorMessage);
  return redact((m ? m[1] : e.errorMessage).replace(/^AADSTS\d+:\s*/, '').split(/\r|\n/)[0]);
}

/** Removes anything token-shaped and folds the text onto one line (MSAL messages can span several). */
export function redact(text: string): string {
  return text
    .replace(/eyJ[\w-]*\.[\w-]*\.[\w-]*/g, '[redacted]')
    .replace(/[A-Za-z0-9_~+/=.-]{60,}/g, '[redacted]')
    .replace(/\s+/g, ' ')
    .trim();
}
