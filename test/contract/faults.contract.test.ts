// Fault injection and latency of the emulator.
import assert from 'node:assert/strict';
import { request } from 'node:https';
import type { IncomingMessage } from 'node:http';
import { createGunzip } from 'node:zlib';
import { start, type Emulator } from '../emulator';
import { call, DAY } from './helpers';

const PATH = '/contoso/_apis/tokens/pats';
const Q = '?api-version=7.1-preview.1';

describe('contract: faults and latency', function () {
  this.timeout(10_000);
  let em: Emulator;
  let bearer: string;
  const createBody = () => ({ displayName: 'x', scope: 'vso.code', validTo: new Date(Date.now() + DAY).toISOString() });

  beforeEach(async () => {
    em = await start();
    em.state.addOrg('contoso');
    bearer = em.state.issueAccessToken(em.state.addUser({ upn: 'a@contoso.example' }).oid);
  });
  afterEach(() => em.close());

  it('status: 429 with Retry-After, only the nth call, then normal service', async () => {
    em.faults.add({ method: 'GET', path: PATH, nth: 2, action: { kind: 'status', status: 429, retryAfterSeconds: 7 } });
    const statuses = [];
    let retryAfter: unknown;
    for (let i = 0; i < 3; i++) {
      const r = await call(em, 'GET', PATH + Q, { bearer });
      statuses.push(r.status);
      if (r.status === 429) retryAfter = r.headers['retry-after'];
    }
    assert.deepEqual(statuses, [200, 429, 200]);
    assert.equal(retryAfter, '7');
    assert.deepEqual(
      em.log.map((e) => e.status),
      [200, 429, 200],
    );
  });

  it('path prefix with *, RegExp, times, method filter, custom body, clear()', async () => {
    em.faults.add({
      path: '/contoso/_apis/*',
      times: 2,
      action: { kind: 'status', status: 503, body: { message: 'down' } },
    });
    const a = await call(em, 'GET', PATH + Q, { bearer });
    assert.equal(a.status, 503);
    assert.deepEqual(a.json, { message: 'down' });
    assert.equal((await call(em, 'GET', PATH + Q, { bearer })).status, 503);
    assert.equal((await call(em, 'GET', PATH + Q, { bearer })).status, 200);
    em.faults.add({ method: 'POST', path: /tokens\/pats$/i, action: { kind: 'status', status: 500 } });
    assert.equal((await call(em, 'GET', PATH + Q, { bearer })).status, 200);
    assert.equal((await call(em, 'POST', PATH + Q, { bearer, body: createBody() })).status, 500);
    em.faults.clear();
    assert.equal((await call(em, 'POST', PATH + Q, { bearer, body: createBody() })).status, 200);
  });

  it('reset destroys the connection; html answers 203 sign-in; malformedJson answers 200 unparsable', async () => {
    em.faults.add({ path: PATH, times: 1, action: { kind: 'reset' } });
    await assert.rejects(call(em, 'GET', PATH + Q, { bearer }), /socket hang up|ECONNRESET/);
    em.faults.add({ path: PATH, times: 1, action: { kind: 'html' } });
    const html = await call(em, 'GET', PATH + Q, { bearer });
    assert.equal(html.status, 203);
    assert.match(html.text, /<title>Azure DevOps Services \| Sign In<\/title>/);
    em.faults.add({ path: PATH, times: 1, action: { kind: 'malformedJson' } });
    const bad = await call(em, 'GET', PATH + Q, { bearer });
    assert.equal(bad.status, 200);
    assert.throws(() => JSON.parse(bad.text) as unknown);
  });

  it('afterApply really creates the PAT, then loses the answer (reset or 5xx)', async () => {
    em.faults.add({ method: 'POST', path: PATH, times: 1, action: { kind: 'afterApply', then: 'reset' } });
    await assert.rejects(call(em, 'POST', PATH + Q, { bearer, body: createBody() }));
    assert.equal(em.state.pats().length, 1);
    em.faults.add({ method: 'POST', path: PATH, times: 1, action: { kind: 'afterApply', then: { status: 502 } } });
    const r = await call(em, 'POST', PATH + Q, { bearer, body: createBody() });
    assert.equal(r.status, 502);
    assert.equal(em.state.pats().length, 2);
    assert.ok(!r.text.includes(em.state.pats()[1].token));
  });

  it('hang keeps the request open until close(), which finishes fast', async () => {
    em.faults.add({ path: PATH, action: { kind: 'hang' } });
    const pending = call(em, 'GET', PATH + Q, { bearer, timeoutMs: 30_000 });
    const outcome = pending.then(
      () => 'answered',
      () => 'failed',
    );
    await new Promise((r) => setTimeout(r, 150));
    assert.equal(em.log.length, 1);
    assert.equal(em.log[0].status, 0);
    const t0 = Date.now();
    await em.close();
    assert.ok(Date.now() - t0 < 1000, 'close() took too long');
    assert.equal(await outcome, 'failed');
  });

  it('delay fault and latencyMs slow answers down', async () => {
    em.faults.add({ path: PATH, times: 1, action: { kind: 'delay', ms: 200 } });
    let t0 = Date.now();
    assert.equal((await call(em, 'GET', PATH + Q, { bearer })).status, 200);
    assert.ok(Date.now() - t0 >= 190);
    const slow = await start({ latencyMs: 150 });
    try {
      t0 = Date.now();
      await call(slow, 'GET', '/x');
      assert.ok(Date.now() - t0 >= 140);
    } finally {
      await slow.close();
    }
  });

  /** GET with the response handed over as soon as its headers arrive (the helpers' call() waits for the end). */
  function open(path: string): Promise<IncomingMessage> {
    return new Promise((resolve, reject) => {
      const req = request(
        `${em.url}${path}`,
        { headers: { Authorization: `Bearer ${bearer}` }, ca: em.caPem, agent: false },
        resolve,
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('redirect answers 307 with the Location; endlessPages answers empty pages with a fresh continuation token', async () => {
    em.faults.add({ path: PATH, times: 1, action: { kind: 'redirect', location: 'https://elsewhere.example/x' } });
    const moved = await call(em, 'GET', PATH + Q, { bearer });
    assert.equal(moved.status, 307);
    assert.equal(moved.headers.location, 'https://elsewhere.example/x');
    em.faults.add({ path: PATH, action: { kind: 'endlessPages' } });
    const tokens = new Set<string>();
    for (let i = 0; i < 3; i++) {
      const page = await call(em, 'GET', `${PATH + Q}&continuationToken=${[...tokens].at(-1) ?? ''}`, { bearer });
      assert.equal(page.status, 200);
      assert.deepEqual(page.json.patTokens, []);
      tokens.add(page.json.continuationToken);
    }
    assert.equal(tokens.size, 3);
  });

  it('drip sends headers, then a byte at a time, never finishing (until close)', async () => {
    em.faults.add({ path: PATH, action: { kind: 'drip', everyMs: 50 } });
    const res = await open(PATH + Q);
    assert.equal(res.statusCode, 200);
    let bytes = 0;
    res.on('data', (c: Buffer) => (bytes += c.length));
    await new Promise((r) => setTimeout(r, 400));
    assert.ok(bytes >= 3 && bytes <= 12, `${bytes} bytes in 400 ms`);
    assert.equal(res.complete, false);
    res.destroy();
  });

  it('oversized sends a gzip bomb (16 MiB zero members) or a large plain JSON body, as a stream', async () => {
    em.faults.add({ path: PATH, times: 1, action: { kind: 'oversized', gzip: true } });
    const bomb = await open(PATH + Q);
    assert.equal(bomb.headers['content-encoding'], 'gzip');
    let inflated = 0;
    let wire = 0;
    bomb.on('data', (c: Buffer) => (wire += c.length));
    await new Promise<void>((resolve) => {
      const gunzip = bomb.pipe(createGunzip());
      gunzip.on('data', (c: Buffer) => {
        inflated += c.length;
        if (inflated > 40 * 1024 * 1024) {
          bomb.destroy();
          gunzip.destroy();
          resolve();
        }
      });
    });
    assert.ok(wire < 600 * 1024, `${wire} bytes on the wire for ${inflated} inflated`);
    em.faults.add({ path: PATH, times: 1, action: { kind: 'oversized', bytes: 1024 * 1024 } });
    const plain = await call(em, 'GET', PATH + Q, { bearer });
    assert.equal(plain.status, 200);
    assert.ok(plain.text.length > 1024 * 1024);
    assert.deepEqual(plain.json.patTokens, []);
  });
});
