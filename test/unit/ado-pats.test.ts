import assert from 'node:assert/strict';
import { AdoHttp } from '../../tasks/PatRotate/src/ado/http';
import { MAX_LISTED_PATS, MAX_LIST_PAGES, PatClient } from '../../tasks/PatRotate/src/ado/pats';
import { directNetwork } from '../../tasks/PatRotate/src/net/network';
import { recordingSleep, startFakeServer, type FakeServer } from '../helpers/fakeServer';
import { rejection } from '../helpers/rejection';

const credential = { kind: 'bearer', token: 'entra-token' } as const;

function patJson(i: number, extra: Record<string, unknown> = {}) {
  return {
    displayName: `pat-${i}`,
    validTo: '2020-12-01T23:46:23.32Z',
    scope: 'vso.code',
    targetAccounts: ['38aaa865-2c70-4bf7-a308-0c6539c38c1a'],
    validFrom: '2020-11-02T22:56:52.1033333Z',
    authorizationId: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`,
    token: null,
    ...extra,
  };
}

describe('ado/pats PatClient', () => {
  let server: FakeServer;
  let http: AdoHttp;
  let pats: PatClient;

  beforeEach(async () => {
    server = await startFakeServer();
    http = new AdoHttp(directNetwork, { retry: { sleep: recordingSleep().sleep } });
    pats = new PatClient(http, `${server.url}/contoso/`, credential);
  });
  afterEach(async () => {
    http.dispose();
    await server.close();
  });

  it('pages with $top=100 and continuationToken over 3 pages', async () => {
    server.enqueue(
      { status: 200, body: { continuationToken: 'a b', patTokens: [patJson(1), patJson(2)] } },
      { status: 200, body: { continuationToken: 'c', patTokens: [patJson(3)] } },
      { status: 200, body: { continuationToken: '', patTokens: [patJson(4, { targetAccounts: null })] } },
    );
    const all = await pats.listAll('all');
    assert.deepEqual(
      all.map((p) => p.displayName),
      ['pat-1', 'pat-2', 'pat-3', 'pat-4'],
    );
    assert.equal(all[3].targetAccounts, null);
    assert.equal(all[0].validFrom.toISOString(), '2020-11-02T22:56:52.103Z');
    assert.deepEqual(
      server.log.map((r) => r.url),
      [
        '/contoso/_apis/tokens/pats?displayFilterOption=all&$top=100&api-version=7.1-preview.1',
        '/contoso/_apis/tokens/pats?displayFilterOption=all&$top=100&api-version=7.1-preview.1&continuationToken=a%20b',
        '/contoso/_apis/tokens/pats?displayFilterOption=all&$top=100&api-version=7.1-preview.1&continuationToken=c',
      ],
    );
  });

  it('stops on an absent continuation token and defaults to active', async () => {
    server.enqueue({ status: 200, body: { patTokens: [patJson(1)] } });
    assert.equal((await pats.listAll()).length, 1);
    assert.match(server.log[0].url, /displayFilterOption=active/);
  });

  it('refuses a repeated continuation token', async () => {
    server.handle(() => ({ status: 200, body: { continuationToken: 'same', patTokens: [patJson(1)] } }));
    const e = await rejection(pats.listAll());
    assert.equal(e.kind, 'protocol');
    assert.match(e.message, /twice/);
    assert.equal(server.log.length, 2);
  });

  it('stops an endless listing (a fresh continuation token with every empty page) after 1,000 pages', async () => {
    let n = 0;
    server.handle(() => ({ status: 200, body: { continuationToken: `t${++n}`, patTokens: [] } }));
    const started = Date.now();
    const e = await rejection(pats.listAll());
    assert.equal(e.kind, 'protocol');
    assert.equal(server.log.length, MAX_LIST_PAGES);
    assert.match(
      e.message,
      /^GET \S+\/_apis\/tokens\/pats was still listing after 1000 pages and 0 PATs; stopping: PatRotate lists at most 1000 pages or 100000 PATs/,
    );
    assert.ok(Date.now() - started < 15_000, 'ended quickly');
  });

  it('stops a listing past 100,000 PATs before reading them all', async () => {
    const page = Array.from({ length: 1000 }, (_, i) => patJson(i));
    let n = 0;
    server.handle(() => ({ status: 200, body: { continuationToken: `t${++n}`, patTokens: page } }));
    const e = await rejection(pats.listAll());
    assert.equal(server.log.length, MAX_LISTED_PATS / 1000 + 1);
    assert.match(e.message, /after 101 pages and 101000 PATs; stopping/);
  });

  it('rejects a PAT entry missing required fields', async () => {
    server.enqueue({ status: 200, body: { patTokens: [{ ...patJson(1), validTo: 'later' }] } });
    assert.equal((await rejection(pats.listAll())).kind, 'protocol');
  });

  it('creates a PAT and returns its token', async () => {
    server.enqueue({ status: 200, body: { patToken: patJson(7, { token: 'new-secret' }), patTokenError: 'none' } });
    const created = await pats.create({
      displayName: 'ci',
      scope: 'vso.code',
      validTo: new Date('2025-03-01T00:00:00Z'),
      allOrgs: false,
    });
    assert.equal(created.token, 'new-secret');
    assert.equal(created.authorizationId, patJson(7).authorizationId);
    assert.equal(server.log[0].method, 'POST');
    assert.equal(server.log[0].url, '/contoso/_apis/tokens/pats?api-version=7.1-preview.1');
    assert.deepEqual(server.log[0].json, {
      displayName: 'ci',
      scope: 'vso.code',
      validTo: '2025-03-01T00:00:00.000Z',
      allOrgs: false,
    });
  });

  it('reports patTokenError in a 200 body', async () => {
    server.enqueue({
      status: 200,
      body: {
        patToken: null,
        patTokenError: 'fullScopePatPolicyViolation',
        patTokenErrorMessage: 'Full-scoped PATs are restricted.',
      },
    });
    const e = await rejection(
      pats.create({ displayName: 'ci', scope: 'app_token', validTo: new Date(), allOrgs: false }),
    );
    assert.equal(e.kind, 'policy');
    assert.equal(e.patTokenError, 'fullScopePatPolicyViolation');
    assert.equal(e.lostResponse, false);
    assert.match(e.message, /instead of app_token.*Full-scoped PATs are restricted/);
  });

  it('reports a 2xx create without a token as lostResponse', async () => {
    server.enqueue({ status: 200, body: { patToken: patJson(7), patTokenError: 'none' } });
    const e = await rejection(
      pats.create({ displayName: 'ci', scope: 'vso.code', validTo: new Date(), allOrgs: false }),
    );
    assert.equal(e.kind, 'protocol');
    assert.equal(e.lostResponse, true);
  });

  it('does not retry a create that hit 503', async () => {
    server.enqueue({ status: 503 }, { status: 200, body: { patToken: patJson(1, { token: 't' }) } });
    const e = await rejection(
      pats.create({ displayName: 'ci', scope: 'vso.code', validTo: new Date(), allOrgs: false }),
    );
    assert.equal(e.lostResponse, true);
    assert.equal(server.log.length, 1);
  });

  it('reports a VSS error body on 4xx', async () => {
    server.enqueue({
      status: 403,
      body: {
        $id: '1',
        innerException: null,
        message: 'Service principals are not allowed to perform this action.',
        typeName:
          'Microsoft.TeamFoundation.Framework.Server.InvalidAccessException, Microsoft.TeamFoundation.Framework.Server',
        typeKey: 'InvalidAccessException',
        errorCode: 0,
        eventId: 3000,
      },
    });
    const e = await rejection(pats.listAll());
    assert.equal(e.kind, 'auth');
    assert.match(e.message, /service principals and managed identities cannot/);
  });

  it('updates with only the given fields', async () => {
    server.enqueue({
      status: 200,
      body: { patToken: patJson(3, { validTo: '2021-01-01T00:00:00Z' }), patTokenError: 'none' },
    });
    const pat = await pats.update({ authorizationId: 'id-3', validTo: new Date('2021-01-01T00:00:00Z') });
    assert.equal(pat.validTo.toISOString(), '2021-01-01T00:00:00.000Z');
    assert.equal(server.log[0].method, 'PUT');
    assert.deepEqual(server.log[0].json, { authorizationId: 'id-3', validTo: '2021-01-01T00:00:00.000Z' });
  });

  it('revokes with 200, 204 or 204 {}', async () => {
    server.enqueue({ status: 200 }, { status: 204 }, { status: 200, body: {} });
    await pats.revoke('id-1');
    await pats.revoke('id-2');
    await pats.revoke('id-3');
    assert.deepEqual(
      server.log.map((r) => [r.method, r.url]),
      [
        ['DELETE', '/contoso/_apis/tokens/pats?authorizationId=id-1&api-version=7.1-preview.1'],
        ['DELETE', '/contoso/_apis/tokens/pats?authorizationId=id-2&api-version=7.1-preview.1'],
        ['DELETE', '/contoso/_apis/tokens/pats?authorizationId=id-3&api-version=7.1-preview.1'],
      ],
    );
  });

  it('uses the given api-version', async () => {
    pats = new PatClient(http, `${server.url}/contoso`, credential, '7.2-preview.1');
    server.enqueue({ status: 204 });
    await pats.revoke('id');
    assert.match(server.log[0].url, /api-version=7\.2-preview\.1$/);
  });
});

describe('ado/pats: ids in one case', () => {
  it('lowercases authorizationId, so an id in another case is still the same PAT everywhere', async () => {
    const { toPatToken } = await import('../../tasks/PatRotate/src/ado/pats');
    const p = toPatToken({
      authorizationId: 'E382FCBF-0000-4000-8000-00000000000A',
      displayName: 'x',
      scope: 'vso.code',
      targetAccounts: ['o'],
      validFrom: '2026-11-01T00:00:00Z',
      validTo: '2026-12-01T00:00:00Z',
    });
    assert.equal(p.authorizationId, 'e382fcbf-0000-4000-8000-00000000000a');
  });
});
