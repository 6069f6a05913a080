// Sign-in as the scheduled pipeline does it: real msal-node against the emulator's Entra. The first run of each method
// goes through the built bundle (w.spawn), so task-lib's own input and debug echo is leak-scanned too.
import assert from 'node:assert/strict';
import { startConnectProxy } from '../helpers/connectProxy';
import { assertResult, live, worldPerTest, type World } from './world';

const PATS = /\/_apis\/tokens\/pats$/i;

describe('e2e: sign-in', function () {
  this.timeout(60_000);
  let w!: World;
  worldPerTest((x) => (w = x));

  const saveRt = { refreshTokenVariable: 'PatRotate.RefreshToken', refreshTokenGroup: 'pat-store' };

  it('refreshToken: the rolled refresh token is saved before the first PAT API call, and works next time', async () => {
    w.addPat('deploy', 2);
    const first = w.signIn();
    const run = await w.spawn({ ...first, ...saveRt, displayName: 'deploy' });
    assertResult(run, 'Succeeded');
    const saved = w.emu.state.group(w.group.id)!.variables['PatRotate.RefreshToken'];
    assert.equal(saved.isSecret, true);
    assert.ok(saved.value && saved.value !== first.refreshToken, 'a new refresh token was saved');
    assert.ok(w.emu.issuedSecrets().includes(saved.value));
    const firstPatCall = w.emu.log.findIndex((e) => PATS.test(e.path));
    const savePut = w.emu.log.findIndex((e) => e.method === 'PUT' && /variablegroups/.test(e.path));
    assert.ok(savePut >= 0 && savePut < firstPatCall, `saved at #${savePut}, first PAT API call at #${firstPatCall}`);
    assert.deepEqual(run.variables.get('refreshToken (output)'), { value: saved.value, secret: true, output: true });

    // The next scheduled run signs in with what was saved; the consumed token is refused with a clear fix.
    const second = await w.spawn({ ...first, refreshToken: saved.value, ...saveRt, operation: 'list' });
    assertResult(second, 'Succeeded');
    const reused = await w.spawn({ ...first, ...saveRt, operation: 'list' });
    assertResult(reused, 'Failed');
    assert.match(reused.message, /AADSTS9002313.*already used.*deviceCode bootstrap again.*refreshTokenVariable/);
  });

  it('saves the rolled refresh token even when a later step fails', async () => {
    const first = w.signIn();
    const run = await w.run({ ...first, ...saveRt, displayName: 'no-such-pat' });
    assertResult(run, 'Failed');
    assert.match(run.message, /Input 'displayName': no PAT named 'no-such-pat'/);
    const saved = w.emu.state.group(w.group.id)!.variables['PatRotate.RefreshToken'].value;
    assert.ok(saved && saved !== first.refreshToken);
  });

  it('deviceCode: shows the sign-in message as a warning, waits through pending polls, then seeds the group', async () => {
    w.emu.state.deviceCodeIntervalSeconds = 0;
    w.emu.state.onDeviceCode = (dc) => w.emu.state.approveDeviceCodeOnPoll(dc.userCode, w.user.oid, 3);
    const run = await w.run({
      authMethod: 'deviceCode',
      authorityHost: w.emu.url,
      tenantId: w.emu.state.tenantId,
      ...saveRt,
      operation: 'list',
    });
    assertResult(run, 'Succeeded');
    const [dc] = w.emu.state.deviceCodes;
    assert.ok(
      run.warnings.some((m) => m.includes(dc.userCode)),
      'the user code is shown as a warning',
    );
    const polls = w.emu.log.filter((e) => /oauth2\/v2\.0\/token$/.test(e.path));
    assert.equal(polls.length, 3, `polled ${polls.length} times`);
    assert.equal(polls.at(-1)!.status, 200);
    assert.ok(
      polls.slice(0, -1).every((e) => e.status === 400),
      'authorization_pending before approval',
    );
    const saved = w.emu.state.group(w.group.id)!.variables['PatRotate.RefreshToken'].value;
    assert.ok(saved && w.emu.issuedSecrets().includes(saved));
  });

  it('usernamePassword: works, and warns once that MFA and Conditional Access break it', async () => {
    w.addPat('deploy', 2);
    const run = await w.spawn({
      authMethod: 'usernamePassword',
      username: 'alice@contoso.example',
      password: 'P@ssw0rd-alice-1234',
      authorityHost: w.emu.url,
      tenantId: w.emu.state.tenantId,
      displayName: 'deploy',
    });
    assertResult(run, 'Succeeded');
    assert.equal(run.warnings.filter((m) => /MFA|multi-factor/i.test(m)).length, 1);
    assert.equal(live(w, 'deploy').length, 1);
  });

  it('accessToken: a user token is used as given, with no Entra call', async () => {
    w.addPat('deploy', 2);
    const run = await w.spawn({
      authMethod: 'accessToken',
      accessToken: w.emu.state.issueAccessToken(w.user.oid),
      displayName: 'deploy',
    });
    assertResult(run, 'Succeeded');
    assert.ok(w.emu.log.every((e) => !/oauth2/.test(e.path)));
  });

  const refusedOffline: [string, (w: World) => string, RegExp][] = [
    [
      'an app-only (service principal) token',
      (w) => w.emu.state.issueAppToken({ clientId: '11111111-2222-3333-4444-555555555555' }),
      /application|service principal/i,
    ],
    ['an expired token', (w) => w.emu.state.issueAccessToken(w.user.oid, { expiresInSeconds: -60 }), /expired/i],
    [
      'a token for another audience',
      (w) => w.emu.state.issueAccessToken(w.user.oid, { audience: 'https://graph.microsoft.com' }),
      /audience/i,
    ],
    ['a PAT passed as a token', (w) => w.addPat('x', 10).token, /personal access token/i],
  ];
  for (const [name, token, pattern] of refusedOffline) {
    it(`accessToken: refuses ${name} before any network call`, async () => {
      const run = await w.spawn({ authMethod: 'accessToken', accessToken: token(w), displayName: 'deploy' });
      assertResult(run, 'Failed');
      assert.match(run.message, pattern);
      assert.equal(w.emu.log.length, 0);
    });
  }

  const aadsts: [number, RegExp][] = [
    [700082, /expired.*deviceCode bootstrap again/],
    [70000, /invalid.*deviceCode bootstrap again/],
    [9002313, /already used.*deviceCode bootstrap again/],
    [50076, /multi-factor.*deviceCode/i],
    [50079, /multi-factor.*deviceCode/i],
    [65001, /consent.*adminconsent\?client_id=/],
    [7000218, /public client flows/],
    [7000215, /client secret/],
    [700016, /not found in tenant/],
    [50126, /Wrong username or password/],
    [53003, /Conditional Access/],
    [90002, /Tenant .* was not found/],
  ];
  for (const [errorNo, pattern] of aadsts) {
    it(`AADSTS${errorNo} fails with its cause and fix, before any PAT API call`, async () => {
      w.emu.state.entraFailNext({ errorNo });
      const run = await w.spawn({ ...w.signIn(), displayName: 'deploy' });
      assertResult(run, 'Failed');
      assert.match(run.message, new RegExp(`AADSTS${errorNo}`));
      assert.match(run.message, pattern);
      assert.ok(!run.message.includes('\n'));
      assert.ok(w.emu.log.every((e) => !PATS.test(e.path)));
    });
  }

  it("signs in and rotates through the agent's authenticating proxy", async () => {
    w.addPat('deploy', 2);
    const proxy = await startConnectProxy({ username: 'proxyuser', password: 'proxy-pass-123456' });
    try {
      // The agent passes its proxy password as a secret variable (masked by the agent itself); task-lib echoes it
      // in a debug line while it loads, before any task code runs, so it is not part of this run's leak scan.
      const run = await w.spawn(
        { ...w.signIn(), displayName: 'deploy' },
        {
          AGENT_PROXYURL: proxy.url,
          AGENT_PROXYUSERNAME: 'proxyuser',
          SECRET_AGENT_PROXYPASSWORD: 'proxy-pass-123456',
        },
      );
      assertResult(run, 'Succeeded');
      const port = new URL(w.emu.url).port;
      assert.ok(proxy.tunnels.length >= 2);
      assert.ok(proxy.tunnels.every((t) => t.authorized && t.user === 'proxyuser' && t.target.endsWith(`:${port}`)));
      assert.equal(live(w, 'deploy').length, 1);
    } finally {
      await proxy.close();
    }
  });

  it('a client id with a confidential secret signs in', async () => {
    const appId = '0c0c0c0c-1111-2222-3333-444444444444';
    w.emu.state.addClientSecret(appId, 'client-secret-value-987654');
    w.supplied.push('client-secret-value-987654');
    const rt = w.emu.state.issueRefreshToken(w.user.oid, appId);
    const run = await w.spawn({
      authMethod: 'refreshToken',
      refreshToken: rt,
      clientId: appId,
      clientSecret: 'client-secret-value-987654',
      authorityHost: w.emu.url,
      tenantId: w.emu.state.tenantId,
      operation: 'list',
    });
    assertResult(run, 'Succeeded');
  });
});
