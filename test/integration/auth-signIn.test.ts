// signIn() with the real msal-node against the local Entra emulator, over our typed-rest-client network client.
import assert from 'node:assert/strict';
import { start, type Emulator, type User } from '../emulator';
import { startConnectProxy } from '../helpers/connectProxy';
import { SignInError } from '../../tasks/PatRotate/src/auth/aadErrors';
import { signIn } from '../../tasks/PatRotate/src/auth/signIn';
import type { SignedIn, SignInConfig, SignInDeps } from '../../tasks/PatRotate/src/auth/types';
import type { NetworkSettings } from '../../tasks/PatRotate/src/net/network';

const CLIENT = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';
const TOKEN_PATH = /\/oauth2\/v2\.0\/token$/;

interface Recorder extends SignInDeps {
  secrets: string[];
  warnings: string[];
  infos: string[];
  sleeps: number[];
  /** Everything the module said, in order: to prove no token was ever printed. */
  said: string[];
}

describe('auth/signIn against the Entra emulator', function () {
  this.timeout(20_000);
  let emu: Emulator;
  let ana: User;
  let network: NetworkSettings;

  before(async () => {
    emu = await start({ deviceCodeIntervalSeconds: 1 });
    ana = emu.state.addUser({ upn: 'ana@contoso.com', password: 'correct horse' });
    network = { proxyFor: () => undefined, cert: { caFile: emu.caFile }, ignoreSslError: false, timeoutMs: 10_000 };
  });
  after(() => emu.close());
  afterEach(() => emu.faults.clear());

  function deps(net: NetworkSettings = network): Recorder {
    const r: Recorder = {
      secrets: [],
      warnings: [],
      infos: [],
      sleeps: [],
      said: [],
      network: net,
      setSecret: (v) => {
        r.secrets.push(v);
      },
      warn: (m) => {
        r.warnings.push(m);
        r.said.push(m);
      },
      info: (m) => {
        r.infos.push(m);
        r.said.push(m);
      },
      debug: (m) => {
        r.said.push(m);
      },
      now: () => new Date(),
      sleep: (ms) => {
        r.sleeps.push(ms);
        return Promise.resolve();
      },
    };
    return r;
  }

  function cfg(over: Partial<SignInConfig>): SignInConfig {
    return {
      method: 'refreshToken',
      tenantId: emu.state.tenantId,
      clientId: CLIENT,
      authorityHost: emu.url,
      deviceCodeTimeoutMinutes: 1,
      ...over,
    };
  }

  function assertNothingLeaked(d: Recorder): void {
    for (const s of emu.issuedSecrets()) {
      assert.ok(!d.said.some((line) => line.includes(s)), `a secret (${s.slice(0, 3)}…) was printed`);
    }
  }

  async function expectError(p: Promise<SignedIn>, code: string, pattern: RegExp): Promise<SignInError> {
    let caught: unknown;
    await p.catch((e: unknown) => {
      caught = e;
    });
    assert.ok(caught instanceof SignInError, `expected a SignInError, got ${String(caught)}`);
    assert.equal(caught.code, code, caught.message);
    assert.match(caught.message, pattern);
    for (const s of emu.issuedSecrets()) assert.ok(!caught.message.includes(s), 'the error message holds a secret');
    return caught;
  }

  describe('refreshToken', () => {
    it('redeems the refresh token, returns the rotated one, which works next time; the old one is refused', async () => {
      const rt0 = emu.state.issueRefreshToken(ana.oid, CLIENT);
      const d = deps();
      const first = await signIn(cfg({ refreshToken: rt0 }), d);
      assert.ok(first.accessToken.length > 20);
      assert.ok(first.expiresOn.getTime() > Date.now() + 50 * 60_000);
      assert.ok(first.rolledRefreshToken && first.rolledRefreshToken !== rt0);
      assert.deepEqual(first.user, { upn: 'ana@contoso.com', oid: ana.oid, tenantId: ana.tenantId });
      // Masked: the input first, then each token as soon as it exists.
      assert.deepEqual(d.secrets, [rt0, first.accessToken, first.rolledRefreshToken]);

      const second = await signIn(cfg({ refreshToken: first.rolledRefreshToken }), deps());
      assert.ok(second.rolledRefreshToken && second.rolledRefreshToken !== first.rolledRefreshToken);

      await expectError(
        signIn(cfg({ refreshToken: rt0 }), deps()),
        'AADSTS9002313',
        /^AADSTS9002313: .*deviceCode bootstrap again.*refreshTokenVariable/,
      );
      assertNothingLeaked(d);
      // Only the emulator's token endpoint was contacted: no discovery (the endpoints are given), nothing elsewhere.
      assert.deepEqual(
        [...new Set(emu.log.map((e) => `${e.method} ${e.path}`))],
        [`POST /${emu.state.tenantId}/oauth2/v2.0/token`],
      );
    });

    it('works as a confidential client with a client secret, and explains a wrong secret', async () => {
      const app = 'aaaaaaaa-1111-2222-3333-444444444444';
      emu.state.addClientSecret(app, 'app-secret-value');
      const d = deps();
      const r = await signIn(
        cfg({
          clientId: app,
          clientSecret: 'app-secret-value',
          refreshToken: emu.state.issueRefreshToken(ana.oid, app),
        }),
        d,
      );
      assert.ok(r.rolledRefreshToken);
      assert.ok(d.secrets.includes('app-secret-value'));
      await expectError(
        signIn(
          cfg({ clientId: app, clientSecret: 'wrong-secret', refreshToken: emu.state.issueRefreshToken(ana.oid, app) }),
          deps(),
        ),
        'AADSTS7000215',
        /^AADSTS7000215: The client secret is invalid/,
      );
    });

    it('expired and revoked refresh tokens', async () => {
      const expired = emu.state.issueRefreshToken(ana.oid, CLIENT, -1000);
      await expectError(
        signIn(cfg({ refreshToken: expired }), deps()),
        'AADSTS700082',
        /expired.*deviceCode bootstrap/,
      );
    });
  });

  describe('AADSTS errors from the token endpoint', () => {
    const cases: Array<[number, RegExp]> = [
      [700082, /refresh token has expired/],
      [70000, /already redeemed/],
      [50076, /Multi-factor authentication is required.*deviceCode.*refreshToken/],
      [50079, /multi-factor.*deviceCode/],
      [65001, /consent.*adminconsent\?client_id=04b07795/],
      [7000218, /Allow public client flows/],
      [700016, /was not found in tenant/],
      [53003, /Conditional Access/],
      [50126, /Wrong username or password/],
    ];
    for (const [errorNo, pattern] of cases) {
      it(`AADSTS${errorNo}`, async () => {
        emu.state.entraFailNext({ errorNo });
        await expectError(
          signIn(cfg({ refreshToken: emu.state.issueRefreshToken(ana.oid, CLIENT) }), deps()),
          `AADSTS${errorNo}`,
          pattern,
        );
      });
    }

    it('AADSTS90002: unknown tenant', async () => {
      await expectError(
        signIn(cfg({ tenantId: 'nosuchtenant.example', refreshToken: 'x' }), deps()),
        'AADSTS90002',
        /Tenant nosuchtenant\.example was not found/,
      );
    });
  });

  describe('deviceCode', () => {
    async function waitForPending(minPolls: number): Promise<string> {
      for (let i = 0; i < 200; i++) {
        const dc = emu.state.pendingDeviceCodes()[0];
        if (dc && dc.polls >= minPolls) return dc.userCode;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error('no pending device code');
    }

    it('shows the code as a warning, keeps polling while pending, and returns a refresh token after approval', async () => {
      const d = deps();
      const p = signIn(cfg({ method: 'deviceCode' }), d);
      const userCode = await waitForPending(2);
      assert.equal(d.warnings.length, 1);
      assert.match(d.warnings[0], new RegExp(`https://microsoft\\.com/devicelogin.*${userCode}`));
      emu.state.approveDeviceCode(userCode, ana.oid);
      const r = await p;
      assert.equal(r.user.upn, 'ana@contoso.com');
      assert.ok(r.rolledRefreshToken);
      assert.deepEqual(d.secrets, [r.accessToken, r.rolledRefreshToken]);
      // The refresh token from the bootstrap is the one the refreshToken method then uses.
      const next = await signIn(cfg({ refreshToken: r.rolledRefreshToken }), deps());
      assert.ok(next.accessToken);
      assertNothingLeaked(d);
    });

    it('declined by the user', async () => {
      const p = signIn(cfg({ method: 'deviceCode' }), deps());
      emu.state.declineDeviceCode(await waitForPending(1));
      await expectError(p, 'AADSTS70020', /declined/);
    });

    it('nobody signs in within deviceCodeTimeoutMinutes', async () => {
      await expectError(
        signIn(cfg({ method: 'deviceCode', deviceCodeTimeoutMinutes: 1 / 60 }), deps()),
        'user_timeout_reached',
        /deviceCodeTimeoutMinutes/,
      );
      for (const dc of emu.state.pendingDeviceCodes()) emu.state.declineDeviceCode(dc.userCode);
    });

    it('an error from the devicecode endpoint stops at once with its AADSTS number (MSAL would poll with no code)', async () => {
      emu.faults.add({
        method: 'POST',
        path: /\/oauth2\/v2\.0\/devicecode$/,
        nth: 1,
        action: {
          kind: 'status',
          status: 400,
          body: {
            error: 'unauthorized_client',
            error_description: 'AADSTS700016: Application not found.',
            error_codes: [700016],
          },
        },
      });
      const d = deps();
      await expectError(signIn(cfg({ method: 'deviceCode' }), d), 'AADSTS700016', /was not found in tenant/);
      assert.deepEqual(d.warnings, []);
    });

    it('a 429 from the devicecode endpoint is retried with a fresh client', async () => {
      emu.faults.add({
        method: 'POST',
        path: /\/oauth2\/v2\.0\/devicecode$/,
        nth: 1,
        action: { kind: 'status', status: 429, retryAfterSeconds: 1 },
      });
      const d = deps();
      const p = signIn(cfg({ method: 'deviceCode' }), d);
      emu.state.approveDeviceCode(await waitForPending(1), ana.oid);
      assert.ok((await p).accessToken);
      assert.deepEqual(d.sleeps, [1000]);
      assert.equal(d.warnings.length, 1);
    });
  });

  describe('usernamePassword', () => {
    it('signs in, warns once about MFA / Conditional Access, and returns the refresh token', async () => {
      const d = deps();
      const r = await signIn(
        cfg({ method: 'usernamePassword', username: 'ana@contoso.com', password: 'correct horse' }),
        d,
      );
      assert.ok(r.accessToken && r.rolledRefreshToken);
      assert.equal(d.warnings.length, 1);
      assert.match(d.warnings[0], /MFA or Conditional Access.*deviceCode.*refreshToken/);
      assert.deepEqual(d.secrets, ['correct horse', r.accessToken, r.rolledRefreshToken]);
    });

    it('wrong password', async () => {
      await expectError(
        signIn(cfg({ method: 'usernamePassword', username: 'ana@contoso.com', password: 'nope' }), deps()),
        'AADSTS50126',
        /Wrong username or password/,
      );
    });
  });

  describe('throttling and transport', () => {
    it('429 then success: waits Retry-After and retries with a fresh client', async () => {
      emu.faults.add({
        method: 'POST',
        path: TOKEN_PATH,
        nth: 1,
        action: { kind: 'status', status: 429, retryAfterSeconds: 2 },
      });
      const d = deps();
      const before = emu.log.filter((e) => TOKEN_PATH.test(e.path)).length;
      const r = await signIn(cfg({ refreshToken: emu.state.issueRefreshToken(ana.oid, CLIENT) }), d);
      assert.ok(r.rolledRefreshToken);
      assert.deepEqual(d.sleeps, [2000]);
      assert.match(d.infos.join('\n'), /HTTP 429.*retry 1 of 2/);
      assert.equal(emu.log.filter((e) => TOKEN_PATH.test(e.path)).length - before, 2);
    });

    it('gives up after two retries of 503', async () => {
      emu.faults.add({ method: 'POST', path: TOKEN_PATH, action: { kind: 'status', status: 503 } });
      const d = deps();
      await expectError(
        signIn(cfg({ refreshToken: emu.state.issueRefreshToken(ana.oid, CLIENT) }), d),
        'http_503',
        /unavailable \(HTTP 503\) even after retries/,
      );
      assert.deepEqual(d.sleeps, [5000, 5000]);
    });

    it('does not retry invalid_grant', async () => {
      const d = deps();
      await expectError(signIn(cfg({ refreshToken: 'never-issued' }), d), 'AADSTS9002313', /refresh token/);
      assert.deepEqual(d.sleeps, []);
    });

    it('an HTML page instead of JSON', async () => {
      emu.faults.add({ method: 'POST', path: TOKEN_PATH, nth: 1, action: { kind: 'html' } });
      await expectError(
        signIn(cfg({ refreshToken: emu.state.issueRefreshToken(ana.oid, CLIENT) }), deps()),
        'not_json',
        /not JSON.*proxy or firewall/,
      );
    });

    it('an untrusted certificate is named as such', async () => {
      const untrusted: NetworkSettings = { ...network, cert: undefined };
      await expectError(
        signIn(cfg({ refreshToken: 'x' }), deps(untrusted)),
        'tls',
        /TLS certificate of 127\.0\.0\.1:\d+ is not trusted/,
      );
    });

    it('an unreachable authority', async () => {
      await expectError(
        signIn(cfg({ authorityHost: 'https://127.0.0.1:1', refreshToken: 'x' }), deps()),
        'network',
        /Cannot reach 127\.0\.0\.1:1 \(ECONNREFUSED/,
      );
    });

    it('goes through the agent proxy with its credentials', async () => {
      const proxy = await startConnectProxy({ username: 'agent', password: 'proxy-pass' });
      try {
        const via = (password: string): NetworkSettings => ({
          ...network,
          proxyFor: () => ({ proxyUrl: proxy.url, proxyUsername: 'agent', proxyPassword: password }),
        });
        const r = await signIn(
          cfg({ refreshToken: emu.state.issueRefreshToken(ana.oid, CLIENT) }),
          deps(via('proxy-pass')),
        );
        assert.ok(r.rolledRefreshToken);
        const target = new URL(emu.url).host;
        assert.ok(proxy.tunnels.length >= 1, 'the token request was tunnelled');
        assert.ok(proxy.tunnels.every((t) => t.target === target && t.authorized && t.user === 'agent'));

        await expectError(
          signIn(cfg({ refreshToken: emu.state.issueRefreshToken(ana.oid, CLIENT) }), deps(via('wrong'))),
          'proxy',
          /407.*proxy username and password/,
        );
        assert.ok(proxy.tunnels.some((t) => !t.authorized));
      } finally {
        await proxy.close();
      }
    });
  });

  describe('accessToken', () => {
    it('accepts an emulator user token and refuses an app token, offline', async () => {
      const before = emu.log.length;
      const r = await signIn(cfg({ method: 'accessToken', accessToken: emu.state.issueAccessToken(ana.oid) }), deps());
      assert.equal(r.user.oid, ana.oid);
      await expectError(
        signIn(cfg({ method: 'accessToken', accessToken: emu.state.issueAppToken({ clientId: CLIENT }) }), deps()),
        'app_token',
        /only user tokens/,
      );
      assert.equal(emu.log.length, before);
    });
  });
});
