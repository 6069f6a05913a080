import assert from 'node:assert/strict';
import { AdoHttp } from '../../tasks/PatRotate/src/ado/http';
import { VariableGroupClient } from '../../tasks/PatRotate/src/ado/variableGroups';
import { directNetwork } from '../../tasks/PatRotate/src/net/network';
import { recordingSleep, startFakeServer, type FakeServer } from '../helpers/fakeServer';
import { rejection } from '../helpers/rejection';
import { setSecret } from '../helpers/groups';

const credential = { kind: 'bearer', token: 'entra-token' } as const;
const refs = [{ name: 'Secrets', description: '', projectReference: { id: 'p-1', name: 'Proj' } }];

function groupJson(extra: Record<string, unknown> = {}) {
  return {
    id: 12,
    name: 'Secrets',
    description: 'keep me',
    type: 'Vsts',
    isShared: false,
    variables: {
      plain: { value: 'v1' },
      locked: { value: 'v2', isReadOnly: true },
      OtherSecret: { value: null, isSecret: true },
      MY_PAT: { value: null, isSecret: true },
    },
    variableGroupProjectReferences: refs,
    createdBy: { id: 'u' },
    modifiedOn: '2025-01-10T12:24:46.9866667Z',
    ...extra,
  };
}

describe('ado/variableGroups VariableGroupClient', () => {
  let server: FakeServer;
  let http: AdoHttp;
  let groups: VariableGroupClient;

  beforeEach(async () => {
    server = await startFakeServer();
    http = new AdoHttp(directNetwork, { retry: { sleep: recordingSleep().sleep } });
    groups = new VariableGroupClient(http, `${server.url}/contoso/`, credential);
  });
  afterEach(async () => {
    http.dispose();
    await server.close();
  });

  it('finds a group by id', async () => {
    server.enqueue({ status: 200, body: groupJson() });
    const g = await groups.find('My Proj', '12');
    assert.equal(g.name, 'Secrets');
    assert.equal(g.project, 'My Proj');
    assert.equal(server.log[0].url, '/contoso/My%20Proj/_apis/distributedtask/variablegroups/12?api-version=7.1');
  });

  it('finds a group by exact name, case-insensitively, among wildcard-ish matches', async () => {
    server.enqueue({
      status: 200,
      body: { count: 2, value: [groupJson({ id: 1, name: 'secrets-old' }), groupJson({ id: 2, name: 'SECRETS' })] },
    });
    const g = await groups.find('Proj', 'secrets');
    assert.equal(g.id, 2);
    assert.equal(
      server.log[0].url,
      '/contoso/Proj/_apis/distributedtask/variablegroups?groupName=secrets&api-version=7.1',
    );
  });

  it('URL-encodes the group name', async () => {
    server.enqueue({ status: 200, body: { count: 1, value: [groupJson({ name: 'a&b c' })] } });
    await groups.find('Proj', 'a&b c');
    assert.match(server.log[0].url, /groupName=a%26b%20c&/);
  });

  it('reports a missing group with its name, project and a fix', async () => {
    server.enqueue(
      { status: 200, body: { count: 0, value: [] } },
      { status: 200, body: '' },
      { status: 404, body: { message: 'nope' } },
    );
    for (const key of ['Nope', '99', '98']) {
      const e = await rejection(groups.find('Proj', key));
      assert.equal(e.kind, 'notFound');
      assert.match(e.message, new RegExp(`Variable group '${key}' was not found in project 'Proj'.*Library`));
    }
  });

  it('sets one secret and sends every other variable as read, secrets as {isSecret:true,value:null}', async () => {
    server.enqueue({ status: 200, body: groupJson() }, { status: 200, body: groupJson() });
    const g = await groups.find('Proj', '12');
    server.enqueue({ status: 200, body: groupJson() });
    await setSecret(groups, g, 'my_pat', 'the-new-pat');
    const put = server.log[2];
    assert.equal(server.log[1].method, 'GET', 'reads the group again right before writing');
    assert.equal(put.method, 'PUT');
    assert.equal(put.url, '/contoso/_apis/distributedtask/variablegroups/12?api-version=7.1');
    assert.deepEqual(put.json, {
      name: 'Secrets',
      description: 'keep me',
      type: 'Vsts',
      variables: {
        plain: { value: 'v1' },
        locked: { value: 'v2', isReadOnly: true },
        OtherSecret: { value: null, isSecret: true },
        MY_PAT: { value: 'the-new-pat', isSecret: true },
      },
      variableGroupProjectReferences: refs,
    });
  });

  it('adds a new secret variable when none matches', async () => {
    server.enqueue(
      { status: 200, body: groupJson() },
      { status: 200, body: groupJson() },
      { status: 200, body: groupJson() },
    );
    const g = await groups.find('Proj', '12');
    await setSecret(groups, g, 'NEW_PAT', 'v');
    assert.deepEqual(server.log[2].json.variables.NEW_PAT, { value: 'v', isSecret: true });
    assert.equal(Object.keys(server.log[2].json.variables).length, 5);
  });

  it('refuses a Key Vault group without writing', async () => {
    const kv = groupJson({ type: 'AzureKeyVault', providerData: { serviceEndpointId: 'se', vault: 'kv' } });
    server.enqueue({ status: 200, body: kv });
    const g = await groups.find('Proj', '12');
    const e = await rejection(groups.replace(g, { MY_PAT: 'v' }));
    assert.match(
      e.message,
      /linked to Azure Key Vault; its values come from the vault: store the PAT in Key Vault instead/,
    );
    assert.equal(server.log.length, 1);
  });

  it('refuses when the group became Key Vault-linked since it was found', async () => {
    server.enqueue({ status: 200, body: groupJson() }, { status: 200, body: groupJson({ type: 'AzureKeyVault' }) });
    const g = await groups.find('Proj', '12');
    await rejection(setSecret(groups, g, 'MY_PAT', 'v'));
    assert.equal(server.log.length, 2);
  });

  it('explains a 403 on the PUT with the identity and the Administrator role', async () => {
    server.enqueue(
      { status: 200, body: groupJson() },
      { status: 200, body: groupJson() },
      { status: 403, body: { message: 'denied' } },
    );
    const g = await groups.find('Proj', '12');
    const e = await rejection(setSecret(groups, g, 'MY_PAT', 'v', 'rotator@contoso.com'));
    assert.equal(e.kind, 'forbidden');
    assert.match(
      e.message,
      /'rotator@contoso.com' may not change variable group 'Secrets'.*Administrator role.*Library → Secrets → Security/,
    );
    assert.ok(!e.message.includes('"v"'));
  });
});
