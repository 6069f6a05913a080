// The PAT client and connection check against the local Entra + Azure DevOps emulator (HTTPS, in-process).
import assert from 'node:assert/strict';
import { start, type Emulator } from '../emulator';
import { AdoHttp } from '../../tasks/PatRotate/src/ado/http';
import { PatClient } from '../../tasks/PatRotate/src/ado/pats';
import { verifyPat } from '../../tasks/PatRotate/src/ado/connection';
import { resolveOrganization } from '../../tasks/PatRotate/src/ado/urls';
import { directNetwork, type NetworkSettings } from '../../tasks/PatRotate/src/net/network';
import { recordingSleep } from '../helpers/fakeServer';
import { rejection } from '../helpers/rejection';

const DAY = 24 * 3600 * 1000;

describe('integration: ado PAT client ↔ emulator', function () {
  this.timeout(20_000);
  let emu: Emulator;
  let http: AdoHttp;
  let clock: ReturnType<typeof recordingSleep>;
  let oid: string;
  let pats: PatClient;
  let patApiUrl: string;
  let collectionUrl: string;

  beforeEach(async () => {
    emu = await start();
    const network: NetworkSettings = { ...directNetwork, cert: { caFile: emu.caFile }, timeoutMs: 2_000 };
    clock = recordingSleep();
    http = new AdoHttp(network, { retry: { sleep: clock.sleep } });
    emu.state.addOrg('contoso');
    oid = emu.state.addUser({ upn: 'rotator@contoso.com' }).oid;
    ({ patApiUrl, collectionUrl } = resolveOrganization(`${emu.url}/contoso`));
    pats = new PatClient(http, patApiUrl, { kind: 'bearer', token: emu.state.issueAccessToken(oid) });
  });
  afterEach(async () => {
    http.dispose();
    await emu.close();
  });

  const patCalls = () => emu.log.filter((e) => /\/_apis\/tokens\/pats$/i.test(e.path));

  it('lists 250 PATs over three pages', async () => {
    for (let i = 0; i < 250; i++) {
      emu.state.addPat(oid, 'contoso', {
        displayName: `pat-${String(i).padStart(3, '0')}`,
        scope: 'vso.code',
        validTo: new Date(Date.now() + 10 * DAY),
      });
    }
    emu.state.addPat(oid, 'contoso', {
      displayName: 'revoked',
      scope: 'vso.code',
      validTo: new Date(Date.now() + DAY),
      revoked: true,
    });
    const all = await pats.listAll('active');
    assert.equal(all.length, 250);
    assert.equal(new Set(all.map((p) => p.authorizationId)).size, 250);
    assert.equal(patCalls().length, 3);
    assert.ok(all.every((p) => p.validTo instanceof Date && !Number.isNaN(p.validTo.getTime())));
    assert.equal((await pats.listAll('all')).length, 251);
  });

  it('creates, gets, updates, verifies and revokes a PAT', async () => {
    const created = await pats.create({
      displayName: 'ci',
      scope: 'vso.code vso.build',
      validTo: new Date(Date.now() + 30 * DAY),
      allOrgs: false,
    });
    assert.ok(created.token.length > 20);
    assert.equal(created.targetAccounts?.length, 1);
    assert.equal(
      (await pats.listAll('active')).find((p) => p.authorizationId === created.authorizationId)?.displayName,
      'ci',
    );
    const later = new Date(Date.now() + 60 * DAY);
    const updated = await pats.update({ authorizationId: created.authorizationId, validTo: later });
    assert.ok(Math.abs(updated.validTo.getTime() - later.getTime()) < 10);
    const { userId } = await verifyPat(http, collectionUrl, created.token, { sleep: clock.sleep });
    assert.equal(userId, emu.state.user(oid)?.identityId);
    await pats.revoke(created.authorizationId);
    assert.equal((await pats.listAll('revoked')).length, 1);
  });

  it('waits for a new PAT to propagate before it is accepted', async () => {
    emu.state.patPropagationCalls = 2;
    const created = await pats.create({
      displayName: 'ci',
      scope: 'vso.code',
      validTo: new Date(Date.now() + DAY),
      allOrgs: false,
    });
    await verifyPat(http, collectionUrl, created.token, { sleep: clock.sleep });
    assert.deepEqual(clock.waits, [1000, 2000]);
  });

  it('reports patTokenError in a 200 body (policy)', async () => {
    emu.state.policies.restrictFullScope = true;
    const e = await rejection(
      pats.create({ displayName: 'ci', scope: 'app_token', validTo: new Date(Date.now() + DAY), allOrgs: false }),
    );
    assert.equal(e.kind, 'policy');
    assert.equal(e.patTokenError, 'fullScopePatPolicyViolation');
    assert.match(e.message, /instead of app_token/);
    assert.equal(e.lostResponse, false);
  });

  it('reports patTokenError with an error status and the 7.2 message', async () => {
    emu.state.policies.restrictGlobalPats = true;
    emu.state.policies.errorStatus = 400;
    const v72 = new PatClient(
      http,
      patApiUrl,
      { kind: 'bearer', token: emu.state.issueAccessToken(oid) },
      '7.2-preview.1',
    );
    const e = await rejection(
      v72.create({ displayName: 'g', scope: 'vso.code', validTo: new Date(Date.now() + DAY), allOrgs: true }),
    );
    assert.equal(e.kind, 'policy');
    assert.equal(e.status, 400);
    assert.equal(e.patTokenError, 'globalPatPolicyViolation');
    assert.match(e.message, /set allOrgs false/);
  });

  it('maps an unknown authorizationId to notFound', async () => {
    const e = await rejection(
      pats.update({ authorizationId: '6a4d6bd0-0000-4000-8000-000000000000', validTo: new Date(Date.now() + DAY) }),
    );
    assert.equal(e.kind, 'notFound');
  });

  it('explains the service-principal 403 (VSS error body)', async () => {
    const sp = new PatClient(http, patApiUrl, {
      kind: 'bearer',
      token: emu.state.issueAppToken({ clientId: 'app-1' }),
    });
    const e = await rejection(sp.listAll());
    assert.equal(e.kind, 'auth');
    assert.equal(e.status, 403);
    assert.equal(e.typeKey, 'InvalidAccessException');
    assert.match(e.message, /service principals and managed identities cannot/);
  });

  it('reports a PAT used against the PAT API as 401 auth', async () => {
    const { token } = emu.state.addPat(oid, 'contoso', {
      displayName: 'x',
      scope: 'app_token',
      validTo: new Date(Date.now() + DAY),
    });
    const e = await rejection(new PatClient(http, patApiUrl, { kind: 'basic', token }).listAll());
    assert.equal(e.kind, 'auth');
    assert.equal(e.status, 401);
    assert.ok(!e.message.includes(token));
  });

  it('retries 429 and 503 on GET honouring Retry-After', async () => {
    emu.faults.add({
      method: 'GET',
      path: '/contoso/_apis/tokens/pats',
      times: 1,
      action: { kind: 'status', status: 429, retryAfterSeconds: 3 },
    });
    emu.faults.add({
      method: 'GET',
      path: '/contoso/_apis/tokens/pats',
      nth: 2,
      action: { kind: 'status', status: 503, retryAfterSeconds: 1 },
    });
    assert.deepEqual(await pats.listAll(), []);
    assert.deepEqual(clock.waits, [3000, 1000]);
    assert.deepEqual(
      patCalls().map((e) => e.status),
      [429, 503, 200],
    );
  });

  it('retries a reset on revoke (DELETE)', async () => {
    const { pat } = emu.state.addPat(oid, 'contoso', {
      displayName: 'x',
      scope: 'vso.code',
      validTo: new Date(Date.now() + DAY),
    });
    emu.faults.add({ method: 'DELETE', path: '/contoso/_apis/tokens/pats', times: 1, action: { kind: 'reset' } });
    await pats.revoke(pat.authorizationId);
    assert.equal(patCalls().length, 2);
    assert.equal(pat.revoked, true);
  });

  it('never retries a create: 503 is one call with lostResponse', async () => {
    emu.faults.add({
      method: 'POST',
      path: '/contoso/_apis/tokens/pats',
      times: 1,
      action: { kind: 'status', status: 503, retryAfterSeconds: 1 },
    });
    const e = await rejection(
      pats.create({ displayName: 'ci', scope: 'vso.code', validTo: new Date(Date.now() + DAY), allOrgs: false }),
    );
    assert.equal(e.lostResponse, true);
    assert.equal(patCalls().filter((c) => c.method === 'POST').length, 1);
    assert.deepEqual(clock.waits, []);
  });

  it('reports a create whose answer was lost after it was applied', async () => {
    emu.faults.add({
      method: 'POST',
      path: '/contoso/_apis/tokens/pats',
      times: 1,
      action: { kind: 'afterApply', then: 'reset' },
    });
    const e = await rejection(
      pats.create({ displayName: 'lost', scope: 'vso.code', validTo: new Date(Date.now() + DAY), allOrgs: false }),
    );
    assert.equal(e.kind, 'transient');
    assert.equal(e.lostResponse, true);
    assert.equal(patCalls().filter((c) => c.method === 'POST').length, 1);
    // The PAT exists: the caller can find it by name.
    assert.deepEqual(
      (await pats.listAll()).map((p) => p.displayName),
      ['lost'],
    );
  });

  it('reports malformed JSON after a create as protocol + lostResponse', async () => {
    emu.faults.add({ method: 'POST', path: '/contoso/_apis/tokens/pats', times: 1, action: { kind: 'malformedJson' } });
    const e = await rejection(
      pats.create({ displayName: 'ci', scope: 'vso.code', validTo: new Date(Date.now() + DAY), allOrgs: false }),
    );
    assert.equal(e.kind, 'protocol');
    assert.equal(e.lostResponse, true);
  });

  it('turns the 203 sign-in page into an auth error', async () => {
    emu.faults.add({ path: '/contoso/_apis/tokens/pats', times: 1, action: { kind: 'html' } });
    const e = await rejection(pats.listAll());
    assert.equal(e.kind, 'auth');
    assert.match(e.message, /sign-in page/);
  });

  it('gets a 401, not the sign-in page, for an unknown bearer (FedAuthRedirect suppressed)', async () => {
    const e = await rejection(new PatClient(http, patApiUrl, { kind: 'bearer', token: 'not-a-token' }).listAll());
    assert.equal(e.kind, 'auth');
    assert.equal(e.status, 401);
  });

  it('times out a hanging create as transient + lostResponse', async () => {
    emu.faults.add({ method: 'POST', path: '/contoso/_apis/tokens/pats', times: 1, action: { kind: 'hang' } });
    const e = await rejection(
      pats.create({ displayName: 'ci', scope: 'vso.code', validTo: new Date(Date.now() + DAY), allOrgs: false }),
    );
    assert.equal(e.kind, 'transient');
    assert.equal(e.lostResponse, true);
  });
});
