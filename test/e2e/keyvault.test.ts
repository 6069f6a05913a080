// target keyVault and refreshTokenSecret: new PATs as Key Vault secret versions, written with an Azure Resource
// Manager connection's identity (never the user's), read back before the old PAT is retired.
import assert from 'node:assert/strict';
import { startConnectProxy } from '../helpers/connectProxy';
import { assertResult, live, patApiCalls } from './world';
import { RT_SECRET, VAULT, vaultWorld, type Scheme, type VaultWorld } from './vaultWorld';

describe('e2e: Key Vault', function () {
  this.timeout(60_000);
  let w: VaultWorld | undefined;
  afterEach(async () => {
    await w?.close();
    w = undefined;
  });
  const open = async (scheme?: Scheme, grant?: 'officer' | 'user' | 'none') => (w = await vaultWorld(scheme, grant));

  it('workload identity: reads the refresh token from the vault, saves the rolled one there, rotates the PAT into it', async () => {
    const v = await open('wif');
    const old = v.addPat('build-feed', 2, { scope: 'vso.packaging' });
    const inputs = v.vaultInputs({ displayName: 'build-feed' });
    const rtBefore = v.versions(RT_SECRET).at(-1)!.value;
    const run = await v.run(inputs, v.env);
    assertResult(run, 'Succeeded');
    const fresh = live(v, 'build-feed');
    assert.equal(fresh.length, 1, 'the old PAT was retired');
    assert.notEqual(fresh[0].authorizationId, old.authorizationId);
    const [version, ...more] = v.versions('build-feed');
    assert.equal(more.length, 0, 'one version');
    assert.equal(version.value, fresh[0].token);
    assert.equal(version.contentType, 'application/vnd.azure-devops.pat');
    assert.equal(version.exp, Math.floor(fresh[0].validTo.getTime() / 1000));
    assert.deepEqual(version.tags, {
      authorizationId: fresh[0].authorizationId,
      displayName: 'build-feed',
      organization: 'contoso',
      scope: 'vso.packaging',
      rotatedBy: 'PatRotate',
    });
    // The rolled refresh token was saved as a new version, and no variable group was touched.
    const rt = v.versions(RT_SECRET);
    assert.equal(rt.length, 2);
    assert.notEqual(rt[1].value, rtBefore);
    assert.equal(rt[1].contentType, 'application/vnd.microsoft.entra.refresh-token');
    assert.equal(rt[0].enabled, false, 'the redeemed version is disabled once the rolled one is saved');
    assert.equal(rt[1].enabled, true);
    assert.ok(!v.emu.log.some((e) => e.path.includes('variablegroups')), 'no variable group call');
    // Identities: the vault only ever saw the connection's app token; the PAT API only the user's.
    const vaultCalls = v.emu.log.filter((e) => e.vault);
    assert.ok(vaultCalls.length > 0);
    assert.ok(
      vaultCalls.every((e) => e.auth === 'bearer-app' || e.auth === 'none'),
      'app tokens at the vault',
    );
    assert.ok(
      v.emu.log.filter((e) => /\/_apis\/tokens\/pats$/i.test(e.path)).every((e) => e.auth === 'bearer-user'),
      'user token at the PAT API',
    );
    assert.ok(v.emu.state.oidcTokens.length >= 1, 'an OIDC token was requested');
    assert.match(run.stdout, /Stored in Key Vault https:\/\/127\.0\.0\.1:\d+ as 'build-feed' \(read back\)/);
  });

  for (const scheme of ['secret', 'cert'] as const) {
    it(`service principal with a ${scheme === 'cert' ? 'certificate' : 'secret'}: rotates into the vault`, async () => {
      const v = await open(scheme);
      v.addPat('deploy', 1);
      const run = await v.run(v.intoVault({ secretName: 'PAT-{displayName}' }), v.env);
      assertResult(run, 'Succeeded');
      assert.equal(v.versions('PAT-deploy')[0].value, live(v, 'deploy')[0].token);
      assert.equal(v.emu.state.oidcTokens.length, 0, 'no OIDC token without workload identity');
    });
  }

  it('managed identity (the real bundle, IMDS from the environment): rotates into the vault', async () => {
    const v = await open('msi');
    v.addPat('deploy', 1);
    const run = await v.spawn(v.intoVault(), v.env);
    assertResult(run, 'Succeeded');
    assert.equal(v.versions('deploy')[0].value, live(v, 'deploy')[0].token);
    assert.ok(
      v.emu.log.some((e) => e.imds),
      'IMDS was asked',
    );
  });

  it('workload identity through the real bundle (task-lib reads the connection)', async () => {
    const v = await open('wif');
    v.addPat('deploy', 1);
    const run = await v.spawn(v.vaultInputs({ displayName: 'deploy' }), v.env);
    assertResult(run, 'Succeeded');
    assert.equal(v.versions('deploy')[0].value, live(v, 'deploy')[0].token);
  });

  it('an identity without access is refused before any PAT is created, naming the identity and the role', async () => {
    const v = await open('wif', 'none');
    v.addPat('deploy', 1);
    const before = v.emu.state.snapshot();
    const run = await v.run(v.intoVault(), v.env);
    assertResult(run, 'Failed');
    assert.match(run.message ?? '', /HTTP 403.*service principal [0-9a-f-]{36}.*Key Vault Secrets Officer/);
    assert.deepEqual(patApiCalls(v), ['GET'], 'only listed');
    assert.equal(v.emu.state.snapshot(), before);
  });

  it('an identity that may only read is refused by the preflight, changing nothing', async () => {
    const v = await open('wif', 'user');
    v.addPat('deploy', 1);
    const before = v.emu.state.snapshot();
    const run = await v.run(v.intoVault(), v.env);
    assertResult(run, 'Failed');
    assert.match(run.message ?? '', /may set secret 'deploy'.*HTTP 403.*Key Vault Secrets Officer/);
    assert.ok(!patApiCalls(v).includes('POST'), 'no PAT created');
    assert.equal(v.emu.state.snapshot(), before);
  });

  it('a soft-deleted secret name is refused before any PAT is created, saying how to recover or purge it', async () => {
    const v = await open('wif');
    v.addPat('deploy', 1);
    v.emu.state.softDeleteSecret(VAULT, 'deploy');
    const before = v.emu.state.snapshot();
    const run = await v.run(v.intoVault(), v.env);
    assertResult(run, 'Failed');
    assert.match(
      run.message ?? '',
      /secret 'deploy' was deleted and is kept for recovery \(soft-delete\): recover it \(az keyvault secret recover\) or purge it/,
    );
    assert.ok(!patApiCalls(v).includes('POST'), 'no PAT created');
    assert.equal(v.emu.state.snapshot(), before);
  });

  it('a write whose answer is lost after it landed is settled by reading the latest version', async () => {
    const v = await open('wif');
    v.addPat('deploy', 1);
    v.emu.faults.add({
      method: 'PUT',
      path: '/secrets/deploy',
      nth: 1,
      action: { kind: 'afterApply', then: { status: 500 } },
    });
    const run = await v.run(v.intoVault(), v.env);
    assertResult(run, 'Succeeded');
    assert.equal(v.versions('deploy').length, 1, 'settled as landed: not written twice');
    assert.equal(live(v, 'deploy').length, 1);
  });

  it('honours 429 Retry-After on the write', async () => {
    const v = await open('wif');
    v.addPat('deploy', 1);
    v.emu.faults.add({
      method: 'PUT',
      path: '/secrets/deploy',
      nth: 1,
      action: { kind: 'status', status: 429, retryAfterSeconds: 1 },
    });
    const started = Date.now();
    const run = await v.run(v.intoVault(), v.env);
    assertResult(run, 'Succeeded');
    assert.ok(Date.now() - started >= 1000, 'waited');
    assert.equal(v.versions('deploy').length, 1);
  });

  it('a dry run checks the vault and changes nothing', async () => {
    const v = await open('wif');
    v.addPat('deploy', 1);
    const inputs = v.vaultInputs({ displayName: 'deploy', dryRun: 'true' });
    const run = await v.run(inputs, v.env);
    assertResult(run, 'Succeeded');
    assert.equal(v.versions('deploy').length, 0);
    assert.ok(
      v.emu.log.some((e) => e.vault && e.method === 'PATCH' && e.status === 404),
      'the set permission was probed',
    );
    // Changes: only the rolled refresh token's new version and the redeemed one disabled (a dry run still saves it);
    // the probe changed nothing.
    const changes = v.emu.log.filter((e) => e.method !== 'GET' && !/oauth2|oidctoken/.test(e.path) && e.status < 400);
    assert.deepEqual(
      changes.map((e) => `${e.method} ${e.path.replace(/[0-9a-f]{32}$/, '{version}')}`),
      [`PUT /secrets/${RT_SECRET}`, `PATCH /secrets/${RT_SECRET}/{version}`],
    );
    assert.deepEqual(
      v.emu.state.pats(v.user.oid).map((p) => p.revoked),
      [false],
    );
  });

  it('bulk: 50 PATs into one vault, one secret each', async () => {
    const v = await open('wif');
    for (let i = 0; i < 50; i++) v.addPat(`ci-${String(i).padStart(2, '0')}`, 1);
    const run = await v.run(
      {
        ...v.signIn(),
        displayName: 'ci-*',
        azureSubscription: v.connectionId,
        keyVaultName: v.vaultUrl,
        target: 'keyVault',
        secretName: 'PAT-{displayName}',
        concurrency: '4',
      },
      v.env,
    );
    assertResult(run, 'Succeeded');
    const pats = live(v).filter((p) => p.displayName.startsWith('ci-'));
    assert.equal(pats.length, 50);
    for (const p of pats) {
      const versions = v.versions(`PAT-${p.displayName}`);
      assert.equal(versions.length, 1, p.displayName);
      assert.equal(versions[0].value, p.token);
    }
  });

  it('refuses a secret name that the refresh token uses, before anything changes', async () => {
    const v = await open('wif');
    v.addPat(RT_SECRET, 1);
    const run = await v.run(v.vaultInputs({ displayName: RT_SECRET }), v.env);
    assertResult(run, 'Failed');
    assert.match(run.message ?? '', /Input 'secretName'.*refresh token's secret/);
  });

  it('says how to bootstrap when the refresh token secret is not in the vault', async () => {
    const v = await open('wif');
    const run = await v.run(
      {
        authorityHost: v.emu.url,
        tenantId: v.emu.state.tenantId,
        azureSubscription: v.connectionId,
        keyVaultName: v.vaultUrl,
        refreshTokenSecret: 'Missing-RT',
        target: 'keyVault',
        displayName: 'deploy',
      },
      v.env,
    );
    assertResult(run, 'Failed');
    assert.match(
      run.message ?? '',
      /Input 'refreshTokenSecret': secret 'Missing-RT' is not in .*run once with authMethod deviceCode/,
    );
    assert.equal(
      v.emu.log.filter((e) => e.path.includes('/oauth2/v2.0/token') && !e.vault).length,
      1,
      'only the vault identity signed in',
    );
  });

  it('refuses an unsupported connection scheme in one line', async () => {
    const v = await open('wif');
    const env = { ...v.env, [`ENDPOINT_AUTH_SCHEME_${v.connectionId}`]: 'PublishProfile' };
    const run = await v.run(v.vaultInputs({ displayName: 'deploy' }), env);
    assertResult(run, 'Failed');
    assert.match(run.message ?? '', /Input 'azureSubscription': .*scheme 'PublishProfile'/);
  });
  it('a cancel while the vault write is in flight leaves both PATs live and names the new one', async () => {
    const v = await open('wif');
    const old = v.addPat('deploy', 1);
    let cancel = (): void => undefined;
    v.emu.faults.add({ method: 'PUT', path: '/secrets/deploy', action: { kind: 'hold', onHeld: () => cancel() } });
    const run = await v.run(v.intoVault(), v.env, { onStart: (t) => (cancel = () => t.signal('SIGTERM')) });
    assertResult(run, 'Failed');
    const fresh = v.emu.state.pats(v.user.oid).find((p) => p.authorizationId !== old.authorizationId);
    assert.ok(fresh && !fresh.revoked, 'the new PAT stays live: the write may still land');
    assert.equal(old.revoked, false);
    assert.ok((run.message ?? '').includes(fresh.authorizationId), run.message);
  });

  it('a cancel while the rolled refresh token is saved to the vault says where it is, and changes no PAT', async () => {
    const v = await open('wif');
    v.addPat('deploy', 1);
    let cancel = (): void => undefined;
    v.emu.faults.add({
      method: 'PUT',
      path: `/secrets/${RT_SECRET}`,
      action: { kind: 'hold', onHeld: () => cancel() },
    });
    const run = await v.run(v.vaultInputs({ displayName: 'deploy' }), v.env, {
      onStart: (t) => (cancel = () => t.signal('SIGTERM')),
    });
    assertResult(run, 'Failed');
    assert.match(
      run.message ?? '',
      new RegExp(
        `may not be saved in secret '${RT_SECRET}' in https://127\\.0\\.0\\.1:\\d+: it is in this step's secret output refreshToken`,
      ),
    );
    assert.ok(!patApiCalls(v).includes('POST'), 'no PAT created');
  });
  it('never follows a redirect from the vault, and sends the token nowhere else', async () => {
    const v = await open('wif');
    v.addPat('deploy', 1);
    const elsewhere = await v.emu.addVault('elsewhere-kv');
    v.emu.faults.add({
      method: 'GET',
      path: '/secrets/deploy/',
      nth: 2,
      action: { kind: 'redirect', location: `${elsewhere.url}/secrets/deploy/` },
    });
    const run = await v.run(v.intoVault(), v.env);
    assertResult(run, 'Failed');
    assert.match(run.message ?? '', /redirect to 127\.0\.0\.1:\d+, which is not followed/);
    assert.ok(!v.emu.log.some((e) => e.vault === 'elsewhere-kv'), 'nothing reached the other host');
    assert.ok(!patApiCalls(v).includes('POST'), 'no PAT created');
  });
  it('renew: the secret holding the PAT gets its expiry moved with it (readers skip expired secrets)', async () => {
    const v = await open('wif');
    const pat = v.addPat('deploy', 2);
    const other = v.addPat('other', 2);
    const oldExp = Math.floor(pat.validTo.getTime() / 1000);
    v.emu.state.setVaultSecret(VAULT, 'deploy', pat.token, {
      exp: oldExp,
      tags: { authorizationId: pat.authorizationId },
    });
    v.emu.state.setVaultSecret(VAULT, 'other', 'someone-elses-value', { exp: oldExp, tags: { authorizationId: 'x' } });
    const run = await v.run(
      {
        ...v.signIn(),
        operation: 'renew',
        displayName: '*',
        validityDays: '60',
        azureSubscription: v.connectionId,
        keyVaultName: v.vaultUrl,
        target: 'keyVault',
      },
      v.env,
    );
    assertResult(run, 'Succeeded');
    assert.ok(pat.validTo.getTime() > Date.now() + 59 * 86_400_000, 'the PAT was renewed');
    const [version, ...more] = v.versions('deploy');
    assert.equal(more.length, 0, 'no new version: the value is the same');
    assert.equal(version.exp, Math.floor(pat.validTo.getTime() / 1000));
    assert.equal(version.value, pat.token);
    assert.equal(v.versions('other')[0].exp, oldExp, 'a secret holding another PAT is left as it is');
    assert.ok(other.validTo.getTime() > Date.now() + 59 * 86_400_000);
    assert.match(run.stdout, /secret 'other' holds another PAT: its expiry was left as it is/);
  });
  it("goes through the agent's authenticating proxy to the vault, Entra and the OIDC endpoint (the real bundle)", async () => {
    const v = await open('wif');
    v.addPat('deploy', 1);
    const proxy = await startConnectProxy({ username: 'proxyuser', password: 'proxy-pass-123456' });
    try {
      const run = await v.spawn(v.vaultInputs({ displayName: 'deploy' }), {
        ...v.env,
        AGENT_PROXYURL: proxy.url,
        AGENT_PROXYUSERNAME: 'proxyuser',
        SECRET_AGENT_PROXYPASSWORD: 'proxy-pass-123456',
      });
      assertResult(run, 'Succeeded');
      const vaultPort = new URL(v.vaultUrl).port;
      const emuPort = new URL(v.emu.url).port;
      assert.ok(proxy.tunnels.every((t) => t.authorized && t.user === 'proxyuser'));
      assert.ok(
        proxy.tunnels.some((t) => t.target.endsWith(`:${vaultPort}`)),
        'the vault through the proxy',
      );
      assert.ok(
        proxy.tunnels.some((t) => t.target.endsWith(`:${emuPort}`)),
        'Entra and Azure DevOps through the proxy',
      );
      assert.equal(v.versions('deploy')[0].value, live(v, 'deploy')[0].token);
    } finally {
      await proxy.close();
    }
  });
  it('a run with nothing due still checks the vault, so a missing role shows on the nightly run', async () => {
    const v = await open('wif', 'none');
    v.addPat('deploy', 60);
    const refused = await v.run(v.intoVault(), v.env);
    assertResult(refused, 'Failed');
    assert.match(refused.message ?? '', /HTTP 403.*Key Vault Secrets Officer/);
    v.emu.state.grantVault(VAULT, v.app!.objectId, 'officer');
    const fine = await v.run(v.intoVault(), v.env);
    assertResult(fine, 'Succeeded');
    assert.ok(
      v.emu.log.some((e) => e.vault && e.method === 'PATCH' && e.status === 404),
      'probed',
    );
    assert.deepEqual(patApiCalls(v), ['GET', 'GET'], 'only listed, twice');
  });
  it('a redeemed refresh-token version that cannot be disabled is a warning, and the run goes on', async () => {
    const v = await open('wif');
    v.addPat('deploy', 1);
    const inputs = v.vaultInputs({ displayName: 'deploy' });
    const redeemed = v.versions(RT_SECRET)[0].version;
    v.emu.faults.add({
      method: 'PATCH',
      path: `/secrets/${RT_SECRET}/${redeemed}`,
      action: { kind: 'status', status: 403 },
    });
    const run = await v.run(inputs, v.env);
    assert.ok(run.result === 'Succeeded' || run.result === 'SucceededWithIssues', run.message);
    assert.ok(
      run.warnings.some((w) => w.includes(`disabling it failed`) && w.includes(redeemed)),
      run.warnings.join('\n'),
    );
    assert.equal(v.versions(RT_SECRET)[0].enabled, true);
    assert.equal(v.versions('deploy')[0].value, live(v, 'deploy')[0].token);
  });
});
