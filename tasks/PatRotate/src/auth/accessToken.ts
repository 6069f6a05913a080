// The accessToken method: a token someone else obtained. No network: we can only read its claims (the signature
// is Azure DevOps' business) and refuse the ones that would fail later with an unreadable HTML sign-in page.
import { SignInError } from './aadErrors';
import { AZURE_DEVOPS_RESOURCE, AZURE_DEVOPS_SCOPE, type SignedIn, type SignInDeps } from './types';

const ACCEPTED_AUDIENCES = [AZURE_DEVOPS_RESOURCE, 'https://app.vssps.visualstudio.com'];
const SHORT_LIFE_MS = 10 * 60_000;
const HOW_TO_GET_ONE = `request it for scope ${AZURE_DEVOPS_SCOPE}, e.g. az account get-access-token --resource ${AZURE_DEVOPS_RESOURCE}`;

interface Claims {
  aud?: string | string[];
  exp?: number;
  scp?: string;
  idtyp?: string;
  upn?: string;
  unique_name?: string;
  preferred_username?: string;
  oid?: string;
  tid?: string;
}

/** Validates a user access token for Azure DevOps from its claims; the caller has already masked it. */
export function useAccessToken(token: string, deps: Pick<SignInDeps, 'warn' | 'now'>): SignedIn {
  const claims = decodeJwt(token.trim());
  if (claims.idtyp === 'app' || !claims.scp) {
    throw new SignInError(
      'app_token',
      'The accessToken input is an application (service principal / managed identity) token; the PAT API accepts only user tokens: use refreshToken (bootstrapped once with deviceCode), or a user token from az account get-access-token.',
    );
  }
  const audiences = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
  if (!audiences.some((a) => a !== undefined && ACCEPTED_AUDIENCES.includes(a.replace(/\/$/, '')))) {
    throw new SignInError(
      'wrong_audience',
      `The accessToken input is for audience ${audiences.map((a) => a ?? '(none)').join(', ')}, not Azure DevOps: ${HOW_TO_GET_ONE}.`,
    );
  }
  if (typeof claims.exp !== 'number')
    throw new SignInError('not_jwt', 'The accessToken input has no exp (expiry) claim.');
  const expiresOn = new Date(claims.exp * 1000);
  const left = expiresOn.getTime() - deps.now().getTime();
  if (left <= 0) {
    throw new SignInError(
      'expired',
      `The accessToken input expired at ${expiresOn.toISOString()}: get a new one (${HOW_TO_GET_ONE}), or use refreshToken so the task gets its own.`,
    );
  }
  if (left < SHORT_LIFE_MS) {
    deps.warn(
      `The accessToken input expires at ${expiresOn.toISOString()}, in less than ${SHORT_LIFE_MS / 60_000} minutes: calls late in the run may fail. The refreshToken method avoids this.`,
    );
  }
  return {
    accessToken: token.trim(),
    expiresOn,
    user: { upn: claims.upn ?? claims.unique_name ?? claims.preferred_username, oid: claims.oid, tenantId: claims.tid },
  };
}

function decodeJwt(token: string): Claims {
  if (!token.includes('.')) {
    const what = /^[a-z2-7]{52}$/i.test(token)
      ? 'looks like a personal access token (52 base32 characters)'
      : 'looks like a personal access token (it has no dots, so it is not a JWT)';
    throw new SignInError(
      'pat_given',
      `The accessToken input ${what}; the PAT Lifecycle API does not accept PATs: give an Entra user access token (${HOW_TO_GET_ONE}), or use the refreshToken method.`,
    );
  }
  const parts = token.split('.');
  if (parts.length !== 3) throw notJwt(`it has ${parts.length} dot-separated parts instead of 3`);
  let payload: unknown;
  try {
    payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'));
  } catch {
    throw notJwt('its payload is not base64url-encoded JSON');
  }
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload))
    throw notJwt('its payload is not a JSON object');
  return payload;
}

function notJwt(reason: string): SignInError {
  return new SignInError(
    'not_jwt',
    `The accessToken input is not a JWT: ${reason}. Give an Entra user access token (${HOW_TO_GET_ONE}).`,
  );
}
