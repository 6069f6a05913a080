// The administrator's APIs of the emulator (Graph users, Token Admin) held against Microsoft's httpExamples, and the
// promise that Token Admin and the PAT Lifecycle API show the same PATs.
import assert from 'node:assert/strict';
import { start, type Emulator, type User } from '../emulator';
import { assertShape, call, DAY, loadSpec, type Json } from './helpers';

const USERS = '/contoso/_apis/graph/users?subjectTypes=aad,msa&api-version=7.1-preview.1';
const ADMIN = '/contoso/_apis/tokenadmin/personalaccesstokens/';

describe('contract: Graph users and Token Admin', function () {
  this.timeout(10_000);
  const usersExample: Json = loadSpec('graph/7.1/httpExamples/Users/GetAllUsers.json');
  const patsExample: Json = loadSpec(
    'tokenAdmin/7.1/httpExamples/personalAccessTokens/GetPersonalAccessTokensForAUserInYourOrganization.json',
  );
  let em: Emulator;
  let admin: User;
  let bearer: string;

  beforeEach(async () => {
    em = await start();
    em.state.addOrg('contoso');
    em.state.addOrg('fabrikam');
    admin = em.state.addUser({ upn: 'admin@contoso.example' });
    em.state.collectionAdmins.add(admin.oid);
    bearer = em.state.issueAccessToken(admin.oid);
  });
  afterEach(() => em.close());

  it('Graph users: the example shape, aad and msa only, paged by the X-MS-ContinuationToken header', async () => {
    for (let i = 0; i < 4; i++) em.state.addUser({ upn: `u${i}@x.example`, origin: i === 0 ? 'msa' : 'aad' });
    em.state.addUser({ upn: 'build', origin: 'vsts' });
    em.state.graphPageSize = 3;
    const first = await call(em, 'GET', USERS, { bearer });
    assert.equal(first.status, 200);
    assertShape(first.json, { count: 0, value: usersExample.responses['200'].body.value.slice(1, 2) });
    const token = first.headers['x-ms-continuationtoken'];
    assert.equal(typeof token, 'string');
    const second = await call(em, 'GET', `${USERS}&continuationToken=${encodeURIComponent(String(token))}`, { bearer });
    assert.equal(second.headers['x-ms-continuationtoken'], undefined, 'the last page has no token');
    const all = [...first.json.value, ...second.json.value] as Json[];
    assert.deepEqual(
      all.map((u) => u.principalName),
      ['admin@contoso.example', 'u0@x.example', 'u1@x.example', 'u2@x.example', 'u3@x.example'],
    );
    assert.deepEqual(
      all.map((u) => String(u.descriptor).split('.')[0]),
      ['aad', 'msa', 'aad', 'aad', 'aad'],
    );
  });

  it('Token Admin: the example shape (exact keys), no token values, paged by continuationToken in the body', async () => {
    for (let i = 0; i < 3; i++)
      em.state.addPat(admin.oid, 'contoso', {
        displayName: `p${i}`,
        scope: 'vso.code',
        validTo: new Date(Date.now() + DAY),
      });
    const users = await call(em, 'GET', USERS, { bearer });
    const d = users.json.value[0].descriptor as string;
    const page1 = await call(em, 'GET', `${ADMIN}${d}?pageSize=2&api-version=7.1-preview.1`, { bearer });
    assert.equal(page1.status, 200);
    assertShape(page1.json, patsExample.responses['200'].body, '$', true);
    assert.equal(page1.json.value.length, 2);
    assert.ok(page1.json.value.every((t: Json) => t.token === null && t.alternateToken === null));
    const page2 = await call(
      em,
      'GET',
      `${ADMIN}${d}?pageSize=2&continuationToken=${encodeURIComponent(page1.json.continuationToken as string)}&api-version=7.1-preview.1`,
      { bearer },
    );
    assert.equal(page2.json.value.length, 1);
    assert.equal(page2.json.continuationToken, null);
  });

  it('Token Admin and the PAT API agree on the same PATs (ids, names, scopes, dates, targets)', async () => {
    const made = await call(em, 'POST', '/contoso/_apis/tokens/pats?api-version=7.1-preview.1', {
      bearer,
      body: {
        displayName: 'made',
        scope: 'vso.build',
        validTo: new Date(Date.now() + 5 * DAY).toISOString(),
        allOrgs: true,
      },
    });
    em.state.addPat(admin.oid, 'fabrikam', {
      displayName: 'elsewhere',
      scope: 'vso.code',
      validTo: new Date(Date.now() + DAY),
    });
    const listed = await call(
      em,
      'GET',
      '/contoso/_apis/tokens/pats?displayFilterOption=all&api-version=7.1-preview.1',
      {
        bearer,
      },
    );
    const users = await call(em, 'GET', USERS, { bearer });
    const viaAdmin = await call(
      em,
      'GET',
      `${ADMIN}${users.json.value[0].descriptor as string}?api-version=7.1-preview.1`,
      {
        bearer,
      },
    );
    const pick = (t: Json) => [t.authorizationId, t.displayName, t.scope, t.validFrom, t.validTo, t.targetAccounts];
    assert.deepEqual(viaAdmin.json.value.map(pick), listed.json.patTokens.map(pick));
    assert.equal(viaAdmin.json.value[0].authorizationId, made.json.patToken.authorizationId);
  });

  it('refuses a non-administrator with 403 AccessCheckException, and an anonymous caller with 401', async () => {
    const bob = em.state.addUser({ upn: 'bob@contoso.example' });
    const bobBearer = em.state.issueAccessToken(bob.oid);
    for (const path of [USERS, `${ADMIN}aad.eA?api-version=7.1-preview.1`]) {
      const r = await call(em, 'GET', path, { bearer: bobBearer });
      assert.equal(r.status, 403, path);
      assert.equal(r.json.typeKey, 'AccessCheckException');
      const anon = await call(em, 'GET', path, { headers: { 'X-TFS-FedAuthRedirect': 'Suppress' } });
      assert.equal(anon.status, 401);
    }
  });
});
