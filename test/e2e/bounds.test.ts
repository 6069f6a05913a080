// Hostile or broken servers against the built task: redirects are refused without contacting their target, and the
// per-request timeout variable is read strictly. (Drips, endless paging and oversized bodies: see fault-matrix.)
import assert from 'node:assert/strict';
import { startTcpCounter, type TcpCounter } from '../helpers/tcpCounter';
import { assertResult, live, worldPerTest, type World } from './world';

describe('e2e: bounds', function () {
  this.timeout(60_000);
  let w!: World;
  let other: TcpCounter;
  worldPerTest((x) => (w = x));
  beforeEach(async () => {
    other = await startTcpCounter();
  });
  afterEach(() => other.close());

  const intoGroup = {
    displayName: 'deploy',
    target: 'variableGroup',
    variableGroup: 'pat-store',
    variableName: 'Deploy.Pat',
  };

  it('a 307 from the Entra token endpoint fails the run in one line naming the host; the credentials go nowhere', async () => {
    const old = w.addPat('deploy', 2);
    const before = w.emu.state.snapshot();
    const token = `/${w.emu.state.tenantId}/oauth2/v2.0/token`;
    w.emu.faults.add({
      method: 'POST',
      path: token,
      action: { kind: 'redirect', location: `https://127.0.0.1:${other.port}${token}` },
    });
    const run = await w.run({ ...w.signIn(), ...intoGroup });
    assertResult(run, 'Failed');
    assert.match(
      run.message,
      new RegExp(
        `^Entra answered HTTP 307 redirecting to 127\\.0\\.0\\.1:${other.port}; PatRotate does not follow redirects with credentials: check authorityHost and the agent proxy \\(POST \\S+\\)$`,
      ),
    );
    assert.equal(other.connections(), 0, 'the redirect target was contacted');
    assert.equal(w.emu.log.filter((e) => e.path === token).length, 1, 'a redirect is not retried');
    assert.equal(w.emu.state.snapshot(), before);
    assert.deepEqual(
      live(w, 'deploy').map((p) => p.authorizationId),
      [old.authorizationId],
    );
  });

  it('a 307 from the PAT API fails the run naming the host, before any change', async () => {
    w.addPat('deploy', 2);
    w.emu.faults.add({
      method: 'GET',
      path: '/contoso/_apis/tokens/pats',
      action: { kind: 'redirect', location: `https://127.0.0.1:${other.port}/steal` },
    });
    const run = await w.run({ ...w.signIn(), ...intoGroup });
    assertResult(run, 'Failed');
    assert.match(
      run.message,
      new RegExp(
        `^GET \\S+/_apis/tokens/pats answered HTTP 307 redirecting to 127\\.0\\.0\\.1:${other.port}; PatRotate does not follow redirects`,
      ),
    );
    assert.ok(!run.message.includes('\n'));
    assert.equal(other.connections(), 0);
    assert.equal(
      w.emu.log.filter((e) => e.method === 'POST' && /tokens\/pats$/.test(e.path)).length,
      0,
      'nothing created',
    );
  });

  it('a bad PatRotate.RequestTimeoutSeconds is a one-line error naming the variable, before any request', async () => {
    const run = await w.run({ ...w.signIn(), ...intoGroup }, { PATROTATE_REQUESTTIMEOUTSECONDS: '3e1' });
    assertResult(run, 'Failed');
    assert.equal(
      run.message,
      'The variable PatRotate.RequestTimeoutSeconds must be a whole number of seconds from 1 to 600, got "3e1".',
    );
    assert.equal(w.emu.log.length, 0);
  });

  it('a dripping PAT list answer ends at the total deadline (2 × PatRotate.RequestTimeoutSeconds) and is retried', async () => {
    w.addPat('deploy', 2);
    const rule = w.emu.faults.add({
      method: 'GET',
      path: '/contoso/_apis/tokens/pats',
      nth: 1,
      action: { kind: 'drip', everyMs: 200 },
    });
    const started = Date.now();
    const run = await w.run({ ...w.signIn(), ...intoGroup }, { PATROTATE_REQUESTTIMEOUTSECONDS: '1' });
    assertResult(run, 'Succeeded');
    assert.equal(w.emu.faults.firedCount(rule), 1);
    assert.match(run.stdout, /Retrying GET \S+\/_apis\/tokens\/pats after network error in \d+ s \(attempt 1\)/);
    assert.ok(Date.now() - started < 20_000);
    assert.equal(run.stderr.trim(), '', 'nothing on stderr (no unhandled error or warning)');
  });
});
