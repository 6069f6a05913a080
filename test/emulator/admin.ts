/**
 * The administrator's view (vssps): Graph users (`/{org}/_apis/graph/users`, paged by the X-MS-ContinuationToken
 * response header) and Token Admin (`/{org}/_apis/tokenadmin/personalaccesstokens/{descriptor}`, paged by a
 * continuationToken in the body). Both need a Project Collection Administrator (`state.collectionAdmins`); others get
 * 403 AccessCheckException. Token Admin reads the same PAT records as the PAT API, so the two always agree.
 */
import type { Org, PatRecord, User } from './state';
import { anonymous, badRequest, json, notFound, unauthorized, vssError, type Ctx, type Reply } from './http';
import { checkApiVersion } from './pats';
import { b64url, dotnetDate } from './tokens';

const API_VERSIONS = /^(5\.0|5\.1|6\.0|7\.0|7\.1)-preview(\.1)?$/;
const ZERO_GUID = '00000000-0000-0000-0000-000000000000';

/** A user's subject descriptor: `aad.…`, `msa.…` or `svc.…` (base64url of the oid, as the real ones encode an id). */
export function descriptorOf(u: User): string {
  const prefix = u.origin === 'msa' ? 'msa' : u.origin === 'vsts' ? 'svc' : 'aad';
  return `${prefix}.${b64url(u.oid)}`;
}

function subjectType(u: User): string {
  return descriptorOf(u).split('.')[0];
}

/** The caller when it is a Project Collection Administrator; otherwise the refusal to send. */
function requireAdmin(ctx: Ctx): Reply | undefined {
  const c = ctx.caller;
  if (c.kind === 'basic' || c.kind === 'bearer-job' || c.kind === 'bearer-app') {
    if (!c.valid) return unauthorized(ctx);
  } else if (c.kind !== 'bearer-user' || !c.valid || !c.user) return anonymous(ctx);
  if (c.user && ctx.state.collectionAdmins.has(c.user.oid)) return undefined;
  return vssError(
    403,
    `Access Denied: ${c.user?.upn ?? c.identityId ?? 'the caller'} needs the following permission(s) on the resource Identity to perform this action: Read`,
    'AccessCheckException',
    'Microsoft.VisualStudio.Services.Security.AccessCheckException, Microsoft.VisualStudio.Services.WebApi',
  );
}

function skipOf(token: string | undefined): number | undefined {
  if (!token) return 0;
  const m = /^skip:(\d+)$/.exec(Buffer.from(token, 'base64url').toString('utf8'));
  return m ? Number(m[1]) : undefined;
}

/** GET /{org}/_apis/graph/users?subjectTypes=aad,msa */
export function handleGraphUsers(ctx: Ctx): Reply {
  if (ctx.method !== 'GET')
    return vssError(
      405,
      `The requested resource does not support http method '${ctx.method}'.`,
      'HttpMethodNotAllowed',
    );
  const refused = requireAdmin(ctx);
  if (refused) return refused;
  const bad = checkApiVersion(ctx, ctx.query['api-version'], API_VERSIONS);
  if (bad) return bad;
  const types = (ctx.query.subjectTypes ?? '')
    .split(',')
    .map((t) => t.trim().toLowerCase())
    .filter(Boolean);
  const skip = skipOf(ctx.query.continuationToken);
  if (skip === undefined) return badRequest('The continuation token is not valid.');
  const users = ctx.state.users.filter((u) => types.length === 0 || types.includes(subjectType(u)));
  const page = users.slice(skip, skip + ctx.state.graphPageSize);
  const next = skip + page.length;
  const headers = next < users.length ? { 'X-MS-ContinuationToken': b64url(`skip:${next}`) } : undefined;
  return json(200, { count: page.length, value: page.map((u) => graphUserJson(ctx, u)) }, headers);
}

function graphUserJson(ctx: Ctx, u: User): Record<string, unknown> {
  const d = descriptorOf(u);
  const self = `${ctx.baseUrl}/${ctx.segments[0]}/_apis/Graph/Users/${d}`;
  return {
    subjectKind: 'user',
    metaType: 'member',
    directoryAlias: u.upn.split('@')[0],
    domain: u.tenantId,
    principalName: u.upn,
    mailAddress: u.upn,
    origin: u.origin ?? 'aad',
    originId: u.oid,
    displayName: u.displayName,
    ...(u.deletedInOrigin ? { isDeletedInOrigin: true } : {}),
    _links: Object.fromEntries(
      ['self', 'memberships', 'membershipState', 'storageKey', 'avatar'].map((k) => [
        k,
        { href: k === 'self' ? self : self.replace('/Graph/Users/', `/Graph/${k[0].toUpperCase()}${k.slice(1)}s/`) },
      ]),
    ),
    url: self,
    descriptor: d,
  };
}

/** GET /{org}/_apis/tokenadmin/personalaccesstokens/{descriptor}?pageSize=&continuationToken= */
export function handleTokenAdmin(ctx: Ctx, org: Org, descriptor: string): Reply {
  if (ctx.method !== 'GET')
    return vssError(
      405,
      `The requested resource does not support http method '${ctx.method}'.`,
      'HttpMethodNotAllowed',
    );
  const refused = requireAdmin(ctx);
  if (refused) return refused;
  const bad = checkApiVersion(ctx, ctx.query['api-version'], API_VERSIONS);
  if (bad) return bad;
  const user = userByDescriptor(ctx, descriptor);
  if (!user)
    return notFound(`The subject descriptor '${descriptor}' could not be found.`, 'GraphSubjectNotFoundException');
  const size = ctx.query.pageSize === undefined ? 20 : Number(ctx.query.pageSize);
  if (!Number.isInteger(size) || size < 1)
    return badRequest(`The value '${ctx.query.pageSize}' is not valid for pageSize.`);
  const skip = skipOf(ctx.query.continuationToken);
  if (skip === undefined) return badRequest('The continuation token is not valid.');
  const pats = ctx.state
    .pats(user.oid)
    .filter((p) => p.targetAccounts === null || p.targetAccounts.includes(org.id))
    .sort((a, b) => a.createdAt - b.createdAt);
  const page = pats.slice(skip, skip + Math.min(size, 100));
  const next = skip + page.length;
  return json(200, {
    value: page.map((p) => sessionTokenJson(p, user)),
    continuationToken: next < pats.length ? b64url(`skip:${next}`) : null,
  });
}

const descriptorIndex = new WeakMap<object, { size: number; map: Map<string, User> }>();

/** The user with this descriptor (an index per state, rebuilt when users were added). */
function userByDescriptor(ctx: Ctx, descriptor: string): User | undefined {
  let index = descriptorIndex.get(ctx.state);
  if (index?.size !== ctx.state.users.length) {
    index = { size: ctx.state.users.length, map: new Map(ctx.state.users.map((u) => [descriptorOf(u), u])) };
    descriptorIndex.set(ctx.state, index);
  }
  return index.map.get(descriptor);
}

/** SessionToken with the property order of Microsoft's example; never a token value. */
export function sessionTokenJson(p: PatRecord, u: User): Record<string, unknown> {
  return {
    clientId: ZERO_GUID,
    accessId: ZERO_GUID,
    authorizationId: p.authorizationId,
    hostAuthorizationId: ZERO_GUID,
    userId: u.identityId,
    validFrom: dotnetDate(p.validFrom),
    validTo: dotnetDate(p.validTo),
    displayName: p.displayName,
    scope: p.scope,
    targetAccounts: p.targetAccounts ? [...p.targetAccounts] : null,
    token: null,
    alternateToken: null,
    isValid: !p.revoked,
    isPublic: false,
    publicData: null,
    source: null,
  };
}
