// The variable group client against the local Azure DevOps emulator: the stored secrets are what counts.
import assert from 'node:assert/strict';
import { start, type Emulator } from '../emulator';
import { AdoHttp } from '../../tasks/PatRotate/src/ado/http';
import { AdoError } from '../../tasks/PatRotate/src/ado/errors';
import { VariableGroupClient } from '../../tasks/PatRotate/src/ado/variableGroups';
import { storeConfirmed } from '../../tasks/PatRotate/src/rotation/storeConfirmed';
import { VariableGroupStore } from '../../tasks/PatRotate/src/rotation/stores';
import { directNetwork } from '../../tasks/PatRotate/src/net/network';
import { recordingSleep } from '../helpers/fakeServer';
import { rejection } from '../helpers/rejection';
import { setSecret } from '../helpers/groups';

describe('integration: ado variable group client ↔ emulator', function () {
  this.timeout(20_000);
  let emu: Emulator;
  let http: AdoHttp;
  let clock: ReturnType<typeof recordingSleep>;
  let oid: string;
  let groups: VariableGroupClient;

  beforeEach(async () => {
    emu = await start();
    clock = recordingSleep();
    http = new AdoHttp(
      { ...directNetwork, cert: { caFile: emu.caFile }, timeoutMs: 2_000 },
      { retry: { sleep: clock.sleep } },
    );
    emu.state.addOrg('contoso');
    emu.state.addProject('contoso', 'Web App');
    emu.state.addProject('contoso', 'Other');
    oid = emu.state.addUser({ upn: 'rotator@contoso.com' }).oid;
    groups = new VariableGroupClient(http, `${emu.url}/contoso`, {
      kind: 'bearer',
      token: emu.state.issueAccessToken(oid),
    });
  });
  afterEach(async () => {
    http.dispose();
    await emu.close();
  });

  function seed(o: { admin?: boolean; type?: 'Vsts' | 'AzureKeyVault'; sharedWith?: string[] } = {}) {
    return emu.state.addGroup('contoso', 'Web App', {
      name: 'Deploy Secrets',
      type: o.type,
      description: 'rotated by PatRotate',
      admins: o.admin === false ? undefined : [oid],
      sharedWith: o.sharedWith,
      providerData: o.type === 'AzureKeyVault' ? { serviceEndpointId: 'se-1', vault: 'kv-contoso' } : undefined,
      variables: {
        plain: { value: 'hello' },
        locked: { value: 'ro', isReadOnly: true },
        DB_PASSWORD: { value: 'p@ss', isSecret: true },
        MY_PAT: { value: 'old-pat', isSecret: true },
      },
    });
  }

  it('finds by name (case-insensitive) and by id', async () => {
    const g = seed();
    assert.equal((await groups.find('Web App', 'deploy secrets')).id, g.id);
    assert.equal((await groups.find('Web App', String(g.id))).name, 'Deploy Secrets');
  });

  it('reports a missing group with name, project and fix', async () => {
    seed();
    for (const key of ['Nope', '999']) {
      const e = await rejection(groups.find('Web App', key));
      assert.equal(e.kind, 'notFound');
      assert.match(e.message, new RegExp(`'${key}' was not found in project 'Web App'`));
    }
  });

  it('sets the secret and keeps every other stored value', async () => {
    const g = seed({ sharedWith: ['Other'] });
    const found = await groups.find('Web App', 'Deploy Secrets');
    await setSecret(groups, found, 'MY_PAT', 'brand-new-pat');
    const stored = emu.state.group(g.id);
    assert.deepEqual(stored?.variables, {
      plain: { value: 'hello' },
      locked: { value: 'ro', isReadOnly: true },
      DB_PASSWORD: { value: 'p@ss', isSecret: true },
      MY_PAT: { value: 'brand-new-pat', isSecret: true },
    });
    assert.equal(stored?.description, 'rotated by PatRotate');
    assert.deepEqual(stored?.projectRefs.map((r) => r.projectName).sort(), ['Other', 'Web App']);
    // Reading it back never shows the secret.
    const again = await groups.find('Web App', String(g.id));
    assert.deepEqual(again.variables.MY_PAT, { value: null, isSecret: true });
  });

  it('adds a new secret variable', async () => {
    const g = seed();
    await setSecret(groups, await groups.find('Web App', String(g.id)), 'NEW_PAT', 'v1');
    assert.deepEqual(emu.state.group(g.id)?.variables.NEW_PAT, { value: 'v1', isSecret: true });
    assert.equal(emu.state.group(g.id)?.variables.DB_PASSWORD.value, 'p@ss');
  });

  it('refuses a Key Vault-linked group without writing', async () => {
    const g = seed({ type: 'AzureKeyVault' });
    const found = await groups.find('Web App', String(g.id));
    const e = await rejection(setSecret(groups, found, 'MY_PAT', 'v'));
    assert.match(e.message, /linked to Azure Key Vault.*store the PAT in Key Vault instead/);
    assert.equal(emu.log.filter((l) => l.method === 'PUT').length, 0);
    assert.equal(emu.state.group(g.id)?.variables.MY_PAT.value, 'old-pat');
  });

  it('explains a 403 with the identity and the Administrator role', async () => {
    const g = seed({ admin: false });
    const e = await rejection(
      setSecret(groups, await groups.find('Web App', String(g.id)), 'MY_PAT', 'v', 'rotator@contoso.com'),
    );
    assert.equal(e.kind, 'forbidden');
    assert.equal(e.status, 403);
    assert.match(e.message, /'rotator@contoso.com' may not change variable group 'Deploy Secrets'.*Administrator role/);
    assert.equal(emu.state.group(g.id)?.variables.MY_PAT.value, 'old-pat');
  });

  it('never resends a failed PUT as is (it would carry a stale read): the error says when to write again', async () => {
    const g = seed();
    emu.faults.add({
      method: 'PUT',
      path: `/contoso/_apis/distributedtask/variablegroups/${g.id}`,
      times: 1,
      action: { kind: 'status', status: 503, retryAfterSeconds: 2 },
    });
    const e = await rejection(setSecret(groups, await groups.find('Web App', String(g.id)), 'MY_PAT', 'after-retry'));
    assert.ok(e instanceof AdoError && e.retryAfterMs === 2000 && e.status === 503);
    assert.equal(emu.log.filter((x) => x.method === 'PUT').length, 1);
  });

  it('the store writes again from a fresh read after Retry-After, and confirms the value', async () => {
    const g = seed();
    emu.faults.add({
      method: 'PUT',
      path: `/contoso/_apis/distributedtask/variablegroups/${g.id}`,
      times: 1,
      action: { kind: 'status', status: 503, retryAfterSeconds: 2 },
    });
    const waits: number[] = [];
    const store = new VariableGroupStore(groups, await groups.find('Web App', String(g.id)));
    const results = await storeConfirmed(
      store,
      { MY_PAT: 'after-retry' },
      {
        wait: (ms) => {
          waits.push(ms);
          return Promise.resolve();
        },
      },
    );
    assert.deepEqual(results.get('MY_PAT'), { kind: 'stored', writes: 2 });
    assert.deepEqual(waits, [2000]);
    assert.equal(emu.state.group(g.id)?.variables.MY_PAT.value, 'after-retry');
    const gets = emu.log.filter((x) => x.method === 'GET' && x.path.endsWith(`/variablegroups/${g.id}`)).length;
    assert.ok(gets >= 3, 'a fresh read before each write, and one to confirm');
  });
});
