// Service connections of the emulator held against serviceEndpoint 7.1 swagger + httpExamples.
import assert from 'node:assert/strict';
import { start, type Emulator, type Project, type User } from '../emulator';
import { assertShape, call, loadSpec, type Json } from './helpers';

const V = 'api-version=7.1';

describe('contract: service endpoints', function () {
  this.timeout(10_000);
  const example = (name: string): Json => loadSpec(`serviceEndpoint/7.1/httpExamples/endpoints/${name}.json`);
  const defs = loadSpec('serviceEndpoint/7.1/serviceEndpoint.json').definitions;
  let em: Emulator;
  let alice: User;
  let bob: User;
  let project: Project;
  let bearer: string;

  beforeEach(async () => {
    em = await start();
    em.state.addOrg('contoso');
    project = em.state.addProject('contoso', 'Platform');
    em.state.addProject('contoso', 'Other');
    alice = em.state.addUser({ upn: 'alice@contoso.example', displayName: 'Alice' });
    bob = em.state.addUser({ upn: 'bob@contoso.example' });
    bearer = em.state.issueAccessToken(alice.oid);
  });
  afterEach(() => em.close());

  const seed = (roles: Record<string, 'Administrator' | 'User' | 'Reader'> = {}, sharedWith?: string[]) =>
    em.state.addEndpoint('contoso', 'Platform', {
      name: 'MyNewServiceEndpoint',
      type: 'Generic',
      url: 'https://myserver',
      scheme: 'UsernamePassword',
      parameters: { username: 'myusername', password: 'the-secret' },
      roles: { [alice.identityId]: 'Administrator', ...roles },
      sharedWith,
    });
  const byId = (id: string, query = '') => `/contoso/Platform/_apis/serviceendpoint/endpoints/${id}?${V}${query}`;

  it('GET by id answers like GetServiceEndpointDetails.json: the secret null, the username kept', async () => {
    const e = seed();
    const r = await call(em, 'GET', byId(e.id), { bearer });
    assert.equal(r.status, 200);
    const ex = example('GetServiceEndpointDetails').responses['200'].body;
    assertShape(r.json, ex);
    assert.deepEqual(r.json.authorization, ex.authorization);
    for (const k of Object.keys(r.json))
      assert.ok(k in defs.ServiceEndpoint.properties, `unknown ServiceEndpoint field ${k}`);
    assert.equal(r.json.isReady, true);
    assert.ok(!r.text.includes('the-secret'));
  });

  it('GET by name answers like GetServiceEndpointsByName.json: the secret left out', async () => {
    seed();
    const r = await call(
      em,
      'GET',
      `/contoso/${project.id}/_apis/serviceendpoint/endpoints?endpointNames=MyNewServiceEndpoint&${V}`,
      { bearer },
    );
    assert.equal(r.status, 200);
    const ex = example('GetServiceEndpointsByName').responses['200'].body;
    assertShape(r.json, ex);
    assert.equal(r.json.count, 1);
    assert.deepEqual(r.json.value[0].authorization, ex.value[0].authorization);
  });

  it('PUT replaces the whole endpoint, as UpdateServiceEndpoint.json; the answer hides the secret', async () => {
    const e = seed();
    const ex = example('UpdateServiceEndpoint');
    const body = {
      ...ex.parameters.body,
      id: e.id,
      serviceEndpointProjectReferences: [
        { projectReference: { id: project.id, name: 'Platform' }, name: 'MyNewServiceEndpoint' },
      ],
    };
    const r = await call(em, 'PUT', `/contoso/_apis/serviceendpoint/endpoints/${e.id}?${V}`, { bearer, body });
    assert.equal(r.status, 200);
    assertShape(r.json, ex.responses['200'].body);
    assert.deepEqual(r.json.authorization, ex.responses['200'].body.authorization);
    assert.equal(e.name, 'UpdatedServiceEndpoint');
    assert.deepEqual(e.parameters, { username: 'myupdatedusername', password: 'myupdatedpassword' });
  });

  it('PUT without the secret erases it (no "keep the old one"), and the endpoint is no longer ready', async () => {
    const e = seed();
    const got = await call(em, 'GET', byId(e.id), { bearer });
    const r = await call(em, 'PUT', `/contoso/_apis/serviceendpoint/endpoints/${e.id}?${V}`, {
      bearer,
      body: got.json,
    });
    assert.equal(r.status, 200);
    assert.equal(e.parameters.password, null);
    assert.equal(r.json.isReady, false);
  });

  it('roles per identity: a User may read but not PUT, and actionFilter=manage answers only an Administrator', async () => {
    const e = seed({ [bob.oid]: 'User' });
    const bobToken = em.state.issueAccessToken(bob.oid);
    const read = await call(em, 'GET', byId(e.id), { bearer: bobToken });
    assert.equal(read.json.id, e.id);
    const manage = await call(em, 'GET', byId(e.id, '&actionFilter=manage'), { bearer: bobToken });
    assert.equal(manage.status, 200);
    assert.equal(manage.text, '');
    assert.equal((await call(em, 'GET', byId(e.id, '&actionFilter=manage'), { bearer })).json.id, e.id);
    const put = await call(em, 'PUT', `/contoso/_apis/serviceendpoint/endpoints/${e.id}?${V}`, {
      bearer: bobToken,
      body: read.json,
    });
    assert.equal(put.status, 403);
    assert.match(put.json.message, /needs Administrator permissions for service connection MyNewServiceEndpoint/);
    assert.equal(e.parameters.password, 'the-secret');
  });

  it('a shared endpoint is one object seen from each project; an identity without a role sees nothing', async () => {
    const e = seed({}, ['Other']);
    const fromOther = await call(em, 'GET', `/contoso/Other/_apis/serviceendpoint/endpoints/${e.id}?${V}`, { bearer });
    assert.equal(fromOther.json.isShared, true);
    assert.equal(fromOther.json.serviceEndpointProjectReferences.length, 2);
    const carol = em.state.addUser({ upn: 'carol@contoso.example' });
    const hidden = await call(em, 'GET', byId(e.id), { bearer: em.state.issueAccessToken(carol.oid) });
    assert.equal(hidden.text, '');
  });
});
