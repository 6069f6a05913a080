// Auth modes of the PAT API and Azure DevOps core (connectionData) in the emulator.
import assert from 'node:assert/strict';
import { start, type Emulator, type User } from '../emulator';
import { call, DAY } from './helpers';

const PATS = '/contoso/_apis/tokens/pats?api-version=7.1-preview.1';
const CD = '/contoso/_apis/connectionData';

describe('contract: auth modes and connectionData', function () {
  this.timeout(10_000);
  let em: Emulator;
  let alice: User;

  beforeEach(async () => {
    em = await start();
    em.state.addOrg('contoso');
    em.state.addOrg('fabrikam');
    alice = em.state.addUser({ upn: 'alice@contoso.example' });
  });
  afterEach(() => em.close());

  it('PAT API: service principal → 403 with the exact InvalidAccessException body', async () => {
    const r = await call(em, 'GET', PATS, { bearer: em.state.issueAppToken({ clientId: 'app-1' }) });
    assert.equal(r.status, 403);
    assert.equal(
      r.text,
      '{"$id":"1","innerException":null,"message":"Service principals are not allowed to perform this action.","typeName":"Microsoft.TeamFoundation.Framework.Server.InvalidAccessException, Microsoft.TeamFoundation.Framework.Server","typeKey":"InvalidAccessException","errorCode":0,"eventId":3000}',
    );
  });

  it('PAT API: Basic PAT and job token → 401 TF400813 UnauthorizedRequestException', async () => {
    const { token } = em.state.addPat(alice.oid, 'contoso', {
      displayName: 'x',
      scope: 'app_token',
      validTo: new Date(Date.now() + DAY),
    });
    for (const o of [{ basicPat: token }, { bearer: em.state.issueJobToken() }]) {
      const r = await call(em, 'GET', PATS, o);
      assert.equal(r.status, 401);
      assert.equal(r.json.typeKey, 'UnauthorizedRequestException');
      assert.match(r.json.message, /^TF400813: /);
      assert.equal(r.json.$id, '1');
    }
    assert.deepEqual(
      em.log.map((e) => e.auth),
      ['basic', 'bearer-job'],
    );
  });

  it('PAT API: anonymous / unknown / expired / wrong-audience bearer → 203 sign-in HTML, or 401 JSON with Suppress', async () => {
    const variants = [
      {},
      { bearer: 'not-a-token' },
      { bearer: em.state.issueAccessToken(alice.oid, { expiresInSeconds: -60 }) },
      { bearer: em.state.issueAccessToken(alice.oid, { audience: 'https://graph.microsoft.com' }) },
    ];
    for (const o of variants) {
      const html = await call(em, 'GET', PATS, o);
      assert.equal(html.status, 203);
      assert.match(String(html.headers['content-type']), /text\/html/);
      assert.match(html.text, /^<!DOCTYPE html>[\s\S]*<title>Azure DevOps Services \| Sign In<\/title>/);
      const suppressed = await call(em, 'GET', PATS, { ...o, headers: { 'X-TFS-FedAuthRedirect': 'Suppress' } });
      assert.equal(suppressed.status, 401);
      assert.equal(suppressed.json.typeKey, 'UnauthorizedRequestException');
    }
  });

  it('connectionData: user bearer, job token and Basic PAT (live, this org or global) → 200', async () => {
    const { token } = em.state.addPat(alice.oid, 'contoso', {
      displayName: 'x',
      scope: 'vso.code',
      validTo: new Date(Date.now() + DAY),
    });
    const global = em.state.addPat(alice.oid, 'fabrikam', {
      displayName: 'g',
      scope: 'vso.code',
      validTo: new Date(Date.now() + DAY),
      allOrgs: true,
    }).token;
    for (const o of [{ bearer: em.state.issueAccessToken(alice.oid) }, { basicPat: token }, { basicPat: global }]) {
      const r = await call(em, 'GET', CD, o);
      assert.equal(r.status, 200);
      assert.deepEqual(Object.keys(r.json), [
        'authenticatedUser',
        'authorizedUser',
        'instanceId',
        'deploymentId',
        'deploymentType',
        'locationServiceData',
      ]);
      assert.equal(r.json.authenticatedUser.id, alice.identityId);
      assert.equal(r.json.authenticatedUser.isActive, true);
      assert.equal(r.json.deploymentType, 'hosted');
      assert.equal(r.json.instanceId, em.state.org('contoso')?.id);
    }
    const job = await call(em, 'GET', CD, {
      bearer: em.state.issueJobToken('Project Collection Build Service (contoso)'),
    });
    assert.equal(job.status, 200);
    assert.equal(job.json.authenticatedUser.providerDisplayName, 'Project Collection Build Service (contoso)');
    // any user name in Basic
    const named = await call(em, 'GET', CD, {
      headers: { Authorization: `Basic ${Buffer.from(`someone:${token}`).toString('base64')}` },
    });
    assert.equal(named.status, 200);
  });

  it('connectionData: revoked, expired, other-org, unknown PAT and anonymous → 401 VSS error', async () => {
    const s = em.state;
    const revoked = s.addPat(alice.oid, 'contoso', {
      displayName: 'r',
      scope: 'vso.code',
      validTo: new Date(Date.now() + DAY),
      revoked: true,
    }).token;
    const expired = s.addPat(alice.oid, 'contoso', {
      displayName: 'e',
      scope: 'vso.code',
      validTo: new Date(Date.now() - DAY),
    }).token;
    const other = s.addPat(alice.oid, 'fabrikam', {
      displayName: 'o',
      scope: 'vso.code',
      validTo: new Date(Date.now() + DAY),
    }).token;
    for (const o of [
      { basicPat: revoked },
      { basicPat: expired },
      { basicPat: other },
      { basicPat: 'x'.repeat(52) },
      {},
    ]) {
      const r = await call(em, 'GET', CD, o);
      assert.equal(r.status, 401);
      assert.equal(r.json.typeKey, 'UnauthorizedRequestException');
    }
  });

  it('connectionData: a PAT created through the API fails its first patPropagationCalls verifications', async () => {
    em.state.patPropagationCalls = 2;
    const bearer = em.state.issueAccessToken(alice.oid);
    const created = await call(em, 'POST', PATS, {
      bearer,
      body: { displayName: 'new', scope: 'vso.code', validTo: new Date(Date.now() + DAY).toISOString() },
    });
    const token: string = created.json.patToken.token;
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await call(em, 'GET', CD, { basicPat: token })).status);
    assert.deepEqual(statuses, [401, 401, 200, 200]);
    const seeded = em.state.addPat(alice.oid, 'contoso', {
      displayName: 's',
      scope: 'vso.code',
      validTo: new Date(Date.now() + DAY),
    }).token;
    assert.equal((await call(em, 'GET', CD, { basicPat: seeded })).status, 200);
  });

  it('unknown organisation → 404; the log records every request in order with auth kind and status', async () => {
    const r = await call(em, 'GET', '/nope/_apis/connectionData', { bearer: em.state.issueAccessToken(alice.oid) });
    assert.equal(r.status, 404);
    await call(em, 'GET', `${CD}?x=1`);
    assert.deepEqual(
      em.log.map((e) => [e.seq, e.method, e.path, e.status, e.auth]),
      [
        [1, 'GET', '/nope/_apis/connectionData', 404, 'bearer-user'],
        [2, 'GET', CD, 401, 'none'],
      ],
    );
    assert.deepEqual(em.log[1].query, { x: '1' });
  });
});
