import assert from 'node:assert/strict';
import { AuthError } from '@azure/msal-node';
import { createNetworkClient, type HttpExchange } from '../../tasks/PatRotate/src/auth/networkClient';
import { throttleDelay } from '../../tasks/PatRotate/src/auth/signIn';
import { explainSignInError } from '../../tasks/PatRotate/src/auth/aadErrors';
import type { SignInConfig } from '../../tasks/PatRotate/src/auth/types';
import { directNetwork, requestTimeoutMs } from '../../tasks/PatRotate/src/net/network';
import { startFakeServer, type FakeServer } from '../helpers/fakeServer';
import { startTcpCounter } from '../helpers/tcpCounter';

const cfg: SignInConfig = {
  method: 'refreshToken',
  tenantId: 't',
  clientId: 'c',
  authorityHost: 'https://login.microsoftonline.com',
  deviceCodeTimeoutMinutes: 1,
  refreshToken: 'rt',
};

async function authError(p: Promise<unknown>): Promise<AuthError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof AuthError, String(e));
    return e;
  }
  assert.fail('expected an AuthError');
}

describe('auth/networkClient bounds (Entra calls)', () => {
  let server: FakeServer;
  let seen: HttpExchange[];
  const client = () => createNetworkClient({ ...directNetwork, timeoutMs: 300, deadlineMs: 700 }, (x) => seen.push(x));

  beforeEach(async () => {
    server = await startFakeServer();
    seen = [];
  });
  afterEach(() => server.close());

  it('does not follow a 307 from the token endpoint: the refresh token never reaches the other host', async () => {
    const other = await startTcpCounter();
    try {
      server.enqueue({ status: 307, headers: { Location: `http://127.0.0.1:${other.port}/t/oauth2/v2.0/token` } });
      const e = await authError(
        client().sendPostRequestAsync(`${server.url}/t/oauth2/v2.0/token`, {
          body: 'grant_type=refresh_token&refresh_token=rt-secret',
        }),
      );
      assert.equal(e.errorCode, 'redirect_refused');
      assert.equal(other.connections(), 0);
      assert.equal(server.log.length, 1);
      // Not retried: the sign-in's retry rule sees a 307, which is no transient status.
      assert.equal(throttleDelay(e, seen.at(-1), 'refreshToken'), undefined);
      const explained = explainSignInError(e, cfg, seen.at(-1));
      assert.equal(explained.code, 'redirect');
      assert.equal(
        explained.message,
        `Entra answered HTTP 307 redirecting to 127.0.0.1:${other.port}; PatRotate does not follow redirects with credentials: check authorityHost and the agent proxy (POST ${server.url}/t/oauth2/v2.0/token)`,
      );
    } finally {
      await other.close();
    }
  });

  it('ends a dripping Entra answer at the deadline as a timed-out connection (retried like one)', async () => {
    let closed = false;
    server.enqueue({
      respond: (res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        const timer = setInterval(() => res.write(' '), 100);
        res.on('close', () => {
          clearInterval(timer);
          closed = true;
        });
      },
    });
    const started = Date.now();
    const e = await authError(client().sendPostRequestAsync(`${server.url}/t/oauth2/v2.0/token`, { body: 'x=1' }));
    assert.equal(e.errorCode, 'network_error');
    assert.ok(Date.now() - started < 10_000, 'ended by the deadline');
    assert.equal(seen.at(-1)?.networkError?.code, 'EDEADLINE');
    assert.equal(throttleDelay(e, seen.at(-1), 'refreshToken'), 2_000);
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.ok(closed, 'the socket was destroyed');
  });

  it('fails an oversized Entra answer without retrying it', async () => {
    server.enqueue({
      respond: (res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.end(Buffer.alloc(17 * 1024 * 1024, ' '));
      },
    });
    // A generous deadline: on a slow machine reading 16 MiB must not turn into a timeout.
    const roomy = createNetworkClient({ ...directNetwork, timeoutMs: 20_000 }, (x) => seen.push(x));
    const e = await authError(roomy.sendGetRequestAsync(`${server.url}/t/v2.0/.well-known/openid-configuration`));
    assert.match(e.errorMessage, /EBODYTOOLARGE the answer is larger than 16 MiB/);
    assert.equal(throttleDelay(e, seen.at(-1), 'refreshToken'), undefined);
  });
});

describe('net requestTimeoutMs (PatRotate.RequestTimeoutSeconds)', () => {
  it('defaults to 30 s and reads plain decimal integers 1–600', () => {
    assert.equal(requestTimeoutMs(undefined), 30_000);
    assert.equal(requestTimeoutMs(''), 30_000);
    assert.equal(requestTimeoutMs(' 5 '), 5_000);
    assert.equal(requestTimeoutMs('600'), 600_000);
  });

  for (const bad of ['0', '601', '0x1E', '3e1', '1.5', '-5', 'ten', '+5']) {
    it(`refuses "${bad}" in one line naming the variable`, () => {
      assert.throws(
        () => requestTimeoutMs(bad),
        (e: Error) =>
          e.message ===
          `The variable PatRotate.RequestTimeoutSeconds must be a whole number of seconds from 1 to 600, got "${bad}".`,
      );
    });
  }
});
