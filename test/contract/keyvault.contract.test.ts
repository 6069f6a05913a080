// Key Vault secrets data plane of the emulator, driven by the real @azure/keyvault-secrets SecretClient with tokens
// from msal-node (client secret, certificate, federated OIDC assertion, managed identity).
import assert from 'node:assert/strict';
import { isRestError } from '@azure/core-rest-pipeline';
import { ManagedIdentityApplication } from '@azure/msal-node';
import { start, VAULT_RESOURCE, type AppRecord, type Emulator } from '../emulator';
import {
  appCertificate,
  appCredential,
  confidentialClient,
  credentialOf,
  networkClient,
  secretClient,
} from './azure-helpers';
import { call } from './helpers';

async function restError(p: Promise<unknown>): Promise<{ status: number; code?: string; message: string }> {
  try {
    await p;
  } catch (e) {
    assert.ok(isRestError(e), String(e));
    return { status: e.statusCode ?? 0, code: e.code, message: e.message };
  }
  assert.fail('expected a RestError');
}

describe('contract: Key Vault secrets with @azure/keyvault-secrets', function () {
  this.timeout(30_000);
  let em: Emulator;
  let app: AppRecord;
  let vaultUrl: string;
  const client = () =>
    secretClient(
      em,
      vaultUrl,
      appCredential(confidentialClient(em, { clientId: app.clientId, clientSecret: 'kv-secret' })),
    );

  beforeEach(async () => {
    em = await start();
    app = em.state.addApp({ displayName: 'pat-rotate-kv', secret: 'kv-secret' });
    vaultUrl = (await em.addVault('contoso-kv')).url;
    em.state.grantVault('contoso-kv', app.objectId, 'officer');
  });
  afterEach(() => em.close());

  it('challenge: the first request goes without a token (401 + WWW-Authenticate), then with the app token', async () => {
    assert.match(vaultUrl, /^https:\/\/127\.0\.0\.1:\d+$/);
    const kv = client();
    const set = await kv.setSecret('build-feed', 'pat-value-1');
    assert.equal(set.value, 'pat-value-1');
    assert.match(set.properties.version ?? '', /^[0-9a-f]{32}$/);
    assert.equal(set.properties.id, `${vaultUrl}/secrets/build-feed/${set.properties.version}`);
    assert.equal(set.properties.vaultUrl, vaultUrl);
    const vaultLog = em.log.filter((e) => e.vault === 'contoso-kv');
    assert.deepEqual(
      vaultLog.map((e) => [e.method, e.path, e.status, e.auth]),
      [
        ['PUT', '/secrets/build-feed', 401, 'none'],
        ['PUT', '/secrets/build-feed', 200, 'bearer-app'],
      ],
    );
    // The raw challenge, as Key Vault sends it.
    const raw = await fetchVault('GET', '/secrets/build-feed?api-version=7.5');
    assert.equal(raw.status, 401);
    assert.equal(
      raw.headers['www-authenticate'],
      `Bearer authorization="${em.url}/${em.state.tenantId}", resource="https://vault.azure.net"`,
    );
    assert.deepEqual(raw.json, {
      error: { code: 'Unauthorized', message: 'AKV10000: Request is missing a Bearer or PoP token.' },
    });
  });

  it('set/get with contentType, tags and exp; new versions; latest = newest; versions paged by nextLink', async () => {
    const kv = client();
    const expiresOn = new Date(Math.floor(Date.now() / 1000 + 30 * 86400) * 1000);
    const tags = { authorizationId: 'a1', rotatedBy: 'PatRotate' };
    const v1 = await kv.setSecret('build-feed', 'pat-1', {
      contentType: 'application/vnd.azure-devops.pat',
      tags,
      expiresOn,
    });
    // @azure/keyvault-secrets 4.11.1 drops the contentType option of setSecret (and updateSecretProperties): it is never
    // sent. Pinned here so that an SDK upgrade that fixes it shows up; the REST API itself stores it (raw PUT below).
    assert.equal(v1.properties.contentType, undefined);
    assert.equal(em.state.vault('contoso-kv')?.secrets['build-feed'].versions[0].contentType, undefined);
    assert.deepEqual(v1.properties.tags, tags);
    assert.equal(v1.properties.expiresOn?.getTime(), expiresOn.getTime());
    assert.equal(v1.properties.enabled, true);
    assert.equal(v1.properties.recoveryLevel, 'Recoverable+Purgeable');
    assert.equal(v1.properties.recoverableDays, 90);
    const v2 = await kv.setSecret('build-feed', 'pat-2', { tags: { authorizationId: 'a2' } });
    const v3 = await kv.setSecret('build-feed', 'pat-3', { tags: { authorizationId: 'a3' } });
    const latest = await kv.getSecret('build-feed');
    assert.equal(latest.value, 'pat-3');
    assert.equal(latest.properties.version, v3.properties.version);
    assert.equal((await kv.getSecret('build-feed', { version: v1.properties.version })).value, 'pat-1');
    const pages = [];
    for await (const p of kv.listPropertiesOfSecretVersions('build-feed').byPage({ maxPageSize: 2 })) pages.push(p);
    assert.deepEqual(
      pages.map((p) => p.length),
      [2, 1],
    );
    const versions = pages.flat();
    assert.deepEqual(versions.map((p) => p.version).sort(), [v1, v2, v3].map((s) => s.properties.version).sort());
    assert.ok(versions.every((p) => p.tags?.authorizationId));
    const listed = em.log.filter((e) => e.path === '/secrets/build-feed/versions');
    assert.equal(listed.length, 2);
    assert.ok(listed[1].query.$skiptoken);
    const names = [];
    for await (const p of kv.listPropertiesOfSecrets()) names.push(p.name);
    assert.deepEqual(names, ['build-feed']);
    const token = em.state.issuePrincipalToken(app, VAULT_RESOURCE);
    const raw = await call({ ...em, url: vaultUrl }, 'PUT', '/secrets/typed?api-version=7.5', {
      bearer: token,
      body: { value: 'v', contentType: 'text/plain', attributes: { exp: 2000000000 } },
    });
    // Property order of the SecretBundle / SecretAttributes definitions in Key Vault's secrets.json 7.5.
    assert.deepEqual(Object.keys(raw.json), ['value', 'id', 'contentType', 'attributes']);
    assert.deepEqual(Object.keys(raw.json.attributes), [
      'enabled',
      'exp',
      'created',
      'updated',
      'recoverableDays',
      'recoveryLevel',
    ]);
    assert.equal((await kv.getSecret('typed')).properties.contentType, 'text/plain');
  });

  it('updateSecretProperties (PATCH): tags and enabled; a disabled version is skipped by "latest"', async () => {
    const kv = client();
    const v1 = await kv.setSecret('s', 'one');
    const v2 = await kv.setSecret('s', 'two');
    const upd = await kv.updateSecretProperties('s', v2.properties.version ?? '', { enabled: false, tags: { t: '1' } });
    assert.equal(upd.enabled, false);
    assert.deepEqual(upd.tags, { t: '1' });
    assert.equal((await kv.getSecret('s')).properties.version, v1.properties.version);
    const disabled = await restError(kv.getSecret('s', { version: v2.properties.version }));
    assert.equal(disabled.status, 403);
    assert.match(disabled.message, /disabled secret/);
  });

  it('refusals: 403 RBAC shape for a reader, 409 soft-deleted name, 404 SecretNotFound, 400 invalid name', async () => {
    const reader = em.state.addApp({ secret: 'r' });
    em.state.grantVault('contoso-kv', reader.objectId, 'reader');
    const kvReader = secretClient(
      em,
      vaultUrl,
      appCredential(confidentialClient(em, { clientId: reader.clientId, clientSecret: 'r' })),
    );
    const denied = await restError(kvReader.setSecret('build-feed', 'x'));
    assert.equal(denied.status, 403);
    assert.equal(denied.code, 'Forbidden');
    assert.ok(
      denied.message.startsWith(
        'Caller is not authorized to perform action on resource.\r\nIf role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\n',
      ),
    );
    assert.ok(
      denied.message.includes(
        `Caller: appid=${reader.clientId};oid=${reader.objectId};iss=https://sts.windows.net/${em.state.tenantId}/\r\n`,
      ),
    );
    assert.ok(denied.message.includes("Action: 'Microsoft.KeyVault/vaults/secrets/setSecret/action'\r\n"));
    assert.match(
      denied.message,
      /Resource: '\/subscriptions\/[0-9a-f-]{36}\/resourcegroups\/[^/]+\/providers\/microsoft\.keyvault\/vaults\/contoso-kv\/secrets\/build-feed'\r\n/,
    );
    assert.ok(
      denied.message.endsWith(
        'Assignment: (not found)\r\nDenyAssignmentId: null\r\nDecisionReason: null \r\nVault: contoso-kv;location=westeurope\r\n',
      ),
    );
    const kv = client();
    await kv.setSecret('build-feed', 'v');
    const read = await restError(kvReader.getSecret('build-feed'));
    assert.equal(read.status, 403);
    assert.match(read.message, /getSecret\/action/);
    const listed = [];
    for await (const p of kvReader.listPropertiesOfSecretVersions('build-feed')) listed.push(p);
    assert.equal(listed.length, 1, 'a reader may list');

    em.state.softDeleteSecret('contoso-kv', 'old-pat');
    const conflict = await restError(kv.setSecret('old-pat', 'x'));
    assert.equal(conflict.status, 409);
    assert.equal(conflict.code, 'Conflict');
    assert.equal(
      conflict.message,
      'Secret old-pat is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.',
    );
    const missing = await restError(kv.getSecret('nope'));
    assert.equal(missing.status, 404);
    assert.equal(missing.code, 'SecretNotFound');
    assert.match(missing.message, /^A secret with \(name\/id\) nope was not found in this key vault\./);
    const invalid = await restError(kv.setSecret('bad_name', 'x'));
    assert.equal(invalid.status, 400);
    assert.equal(invalid.code, 'BadParameter');
  });

  it('tokens: wrong audience, expired, job token → 401 with the challenge', async () => {
    const ado = em.state.issuePrincipalToken(app, '499b84ac-1321-427f-aa17-267ca6975798');
    const wrongAud = await fetchVault('GET', '/secrets/x?api-version=7.5', ado);
    assert.equal(wrongAud.status, 401);
    assert.match(wrongAud.json.error.message, /^AKV10022: Invalid audience/);
    assert.ok(wrongAud.headers['www-authenticate']);
    const expired = em.state.issuePrincipalToken(app, VAULT_RESOURCE, { expiresInSeconds: -10 });
    assert.equal((await fetchVault('GET', '/secrets/x?api-version=7.5', expired)).status, 401);
    assert.equal((await fetchVault('GET', '/secrets/x?api-version=7.5', em.state.issueJobToken())).status, 401);
    assert.equal((await fetchVault('GET', '/secrets/x?api-version=7.5', 'not-a-token')).status, 401);
    const ok = em.state.issuePrincipalToken(app, VAULT_RESOURCE);
    assert.equal((await fetchVault('GET', '/secrets/x?api-version=7.5', ok)).status, 404);
    assert.equal((await fetchVault('GET', '/secrets/x?api-version=8.0', ok)).status, 400);
  });

  it('faults: 429 with Retry-After on PUT is honoured by the SDK; 503 on GET versions; log marks the vault', async () => {
    const kv = client();
    await kv.setSecret('warm-up', 'x'); // completes the challenge
    const rule = em.faults.add({
      method: 'PUT',
      path: '/secrets/build-feed',
      times: 1,
      action: { kind: 'status', status: 429, retryAfterSeconds: 1 },
    });
    const t0 = Date.now();
    await kv.setSecret('build-feed', 'v');
    assert.ok(Date.now() - t0 >= 950, `retried after ${Date.now() - t0} ms`);
    assert.equal(em.faults.firedCount(rule), 1);
    const puts = em.log.filter((e) => e.path === '/secrets/build-feed');
    assert.deepEqual(
      puts.map((e) => e.status),
      [429, 200],
    );
    em.faults.add({
      method: 'GET',
      path: '/secrets/build-feed/versions',
      times: 1,
      action: { kind: 'status', status: 503 },
    });
    const versions = [];
    for await (const p of kv.listPropertiesOfSecretVersions('build-feed')) versions.push(p);
    assert.equal(versions.length, 1);
    // An applied-then-lost write: the version exists although the client saw a reset.
    em.faults.add({ method: 'PUT', path: '/secrets/lost', times: 1, action: { kind: 'afterApply', then: 'reset' } });
    await kv.setSecret('lost', 'v').catch(() => undefined);
    assert.ok((em.state.vault('contoso-kv')?.secrets.lost.versions.length ?? 0) >= 1);
  });

  it('credentials: certificate, federated OIDC assertion and managed identity all reach the vault', async () => {
    const cert = await appCertificate(0);
    const certApp = em.state.addApp({ certificatePem: cert.certPem });
    em.state.addOrg('contoso');
    em.state.addProject('contoso', 'Platform');
    const wifApp = em.state.addApp({
      federated: [
        {
          issuer: em.state.oidcIssuer('contoso'),
          subject: em.state.federatedSubject('contoso', 'Platform', 'kv-connection'),
        },
      ],
    });
    const conn = em.state.addEndpoint('contoso', 'Platform', {
      name: 'kv-connection',
      type: 'azurerm',
      url: 'https://management.azure.com/',
      scheme: 'WorkloadIdentityFederation',
      parameters: { serviceprincipalid: wifApp.clientId, tenantid: em.state.tenantId },
    });
    const mi = em.state.addManagedIdentity();
    for (const p of [certApp.objectId, wifApp.objectId, mi.objectId]) em.state.grantVault('contoso-kv', p, 'officer');
    const jobToken = em.state.issueJobToken();
    const oidcUrl = new URL(em.oidcRequestUri('contoso', 'Platform'));
    const byCert = confidentialClient(em, {
      clientId: certApp.clientId,
      clientCertificate: { thumbprintSha256: cert.sha256, privateKey: cert.keyPem },
    });
    const byOidc = confidentialClient(em, {
      clientId: wifApp.clientId,
      clientAssertion: async () =>
        (
          await call(em, 'POST', `${oidcUrl.pathname}?api-version=7.1&serviceConnectionId=${conn.id}`, {
            bearer: jobToken,
            body: {},
          })
        ).json.oidcToken as string,
    });
    await secretClient(em, vaultUrl, appCredential(byCert)).setSecret('by-cert', '1');
    await secretClient(em, vaultUrl, appCredential(byOidc)).setSecret('by-oidc', '2');
    const saved = process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST;
    process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = await em.startImds(mi);
    try {
      const mia = new ManagedIdentityApplication({ system: { networkClient: networkClient(em.caPem) } });
      // msal-node caches managed identity tokens process-wide (static), across emulators: forceRefresh asks this one.
      const miCred = credentialOf(async (scopes) =>
        mia.acquireToken({ resource: scopes[0].replace(/\/\.default$/, ''), forceRefresh: true }),
      );
      await secretClient(em, vaultUrl, miCred).setSecret('by-mi', '3');
      assert.deepEqual(miCred.calls, [[`${VAULT_RESOURCE}/.default`]]);
    } finally {
      if (saved === undefined) delete process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST;
      else process.env.AZURE_POD_IDENTITY_AUTHORITY_HOST = saved;
    }
    assert.deepEqual(Object.keys(em.state.vault('contoso-kv')?.secrets ?? {}).sort(), ['by-cert', 'by-mi', 'by-oidc']);
    assert.equal(em.state.oidcTokens.length, 1);
  });

  it('snapshot: holds every version, value, tag and soft-deleted name; reads and token traffic leave it unchanged', async () => {
    const kv = client();
    await kv.setSecret('build-feed', 'pat-1', { tags: { authorizationId: 'a1' } });
    const before = em.state.snapshot();
    assert.ok(before.includes('pat-1') && before.includes('"authorizationId":"a1"'));
    await kv.getSecret('build-feed');
    for await (const p of kv.listPropertiesOfSecretVersions('build-feed')) assert.ok(p.version);
    assert.equal(em.state.snapshot(), before);
    await kv.setSecret('build-feed', 'pat-2');
    const after = em.state.snapshot();
    assert.notEqual(after, before);
    em.state.softDeleteSecret('contoso-kv', 'gone');
    assert.ok(em.state.snapshot().includes('"deleted":["gone"]'));
  });

  function fetchVault(method: string, path: string, bearer?: string) {
    return call({ ...em, url: vaultUrl }, method, path, { bearer });
  }
});
