// The demo seed shared by the CLI, the demo script and tests.
import assert from 'node:assert/strict';
import { start, type Emulator } from '../emulator';
import { seedDemo } from '../emulator/demo-seed';
import { call } from './helpers';

describe('contract: demo seed', function () {
  let em: Emulator;
  before(async () => {
    em = await start();
  });
  after(() => em.close());

  it('seeds alice, contoso/Platform, three PATs (3 days, 60 days, expired), pat-store and a working refresh token', async () => {
    const s = seedDemo(em);
    const days = (d: Date) => Math.round((d.getTime() - Date.now()) / 86_400_000);
    assert.deepEqual(
      [days(s.pats.expiringSoon.validTo), days(s.pats.fresh.validTo), days(s.pats.expired.validTo) < 0],
      [3, 60, true],
    );
    assert.equal(em.state.group(s.group.id)?.name, 'pat-store');
    assert.equal(Object.values(s.group.variables).filter((v) => v.isSecret).length, 3);
    const body = `client_id=${s.clientId}&grant_type=refresh_token&refresh_token=${s.refreshToken}&scope=${encodeURIComponent('499b84ac-1321-427f-aa17-267ca6975798/.default offline_access')}`;
    const r = await call(em, 'POST', `/${em.state.tenantId}/oauth2/v2.0/token`, {
      body,
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    });
    assert.equal(r.status, 200);
    assert.equal(typeof r.json.refresh_token, 'string');
    const list = await call(em, 'GET', '/contoso/_apis/tokens/pats?api-version=7.1-preview.1&displayFilterOption=all', {
      bearer: r.json.access_token,
    });
    assert.equal(list.json.patTokens.length, 3);
  });
});
