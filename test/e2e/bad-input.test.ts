// Bad input, tenant policies, states and permissions: each fails with ONE clear line that names the input or the
// cause and says how to fix it, and changes nothing in Azure DevOps (the emulator's state is byte-identical).
import assert from 'node:assert/strict';
import { assertResult, worldPerTest, type World } from './world';

interface Case {
  name: string;
  inputs: (w: World) => Record<string, string | number | boolean | undefined>;
  /** Prepare the world (seed PATs, policies, groups) before the snapshot. */
  given?: (w: World) => void;
  env?: Record<string, string>;
  /** Must match the message: names the input or cause, and the fix. */
  expect: RegExp;
  /** Only the service knows its policy: the create is sent, and refused. */
  refusedByService?: true;
}

const rotate =
  (extra: Record<string, string | number | boolean> = {}) =>
  (w: World) => ({ ...w.signIn(), displayName: 'deploy', ...extra });
const create =
  (extra: Record<string, string | number | boolean> = {}) =>
  (w: World) => ({
    ...w.signIn(),
    operation: 'create',
    displayName: 'new-pat',
    scopes: 'vso.code',
    target: 'none',
    ...extra,
  });
const seedDeploy = (w: World) => void w.addPat('deploy', 2);

const CASES: Case[] = [
  {
    name: 'unknown operation',
    inputs: rotate({ operation: 'rotat' }),
    expect: /Input 'operation': 'rotat' is not one of rotate, create, renew, revoke, list/,
  },
  {
    name: 'unknown sign-in method',
    inputs: rotate({ authMethod: 'certificate' }),
    expect: /Input 'authMethod': 'certificate' is not one of/,
  },
  {
    name: 'missing refresh token',
    inputs: (w) => ({ ...w.signIn(), refreshToken: '', displayName: 'deploy' }),
    expect: /Input 'refreshToken': is required.*deviceCode/,
  },
  {
    name: 'missing password',
    inputs: (w) => ({
      authMethod: 'usernamePassword',
      username: 'alice@contoso.example',
      authorityHost: w.emu.url,
      displayName: 'deploy',
    }),
    expect: /Input 'password': is required/,
  },
  {
    name: 'authority over http',
    inputs: rotate({ authorityHost: 'http://login.example.com' }),
    expect: /Input 'authorityHost': .*must use https/,
  },
  {
    name: 'client id that is not a GUID',
    inputs: rotate({ clientId: 'my-app' }),
    expect: /Input 'clientId': 'my-app' is not an application \(client\) id GUID/,
  },
  {
    name: 'tenant with bad characters',
    inputs: rotate({ tenantId: 'contoso/evil' }),
    expect: /Input 'tenantId': .*GUID, a domain/,
  },
  {
    name: 'misspelt scope',
    inputs: create({ scopes: 'vso.code vso.packagin' }),
    expect: /Input 'scopes': 'vso.packagin' is not a documented Azure DevOps scope/,
  },
  {
    name: 'validity 0 days',
    inputs: rotate({ validityDays: 0 }),
    expect: /Input 'validityDays': '0' is not a whole number from 1 to 365/,
  },
  {
    name: 'validity over a year',
    inputs: rotate({ validityDays: 400 }),
    expect: /Input 'validityDays': '400' is not a whole number from 1 to 365/,
  },
  {
    name: 'concurrency 0',
    inputs: rotate({ concurrency: 0 }),
    expect: /Input 'concurrency': '0' is not a whole number from 1 to 16/,
  },
  {
    name: 'non-boolean dryRun',
    inputs: rotate({ dryRun: 'maybe' }),
    expect: /Input 'dryRun': 'maybe' is not a boolean: use true or false/,
  },
  {
    name: 'negative grace period',
    inputs: rotate({ retireOld: 'shorten', graceHours: -1 }),
    expect: /Input 'graceHours':/,
  },
  {
    name: 'unknown retire mode',
    inputs: rotate({ retireOld: 'delete' }),
    expect: /Input 'retireOld': 'delete' is not one of revoke, shorten, keep/,
  },
  {
    name: 'rotate without a selection',
    inputs: (w) => ({ ...w.signIn() }),
    expect: /Input 'displayName': rotate needs displayName .* or authorizationId/,
  },
  {
    name: 'both id and name',
    inputs: rotate({ authorizationId: '00000000-0000-4000-8000-000000000001' }),
    expect: /Input 'authorizationId': give either authorizationId or displayName, not both/,
  },
  {
    name: 'id that is not a GUID',
    inputs: (w) => ({ ...w.signIn(), authorizationId: '12345' }),
    expect: /Input 'authorizationId': '12345' is not a PAT authorization id/,
  },
  { name: 'create without scopes', inputs: create({ scopes: '' }), expect: /Input 'scopes': create needs the scopes/ },
  {
    name: 'create with a prefix',
    inputs: create({ displayName: 'svc-*' }),
    expect: /Input 'displayName': create needs an exact name/,
  },
  {
    name: 'createIfMissing without scopes',
    inputs: rotate({ createIfMissing: true }),
    expect: /Input 'scopes': createIfMissing needs the scopes/,
  },
  {
    name: 'group target without a group',
    inputs: rotate({ target: 'variableGroup' }),
    expect: /Input 'variableGroup': target variableGroup needs the name or id/,
  },
  {
    name: 'invalid variable name',
    inputs: rotate({ variableName: 'my token!' }),
    expect: /Input 'variableName': 'my token!' is not a valid variable name/,
  },
  {
    name: 'PAT stored over the refresh token',
    inputs: rotate({
      target: 'variableGroup',
      variableGroup: 'pat-store',
      variableName: 'PatRotate.RefreshToken',
      refreshTokenVariable: 'patrotate.refreshtoken',
    }),
    expect:
      /Input 'variableName': 'PatRotate.RefreshToken' is refreshTokenVariable in the same variable group.*Use another variableName/,
  },
  {
    name: 'variable name the agent reserves',
    inputs: rotate({ variableName: 'System.AccessToken' }),
    expect: /Input 'variableName': 'System.AccessToken' is a name the agent reserves/,
  },
  {
    name: 'a pipeline variable named like an output of the task',
    inputs: rotate({ variableName: 'RefreshToken' }),
    expect: /Input 'variableName': 'RefreshToken' is the name of one of the task's own output variables/,
  },
  {
    name: 'a plain variable of the group',
    inputs: rotate({ target: 'variableGroup', variableGroup: 'pat-store', variableName: 'plain.setting' }),
    given: seedDeploy,
    expect:
      /Input 'variableName': PAT 'deploy' would be stored as 'plain.setting', a plain \(not secret\) variable of group 'pat-store'/,
  },
  {
    name: 'PATH as the variable name',
    inputs: rotate({ variableName: 'path' }),
    expect: /Input 'variableName': 'path' is a name the agent reserves/,
  },
  {
    name: 'hexadecimal number',
    inputs: rotate({ validityDays: '0x1E' }),
    expect: /Input 'validityDays': '0x1E' is not a whole number from 1 to 365/,
  },
  {
    name: 'number in exponent form',
    inputs: rotate({ concurrency: '1e1' }),
    expect: /Input 'concurrency': '1e1' is not a whole number from 1 to 16/,
  },
  {
    name: 'refresh token store without a group',
    inputs: rotate({ refreshTokenVariable: 'RT' }),
    expect: /Input 'refreshTokenGroup': refreshTokenVariable needs a variable group/,
  },
  {
    name: 'organization over http',
    inputs: rotate({ organization: 'http://dev.azure.com/contoso' }),
    expect: /Input 'organization':.*https/,
  },
  {
    name: 'organization name with a space',
    inputs: rotate({ organization: 'contoso org' }),
    expect: /Input 'organization':/,
  },
  {
    name: 'group target with no project',
    inputs: rotate({ target: 'variableGroup', variableGroup: 'pat-store' }),
    env: { SYSTEM_TEAMPROJECT: '' },
    expect: /Input 'project': the variable group's project is unknown: set project/,
  },
  {
    name: 'jobToken without System.AccessToken',
    inputs: rotate({ target: 'variableGroup', variableGroup: 'pat-store', groupAuth: 'jobToken' }),
    given: seedDeploy,
    expect: /Input 'groupAuth': jobToken needs the job access token/,
  },
  {
    name: 'service connection target without a connection',
    inputs: rotate({ target: 'serviceConnection' }),
    expect: /Input 'serviceConnection': target serviceConnection needs the name or id of the service connection/,
  },
  {
    name: 'service connection target with no project',
    inputs: rotate({ target: 'serviceConnection', serviceConnection: 'fabrikam-repos' }),
    env: { SYSTEM_TEAMPROJECT: '' },
    expect: /Input 'project': the service connection's project is unknown: set project/,
  },
  {
    name: 'storeAuth that is not a choice',
    inputs: rotate({ target: 'serviceConnection', serviceConnection: 'x', storeAuth: 'job' }),
    expect: /Input 'storeAuth': 'job' is not one of entra, jobToken/,
  },
  // Found only after sign-in: the service or the org's state says no.
  {
    name: 'bulk rotation into one variable',
    inputs: rotate({ displayName: 'svc-*' }),
    given: (w) => {
      w.addPat('svc-a', 1);
      w.addPat('svc-b', 1);
    },
    expect: /Input 'variableName': several PATs may be rotated into one variable: put \{displayName\} in variableName/,
  },
  {
    name: 'bulk rotation with target none (values would be lost)',
    inputs: rotate({ displayName: 'svc-*', target: 'none' }),
    given: (w) => {
      w.addPat('svc-a', 1);
      w.addPat('svc-b', 1);
    },
    expect: /Input 'target': several PATs may be rotated, and with target none their new values would be lost/,
  },
  {
    name: 'a PAT name that expands to a reserved variable',
    inputs: rotate({ displayName: 'System.*', variableName: '{displayName}' }),
    given: (w) => {
      w.addPat('System.Evil', 1);
    },
    expect: /Input 'variableName': PAT 'System.Evil' would be stored as 'System.Evil' is a name the agent reserves/,
  },
  {
    name: 'two PATs whose variable names collide',
    inputs: rotate({ displayName: 'svc*', variableName: 'PAT.{displayName}' }),
    given: (w) => {
      w.addPat('svc a', 1);
      w.addPat('svc_a', 1);
    },
    expect: /Input 'variableName': PATs 'svc a' and 'svc_a' would both be stored as 'PAT.svc_a'/,
  },
  {
    name: 'variable group that does not exist',
    inputs: rotate({ target: 'variableGroup', variableGroup: 'no-such-group' }),
    given: seedDeploy,
    expect: /Input 'variableGroup': Variable group 'no-such-group' was not found in project 'Platform'.*Library/,
  },
  {
    name: 'variable group the user may not change',
    inputs: rotate({ target: 'variableGroup', variableGroup: 'locked' }),
    given: (w) => {
      seedDeploy(w);
      w.emu.state.addGroup('contoso', 'Platform', { name: 'locked', variables: {} });
    },
    expect:
      /Input 'variableGroup': alice@contoso.example may not change variable group 'locked': give it the Administrator role/,
  },
  {
    name: 'service connection that is not there',
    inputs: rotate({ target: 'serviceConnection', serviceConnection: 'no-such-connection' }),
    given: seedDeploy,
    expect: /Input 'serviceConnection': Service connection 'no-such-connection' was not found in project 'Platform'/,
  },
  {
    name: 'service connection whose password came back without its username value',
    inputs: rotate({ target: 'serviceConnection', serviceConnection: 'odd-generic' }),
    given: (w) => {
      seedDeploy(w);
      w.emu.state.addEndpoint('contoso', 'Platform', {
        name: 'odd-generic',
        type: 'generic',
        url: 'https://api.example/',
        scheme: 'UsernamePassword',
        parameters: { username: null, password: 'old-password-1' },
        roles: { [w.user.oid]: 'Administrator' },
      });
      w.supplied.push('old-password-1');
    },
    expect:
      /Input 'serviceConnection': Service connection 'odd-generic' came back with authorization parameter 'username' without a value/,
  },
  {
    name: 'Key Vault-linked variable group',
    inputs: rotate({ target: 'variableGroup', variableGroup: 'kv' }),
    given: (w) => {
      seedDeploy(w);
      w.emu.state.addGroup('contoso', 'Platform', {
        name: 'kv',
        type: 'AzureKeyVault',
        admins: [w.user.oid],
        variables: { s: { value: null, isSecret: true } },
        providerData: { serviceEndpointId: '00000000-0000-0000-0000-000000000000', vault: 'kv1' },
      });
    },
    expect:
      /Input 'variableGroup': variable group 'kv' is linked to Azure Key Vault 'kv1'.*Write the vault instead: target: keyVault, keyVaultName: kv1, azureSubscription: [0-9a-f-]{36}, secretName: PatRotate-Token/,
  },
  {
    name: 'unknown authorization id',
    inputs: (w) => ({ ...w.signIn(), authorizationId: '0f0f0f0f-0000-4000-8000-000000000001' }),
    given: seedDeploy,
    expect:
      /Input 'authorizationId': no PAT with id 0f0f0f0f-0000-4000-8000-000000000001 belongs to the signed-in user.*operation list/,
  },
  {
    name: 'name that matches no PAT',
    inputs: rotate({ displayName: 'depoly' }),
    given: seedDeploy,
    expect: /Input 'displayName': no PAT named 'depoly'.*createIfMissing/,
  },
  {
    name: 'two PATs with the same name',
    inputs: rotate(),
    given: (w) => {
      w.addPat('deploy', 2);
      w.addPat('deploy', 50);
    },
    expect: /Input 'displayName': 2 PATs are named 'deploy' \(.*, .*\): set authorizationId/,
  },
  {
    name: 'create over a live PAT of that name',
    inputs: create({ displayName: 'deploy' }),
    given: seedDeploy,
    expect: /Input 'displayName': a live PAT named 'deploy' already exists.*rotate/,
  },
  {
    name: 'renew of an expired PAT',
    inputs: rotate({ operation: 'renew' }),
    given: (w) => void w.addPat('deploy', -3),
    expect: /Input 'displayName': no live PAT named 'deploy'/,
  },
  {
    name: 'tenant restricts global PATs',
    inputs: create({ allOrgs: true }),
    given: (w) => {
      w.emu.state.policies.restrictGlobalPats = true;
    },
    expect: /global/i,
    refusedByService: true,
  },
  {
    name: 'tenant restricts full-scope PATs',
    inputs: create({ scopes: 'app_token' }),
    given: (w) => {
      w.emu.state.policies.restrictFullScope = true;
    },
    expect: /full.?scope|app_token/i,
    refusedByService: true,
  },
  {
    name: 'organization restricts PAT creation',
    inputs: create(),
    given: (w) => {
      w.emu.state.policies.patCreationDisabled = true;
    },
    expect: /allow-list|restricts PAT creation/i,
    refusedByService: true,
  },
  {
    name: 'service principal token',
    inputs: (w) => ({
      authMethod: 'accessToken',
      accessToken: w.emu.state.issueAppToken({ clientId: '22222222-3333-4444-5555-666666666666' }),
      displayName: 'deploy',
    }),
    given: seedDeploy,
    expect: /service principal|application/i,
  },
  {
    name: 'expired access token',
    inputs: (w) => ({
      authMethod: 'accessToken',
      accessToken: w.emu.state.issueAccessToken(w.user.oid, { expiresInSeconds: -600 }),
      displayName: 'deploy',
    }),
    given: seedDeploy,
    expect: /expired/i,
  },
  {
    name: 'refresh token unused for 90 days',
    inputs: (w) => {
      const i = w.signIn();
      w.emu.state.expireRefreshToken(i.refreshToken);
      return { ...i, displayName: 'deploy' };
    },
    given: seedDeploy,
    expect: /AADSTS700082.*deviceCode bootstrap again/,
  },
];

describe('e2e: bad input changes nothing and says how to fix it', function () {
  this.timeout(60_000);
  let w!: World;
  worldPerTest((x) => (w = x));

  it(`covers at least 30 cases (has ${CASES.length})`, () => assert.ok(CASES.length >= 30));

  for (const c of CASES) {
    it(c.name, async () => {
      c.given?.(w);
      const inputs = c.inputs(w);
      const before = w.emu.state.snapshot();
      const run = await w.run(inputs, c.env);
      assertResult(run, 'Failed');
      assert.match(run.message, c.expect);
      assert.ok(!/[\r\n]/.test(run.message), 'one line');
      assert.equal(run.errors.length, 1, `exactly one error line: ${run.errors.join(' | ')}`);
      assert.ok(!/\bat .*\.js:\d+/.test(run.stdout + run.stderr), 'no stack trace');
      assert.equal(w.emu.state.snapshot(), before, 'state unchanged');
      const writes = w.emu.log.filter((e) => e.method !== 'GET' && !/oauth2/.test(e.path));
      if (c.refusedByService)
        assert.deepEqual(
          writes.map((e) => `${e.method} ${e.status}`),
          [`POST ${writes[0]?.status}`],
          'one refused create',
        );
      else assert.deepEqual(writes, [], 'no write request was sent');
    });
  }
});
