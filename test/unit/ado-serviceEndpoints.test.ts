// The pure parts of the service connection client: which parameter holds the PAT, the PUT body, the kept fields.
import assert from 'node:assert/strict';
import {
  keptFields,
  tokenParameter,
  unsupportedReason,
  withToken,
  type ServiceEndpoint,
} from '../../tasks/PatRotate/src/ado/serviceEndpoints';

function endpoint(type: string, scheme: string, parameters: Record<string, unknown>): ServiceEndpoint {
  const raw = {
    data: { a: '1' },
    id: '5e47a0d8-c745-44f8-8f93-784f18ff31c4',
    name: 'conn',
    type,
    url: 'https://example.test',
    description: '',
    authorization: { parameters, scheme },
    isShared: false,
    isReady: true,
    owner: 'Library',
    serviceEndpointProjectReferences: [{ projectReference: { id: 'p', name: 'P' }, name: 'conn' }],
  };
  return { id: raw.id, name: raw.name, type, scheme, isReady: true, raw, project: 'P' };
}

describe('ado/serviceEndpoints', () => {
  it('chooses the token parameter by type and scheme, case-insensitively, and refuses the rest', () => {
    assert.equal(tokenParameter('ExternalTfs', 'token'), 'apitoken');
    assert.equal(tokenParameter('externalnugetfeed', 'UsernamePassword'), 'password');
    assert.equal(tokenParameter('GitHub', 'PersonalAccessToken'), 'accessToken');
    assert.equal(tokenParameter('github', 'OAuth'), undefined);
    assert.equal(tokenParameter('azurerm', 'ServicePrincipal'), undefined);
    assert.match(unsupportedReason(endpoint('github', 'OAuth', {})) ?? '', /supported: externaltfs/);
    assert.equal(unsupportedReason(endpoint('git', 'UsernamePassword', {})), undefined);
  });

  it('puts the token in the stored spelling of its key, leaving everything else as read', () => {
    const e = endpoint('generic', 'UsernamePassword', { username: 'u', Password: null });
    const body = withToken(e, 'NEW');
    assert.deepEqual((body.authorization as { parameters: unknown }).parameters, { username: 'u', Password: 'NEW' });
    assert.deepEqual({ ...body, authorization: e.raw.authorization }, e.raw);
    assert.equal((e.raw.authorization as { parameters: Record<string, unknown> }).parameters.Password, null);
  });

  it('refuses to send back a parameter that came without its value', () => {
    const e = endpoint('generic', 'UsernamePassword', { username: null, password: null });
    assert.throws(() => withToken(e, 'NEW'), /parameter 'username' without a value/);
  });

  it('kept fields ignore the token and key order, and see any other change', () => {
    const a = endpoint('externaltfs', 'Token', { apitoken: null });
    const b = endpoint('externaltfs', 'Token', { apitoken: 'x' });
    assert.equal(keptFields(a), keptFields(b));
    const reordered = { ...a, raw: Object.fromEntries(Object.entries(a.raw).reverse()) };
    assert.equal(keptFields(reordered), keptFields(a));
    for (const change of [{ url: 'https://other.test' }, { data: {} }, { owner: 'x' }, { isShared: true }]) {
      assert.notEqual(keptFields({ ...a, raw: { ...a.raw, ...change } }), keptFields(a), JSON.stringify(change));
    }
  });
});
