import assert from 'node:assert/strict';
import sinon from 'sinon';
import { useAccessToken } from '../../tasks/PatRotate/src/auth/accessToken';
import { SignInError } from '../../tasks/PatRotate/src/auth/aadErrors';
import { signIn } from '../../tasks/PatRotate/src/auth/signIn';
import type { SignInConfig, SignInDeps } from '../../tasks/PatRotate/src/auth/types';

const NOW = new Date('2026-05-01T12:00:00Z');
const ADO = '499b84ac-1321-427f-aa17-267ca6975798';

function jwt(claims: Record<string, unknown>): string {
  const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${part({ alg: 'RS256', typ: 'JWT' })}.${part(claims)}.c2lnbmF0dXJl`;
}

function userClaims(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    aud: ADO,
    exp: NOW.getTime() / 1000 + 3600,
    scp: 'user_impersonation',
    upn: 'ana@contoso.com',
    oid: 'oid-1',
    tid: 'tid-1',
    ...over,
  };
}

function deps(): SignInDeps & { warnings: string[]; secrets: string[]; proxyFor: sinon.SinonStub } {
  const warnings: string[] = [];
  const secrets: string[] = [];
  const proxyFor = sinon.stub().throws(new Error('no network for accessToken'));
  return {
    warnings,
    secrets,
    proxyFor,
    network: { proxyFor, ignoreSslError: false, timeoutMs: 1000 },
    setSecret: (v) => secrets.push(v),
    warn: (m) => warnings.push(m),
    info: () => undefined,
    now: () => NOW,
  };
}

function rejects(token: string, code: string, pattern: RegExp): void {
  assert.throws(
    () => useAccessToken(token, deps()),
    (e: unknown) => {
      assert.ok(e instanceof SignInError);
      assert.equal(e.code, code);
      assert.match(e.message, pattern);
      assert.ok(!e.message.includes(token), 'the message must not contain the token');
      return true;
    },
  );
}

describe('auth/accessToken', () => {
  it('accepts a user token for Azure DevOps and reads the user', () => {
    const token = jwt(userClaims());
    const d = deps();
    const r = useAccessToken(token, d);
    assert.equal(r.accessToken, token);
    assert.equal(r.expiresOn.toISOString(), '2026-05-01T13:00:00.000Z');
    assert.deepEqual(r.user, { upn: 'ana@contoso.com', oid: 'oid-1', tenantId: 'tid-1' });
    assert.equal(r.rolledRefreshToken, undefined);
    assert.deepEqual(d.warnings, []);
  });

  it('accepts the app.vssps.visualstudio.com audience and unique_name', () => {
    const r = useAccessToken(
      jwt(userClaims({ aud: 'https://app.vssps.visualstudio.com', upn: undefined, unique_name: 'bo@contoso.com' })),
      deps(),
    );
    assert.equal(r.user.upn, 'bo@contoso.com');
  });

  it('warns when the token expires within 10 minutes', () => {
    const d = deps();
    useAccessToken(jwt(userClaims({ exp: NOW.getTime() / 1000 + 300 })), d);
    assert.equal(d.warnings.length, 1);
    assert.match(d.warnings[0], /expires at 2026-05-01T12:05:00.000Z/);
  });

  it('rejects an expired token with its expiry time', () =>
    rejects(jwt(userClaims({ exp: NOW.getTime() / 1000 - 60 })), 'expired', /expired at 2026-05-01T11:59:00.000Z/));

  it('rejects another audience, naming it and the scope to ask for', () =>
    rejects(
      jwt(userClaims({ aud: 'https://management.core.windows.net/' })),
      'wrong_audience',
      /audience https:\/\/management\.core\.windows\.net\/.*499b84ac-1321-427f-aa17-267ca6975798\/\.default.*az account get-access-token --resource 499b84ac/,
    ));

  it('rejects an application token (idtyp app)', () =>
    rejects(
      jwt(userClaims({ idtyp: 'app', roles: ['x'] })),
      'app_token',
      /application \(service principal \/ managed identity\) token.*only user tokens.*refreshToken/,
    ));

  it('rejects a token without scp as an application token', () =>
    rejects(jwt(userClaims({ scp: undefined })), 'app_token', /application/));

  it('explains a 52-character PAT', () =>
    rejects(
      'a'.repeat(30) + '234567'.repeat(3) + 'bcde',
      'pat_given',
      /looks like a personal access token.*does not accept PATs/,
    ));

  it('explains a value without dots as a PAT', () =>
    rejects('AZDO'.repeat(21), 'pat_given', /looks like a personal access token.*no dots/));

  it('rejects a value that is not a JWT', () => {
    rejects('abc.def', 'not_jwt', /^The accessToken input is not a JWT: it has 2 dot-separated parts/);
    rejects('abc.@@@.def', 'not_jwt', /not a JWT: its payload is not base64url-encoded JSON/);
    rejects(
      `x.${Buffer.from('[1]').toString('base64url')}.y`,
      'not_jwt',
      /not a JWT: its payload is not a JSON object/,
    );
  });

  it('signIn masks the token first and makes no network call', async () => {
    const token = jwt(userClaims());
    const d = deps();
    const cfg: SignInConfig = {
      method: 'accessToken',
      accessToken: token,
      tenantId: 'organizations',
      clientId: 'c',
      authorityHost: 'https://login.microsoftonline.com',
      deviceCodeTimeoutMinutes: 15,
    };
    const r = await signIn(cfg, d);
    assert.equal(r.accessToken, token);
    assert.deepEqual(d.secrets, [token]);
    sinon.assert.notCalled(d.proxyFor);
  });

  it('signIn masks a wrong token before rejecting it', async () => {
    const d = deps();
    const cfg: SignInConfig = {
      method: 'accessToken',
      accessToken: 'not-a-jwt-at-all',
      tenantId: 'organizations',
      clientId: 'c',
      authorityHost: 'https://login.microsoftonline.com',
      deviceCodeTimeoutMinutes: 15,
    };
    await assert.rejects(signIn(cfg, d), SignInError);
    assert.deepEqual(d.secrets, ['not-a-jwt-at-all']);
  });
});
