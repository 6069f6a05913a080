/** Microsoft Entra ID v2.0 endpoints: openid-configuration, devicecode, token (RT rotation, ROPC, device code, client credentials). */
import type { User } from './state';
import { entraError } from './aadsts';
import { clientCredentials } from './entra-app';
import { json, type Ctx, type Reply } from './http';
import { ADO_RESOURCE, b64url } from './tokens';

export { entraError } from './aadsts';

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
  // Registered apps (secret, certificate or federated credential) and unknown clients: entra-app.ts.
  if (grant === 'client_credentials' && (st.app(clientId) || !st.clientSecrets.has(clientId)))
    return clientCredentials(ctx, f, clientId);
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
