import assert from 'node:assert/strict';
import { AdoHttp } from '../../tasks/PatRotate/src/ado/http';
import { AdoError } from '../../tasks/PatRotate/src/ado/errors';
import { verifyPat } from '../../tasks/PatRotate/src/ado/connection';
import { directNetwork } from '../../tasks/PatRotate/src/net/network';
import { recordingSleep, startFakeServer, type FakeServer } from '../helpers/fakeServer';

describe('ado/connection verifyPat', () => {
  let server: FakeServer;
  let http: AdoHttp;

  beforeEach(async () => {
    server = await startFakeServer();
    http = new AdoHttp(directNetwork, { retry: { sleep: recordingSleep().sleep } });
  });
  afterEach(async () => {
    http.dispose();
    await server.close();
  });

  it('returns the user id, using Basic auth', async () => {
    server.enqueue({
      status: 200,
      body: { authenticatedUser: { id: 'user-1', descriptor: 'Microsoft.IdentityModel.Claims.ClaimsIdentity;x' } },
    });
    assert.deepEqual(await verifyPat(http, `${server.url}/contoso/`, 'pat'), { userId: 'user-1' });
    assert.equal(server.log[0].url, '/contoso/_apis/connectionData');
    assert.equal(server.log[0].headers.authorization, `Basic ${Buffer.from(':pat').toString('base64')}`);
  });

  it('waits 1, 2, 4 s while the new PAT propagates', async () => {
    const clock = recordingSleep();
    server.enqueue(
      { status: 401 },
      { status: 401 },
      { status: 401 },
      { status: 200, body: { authenticatedUser: { id: 'u' } } },
    );
    await verifyPat(http, server.url, 'pat', { sleep: clock.sleep });
    assert.deepEqual(clock.waits, [1000, 2000, 4000]);
  });

  it('gives up after maxWaitMs with an auth error', async () => {
    const clock = recordingSleep();
    server.handle(() => ({ status: 401 }));
    await assert.rejects(verifyPat(http, server.url, 'pat', { sleep: clock.sleep }), (e: AdoError) => {
      assert.equal(e.kind, 'auth');
      assert.match(e.message, /new PAT was not accepted by .* within 30 s/);
      assert.ok(!e.message.includes('pat '));
      return true;
    });
    assert.deepEqual(clock.waits, [1000, 2000, 4000, 8000, 8000, 7000]);
  });

  it('treats an anonymous answer like a 401', async () => {
    const clock = recordingSleep();
    server.enqueue(
      { status: 200, body: { authenticatedUser: { id: 'anon', descriptor: 'System:PublicAccess;aaa' } } },
      { status: 200, body: { authenticatedUser: { id: 'u' } } },
    );
    assert.deepEqual(await verifyPat(http, server.url, 'pat', { sleep: clock.sleep }), { userId: 'u' });
  });

  it('does not wait on other errors', async () => {
    server.enqueue({ status: 404 });
    await assert.rejects(
      verifyPat(http, server.url, 'pat', { sleep: recordingSleep().sleep }),
      (e: AdoError) => e.kind === 'notFound',
    );
  });
});
