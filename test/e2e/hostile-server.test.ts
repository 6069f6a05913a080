// A server that answers with something other than what was asked is not believed: a create answer that differs
// from the request rolls the new PAT back, a group read for another id is not written, a PAT listed twice counts
// once; and turning certificate checks off is said out loud.
import assert from 'node:assert/strict';
import { assertResult, live, worldPerTest, type World } from './world';

type Json = Record<string, unknown>;
const PATS = '/contoso/_apis/tokens/pats';
const intoGroup = {
  displayName: 'deploy',
  target: 'variableGroup',
  variableGroup: 'pat-store',
  variableName: 'Deploy.Pat',
};

describe('e2e: a hostile or confused server', function () {
  this.timeout(60_000);
  let w!: World;
  worldPerTest((x) => (w = x));

  const lies: [string, (pat: Json) => void, RegExp][] = [
    [
      'a broader scope (app_token for vso.code vso.build)',
      (p) => (p.scope = 'app_token'),
      /its scopes are 'app_token' \(asked for 'vso.code vso.build'\)/,
    ],
    ['another name', (p) => (p.displayName = 'someone-else'), /its name is 'someone-else' \(asked for 'deploy'\)/],
    ['a global PAT when one organization was asked for', (p) => (p.targetAccounts = null), /it is global/],
    ['a validTo in the past', (p) => (p.validTo = '2020-01-01T00:00:00Z'), /validTo .* is already past/],
  ];
  for (const [what, change, message] of lies) {
    it(`a create answered with ${what} is rolled back; the old PAT stays`, async () => {
      const old = w.addPat('deploy', 2);
      w.emu.faults.add({
        method: 'POST',
        path: PATS,
        nth: 1,
        action: { kind: 'tamper', change: (b) => (change((b as { patToken: Json }).patToken), b) },
      });
      const run = await w.run({ ...w.signIn(), ...intoGroup });
      assertResult(run, 'Failed');
      assert.match(run.message, message);
      assert.match(run.message, /Rolled back: the new PAT \S+ was revoked/);
      assert.deepEqual(
        live(w).map((p) => p.authorizationId),
        [old.authorizationId],
      );
      assert.equal(w.emu.state.group(w.group.id)!.variables['Deploy.Pat'], undefined, 'nothing stored');
    });
  }

  it('a create answered with the id of the PAT it replaces is refused, and that working PAT is never revoked', async () => {
    const old = w.addPat('deploy', 2);
    w.emu.state.group(w.group.id)!.variables['Deploy.Pat'] = { value: old.token, isSecret: true };
    w.emu.faults.add({
      method: 'POST',
      path: PATS,
      nth: 1,
      action: {
        kind: 'tamper',
        change: (b) => (((b as { patToken: Json }).patToken.authorizationId = old.authorizationId), b),
      },
    });
    const run = await w.run({ ...w.signIn(), ...intoGroup });
    assertResult(run, 'Failed');
    assert.match(
      run.message,
      new RegExp(`its authorizationId ${old.authorizationId} is not that of a new PAT.*Nothing was revoked`),
    );
    assert.equal(old.revoked, false, 'the working PAT is untouched');
    assert.equal(w.emu.state.group(w.group.id)!.variables['Deploy.Pat'].value, old.token);
  });

  it('a group read that drops the secret flag is not written back (another secret would be erased)', async () => {
    const old = w.addPat('deploy', 2);
    w.emu.faults.add({
      method: 'GET',
      path: `/contoso/Platform/_apis/distributedtask/variablegroups/${w.group.id}`,
      action: {
        kind: 'tamper',
        change: (b) => {
          const vars = (b as { variables: Record<string, Json> }).variables;
          for (const v of Object.values(vars)) delete v.isSecret;
          return b;
        },
      },
    });
    const run = await w.run({ ...w.signIn(), ...intoGroup });
    assertResult(run, 'Failed');
    assert.match(
      run.message,
      /without a value and not marked secret; writing the group back could erase it, so nothing was written.*Rolled back/,
    );
    assert.deepEqual(w.emu.state.group(w.group.id)!.variables['Other.Secret'], {
      value: 'other-secret-value-1',
      isSecret: true,
    });
    assert.deepEqual(
      live(w).map((p) => p.authorizationId),
      [old.authorizationId],
    );
  });

  it('a write whose answer has no date, then another writer restoring the old value, is written again', async () => {
    const old = w.addPat('deploy', 2);
    w.emu.state.group(w.group.id)!.variables['Deploy.Pat'] = { value: old.token, isSecret: true };
    w.emu.faults.add({
      method: 'PUT',
      path: `/contoso/_apis/distributedtask/variablegroups/${w.group.id}`,
      nth: 1,
      action: {
        kind: 'tamper',
        change: () => {
          const g = w.emu.state.group(w.group.id)!;
          g.variables['Deploy.Pat'] = { value: old.token, isSecret: true };
          g.modifiedOn = new Date(g.modifiedOn.getTime() + 20);
          return {};
        },
      },
    });
    const run = await w.run({ ...w.signIn(), ...intoGroup });
    assertResult(run, 'Succeeded');
    const holder = w.emu.state
      .pats(w.user.oid)
      .find((p) => p.token === w.emu.state.group(w.group.id)!.variables['Deploy.Pat'].value)!;
    assert.equal(holder.revoked, false, 'the group holds a live PAT');
    assert.notEqual(holder.authorizationId, old.authorizationId);
  });

  it('a server that quotes the new PAT in an error message does not get it printed', async () => {
    w.addPat('deploy', 2);
    const body = { message: '', typeKey: 'InvalidValue' };
    w.emu.faults.add({
      method: 'PUT',
      path: `/contoso/_apis/distributedtask/variablegroups/${w.group.id}`,
      action: { kind: 'status', status: 400, body },
      onHit: () => {
        const newest = w.emu.state.pats(w.user.oid).reduce((a, p) => (p.validFrom > a.validFrom ? p : a));
        body.message = `Variable value ${newest.token} is not valid.`;
      },
    });
    const run = await w.run({ ...w.signIn(), ...intoGroup }); // world.run fails on any leaked secret
    assertResult(run, 'Failed');
    assert.match(run.message, /Variable value \*\*\* is not valid/);
  });

  it('a create answered with a token that spans lines is rolled back by the real task (task-lib refuses such secrets)', async () => {
    const old = w.addPat('deploy', 2);
    w.emu.faults.add({
      method: 'POST',
      path: PATS,
      nth: 1,
      action: {
        kind: 'tamper',
        change: (b) => {
          const pat = (b as { patToken: { token: string } }).patToken;
          pat.token = `${pat.token}\nsecond-line`;
          return b;
        },
      },
    });
    const run = await w.spawn({ ...w.signIn(), ...intoGroup });
    assertResult(run, 'Failed');
    const [made] = w.emu.state.pats(w.user.oid).filter((p) => p.authorizationId !== old.authorizationId);
    assert.match(
      run.message,
      new RegExp(
        `its token is not one word of printable characters.*Rolled back: the new PAT ${made.authorizationId} was revoked`,
      ),
    );
    assert.equal(made.revoked, true);
    assert.equal(old.revoked, false);
  });

  it('a group read answered for another id is not written', async () => {
    const old = w.addPat('deploy', 2);
    const other = w.emu.state.addGroup('contoso', 'Platform', { name: 'other', admins: [w.user.oid], variables: {} });
    w.emu.faults.add({
      method: 'GET',
      path: `/contoso/Platform/_apis/distributedtask/variablegroups/${w.group.id}`,
      action: { kind: 'tamper', change: (b) => ({ ...(b as Json), id: other.id }) },
    });
    const run = await w.run({ ...w.signIn(), ...intoGroup });
    assertResult(run, 'Failed');
    assert.match(
      run.message,
      new RegExp(
        `Reading variable group ${w.group.id} answered with group ${other.id}; nothing was written.*Rolled back`,
      ),
    );
    assert.ok(!w.emu.log.some((e) => e.method === 'PUT'), 'no group was written');
    assert.deepEqual(
      live(w).map((p) => p.authorizationId),
      [old.authorizationId],
    );
  });

  it('a PAT listed as both active and expired counts once, as expired', async () => {
    const soon = w.addPat('soon', 1);
    w.addPat('gone', -1);
    w.emu.faults.add({
      method: 'GET',
      path: PATS,
      action: {
        kind: 'tamper',
        change: (b) => {
          const page = b as { patTokens: Json[] };
          if (page.patTokens.some((p) => p.displayName === 'gone'))
            page.patTokens.push({
              ...page.patTokens[0],
              authorizationId: soon.authorizationId,
              displayName: 'soon',
              validTo: '2020-01-01T00:00:00Z',
            });
          return page;
        },
      },
    });
    const run = await w.run({ ...w.signIn(), operation: 'list' });
    assertResult(run, 'Succeeded');
    assert.match(run.stdout, /^0 active PAT\(s\), 2 expired\.$/m);
    assert.equal(run.variables.get('count (output)')?.value, '2');
  });

  it('warns when Agent.SkipCertValidation turns certificate checks off', async () => {
    w.addPat('deploy', 20);
    const run = await w.run({ ...w.signIn(), operation: 'list' }, { AGENT_SKIPCERTVALIDATION: 'true' });
    assertResult(run, 'Succeeded');
    assert.ok(
      run.warnings.some((m) => /Agent.SkipCertValidation is true: server certificates are not checked/.test(m)),
      run.warnings.join('\n'),
    );
  });

  it('a rotation that lists no expired PATs does not count them', async () => {
    w.addPat('deploy', 2);
    w.addPat('gone', -1);
    const run = await w.run({ ...w.signIn(), displayName: 'deploy', target: 'none' });
    assertResult(run, 'Succeeded');
    assert.match(run.stdout, /^1 active PAT\(s\)\.$/m);
    assert.match(run.stdout, /Rotate: 1 PAT\(s\), 4 at a time/);
  });
});
