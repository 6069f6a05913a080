// The built task, run as the agent runs it, against the emulator: each operation, target and retire mode.
import assert from 'node:assert/strict';
import { assertResult, DAY, live, patApiCalls, worldPerTest, type World } from './world';

describe('e2e: operations', function () {
  this.timeout(60_000);
  let w!: World;
  worldPerTest((x) => (w = x));

  it('rotates a due PAT into a secret pipeline variable and revokes the old one', async () => {
    const old = w.addPat('deploy', 3);
    const run = await w.spawn({ ...w.signIn(), displayName: 'deploy' });
    assertResult(run, 'Succeeded');
    const now = live(w, 'deploy');
    assert.equal(now.length, 1);
    const fresh = now[0];
    assert.notEqual(fresh.authorizationId, old.authorizationId);
    assert.equal(old.revoked, true);
    assert.equal(fresh.scope, 'vso.code vso.build');
    assert.ok(Math.abs(fresh.validTo.getTime() - (Date.now() + 30 * DAY)) < 60_000);
    // The value reaches the pipeline only as secrets, registered before use.
    assert.ok(run.secrets.includes(fresh.token));
    assert.deepEqual(run.variables.get('PatRotate.Token'), { value: fresh.token, secret: true, output: false });
    assert.deepEqual(run.variables.get('PatRotate.Token (output)'), { value: fresh.token, secret: true, output: true });
    assert.deepEqual(run.variables.get('token (output)'), { value: fresh.token, secret: true, output: true });
    assert.equal(run.variables.get('action (output)')?.value, 'rotated');
    assert.equal(run.variables.get('authorizationId (output)')?.value, fresh.authorizationId);
    assert.equal(run.variables.get('count (output)')?.value, '1');
    assert.ok(
      run.stdout.indexOf('##vso[task.setsecret]' + fresh.token) < run.stdout.indexOf('variable=PatRotate.Token;'),
    );
    assert.equal(run.summaries.length, 1);
    // The new PAT was verified with Basic auth before it was stored.
    assert.ok(
      w.emu.log.some((e) => e.path.endsWith('/_apis/connectionData') && e.auth === 'basic' && e.status === 200),
    );
    assert.deepEqual(
      patApiCalls(w),
      ['GET', 'POST', 'GET', 'DELETE'],
      'list, create, list again (no rival run), revoke',
    );
  });

  it('rotates into a variable group, keeping every other variable and secret', async () => {
    w.addPat('deploy', 1);
    const run = await w.spawn({
      ...w.signIn(),
      displayName: 'deploy',
      target: 'variableGroup',
      variableGroup: 'pat-store',
      variableName: 'Deploy.Pat',
    });
    assertResult(run, 'Succeeded');
    const fresh = live(w, 'deploy')[0];
    const g = w.emu.state.group(w.group.id)!;
    assert.deepEqual(g.variables['Deploy.Pat'], { value: fresh.token, isSecret: true });
    assert.equal(g.variables['Other.Secret'].value, 'other-secret-value-1');
    assert.equal(g.variables['Plain.Setting'].value, 'plain');
    assert.equal(run.variables.has('Deploy.Pat'), false, 'a group target sets no pipeline variable');
  });

  it('skips a PAT that is not due, changing nothing, and warns when it expires soon', async () => {
    w.addPat('deploy', 10);
    const before = w.emu.state.snapshot();
    const run = await w.run({ ...w.signIn(), displayName: 'deploy' });
    assertResult(run, 'Succeeded');
    assert.equal(w.emu.state.snapshot(), before);
    assert.equal(run.variables.get('action (output)')?.value, 'skipped');
    assert.ok(
      run.warnings.some((m) => /deploy.*expires on .*in (9|10) days/.test(m)),
      run.warnings.join('\n'),
    );
  });

  it('retireOld shorten leaves the old PAT valid for the grace period; keep leaves it alone', async () => {
    const old = w.addPat('deploy', 5);
    assertResult(
      await w.run({ ...w.signIn(), displayName: 'deploy', retireOld: 'shorten', graceHours: 2 }),
      'Succeeded',
    );
    assert.equal(old.revoked, false);
    assert.ok(Math.abs(old.validTo.getTime() - (Date.now() + 2 * 3_600_000)) < 60_000);

    const kept = w.addPat('other', 5);
    const keptUntil = kept.validTo.getTime();
    assertResult(await w.run({ ...w.signIn(), displayName: 'other', retireOld: 'keep' }), 'Succeeded');
    assert.equal(kept.revoked, false);
    assert.equal(kept.validTo.getTime(), keptUntil);
    assert.equal(live(w, 'other').length, 2);
  });

  it('creates a PAT with the given scopes, target none', async () => {
    const run = await w.run({
      ...w.signIn(),
      operation: 'create',
      displayName: 'feed-reader',
      scopes: 'vso.packaging',
      validityDays: 7,
      target: 'none',
    });
    assertResult(run, 'Succeeded');
    const [p] = live(w, 'feed-reader');
    assert.equal(p.scope, 'vso.packaging');
    assert.ok(Math.abs(p.validTo.getTime() - (Date.now() + 7 * DAY)) < 60_000);
    assert.equal(run.variables.get('action (output)')?.value, 'created');
    assert.equal(run.variables.get('token (output)')?.value, p.token, 'the token output is still set');
    assert.equal(run.variables.has('PatRotate.Token'), false);
  });

  it('create refuses an existing live name and changes nothing', async () => {
    w.addPat('feed-reader', 40);
    const before = w.emu.state.snapshot();
    const run = await w.run({
      ...w.signIn(),
      operation: 'create',
      displayName: 'feed-reader',
      scopes: 'vso.packaging',
    });
    assertResult(run, 'Failed');
    assert.match(run.message, /Input 'displayName': a live PAT named 'feed-reader' already exists.*rotate/);
    assert.equal(w.emu.state.snapshot(), before);
  });

  it('renews a due PAT in place: same value, later expiry, nothing stored', async () => {
    const p = w.addPat('deploy', 2);
    const token = p.token;
    const run = await w.run({ ...w.signIn(), operation: 'renew', displayName: 'deploy', validityDays: 60 });
    assertResult(run, 'Succeeded');
    assert.equal(p.token, token);
    assert.ok(Math.abs(p.validTo.getTime() - (Date.now() + 60 * DAY)) < 60_000);
    assert.equal(run.variables.get('action (output)')?.value, 'renewed');
    assert.equal(run.variables.has('token (output)'), false);
    assert.deepEqual(patApiCalls(w), ['GET', 'PUT']);
  });

  it('revokes by id', async () => {
    const p = w.addPat('old-thing', 100);
    const run = await w.run({ ...w.signIn(), operation: 'revoke', authorizationId: p.authorizationId });
    assertResult(run, 'Succeeded');
    assert.equal(p.revoked, true);
    assert.equal(run.variables.get('action (output)')?.value, 'revoked');
  });

  it('lists every PAT with expiry, and warns for expiring and expired ones', async () => {
    w.addPat('a-soon', 3);
    w.addPat('b-fresh', 90, { allOrgs: true });
    w.addPat('c-gone', -2);
    const before = w.emu.state.snapshot();
    const run = await w.spawn({ ...w.signIn(), operation: 'list' });
    assertResult(run, 'Succeeded');
    assert.equal(w.emu.state.snapshot(), before);
    assert.match(run.stdout, /a-soon .*expires on/);
    assert.match(run.stdout, /b-fresh .*all organizations \(global\)/);
    assert.match(run.stdout, /c-gone .*expired on/);
    assert.equal(run.warnings.filter((m) => /a-soon|c-gone/.test(m)).length, 2);
    assert.equal(run.variables.get('count (output)')?.value, '3');
    assert.match(run.summaries.length ? run.summaries[0] : '', /\.md$/);
  });

  it('bulk-rotates 50 PATs by prefix into one variable group, each under its own name', async () => {
    for (let i = 0; i < 50; i++) w.addPat(`svc-${String(i).padStart(2, '0')}`, 2);
    w.addPat('svc-fresh', 100);
    w.addPat('unrelated', 1);
    const run = await w.run({
      ...w.signIn(),
      displayName: 'svc-*',
      target: 'variableGroup',
      variableGroup: String(w.group.id),
      variableName: 'PAT.{displayName}',
      concurrency: 8,
      verifyNewToken: false,
    });
    assertResult(run, 'Succeeded');
    const g = w.emu.state.group(w.group.id)!;
    for (let i = 0; i < 50; i++) {
      const name = `svc-${String(i).padStart(2, '0')}`;
      const [p] = live(w, name);
      assert.equal(g.variables[`PAT.${name}`]?.value, p.token, name);
    }
    assert.equal(g.variables['Other.Secret'].value, 'other-secret-value-1');
    assert.equal(live(w, 'svc-fresh').length, 1);
    assert.equal(live(w).length, 52);
    assert.equal(
      w.emu.log.filter((e) => e.method === 'PUT').length,
      1,
      'the 50 values are written in one group update',
    );
    assert.equal(
      w.emu.log.filter((e) => e.method === 'GET' && e.path.endsWith('/_apis/tokens/pats')).length,
      3,
      'one list to plan (52 PATs, one page), one to check for rival runs (102 PATs, two pages)',
    );
    assert.equal(run.variables.get('count (output)')?.value, '50');
    assert.equal(run.variables.has('token (output)'), false, 'no single token output for bulk');
  });

  it('a bulk run carries on past one failure, and fails naming it', async () => {
    for (let i = 0; i < 6; i++) w.addPat(`svc-${i}`, 2);
    w.emu.faults.add({
      method: 'POST',
      path: '/contoso/_apis/tokens/pats',
      nth: 3,
      action: {
        kind: 'status',
        status: 400,
        body: { message: 'TF400898: An Internal Error Occurred.', typeKey: 'InvalidOperationException' },
      },
    });
    const run = await w.run({
      ...w.signIn(),
      displayName: 'svc-*',
      target: 'variableGroup',
      variableGroup: 'pat-store',
      variableName: 'PAT.{displayName}',
      concurrency: 2,
    });
    assertResult(run, 'Failed');
    const g = w.emu.state.group(w.group.id)!;
    const rotated = [0, 1, 2, 3, 4, 5].filter((i) => g.variables[`PAT.svc-${i}`] !== undefined);
    assert.equal(rotated.length, 5, 'the other five were rotated and stored');
    const [failedIndex] = [0, 1, 2, 3, 4, 5].filter((i) => !rotated.includes(i));
    assert.match(run.message, new RegExp(`^svc-${failedIndex}: .*TF400898`));
    assert.equal(live(w).length, 6, 'one live PAT per name: five new, one old');
    assert.equal(run.variables.get('action (output)')?.value, 'rotated');
  });

  it('dry run signs in and reads, but changes no PAT and no store', async () => {
    w.addPat('deploy', 1);
    const before = w.emu.state.snapshot();
    const run = await w.run({
      ...w.signIn(),
      displayName: 'deploy',
      target: 'variableGroup',
      variableGroup: 'pat-store',
      dryRun: true,
    });
    assertResult(run, 'Succeeded');
    assert.equal(w.emu.state.snapshot(), before);
    assert.match(run.stdout, /Would rotate 'deploy'/);
    assert.ok(
      w.emu.log.every((e) => e.method === 'GET' || /oauth2/.test(e.path)),
      'only reads and sign-in',
    );
  });
});
