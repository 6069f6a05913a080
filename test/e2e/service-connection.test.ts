// target serviceConnection: the new PAT goes into a service connection's authorization, every other field unchanged.
import assert from 'node:assert/strict';
import { canonicalJson, type AddEndpointOptions, type ServiceEndpointRecord } from '../emulator';
import { assertResult, live, patApiCalls, worldPerTest, type World } from './world';

/** Every type/scheme PatRotate supports, as a realistic connection holding an old PAT. */
const SUPPORTED: (Omit<AddEndpointOptions, 'roles'> & { tokenParameter: string })[] = [
  {
    name: 'fabrikam-repos',
    type: 'externaltfs',
    url: 'https://dev.azure.com/fabrikam',
    scheme: 'Token',
    parameters: { apitoken: 'old-externaltfs-token' },
    data: {},
    tokenParameter: 'apitoken',
  },
  {
    name: 'fabrikam-nuget',
    type: 'externalnugetfeed',
    url: 'https://pkgs.dev.azure.com/fabrikam/_packaging/feed/nuget/v3/index.json',
    scheme: 'Token',
    parameters: { apitoken: 'old-nuget-token' },
    tokenParameter: 'apitoken',
  },
  {
    name: 'fabrikam-nuget-basic',
    type: 'externalnugetfeed',
    url: 'https://pkgs.dev.azure.com/fabrikam/_packaging/feed/nuget/v3/index.json',
    scheme: 'UsernamePassword',
    parameters: { username: 'feed-user', password: 'old-nuget-password' },
    tokenParameter: 'password',
  },
  {
    name: 'fabrikam-npm',
    type: 'externalnpmregistry',
    url: 'https://pkgs.dev.azure.com/fabrikam/_packaging/feed/npm/registry/',
    scheme: 'Token',
    parameters: { apitoken: 'old-npm-token' },
    description: 'npm feed of the fabrikam org',
    tokenParameter: 'apitoken',
  },
  {
    name: 'other-git',
    type: 'git',
    url: 'https://dev.azure.com/fabrikam/Tools/_git/shared',
    scheme: 'UsernamePassword',
    parameters: { username: 'git-user', password: 'old-git-password' },
    data: { accessExternalGitServer: 'true' },
    tokenParameter: 'password',
  },
  {
    name: 'generic-api',
    type: 'generic',
    url: 'https://api.fabrikam.example/',
    scheme: 'UsernamePassword',
    parameters: { username: 'api-user', password: 'old-generic-password' },
    tokenParameter: 'password',
  },
  {
    name: 'github-bot',
    type: 'github',
    url: 'https://github.com',
    scheme: 'PersonalAccessToken',
    parameters: { accessToken: 'old-github-token' },
    data: { AvatarUrl: 'https://avatars.githubusercontent.com/u/1' },
    owner: 'Library',
    tokenParameter: 'accessToken',
  },
];

/** The connection as stored, without the parameter that carries the token: what a write must leave byte-identical. */
function withoutToken(e: ServiceEndpointRecord, tokenParameter: string): string {
  const copy = structuredClone(e);
  delete copy.parameters[tokenParameter];
  return canonicalJson(copy);
}

describe('e2e: target serviceConnection', function () {
  this.timeout(60_000);
  let w!: World;
  worldPerTest((x) => (w = x));

  const addEndpoint = (o: AddEndpointOptions, role: 'Administrator' | 'User' | 'Reader' = 'Administrator') =>
    w.emu.state.addEndpoint('contoso', 'Platform', { ...o, roles: { [w.user.oid]: role } });
  const inputs = (connection: string, extra: Record<string, string> = {}) => ({
    ...w.signIn(),
    displayName: 'fabrikam-pat',
    target: 'serviceConnection',
    serviceConnection: connection,
    ...extra,
  });

  for (const c of SUPPORTED) {
    it(`rotates the PAT of a ${c.type}/${c.scheme} connection, every other field byte-identical`, async () => {
      const old = w.addPat('fabrikam-pat', 2);
      const { tokenParameter, ...options } = c;
      const e = addEndpoint(options);
      w.supplied.push(c.parameters[tokenParameter] ?? '');
      const before = withoutToken(e, tokenParameter);
      const run = await w.run(inputs(c.name));
      assertResult(run, 'Succeeded');
      const fresh = live(w, 'fabrikam-pat');
      assert.equal(fresh.length, 1);
      assert.equal(old.revoked, true);
      assert.equal(e.parameters[tokenParameter], fresh[0].token);
      assert.equal(withoutToken(e, tokenParameter), before);
      assert.equal(run.variables.has(c.name), false, 'a service connection target sets no pipeline variable');
      assert.ok(run.stdout.includes(`Stored in service connection '${c.name}'`), run.stdout.slice(-2000));
      assert.deepEqual(patApiCalls(w), ['GET', 'POST', 'GET', 'DELETE']);
    });
  }

  it('rotates the PAT of an Azure Repos/TFS connection named by id, through the built bundle', async () => {
    w.addPat('fabrikam-pat', 2);
    const { tokenParameter, ...options } = SUPPORTED[0];
    const e = addEndpoint(options);
    const before = withoutToken(e, tokenParameter);
    const run = await w.spawn(inputs(e.id));
    assertResult(run, 'Succeeded');
    assert.equal(e.parameters.apitoken, live(w, 'fabrikam-pat')[0].token);
    assert.equal(withoutToken(e, tokenParameter), before);
  });

  it('rotates a PAT of a second organization held by a connection of this one (the README sample)', async () => {
    w.emu.state.addOrg('fabrikam');
    const old = w.emu.state.addPat(w.user.oid, 'fabrikam', {
      displayName: 'fabrikam-pat',
      scope: 'vso.code',
      validTo: new Date(Date.now() + 2 * 86_400_000),
    }).pat;
    const { tokenParameter, ...options } = SUPPORTED[0];
    const e = addEndpoint({ ...options, parameters: { apitoken: old.token } });
    const before = withoutToken(e, tokenParameter);
    const run = await w.spawn(inputs('fabrikam-repos', { organization: `${w.emu.url}/fabrikam` }));
    assertResult(run, 'Succeeded');
    const fresh = w.emu.state.pats(w.user.oid).filter((p) => !p.revoked);
    assert.equal(fresh.length, 1);
    assert.equal(fresh[0].orgName, 'fabrikam');
    assert.equal(old.revoked, true);
    assert.equal(e.parameters.apitoken, fresh[0].token);
    assert.equal(withoutToken(e, tokenParameter), before);
    assert.ok(w.emu.log.some((l) => l.method === 'PUT' && l.path.startsWith('/contoso/_apis/serviceendpoint/')));
  });

  it('a dry run reads the connection and checks the role, and changes nothing', async () => {
    w.addPat('fabrikam-pat', 2);
    addEndpoint(SUPPORTED[0]);
    const before = w.emu.state.snapshot();
    const run = await w.run(inputs('fabrikam-repos', { dryRun: 'true' }));
    assertResult(run, 'Succeeded');
    assert.equal(w.emu.state.snapshot(), before);
    assert.ok(w.emu.log.some((l) => l.method === 'GET' && /serviceendpoint\/endpoints\//.test(l.path)));
    assert.equal(w.emu.log.filter((l) => l.method !== 'GET' && !/oauth2/.test(l.path)).length, 0);
  });

  it('a cancel while the connection write is in flight leaves both PATs live and names the new one', async () => {
    const old = w.addPat('fabrikam-pat', 2);
    const e = addEndpoint({ ...SUPPORTED[0], parameters: { apitoken: old.token } });
    let cancel = (): void => undefined;
    w.emu.faults.add({
      method: 'PUT',
      path: `/contoso/_apis/serviceendpoint/endpoints/${e.id}`,
      action: { kind: 'hold', onHeld: () => cancel() },
    });
    const run = await w.run(inputs('fabrikam-repos'), {}, { onStart: (t) => (cancel = () => t.signal('SIGTERM')) });
    assertResult(run, 'Failed');
    const fresh = w.emu.state.pats(w.user.oid).find((p) => p.authorizationId !== old.authorizationId);
    assert.ok(fresh && !fresh.revoked, 'the new PAT stays live: the write may still land');
    assert.equal(old.revoked, false);
    assert.ok((run.message ?? '').includes(fresh.authorizationId), run.message);
    assert.equal(e.parameters.apitoken, old.token, 'the held write never landed');
  });

  it('a shared connection is one object: one write serves every project it is shared with', async () => {
    w.emu.state.addProject('contoso', 'Apps');
    w.addPat('fabrikam-pat', 2);
    const { tokenParameter, ...options } = SUPPORTED[0];
    const e = w.emu.state.addEndpoint('contoso', 'Platform', {
      ...options,
      sharedWith: ['Apps'],
      roles: { [w.user.oid]: 'Administrator' },
    });
    const before = withoutToken(e, tokenParameter);
    const run = await w.run(inputs(options.name, { project: 'Apps' }));
    assertResult(run, 'Succeeded');
    assert.equal(e.projectRefs.length, 2);
    assert.equal(withoutToken(e, tokenParameter), before);
    assert.equal(e.parameters.apitoken, live(w, 'fabrikam-pat')[0].token);
    assert.equal(w.emu.log.filter((l) => l.method === 'PUT').length, 1);
  });

  it('refuses before creating a PAT when the identity is not Administrator of the connection, naming it', async () => {
    w.addPat('fabrikam-pat', 2);
    addEndpoint(SUPPORTED[0], 'User');
    const before = w.emu.state.snapshot();
    const run = await w.run(inputs('fabrikam-repos'));
    assertResult(run, 'Failed');
    assert.match(
      run.message ?? '',
      /Input 'serviceConnection': alice@contoso\.example may not change service connection 'fabrikam-repos': give it the Administrator role/,
    );
    assert.deepEqual(patApiCalls(w), [], 'no PAT was listed or created');
    assert.equal(w.emu.state.snapshot(), before);
  });

  it('refuses an unsupported type or scheme before any write, naming what is supported', async () => {
    w.addPat('fabrikam-pat', 2);
    addEndpoint({
      name: 'azure-prod',
      type: 'azurerm',
      url: 'https://management.azure.com/',
      scheme: 'ServicePrincipal',
      parameters: { serviceprincipalid: 'x', serviceprincipalkey: null, tenantid: 't' },
    });
    const before = w.emu.state.snapshot();
    const run = await w.run(inputs('azure-prod'));
    assertResult(run, 'Failed');
    assert.match(run.message ?? '', /type 'azurerm' with scheme 'ServicePrincipal'.*supported: externaltfs/);
    assert.equal(w.emu.state.snapshot(), before);
  });

  it('refuses a connection that is not there, and a selection of several PATs into one connection', async () => {
    w.addPat('fabrikam-pat', 2);
    w.addPat('fabrikam-pat-2', 2);
    addEndpoint(SUPPORTED[0]);
    const missing = await w.run(inputs('no-such-connection'));
    assertResult(missing, 'Failed');
    assert.match(
      missing.message ?? '',
      /Input 'serviceConnection': Service connection 'no-such-connection' was not found/,
    );
    const bulk = await w.run(inputs('fabrikam-repos', { displayName: 'fabrikam-pat*' }));
    assertResult(bulk, 'Failed');
    assert.match(bulk.message ?? '', /Input 'target': a service connection holds one PAT/);
    assert.equal(live(w).length, 2);
  });

  it('storeAuth jobToken writes as the build service, and groupAuth is still read as its alias', async () => {
    w.addPat('fabrikam-pat', 2);
    const { tokenParameter, ...options } = SUPPORTED[0];
    const jobIdentity = w.emu.state.jobIdentityId();
    const e = w.emu.state.addEndpoint('contoso', 'Platform', { ...options, roles: { [jobIdentity]: 'Administrator' } });
    const jobToken = w.emu.state.issueJobToken();
    const env = { ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN: jobToken };
    const refused = await w.run(inputs(options.name), env);
    assertResult(refused, 'Failed');
    assert.match(refused.message ?? '', /was not found|may not change/);
    for (const auth of [{ storeAuth: 'jobToken' }, { groupAuth: 'jobToken' }] as Record<string, string>[]) {
      const run = await w.run(inputs(options.name, { ...auth, rotateWithinDays: '365' }), env);
      assertResult(run, 'Succeeded');
      assert.equal(e.parameters[tokenParameter], live(w, 'fabrikam-pat')[0].token);
    }
  });
});
