import assert from 'node:assert/strict';
import type { ServiceConnectionAuth } from '../../tasks/PatRotate/src/app/agent';
import type { PatToken } from '../../tasks/PatRotate/src/ado/types';
import { readArmConnection } from '../../tasks/PatRotate/src/azure/armConnection';
import { ConfigError, parseConfig } from '../../tasks/PatRotate/src/config';
import { secretNameFor, vaultUrl } from '../../tasks/PatRotate/src/keyvault/names';
import {
  VaultError,
  type LatestSecret,
  type SecretFacts,
  type VaultSecrets,
} from '../../tasks/PatRotate/src/keyvault/secrets';
import { KeyVaultStore } from '../../tasks/PatRotate/src/rotation/keyVaultStore';
import { plan, type ListedPat, type PlanInput } from '../../tasks/PatRotate/src/rotation/plan';
import { storeConfirmed } from '../../tasks/PatRotate/src/rotation/storeConfirmed';

const VARS: Record<string, string> = {
  'System.TeamProject': 'Platform',
  'System.CollectionUri': 'https://dev.azure.com/contoso/',
};
const KV = {
  target: 'keyVault',
  keyVaultName: 'contoso-kv',
  azureSubscription: 'c0ffee00-0000-4000-8000-000000000001',
};
const BASE = { organization: 'contoso', refreshToken: 'rt', displayName: 'deploy' };

function parse(inputs: Record<string, string>) {
  return parseConfig({ input: (n) => inputs[n], variable: (n) => VARS[n] });
}

function rejects(inputs: Record<string, string>, inputName: string, pattern: RegExp): void {
  assert.throws(
    () => parse({ ...BASE, ...inputs }),
    (e: unknown) =>
      e instanceof ConfigError && e.input === inputName && pattern.test(e.message) && !e.message.includes('\n'),
  );
}

describe('Key Vault inputs', () => {
  it('reads target keyVault with its defaults', () => {
    const c = parse({ ...BASE, ...KV });
    assert.deepEqual(c.target, { kind: 'keyVault', variableName: '{displayName}' });
    assert.deepEqual(c.keyVault, {
      connectionId: KV.azureSubscription,
      vault: 'contoso-kv',
      refreshTokenSecret: undefined,
    });
  });

  it('lets refreshTokenSecret stand in for an empty refreshToken', () => {
    const c = parse({
      organization: 'contoso',
      displayName: 'deploy',
      ...KV,
      refreshTokenSecret: 'PatRotate-RefreshToken',
    });
    assert.equal(c.auth.refreshToken, undefined);
    assert.equal(c.keyVault?.refreshTokenSecret, 'PatRotate-RefreshToken');
    rejects({ refreshToken: '' }, 'refreshToken', /refreshTokenSecret/);
  });

  it('takes an undefined $(variable) in refreshToken as none given with refreshTokenSecret, and refuses it without', () => {
    const c = parse({ ...BASE, ...KV, refreshToken: '$(PatRotate.RefreshToken)', refreshTokenSecret: 'PatRotate-RT' });
    assert.equal(c.auth.refreshToken, undefined);
    rejects(
      { refreshToken: '$(PatRotate.RefreshToken)' },
      'refreshToken',
      /literal text \$\(PatRotate\.RefreshToken\): the pipeline has no such variable/,
    );
  });

  it('refuses what Key Vault would refuse, naming the input', () => {
    rejects({ ...KV, keyVaultName: '' }, 'keyVaultName', /needs the vault/);
    rejects({ ...KV, keyVaultName: 'kv' }, 'keyVaultName', /not a Key Vault name/);
    rejects({ ...KV, keyVaultName: 'a--b-vault' }, 'keyVaultName', /not a Key Vault name/);
    rejects({ ...KV, keyVaultName: 'http://kv.example' }, 'keyVaultName', /https/);
    rejects({ ...KV, keyVaultName: 'https://kv.example/path' }, 'keyVaultName', /without a path/);
    rejects({ ...KV, azureSubscription: '' }, 'azureSubscription', /Azure Resource Manager service connection/);
    rejects({ ...KV, secretName: 'PAT.{displayName}' }, 'secretName', /not a valid Key Vault secret name/);
    rejects({ ...KV, secretName: 'x'.repeat(128) }, 'secretName', /127/);
    rejects(
      { refreshTokenSecret: 'bad_name', keyVaultName: 'contoso-kv', azureSubscription: 'x' },
      'refreshTokenSecret',
      /not a valid/,
    );
    rejects(
      { refreshTokenSecret: 'rt', authMethod: 'accessToken', accessToken: 'a' },
      'refreshTokenSecret',
      /accessToken method/,
    );
    rejects({ refreshTokenSecret: 'rt' }, 'keyVaultName', /refreshTokenSecret needs the vault/);
  });

  it('builds the vault URL from the name and the cloud, or takes a URL as given', () => {
    assert.equal(vaultUrl('Contoso-KV', 'vault.azure.net'), 'https://contoso-kv.vault.azure.net');
    assert.equal(vaultUrl('contoso-kv', 'vault.usgovcloudapi.net'), 'https://contoso-kv.vault.usgovcloudapi.net');
    assert.equal(vaultUrl('https://127.0.0.1:8443/', 'vault.azure.net'), 'https://127.0.0.1:8443');
  });

  it('sanitises {displayName} into a secret name', () => {
    assert.equal(secretNameFor('{displayName}', 'build agent/pool #1'), 'build-agent-pool--1');
    assert.equal(secretNameFor('PAT-{displayName}', 'ci.deploy'), 'PAT-ci-deploy');
  });
});

describe('Key Vault secret names in a plan', () => {
  const NOW = new Date('2026-11-23T12:00:00Z');
  let seq = 0;
  const pat = (displayName: string): ListedPat => ({
    authorizationId: `00000000-0000-4000-8000-${String(++seq).padStart(12, '0')}`,
    displayName,
    scope: 'vso.code',
    targetAccounts: ['11111111-1111-1111-1111-111111111111'],
    validFrom: new Date(NOW.getTime() - 20 * 86_400_000),
    validTo: new Date(NOW.getTime() + 86_400_000),
    status: 'active',
  });
  const input = (over: Partial<PlanInput> = {}): PlanInput => ({
    operation: 'rotate',
    selector: { kind: 'prefix', prefix: 'ci' },
    scopes: undefined,
    validityDays: 30,
    allOrgs: false,
    rotateWithinDays: 7,
    warnWithinDays: 14,
    createIfMissing: false,
    retireOld: 'revoke',
    target: { kind: 'keyVault', variableName: 'PAT-{displayName}' },
    ...over,
  });
  const throwsInput = (fn: () => unknown, name: string, re: RegExp) =>
    assert.throws(fn, (e: unknown) => e instanceof ConfigError && e.input === name && re.test(e.message));

  it('names each secret from its PAT', () => {
    const { actions } = plan(input(), [pat('ci.one'), pat('ci two')], NOW);
    assert.deepEqual(
      actions.map((a) => (a.kind === 'rotate' ? a.variableName : a.kind)),
      ['PAT-ci-one', 'PAT-ci-two'],
    );
  });

  it('refuses two PATs that become one secret (case-insensitively), before any write', () => {
    throwsInput(
      () => plan(input(), [pat('ci.a'), pat('ci-A')], NOW),
      'secretName',
      /'ci\.a' and 'ci-A' would both be stored as 'PAT-ci-A'/i,
    );
  });

  it('refuses a bulk selection into one secret, and the refresh token secret', () => {
    throwsInput(
      () => plan(input({ target: { kind: 'keyVault', variableName: 'one' } }), [pat('ci.a')], NOW),
      'secretName',
      /\{displayName\}/,
    );
    throwsInput(
      () =>
        plan(
          input({ protectedVariables: [{ name: 'pat-ci-a', why: "the refresh token's secret" }] }),
          [pat('ci.a')],
          NOW,
        ),
      'secretName',
      /refresh token's secret/,
    );
  });

  it('names the secret of a renewed PAT, whose expiry follows it', () => {
    const { actions } = plan(input({ operation: 'renew' }), [pat('ci.one')], NOW);
    assert.equal(actions[0].kind, 'renew');
    assert.equal(actions[0].kind === 'renew' ? actions[0].variableName : undefined, 'PAT-ci-one');
  });

  it('refuses a secret name longer than 127 characters', () => {
    throwsInput(() => plan(input(), [pat(`ci${'x'.repeat(130)}`)], NOW), 'secretName', /127/);
  });
});

describe('Azure Resource Manager connection', () => {
  const auth = (
    scheme: string,
    params: Record<string, string>,
    data: Record<string, string> = {},
  ): ServiceConnectionAuth => ({
    scheme,
    parameter: (n) => params[n.toLowerCase()] ?? params[n],
    data: (n) => data[n],
  });
  const refused = (a: ServiceConnectionAuth | undefined, re: RegExp) =>
    assert.throws(
      () => readArmConnection('conn-1', a),
      (e: unknown) => e instanceof ConfigError && e.input === 'azureSubscription' && re.test(e.message),
    );

  it('reads workload identity federation, with the cloud from its data', () => {
    const c = readArmConnection(
      'conn-1',
      auth(
        'WorkloadIdentityFederation',
        { serviceprincipalid: 'app-1', tenantid: 'tenant-1' },
        { environment: 'AzureUSGovernment', environmentAuthorityUrl: 'https://login.microsoftonline.us/' },
      ),
    );
    assert.deepEqual(c.identity, { scheme: 'WorkloadIdentityFederation', tenantId: 'tenant-1', clientId: 'app-1' });
    assert.equal(c.authorityHost, 'https://login.microsoftonline.us');
    assert.equal(c.vaultSuffix, 'vault.usgovcloudapi.net');
    assert.equal(c.vaultResource, 'https://vault.usgovcloudapi.net');
  });

  it('reads a service principal with a secret, and managed identity', () => {
    const sp = readArmConnection(
      'conn-1',
      auth('ServicePrincipal', {
        serviceprincipalid: 'a',
        tenantid: 't',
        authenticationtype: 'spnKey',
        serviceprincipalkey: 's3cret',
      }),
    );
    assert.equal('secret' in sp.identity && sp.identity.secret, 's3cret');
    assert.equal(
      readArmConnection('conn-1', auth('ManagedServiceIdentity', { tenantid: 't' })).identity.scheme,
      'ManagedServiceIdentity',
    );
  });

  it('refuses other schemes and incomplete connections in one line', () => {
    refused(undefined, /no authorization/);
    refused(auth('PublishProfile', {}), /scheme 'PublishProfile'.*WorkloadIdentityFederation/);
    refused(auth('WorkloadIdentityFederation', { tenantid: 't' }), /no serviceprincipalid/);
    refused(
      auth('ServicePrincipal', {
        serviceprincipalid: 'a',
        tenantid: 't',
        authenticationtype: 'spnCertificate',
        serviceprincipalcertificate: 'not a pem',
      }),
      /PEM/,
    );
    refused(
      auth(
        'WorkloadIdentityFederation',
        { serviceprincipalid: 'a', tenantid: 't' },
        { environmentAuthorityUrl: 'http://login.example' },
      ),
      /not https/,
    );
  });
});

/** A vault in memory: versions per name, and failures to inject per call. */
class MemoryVault {
  readonly url = 'https://kv.example';
  readonly versions = new Map<string, { value: string; facts: SecretFacts }[]>();
  failSet = new Map<string, () => VaultError>();
  /** Runs after a failing set's version landed (for lost answers). */
  landOnFailure = new Set<string>();

  latest(name: string): Promise<LatestSecret | undefined> {
    const v = this.versions.get(name)?.at(-1);
    return Promise.resolve(
      v && { value: v.value, version: String(this.versions.get(name)!.length), tags: v.facts.tags },
    );
  }

  set(name: string, value: string, facts: SecretFacts): Promise<{ version: string }> {
    const fail = this.failSet.get(name);
    if (fail) {
      this.failSet.delete(name);
      if (this.landOnFailure.has(name)) this.push(name, value, facts);
      return Promise.reject(fail());
    }
    this.push(name, value, facts);
    return Promise.resolve({ version: String(this.versions.get(name)!.length) });
  }

  preflight(): Promise<void> {
    return Promise.resolve();
  }

  private push(name: string, value: string, facts: SecretFacts): void {
    this.versions.set(name, [...(this.versions.get(name) ?? []), { value, facts }]);
  }
}

describe('Key Vault store', () => {
  const newPat = (id: string): PatToken => ({
    authorizationId: id,
    displayName: 'ci one',
    scope: 'vso.code',
    targetAccounts: null,
    validFrom: new Date('2026-11-01T00:00:00Z'),
    validTo: new Date('2026-12-31T00:00:00Z'),
  });
  const noWait = { wait: () => Promise.resolve() };
  const storeOf = (v: MemoryVault) => new KeyVaultStore(v as unknown as VaultSecrets, 'contoso', 2);

  it('writes a version per PAT with its expiry, content type and tags, and reads it back', async () => {
    const v = new MemoryVault();
    const r = await storeConfirmed(
      storeOf(v),
      { a: 'pat-a', b: 'pat-b' },
      { ...noWait, pats: { a: newPat('id-a'), b: newPat('id-b') } },
    );
    assert.deepEqual(
      [...r.values()],
      [
        { kind: 'stored', writes: 1 },
        { kind: 'stored', writes: 1 },
      ],
    );
    const facts = v.versions.get('a')![0].facts;
    assert.equal(facts.contentType, 'application/vnd.azure-devops.pat');
    assert.equal(facts.expiresOn?.toISOString(), '2026-12-31T00:00:00.000Z');
    assert.deepEqual(facts.tags, {
      authorizationId: 'id-a',
      displayName: 'ci one',
      organization: 'contoso',
      scope: 'vso.code',
      rotatedBy: 'PatRotate',
    });
  });

  it('keeps the values that were written when one of them is refused', async () => {
    const v = new MemoryVault();
    v.failSet.set('b', () => new VaultError('forbidden', 'HTTP 403', { status: 403 }));
    const r = await storeConfirmed(storeOf(v), { a: 'pat-a', b: 'pat-b' }, noWait);
    assert.deepEqual(r.get('a'), { kind: 'stored', writes: 1 });
    assert.equal(r.get('b')?.kind, 'notStored');
    assert.equal(v.versions.get('a')?.length, 1, 'a was not written twice');
  });

  it('settles a 5xx whose version landed as stored, and one that did not as not stored', async () => {
    const v = new MemoryVault();
    v.failSet.set('a', () => new VaultError('retryable', 'HTTP 500', { status: 500 }));
    v.landOnFailure.add('a');
    assert.deepEqual((await storeConfirmed(storeOf(v), { a: 'pat-a' }, noWait)).get('a'), {
      kind: 'stored',
      writes: 1,
    });
    const w = new MemoryVault();
    w.failSet.set('a', () => new VaultError('other', 'HTTP 500', { status: 500 }));
    assert.equal((await storeConfirmed(storeOf(w), { a: 'pat-a' }, noWait)).get('a')?.kind, 'notStored');
  });

  it('never calls a write with no answer "not stored": it is written again, or left unknown', async () => {
    const v = new MemoryVault();
    v.failSet.set('a', () => new VaultError('retryable', 'ECONNRESET', { unanswered: true }));
    assert.deepEqual((await storeConfirmed(storeOf(v), { a: 'pat-a' }, noWait)).get('a'), {
      kind: 'stored',
      writes: 2,
    });
    const w = new MemoryVault();
    w.failSet.set('a', () => new VaultError('other', 'ECONNRESET', { unanswered: true }));
    assert.equal((await storeConfirmed(storeOf(w), { a: 'pat-a' }, noWait)).get('a')?.kind, 'unknown');
  });

  it('writes again when another writer put a newer version on top', async () => {
    const v = new MemoryVault();
    const store = storeOf(v);
    let once = true;
    const check = store.check.bind(store);
    store.check = async (names, written) => {
      if (once) {
        once = false;
        v.versions.get('a')!.push({ value: 'someone-else', facts: { contentType: 'x', tags: {} } });
      }
      return check(names, written);
    };
    assert.deepEqual((await storeConfirmed(store, { a: 'pat-a' }, noWait)).get('a'), { kind: 'stored', writes: 2 });
    assert.equal(v.versions.get('a')?.at(-1)?.value, 'pat-a');
  });
});

describe('Key Vault credential', () => {
  it('grants only the vault scope, whatever the challenge asks for', async () => {
    const { armCredential } = await import('../../tasks/PatRotate/src/azure/armCredential');
    const { directNetwork } = await import('../../tasks/PatRotate/src/net/network');
    const conn = readArmConnection('conn-1', {
      scheme: 'ServicePrincipal',
      parameter: (n) =>
        ({ serviceprincipalid: 'app-1', tenantid: 'tenant-1', serviceprincipalkey: 'k' })[n.toLowerCase()],
      data: () => undefined,
    });
    const masked: string[] = [];
    const credential = armCredential(conn, { network: directNetwork, setSecret: (v) => masked.push(v) });
    for (const scope of ['499b84ac-1321-427f-aa17-267ca6975798/.default', 'https://management.azure.com/.default'])
      await assert.rejects(
        credential.getToken(scope),
        /not for Key Vault \(https:\/\/vault\.azure\.net\/\.default\): nothing was sent/,
      );
    assert.deepEqual(masked, ['k'], 'the secret was masked before anything else');
  });
});

describe('OIDC request URL', () => {
  it('takes System.OidcRequestUri on the pipeline’s own service, or builds it from the job variables', async () => {
    const { oidcRequestUrl } = await import('../../tasks/PatRotate/src/azure/oidc');
    const vars = (v: Record<string, string>) => ({ variable: (n: string) => v[n] });
    const given = 'https://dev.azure.com/contoso/p1/_apis/distributedtask/hubs/build/plans/pl/jobs/jb/oidctoken';
    assert.equal(
      oidcRequestUrl(
        vars({ 'System.OidcRequestUri': given, 'System.CollectionUri': 'https://dev.azure.com/contoso/' }),
      ),
      given,
    );
    assert.equal(
      oidcRequestUrl(
        vars({ 'System.OidcRequestUri': given, 'System.CollectionUri': 'https://contoso.visualstudio.com/' }),
      ),
      given,
      'one service, two names',
    );
    assert.throws(
      () =>
        oidcRequestUrl(
          vars({
            'System.OidcRequestUri': 'https://evil.example/x',
            'System.CollectionUri': 'https://dev.azure.com/contoso/',
          }),
        ),
      (e: unknown) => e instanceof ConfigError && e.input === 'azureSubscription' && /another server/.test(e.message),
    );
    assert.equal(
      oidcRequestUrl(
        vars({
          'System.CollectionUri': 'https://dev.azure.com/contoso/',
          'System.TeamProjectId': 'p 1',
          'System.HostType': 'build',
          'System.PlanId': 'pl',
          'System.JobId': 'jb',
        }),
      ),
      'https://dev.azure.com/contoso/p%201/_apis/distributedtask/hubs/build/plans/pl/jobs/jb/oidctoken',
    );
    assert.throws(
      () => oidcRequestUrl(vars({})),
      (e: unknown) => e instanceof ConfigError && /System\.OidcRequestUri/.test(e.message),
    );
  });
});
