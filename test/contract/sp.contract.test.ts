// Entra client credentials for registered apps (service principals), driven by msal-node's ConfidentialClientApplication:
// client secret, certificate (PS256 with thumbprintSha256, RS256 with the SHA-1 thumbprint), and the refusals.
import assert from 'node:assert/strict';
import { createSign } from 'node:crypto';
import { ServerError } from '@azure/msal-node';
import { readJwt, start, VAULT_RESOURCE, type Emulator } from '../emulator';
import { appCertificate, confidentialClient } from './azure-helpers';
import { call } from './helpers';

const SCOPES = [`${VAULT_RESOURCE}/.default`];

async function aadsts(p: Promise<unknown>): Promise<{ errorNo: string; message: string }> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ServerError, String(e));
    return { errorNo: String(e.errorNo), message: e.errorMessage };
  }
  assert.fail('expected an Entra error');
}

/** A client assertion signed by hand (RS256, x5t#S256), to send what msal-node never would. */
function assertion(keyPem: string, sha256Hex: string, claims: Record<string, unknown>): string {
  const head = Buffer.from(
    JSON.stringify({ alg: 'RS256', typ: 'JWT', 'x5t#S256': Buffer.from(sha256Hex, 'hex').toString('base64url') }),
  ).toString('base64url');
  const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const sig = createSign('sha256').update(`${head}.${body}`).sign(keyPem).toString('base64url');
  return `${head}.${body}.${sig}`;
}

describe('contract: Entra client credentials for apps with @azure/msal-node', function () {
  this.timeout(30_000);
  let em: Emulator;

  beforeEach(async () => {
    em = await start();
  });
  afterEach(() => em.close());

  it('client secret: app token for the vault (aud, appid/azp, oid = SP object id, idtyp app, tid; no refresh token)', async () => {
    const app = em.state.addApp({ displayName: 'kv-writer', secret: 'sp-secret-1' });
    assert.notEqual(app.objectId, app.clientId);
    const r = await confidentialClient(em, {
      clientId: app.clientId,
      clientSecret: 'sp-secret-1',
    }).acquireTokenByClientCredential({ scopes: SCOPES });
    const claims = readJwt(r?.accessToken ?? '')?.payload;
    assert.equal(claims?.aud, VAULT_RESOURCE);
    assert.equal(claims?.appid, app.clientId);
    assert.equal(claims?.azp, app.clientId);
    assert.equal(claims?.oid, app.objectId);
    assert.equal(claims?.idtyp, 'app');
    assert.equal(claims?.tid, em.state.tenantId);
    assert.equal(claims?.scp, undefined);
    assert.ok(em.issuedSecrets().includes('sp-secret-1'));
    assert.ok(em.issuedSecrets().includes(r?.accessToken ?? '-'));
    const raw = await call(em, 'POST', `/${em.state.tenantId}/oauth2/v2.0/token`, {
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: `client_id=${app.clientId}&client_secret=sp-secret-1&grant_type=client_credentials&scope=${encodeURIComponent(SCOPES[0])}`,
    });
    assert.deepEqual(Object.keys(raw.json), ['token_type', 'expires_in', 'ext_expires_in', 'access_token']);
  });

  it('certificate: PS256 with thumbprintSha256 (x5c too) and RS256 with the SHA-1 thumbprint', async () => {
    const cert = await appCertificate(0);
    const app = em.state.addApp({ certificatePem: cert.certPem + cert.keyPem });
    assert.ok(
      em.issuedSecrets().some((s) => s.includes('PRIVATE KEY')),
      'the private key counts as a secret',
    );
    const ps = await confidentialClient(em, {
      clientId: app.clientId,
      clientCertificate: { thumbprintSha256: cert.sha256, privateKey: cert.keyPem, x5c: cert.certPem },
    }).acquireTokenByClientCredential({ scopes: SCOPES });
    assert.equal(readJwt(ps?.accessToken ?? '')?.payload.oid, app.objectId);
    const sent = em.log.filter((e) => e.path.endsWith('/oauth2/v2.0/token'));
    assert.equal(sent.at(-1)?.status, 200);
    const rs = await confidentialClient(em, {
      clientId: app.clientId,
      clientCertificate: { thumbprint: cert.sha1, privateKey: cert.keyPem },
    }).acquireTokenByClientCredential({ scopes: SCOPES });
    assert.equal(readJwt(rs?.accessToken ?? '')?.payload.appid, app.clientId);
  });

  it('refusals: wrong secret 7000215, unknown client 700016, unregistered certificate 700027, bad scope 1002012', async () => {
    const app = em.state.addApp({ secret: 'right' });
    const wrong = await aadsts(
      confidentialClient(em, { clientId: app.clientId, clientSecret: 'wrong' }).acquireTokenByClientCredential({
        scopes: SCOPES,
      }),
    );
    assert.equal(wrong.errorNo, '7000215');
    const unknown = await aadsts(
      confidentialClient(em, {
        clientId: '11111111-2222-3333-4444-555555555555',
        clientSecret: 'x',
      }).acquireTokenByClientCredential({ scopes: SCOPES }),
    );
    assert.equal(unknown.errorNo, '700016');
    assert.match(unknown.message, /Application with identifier '11111111-2222-3333-4444-555555555555' was not found/);
    const other = await appCertificate(1);
    const unregistered = await aadsts(
      confidentialClient(em, {
        clientId: app.clientId,
        clientCertificate: { thumbprintSha256: other.sha256, privateKey: other.keyPem },
      }).acquireTokenByClientCredential({ scopes: SCOPES }),
    );
    assert.equal(unregistered.errorNo, '700027');
    assert.match(unregistered.message, /not registered on application/);
    const scope = await aadsts(
      confidentialClient(em, { clientId: app.clientId, clientSecret: 'right' }).acquireTokenByClientCredential({
        scopes: [`${VAULT_RESOURCE}/secrets.read`],
      }),
    );
    assert.equal(scope.errorNo, '1002012');
  });

  it('assertions: forged signature 700027, expired 700024, iss ≠ client 700021, wrong audience 700027', async () => {
    const cert = await appCertificate(0);
    const other = await appCertificate(1);
    const app = em.state.addApp({ certificatePem: cert.certPem });
    const aud = `${em.url}/${em.state.tenantId}/oauth2/v2.0/token`;
    const now = Math.floor(Date.now() / 1000);
    const good = { aud, iss: app.clientId, sub: app.clientId, nbf: now, exp: now + 600, jti: 'x' };
    const send = async (clientAssertion: string) =>
      aadsts(
        confidentialClient(em, { clientId: app.clientId, clientAssertion }).acquireTokenByClientCredential({
          scopes: SCOPES,
        }),
      );
    // Signed with another key but naming the registered certificate.
    assert.equal((await send(assertion(other.keyPem, cert.sha256, good))).errorNo, '700027');
    const expired = await send(assertion(cert.keyPem, cert.sha256, { ...good, nbf: now - 1200, exp: now - 600 }));
    assert.equal(expired.errorNo, '700024');
    assert.match(expired.message, /not within its valid time range/);
    assert.equal((await send(assertion(cert.keyPem, cert.sha256, { ...good, iss: 'someone' }))).errorNo, '700021');
    assert.equal(
      (await send(assertion(cert.keyPem, cert.sha256, { ...good, aud: 'https://login.microsoftonline.com/x' })))
        .errorNo,
      '700027',
    );
    const ok = await confidentialClient(em, {
      clientId: app.clientId,
      clientAssertion: assertion(cert.keyPem, cert.sha256, good),
    }).acquireTokenByClientCredential({ scopes: SCOPES });
    assert.equal(readJwt(ok?.accessToken ?? '')?.payload.oid, app.objectId);
  });
});
