/** PAT Lifecycle Management API: `/{org}/_apis/tokens/pats` (List, Get, Create, Update, Revoke). */
import type { Org, PatRecord } from './state';
import { anonymous, badRequest, json, parseJsonBody, unauthorized, vssError, type Ctx, type Reply } from './http';
import { FULL_ACCESS_SCOPE, isValidScope, scopeParts } from './scopes';
import { dotnetDate } from './tokens';

const API_VERSIONS = /^(6\.1|7\.0|7\.1|7\.2)-preview(\.1)?$/;
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DAY = 24 * 3600 * 1000;
/** "Users can choose an expiry date for their PAT, not to exceed one year" (+1 day of clock-skew slack). */
const MAX_VALIDITY_MS = 366 * DAY;
const DEFAULT_VALIDITY_MS = 30 * DAY;

export const PAT_ERROR_MESSAGES: Record<string, string> = {
  displayNameRequired: 'A display name is required.',
  invalidValidTo: 'The expiration date is not valid.',
  invalidScope: 'One or more scopes are not valid.',
  authorizationNotFound: 'The personal access token was not found.',
  invalidAuthorizationId: 'The authorization id is not valid.',
  globalPatPolicyViolation: 'Your organization policy restricts the creation of global personal access tokens.',
  fullScopePatPolicyViolation: 'Your organization policy restricts the creation of full-scoped personal access tokens.',
  disablePatCreationPolicyViolation: 'Your organization policy restricts the creation of personal access tokens.',
  expiredPatCannotBeExtended: 'An expired personal access token cannot be extended.',
};

const SERVICE_PRINCIPAL_MESSAGE = 'Service principals are not allowed to perform this action.';

/** PatToken with the property order of Microsoft's examples. */
export function patJson(p: PatRecord, withToken: boolean): Record<string, unknown> {
  return {
    displayName: p.displayName,
    validTo: dotnetDate(p.validTo),
    scope: p.scope,
    targetAccounts: p.targetAccounts ? [...p.targetAccounts] : null,
    validFrom: dotnetDate(p.validFrom),
    authorizationId: p.authorizationId,
    token: withToken ? p.token : null,
  };
}

function result(version: string, pat: PatRecord | null, withToken = false): Reply {
  const body: Record<string, unknown> = { patToken: pat ? patJson(pat, withToken) : null, patTokenError: 'none' };
  if (version.startsWith('7.2')) body.patTokenErrorMessage = null;
  return json(200, body);
}

function failure(ctx: Ctx, version: string, error: string): Reply {
  const body: Record<string, unknown> = { patToken: null, patTokenError: error };
  if (version.startsWith('7.2')) body.patTokenErrorMessage = PAT_ERROR_MESSAGES[error] ?? error;
  return json(ctx.state.policies.errorStatus, body);
}

export function checkApiVersion(ctx: Ctx, version: string | undefined, allowed: RegExp): Reply | undefined {
  if (!version) {
    return vssError(
      400,
      `No api-version was supplied for the "${ctx.method}" request. The version must be supplied either as part of the Accept header (e.g. "application/json; api-version=1.0") or as a query parameter (e.g. '?api-version=1.0').`,
      'VssVersionNotSpecifiedException',
      'Microsoft.VisualStudio.Services.WebApi.VssVersionNotSpecifiedException, Microsoft.VisualStudio.Services.WebApi',
      0,
    );
  }
  if (allowed.test(version)) return undefined;
  if (/^\d+\.\d+$/.test(version)) {
    return vssError(
      400,
      `The requested version "${version}" of the resource is under preview. The -preview flag must be supplied in the api-version for such requests. For example: "${version}-preview"`,
      'VssInvalidPreviewVersionException',
      'Microsoft.VisualStudio.Services.WebApi.VssInvalidPreviewVersionException, Microsoft.VisualStudio.Services.WebApi',
      0,
    );
  }
  return vssError(
    400,
    `The requested REST API version of ${version} is out of range for this server. The latest REST API version for this server is 7.2.`,
    'VssVersionOutOfRangeException',
    'Microsoft.VisualStudio.Services.WebApi.VssVersionOutOfRangeException, Microsoft.VisualStudio.Services.WebApi',
    0,
  );
}

export function handlePats(ctx: Ctx, org: Org): Reply {
  const c = ctx.caller;
  if (c.kind === 'bearer-app' && c.valid) return vssError(403, SERVICE_PRINCIPAL_MESSAGE, 'InvalidAccessException');
  if (c.kind === 'basic' || c.kind === 'bearer-job') return unauthorized(ctx);
  if (c.kind !== 'bearer-user' || !c.valid || !c.user) return anonymous(ctx);
  const version = ctx.query['api-version'];
  const bad = checkApiVersion(ctx, version, API_VERSIONS);
  if (bad || !version) return bad ?? badRequest('api-version');
  switch (ctx.method) {
    case 'GET':
      return ctx.query.authorizationId !== undefined ? get(ctx, org, version) : list(ctx, org);
    case 'POST':
      return create(ctx, org, version);
    case 'PUT':
      return update(ctx, org, version);
    case 'DELETE':
      return revoke(ctx, org);
    default:
      return vssError(
        405,
        `The requested resource does not support http method '${ctx.method}'.`,
        'HttpMethodNotAllowed',
        'System.Web.Http.HttpResponseException, System.Web.Http',
        0,
      );
  }
}

/** The caller's PATs visible in this org (own, and scoped to it or global). */
function visible(ctx: Ctx, org: Org): PatRecord[] {
  return ctx.state
    .pats(ctx.caller.user?.oid)
    .filter((p) => p.targetAccounts === null || p.targetAccounts.includes(org.id));
}

function find(ctx: Ctx, org: Org, id: unknown): PatRecord | undefined {
  return typeof id === 'string'
    ? visible(ctx, org).find((p) => p.authorizationId.toLowerCase() === id.toLowerCase())
    : undefined;
}

function get(ctx: Ctx, org: Org, version: string): Reply {
  const id = ctx.query.authorizationId;
  if (!GUID.test(id)) return failure(ctx, version, 'invalidAuthorizationId');
  const p = find(ctx, org, id);
  return p ? result(version, p) : failure(ctx, version, 'authorizationNotFound');
}

type Status = 'active' | 'expired' | 'revoked';
function statusOf(p: PatRecord, now: number): Status {
  return p.revoked ? 'revoked' : p.validTo.getTime() <= now ? 'expired' : 'active';
}
const STATUS_ORDER: Record<Status, number> = { active: 0, expired: 1, revoked: 2 };

function list(ctx: Ctx, org: Org): Reply {
  const q = ctx.query;
  const filter = (q.displayFilterOption ?? 'active').toLowerCase();
  if (!['active', 'revoked', 'expired', 'all'].includes(filter))
    return badRequest(`The value '${q.displayFilterOption}' is not valid for displayFilterOption.`);
  const sortBy = (q.sortByOption ?? 'displayName').toLowerCase();
  if (!['displayname', 'displaydate', 'status'].includes(sortBy))
    return badRequest(`The value '${q.sortByOption}' is not valid for sortByOption.`);
  const asc = (q.isSortAscending ?? 'true').toLowerCase() !== 'false';
  const top = q.$top === undefined ? 100 : Number(q.$top);
  if (!Number.isInteger(top) || top < 1) return badRequest(`The value '${q.$top}' is not valid for $top.`);
  let skip = 0;
  if (q.continuationToken) {
    const m = /^skip:(\d+)$/.exec(Buffer.from(q.continuationToken, 'base64url').toString('utf8'));
    if (!m) return badRequest('The continuation token is not valid.');
    skip = Number(m[1]);
  }
  const now = Date.now();
  const rows = visible(ctx, org).filter((p) => filter === 'all' || statusOf(p, now) === filter);
  const key = (a: PatRecord, b: PatRecord): number =>
    sortBy === 'displayname'
      ? a.displayName.localeCompare(b.displayName, 'en', { sensitivity: 'base' })
      : sortBy === 'displaydate'
        ? a.validTo.getTime() - b.validTo.getTime()
        : STATUS_ORDER[statusOf(a, now)] - STATUS_ORDER[statusOf(b, now)];
  rows.sort((a, b) => (asc ? key(a, b) : key(b, a)) || a.createdAt - b.createdAt);
  const page = rows.slice(skip, skip + Math.min(top, 100));
  const next = skip + page.length;
  const continuationToken = next < rows.length ? Buffer.from(`skip:${next}`).toString('base64url') : '';
  return json(200, { continuationToken, patTokens: page.map((p) => patJson(p, false)) });
}

function parseDate(v: unknown): number | undefined {
  if (typeof v !== 'string' && !(typeof v === 'number')) return undefined;
  const t = new Date(v).getTime();
  return Number.isNaN(t) ? undefined : t;
}

function create(ctx: Ctx, org: Org, version: string): Reply {
  const parsed = parseJsonBody(ctx);
  if (!parsed.ok) return parsed.reply;
  const b = parsed.value as Record<string, unknown> | undefined;
  if (!b || typeof b !== 'object')
    return badRequest('Value cannot be null.\r\nParameter name: patTokenCreateRequest', 'ArgumentNullException');
  const pol = ctx.state.policies;
  const now = Date.now();
  if (pol.patCreationDisabled) return failure(ctx, version, 'disablePatCreationPolicyViolation');
  if (typeof b.displayName !== 'string' || b.displayName.trim() === '')
    return failure(ctx, version, 'displayNameRequired');
  if (!isValidScope(b.scope)) return failure(ctx, version, 'invalidScope');
  let validTo = b.validTo === undefined || b.validTo === null ? now + DEFAULT_VALIDITY_MS : parseDate(b.validTo);
  if (validTo === undefined || validTo <= now) return failure(ctx, version, 'invalidValidTo');
  const allOrgs = b.allOrgs === true;
  if (allOrgs && pol.restrictGlobalPats) return failure(ctx, version, 'globalPatPolicyViolation');
  if (pol.restrictFullScope && scopeParts(b.scope).includes(FULL_ACCESS_SCOPE))
    return failure(ctx, version, 'fullScopePatPolicyViolation');
  if (pol.maxLifespanDays !== null) validTo = Math.min(validTo, now + pol.maxLifespanDays * DAY);
  if (validTo > now + MAX_VALIDITY_MS) return failure(ctx, version, 'invalidValidTo');
  const pat = ctx.state.createPat({
    displayName: b.displayName,
    scope: b.scope,
    targetAccounts: allOrgs ? null : [org.id],
    validFrom: new Date(now),
    validTo: new Date(validTo),
    revoked: false,
    ownerOid: ctx.caller.user?.oid ?? '',
    orgName: org.name,
  });
  return result(version, pat, true);
}

function update(ctx: Ctx, org: Org, version: string): Reply {
  const parsed = parseJsonBody(ctx);
  if (!parsed.ok) return parsed.reply;
  const b = parsed.value as Record<string, unknown> | undefined;
  if (!b || typeof b !== 'object')
    return badRequest('Value cannot be null.\r\nParameter name: patTokenUpdateRequest', 'ArgumentNullException');
  if (typeof b.authorizationId !== 'string' || !GUID.test(b.authorizationId))
    return failure(ctx, version, 'invalidAuthorizationId');
  const p = find(ctx, org, b.authorizationId);
  const pol = ctx.state.policies;
  const now = Date.now();
  if (!p || p.revoked) return failure(ctx, version, 'authorizationNotFound');
  if (p.validTo.getTime() <= now) return failure(ctx, version, 'expiredPatCannotBeExtended');
  if (
    b.displayName !== undefined &&
    b.displayName !== null &&
    (typeof b.displayName !== 'string' || b.displayName.trim() === '')
  )
    return failure(ctx, version, 'displayNameRequired');
  if (b.scope !== undefined && b.scope !== null && !isValidScope(b.scope)) return failure(ctx, version, 'invalidScope');
  let validTo: number | undefined;
  if (b.validTo !== undefined && b.validTo !== null) {
    validTo = parseDate(b.validTo);
    if (validTo === undefined || validTo <= now) return failure(ctx, version, 'invalidValidTo');
    if (pol.maxLifespanDays !== null) validTo = Math.min(validTo, p.validFrom.getTime() + pol.maxLifespanDays * DAY);
    if (validTo > now + MAX_VALIDITY_MS) return failure(ctx, version, 'invalidValidTo');
  }
  if (b.allOrgs === true && pol.restrictGlobalPats) return failure(ctx, version, 'globalPatPolicyViolation');
  if (typeof b.scope === 'string' && pol.restrictFullScope && scopeParts(b.scope).includes(FULL_ACCESS_SCOPE))
    return failure(ctx, version, 'fullScopePatPolicyViolation');
  if (typeof b.displayName === 'string') p.displayName = b.displayName;
  if (typeof b.scope === 'string') p.scope = b.scope;
  if (validTo !== undefined) p.validTo = new Date(validTo);
  if (b.allOrgs === true) p.targetAccounts = null;
  if (b.allOrgs === false) p.targetAccounts = [org.id];
  return result(version, p);
}

/** Unknown/foreign authorizationId → 404 VSS error (choice; the real answer is unverified). Revoked again → 204. */
function revoke(ctx: Ctx, org: Org): Reply {
  const id = ctx.query.authorizationId;
  if (id === undefined || !GUID.test(id))
    return badRequest('Value cannot be null.\r\nParameter name: authorizationId', 'ArgumentNullException');
  const p = find(ctx, org, id);
  if (!p)
    return vssError(
      404,
      `The personal access token with authorization id '${id}' was not found.`,
      'SessionTokenNotFoundException',
    );
  p.revoked = true;
  return { status: 204 };
}
