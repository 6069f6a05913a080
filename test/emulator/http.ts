/** Shared HTTP plumbing: request context, replies, VSS error bodies, the sign-in page, caller resolution. */
import type { IncomingHttpHeaders } from 'node:http';
import type { EmulatorState, Org, PatRecord, TokenInfo, User } from './state';
import { ADO_RESOURCE, newGuid } from './tokens';

export type AuthKind = 'bearer-user' | 'bearer-app' | 'bearer-job' | 'basic' | 'none' | 'other';

export interface Ctx {
  method: string;
  path: string;
  /** Path segments, URI-decoded. */
  segments: string[];
  query: Record<string, string>;
  headers: IncomingHttpHeaders;
  body: string;
  state: EmulatorState;
  baseUrl: string;
  caller: Caller;
}

export interface Reply {
  status: number;
  headers?: Record<string, string>;
  /** Objects are sent as JSON; strings as-is; undefined = empty body. */
  body?: unknown;
}

export interface Caller {
  kind: AuthKind;
  /** Known, unexpired, and (for bearers) issued for Azure DevOps. */
  valid: boolean;
  identityId?: string;
  user?: User;
  token?: TokenInfo;
  pat?: PatRecord;
}

export function json(status: number, body: unknown, headers?: Record<string, string>): Reply {
  return { status, body, headers };
}

const FRAMEWORK = 'Microsoft.TeamFoundation.Framework.Server';

/** The VSS error body Azure DevOps answers with. */
export function vssError(
  status: number,
  message: string,
  typeKey: string,
  typeName?: string,
  eventId = 3000,
  headers?: Record<string, string>,
): Reply {
  return json(
    status,
    {
      $id: '1',
      innerException: null,
      message,
      typeName: typeName ?? `${FRAMEWORK}.${typeKey}, ${FRAMEWORK}`,
      typeKey,
      errorCode: 0,
      eventId,
    },
    headers,
  );
}

export function unauthorized(ctx: Ctx): Reply {
  const who = ctx.caller.user?.upn ?? '';
  return vssError(
    401,
    `TF400813: The user '${who}' is not authorized to access this resource.`,
    'UnauthorizedRequestException',
    undefined,
    3000,
    {
      'WWW-Authenticate': `Bearer authorization_uri=${ctx.baseUrl}/${ctx.state.tenantId}, Basic realm="${ctx.baseUrl}/"`,
    },
  );
}

export function badRequest(message: string, typeKey = 'ArgumentException', typeName?: string): Reply {
  return vssError(400, message, typeKey, typeName ?? `System.${typeKey}, mscorlib`, 0);
}

export function notFound(message = 'The resource cannot be found.', typeKey = 'NotFoundException'): Reply {
  return vssError(404, message, typeKey);
}

export const SIGN_IN_HTML = `<!DOCTYPE html>
<html lang="en-US">
<head><meta charset="utf-8"><title>Azure DevOps Services | Sign In</title></head>
<body><div id="signin">Sign in to Azure DevOps. <a href="https://app.vssps.visualstudio.com/_signin">Sign in</a></div></body>
</html>
`;

/** 203 Non-Authoritative Information with the sign-in page: what an unauthenticated browser-like request gets. */
export function signInPage(): Reply {
  return { status: 203, headers: { 'Content-Type': 'text/html; charset=utf-8' }, body: SIGN_IN_HTML };
}

/** Unauthenticated: 401 JSON with `X-TFS-FedAuthRedirect: Suppress`, else the 203 sign-in page. */
export function anonymous(ctx: Ctx): Reply {
  const h = ctx.headers['x-tfs-fedauthredirect'];
  return typeof h === 'string' && h.toLowerCase() === 'suppress' ? unauthorized(ctx) : signInPage();
}

/** api-version from the query string or the `Accept` header (`application/json;api-version=7.1`). */
export function apiVersion(ctx: Ctx): string | undefined {
  if (ctx.query['api-version']) return ctx.query['api-version'];
  const m = /api-version=([^;,\s]+)/i.exec(ctx.headers.accept ?? '');
  return m?.[1];
}

/** Parses the request body as JSON; undefined + reply on malformed input. */
export function parseJsonBody(ctx: Ctx): { ok: true; value: unknown } | { ok: false; reply: Reply } {
  try {
    return { ok: true, value: ctx.body.trim() === '' ? undefined : JSON.parse(ctx.body) };
  } catch {
    return {
      ok: false,
      reply: vssError(
        400,
        `TF400898: An Internal Error Occurred. Activity Id: ${newGuid()}.`,
        'JsonReaderException',
        'Newtonsoft.Json.JsonReaderException, Newtonsoft.Json',
        0,
      ),
    };
  }
}

/** Works out who is calling from the Authorization header. */
export function resolveCaller(state: EmulatorState, authorization: string | undefined): Caller {
  if (!authorization) return { kind: 'none', valid: false };
  const [scheme, ...rest] = authorization.trim().split(/\s+/);
  const cred = rest.join(' ');
  if (/^basic$/i.test(scheme)) {
    const decoded = Buffer.from(cred, 'base64').toString('utf8');
    const secret = decoded.includes(':') ? decoded.slice(decoded.indexOf(':') + 1) : decoded;
    const pat = state.patByToken(secret);
    if (!pat) return { kind: 'basic', valid: false };
    const live = !pat.revoked && pat.validTo.getTime() > Date.now();
    const user = state.user(pat.ownerOid);
    return { kind: 'basic', valid: live, pat, user, identityId: user?.identityId };
  }
  if (!/^bearer$/i.test(scheme)) return { kind: 'other', valid: false };
  const info = state.tokens.get(cred);
  if (!info) return { kind: 'other', valid: false };
  const live = info.exp > Date.now();
  if (info.kind === 'job') return { kind: 'bearer-job', valid: live, token: info, identityId: info.identityId };
  const valid = live && info.aud === ADO_RESOURCE;
  if (info.kind === 'app') return { kind: 'bearer-app', valid, token: info, identityId: info.identityId };
  const user = info.oid ? state.user(info.oid) : undefined;
  return { kind: 'bearer-user', valid: valid && !!user, token: info, user, identityId: user?.identityId };
}

/**
 * Accepts a valid user/app bearer, a job token, or Basic with a live PAT that targets this org (or is global).
 * A PAT created through the API fails the first `state.patPropagationCalls` calls (eventual consistency).
 */
export function authorizedForOrg(ctx: Ctx, org: Org, countPropagation: boolean): boolean {
  const c = ctx.caller;
  if (!c.valid || !c.identityId) return false;
  if (c.kind === 'basic' && c.pat) {
    if (c.pat.targetAccounts !== null && !c.pat.targetAccounts.includes(org.id)) return false;
    const pending = ctx.state.propagationPending.get(c.pat.authorizationId) ?? 0;
    if (pending > 0 && countPropagation) {
      ctx.state.propagationPending.set(c.pat.authorizationId, pending - 1);
      return false;
    }
  }
  return true;
}
