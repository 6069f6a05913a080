/**
 * Azure Instance Metadata Service (managed identity), plain HTTP as on a VM: `GET /metadata/identity/oauth2/token
 * ?api-version=2018-02-01&resource=…` with `Metadata: true`. msal-node's ManagedIdentityApplication reaches it through
 * AZURE_POD_IDENTITY_AUTHORITY_HOST (it appends the path). One listener serves one identity.
 */
import type { Flavour } from './server';
import type { ManagedIdentityRecord } from './state';
import { json, type Ctx, type Reply } from './http';

const TOKEN_PATH = '/metadata/identity/oauth2/token';

function invalid(description: string): Reply {
  return json(400, { error: 'invalid_request', error_description: description });
}

function handleImds(ctx: Ctx, mi: ManagedIdentityRecord): Reply {
  // msal-node normalises the URL it builds from the env var with a trailing slash.
  if (ctx.path.toLowerCase().replace(/\/$/, '') !== TOKEN_PATH)
    return json(404, { error: 'not_found', error_description: 'Not found' });
  if (ctx.method !== 'GET') return json(405, { error: 'invalid_request', error_description: 'Method not allowed' });
  // IMDS refuses requests without the header (a guard against server-side request forgery).
  if (String(ctx.headers.metadata).toLowerCase() !== 'true') return invalid('Required metadata header not specified');
  if (!ctx.query['api-version']) return invalid("Required query variable 'api-version' is missing");
  const resource = ctx.query.resource;
  if (!resource) return invalid("Required query variable 'resource' is missing");
  const q = ctx.query;
  // A user-assigned selector must name this identity (msal-node sends client_id, object_id or msi_res_id).
  if ((q.client_id && q.client_id !== mi.clientId) || (q.object_id && q.object_id !== mi.objectId) || q.msi_res_id)
    return invalid('Identity not found');
  const res = resource.replace(/\/\.default$/, '');
  const now = Math.floor(Date.now() / 1000);
  const expiresIn = 86399;
  return json(200, {
    access_token: ctx.state.issuePrincipalToken(mi, res, { expiresInSeconds: expiresIn, credential: 'managed' }),
    client_id: mi.clientId,
    expires_in: String(expiresIn),
    expires_on: String(now + expiresIn),
    ext_expires_in: String(expiresIn),
    not_before: String(now),
    resource: res,
    token_type: 'Bearer',
  });
}

export function imdsFlavour(mi: ManagedIdentityRecord): Flavour {
  return {
    route: (ctx) => handleImds(ctx, mi),
    headers: () => ({ Server: 'IMDS/150.870.65.1854' }),
    faultBody: (status) => ({ error: 'server_error', error_description: `Injected fault: HTTP ${status}` }),
    mark: { imds: true },
  };
}
