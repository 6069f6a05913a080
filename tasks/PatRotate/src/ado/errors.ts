// Every failure of an Azure DevOps call becomes one AdoError: a kind the caller can branch on, and a one-line
// message that says the cause and, where we know it, the fix. Messages never contain a token or header.

export type AdoErrorKind =
  | 'auth'
  | 'forbidden'
  | 'notFound'
  | 'policy'
  | 'badRequest'
  | 'throttled'
  | 'transient'
  | 'protocol';

export interface AdoErrorDetails {
  status?: number;
  typeKey?: string;
  patTokenError?: string;
  /** Trying the same request again may succeed (throttling, 5xx, network). */
  retryable?: boolean;
  /** The server may have applied the request but its answer was lost (timeout, reset, 5xx, unreadable 2xx). */
  lostResponse?: boolean;
  /** Server-requested wait before the next attempt (Retry-After), when it sent one. */
  retryAfterMs?: number;
  /**
   * An attempt of this request was sent and got no answer at all (a timeout, a reset): it may still be carried out
   * later, so a read that shows nothing changed yet proves nothing.
   */
  unanswered?: boolean;
}

export class AdoError extends Error {
  override readonly name = 'AdoError';
  readonly kind: AdoErrorKind;
  readonly status?: number;
  readonly typeKey?: string;
  readonly patTokenError?: string;
  readonly retryable: boolean;
  readonly lostResponse: boolean;
  readonly retryAfterMs?: number;
  readonly unanswered: boolean;

  constructor(kind: AdoErrorKind, message: string, details: AdoErrorDetails = {}) {
    super(oneLine(message));
    this.kind = kind;
    this.status = details.status;
    this.typeKey = details.typeKey;
    this.patTokenError = details.patTokenError;
    this.retryable = details.retryable ?? false;
    this.lostResponse = details.lostResponse ?? false;
    this.retryAfterMs = details.retryAfterMs;
    this.unanswered = details.unanswered ?? false;
  }

  /** The same error with a different message (e.g. one that names the variable group), all else kept. */
  withMessage(message: string): AdoError {
    return new AdoError(this.kind, message, this);
  }
}

/** Collapses whitespace so a message is always one log line, and caps its length. */
export function oneLine(text: string, max = 600): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

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

const SERVICE_PRINCIPAL_FIX =
  'the PAT Lifecycle API accepts only a signed-in user: service principals and managed identities cannot ' +
  'create, list or revoke PATs; choose a user sign-in method (refresh token, device code or username/password)';

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
  const text = err instanceof Error ? err.message : String(err);
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
    return new AdoError('transient', `${where} timed out waiting for Azure DevOps (idle longer than PatRotate.RequestTimeoutSeconds)`, {
      retryable: true,
      lostResponse: mutating,
      unanswered: mutating,
    });
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/i.test(code)) {
    return new AdoError(
      'protocol',
      `${where} failed: the server's TLS certificate is not trusted (${code}); configure the agent's CA ` +
        'certificate (Agent.CAInfo) or the proxy that inspects TLS',
    );
  }
  // Refused or unresolved connections never reached the server: nothing was applied.
  const neverSent = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH'].includes(code);
  return new AdoError('transient', `${where} failed: ${code || oneLine(text, 200)} (network error)`, {
    retryable: true,
    lostResponse: mutating && !neverSent,
    unanswered: mutating && !neverSent,
  });
}

type PatErrorInfo = { kind: AdoErrorKind; explain: string };

const NOT_FOUND: PatErrorInfo = {
  kind: 'notFound',
  explain: 'no PAT with that authorizationId exists for the signed-in user (revoked, deleted or owned by someone else)',
};
const NOT_AZURE_DEVOPS_TOKEN: PatErrorInfo = {
  kind: 'auth',
  explain: 'the Entra token was not issued to a user for Azure DevOps (resource 499b84ac-1321-427f-aa17-267ca6975798)',
};
const NOT_A_USER: PatErrorInfo = { kind: 'auth', explain: SERVICE_PRINCIPAL_FIX };
const TRY_LATER: PatErrorInfo = { kind: 'transient', explain: 'Azure DevOps could not complete it; try again later' };

// Mapping of the SessionTokenError enum (tokens.json 7.2); policy causes are inferred from the enum names.
const PAT_TOKEN_ERRORS: Record<string, PatErrorInfo> = {
  displayNameRequired: { kind: 'badRequest', explain: 'a PAT display name is required' },
  invalidDisplayName: { kind: 'badRequest', explain: 'the PAT display name is not valid' },
  invalidValidTo: {
    kind: 'badRequest',
    explain: 'the expiry date is not valid: it must be in the future and at most one year away',
  },
  invalidScope: {
    kind: 'badRequest',
    explain: 'a scope is not valid: use space-separated scopes such as "vso.code vso.build" or "app_token"',
  },
  userIdRequired: NOT_A_USER,
  invalidUserId: NOT_A_USER,
  invalidUserType: NOT_A_USER,
  accessDenied: { kind: 'forbidden', explain: 'the signed-in user may not manage this PAT (only its owner can)' },
  failedToIssueAccessToken: TRY_LATER,
  invalidClient: NOT_AZURE_DEVOPS_TOKEN,
  invalidClientType: NOT_AZURE_DEVOPS_TOKEN,
  invalidClientId: NOT_AZURE_DEVOPS_TOKEN,
  invalidTargetAccounts: {
    kind: 'badRequest',
    explain: 'the organization is not valid for this PAT: the user must be a member of it',
  },
  hostAuthorizationNotFound: NOT_FOUND,
  authorizationNotFound: NOT_FOUND,
  tokenNotFound: NOT_FOUND,
  invalidAuthorizationId: { ...NOT_FOUND, explain: 'the authorizationId is not a valid PAT id' },
  failedToUpdateAccessToken: TRY_LATER,
  sourceNotSupported: { kind: 'policy', explain: 'requests from this source are not allowed by a policy' },
  invalidSourceIP: { kind: 'policy', explain: 'a conditional access / IP policy does not allow this agent' },
  invalidSource: { kind: 'policy', explain: 'requests from this source are not allowed by a policy' },
  duplicateHash: TRY_LATER,
  sshPolicyDisabled: { kind: 'policy', explain: 'SSH authentication is disabled by policy' },
  invalidToken: { kind: 'badRequest', explain: 'the PAT is not valid (revoked or malformed)' },
  failedToReadTenantPolicy: { kind: 'transient', explain: 'Azure DevOps could not read the tenant PAT policy; try again later' },
  failedToReadOrgPolicy: { kind: 'transient', explain: 'Azure DevOps could not read the organization PAT policy; try again later' },
  globalPatPolicyViolation: { kind: 'policy', explain: 'your tenant restricts global PATs: set allOrgs false' },
  fullScopePatPolicyViolation: {
    kind: 'policy',
    explain: 'your tenant restricts full-access PATs: choose specific scopes instead of app_token',
  },
  patLifespanPolicyViolation: {
    kind: 'policy',
    explain: 'the expiry is beyond the maximum PAT lifespan your tenant allows: choose a shorter validity',
  },
  invalidTokenType: NOT_AZURE_DEVOPS_TOKEN,
  invalidAudience: NOT_AZURE_DEVOPS_TOKEN,
  invalidSubject: NOT_AZURE_DEVOPS_TOKEN,
  deploymentHostNotSupported: {
    kind: 'badRequest',
    explain: 'this Azure DevOps deployment does not support the PAT Lifecycle API (Azure DevOps Services only)',
  },
  disablePatCreationPolicyViolation: {
    kind: 'policy',
    explain: 'the organization restricts PAT creation to an allow-list; ask an admin to add this user',
  },
  globalPATCreationBlocked: {
    kind: 'policy',
    explain: 'global PATs can no longer be created: set allOrgs false',
  },
  expiredPatCannotBeExtended: {
    kind: 'policy',
    explain: 'the PAT has already expired and cannot be extended: use rotate to replace it',
  },
};

/** Maps a `patTokenError` value (sent with 2xx or error statuses) to an AdoError. */
export function patTokenErrorToAdoError(code: string, serverMessage?: string, status?: number): AdoError {
  const info = PAT_TOKEN_ERRORS[code] ?? { kind: 'policy', explain: 'Azure DevOps refused the PAT request' };
  const detail = serverMessage ? ` (${serverMessage})` : '';
  return new AdoError(info.kind, `PAT request failed with ${code}: ${info.explain}${detail}`, {
    status,
    patTokenError: code,
    retryable: false,
  });
}
