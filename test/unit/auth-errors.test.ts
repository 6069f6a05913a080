import assert from 'node:assert/strict';
import { AuthError, ClientAuthError, InteractionRequiredAuthError, ServerError } from '@azure/msal-node';
import { adminConsentUrl, explainSignInError, redact, SignInError } from '../../tasks/PatRotate/src/auth/aadErrors';
import type { HttpExchange } from '../../tasks/PatRotate/src/auth/networkClient';
import type { SignInConfig } from '../../tasks/PatRotate/src/auth/types';

const cfg: SignInConfig = {
  method: 'refreshToken',
  tenantId: 'contoso.onmicrosoft.com',
  clientId: '04b07795-8ddb-461a-bbee-02f9e1bf7b46',
  refreshToken: 'rt',
  authorityHost: 'https://login.microsoftonline.com',
  deviceCodeTimeoutMinutes: 15,
};

/** As MSAL builds it from an Entra error body (see ResponseHandler.validateTokenResponse). */
function server(no: number, error = 'invalid_grant', subError = ''): ServerError {
  const text = `Error(s): ${no} - Timestamp: 2026-05-01 - Description: AADSTS${no}: something happened.\r\nTrace ID: t - Correlation ID: c - Trace ID: t`;
  return new ServerError(error, 'corr', text, subError, no as unknown as string);
}

function interaction(no: number, subError: string, error = 'invalid_grant'): InteractionRequiredAuthError {
  return new InteractionRequiredAuthError(error, 'corr', `AADSTS${no}: description`, subError, '', '', '', String(no));
}

function explain(err: unknown, lastFailure?: HttpExchange, c: SignInConfig = cfg): SignInError {
  const e = explainSignInError(err, c, lastFailure);
  assert.ok(e instanceof SignInError);
  assert.ok(!e.message.includes('\n'), 'one line');
  return e;
}

describe('auth/aadErrors', () => {
  const table: Array<[number, RegExp]> = [
    [700082, /^AADSTS700082: The refresh token has expired.*deviceCode bootstrap again.*refreshTokenVariable/],
    [70000, /^AADSTS70000: .*already redeemed.*refreshTokenVariable/],
    [
      9002313,
      /^AADSTS9002313: The refresh token is invalid, already used.*deviceCode bootstrap again.*refreshTokenVariable/,
    ],
    [50076, /^AADSTS50076: Multi-factor authentication is required.*deviceCode.*refreshToken/],
    [50079, /^AADSTS50079: .*multi-factor.*deviceCode.*refreshToken/],
    [
      65001,
      /^AADSTS65001: .*consent.*https:\/\/login\.microsoftonline\.com\/contoso\.onmicrosoft\.com\/adminconsent\?client_id=04b07795-8ddb-461a-bbee-02f9e1bf7b46/,
    ],
    [7000218, /^AADSTS7000218: .*Allow public client flows.*clientSecret/],
    [7000215, /^AADSTS7000215: The client secret is invalid/],
    [
      700016,
      /^AADSTS700016: App 04b07795-8ddb-461a-bbee-02f9e1bf7b46 was not found in tenant contoso\.onmicrosoft\.com: check the clientId and tenantId/,
    ],
    [50126, /^AADSTS50126: Wrong username or password/],
    [53003, /^AADSTS53003: Conditional Access blocked/],
    [90002, /^AADSTS90002: Tenant contoso\.onmicrosoft\.com was not found: check the tenantId/],
  ];
  for (const [no, pattern] of table) {
    it(`AADSTS${no} from ServerError.errorNo`, () => {
      const e = explain(server(no));
      assert.equal(e.code, `AADSTS${no}`);
      assert.match(e.message, pattern);
    });
  }

  it('reads the number from an InteractionRequiredAuthError (MFA with suberror)', () => {
    assert.match(explain(interaction(50076, 'basic_action')).message, /^AADSTS50076: Multi-factor/);
    assert.match(explain(interaction(65001, 'consent_required')).message, /^AADSTS65001: .*adminconsent/);
  });

  it('parses AADSTS from the message when errorNo is missing', () => {
    const e = new ServerError(
      'invalid_grant',
      'corr',
      'AADSTS700082: The refresh token has expired due to inactivity.',
    );
    assert.equal(explain(e).code, 'AADSTS700082');
  });

  it("keeps an unknown AADSTS number with Entra's description", () => {
    const e = explain(server(123456, 'invalid_request'));
    assert.equal(e.code, 'AADSTS123456');
    assert.match(
      e.message,
      /^AADSTS123456: something happened\. \(see https:\/\/login\.microsoftonline\.com\/error\?code=123456\)/,
    );
  });

  it('maps suberror and error strings when there is no number', () => {
    assert.match(
      explain(new InteractionRequiredAuthError('invalid_grant', 'c', 'x', 'consent_required')).message,
      /adminconsent/,
    );
    assert.match(
      explain(new InteractionRequiredAuthError('interaction_required', 'c', 'x')).message,
      /interactive sign-in.*deviceCode/,
    );
    assert.match(
      explain(new ServerError('invalid_grant', 'c', 'x')).message,
      /rejected the refresh token.*deviceCode bootstrap/,
    );
  });

  it('device code: declined, expired, timeout', () => {
    const declined = new AuthError('post_request_failed', 'c', 'authorization_declined');
    assert.match(
      explain(declined, { method: 'POST', url: 'u', status: 400, error: 'authorization_declined' }).message,
      /declined/,
    );
    assert.match(explain(new AuthError('post_request_failed', 'c', 'expired_token')).message, /device code expired/);
    assert.match(explain(new ClientAuthError('device_code_expired', 'c')).message, /device code expired/);
    assert.match(explain(new ClientAuthError('user_timeout_reached', 'c')).message, /deviceCodeTimeoutMinutes/);
  });

  it('takes the AADSTS number off the wire when MSAL dropped it (device code polling)', () => {
    const e = new AuthError('post_request_failed', 'c', 'invalid_grant');
    const wire: HttpExchange = {
      method: 'POST',
      url: 'https://h/t/oauth2/v2.0/token',
      status: 400,
      error: 'invalid_grant',
      errorCodes: [50076],
    };
    assert.match(explain(e, wire).message, /^AADSTS50076: Multi-factor/);
  });

  it('failed discovery: tenant not found from the wire, else the authority', () => {
    const e = new ClientAuthError('endpoints_resolution_error', 'c');
    assert.match(
      explain(e, {
        method: 'GET',
        url: 'https://h/x/v2.0/.well-known/openid-configuration',
        status: 400,
        errorCodes: [90002],
      }).message,
      /^AADSTS90002/,
    );
    assert.match(
      explain(e, { method: 'GET', url: 'https://h/x', status: 404 }).message,
      /OpenID configuration.*HTTP 404.*authorityHost and tenantId/,
    );
  });

  it('network: unreachable, untrusted TLS, proxy refusal', () => {
    const netErr = new AuthError('network_error', '', 'Network request failed');
    const at = (code: string | undefined, message: string): HttpExchange => ({
      method: 'POST',
      url: 'https://127.0.0.1:4433/t/oauth2/v2.0/token',
      networkError: { code, message },
    });
    const refused = explain(netErr, at('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:4433'));
    assert.equal(refused.code, 'network');
    assert.match(refused.message, /Cannot reach 127\.0\.0\.1:4433 \(ECONNREFUSED.*authorityHost.*proxy/);
    const tls = explain(
      new ClientAuthError('endpoints_resolution_error', 'c'),
      at('SELF_SIGNED_CERT_IN_CHAIN', 'self-signed certificate in certificate chain'),
    );
    assert.equal(tls.code, 'tls');
    assert.match(tls.message, /TLS certificate of 127\.0\.0\.1:4433 is not trusted.*Agent\.CAInfo/);
    const proxy = explain(netErr, at('ECONNRESET', 'tunneling socket could not be established, statusCode=407'));
    assert.equal(proxy.code, 'proxy');
    assert.match(proxy.message, /proxy refused the tunnel.*407.*proxy username and password/);
  });

  it('throttling that outlived the retries', () => {
    assert.match(
      explain(new ServerError('http_429', 'c', 'x'), { method: 'POST', url: 'u', status: 429, error: 'http_429' })
        .message,
      /throttled.*429/,
    );
  });

  it('never echoes a token', () => {
    const token = `eyJ${'a'.repeat(30)}.${'b'.repeat(40)}.${'c'.repeat(20)}`;
    const e = explain(new AuthError('weird', 'c', `bad thing with ${token} inside`));
    assert.ok(!e.message.includes(token));
    assert.match(e.message, /\[redacted\]/);
    assert.equal(redact(`x ${'Z'.repeat(80)} y`), 'x [redacted] y');
  });

  it('passes a SignInError through and wraps anything else', () => {
    const mine = new SignInError('config', 'x');
    assert.equal(explainSignInError(mine, cfg), mine);
    assert.match(explain(new TypeError('boom')).message, /^Sign-in \(refreshToken\) failed: boom/);
  });

  it('admin consent URL for organizations', () => {
    assert.equal(
      adminConsentUrl({ authorityHost: 'https://127.0.0.1:4433/', tenantId: 'common', clientId: 'abc' }),
      'https://127.0.0.1:4433/organizations/adminconsent?client_id=abc',
    );
  });
});
