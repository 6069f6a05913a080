// Entra v2.0 endpoints of the emulator, driven by the real @azure/msal-node 7.2.3.
import assert from 'node:assert/strict';
import { AuthError, PublicClientApplication, ServerError } from '@azure/msal-node';
import { ADO_RESOURCE, readJwt, start, type Emulator, type User } from '../emulator';
import { networkClient } from './azure-helpers';
import { call } from './helpers';

const CLIENT = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';
const SCOPES = [`${ADO_RESOURCE}/.default`];

async function serverError(p: Promise<unknown>): Promise<ServerError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ServerError, String(e));
    return e;
  }
  assert.fail('expected a ServerError');
}

describe('contract: Entra v2.0 with @azure/msal-node', function () {
  this.timeout(15_000);
  let em: Emulator;
  let alice: User;
  const pca = (tenant = em.state.tenantId) =>
    new PublicClientApplication({
      auth: { clientId: CLIENT, authority: `${em.url}/${tenant}`, knownAuthorities: [`127.0.0.1:${em.port}`] },
      system: { networkClient: networkClient(em.caPem) },
    });
  const rtOf = (app: PublicClientApplication): string | undefined => {
    const cache = JSON.parse(app.getTokenCache().serialize()) as { RefreshToken: Record<string, { secret: string }> };
    return Object.values(cache.RefreshToken)[0]?.secret;
  };

  beforeEach(async () => {
    em = await start({ deviceCodeIntervalSeconds: 1 });
    alice = em.state.addUser({ upn: 'alice@contoso.example', displayName: 'Alice', password: 'pw-1' });
  });
  afterEach(() => em.close());

  it('refresh token: rotated RT read from the cache with forceCache; the old RT then fails with 9002313', async () => {
    const rt = em.state.issueRefreshToken(alice.oid, CLIENT);
    const app = pca();
    const r = await app.acquireTokenByRefreshToken({ refreshToken: rt, scopes: SCOPES, forceCache: true });
    assert.ok(r);
    assert.equal(r.account?.homeAccountId, `${alice.oid}.${em.state.tenantId}`);
    assert.equal(r.account?.username, 'alice@contoso.example');
    const claims = readJwt(r.accessToken)?.payload;
    assert.equal(claims?.aud, ADO_RESOURCE);
    assert.equal(claims?.iss, `https://sts.windows.net/${em.state.tenantId}/`);
    assert.equal(claims?.idtyp, 'user');
    assert.equal(claims?.scp, 'user_impersonation');
    assert.equal(claims?.appid, CLIENT);
    const rotated = rtOf(app);
    assert.ok(rotated && rotated !== rt);
    assert.ok(em.issuedSecrets().includes(rotated) && em.issuedSecrets().includes(r.accessToken));
    const again = await serverError(
      pca().acquireTokenByRefreshToken({ refreshToken: rt, scopes: SCOPES, forceCache: true }),
    );
    assert.equal(again.errorCode, 'invalid_grant');
    assert.equal(String(again.errorNo), '9002313');
    const pats = await call(em, 'GET', '/contoso/_apis/tokens/pats?api-version=7.1-preview.1', {
      bearer: r.accessToken,
    });
    assert.notEqual(pats.status, 401); // org unknown here (404) but the token itself is accepted by the router
    assert.equal(em.log.filter((e) => e.path.endsWith('/oauth2/v2.0/token')).length, 2);
  });

  it('expired / revoked refresh tokens and injected AADSTS errors keep the real body shape', async () => {
    const expired = em.state.issueRefreshToken(alice.oid, CLIENT);
    em.state.expireRefreshToken(expired);
    assert.equal(
      String((await serverError(pca().acquireTokenByRefreshToken({ refreshToken: expired, scopes: SCOPES }))).errorNo),
      '700082',
    );
    em.state.entraFailNext({ errorNo: 53003, grant: 'refresh_token' });
    const rt = em.state.issueRefreshToken(alice.oid, CLIENT);
    const ca = await pca()
      .acquireTokenByRefreshToken({ refreshToken: rt, scopes: SCOPES })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(ca instanceof AuthError);
    assert.equal(String((ca as AuthError & { errorNo?: unknown }).errorNo), '53003');
    assert.equal(ca.subError, 'message_only');
    em.state.entraFailNext({ errorNo: 50076 });
    const mfa = await pca()
      .acquireTokenByRefreshToken({ refreshToken: rt, scopes: SCOPES })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(mfa instanceof AuthError);
    assert.equal(mfa.errorCode, 'invalid_grant');
    assert.equal(mfa.subError, 'basic_action');
    assert.equal(mfa.constructor.name, 'InteractionRequiredAuthError');
    em.state.revokeRefreshTokens(alice.oid);
    assert.equal(
      String((await serverError(pca().acquireTokenByRefreshToken({ refreshToken: rt, scopes: SCOPES }))).errorNo),
      '50173',
    );
    em.state.entraFailNext({ errorNo: 700016, times: 2 });
    for (let i = 0; i < 2; i++) {
      const raw = await call(em, 'POST', `/${em.state.tenantId}/oauth2/v2.0/token?client-request-id=abc`, {
        body: `client_id=${CLIENT}&grant_type=refresh_token&refresh_token=x`,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      });
      assert.equal(raw.status, 400);
      assert.deepEqual(Object.keys(raw.json).slice(0, 6), [
        'error',
        'error_description',
        'error_codes',
        'timestamp',
        'trace_id',
        'correlation_id',
      ]);
      assert.equal(raw.json.error, 'unauthorized_client');
      assert.deepEqual(raw.json.error_codes, [700016]);
      assert.match(
        raw.json.error_description,
        /^AADSTS700016: .+\r\nTrace ID: [0-9a-f-]{36}\r\nCorrelation ID: abc\r\nTimestamp: \d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/,
      );
    }
    assert.equal(em.state.failQueue.length, 0);
  });

  it('device code: two authorization_pending polls, then approval', async () => {
    let userCode = '';
    em.state.onDeviceCode = (dc) => {
      userCode = dc.userCode;
      const timer = setInterval(() => {
        if (dc.polls >= 2) {
          clearInterval(timer);
          em.state.approveDeviceCode(dc.userCode, alice.oid);
        }
      }, 20);
    };
    let message = '';
    const r = await pca('organizations').acquireTokenByDeviceCode({
      scopes: SCOPES,
      deviceCodeCallback: (d) => (message = d.message),
    });
    assert.equal(r?.account?.username, 'alice@contoso.example');
    assert.match(message, new RegExp(userCode));
    const dc = em.state.deviceCodes[0];
    assert.equal(dc.polls, 3);
    assert.equal(dc.status, 'redeemed');
    assert.ok(em.issuedSecrets().includes(dc.deviceCode));
    assert.equal(em.state.pendingDeviceCodes().length, 0);
  });

  it('device code declined → post_request_failed with authorization_declined', async () => {
    em.state.onDeviceCode = (dc) => em.state.declineDeviceCode(dc.userCode);
    await assert.rejects(
      pca().acquireTokenByDeviceCode({ scopes: SCOPES, deviceCodeCallback: () => undefined }),
      /authorization_declined/,
    );
  });

  it('ROPC: right password works, wrong one → 50126', async () => {
    const ok = await pca().acquireTokenByUsernamePassword({
      username: 'alice@contoso.example',
      password: 'pw-1',
      scopes: SCOPES,
    });
    assert.equal(ok?.account?.localAccountId, alice.oid);
    const bad = await serverError(
      pca().acquireTokenByUsernamePassword({ username: 'alice@contoso.example', password: 'nope', scopes: SCOPES }),
    );
    assert.equal(String(bad.errorNo), '50126');
  });

  it('client credentials: registered secret → app token (idtyp app, no RT); wrong secret → 7000215; missing → 7000218', async () => {
    em.state.addClientSecret('app-1', 's3cret');
    const post = (body: string) =>
      call(em, 'POST', `/${em.state.tenantId}/oauth2/v2.0/token`, {
        body,
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      });
    const ok = await post(
      `client_id=app-1&client_secret=s3cret&grant_type=client_credentials&scope=${encodeURIComponent(SCOPES[0])}`,
    );
    assert.equal(ok.status, 200);
    assert.equal(ok.json.refresh_token, undefined);
    assert.equal(readJwt(ok.json.access_token)?.payload.idtyp, 'app');
    assert.equal(readJwt(ok.json.access_token)?.payload.scp, undefined);
    assert.deepEqual(
      (await post('client_id=app-1&client_secret=wrong&grant_type=client_credentials')).json.error_codes,
      [7000215],
    );
    assert.deepEqual((await post('client_id=app-1&grant_type=client_credentials')).json.error_codes, [7000218]);
  });

  it('openid-configuration uses the emulator URL; unknown tenant → 90002', async () => {
    const cfg = await call(em, 'GET', `/${em.state.tenantId}/v2.0/.well-known/openid-configuration`);
    assert.equal(cfg.json.issuer, `${em.url}/${em.state.tenantId}/v2.0`);
    assert.equal(cfg.json.token_endpoint, `${em.url}/${em.state.tenantId}/oauth2/v2.0/token`);
    assert.equal(cfg.json.device_authorization_endpoint, `${em.url}/${em.state.tenantId}/oauth2/v2.0/devicecode`);
    const orgs = await call(em, 'GET', '/organizations/v2.0/.well-known/openid-configuration');
    assert.equal(orgs.json.issuer, `${em.url}/{tenantid}/v2.0`);
    const unknown = await call(
      em,
      'GET',
      '/00000000-0000-0000-0000-000000000001/v2.0/.well-known/openid-configuration',
    );
    assert.equal(unknown.status, 400);
    assert.deepEqual(unknown.json.error_codes, [90002]);
  });

  it('snapshot is canonical and ignores token traffic', async () => {
    const before = em.state.snapshot();
    const rt = em.state.issueRefreshToken(alice.oid, CLIENT);
    await pca().acquireTokenByRefreshToken({ refreshToken: rt, scopes: SCOPES, forceCache: true });
    assert.equal(em.state.snapshot(), before);
    em.state.policies.restrictFullScope = true;
    assert.notEqual(em.state.snapshot(), before);
  });
});
