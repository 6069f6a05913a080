/**
 * Entra `client_credentials` for registered apps: a client secret, a certificate-signed client assertion (as msal-node
 * builds it from `clientCertificate`), or a federated assertion (an OIDC token the emulator's Azure DevOps minted).
 * Answers an app-only token for `{resource}/.default`, never a refresh token.
 */
import { constants, verify, X509Certificate } from 'node:crypto';
import { entraError } from './aadsts';
import { json, type Ctx, type Reply } from './http';
import type { AppRecord } from './state';
import { readJwt } from './tokens';

const JWT_BEARER = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const WIF_DOCS = 'https://learn.microsoft.com/entra/workload-id/workload-identity-federation';
const CERT_DOCS = 'https://learn.microsoft.com/entra/identity-platform/certificate-credentials';

/** Allowed clock skew on assertion times (Entra allows about 5 minutes). */
const SKEW_S = 300;

function iso(seconds: number): string {
  return new Date(seconds * 1000).toISOString().replace(/\.(\d{3})Z$/, '.$10000Z');
}

/** `{resource}/.default` and nothing else (OIDC scopes MSAL may add are ignored); undefined when not that. */
function defaultScopeResource(scope: string): string | undefined {
  const parts = scope.split(' ').filter((p) => p && !['openid', 'profile', 'offline_access'].includes(p));
  if (parts.length !== 1 || !parts[0].endsWith('/.default')) return undefined;
  return parts[0].slice(0, -'/.default'.length);
}

export function clientCredentials(ctx: Ctx, f: URLSearchParams, clientId: string): Reply {
  const st = ctx.state;
  const tenant = ctx.segments[0].toLowerCase();
  const app = st.app(clientId);
  if (!app || (/^[0-9a-f-]{36}$/.test(tenant) && tenant !== app.tenantId)) {
    const dir = /^[0-9a-f-]{36}$/.test(tenant) ? tenant : st.tenantId;
    return entraError(
      ctx,
      { errorNo: 700016 },
      '',
      `Application with identifier '${clientId}' was not found in the directory '${dir}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.`,
    );
  }
  const secret = f.get('client_secret');
  const assertion = f.get('client_assertion');
  let credential: 'secret' | 'certificate';
  if (secret !== null) {
    if (!st.clientSecrets.get(app.clientId)?.has(secret)) return entraError(ctx, { errorNo: 7000215 });
    credential = 'secret';
  } else if (assertion !== null) {
    if (f.get('client_assertion_type') !== JWT_BEARER)
      return entraError(ctx, { errorNo: 700027 }, '', `Client assertion type must be '${JWT_BEARER}'.`);
    const refused = checkAssertion(ctx, app, assertion);
    if (refused) return refused;
    credential = 'certificate';
  } else return entraError(ctx, { errorNo: 7000218 });
  const resource = defaultScopeResource(f.get('scope') ?? '');
  if (resource === undefined)
    return entraError(
      ctx,
      { errorNo: 1002012 },
      '',
      `The provided value for scope ${f.get('scope') ?? ''} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
    );
  return json(
    200,
    {
      token_type: 'Bearer',
      expires_in: 3599,
      ext_expires_in: 3599,
      access_token: st.issuePrincipalToken(app, resource, { credential }),
    },
    { 'Cache-Control': 'no-store, no-cache' },
  );
}

/** undefined when the assertion proves the app; else the Entra error. */
function checkAssertion(ctx: Ctx, app: AppRecord, assertion: string): Reply | undefined {
  const jwt = readJwt(assertion);
  if (!jwt) return entraError(ctx, { errorNo: 700027 }, '', 'Client assertion is not a valid JWT.');
  const h = jwt.header;
  if (typeof h['x5t#S256'] === 'string' || typeof h.x5t === 'string') return checkCertificate(ctx, app, assertion, h);
  return checkFederated(ctx, app, assertion);
}

function timeRange(ctx: Ctx, nbf: unknown, exp: unknown): Reply | undefined {
  const now = Math.floor(Date.now() / 1000);
  const from = typeof nbf === 'number' ? nbf : now;
  const to = typeof exp === 'number' ? exp : 0;
  // Not before `nbf` (with skew); expired is expired (the emulator allows no skew on `exp`, so tests see it at once).
  if (from - SKEW_S <= now && to > now) return undefined;
  return entraError(
    ctx,
    { errorNo: 700024 },
    '',
    `Client assertion is not within its valid time range. Current time: ${iso(now)}, assertion valid from ${iso(from)}, expiry time of assertion ${iso(to)}. Review the documentation at ${CERT_DOCS} .`,
  );
}

function checkCertificate(ctx: Ctx, app: AppRecord, assertion: string, h: Record<string, unknown>): Reply | undefined {
  const sha256 = typeof h['x5t#S256'] === 'string' ? h['x5t#S256'] : undefined;
  const cert = sha256
    ? app.certificates.find((c) => c.x5tS256 === sha256)
    : app.certificates.find((c) => c.x5t === h.x5t);
  if (!cert) {
    const shown = Buffer.from(String(sha256 ?? h.x5t), 'base64url')
      .toString('hex')
      .toUpperCase();
    return entraError(
      ctx,
      { errorNo: 700027 },
      '',
      `The certificate with identifier used to sign the client assertion is not registered on application. [Reason - The key was not found., Thumbprint of key used by client: '${shown}', Please visit the Azure Portal, Graph Explorer or directly use MS Graph to see configured keys for app Id '${app.clientId}'. Review the documentation at https://docs.microsoft.com/en-us/graph/deployments if you are not using the Global Cloud.]`,
    );
  }
  const [head, body, sig] = assertion.split('.');
  const key = new X509Certificate(cert.pem).publicKey;
  const data = Buffer.from(`${head}.${body}`);
  const signature = Buffer.from(sig, 'base64url');
  const alg = h.alg;
  const ok =
    alg === 'RS256'
      ? verify('sha256', data, key, signature)
      : alg === 'PS256'
        ? verify(
            'sha256',
            data,
            { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_AUTO },
            signature,
          )
        : false;
  if (!ok) return entraError(ctx, { errorNo: 700027 });
  const p = readJwt(assertion)?.payload ?? {};
  if (p.iss !== app.clientId || p.sub !== app.clientId) return entraError(ctx, { errorNo: 700021 });
  const tenant = ctx.segments[0];
  const endpoints = [tenant, app.tenantId].flatMap((t) => [
    `${ctx.baseUrl}/${t}/oauth2/v2.0/token`,
    `${ctx.baseUrl}/${t}/oauth2/token`,
  ]);
  if (typeof p.aud !== 'string' || !endpoints.includes(p.aud))
    return entraError(
      ctx,
      { errorNo: 700027 },
      '',
      `Client assertion audience claim does not match Realm issuer. Review the documentation at ${CERT_DOCS} .`,
    );
  return timeRange(ctx, p.nbf, p.exp);
}

function checkFederated(ctx: Ctx, app: AppRecord, assertion: string): Reply | undefined {
  // Entra fetches the issuer's keys; the emulator knows the tokens its Azure DevOps minted and checks their signature.
  const rec = ctx.state.verifyOidcToken(assertion);
  if (!rec) return entraError(ctx, { errorNo: 700027 });
  const p = readJwt(assertion)?.payload ?? {};
  const late = timeRange(ctx, p.nbf, p.exp);
  if (late) return late;
  const byIssuer = app.federated.filter((c) => c.issuer === rec.iss);
  const advice = `Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. ${WIF_DOCS}`;
  if (byIssuer.length === 0)
    return entraError(
      ctx,
      { errorNo: 700211 },
      '',
      `No matching federated identity record found for presented assertion issuer '${rec.iss}'. ${advice}`,
    );
  // Matching is case-sensitive, as Entra's.
  const bySubject = byIssuer.filter((c) => c.subject === rec.sub);
  if (bySubject.length === 0)
    return entraError(
      ctx,
      { errorNo: 700213 },
      '',
      `No matching federated identity record found for presented assertion subject '${rec.sub}'. Please note that the matching is done using a case-sensitive comparison. ${advice}`,
    );
  if (!bySubject.some((c) => c.audience === rec.aud))
    return entraError(
      ctx,
      { errorNo: 700212 },
      '',
      `No matching federated identity record found for presented assertion audience '${rec.aud}'. ${advice}`,
    );
  return undefined;
}
