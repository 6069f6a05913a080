/** Microsoft Entra ID v2.0 endpoints: openid-configuration, devicecode, token (RT rotation, ROPC, device code, client credentials). */
import type { EntraFailure, User } from './state';
import { json, type Ctx, type Reply } from './http';
import { ADO_RESOURCE, b64url, entraTimestamp, newGuid } from './tokens';

/** Default `error`, text and suberror for each modelled AADSTS code. */
const AADSTS: Record<number, { error: string; text: string; suberror?: string }> = {
  700082: {
    error: 'invalid_grant',
    text: 'The refresh token has expired due to inactivity. The token was issued on 2025-01-01T00:00:00.0000000Z and was inactive for 90.00:00:00.',
  },
  70000: { error: 'invalid_grant', text: 'Provided grant is invalid or malformed.' },
  9002313: { error: 'invalid_grant', text: 'Invalid request. Request is malformed or invalid.' },
  50173: {
    error: 'invalid_grant',
    text: 'The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.',
  },
  50076: {
    error: 'invalid_grant',
    suberror: 'basic_action',
    text: `Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '${ADO_RESOURCE}'.`,
  },
  50079: {
    error: 'interaction_required',
    text: 'Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication to access the resource.',
  },
  65001: {
    error: 'invalid_grant',
    suberror: 'consent_required',
    text: 'The user or administrator has not consented to use the application. Send an interactive authorization request for this user and resource.',
  },
  50126: { error: 'invalid_grant', text: 'Error validating credentials due to invalid username or password.' },
  50034: { error: 'invalid_grant', text: 'The user account does not exist in this directory.' },
  53003: {
    error: 'invalid_grant',
    suberror: 'message_only',
    text: 'Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.',
  },
  7000218: {
    error: 'invalid_client',
    text: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
  },
  7000215: {
    error: 'invalid_client',
    text: 'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.',
  },
  700016: {
    error: 'unauthorized_client',
    text: 'Application with identifier was not found in the directory. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.',
  },
  90002: {
    error: 'invalid_request',
    text: 'Tenant not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.',
  },
  900144: { error: 'invalid_request', text: "The request body must contain the following parameter: 'client_id'." },
  70003: { error: 'unsupported_grant_type', text: 'The app requested an unsupported grant type.' },
  70016: {
    error: 'authorization_pending',
    text: 'OAuth 2.0 device flow error. Authorization is pending. Continue polling.',
  },
  70019: { error: 'expired_token', text: 'Verification code expired.' },
  70020: { error: 'authorization_declined', text: 'The user declined the authorization request.' },
};

/** The real Entra error body shape (HTTP 400). */
export function entraError(ctx: Ctx, f: EntraFailure, extraText = ''): Reply {
  const d = AADSTS[f.errorNo] ?? { error: 'invalid_grant', text: 'Authentication failed.' };
  const trace = newGuid();
  const corr = ctx.query['client-request-id'] ?? newGuid();
  const ts = entraTimestamp();
  const suberror = f.suberror === null ? undefined : (f.suberror ?? d.suberror);
  const body: Record<string, unknown> = {
    error: f.error ?? d.error,
    error_description: `AADSTS${f.errorNo}: ${d.text}${extraText}\r\nTrace ID: ${trace}\r\nCorrelation ID: ${corr}\r\nTimestamp: ${ts}`,
    error_codes: [f.errorNo],
    timestamp: ts,
    trace_id: trace,
    correlation_id: corr,
    error_uri: `${ctx.baseUrl}/error?code=${f.errorNo}`,
  };
  if (suberror) body.suberror = suberror;
  if (f.errorNo === 50076 || f.errorNo === 53003)
    body.claims = '{"access_token":{"capolids":{"essential":true,"values":["' + newGuid() + '"]}}}';
  return json(400, body, { 'Cache-Control': 'no-store, no-cache' });
}

function knownTenant(ctx: Ctx, t: string): boolean {
  const k = t.toLowerCase();
  return (
    k === 'organizations' || k === 'common' || k === ctx.state.tenantId || ctx.state.users.some((u) => u.tenantId === k)
  );
}

export function handleEntra(ctx: Ctx): Reply | undefined {
  const [tenant, a, b, c] = ctx.segments;
  const route = [a, b, c]
    .filter((x) => x !== undefined)
    .join('/')
    .toLowerCase();
  const isEntra =
    route === 'v2.0/.well-known/openid-configuration' ||
    route === 'oauth2/v2.0/token' ||
    route === 'oauth2/v2.0/devicecode' ||
    route === 'discovery/v2.0/keys';
  if (!isEntra) return undefined;
  if (!knownTenant(ctx, tenant)) return entraError(ctx, { errorNo: 90002 });
  if (route === 'v2.0/.well-known/openid-configuration' && ctx.method === 'GET')
    return openidConfiguration(ctx, tenant);
  if (route === 'discovery/v2.0/keys' && ctx.method === 'GET') return json(200, { keys: [] });
  if (route === 'oauth2/v2.0/devicecode' && ctx.method === 'POST') return deviceCode(ctx);
  if (route === 'oauth2/v2.0/token' && ctx.method === 'POST') return token(ctx);
  return json(405, { error: 'invalid_request', error_description: 'Method not allowed' });
}

function openidConfiguration(ctx: Ctx, tenant: string): Reply {
  const base = `${ctx.baseUrl}/${tenant}`;
  const tid = /^[0-9a-f-]{36}$/i.test(tenant) ? tenant : '{tenantid}';
  return json(200, {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ['client_secret_post', 'private_key_jwt', 'client_secret_basic'],
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ['query', 'fragment', 'form_post'],
    subject_types_supported: ['pairwise'],
    id_token_signing_alg_values_supported: ['RS256'],
    response_types_supported: ['code', 'id_token', 'code id_token', 'id_token token'],
    scopes_supported: ['openid', 'profile', 'email', 'offline_access'],
    issuer: `${ctx.baseUrl}/${tid}/v2.0`,
    request_uri_parameter_supported: false,
    userinfo_endpoint: `${ctx.baseUrl}/oidc/userinfo`,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    http_logout_supported: true,
    frontchannel_logout_supported: true,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    claims_supported: [
      'sub',
      'iss',
      'aud',
      'exp',
      'iat',
      'auth_time',
      'acr',
      'nonce',
      'preferred_username',
      'name',
      'tid',
      'ver',
      'at_hash',
      'c_hash',
      'email',
    ],
    kerberos_endpoint: `${base}/kerberos`,
    tenant_region_scope: 'EU',
    cloud_instance_name: 'microsoftonline.com',
    cloud_graph_host_name: 'graph.windows.net',
    msgraph_host: 'graph.microsoft.com',
    rbac_url: 'https://pas.windows.net',
  });
}

function form(ctx: Ctx): URLSearchParams {
  return new URLSearchParams(ctx.body);
}

function deviceCode(ctx: Ctx): Reply {
  const f = form(ctx);
  const clientId = f.get('client_id');
  if (!clientId) return entraError(ctx, { errorNo: 900144 });
  const dc = ctx.state.newDeviceCode(clientId, f.get('scope') ?? '');
  const uri = 'https://microsoft.com/devicelogin';
  return json(200, {
    user_code: dc.userCode,
    device_code: dc.deviceCode,
    verification_uri: uri,
    expires_in: 900,
    interval: ctx.state.deviceCodeIntervalSeconds,
    message: `To sign in, use a web browser to open the page ${uri} and enter the code ${dc.userCode} to authenticate.`,
  });
}

/** Scopes Entra reports back: `.default` becomes the consented `user_impersonation`. */
function grantedScope(requested: string): { resource: string; scope: string; offline: boolean } {
  const parts = requested.split(' ').filter(Boolean);
  const resourceScope =
    parts.find((p) => !['openid', 'profile', 'offline_access', 'email'].includes(p)) ?? `${ADO_RESOURCE}/.default`;
  const resource = resourceScope.includes('/')
    ? resourceScope.slice(0, resourceScope.lastIndexOf('/')).replace(/^api:\/\//, '')
    : ADO_RESOURCE;
  const scope = resourceScope.endsWith('/.default')
    ? `${resourceScope.slice(0, -'/.default'.length)}/user_impersonation`
    : resourceScope;
  return { resource, scope, offline: parts.includes('offline_access') };
}

function userTokens(ctx: Ctx, user: User, clientId: string, requested: string): Reply {
  const g = grantedScope(requested);
  const st = ctx.state;
  const body: Record<string, unknown> = {
    token_type: 'Bearer',
    scope: g.scope,
    expires_in: 3599,
    ext_expires_in: 3599,
    access_token: st.issueAccessToken(user.oid, { audience: g.resource, clientId }),
  };
  if (g.offline) body.refresh_token = st.issueRefreshToken(user.oid, clientId);
  body.id_token = st.issueIdToken(user, clientId);
  body.client_info = b64url(JSON.stringify({ uid: user.oid, utid: user.tenantId }));
  return json(200, body, { 'Cache-Control': 'no-store, no-cache' });
}

function token(ctx: Ctx): Reply {
  const f = form(ctx);
  const st = ctx.state;
  const clientId = f.get('client_id');
  const grant = f.get('grant_type') ?? '';
  if (!clientId) return entraError(ctx, { errorNo: 900144 });
  const injected = st.takeFailure(grant);
  if (injected) return entraError(ctx, injected);
  const secret = f.get('client_secret');
  if (secret !== null && !st.clientSecrets.get(clientId)?.has(secret)) return entraError(ctx, { errorNo: 7000215 });
  const scope = f.get('scope') ?? '';
  switch (grant) {
    case 'refresh_token': {
      const rt = f.get('refresh_token') ?? '';
      const rec = st.refreshTokens.get(rt);
      if (!rec || rec.used) return entraError(ctx, { errorNo: 9002313 });
      if (rec.revoked) return entraError(ctx, { errorNo: 50173 });
      if (rec.expiresAt <= Date.now()) return entraError(ctx, { errorNo: 700082 });
      if (rec.clientId !== clientId) return entraError(ctx, { errorNo: 70000 });
      const user = st.user(rec.oid);
      if (!user) return entraError(ctx, { errorNo: 50034 });
      rec.used = true; // rotation: every refresh token works once
      return userTokens(ctx, user, clientId, scope);
    }
    case 'password': {
      const user = st.userByUpn(f.get('username') ?? '');
      if (!user) return entraError(ctx, { errorNo: 50034 });
      if (user.password === undefined || user.password !== f.get('password'))
        return entraError(ctx, { errorNo: 50126 });
      return userTokens(ctx, user, clientId, scope);
    }
    case 'device_code':
    case 'urn:ietf:params:oauth:grant-type:device_code': {
      const dc = st.deviceCodes.find((d) => d.deviceCode === f.get('device_code'));
      if (!dc || dc.clientId !== clientId || dc.status === 'redeemed') return entraError(ctx, { errorNo: 70000 });
      dc.polls++;
      if (dc.status === 'pending' && dc.approveOnPoll && dc.polls >= dc.approveOnPoll.poll)
        st.approveDeviceCode(dc.userCode, dc.approveOnPoll.oid);
      if (dc.expiresAt <= Date.now()) return entraError(ctx, { errorNo: 70019 });
      if (dc.status === 'declined') return entraError(ctx, { errorNo: 70020 });
      if (dc.status === 'pending') return entraError(ctx, { errorNo: 70016 });
      const user = st.user(dc.oid ?? '');
      if (!user) return entraError(ctx, { errorNo: 50034 });
      dc.status = 'redeemed';
      return userTokens(ctx, user, clientId, scope || dc.scope);
    }
    case 'client_credentials': {
      if (secret === null) return entraError(ctx, { errorNo: 7000218 });
      const g = grantedScope(scope);
      return json(200, {
        token_type: 'Bearer',
        expires_in: 3599,
        ext_expires_in: 3599,
        access_token: st.issueAppToken({ clientId, audience: g.resource }),
      });
    }
    default:
      return entraError(ctx, { errorNo: 70003 });
  }
}
