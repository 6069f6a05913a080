import assert from 'node:assert/strict';
import { AZURE_CLI_CLIENT_ID } from '../../tasks/PatRotate/src/auth/types';
import { ConfigError, parseConfig } from '../../tasks/PatRotate/src/config';

const BASE: Record<string, string> = { organization: 'contoso', refreshToken: 'rt-secret', displayName: 'deploy' };
const VARS: Record<string, string> = {
  'System.TeamProject': 'Platform',
  'System.CollectionUri': 'https://dev.azure.com/contoso/',
};

function parse(inputs: Record<string, string>, vars: Record<string, string> = VARS) {
  return parseConfig({ input: (n) => inputs[n], variable: (n) => vars[n] });
}

function rejects(inputs: Record<string, string>, inputName: string, pattern: RegExp): void {
  assert.throws(
    () => parse({ ...BASE, ...inputs }),
    (e: unknown) => {
      assert.ok(e instanceof ConfigError, String(e));
      assert.equal(e.input, inputName);
      assert.match(e.message, pattern);
      assert.ok(!e.message.includes('\n'), 'one line');
      return true;
    },
  );
}

describe('config', () => {
  it('applies the documented defaults', () => {
    const c = parse(BASE);
    assert.equal(c.operation, 'rotate');
    assert.equal(c.auth.method, 'refreshToken');
    assert.equal(c.auth.clientId, AZURE_CLI_CLIENT_ID);
    assert.equal(c.auth.tenantId, 'organizations');
    assert.equal(c.auth.authorityHost, 'https://login.microsoftonline.com');
    assert.equal(c.auth.deviceCodeTimeoutMinutes, 15);
    assert.deepEqual(c.organization, {
      collectionUrl: 'https://dev.azure.com/contoso',
      patApiUrl: 'https://vssps.dev.azure.com/contoso',
      organization: 'contoso',
    });
    assert.equal(c.validityDays, 30);
    assert.equal(c.rotateWithinDays, 7);
    assert.equal(c.warnWithinDays, 14);
    assert.equal(c.retireOld, 'revoke');
    assert.equal(c.graceHours, 24);
    assert.equal(c.verifyNewToken, true);
    assert.deepEqual(c.target, { kind: 'variable', variableName: 'PatRotate.Token' });
    assert.equal(c.storeAuth, 'entra');
    assert.equal(c.concurrency, 4);
    assert.equal(c.dryRun, false);
    assert.equal(c.allOrgs, false);
    assert.ok(Object.isFrozen(c));
  });

  it('reads audit: every PAT, with its own defaults and inputs', () => {
    const c = parse({ organization: 'contoso', refreshToken: 'rt', operation: 'Audit' });
    assert.equal(c.operation, 'audit');
    assert.deepEqual(c.selector, { kind: 'all' });
    assert.equal(c.maxLifetimeDays, 90);
    assert.equal(c.reportDirectory, '');
    assert.equal(c.failOnFindings, 'none');
    const d = parse({
      ...BASE,
      operation: 'audit',
      maxLifetimeDays: '30',
      reportDirectory: ' /r ',
      failOnFindings: 'ANY',
    });
    assert.deepEqual([d.maxLifetimeDays, d.reportDirectory, d.failOnFindings], [30, '/r', 'any']);
  });

  it('reads storeAuth, falling back to its old name groupAuth, and names the input that was given', () => {
    assert.equal(parse({ ...BASE, groupAuth: 'jobToken' }).storeAuth, 'jobToken');
    assert.equal(parse({ ...BASE, groupAuth: 'jobToken' }).storeAuthInput, 'groupAuth');
    assert.equal(parse({ ...BASE, storeAuth: 'entra', groupAuth: 'jobToken' }).storeAuth, 'entra');
    rejects({ groupAuth: 'job' }, 'groupAuth', /'job' is not one of entra, jobToken/);
    rejects({ storeAuth: 'job' }, 'storeAuth', /'job' is not one of entra, jobToken/);
  });

  it("target serviceConnection: the connection is looked up in the pipeline's collection, the PAT made in organization", () => {
    const c = parse({ ...BASE, organization: 'fabrikam', target: 'serviceConnection', serviceConnection: 'repos' });
    assert.deepEqual(c.target, {
      kind: 'serviceConnection',
      variableName: 'repos',
      ref: { connection: 'repos', project: 'Platform', collectionUrl: 'https://dev.azure.com/contoso' },
    });
    assert.equal(c.organization.organization, 'fabrikam');
    const local = parse({ ...BASE, target: 'serviceConnection', serviceConnection: 'repos', project: 'P' }, {});
    assert.equal(
      local.target.kind === 'serviceConnection' && local.target.ref.collectionUrl,
      'https://dev.azure.com/contoso',
    );
  });

  it("uses the pipeline's own organization when organization is empty", () => {
    const c = parse({ ...BASE, organization: '' });
    assert.equal(c.organization.organization, 'contoso');
  });

  it('reads selectors: exact name, prefix, id, all for list', () => {
    assert.deepEqual(parse(BASE).selector, { kind: 'name', displayName: 'deploy' });
    assert.deepEqual(parse({ ...BASE, displayName: 'svc-*' }).selector, { kind: 'prefix', prefix: 'svc-' });
    assert.deepEqual(
      parse({ ...BASE, displayName: '', authorizationId: 'AAAAAAAA-0000-4000-8000-000000000001' }).selector,
      { kind: 'id', authorizationId: 'aaaaaaaa-0000-4000-8000-000000000001' },
    );
    assert.deepEqual(parse({ ...BASE, displayName: '', operation: 'list' }).selector, { kind: 'all' });
  });

  it('splits scopes on spaces and commas', () => {
    assert.deepEqual(parse({ ...BASE, scopes: 'vso.code, vso.build  vso.code' }).scopes, ['vso.code', 'vso.build']);
  });

  it('reads a variable group target with its project', () => {
    const c = parse({
      ...BASE,
      target: 'variableGroup',
      variableGroup: 'pat-store',
      variableName: 'PAT.{displayName}',
    });
    assert.deepEqual(c.target, {
      kind: 'variableGroup',
      variableName: 'PAT.{displayName}',
      ref: { group: 'pat-store', project: 'Platform' },
    });
  });

  it('saves the refresh token in the storage group unless refreshTokenGroup is given', () => {
    const c = parse({ ...BASE, refreshTokenVariable: 'RT', target: 'variableGroup', variableGroup: 'pat-store' });
    assert.deepEqual(c.refreshTokenStore, { variableName: 'RT', ref: { group: 'pat-store', project: 'Platform' } });
    const d = parse({ ...BASE, refreshTokenVariable: 'RT', refreshTokenGroup: 'signin', variableGroup: 'pat-store' });
    assert.equal(d.refreshTokenStore?.ref.group, 'signin');
  });

  const bad: [string, Record<string, string>, string, RegExp][] = [
    [
      'unknown operation',
      { operation: 'rotat' },
      'operation',
      /'rotat' is not one of rotate, create, renew, revoke, list/,
    ],
    ['unknown auth method', { authMethod: 'password' }, 'authMethod', /not one of refreshToken/],
    ['missing refresh token', { refreshToken: '' }, 'refreshToken', /required.*deviceCode/],
    ['missing username', { authMethod: 'usernamePassword', password: 'p' }, 'username', /required/],
    ['missing access token', { authMethod: 'accessToken' }, 'accessToken', /required/],
    ['http authority', { authorityHost: 'http://login.example' }, 'authorityHost', /https/],
    [
      'authority with a path',
      { authorityHost: 'https://login.microsoftonline.com/contoso' },
      'authorityHost',
      /without a path: put the tenant in tenantId/,
    ],
    ['authority that is no URL', { authorityHost: 'login' }, 'authorityHost', /is not a URL/],
    [
      'deviceCode with a client secret',
      { authMethod: 'deviceCode', clientSecret: 's' },
      'clientSecret',
      /public client/,
    ],
    ['bad client id', { clientId: 'my-app' }, 'clientId', /GUID/],
    ['bad scope', { scopes: 'vso.code vso.cod' }, 'scopes', /'vso.cod' is not a documented/],
    ['validity 0', { validityDays: '0' }, 'validityDays', /1 to 365/],
    ['validity 366', { validityDays: '366' }, 'validityDays', /1 to 365/],
    ['validity text', { validityDays: 'thirty' }, 'validityDays', /whole number/],
    ['concurrency 17', { concurrency: '17' }, 'concurrency', /1 to 16/],
    ['maxLifetimeDays 0', { operation: 'audit', maxLifetimeDays: '0' }, 'maxLifetimeDays', /1 to 3650/],
    ['failOnFindings typo', { operation: 'audit', failOnFindings: 'all' }, 'failOnFindings', /none, expiring, any/],
    ['bad boolean', { dryRun: 'yes' }, 'dryRun', /true or false/],
    ['no selector', { displayName: '' }, 'displayName', /needs displayName/],
    ['both selectors', { authorizationId: '00000000-0000-4000-8000-000000000001' }, 'authorizationId', /not both/],
    ['bad id', { displayName: '', authorizationId: '1234' }, 'authorizationId', /GUID/],
    ['create without scopes', { operation: 'create' }, 'scopes', /create needs the scopes/],
    ['create with prefix', { operation: 'create', displayName: 'x*', scopes: 'vso.code' }, 'displayName', /exact name/],
    ['group target without group', { target: 'variableGroup' }, 'variableGroup', /name or id/],
    ['bad variable name', { variableName: 'my var' }, 'variableName', /not a valid variable name/],
    [
      'refresh token store without group',
      { refreshTokenVariable: 'RT' },
      'refreshTokenGroup',
      /needs a variable group/,
    ],
    ['createIfMissing without scopes', { createIfMissing: 'true' }, 'scopes', /createIfMissing/],
    ['http organization', { organization: 'http://dev.azure.com/contoso' }, 'organization', /./],
    ['bad retire mode', { retireOld: 'delete' }, 'retireOld', /revoke, shorten, keep/],
  ];
  for (const [name, inputs, inputName, pattern] of bad) {
    it(`rejects ${name}, naming '${inputName}'`, () => rejects(inputs, inputName, pattern));
  }

  it('rejects a group target with no project known', () => {
    assert.throws(
      () => parse({ ...BASE, target: 'variableGroup', variableGroup: 'g' }, {}),
      (e: unknown) => e instanceof ConfigError && e.input === 'project',
    );
  });
});
