// Second adversarial review of the Key Vault store, attacking the fixes of c7ac532 ("Review fixes (Key Vault): …"):
// the per-value `before` hook (ledger.storing right before each write), the settle read after any failed vault
// write, the refresh-token preflight before sign-in, and the soft-delete probe (GET /deletedsecrets/{name}).
// Tests named "DEFECT" fail on the reviewed code (c3f991c) and pass once the defect is fixed; the others pin attacks
// that held.
import assert from 'node:assert/strict';
import type { TaskHandle } from '../helpers/runTask';
import { assertResult, live, world, type World } from './world';
import { RT_SECRET, VAULT, vaultWorld, type VaultWorld } from './vaultWorld';

const GROUP_BY_ID = /^\/contoso\/Platform\/_apis\/distributedtask\/variablegroups\/\d+$/i;
const GROUP_PUT = /^\/contoso\/_apis\/distributedtask\/variablegroups\/\d+$/i;
const PATS = /\/_apis\/tokens\/pats$/i;
/** The SDK reads the latest version as GET /secrets/{name}/ (an empty version). */
const SECRET_GET = /^\/secrets\/deploy\/?$/i;

describe('e2e: Key Vault review 2 (the fixes)', function () {
  this.timeout(120_000);
  let v: VaultWorld | undefined;
  let g: World | undefined;
  afterEach(async () => {
    await v?.close();
    await g?.close();
    v = undefined;
    g = undefined;
  });

  const into = (x: VaultWorld, extra: Record<string, string> = {}) => ({
    ...x.signIn(),
    displayName: 'deploy',
    azureSubscription: x.connectionId,
    keyVaultName: x.vaultUrl,
    target: 'keyVault',
    ...extra,
  });
  const latest = (x: VaultWorld, name: string) =>
    x
      .versions(name)
      .filter((s) => s.enabled)
      .at(-1);
  const newPats = (x: World, oldId: string) => x.emu.state.pats(x.user.oid).filter((p) => p.authorizationId !== oldId);
  const created = (x: World) => x.emu.log.some((e) => e.method === 'POST' && PATS.test(e.path));

  // -------------------------------------------------------------------------------------------------------------
  // DEFECT A (low): the soft-delete probe is advisory (a write to a soft-deleted name is refused with 409 and rolled
  // back anyway; a 403 on it is already "carry on"), yet any other odd answer of GET /deletedsecrets/{name} fails the
  // whole run before sign-in: a vault without soft-delete (400 NotSupported, as Key Vault answers purge/get-deleted
  // there), a gateway that does not route /deletedsecrets (HTML), a 5xx. Before c7ac532 these vaults rotated fine.
  for (const [label, action] of [
    [
      '400 NotSupported (a vault without soft-delete)',
      {
        kind: 'status',
        status: 400,
        body: { error: { code: 'NotSupported', message: 'Operation "get" is not enabled for this vault.' } },
      },
    ],
    ['a 203 HTML page (a gateway that does not route it)', { kind: 'html' }],
    ['500 every time', { kind: 'status', status: 500 }],
  ] as const) {
    it(`DEFECT A: GET /deletedsecrets answering ${label} blocks an otherwise fine rotation`, async () => {
      const x = (v = await vaultWorld('secret'));
      const old = x.addPat('deploy', 1);
      x.emu.faults.add({ method: 'GET', path: '/deletedsecrets/*', action });
      const run = await x.run(into(x), x.env);
      assert.equal(run.result, 'Succeeded', `the advisory soft-delete probe failed the run: ${run.message}`);
      assert.equal(latest(x, 'deploy')?.value, newPats(x, old.authorizationId)[0]?.token);
    });
  }

  // -------------------------------------------------------------------------------------------------------------
  // DEFECT B (low/medium): a throttled vault. Every write is refused with 429 (Key Vault refuses unread: nothing was
  // written), and the settle read c7ac532 added after ANY failed write is throttled too, so it counts as
  // "unreadable → unknown". After three writes the run ends "Storing … did not complete … may hold either PAT, so
  // both were left live": a new PAT that no version of the vault ever held is left live (an orphan the user must
  // revoke by hand). Before c7ac532 a 429 was "not landed" and the PAT was rolled back. Each settle read also waits
  // through its own retries (Retry-After, up to 30 s each, one name after another), so a throttled bulk run crawls.
  it('review 2B (fixed): writes refused with 429 and a throttled settle read leave a never-stored PAT live', async () => {
    const x = (v = await vaultWorld('secret'));
    const old = x.addPat('deploy', 1);
    x.emu.faults.add({
      method: 'PUT',
      path: '/secrets/deploy',
      action: { kind: 'status', status: 429, retryAfterSeconds: 1 },
    });
    // The 1st GET is the challenge (401), the 2nd the preflight's read; every later one (settle reads) is throttled.
    x.emu.faults.add({
      method: 'GET',
      path: SECRET_GET,
      nth: 3,
      times: 1_000,
      action: { kind: 'status', status: 429, retryAfterSeconds: 1 },
    });
    const started = Date.now();
    const run = await x.run(into(x), x.env);
    const ms = Date.now() - started;
    assertResult(run, 'Failed');
    assert.equal(x.versions('deploy').length, 0, 'no write was applied');
    const mine = newPats(x, old.authorizationId);
    assert.equal(mine.length, 1);
    assert.ok(
      mine[0].revoked,
      `the new PAT was never in the vault (every write refused with 429), yet it is left live (${ms} ms): ${run.message}`,
    );
    assert.ok(!old.revoked, 'the old PAT stays');
  });

  // -------------------------------------------------------------------------------------------------------------
  // DEFECT C (medium, not a regression of c7ac532 but in what it touched): a cancel while the sign-in's token
  // request is in flight. Entra redeems the refresh token kept in the vault (it is now used) and answers with a
  // rolled one, but the run is stopping: the ledger's check right after signIn throws, the rolled token is neither
  // saved to refreshTokenSecret nor handed on as the refreshToken output, and the stop message says nothing about
  // it (state.savingRefreshToken is set only later). The next run reads a used refresh token and fails until the
  // interactive deviceCode bootstrap is run again.
  it('review 2C (fixed): a cancel during the sign-in burns the refresh token kept in the vault without a word', async () => {
    const x = (v = await vaultWorld('secret'));
    x.addPat('deploy', 1);
    const inputs = x.vaultInputs({ displayName: 'deploy', target: 'none' });
    const rt = latest(x, RT_SECRET)!.value;
    let signal: ((s: 'SIGTERM') => void) | undefined;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    x.emu.faults.add({
      method: 'POST',
      path: /oauth2\/v2\.0\/token$/,
      nth: 2, // the 1st is the vault identity's (client credentials), the 2nd the user's refresh token grant
      action: {
        kind: 'hold',
        answerOnly: true,
        until: released,
        onHeld: () => {
          // Only the user's sign-in (the refresh token grant) is held; the vault identity's token is not.
          signal?.('SIGTERM');
          setTimeout(release, 300);
        },
      },
    });
    const run = await x.run(inputs, x.env, { onStart: (t) => (signal = (s) => t.signal(s)) });
    await new Promise((r) => setTimeout(r, 1_000));
    assertResult(run, 'Failed');
    const used = x.emu.state.refreshTokens.get(rt)?.used === true;
    const inVault = latest(x, RT_SECRET)!.value;
    const handedOn = run.variables.get('refreshToken (output)')?.value;
    assert.ok(
      !used || inVault !== rt || handedOn !== undefined || /refresh token/i.test(run.message ?? ''),
      `the vault's refresh token was redeemed (used: ${used}), the vault still holds it, no output, and the stop message is silent: ${run.message}`,
    );
  });

  // -------------------------------------------------------------------------------------------------------------
  // Held: a stop during the refresh-token preflight (the soft-delete probe held): nothing redeemed, no PAT call.
  it('held: a cancel during the refresh-token preflight redeems nothing and makes no PAT call', async () => {
    const x = (v = await vaultWorld('secret'));
    x.addPat('deploy', 1);
    const inputs = x.vaultInputs({ displayName: 'deploy' });
    const rt = latest(x, RT_SECRET)!.value;
    let task: TaskHandle | undefined;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    // The secret exists, so the preflight's last step is the permission probe (PATCH of a version that cannot exist).
    x.emu.faults.add({
      method: 'PATCH',
      path: new RegExp(`^/secrets/${RT_SECRET}/0{32}$`),
      action: { kind: 'hold', until: released, onHeld: () => task?.signal('SIGTERM') },
    });
    const run = await x.run(inputs, x.env, { onStart: (t) => (task = t) });
    release();
    await new Promise((r) => setTimeout(r, 1_000));
    assertResult(run, 'Failed');
    assert.match(run.message ?? '', /stopped \(SIGTERM\)/);
    assert.equal(x.emu.state.refreshTokens.get(rt)?.used, false, 'the refresh token was redeemed after the stop');
    assert.ok(!x.emu.log.some((e) => PATS.test(e.path)), 'no PAT API call');
    assert.ok(!x.emu.log.some((e) => e.vault && e.method === 'PUT'), 'no vault write');
  });

  // Held: a stop during the settle read after a refused write (write 1 answered 500, not applied): the PAT whose
  // write was sent is named, never revoked, and the retry the store had planned is not sent.
  it('held: a cancel during the settle read keeps the PAT whose write was sent, and no retry write follows', async () => {
    const x = (v = await vaultWorld('secret'));
    const old = x.addPat('deploy', 1);
    let task: TaskHandle | undefined;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    x.emu.faults.add({ method: 'PUT', path: '/secrets/deploy', nth: 1, action: { kind: 'status', status: 500 } });
    x.emu.faults.add({
      method: 'GET',
      path: SECRET_GET,
      nth: 3, // after the challenge (401) and the preflight's read: the settle read
      action: { kind: 'hold', until: released, onHeld: () => task?.signal('SIGTERM') },
    });
    const run = await x.run(into(x), x.env, { onStart: (t) => (task = t) });
    release();
    await new Promise((r) => setTimeout(r, 2_500));
    assertResult(run, 'Failed');
    const mine = newPats(x, old.authorizationId);
    assert.equal(mine.length, 1);
    assert.ok(!mine[0].revoked, 'a PAT whose write was sent was revoked by the stop');
    assert.match(run.message ?? '', new RegExp(`${mine[0].authorizationId}.*was being stored`));
    assert.equal(x.emu.log.filter((e) => e.vault && e.method === 'PUT').length, 1, 'a write after the stop');
    assert.ok(!old.revoked);
  });

  // Held: a second writer replaces the secret between our write (applied, answered 403) and the settle read: our
  // PAT is not the latest version, so it is rolled back; the vault serves the other writer's value, the old PAT stays.
  it('held: applied-then-403 write overtaken by another writer before the settle read rolls back cleanly', async () => {
    const x = (v = await vaultWorld('secret'));
    const old = x.addPat('deploy', 1);
    x.emu.state.setVaultSecret(VAULT, 'deploy', old.token);
    x.emu.faults.add({
      method: 'PUT',
      path: '/secrets/deploy',
      nth: 1,
      action: { kind: 'afterApply', then: { status: 403 } },
    });
    x.emu.faults.add({
      method: 'GET',
      path: SECRET_GET,
      nth: 3, // after the challenge (401) and the preflight's read: the settle read
      onHit: () => x.emu.state.setVaultSecret(VAULT, 'deploy', 'someone-else-wrote-this'),
      action: { kind: 'delay', ms: 0 },
    });
    const run = await x.run(into(x), x.env);
    assertResult(run, 'Failed');
    const mine = newPats(x, old.authorizationId);
    assert.ok(
      mine.every((p) => p.revoked),
      'the superseded new PAT is rolled back',
    );
    assert.ok(!old.revoked);
    assert.equal(latest(x, 'deploy')?.value, 'someone-else-wrote-this');
  });

  // -------------------------------------------------------------------------------------------------------------
  // Variable group: a cancel at each point of the store step (the hook runs after the fresh GET, before the PUT).
  const intoGroup = {
    displayName: 'deploy',
    target: 'variableGroup',
    variableGroup: 'pat-store',
    variableName: 'Deploy.Pat',
  };

  it('held: variable group, a cancel between the group GET and the PUT revokes the new PAT, and nothing is written', async () => {
    const x = (g = await world());
    const old = x.addPat('deploy', 2);
    let task: TaskHandle | undefined;
    x.emu.faults.add({
      method: 'GET',
      path: GROUP_BY_ID,
      onHit: () => {
        if (created(x)) task?.signal('SIGTERM');
      },
      action: { kind: 'delay', ms: 300 },
    });
    const run = await x.run({ ...x.signIn(), ...intoGroup }, {}, { onStart: (t) => (task = t) });
    await new Promise((r) => setTimeout(r, 500));
    assertResult(run, 'Failed');
    assert.equal(x.emu.log.filter((e) => e.method === 'PUT' && GROUP_PUT.test(e.path)).length, 0, 'no group write');
    const mine = newPats(x, old.authorizationId);
    assert.equal(mine.length, 1);
    assert.ok(mine[0].revoked, `the new PAT, never sent to the store, is revoked: ${run.message}`);
    assert.match(run.message, /Rolled back: revoked the new PAT/);
    assert.ok(!old.revoked);
  });

  it('held: variable group, a cancel during the PUT names the new PAT and revokes nothing', async () => {
    const x = (g = await world());
    const old = x.addPat('deploy', 2);
    let task: TaskHandle | undefined;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    x.emu.faults.add({
      method: 'PUT',
      path: GROUP_PUT,
      nth: 1,
      action: { kind: 'hold', until: released, onHeld: () => task?.signal('SIGTERM') },
    });
    const run = await x.run({ ...x.signIn(), ...intoGroup }, {}, { onStart: (t) => (task = t) });
    release();
    await new Promise((r) => setTimeout(r, 500));
    assertResult(run, 'Failed');
    const mine = newPats(x, old.authorizationId);
    assert.ok(mine.length === 1 && !mine[0].revoked, 'a PAT whose write was sent is not revoked');
    assert.match(run.message, /was being stored when the run stopped/);
    assert.ok(!old.revoked, 'the old PAT is not retired after the stop');
  });

  it("held: variable group, a cancel during the retry's GET (another writer dropped the value) keeps the PAT, no 2nd PUT", async () => {
    const x = (g = await world());
    const old = x.addPat('deploy', 2);
    let task: TaskHandle | undefined;
    x.emu.faults.add({ method: 'PUT', path: GROUP_PUT, nth: 1, action: { kind: 'lostUpdate' } });
    // GETs of the group by id after the first PUT: the check, then the retry's fresh read (cancelled there).
    let gets = 0;
    x.emu.faults.add({
      method: 'GET',
      path: GROUP_BY_ID,
      onHit: () => {
        const puts = x.emu.log.filter((e) => e.method === 'PUT' && GROUP_PUT.test(e.path)).length;
        if (puts >= 1 && ++gets === 2) task?.signal('SIGTERM');
      },
      action: { kind: 'delay', ms: 300 },
    });
    const run = await x.run({ ...x.signIn(), ...intoGroup }, {}, { onStart: (t) => (task = t) });
    await new Promise((r) => setTimeout(r, 1_000));
    assertResult(run, 'Failed');
    assert.equal(x.emu.log.filter((e) => e.method === 'PUT' && GROUP_PUT.test(e.path)).length, 1, 'no 2nd write');
    const mine = newPats(x, old.authorizationId);
    assert.ok(mine.length === 1 && !mine[0].revoked, `written once, so never revoked by the stop: ${run.message}`);
    assert.match(run.message, /was being stored when the run stopped/);
    assert.ok(!old.revoked);
  });

  it('held: service connection, a cancel between its GET and PUT revokes the new PAT, and nothing is written', async () => {
    const x = (g = await world());
    const old = x.addPat('fabrikam-pat', 2);
    const e = x.emu.state.addEndpoint('contoso', 'Platform', {
      name: 'fabrikam-repos',
      type: 'externaltfs',
      url: 'https://dev.azure.com/fabrikam',
      scheme: 'Token',
      parameters: { apitoken: old.token },
      data: {},
      roles: { [x.user.oid]: 'Administrator' },
    });
    let task: TaskHandle | undefined;
    x.emu.faults.add({
      method: 'GET',
      path: /serviceendpoint\/endpoints\/[0-9a-f-]+$/i,
      onHit: () => {
        if (created(x)) task?.signal('SIGTERM');
      },
      action: { kind: 'delay', ms: 300 },
    });
    const run = await x.run(
      { ...x.signIn(), displayName: 'fabrikam-pat', target: 'serviceConnection', serviceConnection: 'fabrikam-repos' },
      {},
      { onStart: (t) => (task = t) },
    );
    await new Promise((r) => setTimeout(r, 500));
    assertResult(run, 'Failed');
    assert.ok(!x.emu.log.some((l) => l.method === 'PUT'), 'no write');
    assert.equal(x.emu.state.endpoint(e.id)!.parameters.apitoken, old.token);
    const mine = newPats(x, old.authorizationId);
    assert.ok(mine.length === 1 && mine[0].revoked, `the new PAT, never sent, is revoked: ${run.message}`);
    assert.ok(!old.revoked);
  });

  // Held: a bulk vault write, concurrency 2, cancelled while the first two writes are in flight: those two PATs are
  // named, the others (never sent) are revoked, and no write begins after the stop.
  it('held: bulk vault write at concurrency 2, cancel with two writes in flight', async () => {
    const x = (v = await vaultWorld('secret'));
    const oldIds = new Set(['d1', 'd2', 'd3', 'd4', 'd5'].map((n) => x.addPat(n, 1).authorizationId));
    let task: TaskHandle | undefined;
    let release!: () => void;
    const released = new Promise<void>((r) => (release = r));
    let held = 0;
    x.emu.faults.add({
      method: 'PUT',
      path: /^\/secrets\/PAT-d\d$/,
      times: 2,
      action: {
        kind: 'hold',
        until: released,
        onHeld: () => {
          if (++held === 2) task?.signal('SIGTERM');
        },
      },
    });
    const run = await x.run(
      {
        ...x.signIn(),
        displayName: 'd*',
        azureSubscription: x.connectionId,
        keyVaultName: x.vaultUrl,
        target: 'keyVault',
        secretName: 'PAT-{displayName}',
        concurrency: '2',
      },
      x.env,
      { onStart: (t) => (task = t) },
    );
    release();
    await new Promise((r) => setTimeout(r, 2_000));
    assertResult(run, 'Failed');
    const puts = x.emu.log.filter((e) => e.vault && e.method === 'PUT').map((e) => e.path);
    assert.equal(puts.length, 2, `writes after the stop: ${puts.join(', ')}`);
    const mine = x.emu.state.pats(x.user.oid).filter((p) => !oldIds.has(p.authorizationId));
    for (const p of mine) {
      const sent = puts.includes(`/secrets/PAT-${p.displayName}`);
      assert.equal(p.revoked, !sent, `${p.displayName}: sent ${sent}, revoked ${p.revoked}`);
    }
    assert.ok(live(x).filter((p) => oldIds.has(p.authorizationId)).length === 5, 'every old PAT stays');
  });
});
