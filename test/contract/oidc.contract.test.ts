// Azure DevOps OIDC tokens (System.OidcRequestUri) and their exchange at Entra as a federated client assertion, with
// msal-node's ConfidentialClientApplication({ clientAssertion }) as string and as callback.
import assert from 'node:assert/strict';
import { ServerError } from '@azure/msal-node';
import { readJwt, start, TOKEN_EXCHANGE_AUDIENCE, VAULT_RESOURCE, type Emulator } from '../emulator';
import type { ServiceEndpointRecord } from '../emulator';
import { confidentialClient } from './azure-helpers';
import { call } from './helpers';

const SCOPES = [`${VAULT_RESOURCE}/.default`];

describe('contract: Azure DevOps OIDC tokens and workload identity federation', function () {
  this.timeout(30_000);
  let em: Emulator;
  let wif: ServiceEndpointRecord;
  let jobToken: string;
  let projectId: string;

  const requestOidc = (connectionId: string, o: { bearer?: string; version?: string } = {}) => {
    const u = new URL(em.oidcRequestUri('contoso', 'Platform'));
    return call(
      em,
      'POST',
      `${u.pathname}?api-version=${o.version ?? '7.1-preview.1'}&serviceConnectionId=${connectionId}`,
      { bearer: o.bearer ?? jobToken, body: {} },
    );
  };

  beforeEach(async () => {
    em = await start();
    em.state.addOrg('contoso');
    projectId = em.state.addProject('contoso', 'Platform').id;
    wif = em.state.addEndpoint('contoso', 'Platform', {
      name: 'kv-connection',
      type: 'azurerm',
      url: 'https://management.azure.com/',
      scheme: 'WorkloadIdentityFederation',
      parameters: { serviceprincipalid: 'filled-below', tenantid: em.state.tenantId },
    });
    jobToken = em.state.issueJobToken();
  });
  afterEach(() => em.close());

  it('the job token gets an RS256 token naming the connection (iss, sub sc://, aud, 10 minutes); counted', async () => {
    const uri = em.oidcRequestUri('contoso', 'Platform');
    assert.match(
      uri,
      new RegExp(
        `^${em.url}/contoso/${projectId}/_apis/distributedtask/hubs/build/plans/[0-9a-f-]{36}/jobs/[0-9a-f-]{36}/oidctoken$`,
      ),
    );
    const r = await requestOidc(wif.id);
    assert.equal(r.status, 200);
    assert.deepEqual(Object.keys(r.json), ['oidcToken']);
    const jwt = readJwt(r.json.oidcToken);
    assert.equal(jwt?.header.alg, 'RS256');
    const org = em.state.org('contoso');
    assert.equal(jwt?.payload.iss, `https://vstoken.dev.azure.com/${org?.id}`);
    assert.equal(jwt?.payload.iss, em.state.oidcIssuer('contoso'));
    assert.equal(jwt?.payload.sub, 'sc://contoso/Platform/kv-connection');
    assert.equal(jwt?.payload.sub, em.state.federatedSubject('contoso', 'Platform', 'kv-connection'));
    assert.equal(jwt?.payload.aud, TOKEN_EXCHANGE_AUDIENCE);
    const exp = Number(jwt?.payload.exp);
    assert.ok(Math.abs(exp - (Date.now() / 1000 + 600)) < 5);
    assert.equal(em.state.oidcTokens.length, 1);
    assert.ok(em.issuedSecrets().includes(r.json.oidcToken));
    assert.equal((await requestOidc(wif.id, { version: '7.2-preview.1' })).status, 200);
    assert.equal(em.state.oidcTokens.length, 2);
  });

  it('refusals: a user bearer or none → 401; unknown connection 404; not federated 400; no id 400', async () => {
    const alice = em.state.addUser({ upn: 'alice@contoso.example' });
    assert.equal((await requestOidc(wif.id, { bearer: em.state.issueAccessToken(alice.oid) })).status, 401);
    const u = new URL(em.oidcRequestUri('contoso', 'Platform'));
    assert.equal((await call(em, 'POST', `${u.pathname}?api-version=7.1&serviceConnectionId=${wif.id}`)).status, 401);
    const missing = await requestOidc('00000000-0000-0000-0000-000000000000');
    assert.equal(missing.status, 404);
    assert.equal(missing.json.typeKey, 'ServiceEndpointNotFoundException');
    const spn = em.state.addEndpoint('contoso', 'Platform', {
      name: 'spn',
      type: 'azurerm',
      url: 'https://management.azure.com/',
      scheme: 'ServicePrincipal',
      parameters: { serviceprincipalid: 'x', tenantid: em.state.tenantId, authenticationType: 'spnKey' },
    });
    assert.equal((await requestOidc(spn.id)).status, 400);
    assert.equal((await call(em, 'POST', `${u.pathname}?api-version=7.1`, { bearer: jobToken, body: {} })).status, 400);
    assert.equal(em.state.oidcTokens.length, 0);
  });

  it('msal-node exchanges it (clientAssertion callback, fresh token each time); subject mismatch 700213; expired 700024', async () => {
    const app = em.state.addApp({
      federated: [
        {
          issuer: em.state.oidcIssuer('contoso'),
          subject: em.state.federatedSubject('contoso', 'Platform', 'kv-connection'),
        },
      ],
    });
    wif.parameters.serviceprincipalid = app.clientId;
    let asked = 0;
    const cca = confidentialClient(em, {
      clientId: app.clientId,
      clientAssertion: async () => {
        asked++;
        return (await requestOidc(wif.id)).json.oidcToken as string;
      },
    });
    const r = await cca.acquireTokenByClientCredential({ scopes: SCOPES });
    const claims = readJwt(r?.accessToken ?? '')?.payload;
    assert.equal(claims?.oid, app.objectId);
    assert.equal(claims?.aud, VAULT_RESOURCE);
    assert.equal(asked, 1);
    await cca.acquireTokenByClientCredential({ scopes: SCOPES, skipCache: true });
    assert.equal(asked, 2);
    assert.equal(em.state.oidcTokens.length, 2);

    // String assertion minted for another connection's subject.
    const other = em.state.mintOidcToken(em.state.oidcIssuer('contoso'), 'sc://contoso/Platform/other');
    const mismatch = await confidentialClient(em, { clientId: app.clientId, clientAssertion: other })
      .acquireTokenByClientCredential({ scopes: SCOPES })
      .then(
        () => assert.fail('expected 700213'),
        (e: unknown) => e,
      );
    assert.ok(mismatch instanceof ServerError);
    assert.equal(String(mismatch.errorNo), '700213');
    assert.match(mismatch.errorMessage, /presented assertion subject 'sc:\/\/contoso\/Platform\/other'/);

    const subject = em.state.federatedSubject('contoso', 'Platform', 'kv-connection');
    const stale = em.state.mintOidcToken(em.state.oidcIssuer('contoso'), subject, { expiresInSeconds: -1 });
    const expired = await confidentialClient(em, { clientId: app.clientId, clientAssertion: stale })
      .acquireTokenByClientCredential({ scopes: SCOPES })
      .then(
        () => assert.fail('expected 700024'),
        (e: unknown) => e,
      );
    assert.ok(expired instanceof ServerError);
    assert.equal(String(expired.errorNo), '700024');

    // A token this emulator did not mint (tampered payload) fails signature validation.
    const [h, , s] = (await requestOidc(wif.id)).json.oidcToken.split('.');
    const forged = `${h}.${Buffer.from(JSON.stringify({ sub: 'x' })).toString('base64url')}.${s}`;
    const bad = await confidentialClient(em, { clientId: app.clientId, clientAssertion: forged })
      .acquireTokenByClientCredential({ scopes: SCOPES })
      .then(
        () => assert.fail('expected 700027'),
        (e: unknown) => e,
      );
    assert.ok(bad instanceof ServerError);
    assert.equal(String(bad.errorNo), '700027');
  });
});
