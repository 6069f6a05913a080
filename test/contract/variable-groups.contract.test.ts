// Variable groups of the emulator held against distributedTask 7.1/7.2 swagger + httpExamples.
import assert from 'node:assert/strict';
import { start, type Emulator, type Project, type User } from '../emulator';
import { assertShape, call, DATE_RE, loadSpec, type Json } from './helpers';

const V = 'api-version=7.1';

describe('contract: variable groups', function () {
  this.timeout(10_000);
  const example = (name: string): Json => loadSpec(`distributedTask/7.2/httpExamples/variablegroups/${name}.json`);
  const defs = loadSpec('distributedTask/7.2/taskAgent.json').definitions;
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

  const seedExampleGroup = () =>
    em.state.addGroup('contoso', 'Platform', {
      name: 'TestVariableGroup1',
      description: 'Updated variable group',
      admins: [alice.identityId],
      variables: { key1: { value: 'value1' }, key2: { value: 'the-secret', isSecret: true } },
    });
  const putBody = (vars: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    variables: vars,
    type: 'Vsts',
    name: 'TestVariableGroup1',
    description: 'Updated variable group',
    variableGroupProjectReferences: [
      { name: 'TestVariableGroup1', description: '', projectReference: { id: project.id, name: 'Platform' } },
    ],
    ...extra,
  });

  it('GET by id answers like GET_VariableGroup.json; secrets masked, non-secrets without isSecret', async () => {
    const g = seedExampleGroup();
    const r = await call(em, 'GET', `/contoso/Platform/_apis/distributedtask/variablegroups/${g.id}?${V}`, { bearer });
    assert.equal(r.status, 200);
    const ex = example('GET_VariableGroup').responses['200'].body;
    assertShape(r.json, ex);
    assert.deepEqual(r.json.variables, ex.variables);
    for (const k of Object.keys(r.json))
      assert.ok(k in defs.VariableGroup.properties, `unknown VariableGroup field ${k}`);
    assert.match(r.json.createdOn, DATE_RE);
    assert.equal(r.json.createdBy.uniqueName, 'alice@contoso.example');
    assert.ok(!r.text.includes('the-secret'));
    const byProjectId = await call(
      em,
      'GET',
      `/contoso/${project.id}/_apis/distributedtask/variablegroups/${g.id}?${V}`,
      { bearer },
    );
    assert.equal(byProjectId.status, 200);
  });

  it('GET list: groupName exact and wildcard, groupIds, {count,value}, IdDescending default; api-version in Accept', async () => {
    seedExampleGroup();
    em.state.addGroup('contoso', 'Platform', { name: 'TestVariableGroup2', variables: { key1: { value: 'value1' } } });
    em.state.addGroup('contoso', 'Other', { name: 'TestVariableGroup3', variables: {} });
    const list = async (q: string) =>
      (
        await call(em, 'GET', `/contoso/Platform/_apis/distributedtask/variablegroups?${q}`, {
          bearer,
          headers: { Accept: 'application/json;api-version=7.2-preview.2' },
        })
      ).json;
    const wild = await list('groupName=Test*&queryOrder=IdDescending');
    assertShape(wild, example('GET_VariableGroupsByGroupName').responses['200'].body);
    assert.deepEqual(
      wild.value.map((g: Json) => g.id),
      [2, 1],
    );
    assert.equal(wild.count, 2);
    assert.deepEqual(
      (await list('groupName=testvariablegroup1')).value.map((g: Json) => g.name),
      ['TestVariableGroup1'],
    );
    assert.deepEqual(
      (await list('groupIds=1,3')).value.map((g: Json) => g.id),
      [1],
    );
    assert.deepEqual(
      (await list('queryOrder=IdAscending')).value.map((g: Json) => g.id),
      [1, 2],
    );
    assert.equal(
      (await call(em, 'GET', '/contoso/Platform/_apis/distributedtask/variablegroups', { bearer })).status,
      400,
    );
  });

  it('PUT answers like PUT_UpdateVariableGroup.json; replaces the set; null secret keeps the stored value', async () => {
    const g = seedExampleGroup();
    g.variables.gone = { value: 'bye' };
    g.variables.other = { value: 'keep-me', isSecret: true };
    const ex = example('PUT_UpdateVariableGroup');
    const body = putBody({
      ...ex.parameters.body.variables,
      other: { isSecret: true },
      added: { value: 'new-secret', isSecret: true },
    });
    const r = await call(em, 'PUT', `/contoso/_apis/distributedtask/variablegroups/${g.id}?${V}`, { bearer, body });
    assert.equal(r.status, 200);
    assertShape(r.json, ex.responses['200'].body);
    assert.deepEqual(r.json.createdBy, { displayName: null, id: alice.identityId });
    assert.deepEqual(r.json.variables.key2, { value: null, isSecret: true });
    const stored = em.state.group(g.id)?.variables;
    assert.deepEqual(stored, {
      key1: { value: 'value1' },
      key2: { value: 'the-secret', isSecret: true },
      other: { value: 'keep-me', isSecret: true },
      added: { value: 'new-secret', isSecret: true },
    });
    const overwrite = await call(em, 'PUT', `/contoso/_apis/distributedtask/variablegroups/${g.id}?${V}`, {
      bearer,
      body: putBody({ key2: { value: 'rotated', isSecret: true } }),
    });
    assert.equal(overwrite.status, 200);
    assert.deepEqual(em.state.group(g.id)?.variables, { key2: { value: 'rotated', isSecret: true } });
  });

  it('POST answers like POST_CreateVariableGroup.json; creator becomes administrator', async () => {
    const ex = example('POST_CreateVariableGroup');
    const body = {
      ...ex.parameters.body,
      variableGroupProjectReferences: [
        {
          ...ex.parameters.body.variableGroupProjectReferences[0],
          projectReference: { id: project.id, name: 'Platform' },
        },
      ],
    };
    const r = await call(em, 'POST', `/contoso/_apis/distributedtask/variablegroups?${V}`, { bearer, body });
    assert.equal(r.status, 200);
    assertShape(r.json, ex.responses['200'].body, '$', true);
    assert.deepEqual(r.json.variables, ex.responses['200'].body.variables);
    assert.equal(r.json.isShared, false);
    const dup = await call(em, 'POST', `/contoso/_apis/distributedtask/variablegroups?${V}`, { bearer, body });
    assert.equal(dup.status, 400);
    assert.match(dup.json.message, /already exists/);
    const put = await call(em, 'PUT', `/contoso/_apis/distributedtask/variablegroups/${r.json.id}?${V}`, {
      bearer,
      body,
    });
    assert.equal(put.status, 200);
  });

  it('refusals: no project reference 400, not administrator 403, Key Vault value 400, unknown id 404', async () => {
    const g = seedExampleGroup();
    const url = `/contoso/_apis/distributedtask/variablegroups/${g.id}?${V}`;
    const noRefs = await call(em, 'PUT', url, {
      bearer,
      body: { ...putBody({}), variableGroupProjectReferences: undefined },
    });
    assert.equal(noRefs.status, 400);
    assert.equal(noRefs.json.message, 'At least one variable group project reference is required.');
    const before = em.state.snapshot();
    const denied = await call(em, 'PUT', url, { bearer: em.state.issueAccessToken(bob.oid), body: putBody({}) });
    assert.equal(denied.status, 403);
    assert.equal(denied.json.typeKey, 'AccessDeniedException');
    const jobDenied = await call(em, 'PUT', url, { bearer: em.state.issueJobToken(), body: putBody({}) });
    assert.equal(jobDenied.status, 403);
    assert.equal(em.state.snapshot(), before);
    em.state.grantGroupAdmin(g.id, em.state.jobIdentityId());
    assert.equal(
      (await call(em, 'PUT', url, { bearer: em.state.issueJobToken(), body: putBody({ key2: { isSecret: true } }) }))
        .status,
      200,
    );
    const kv = em.state.addGroup('contoso', 'Platform', {
      name: 'kv',
      type: 'AzureKeyVault',
      admins: [alice.oid],
      variables: { s1: { value: null, isSecret: true } },
      providerData: { serviceEndpointId: 'x', vault: 'v' },
    });
    const kvBody = { ...putBody({ s1: { value: 'nope', isSecret: true } }), name: 'kv', type: 'AzureKeyVault' };
    const kvPut = await call(em, 'PUT', `/contoso/_apis/distributedtask/variablegroups/${kv.id}?${V}`, {
      bearer,
      body: kvBody,
    });
    assert.equal(kvPut.status, 400);
    assert.equal(kvPut.json.typeKey, 'InvalidOperationException');
    assert.equal(
      (await call(em, 'GET', `/contoso/Platform/_apis/distributedtask/variablegroups/99?${V}`, { bearer })).status,
      404,
    );
    assert.equal(
      (await call(em, 'GET', `/contoso/Other/_apis/distributedtask/variablegroups/${g.id}?${V}`, { bearer })).status,
      404,
    );
    assert.equal(
      (
        await call(em, 'GET', `/contoso/Platform/_apis/distributedtask/variablegroups/${g.id}?${V}`, {
          bearer: em.state.issueJobToken(),
        })
      ).status,
      200,
    );
    assert.equal(
      (await call(em, 'GET', `/contoso/Platform/_apis/distributedtask/variablegroups/${g.id}?${V}`)).status,
      401,
    );
  });
});
