// IMDS (managed identity) on its own plain-HTTP listener, driven by msal-node's ManagedIdentityApplication through
// AZURE_POD_IDENTITY_AUTHORITY_HOST (set and restored around each test).
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { ManagedIdentityApplication } from '@azure/msal-node';
import { readJwt, start, VAULT_RESOURCE, type Emulator } from '../emulator';
import { networkClient } from './azure-helpers';

const ENV = 'AZURE_POD_IDENTITY_AUTHORITY_HOST';
/** Variables that would make msal-node pick another managed identity source than IMDS. */
const OTHER_SOURCES = [
  'IDENTITY_ENDPOINT',
  'IDENTITY_HEADER',
  'IDENTITY_SERVER_THUMBPRINT',
  'IMDS_ENDPOINT',
  'MSI_ENDPOINT',
  'MSI_SECRET',
];

function get(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; json: Record<string, string> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({
          status: res.statusCode ?? 0,
          json: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, string>,
        }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('contract: IMDS managed identity with @azure/msal-node', function () {
  this.timeout(30_000);
  let em: Emulator;
  const saved: Record<string, string | undefined> = {};

  beforeEach(async () => {
    em = await start();
    for (const k of [ENV, ...OTHER_SOURCES]) {
      saved[k] = process.env[k];
      delete process.env[k];
    }
  });
  afterEach(async () => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
    await em.close();
  });

  it('system-assigned: ManagedIdentityApplication gets a vault token (oid = the identity, idtyp app)', async () => {
    const mi = em.state.addManagedIdentity();
    const origin = await em.startImds(mi);
    assert.match(origin, /^http:\/\/127\.0\.0\.1:\d+$/);
    process.env[ENV] = origin;
    const mia = new ManagedIdentityApplication({ system: { networkClient: networkClient(em.caPem) } });
    const r = await mia.acquireToken({ resource: VAULT_RESOURCE, forceRefresh: true });
    const claims = readJwt(r.accessToken)?.payload;
    assert.equal(claims?.aud, VAULT_RESOURCE);
    assert.equal(claims?.oid, mi.objectId);
    assert.equal(claims?.appid, mi.clientId);
    assert.equal(claims?.idtyp, 'app');
    assert.ok(r.expiresOn && r.expiresOn.getTime() > Date.now() + 3600_000);
    const entry = em.log.find((e) => e.imds);
    assert.match(entry?.path ?? '', /^\/metadata\/identity\/oauth2\/token\/?$/);
    assert.equal(entry?.query.resource, VAULT_RESOURCE);
    assert.equal(entry?.status, 200);
  });

  it('answers strings for every field; Metadata header missing → 400; another user-assigned id → 400', async () => {
    const mi = em.state.addManagedIdentity();
    const origin = await em.startImds(mi);
    const url = `${origin}/metadata/identity/oauth2/token?api-version=2018-02-01&resource=${encodeURIComponent(VAULT_RESOURCE)}`;
    const ok = await get(url, { Metadata: 'true' });
    assert.equal(ok.status, 200);
    assert.deepEqual(Object.keys(ok.json).sort(), [
      'access_token',
      'client_id',
      'expires_in',
      'expires_on',
      'ext_expires_in',
      'not_before',
      'resource',
      'token_type',
    ]);
    for (const v of Object.values(ok.json)) assert.equal(typeof v, 'string');
    assert.equal(ok.json.client_id, mi.clientId);
    const noHeader = await get(url);
    assert.equal(noHeader.status, 400);
    assert.deepEqual(noHeader.json, {
      error: 'invalid_request',
      error_description: 'Required metadata header not specified',
    });
    assert.equal((await get(`${url}&client_id=someone-else`, { Metadata: 'true' })).status, 400);
    assert.equal((await get(`${url}&client_id=${mi.clientId}`, { Metadata: 'true' })).status, 200);
  });
});
