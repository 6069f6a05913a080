// Never lose the working token: rollback, lost-create recovery, retire failures, propagation delays, policy clamps.
import assert from 'node:assert/strict';
import type { TaskHandle } from '../helpers/runTask';
import { assertResult, DAY, live, worldPerTest, type World } from './world';

const GROUP_PUT = /^\/contoso\/_apis\/distributedtask\/variablegroups\/\d+$/;
const PATS = '/contoso/_apis/tokens/pats';

describe('e2e: rotation safety', function () {
  this.timeout(60_000);
  let w!: World;
  worldPerTest((x) => (w = x));

  const intoGroup = {
    displayName: 'deploy',
    target: 'variableGroup',
    variableGroup: 'pat-store',
    variableName: 'Deploy.Pat',
  };

  it('rolls back when the group write fails: new PAT revoked, old PAT and group untouched', async () => {
    const old = w.addPat('deploy', 2);
    const groupBefore = JSON.stringify(w.emu.state.group(w.group.id));
    w.emu.faults.add({
      method: 'PUT',
      path: GROUP_PUT,
      action: {
        kind: 'status',
        status: 400,
        body: { message: 'TF400898: An Internal Error Occurred.', typeKey: 'JsonReaderException' },
      },
    });
    const run = await w.run({ ...w.signIn(), ...intoGroup });
    assertResult(run, 'Failed');
    assert.match(
      run.message,
      /Storing the new PAT failed: .*Rolled back: the new PAT \S+ was revoked; the old PAT and the store are unchanged/,
    );
    assert.deepEqual(
      live(w).map((p) => p.authorizationId),
      [old.authorizationId],
    );
    assert.equal(JSON.stringify(w.emu.state.group(w.group.id)), groupBefore);
    assert.equal(w.emu.state.pats(w.user.oid).length, 2, 'one PAT was created, and it is revoked');
  });

  it('rolls back when every write fails with 5xx and the group reads back unchanged (the write did not land)', async () => {
    const old = w.addPat('deploy', 2);
    w.emu.state.group(w.group.id)!.variables['Deploy.Pat'] = { value: old.token, isSecret: true };
    const groupBefore = JSON.stringify(w.emu.state.group(w.group.id));
    w.emu.faults.add({ method: 'PUT', path: GROUP_PUT, action: { kind: 'status', status: 503, retryAfterSeconds: 0 } });
    const run = await w.run({ ...w.signIn(), ...intoGroup });
    assertResult(run, 'Failed');
    assert.match(
      run.message,
      /Storing the new PAT failed: .*read back: the group is unchanged.*Rolled back: the new PAT \S+ was revoked/,
    );
    assert.deepEqual(
      live(w).map((p) => p.authorizationId),
      [old.authorizationId],
      'nothing new is left live',
    );
    assert.equal(JSON.stringify(w.emu.state.group(w.group.id)), groupBefore);
  });

  it('a write attempt that timed out may still land: later 5xx answers and an unchanged group do not roll back', async () => {
    const old = w.addPat('deploy', 2);
    w.emu.state.group(w.group.id)!.variables['Deploy.Pat'] = { value: old.token, isSecret: true };
    let release!: () => void;
    const late = new Promise<void>((r) => (release = r));
    w.emu.faults.add({ method: 'PUT', path: GROUP_PUT, nth: 1, action: { kind: 'hold', until: late } });
    w.emu.faults.add({ method: 'PUT', path: GROUP_PUT, action: { kind: 'status', status: 503, retryAfterSeconds: 0 } });
    const run = await w.run({ ...w.signIn(), ...intoGroup }, { PATROTATE_REQUESTTIMEOUTSECONDS: '1' });
    assertResult(run, 'Failed');
    assert.match(run.message, /a write of this run may have landed, or still land.*both were left live/);
    release(); // the first attempt lands after all
    await new Promise((r) => setTimeout(r, 200));
    const stored = w.emu.state.group(w.group.id)!.variables['Deploy.Pat'].value;
    const held = w.emu.state.pats(w.user.oid).find((p) => p.token === stored)!;
    assert.notEqual(held.authorizationId, old.authorizationId, 'the late write put the new PAT there');
    assert.equal(held.revoked, false, 'and it is live: it was not rolled back');
    assert.equal(old.revoked, false);
  });

  it('leaves both PATs live, named, only when a write may have landed (applied, and every answer lost)', async () => {
    const old = w.addPat('deploy', 2);
    w.emu.state.group(w.group.id)!.variables['Deploy.Pat'] = { value: old.token, isSecret: true };
    w.emu.faults.add({
      method: 'PUT',
      path: GROUP_PUT,
      action: { kind: 'afterApply', then: { status: 500, retryAfterSeconds: 0 } },
    });
    const run = await w.run({ ...w.signIn(), ...intoGroup });
    assertResult(run, 'Failed');
    const [fresh] = live(w).filter((p) => p.authorizationId !== old.authorizationId);
    assert.ok(fresh, 'the new PAT is live');
    assert.match(
      run.message,
      new RegExp(
        `Storing the new PAT ${fresh.authorizationId} did not complete .*a write of this run may have landed.*both were left live \\(old: ${old.authorizationId}\\)`,
      ),
    );
    assert.equal(
      w.emu.state.group(w.group.id)!.variables['Deploy.Pat'].value,
      fresh.token,
      'here it did land: keeping both was right',
    );
  });

  it('refuses to store a PAT over the refresh token when both name the same group differently (id and name)', async () => {
    w.addPat('deploy', 2);
    const run = await w.run({
      ...w.signIn(),
      ...intoGroup,
      variableName: 'PatRotate.{displayName}',
      refreshTokenVariable: 'PatRotate.deploy',
      refreshTokenGroup: String(w.group.id),
    });
    assertResult(run, 'Failed');
    assert.match(
      run.message,
      /Input 'variableName': PAT 'deploy' would be stored as 'PatRotate.deploy', the refresh token's variable in the same group/,
    );
    assert.equal(
      w.emu.state.group(w.group.id)!.variables['PatRotate.deploy'].value,
      run.variables.get('refreshToken (output)')?.value,
      'the refresh token is intact',
    );
    assert.equal(w.emu.state.pats(w.user.oid).length, 1, 'no PAT was created');
  });

  it('the built task, cancelled by the agent (SIGINT, then SIGTERM) during verify, revokes the new PAT once and fails', async () => {
    const old = w.addPat('deploy', 2);
    let task: TaskHandle | undefined;
    const cancel = () => {
      task?.signal('SIGINT');
      setTimeout(() => task?.signal('SIGTERM'), 20);
    };
    w.emu.faults.add({
      method: 'GET',
      path: '/contoso/_apis/connectionData',
      nth: 1,
      action: { kind: 'hold', onHeld: cancel },
    });
    const run = await w.spawn({ ...w.signIn(), ...intoGroup }, {}, { onStart: (t) => (task = t) });
    assertResult(run, 'Failed');
    const [made] = w.emu.state.pats(w.user.oid).filter((p) => p.authorizationId !== old.authorizationId);
    assert.match(
      run.stdout,
      new RegExp(`New PAT ${made.authorizationId} created for 'deploy' \\(not stored yet\\)`),
      'the id was printed as soon as it existed',
    );
    assert.match(
      run.message,
      new RegExp(`stopped \\(SIGINT\\).*Rolled back: revoked the new PAT ${made.authorizationId}`),
    );
    assert.equal(run.commands.filter((c) => c.name === 'task.complete').length, 1, 'one result');
    assert.equal(w.emu.log.filter((e) => e.method === 'DELETE').length, 1, 'revoked once');
    assert.deepEqual(
      live(w).map((p) => p.authorizationId),
      [old.authorizationId],
    );
    assert.equal(run.code, 1);
  });

  it('target none: the token output holds the new PAT before the old one is retired, so a cancel then keeps it', async () => {
    w.addPat('deploy', 2);
    let task: TaskHandle | undefined;
    w.emu.faults.add({
      method: 'DELETE',
      path: PATS,
      nth: 1,
      action: { kind: 'hold', answerOnly: true, onHeld: () => task?.signal('SIGTERM') },
    });
    const run = await w.run(
      { ...w.signIn(), displayName: 'deploy', target: 'none' },
      {},
      { onStart: (t) => (task = t) },
    );
    assertResult(run, 'Failed');
    const [fresh] = live(w, 'deploy');
    assert.ok(fresh, 'a PAT named deploy is live');
    assert.equal(run.variables.get('token (output)')?.value, fresh.token, 'and the token output holds it');
    assert.match(run.message, /was being retired when the run stopped/);
  });

  it('a create that got no answer and lands late is named as a possible leftover (SucceededWithIssues)', async () => {
    const old = w.addPat('deploy', 2);
    let release!: () => void;
    const late = new Promise<void>((r) => (release = r));
    w.emu.faults.add({ method: 'POST', path: PATS, nth: 1, action: { kind: 'hold', until: late } });
    // The recovery listing is answered first (finding nothing); then the first create lands.
    w.emu.faults.add({
      method: 'GET',
      path: PATS,
      nth: 2,
      action: { kind: 'delay', ms: 1 },
      onHit: () => setTimeout(release, 100),
    });
    const run = await w.run({ ...w.signIn(), ...intoGroup }, { PATROTATE_REQUESTTIMEOUTSECONDS: '1' });
    assertResult(run, 'SucceededWithIssues');
    await new Promise((r) => setTimeout(r, 300));
    const stored = w.emu.state.group(w.group.id)!.variables['Deploy.Pat'].value;
    const leftover = live(w, 'deploy').filter((p) => p.token !== stored && p.authorizationId !== old.authorizationId);
    assert.equal(leftover.length, 1, 'the late create made a PAT');
    assert.ok(
      run.warnings.some((m) =>
        /got no answer and may still make a PAT, stored nowhere.*revoke any PAT of this name other than/.test(m),
      ),
      run.warnings.join('\n'),
    );
  });

  it('nothing changes after a stop, even when the step it interrupted goes on (in-process)', async () => {
    const old = w.addPat('deploy', 2);
    let task: TaskHandle | undefined;
    let release!: () => void;
    const later = new Promise<void>((r) => (release = r));
    w.emu.faults.add({
      method: 'PUT',
      path: GROUP_PUT,
      nth: 1,
      action: { kind: 'hold', until: later, onHeld: () => task?.signal('SIGTERM') },
    });
    const run = await w.run(
      { ...w.signIn(), ...intoGroup, refreshTokenVariable: 'PatRotate.RefreshToken', refreshTokenGroup: 'pat-store' },
      {},
      { onStart: (t) => (task = t) },
    );
    assertResult(run, 'Failed');
    release(); // the refresh-token save completes after the stop
    await new Promise((r) => setTimeout(r, 500));
    assert.equal(w.emu.state.pats(w.user.oid).length, 1, 'no PAT was created after the stop');
    assert.equal(old.revoked, false);
  });

  it('a refresh-token write that got no answer (it may land late) stops the run before any PAT changes', async () => {
    const old = w.addPat('deploy', 2);
    let release!: () => void;
    const late = new Promise<void>((r) => (release = r));
    w.emu.faults.add({ method: 'PUT', path: GROUP_PUT, nth: 1, action: { kind: 'hold', until: late } });
    const run = await w.run(
      { ...w.signIn(), ...intoGroup, refreshTokenVariable: 'PatRotate.RefreshToken' },
      { PATROTATE_REQUESTTIMEOUTSECONDS: '1' },
    );
    assertResult(run, 'Failed');
    assert.match(run.message, /took a write that got no answer and may still land.*no PAT was changed/);
    release();
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(w.emu.state.pats(w.user.oid).length, 1, 'no PAT was created');
    assert.equal(old.revoked, false);
    assert.ok(w.emu.state.group(w.group.id)!.variables['PatRotate.RefreshToken'], 'the refresh token is saved');
  });

  it('a stop after a create was sent again names the first request, which may still make a PAT', async () => {
    w.addPat('deploy', 2);
    let task: TaskHandle | undefined;
    let release!: () => void;
    const late = new Promise<void>((r) => (release = r));
    w.emu.faults.add({ method: 'POST', path: PATS, nth: 1, action: { kind: 'hold', until: late } });
    w.emu.faults.add({
      method: 'GET',
      path: PATS,
      nth: 3,
      action: { kind: 'hold', onHeld: () => task?.signal('SIGTERM') },
    });
    const run = await w.run(
      { ...w.signIn(), ...intoGroup },
      { PATROTATE_REQUESTTIMEOUTSECONDS: '1' },
      { onStart: (t) => (task = t) },
    );
    release();
    assertResult(run, 'Failed');
    assert.match(run.message, /A PAT named 'deploy' requested at \S+ may still be created/);
  });

  it('no store write begins after a stop, even one the store had planned to retry', async () => {
    w.addPat('deploy', 2);
    let task: TaskHandle | undefined;
    w.emu.faults.add({
      method: 'PUT',
      path: GROUP_PUT,
      nth: 1,
      action: { kind: 'status', status: 503, retryAfterSeconds: 1 },
      onHit: () => task?.signal('SIGTERM'),
    });
    const run = await w.run({ ...w.signIn(), ...intoGroup }, {}, { onStart: (t) => (task = t) });
    assertResult(run, 'Failed');
    await new Promise((r) => setTimeout(r, 1_500));
    assert.equal(w.emu.log.filter((e) => e.method === 'PUT').length, 1, 'no write after the stop');
  });

  it('a cancel while the rolled refresh token is being saved says where it is', async () => {
    let task: TaskHandle | undefined;
    w.emu.faults.add({
      method: 'PUT',
      path: GROUP_PUT,
      nth: 1,
      action: { kind: 'hold', onHeld: () => task?.signal('SIGTERM') },
    });
    const run = await w.run(
      {
        ...w.signIn(),
        operation: 'list',
        refreshTokenVariable: 'PatRotate.RefreshToken',
        refreshTokenGroup: 'pat-store',
      },
      {},
      { onStart: (t) => (task = t) },
    );
    assertResult(run, 'Failed');
    assert.match(
      run.message,
      /stopped \(SIGTERM\).*new refresh token may not be saved in variable group 'pat-store': it is in this step's secret output refreshToken/,
    );
    assert.ok(run.variables.get('refreshToken (output)')?.secret);
  });

  it('rolls back when the new PAT cannot be verified, before anything is stored', async () => {
    const old = w.addPat('deploy', 2);
    w.emu.faults.add({
      method: 'GET',
      path: '/contoso/_apis/connectionData',
      action: {
        kind: 'status',
        status: 403,
        body: { message: 'TF400813: not authorized', typeKey: 'UnauthorizedRequestException' },
      },
    });
    const run = await w.run({ ...w.signIn(), ...intoGroup });
    assertResult(run, 'Failed');
    assert.match(run.message, /Verifying the new PAT failed: .*Rolled back/);
    assert.deepEqual(
      live(w).map((p) => p.authorizationId),
      [old.authorizationId],
    );
    assert.equal(w.emu.state.group(w.group.id)!.variables['Deploy.Pat'], undefined);
  });

  it('waits while a new PAT propagates (401s), then stores it', async () => {
    w.addPat('deploy', 2);
    w.emu.state.patPropagationCalls = 2;
    const run = await w.run({ ...w.signIn(), ...intoGroup });
    assertResult(run, 'Succeeded');
    const verifies = w.emu.log.filter((e) => e.path === '/contoso/_apis/connectionData').map((e) => e.status);
    assert.deepEqual(verifies, [401, 401, 200]);
    assert.equal(w.emu.state.group(w.group.id)!.variables['Deploy.Pat'].value, live(w, 'deploy')[0].token);
  });

  it('a lost create answer that made nothing is sent once more, and that PAT is stored', async () => {
    const old = w.addPat('deploy', 2);
    // Answered (a 500 the server sent without acting): a create that got no answer at all is the case below.
    w.emu.faults.add({ method: 'POST', path: PATS, nth: 1, action: { kind: 'status', status: 500 } });
    const run = await w.run({ ...w.signIn(), ...intoGroup });
    assertResult(run, 'Succeeded');
    const [fresh] = live(w);
    assert.equal(live(w).length, 1);
    assert.notEqual(fresh.authorizationId, old.authorizationId);
    assert.equal(w.emu.state.group(w.group.id)!.variables['Deploy.Pat'].value, fresh.token);
    assert.ok(run.warnings.some((m) => /answer to creating 'deploy' was lost/.test(m)));
    assert.equal(w.emu.log.filter((e) => e.method === 'POST' && e.path === PATS).length, 2, 'exactly one more create');
  });

  it("a lost create answer that made a PAT revokes nothing (it may be another run's) and names it; the old PAT stays", async () => {
    const old = w.addPat('deploy', 2);
    w.emu.faults.add({ method: 'POST', path: PATS, nth: 1, action: { kind: 'afterApply', then: 'reset' } });
    const run = await w.run({ ...w.signIn(), ...intoGroup });
    assertResult(run, 'Failed');
    const [made] = w.emu.state.pats(w.user.oid).filter((p) => p.authorizationId !== old.authorizationId);
    assert.match(
      run.message,
      new RegExp(
        `${made.authorizationId} named 'deploy' appeared meanwhile: made by this request .* or by another run.*nothing was revoked`,
      ),
    );
    assert.equal(made.revoked, false);
    assert.equal(old.revoked, false, 'the working PAT is untouched');
    assert.equal(w.emu.state.group(w.group.id)!.variables['Deploy.Pat'], undefined);
    assert.equal(w.emu.log.filter((e) => e.method === 'POST' && e.path === PATS).length, 1, 'no second create');
  });

  it("another run's PAT that appears while this run's create has no answer is never revoked (it may be stored)", async () => {
    const old = w.addPat('deploy', 2);
    // Run B rotates 'deploy' and stores its PAT while this run's create is lost (reset before the server handled it).
    w.emu.faults.add({
      method: 'POST',
      path: PATS,
      nth: 1,
      action: { kind: 'reset' },
      onHit: () => {
        const b = w.emu.state.addPat(w.user.oid, 'contoso', {
          displayName: 'deploy',
          scope: old.scope,
          validFrom: new Date(),
          validTo: new Date(Date.now() + 30 * DAY),
        }).pat;
        w.emu.state.group(w.group.id)!.variables['Deploy.Pat'] = { value: b.token, isSecret: true };
      },
    });
    const run = await w.run({ ...w.signIn(), ...intoGroup });
    assertResult(run, 'Failed');
    const stored = w.emu.state.group(w.group.id)!.variables['Deploy.Pat'].value;
    const held = w.emu.state.pats(w.user.oid).find((p) => p.token === stored)!;
    assert.equal(held.revoked, false, 'the PAT the group holds is live');
    assert.equal(old.revoked, false);
  });

  it('finishes SucceededWithIssues when the old PAT cannot be revoked, naming it', async () => {
    const old = w.addPat('deploy', 2);
    w.emu.faults.add({
      method: 'DELETE',
      path: PATS,
      action: { kind: 'status', status: 400, body: { message: 'nope', typeKey: 'ArgumentException' } },
    });
    const run = await w.run({ ...w.signIn(), ...intoGroup });
    assertResult(run, 'SucceededWithIssues');
    assert.ok(run.warnings.some((m) => m.includes(`retiring the old PAT ${old.authorizationId} failed`)));
    assert.equal(old.revoked, false);
    const fresh = live(w, 'deploy').find((p) => p.authorizationId !== old.authorizationId)!;
    assert.equal(w.emu.state.group(w.group.id)!.variables['Deploy.Pat'].value, fresh.token);
  });

  it('absorbs throttling and transient errors on reads and deletes (Retry-After honoured)', async () => {
    w.addPat('deploy', 2);
    w.emu.faults.add({
      method: 'GET',
      path: PATS,
      nth: 1,
      action: { kind: 'status', status: 429, retryAfterSeconds: 1 },
    });
    w.emu.faults.add({ method: 'DELETE', path: PATS, nth: 1, action: { kind: 'status', status: 503 } });
    const run = await w.run({ ...w.signIn(), ...intoGroup });
    assertResult(run, 'Succeeded');
    const lists = w.emu.log.filter((e) => e.method === 'GET' && e.path === PATS);
    assert.deepEqual(
      lists.map((e) => e.status),
      [429, 200, 200],
      'the first list is retried; the second is the rival-run check',
    );
    assert.ok(lists[1].at - lists[0].at >= 950, 'waited for Retry-After');
    assert.equal(live(w).length, 1);
  });

  it('after retireOld shorten, the next runs rotate the newest PAT of the name, and nothing is left unstored', async () => {
    w.addPat('deploy', 2);
    w.addPat('svc-a', 2);
    const byName = { ...intoGroup, retireOld: 'shorten', rotateWithinDays: 0 };
    const byPrefix = {
      displayName: 'svc-*',
      target: 'variableGroup',
      variableGroup: 'pat-store',
      variableName: 'P.{displayName}',
      retireOld: 'shorten',
      rotateWithinDays: 0,
    };
    for (let run = 1; run <= 3; run++) {
      assertResult(await w.run({ ...w.signIn(), ...byName }), 'Succeeded');
      assertResult(await w.run({ ...w.signIn(), ...byPrefix }), 'Succeeded');
      const g = w.emu.state.group(w.group.id)!;
      for (const [name, variable] of [
        ['deploy', 'Deploy.Pat'],
        ['svc-a', 'P.svc-a'],
      ]) {
        const newest = live(w, name).sort(
          (a, b) => b.validFrom.getTime() - a.validFrom.getTime() || b.createdAt - a.createdAt,
        )[0];
        assert.equal(g.variables[variable].value, newest.token, `run ${run}: ${variable} holds the newest PAT`);
        // Every other live PAT of the name is an older one in its grace period, not an unstored new one.
        for (const p of live(w, name).filter((p) => p !== newest))
          assert.ok(
            p.validTo.getTime() <= Date.now() + 25 * 3_600_000,
            `run ${run}: ${p.authorizationId} is in its grace period`,
          );
      }
    }
  });

  it('warns with both dates when the tenant clamps the lifetime', async () => {
    w.addPat('deploy', 2);
    w.emu.state.policies.maxLifespanDays = 7;
    const run = await w.run({ ...w.signIn(), displayName: 'deploy', validityDays: 90 });
    assertResult(run, 'Succeeded');
    assert.ok(
      run.warnings.some((m) => /shortened the validity to \S+ \(asked for \S+\).*maximum PAT lifespan/.test(m)),
      run.warnings.join('\n'),
    );
    assert.ok(live(w, 'deploy')[0].validTo.getTime() <= Date.now() + 7 * DAY + 60_000);
  });

  it('fails clearly on a tenant policy refusal and changes nothing', async () => {
    w.addPat('deploy', 2, { scope: 'app_token' });
    w.emu.state.policies.restrictFullScope = true;
    const before = w.emu.state.snapshot();
    const run = await w.run({ ...w.signIn(), displayName: 'deploy' });
    assertResult(run, 'Failed');
    assert.match(run.message, /fullScopePatPolicyViolation|full-scope|full scope/i);
    assert.equal(w.emu.state.snapshot(), before);
  });
});
