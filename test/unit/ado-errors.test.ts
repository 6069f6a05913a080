import assert from 'node:assert/strict';
import { AdoError, errorFromStatus, patTokenErrorToAdoError, scrub } from '../../tasks/PatRotate/src/ado/errors';

describe('ado/errors', () => {
  it('explains the service-principal refusal', () => {
    const e = errorFromStatus(
      403,
      { message: 'Service principals are not allowed to perform this action.', typeKey: 'InvalidAccessException' },
      'GET https://vssps.dev.azure.com/contoso/_apis/tokens/pats',
      false,
    );
    assert.equal(e.kind, 'auth');
    assert.equal(e.typeKey, 'InvalidAccessException');
    assert.match(e.message, /Service principals are not allowed/);
    assert.match(e.message, /accepts only a signed-in user/);
  });

  it('maps statuses to kinds', () => {
    const kinds = [401, 403, 404, 400, 409, 429, 500, 501, 503].map((s) => {
      const e = errorFromStatus(s, undefined, 'GET x', true);
      return [s, e.kind, e.retryable, e.lostResponse];
    });
    assert.deepEqual(kinds, [
      [401, 'auth', false, false],
      [403, 'forbidden', false, false],
      [404, 'notFound', false, false],
      [400, 'badRequest', false, false],
      [409, 'badRequest', false, false],
      [429, 'throttled', true, false],
      [500, 'transient', true, true],
      [501, 'transient', false, true],
      [503, 'transient', true, true],
    ]);
  });

  it('prefers patTokenError in an error body', () => {
    const e = errorFromStatus(
      400,
      { patTokenError: 'globalPatPolicyViolation', patTokenErrorMessage: 'Global PATs are restricted' },
      'POST x',
      true,
    );
    assert.equal(e.kind, 'policy');
    assert.equal(e.status, 400);
    assert.equal(e.patTokenError, 'globalPatPolicyViolation');
    assert.match(e.message, /set allOrgs false/);
    assert.match(e.message, /Global PATs are restricted/);
  });

  const table: Array<[string, string, RegExp]> = [
    ['globalPatPolicyViolation', 'policy', /set allOrgs false/],
    ['fullScopePatPolicyViolation', 'policy', /instead of app_token/],
    ['disablePatCreationPolicyViolation', 'policy', /allow-list; ask an admin to add this user/],
    ['expiredPatCannotBeExtended', 'policy', /use rotate/],
    ['globalPATCreationBlocked', 'policy', /allOrgs false/],
    ['patLifespanPolicyViolation', 'policy', /shorter validity/],
    ['authorizationNotFound', 'notFound', /no PAT with that authorizationId/],
    ['tokenNotFound', 'notFound', /authorizationId/],
    ['invalidAuthorizationId', 'notFound', /authorizationId/],
    ['invalidScope', 'badRequest', /scope/],
    ['displayNameRequired', 'badRequest', /display name/],
    ['invalidDisplayName', 'badRequest', /display name/],
    ['invalidValidTo', 'badRequest', /expiry/],
    ['somethingNew', 'policy', /somethingNew/],
  ];
  for (const [code, kind, message] of table) {
    it(`patTokenError ${code} → ${kind}`, () => {
      const e = patTokenErrorToAdoError(code);
      assert.ok(e instanceof AdoError);
      assert.equal(e.kind, kind);
      assert.equal(e.patTokenError, code);
      assert.match(e.message, message);
    });
  }

  it('keeps messages on one line and scrubs credentials', () => {
    const e = new AdoError('auth', 'line one\nline two');
    assert.equal(e.message, 'line one line two');
    assert.equal(
      scrub('Authorization: Basic OmFiY2RlZmdoaWprbA== and abc123secret', ['abc123secret']),
      'Authorization: Basic *** and ***',
    );
  });
});
