// PAT Lifecycle API of the emulator held against tokens 7.1/7.2 swagger + Microsoft's httpExamples.
import assert from 'node:assert/strict';
import { start, type Emulator, type User } from '../emulator';
import { assertShape, call, DATE_RE, DAY, loadSpec, type Json } from './helpers';

const PATH = '/contoso/_apis/tokens/pats';
const V = '?api-version=7.1-preview.1';
const V72 = '?api-version=7.2-preview.1';

describe('contract: PAT Lifecycle API', function () {
  this.timeout(10_000);
  const spec72 = loadSpec('tokens/7.2/tokens.json');
  const errorEnum: string[] = spec72.definitions.PatTokenResult.properties.patTokenError.enum;
  const example = (name: string): Json => loadSpec(`tokens/7.2/httpExamples/Pats/${name}.json`);
  let em: Emulator;
  let alice: User;
  let bearer: string;
  const emitted = new Set<string>();
  const api = async (method: string, path: string, body?: unknown, token = bearer) => {
    const r = await call(em, method, path, { body, bearer: token });
    if (r.json && typeof r.json.patTokenError === 'string') emitted.add(r.json.patTokenError);
    return r;
  };
  const create = (body: Record<string, unknown>, v = V) =>
    api('POST', PATH + v, {
      displayName: 'p',
      scope: 'vso.code',
      validTo: new Date(Date.now() + 10 * DAY).toISOString(),
      allOrgs: false,
      ...body,
    });

  beforeEach(async () => {
    em = await start();
    em.state.addOrg('contoso');
    em.state.addOrg('fabrikam');
    alice = em.state.addUser({ upn: 'alice@contoso.example' });
    bearer = em.state.issueAccessToken(alice.oid);
  });
  afterEach(() => em.close());
  after(() => {
    for (const e of emitted)
      assert.ok(errorEnum.includes(e), `patTokenError ${e} is not in the 7.2 SessionTokenError enum`);
  });

  it('field names match the swagger definitions (7.1 and 7.2)', async () => {
    for (const ver of ['7.1', '7.2']) {
      const defs = loadSpec(`tokens/${ver}/tokens.json`).definitions;
      const r = await create({}, `?api-version=${ver}-preview.1`);
      const expectedResult = Object.keys(defs.PatTokenResult.properties).filter(
        (k) => ver === '7.2' || k !== 'patTokenErrorMessage',
      );
      assert.deepEqual(Object.keys(r.json).sort(), expectedResult.sort());
      assert.deepEqual(Object.keys(r.json.patToken).sort(), Object.keys(defs.PatToken.properties).sort());
      const l = await api('GET', `${PATH}?api-version=${ver}-preview.1`);
      assert.deepEqual(Object.keys(l.json).sort(), Object.keys(defs.PagedPatTokens.properties).sort());
    }
  });

  it('Create answers like CreatePat.json: token only here, targetAccounts [orgId], .NET dates', async () => {
    const ex = example('CreatePat');
    const r = await api('POST', PATH + '?api-version=6.1-preview', {
      ...ex.parameters.body,
      validTo: new Date(Date.now() + 5 * DAY).toISOString(),
    });
    assert.equal(r.status, 200);
    assertShape(r.json, ex.responses['200'].body, '$', true);
    assert.equal(r.json.patTokenError, 'none');
    assert.match(r.json.patToken.token, /^[a-z2-7]{52}$/);
    assert.deepEqual(r.json.patToken.targetAccounts, [em.state.org('contoso')?.id]);
    assert.match(r.json.patToken.validFrom, DATE_RE);
    assert.match(r.json.patToken.validTo, DATE_RE);
    assert.equal(em.state.pats(alice.oid)[0].token, r.json.patToken.token);
  });

  it('Get / Update / List / Revoke answer like the examples', async () => {
    const created = (await create({ displayName: 'analytics_token', scope: 'vso.analytics' })).json.patToken;
    const get = await api('GET', `${PATH}${V}&authorizationId=${created.authorizationId}`);
    assertShape(get.json, example('GetPat').responses['200'].body, '$', true);
    assert.equal(get.json.patToken.token, null);
    const newTo = new Date(Date.now() + 20 * DAY);
    const upd = await api('PUT', PATH + V, {
      authorizationId: created.authorizationId,
      displayName: 'updated_token',
      scope: 'vso.analytics',
      validTo: newTo.toISOString(),
      allOrgs: true,
    });
    assertShape(upd.json, example('UpdatePat').responses['200'].body, '$', true);
    assert.equal(upd.json.patToken.targetAccounts, null);
    assert.equal(upd.json.patToken.validFrom, created.validFrom);
    assert.ok(Math.abs(new Date(upd.json.patToken.validTo).getTime() - newTo.getTime()) < 5);
    const list = await api('GET', PATH + V);
    assertShape(list.json, example('ListPats').responses['200'].body, '$', true);
    assert.equal(list.json.continuationToken, '');
    const del = await api('DELETE', `${PATH}${V}&authorizationId=${created.authorizationId}`);
    assert.equal(del.status, 204);
    assert.equal(del.text, '');
    assert.equal(em.state.pats()[0].revoked, true);
  });

  it('dates are .NET style: SQL datetime rounding, 0–7 trimmed fraction digits', async () => {
    const r = await create({ validTo: '2099-12-01T23:46:23.319Z' });
    assert.equal(r.json.patTokenError, 'invalidValidTo'); // more than a year ahead
    const soon = new Date(Date.now() + DAY);
    soon.setUTCMilliseconds(319);
    const ok = await create({ validTo: soon.toISOString() });
    assert.ok(ok.json.patToken.validTo.endsWith('.32Z'), ok.json.patToken.validTo);
    soon.setUTCMilliseconds(0);
    const whole = await create({ validTo: soon.toISOString() });
    assert.match(whole.json.patToken.validTo, /:\d\dZ$/);
  });

  it('pages 250 PATs as 100/100/50 with an opaque continuationToken and "" at the end', async () => {
    for (let i = 0; i < 250; i++)
      em.state.addPat(alice.oid, 'contoso', {
        displayName: `pat-${String(i).padStart(3, '0')}`,
        scope: 'vso.code',
        validTo: new Date(Date.now() + DAY),
      });
    const sizes: number[] = [];
    const names: string[] = [];
    let token = '';
    do {
      const r = await api(
        'GET',
        `${PATH}${V}&$top=100${token ? `&continuationToken=${encodeURIComponent(token)}` : ''}`,
      );
      assert.equal(r.status, 200);
      assert.equal(typeof r.json.continuationToken, 'string');
      sizes.push(r.json.patTokens.length);
      names.push(...r.json.patTokens.map((p: Json) => p.displayName));
      token = r.json.continuationToken;
    } while (token !== '');
    assert.deepEqual(sizes, [100, 100, 50]);
    assert.equal(new Set(names).size, 250);
    const capped = await api('GET', `${PATH}${V}&$top=500`);
    assert.equal(capped.json.patTokens.length, 100);
  });

  it('filters (active default, revoked, expired, all) and sorting', async () => {
    const s = em.state;
    s.addPat(alice.oid, 'contoso', {
      displayName: 'b-active',
      scope: 'vso.code',
      validTo: new Date(Date.now() + 9 * DAY),
    });
    s.addPat(alice.oid, 'contoso', {
      displayName: 'a-active',
      scope: 'vso.code',
      validTo: new Date(Date.now() + 2 * DAY),
    });
    s.addPat(alice.oid, 'contoso', {
      displayName: 'c-expired',
      scope: 'vso.code',
      validTo: new Date(Date.now() - DAY),
    });
    s.addPat(alice.oid, 'contoso', {
      displayName: 'd-revoked',
      scope: 'vso.code',
      validTo: new Date(Date.now() + DAY),
      revoked: true,
    });
    s.addPat(alice.oid, 'fabrikam', {
      displayName: 'other-org',
      scope: 'vso.code',
      validTo: new Date(Date.now() + DAY),
    });
    s.addPat(alice.oid, 'fabrikam', {
      displayName: 'global',
      scope: 'vso.code',
      validTo: new Date(Date.now() + DAY),
      allOrgs: true,
    });
    const bob = s.addUser({ upn: 'bob@contoso.example' });
    s.addPat(bob.oid, 'contoso', { displayName: 'bobs', scope: 'vso.code', validTo: new Date(Date.now() + DAY) });
    const names = async (q: string) => (await api('GET', PATH + V + q)).json.patTokens.map((p: Json) => p.displayName);
    assert.deepEqual(await names(''), ['a-active', 'b-active', 'global']);
    assert.deepEqual(await names('&displayFilterOption=revoked'), ['d-revoked']);
    assert.deepEqual(await names('&displayFilterOption=expired'), ['c-expired']);
    assert.deepEqual(await names('&displayFilterOption=all&sortByOption=displayName&isSortAscending=false'), [
      'global',
      'd-revoked',
      'c-expired',
      'b-active',
      'a-active',
    ]);
    assert.deepEqual(await names('&sortByOption=displayDate&isSortAscending=true'), ['global', 'a-active', 'b-active']);
    assert.deepEqual(await names('&displayFilterOption=all&sortByOption=status'), [
      'b-active',
      'a-active',
      'global',
      'c-expired',
      'd-revoked',
    ]);
    assert.equal((await api('GET', PATH + V + '&displayFilterOption=bogus')).status, 400);
  });

  it('policies: global, full scope, creation disabled, lifespan clamp, errorStatus', async () => {
    const p = em.state.policies;
    p.restrictGlobalPats = true;
    assert.equal((await create({ allOrgs: true })).json.patTokenError, 'globalPatPolicyViolation');
    p.restrictFullScope = true;
    const full = await create({ scope: 'app_token' }, V72);
    assert.equal(full.status, 200);
    assert.equal(full.json.patTokenError, 'fullScopePatPolicyViolation');
    assert.equal(full.json.patToken, null);
    assert.equal(typeof full.json.patTokenErrorMessage, 'string');
    p.maxLifespanDays = 7;
    const clamped = await create({ validTo: new Date(Date.now() + 90 * DAY).toISOString() });
    assert.equal(clamped.json.patTokenError, 'none');
    const lifespan =
      new Date(clamped.json.patToken.validTo).getTime() - new Date(clamped.json.patToken.validFrom).getTime();
    assert.ok(Math.abs(lifespan - 7 * DAY) < 1000, String(lifespan));
    const upd = await api('PUT', PATH + V, {
      authorizationId: clamped.json.patToken.authorizationId,
      validTo: new Date(Date.now() + 60 * DAY).toISOString(),
    });
    assert.equal(upd.json.patToken.validTo, clamped.json.patToken.validTo);
    p.patCreationDisabled = true;
    p.errorStatus = 400;
    const off = await create({});
    assert.equal(off.status, 400);
    assert.equal(off.json.patTokenError, 'disablePatCreationPolicyViolation');
    assert.equal(em.state.pats().length, 1);
  });

  it('validation errors: name, scope, validTo, unknown/revoked/expired ids, api-version', async () => {
    assert.equal((await create({ displayName: '' })).json.patTokenError, 'displayNameRequired');
    assert.equal((await create({ scope: 'vso.nonsense' })).json.patTokenError, 'invalidScope');
    assert.equal((await create({ scope: 'vso.code vso.build' })).json.patTokenError, 'none');
    assert.equal(
      (await create({ validTo: new Date(Date.now() - DAY).toISOString() })).json.patTokenError,
      'invalidValidTo',
    );
    const unknown = '3d3aca0c-9ad3-4b07-8334-08ec8b1ddc32';
    assert.equal(
      (await api('GET', `${PATH}${V}&authorizationId=${unknown}`)).json.patTokenError,
      'authorizationNotFound',
    );
    assert.equal(
      (await api('PUT', PATH + V, { authorizationId: unknown, validTo: new Date(Date.now() + DAY).toISOString() })).json
        .patTokenError,
      'authorizationNotFound',
    );
    assert.equal((await api('DELETE', `${PATH}${V}&authorizationId=${unknown}`)).status, 404);
    const revoked = em.state.addPat(alice.oid, 'contoso', {
      displayName: 'r',
      scope: 'vso.code',
      validTo: new Date(Date.now() + DAY),
      revoked: true,
    }).pat;
    assert.equal(
      (await api('PUT', PATH + V, { authorizationId: revoked.authorizationId, displayName: 'x' })).json.patTokenError,
      'authorizationNotFound',
    );
    const expired = em.state.addPat(alice.oid, 'contoso', {
      displayName: 'e',
      scope: 'vso.code',
      validTo: new Date(Date.now() - DAY),
    }).pat;
    assert.equal(
      (
        await api('PUT', PATH + V, {
          authorizationId: expired.authorizationId,
          validTo: new Date(Date.now() + DAY).toISOString(),
        })
      ).json.patTokenError,
      'expiredPatCannotBeExtended',
    );
    for (const v of ['6.1-preview', '7.0-preview.1', '7.2-preview', '7.2-preview.1'])
      assert.equal((await api('GET', `${PATH}?api-version=${v}`)).status, 200, v);
    for (const v of ['', '?api-version=7.1', '?api-version=5.0-preview.1', '?api-version=7.3-preview.1']) {
      const r = await api('GET', PATH + v);
      assert.equal(r.status, 400, v);
      assert.equal(typeof r.json.typeKey, 'string');
    }
    assert.equal((await api('GET', '/CONTOSO/_apis/Tokens/Pats' + V)).status, 200);
    const bad = await call(em, 'POST', PATH + V, { body: '{"displayName":', bearer });
    assert.equal(bad.status, 400);
    assert.equal(bad.json.typeKey, 'JsonReaderException');
  });
});
