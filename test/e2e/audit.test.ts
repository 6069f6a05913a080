// operation: audit against an organization of 250 users across Graph pages, each with a mix of PATs: the CSV and JSON
// rows match the emulator's state exactly, a 429 mid-way is waited out, a non-administrator is refused before any
// per-user call, and no token value appears anywhere (the world's leak scan, and the files).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { descriptorOf, type PatRecord, type User } from '../emulator';
import type { TaskHandle } from '../helpers/runTask';
import { assertResult, DAY, worldPerTest, type World } from './world';

type Kind = 'ok' | 'expiring' | 'expired' | 'renewed' | 'oldExpired' | 'global' | 'full' | 'long' | 'revoked';
const KINDS: Kind[] = ['ok', 'expiring', 'expired', 'renewed', 'oldExpired', 'global', 'full', 'long', 'revoked'];

interface Seeded {
  users: User[];
  /** authorizationId → the finding ids the seed gave it. */
  expected: Map<string, string>;
}

/** 250 Graph users (aad and msa, some deleted in their directory) plus service identities Graph must not list. */
function seedOrg(w: World, count = 250): Seeded {
  const s = w.emu.state;
  s.collectionAdmins.add(w.user.oid);
  s.addOrg('fabrikam');
  const expected = new Map<string, string>();
  const users: User[] = [w.user];
  // Whole seconds: the wire's .NET dates keep 1/300 s, so a record's milliseconds would not survive exactly.
  const now = Math.floor(Date.now() / 1000) * 1000;
  const add = (u: User, name: string, kind: Kind, orphan: boolean): PatRecord => {
    const days = {
      ok: 60,
      expiring: 5,
      expired: -3,
      renewed: -2,
      oldExpired: -60,
      global: 60,
      full: 60,
      long: 200,
      revoked: 60,
    };
    const pat = s.addPat(u.oid, 'contoso', {
      displayName: name,
      scope: kind === 'full' ? 'app_token' : 'vso.code vso.build',
      validFrom: new Date(now - 10 * DAY),
      validTo: new Date(now + days[kind] * DAY),
      allOrgs: kind === 'global',
      revoked: kind === 'revoked',
    }).pat;
    const live = !['expired', 'renewed', 'oldExpired', 'revoked'].includes(kind);
    const ids = [
      kind === 'expiring' ? 'AUD-EXPIRING' : '',
      kind === 'expired' ? 'AUD-EXPIRED' : '',
      kind === 'global' ? 'AUD-GLOBAL' : '',
      kind === 'full' ? 'AUD-FULLSCOPE' : '',
      kind === 'long' ? 'AUD-LONGLIVED' : '',
      live && orphan ? 'AUD-ORPHAN' : '',
    ].filter(Boolean);
    expected.set(pat.authorizationId, ids.join(' '));
    return pat;
  };
  for (let i = 1; i < count; i++) {
    const orphan = i % 37 === 0;
    const u = s.addUser({
      upn: i % 10 === 0 ? `guest${i}@outlook.example` : `user${i}@contoso.example`,
      origin: i % 10 === 0 ? 'msa' : 'aad',
      deletedInOrigin: orphan,
    });
    users.push(u);
    // 0 to 4 PATs, of kinds that cycle through the users.
    for (let k = 0; k < i % 5; k++) {
      const kind = KINDS[(i + k) % KINDS.length];
      if (kind === 'renewed') add(u, `pat-${k}-renewed`, 'ok', orphan);
      add(u, kind === 'renewed' ? `pat-${k}-renewed` : `pat-${k}`, kind, orphan);
    }
    // Valid only in another organization: not part of this audit.
    if (i % 7 === 0)
      s.addPat(u.oid, 'fabrikam', { displayName: 'elsewhere', scope: 'vso.code', validTo: new Date(now + 5 * DAY) });
  }
  // A hostile name: a spreadsheet formula and a logging command.
  const hostile = s.addUser({ upn: 'mallory@contoso.example', displayName: '##vso[task.complete result=Succeeded]x' });
  users.push(hostile);
  add(hostile, '=HYPERLINK("https://evil.example","click") ##vso[task.setvariable variable=x]y', 'expiring', false);
  for (let i = 0; i < 5; i++) s.addUser({ upn: `svc-${i}`, origin: 'vsts' });
  s.graphPageSize = 100;
  return { users, expected };
}

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  for (const line of text
    .replace(/^\uFEFF/, '')
    .split('\r\n')
    .filter(Boolean)) {
    const cells = [...line.matchAll(/(?:^|,)(?:"((?:[^"]|"")*)"|([^,]*))/g)].map((m) =>
      m[1] !== undefined ? m[1].replace(/""/g, '"') : m[2],
    );
    rows.push(cells);
  }
  return rows;
}

describe('e2e: audit', function () {
  this.timeout(60_000);
  let w!: World;
  let dir!: string;
  worldPerTest((x) => (w = x));
  beforeEach(() => (dir = mkdtempSync(path.join(tmpdir(), 'patrotate-audit-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('lists every PAT of 250 users across pages, waits out a 429, and writes rows that match the emulator', async () => {
    const { users, expected } = seedOrg(w);
    const throttle = w.emu.faults.add({
      method: 'GET',
      path: '/contoso/_apis/tokenadmin/personalaccesstokens/*',
      nth: 120,
      action: { kind: 'status', status: 429, retryAfterSeconds: 1 },
    });
    const graphThrottle = w.emu.faults.add({
      method: 'GET',
      path: '/contoso/_apis/graph/users',
      nth: 2,
      action: { kind: 'status', status: 429, retryAfterSeconds: 1 },
    });
    const before = w.emu.state.snapshot();
    const run = await w.run({ ...w.signIn(), operation: 'audit', reportDirectory: dir, concurrency: '8' });
    assertResult(run, 'Succeeded');
    assert.equal(w.emu.state.snapshot(), before, 'read-only');
    assert.equal(w.emu.faults.firedCount(throttle), 1);
    assert.equal(w.emu.faults.firedCount(graphThrottle), 1);
    assert.match(run.stdout, /Retrying GET .*tokenadmin.* after HTTP 429 in 1 s/);

    // Graph: three pages, each after the first asked with the header's continuation token; service identities left out.
    const graph = w.emu.log.filter((e) => e.path === '/contoso/_apis/graph/users');
    assert.deepEqual(
      graph.map((e) => [e.status, e.query.continuationToken !== undefined]),
      [
        [200, false],
        [429, true],
        [200, true],
        [200, true],
      ],
    );
    const admin = w.emu.log.filter((e) => e.path.startsWith('/contoso/_apis/tokenadmin/'));
    assert.equal(admin.length, users.length + 1, 'one call per user, plus the throttled one');

    // Every PAT of this organization, once, with exactly the emulator's fields.
    const state = w.emu.state;
    const org = state.org('contoso')!;
    const owners = new Map(users.map((u) => [u.oid, u]));
    const want = state
      .pats()
      .filter((p) => owners.has(p.ownerOid) && (p.targetAccounts === null || p.targetAccounts.includes(org.id)))
      .map((p) => {
        const u = owners.get(p.ownerOid)!;
        return {
          ownerPrincipalName: u.upn,
          ownerDisplayName: u.displayName,
          ownerDescriptor: descriptorOf(u),
          ownerOrigin: u.origin ?? 'aad',
          authorizationId: p.authorizationId,
          displayName: p.displayName,
          scope: p.scope,
          global: p.targetAccounts === null,
          validFrom: p.validFrom.toISOString(),
          validTo: p.validTo.toISOString(),
          daysLeft: Math.floor((p.validTo.getTime() - Date.now()) / DAY),
          status: p.revoked ? 'revoked' : p.validTo.getTime() <= Date.now() ? 'expired' : 'active',
          findings: expected.get(p.authorizationId)!,
        };
      })
      .sort((a, b) => a.authorizationId.localeCompare(b.authorizationId));
    assert.ok(want.length > 400, `${want.length} PATs`);
    const json = (JSON.parse(readFileSync(path.join(dir, 'pat-inventory.json'), 'utf8')) as typeof want).sort((a, b) =>
      a.authorizationId.localeCompare(b.authorizationId),
    );
    // daysLeft is computed at run time: allow a day boundary crossed between the run and this check.
    for (const [i, row] of json.entries()) assert.ok(Math.abs(row.daysLeft - want[i].daysLeft) <= 1);
    assert.deepEqual(
      json.map((r) => ({ ...r, daysLeft: 0 })),
      want.map((r) => ({ ...r, daysLeft: 0 })),
    );

    const csvText = readFileSync(path.join(dir, 'pat-inventory.csv'), 'utf8');
    const [header, ...rows] = parseCsv(csvText);
    assert.deepEqual(header, Object.keys(want[0]));
    const byId = new Map(rows.map((r) => [r[4], r]));
    assert.equal(rows.length, want.length);
    for (const [i, r] of json.entries()) {
      const cells = byId.get(r.authorizationId)!;
      const values = Object.values(r).map(String);
      values[11 - 1] = cells[10]; // daysLeft, checked above
      assert.deepEqual(
        cells.map((c) => c.replace(/^'(?=[=+\-@])/, '')),
        values,
        `CSV row of ${r.authorizationId} (${i})`,
      );
    }
    // Formula injection: the hostile name stays text.
    assert.match(csvText, /"'=HYPERLINK\(""https:\/\/evil\.example"",""click""\) ##vso\[/);
    // No token value in either file (the API never returns one; the emulator's records hold them).
    const jsonText = readFileSync(path.join(dir, 'pat-inventory.json'), 'utf8');
    for (const p of state.pats()) {
      assert.ok(!csvText.includes(p.token) && !jsonText.includes(p.token), 'a token value in a report file');
    }

    // Outputs, files attached, summary, and one warning per owner with expiring PATs.
    const flagged = want.filter((r) => r.findings !== '');
    assert.equal(run.variables.get('count (output)')?.value, String(want.length));
    assert.equal(run.variables.get('findings (output)')?.value, String(flagged.length));
    assert.deepEqual(
      [...run.stdout.matchAll(/^##vso\[task\.uploadfile\](.*)$/gm)].map((m) => path.basename(m[1])),
      ['pat-inventory.csv', 'pat-inventory.json'],
    );
    const expiringOwners = new Set(
      want.filter((r) => r.findings.includes('AUD-EXPIRING')).map((r) => r.ownerPrincipalName),
    );
    const ownerWarnings = run.warnings.filter((m) => /PAT\(s\) expiring within 14 days/.test(m));
    assert.equal(ownerWarnings.length, expiringOwners.size);
    const summary = run.summaryTexts.join('\n');
    assert.match(summary, new RegExp(`${users.length} user\\(s\\)`));
    for (const r of flagged.slice(0, 20)) assert.ok(summary.includes(r.authorizationId), r.authorizationId);
    assert.ok(!/##vso\[/.test(summary) && !/^##vso\[task\.complete result=Succeeded\]x/m.test(run.stdout));
    assert.equal(run.commands.filter((c) => c.name === 'task.setvariable' && c.props.variable === 'x').length, 0);
  });

  it('refuses a non-administrator with one clear error before any per-user call', async () => {
    seedOrg(w, 20);
    w.emu.state.collectionAdmins.clear();
    const run = await w.run({ ...w.signIn(), operation: 'audit', reportDirectory: dir });
    assertResult(run, 'Failed');
    assert.match(run.message, /audit needs a Project Collection Administrator of contoso: alice@contoso\.example/);
    assert.equal(run.errors.length, 1, run.errors.join('\n'));
    assert.equal(w.emu.log.filter((e) => e.path.includes('/tokenadmin/')).length, 0);
    assert.equal(w.emu.log.filter((e) => e.path.endsWith('/graph/users')).length, 1);
  });

  it('refuses once when Token Admin denies the first user (Graph allowed), reading no other user', async () => {
    seedOrg(w, 30);
    w.emu.faults.add({
      method: 'GET',
      path: '/contoso/_apis/tokenadmin/personalaccesstokens/*',
      action: {
        kind: 'status',
        status: 403,
        body: { message: 'Access Denied: needs Read on Identity', typeKey: 'AccessCheckException' },
      },
    });
    const run = await w.run({ ...w.signIn(), operation: 'audit', reportDirectory: dir });
    assertResult(run, 'Failed');
    assert.match(run.message, /audit needs a Project Collection Administrator/);
    assert.equal(w.emu.log.filter((e) => e.path.includes('/tokenadmin/')).length, 1);
  });

  it('runs through the built bundle as the agent runs it, attaching both files', async () => {
    seedOrg(w, 5);
    const run = await w.spawn({ ...w.signIn(), operation: 'audit', reportDirectory: dir });
    assertResult(run, 'Succeeded');
    assert.deepEqual(
      run.commands.filter((c) => c.name === 'task.uploadfile').map((c) => path.basename(c.message)),
      ['pat-inventory.csv', 'pat-inventory.json'],
    );
    assert.equal(run.summaries.length, 1);
  });

  it('stops on a cancel: no further user begins, the run fails naming the signal', async () => {
    seedOrg(w, 60);
    let task: TaskHandle | undefined;
    w.emu.faults.add({
      method: 'GET',
      path: '/contoso/_apis/tokenadmin/personalaccesstokens/*',
      nth: 10,
      action: { kind: 'hold', answerOnly: true, onHeld: () => task?.signal('SIGTERM') },
    });
    const run = await w.run(
      { ...w.signIn(), operation: 'audit', reportDirectory: dir, concurrency: '2' },
      {},
      { onStart: (t) => (task = t) },
    );
    assertResult(run, 'Failed');
    assert.match(run.message, /stopped \(SIGTERM\)/);
    const calls = w.emu.log.filter((e) => e.path.includes('/tokenadmin/')).length;
    assert.ok(calls < 15, `${calls} Token Admin calls`);
  });

  it('failOnFindings expiring fails the run when a PAT expires soon; none leaves it green', async () => {
    seedOrg(w, 12);
    const failed = await w.run({ ...w.signIn(), operation: 'audit', reportDirectory: dir, failOnFindings: 'expiring' });
    assertResult(failed, 'Failed');
    assert.match(failed.message, /AUD-EXPIRING \d+.*failOnFindings is expiring/);
    const green = await w.run({ ...w.signIn(), operation: 'audit', reportDirectory: dir });
    assertResult(green, 'Succeeded');
  });
});
