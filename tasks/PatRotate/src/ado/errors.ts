// Every failure of an Azure DevOps call becomes one AdoError: a kind the caller can branch on, and a one-line
// message that says the cause and, where we know it, the fix. Messages never contain a token or header.
import { AdoError, oneLine } from './adoError';
import { patTokenErrorToAdoError, SERVICE_PRINCIPAL_FIX } from './patTokenErrors';
import { errorMessage } from '../errorMessage';
import { NEVER_SENT_CODES } from '../net/network';

export { AdoError, oneLine, type AdoErrorDetails, type AdoErrorKind } from './adoError';
export { patTokenErrorToAdoError } from './patTokenErrors';

/** Removes anything that looks like a credential from text we did not write (server messages). */
export function scrub(text: string, secrets: readonly string[] = []): string {
  let out = text.replace(/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, '$1 ***');
  for (const s of secrets) if (s.length >= 4) out = out.split(s).join('***');
  return out;
}

export const SIGN_IN_PAGE_HINT =
  'Azure DevOps answered with its sign-in page: the token is not a Microsoft Entra user token for Azure DevOps ' +
  '(it may be expired, issued for another resource than 499b84ac-1321-427f-aa17-267ca6975798, or from another tenant)';

export function signInPageError(where: string, status: number, redirectHost?: string): AdoError {
  const to = redirectHost ? ` redirecting to ${redirectHost}, not followed` : '';
  return new AdoError('auth', `${SIGN_IN_PAGE_HINT}; request: ${where} (HTTP ${status}${to})`, { status });
}

/** A 3xx to anywhere but the sign-in page. Nothing was applied: a redirect is an answer in place of acting. */
export function redirectError(where: string, status: number, host: string): AdoError {
  return new AdoError(
    'protocol',
    `${where} answered HTTP ${status} redirecting to ${host}; PatRotate does not follow redirects with credentials: ` +
      'check the organization URL and the agent proxy',
    { status },
  );
}

/** The body Azure DevOps sends with most errors: {"$id","innerException","message","typeName","typeKey",…}. */
export interface VssErrorBody {
  message?: string;
  typeKey?: string;
  patTokenError?: string;
  patTokenErrorMessage?: string;
}

export function asVssErrorBody(parsed: unknown): VssErrorBody | undefined {
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const o = parsed as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const body: VssErrorBody = {
    message: str(o.message),
    typeKey: str(o.typeKey),
    patTokenError: str(o.patTokenError),
    patTokenErrorMessage: str(o.patTokenErrorMessage),
  };
  return Object.values(body).some((v) => v !== undefined) ? body : undefined;
}

const RETRYABLE_SERVER_STATUSES = new Set([408, 500, 502, 503, 504]);

/** Maps a non-2xx answer (status plus its parsed JSON body, if any) to an AdoError. */
export function errorFromStatus(
  status: number,
  body: VssErrorBody | undefined,
  where: string,
  mutating: boolean,
  retryAfterMs?: number,
): AdoError {
  if (body?.patTokenError && body.patTokenError !== 'none') {
    return patTokenErrorToAdoError(body.patTokenError, body.patTokenErrorMessage ?? body.message, status);
  }
  const server = body?.message ? `: ${body.message}` : '';
  const base = { status, typeKey: body?.typeKey };
  if (body?.typeKey === 'InvalidAccessException' && /service principal/i.test(body.message ?? '')) {
    return new AdoError('auth', `${where} was refused (HTTP ${status}${server}): ${SERVICE_PRINCIPAL_FIX}`, base);
  }
  if (status === 401) {
    return new AdoError(
      'auth',
      `${where} was not authenticated (HTTP 401${server}): the credential is missing, expired, revoked ` +
        'or not valid for this organization; sign in again or check the organization name',
      base,
    );
  }
  if (status === 403) {
    return new AdoError(
      'forbidden',
      `${where} was forbidden (HTTP 403${server}): the signed-in identity lacks permission for this resource`,
      base,
    );
  }
  if (status === 404) {
    return new AdoError('notFound', `${where} found nothing (HTTP 404${server})`, base);
  }
  if (status === 429) {
    const wait = retryAfterMs !== undefined ? ` (Retry-After ${Math.ceil(retryAfterMs / 1000)} s)` : '';
    return new AdoError(
      'throttled',
      `${where} was throttled by Azure DevOps (HTTP 429${server})${wait}: run again later or rotate fewer PATs per run`,
      { ...base, retryable: true, retryAfterMs },
    );
  }
  if (status === 408 || status >= 500) {
    return new AdoError(
      'transient',
      `${where} failed on the server side (HTTP ${status}${server}): Azure DevOps may be unavailable; try again later`,
      { ...base, retryable: RETRYABLE_SERVER_STATUSES.has(status), lostResponse: mutating, retryAfterMs },
    );
  }
  return new AdoError('badRequest', `${where} was rejected (HTTP ${status}${server})`, base);
}

/** Maps a network failure (no HTTP answer) to an AdoError. */
export function errorFromNetwork(err: unknown, where: string, mutating: boolean): AdoError {
  const rawCode = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  const code = typeof rawCode === 'string' ? rawCode : '';
  const text = errorMessage(err);
  // The bounds of net/bounded.ts: the total deadline is a timeout; a body too large or undecodable is a broken answer.
  if (code === 'EDEADLINE') {
    return new AdoError('transient', `${where} ${text} (twice PatRotate.RequestTimeoutSeconds)`, {
      retryable: true,
      lostResponse: mutating,
      unanswered: mutating,
    });
  }
  if (code === 'EBODYTOOLARGE' || code === 'EENCODING') {
    return new AdoError('protocol', `${where} failed: ${text}`, { lostResponse: mutating });
  }
  if (/^Request timeout/i.test(text) || code === 'ETIMEDOUT' || code === 'ESOCKETTIMEDOUT') {
    return new AdoError(
      'transient',
      `${where} timed out waiting for Azure DevOps (idle longer than PatRotate.RequestTimeoutSeconds)`,
      {
        retryable: true,
        lostResponse: mutating,
        unanswered: mutating,
      },
    );
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/i.test(code)) {
    return new AdoError(
      'protocol',
      `${where} failed: the server's TLS certificate is not trusted (${code}); configure the agent's CA ` +
        'certificate (Agent.CAInfo) or the proxy that inspects TLS',
    );
  }
  // Refused or unresolved connections never reached the server: nothing was applied.
  const neverSent = NEVER_SENT_CODES.has(code);
  return new AdoError('transient', `${where} failed: ${code || oneLine(text, 200)} (network error)`, {
    retryable: true,
    lostResponse: mutating && !neverSent,
    unanswered: mutating && !neverSent,
  });
}
