// Attacks on the service-connection store found by a review, kept as tests: a lost answer with the connection
// hidden afterwards, a token sent to a host the user did not name, a read that drops a parameter, a connection that
// is not ready.
import assert from 'node:assert/strict';
import { assertResult, world, worldPerTest, type World } from './world';

describe('e2e: service connection store under attack', function () {
  this.timeout(60_000);
  let w!: World;
  worldPerTest((x) => (w = x));
  const add = (token: string | null) =>
    w.emu.state.addEndpoint('contoso', 'Platform', {
      name: 'fabrikam-repos',
      type: 'generic',
      url: 'https://fabrikam.example',
      scheme: 'UsernamePassword',
      parameters: { username: 'svc', password: token },
      roles: { [w.user.oid]: 'Administrator' },
    });
  const inputs = () => ({
    ...w.signIn(),
    displayName: 'fabrikam-pat',
    target: 'serviceConnection',
    serviceConnection: 'fabrikam-repos',
  });
  const byId = (id: string) => `/contoso/Platform/_apis/serviceendpoint/endpoints/${id}`;

  it('a lost write answer followed by a read that finds nothing (hidden, not gone) rolls nothing back', async () => {
    const old = w.addPat('fabrikam-pat', 2);
    const e = add(old.token);
    w.emu.faults.add({
      method: 'PUT',
      path: `/contoso/_apis/serviceendpoint/endpoints/${e.id}`,
      nth: 1,
      action: { kind: 'afterApply', then: { status: 503, retryAfterSeconds: 0 } },
    });
    w.emu.faults.add({ method: 'GET', path: byId(e.id), nth: 4, action: { kind: 'status', status: 404 } });
    await w.run(inputs());
    const held = w.emu.state.patByToken(e.parameters.password!);
    assert.ok(held && !held.revoked, 'the connection holds a live PAT');
  });

  it('never sends the token to a System.CollectionUri on another server than organization', async () => {
    const w2 = await world();
    try {
      const old = w.addPat('fabrikam-pat', 2);
      add(old.token);
      await w.run(inputs(), { SYSTEM_COLLECTIONURI: `${w2.emu.url}/contoso/` });
      assert.equal(w2.emu.log.length, 0, 'nothing was sent to the other server');
    } finally {
      await w2.close();
    }
  });

  it('a fresh read that lacks a parameter the connection had is not written back', async () => {
    const old = w.addPat('fabrikam-pat', 2);
    const e = add(old.token);
    w.emu.faults.add({
      method: 'GET',
      path: byId(e.id),
      nth: 3,
      times: 10,
      action: {
        kind: 'tamper',
        change: (b) => {
          delete (b as { authorization: { parameters: Record<string, unknown> } }).authorization.parameters.username;
          return b;
        },
      },
    });
    const run = await w.run(inputs());
    assertResult(run, 'Failed');
    assert.match(run.message, /came back without its parameter\(s\) username.*Rolled back/);
    assert.equal(e.parameters.username, 'svc');
    assert.equal(old.revoked, false);
  });

  it('a connection that is not ready is refused before any PAT is created', async () => {
    w.addPat('fabrikam-pat', 2);
    add(null); // no secret: the emulator reports it not ready
    const run = await w.run(inputs());
    assertResult(run, 'Failed');
    assert.match(run.message, /Input 'serviceConnection': service connection 'fabrikam-repos' is not ready/);
    assert.equal(w.emu.state.pats(w.user.oid).length, 1);
  });
});
