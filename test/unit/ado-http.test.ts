import assert from 'node:assert/strict';
import { AdoHttp, type RetryInfo } from '../../tasks/PatRotate/src/ado/http';
import { parseRetryAfter } from '../../tasks/PatRotate/src/net/network';
import { directNetwork } from '../../tasks/PatRotate/src/net/network';
import net from 'node:net';
import { brotliCompressSync, deflateSync, gzipSync } from 'node:zlib';
import { recordingSleep, startFakeServer, type FakeAnswer, type FakeServer } from '../helpers/fakeServer';
import { startTcpCounter } from '../helpers/tcpCounter';
import { rejection } from '../helpers/rejection';

const bearer = { kind: 'bearer', token: 'eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiJ9.secret-value' } as const;

describe('ado/http AdoHttp', () => {
  let server: FakeServer;
  let http: AdoHttp;
  let clock: ReturnType<typeof recordingSleep>;
  let retries: RetryInfo[];

  beforeEach(async () => {
    server = await startFakeServer();
    clock = recordingSleep();
    retries = [];
    http = new AdoHttp(
      { ...directNetwork, timeoutMs: 300 },
      { retry: { sleep: clock.sleep, random: () => 0.5 }, onRetry: (i) => retries.push(i) },
    );
  });
  afterEach(async () => {
    http.dispose();
    await server.close();
  });

  it('sends the Azure DevOps headers and parses JSON', async () => {
    server.enqueue({ status: 200, body: { ok: 1 } });
    const got = await http.send<{ ok: number }>('PUT', `${server.url}/x?a=1`, { credential: bearer, body: { b: 2 } });
    assert.deepEqual(got, { ok: 1 });
    const req = server.log[0];
    assert.equal(req.headers.authorization, `Bearer ${bearer.token}`);
    assert.equal(req.headers.accept, 'application/json');
    assert.equal(req.headers['x-tfs-fedauthredirect'], 'Suppress');
    assert.match(String(req.headers['content-type']), /^application\/json/);
    assert.equal(req.headers['user-agent'], 'PatRotate/1');
    assert.deepEqual(req.json, { b: 2 });
  });

  it('sends a PAT as Basic base64(":" + pat) and omits Content-Type without a body', async () => {
    server.enqueue({ status: 200, body: {} });
    await http.send('GET', `${server.url}/x`, { credential: { kind: 'basic', token: 'mypat' } });
    assert.equal(server.log[0].headers.authorization, `Basic ${Buffer.from(':mypat').toString('base64')}`);
    assert.equal(server.log[0].headers['content-type'], undefined);
  });

  it('returns undefined for an empty 2xx', async () => {
    server.enqueue({ status: 204 });
    assert.equal(await http.send('DELETE', `${server.url}/x`, { credential: bearer }), undefined);
  });

  it('retries 429 honouring Retry-After in seconds', async () => {
    server.enqueue(
      { status: 429, headers: { 'Retry-After': '2' } },
      { status: 429, headers: { 'Retry-After': '7' } },
      { status: 200, body: { n: 3 } },
    );
    assert.deepEqual(await http.send('GET', `${server.url}/x?q=1`, { credential: bearer }), { n: 3 });
    assert.deepEqual(clock.waits, [2000, 7000]);
    assert.equal(server.log.length, 3);
    assert.deepEqual(
      retries.map((r) => [r.attempt, r.reason, r.url]),
      [
        [1, 'HTTP 429', `${server.url}/x`],
        [2, 'HTTP 429', `${server.url}/x`],
      ],
    );
  });

  it('retries 503 with exponential backoff and jitter', async () => {
    server.enqueue({ status: 503 }, { status: 502 }, { status: 500 }, { status: 200, body: {} });
    await http.send('GET', `${server.url}/x`, { credential: bearer });
    assert.deepEqual(clock.waits, [750, 1500, 3000]); // base 1 s × 2^n × (0.5 + 0.5/2)
  });

  it('retries a connection reset on GET', async () => {
    server.enqueue({ reset: true }, { status: 200, body: { ok: true } });
    assert.deepEqual(await http.send('GET', `${server.url}/x`, { credential: bearer }), { ok: true });
    assert.equal(retries[0].reason, 'network error');
  });

  it('stops after maxAttempts and reports the last error', async () => {
    server.handle(() => ({ status: 503, body: { message: 'busy' } }));
    const e = await rejection(http.send('GET', `${server.url}/x`, { credential: bearer }));
    assert.equal(server.log.length, 5);
    assert.equal(e.kind, 'transient');
    assert.equal(e.status, 503);
    assert.equal(e.retryable, true);
    assert.equal(e.lostResponse, false);
  });

  it('stops when the next wait would exceed maxTotalMs', async () => {
    server.handle(() => ({ status: 429, headers: { 'Retry-After': '40' } }));
    const e = await rejection(http.send('GET', `${server.url}/x`, { credential: bearer }));
    assert.equal(e.kind, 'throttled');
    assert.equal(server.log.length, 2); // waited 40 s once; 80 s would break the 60 s budget
    assert.deepEqual(clock.waits, [40_000]);
  });

  it('never retries a POST and flags a 5xx answer as lostResponse', async () => {
    server.enqueue({ status: 503 }, { status: 200, body: {} });
    const e = await rejection(http.send('POST', `${server.url}/x`, { credential: bearer, body: {} }));
    assert.equal(server.log.length, 1);
    assert.equal(e.lostResponse, true);
    assert.deepEqual(clock.waits, []);
  });

  it('never retries a POST after a reset and flags lostResponse', async () => {
    server.enqueue({ reset: true });
    const e = await rejection(http.send('POST', `${server.url}/x`, { credential: bearer, body: {} }));
    assert.equal(server.log.length, 1);
    assert.equal(e.kind, 'transient');
    assert.equal(e.lostResponse, true);
  });

  it('treats a timeout as transient and lostResponse for writes', async () => {
    server.enqueue({ hang: true });
    const e = await rejection(http.send('POST', `${server.url}/x`, { credential: bearer, body: {} }));
    assert.equal(e.kind, 'transient');
    assert.equal(e.lostResponse, true);
    assert.match(e.message, /timed out/);
  });

  it('allowRetry:false makes exactly one attempt', async () => {
    server.enqueue({ status: 503 }, { status: 200, body: {} });
    await rejection(http.send('GET', `${server.url}/x`, { credential: bearer, allowRetry: false }));
    assert.equal(server.log.length, 1);
  });

  it('turns HTTP 203 into the sign-in error', async () => {
    server.enqueue({
      status: 203,
      body: '<html><body>Sign in</body></html>',
      headers: { 'Content-Type': 'text/html' },
    });
    const e = await rejection(http.send('GET', `${server.url}/x`, { credential: bearer }));
    assert.equal(e.kind, 'auth');
    assert.match(e.message, /sign-in page: the token is not a Microsoft Entra user token for Azure DevOps/);
  });

  it('turns a 200 HTML page into the sign-in error', async () => {
    server.enqueue({ status: 200, body: '<!DOCTYPE html><html></html>', headers: { 'Content-Type': 'text/html' } });
    assert.equal((await rejection(http.send('GET', `${server.url}/x`, { credential: bearer }))).kind, 'auth');
  });

  it('does not follow a redirect (it would carry the token elsewhere)', async () => {
    server.enqueue({ status: 302, headers: { Location: 'https://example.invalid/_signin' } });
    const e = await rejection(http.send('GET', `${server.url}/x`, { credential: bearer }));
    assert.equal(e.kind, 'auth');
    assert.equal(server.log.length, 1);
  });

  it('reports malformed JSON in a 2xx as protocol, lostResponse only for writes', async () => {
    server.enqueue({ status: 200, body: '{"patToken": {' }, { status: 200, body: '{"patToken": {' });
    const get = await rejection(http.send('GET', `${server.url}/x`, { credential: bearer }));
    assert.equal(get.kind, 'protocol');
    assert.equal(get.lostResponse, false);
    const post = await rejection(http.send('POST', `${server.url}/x`, { credential: bearer, body: {} }));
    assert.equal(post.kind, 'protocol');
    assert.equal(post.lostResponse, true);
  });

  it('uses the VSS error body message and typeKey on 4xx', async () => {
    server.enqueue({
      status: 400,
      body: {
        $id: '1',
        innerException: null,
        message: 'TF400898: An Internal Error Occurred.',
        typeKey: 'JsonReaderException',
        errorCode: 0,
        eventId: 0,
      },
    });
    const e = await rejection(http.send('PUT', `${server.url}/x`, { credential: bearer, body: {} }));
    assert.equal(e.kind, 'badRequest');
    assert.equal(e.status, 400);
    assert.equal(e.typeKey, 'JsonReaderException');
    assert.match(e.message, /TF400898/);
  });

  it('never echoes the credential in a message', async () => {
    server.enqueue({ status: 401, body: { message: `bad token ${bearer.token} / Bearer abcdefghijklmnop` } });
    const e = await rejection(http.send('GET', `${server.url}/x`, { credential: bearer }));
    assert.equal(e.kind, 'auth');
    assert.ok(!e.message.includes(bearer.token));
    assert.ok(!e.message.includes('abcdefghijklmnop'));
    assert.ok(!e.message.includes('\n'));
  });
});

describe('net parseRetryAfter', () => {
  it('reads seconds and HTTP dates', () => {
    const now = Date.parse('2025-01-01T00:00:00Z');
    assert.equal(parseRetryAfter('5', now), 5000);
    assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:10 GMT', now), 10_000);
    assert.equal(parseRetryAfter('Tue, 31 Dec 2024 00:00:00 GMT', now), 0);
    assert.equal(parseRetryAfter('soon', now), undefined);
    assert.equal(parseRetryAfter(undefined, now), undefined);
  });
});

describe('ado/http AdoHttp bounds', () => {
  let server: FakeServer;
  let http: AdoHttp;
  /** Generous deadlines and one attempt, for the size tests: a slow machine must not turn them into timeouts. */
  let roomy: AdoHttp;
  let clock: ReturnType<typeof recordingSleep>;

  beforeEach(async () => {
    server = await startFakeServer();
    clock = recordingSleep();
    // Idle timeout 300 ms, total deadline 800 ms: a byte every 100 ms never trips the idle timer.
    http = new AdoHttp(
      { ...directNetwork, timeoutMs: 300, deadlineMs: 800 },
      { retry: { sleep: clock.sleep, random: () => 0.5, maxAttempts: 2 } },
    );
    roomy = new AdoHttp({ ...directNetwork, timeoutMs: 20_000 }, { retry: { sleep: clock.sleep, maxAttempts: 1 } });
  });
  afterEach(async () => {
    http.dispose();
    roomy.dispose();
    await server.close();
  });

  /** Headers at once, then one space every 100 ms for ever; resolves `closed` when the client hangs up. */
  function dripping(): { answer: FakeAnswer; closed: Promise<number> } {
    let done: (at: number) => void = () => undefined;
    const closed = new Promise<number>((resolve) => (done = resolve));
    return {
      closed,
      answer: {
        respond: (res) => {
          res.writeHead(200, { 'Content-Type': 'application/json' });
          res.write(' ');
          const timer = setInterval(() => res.write(' '), 100);
          res.on('close', () => {
            clearInterval(timer);
            done(Date.now());
          });
        },
      },
    };
  }

  it('ends a dripping answer at the total deadline, destroys the socket, and retries a GET like a timeout', async () => {
    const first = dripping();
    server.enqueue(first.answer, { status: 200, body: { ok: true } });
    const started = Date.now();
    assert.deepEqual(await http.send('GET', `${server.url}/x`, { credential: bearer }), { ok: true });
    const closedAt = await first.closed;
    assert.ok(closedAt - started >= 750 && closedAt - started < 10_000, `socket closed after ${closedAt - started} ms`);
    assert.equal(server.log.length, 2);
    assert.equal(clock.waits.length, 1);
  });

  it('treats a deadline breach on a POST as a lost answer, one attempt, one line naming the deadline', async () => {
    const drip = dripping();
    server.enqueue(drip.answer);
    const e = await rejection(http.send('POST', `${server.url}/x`, { credential: bearer, body: {} }));
    assert.equal(e.kind, 'transient');
    assert.equal(e.retryable, true);
    assert.equal(e.lostResponse, true);
    assert.match(
      e.message,
      /^POST http:\/\/127\.0\.0\.1:\d+\/x timed out: no complete answer within the 0\.8 s deadline per request/,
    );
    assert.equal(server.log.length, 1);
    await drip.closed;
  });

  it('ends headers that drip in a byte at a time at the same deadline (it covers headers, not only the body)', async () => {
    let closed = false;
    const sockets = new Set<net.Socket>();
    const raw = net.createServer((socket) => {
      sockets.add(socket);
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\nX-Slow: ');
        const timer = setInterval(() => socket.write('a'), 100);
        socket.on('close', () => {
          clearInterval(timer);
          closed = true;
        });
      });
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = raw.address() as net.AddressInfo;
      const started = Date.now();
      const e = await rejection(
        http.send('DELETE', `http://127.0.0.1:${port}/x`, { credential: bearer, allowRetry: false }),
      );
      assert.match(e.message, /timed out: no complete answer within the 0\.8 s deadline/);
      assert.ok(Date.now() - started < 10_000, 'ended by the deadline');
      await new Promise((resolve) => setTimeout(resolve, 50));
      assert.ok(closed, 'the socket was destroyed');
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => raw.close(resolve));
    }
  });

  it('stops reading a body larger than 16 MiB and says so', async () => {
    server.enqueue({
      respond: (res) => {
        res.writeHead(200, { 'Content-Type': 'application/json' });
        res.write('{"padding":"');
        const chunk = Buffer.alloc(1024 * 1024, 'a');
        let n = 0;
        const pump = (): void => {
          while (n++ < 40) if (!res.write(chunk)) return void res.once('drain', pump);
          res.end('"}');
        };
        pump();
      },
    });
    const e = await rejection(roomy.send('GET', `${server.url}/x`, { credential: bearer }));
    assert.equal(e.kind, 'protocol');
    assert.equal(e.retryable, false);
    assert.match(e.message, /^GET \S+ failed: the answer is larger than 16 MiB; stopped reading it$/);
  });

  it('fails a gzip bomb (2 MB inflating to 2 GiB) cleanly, without inflating it into memory', async () => {
    const member = gzipSync(Buffer.alloc(16 * 1024 * 1024));
    server.enqueue({
      respond: (res) => {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
        let left = 128;
        const pump = (): void => {
          while (left-- > 0) if (res.destroyed || !res.write(member)) return void res.once('drain', pump);
          res.end();
        };
        pump();
      },
    });
    const before = process.memoryUsage().rss;
    const e = await rejection(roomy.send('PUT', `${server.url}/x`, { credential: bearer, body: {} }));
    const grown = process.memoryUsage().rss - before;
    assert.match(e.message, /the answer is larger than 16 MiB/);
    assert.equal(e.lostResponse, true);
    assert.ok(grown < 256 * 1024 * 1024, `memory grew by ${Math.round(grown / 1024 / 1024)} MiB`);
  });

  it('still reads a small gzip answer', async () => {
    server.enqueue({
      respond: (res) => {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
        res.end(gzipSync('{"ok":1}'));
      },
    });
    assert.deepEqual(await roomy.send('GET', `${server.url}/x`, { credential: bearer }), { ok: 1 });
  });

  it('decodes deflate and br, and refuses an unknown Content-Encoding in one line, naming it sanitised', async () => {
    const encoded = (encoding: string, body: Buffer): FakeAnswer => ({
      respond: (res) => {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': encoding });
        res.end(body);
      },
    });
    server.enqueue(
      encoded('deflate', deflateSync('{"d":1}')),
      encoded('br', brotliCompressSync('{"b":1}')),
      encoded('compress ##vso[x]', Buffer.from('{}')),
    );
    assert.deepEqual(await roomy.send('GET', `${server.url}/x`, { credential: bearer }), { d: 1 });
    assert.deepEqual(await roomy.send('GET', `${server.url}/x`, { credential: bearer }), { b: 1 });
    const e = await rejection(roomy.send('GET', `${server.url}/x`, { credential: bearer }));
    assert.equal(e.kind, 'protocol');
    assert.match(e.message, /failed: the answer has an unsupported Content-Encoding "compress \?\?vso\?x\?"$/);
  });

  it('refuses a redirect to another host without contacting it, naming the host', async () => {
    const other = await startTcpCounter();
    try {
      server.enqueue({ status: 307, headers: { Location: `http://127.0.0.1:${other.port}/steal?token=1` } });
      const e = await rejection(roomy.send('POST', `${server.url}/x`, { credential: bearer, body: { secret: 1 } }));
      assert.equal(e.kind, 'protocol');
      assert.equal(
        e.message,
        `POST ${server.url}/x answered HTTP 307 redirecting to 127.0.0.1:${other.port}; PatRotate does not follow redirects with credentials: check the organization URL and the agent proxy`,
      );
      assert.equal(other.connections(), 0);
    } finally {
      await other.close();
    }
  });

  it('names the host of a sign-in redirect', async () => {
    server.enqueue({ status: 302, headers: { Location: 'https://app.vssps.visualstudio.com/_signin?realm=x' } });
    const e = await rejection(http.send('GET', `${server.url}/x`, { credential: bearer }));
    assert.equal(e.kind, 'auth');
    assert.match(e.message, /\(HTTP 302 redirecting to app\.vssps\.visualstudio\.com, not followed\)$/);
  });
});
