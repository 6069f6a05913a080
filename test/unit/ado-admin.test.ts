import assert from 'node:assert/strict';
import { GraphClient, MAX_USER_PAGES } from '../../tasks/PatRotate/src/ado/graph';
import { AdoHttp } from '../../tasks/PatRotate/src/ado/http';
import { MAX_ADMIN_PAGES, TokenAdminClient } from '../../tasks/PatRotate/src/ado/tokenAdmin';
import { directNetwork } from '../../tasks/PatRotate/src/net/network';
import { recordingSleep, startFakeServer, type FakeServer } from '../helpers/fakeServer';
import { rejection } from '../helpers/rejection';

const credential = { kind: 'bearer', token: 'entra-token' } as const;
const user = (i: number) => ({
  descriptor: `aad.dXNlcj${i}`,
  principalName: `u${i}@x`,
  displayName: `U ${i}`,
  origin: 'aad',
});
const token = (i: number) => ({
  authorizationId: `00000000-0000-0000-0000-${String(i).padStart(12, 'A')}`,
  displayName: `t${i}`,
  scope: 'app_token',
  targetAccounts: null,
  validFrom: '2018-07-19T00:00:00',
  validTo: '2018-08-19T00:00:00.1233333',
  token: null,
  isValid: true,
  userId: 'bb5bb6c8-ef0a-400f-8987-92b3674d2043',
});

async function all<T>(it: AsyncIterable<T[]>): Promise<T[][]> {
  const pages: T[][] = [];
  for await (const p of it) pages.push(p);
  return pages;
}

describe('ado/graph and ado/tokenAdmin paging', () => {
  let server: FakeServer;
  let http: AdoHttp;
  let sleeps: number[];

  beforeEach(async () => {
    server = await startFakeServer();
    const rec = recordingSleep();
    sleeps = rec.waits;
    http = new AdoHttp(directNetwork, { retry: { sleep: rec.sleep } });
  });
  afterEach(async () => {
    http.dispose();
    await server.close();
  });

  it('Graph users: pages by the X-MS-ContinuationToken header, passed back as continuationToken', async () => {
    server.enqueue(
      { status: 200, body: { count: 2, value: [user(1), user(2)] }, headers: { 'X-MS-ContinuationToken': 'p 2' } },
      { status: 429, headers: { 'Retry-After': '2' }, body: { message: 'slow down' } },
      { status: 200, body: { count: 1, value: [{ ...user(3), isDeletedInOrigin: true }] } },
    );
    const pages = await all(new GraphClient(http, `${server.url}/contoso/`, credential).pages());
    assert.deepEqual(
      pages.map((p) => p.map((u) => u.principalName)),
      [['u1@x', 'u2@x'], ['u3@x']],
    );
    assert.equal(pages[1][0].deletedInOrigin, true);
    assert.deepEqual(sleeps, [2000]);
    assert.match(
      server.log[0].url,
      /^\/contoso\/_apis\/graph\/users\?subjectTypes=aad,msa&api-version=7\.1-preview\.1$/,
    );
    assert.match(server.log[2].url, /&continuationToken=p%202$/);
  });

  it('Graph users: a repeated continuation token and a missing list are protocol errors', async () => {
    server.handle(() => ({ status: 200, body: { value: [user(1)] }, headers: { 'X-MS-ContinuationToken': 'same' } }));
    const e = await rejection(all(new GraphClient(http, server.url, credential).pages()));
    assert.match(String(e), /same continuation token twice/);
    assert.equal(server.log.length, 2);
    assert.ok(MAX_USER_PAGES >= 100);
  });

  it('Token Admin: pages by continuationToken in the body, with pageSize 100 and isPublic=false', async () => {
    server.enqueue(
      { status: 200, body: { value: [token(1), token(2)], continuationToken: 'next' } },
      { status: 200, body: { value: [token(3)], continuationToken: null } },
    );
    const admin = new TokenAdminClient(http, server.url, credential);
    const pages = await all(admin.pats('aad.dXNlcjE'));
    assert.deepEqual(
      pages.map((p) => p.map((t) => t.displayName)),
      [['t1', 't2'], ['t3']],
    );
    assert.equal(pages[0][0].targetAccounts, null);
    assert.equal(pages[0][0].authorizationId, '00000000-0000-0000-0000-aaaaaaaaaaa1');
    assert.match(
      server.log[0].url,
      /^\/_apis\/tokenadmin\/personalaccesstokens\/aad\.dXNlcjE\?pageSize=100&isPublic=false&api-version=7\.1-preview\.1$/,
    );
    assert.match(server.log[1].url, /&continuationToken=next$/);
  });

  it('Token Admin: endless tokens stop at the page cap; 403 is forbidden', async () => {
    let n = 0;
    server.handle(() => ({ status: 200, body: { value: [], continuationToken: `t${++n}` } }));
    const admin = new TokenAdminClient(http, server.url, credential);
    const e = await rejection(all(admin.pats('aad.x')));
    assert.match(String(e), new RegExp(`after ${MAX_ADMIN_PAGES} pages`));
    assert.equal(server.log.length, MAX_ADMIN_PAGES);
    server.handle(() => ({ status: 403, body: { message: 'Access Denied', typeKey: 'AccessCheckException' } }));
    const denied = await rejection(all(admin.pats('aad.x')));
    assert.equal(denied.kind, 'forbidden');
  });
});
