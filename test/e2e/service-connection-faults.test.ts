// target serviceConnection, the store step under faults (the other e2e tests: service-connection.test.ts).
import assert from 'node:assert/strict';
import type { FaultRule, ServiceEndpointRecord } from '../emulator';
import { assertResult, world, type World } from './world';

// The store step of a rotation into a service connection, with one fault at a time: the connection must always hold a
// live PAT (the invariant), and the outcome is the one the store policy gives (see rotation/stores.ts): a write that
// surely did not land is rolled back, a lost answer is written again, and a write that may have landed leaves both
// PATs live and names the new one.
describe('e2e: service connection store faults', function () {
  this.timeout(60_000);

  type Outcome = 'stored' | 'storedWithIssues' | 'rolledBack' | 'keptBoth';
  const byIdPath = (e: ServiceEndpointRecord) => `/contoso/Platform/_apis/serviceendpoint/endpoints/${e.id}`;
  const putPath = (e: ServiceEndpointRecord) => `/contoso/_apis/serviceendpoint/endpoints/${e.id}`;
  // GETs by id, in order: the Administrator check (actionFilter=manage), the preflight read, the store's read, the check.
  const cells: {
    label: string;
    rule: (e: ServiceEndpointRecord) => FaultRule;
    outcome: Outcome;
    holds: 'new' | 'old';
    /** PUTs the run sent, where the policy fixes it. */
    puts?: number;
  }[] = [
    {
      label: 'write: 500 once',
      rule: (e) => ({ method: 'PUT', path: putPath(e), nth: 1, action: { kind: 'status', status: 500 } }),
      outcome: 'stored',
      holds: 'new',
      puts: 2,
    },
    {
      label: 'write: 500 always',
      rule: (e) => ({ method: 'PUT', path: putPath(e), action: { kind: 'status', status: 500 } }),
      outcome: 'keptBoth',
      holds: 'old',
      puts: 3,
    },
    {
      label: 'write: 403',
      rule: (e) => ({ method: 'PUT', path: putPath(e), nth: 1, action: { kind: 'status', status: 403 } }),
      outcome: 'rolledBack',
      holds: 'old',
      puts: 1,
    },
    {
      label: 'write: 429 then ok',
      rule: (e) => ({
        method: 'PUT',
        path: putPath(e),
        nth: 1,
        action: { kind: 'status', status: 429, retryAfterSeconds: 1 },
      }),
      outcome: 'stored',
      holds: 'new',
      puts: 2,
    },
    {
      label: 'write: reset',
      rule: (e) => ({ method: 'PUT', path: putPath(e), nth: 1, action: { kind: 'reset' } }),
      // Written again and stored; the first write got no answer and may still land: said as a warning.
      outcome: 'storedWithIssues',
      holds: 'new',
      puts: 2,
    },
    {
      label: 'write: applied, answer reset',
      rule: (e) => ({ method: 'PUT', path: putPath(e), nth: 1, action: { kind: 'afterApply', then: 'reset' } }),
      outcome: 'storedWithIssues',
      holds: 'new',
      puts: 2,
    },
    {
      label: 'write: applied, answer 500',
      rule: (e) => ({ method: 'PUT', path: putPath(e), nth: 1, action: { kind: 'afterApply', then: { status: 500 } } }),
      outcome: 'stored',
      holds: 'new',
      puts: 2,
    },
    {
      label: 'read before write: 404',
      rule: (e) => ({ method: 'GET', path: byIdPath(e), nth: 3, action: { kind: 'status', status: 404 } }),
      outcome: 'rolledBack',
      holds: 'old',
      puts: 0,
    },
    {
      label: 'read before write: answers another connection',
      rule: (e) => ({
        method: 'GET',
        path: byIdPath(e),
        nth: 3,
        action: { kind: 'tamper', change: (b) => ({ ...(b as object), id: '00000000-0000-0000-0000-000000000001' }) },
      }),
      outcome: 'rolledBack',
      holds: 'old',
      puts: 0,
    },
    {
      label: 'check: another writer changed the url',
      rule: (e) => ({
        method: 'GET',
        path: byIdPath(e),
        nth: 4,
        action: { kind: 'tamper', change: (b) => ({ ...(b as object), url: 'https://elsewhere.example' }) },
      }),
      outcome: 'stored',
      holds: 'new',
      puts: 2,
    },
    {
      label: 'check: not ready after the write',
      rule: (e) => ({
        method: 'GET',
        path: byIdPath(e),
        nth: 4,
        times: 10,
        action: { kind: 'tamper', change: (b) => ({ ...(b as object), isReady: false }) },
      }),
      outcome: 'keptBoth',
      holds: 'new',
    },
  ];

  /** One cell in its own emulator; the cells run at once (most of their time is the store's wait between writes). */
  async function runCell(c: (typeof cells)[number]): Promise<void> {
    const w: World = await world();
    try {
      const old = w.addPat('fabrikam-pat', 2);
      const e = w.emu.state.addEndpoint('contoso', 'Platform', {
        name: 'fabrikam-repos',
        type: 'externaltfs',
        url: 'https://dev.azure.com/fabrikam',
        scheme: 'Token',
        parameters: { apitoken: old.token },
        roles: { [w.user.oid]: 'Administrator' },
      });
      w.emu.faults.add(c.rule(e));
      const run = await w.run({
        ...w.signIn(),
        displayName: 'fabrikam-pat',
        target: 'serviceConnection',
        serviceConnection: 'fabrikam-repos',
      });
      const made = w.emu.state.pats(w.user.oid).filter((p) => p.authorizationId !== old.authorizationId);
      assert.equal(made.length, 1, 'one new PAT was created');
      const fresh = made[0];
      // The invariant: whatever the connection holds is a live PAT.
      const held = w.emu.state.patByToken(e.parameters.apitoken ?? '');
      assert.ok(held && !held.revoked, `the connection holds a live PAT (${c.label})`);
      assert.equal(held.authorizationId, (c.holds === 'new' ? fresh : old).authorizationId);
      if (c.puts !== undefined) assert.equal(w.emu.log.filter((l) => l.method === 'PUT').length, c.puts);
      if (c.outcome === 'stored' || c.outcome === 'storedWithIssues') {
        assertResult(run, c.outcome === 'stored' ? 'Succeeded' : 'SucceededWithIssues');
        assert.equal(old.revoked, true);
      } else {
        assertResult(run, 'Failed');
        assert.equal(old.revoked, false, 'the old PAT stays live');
        assert.equal(fresh.revoked, c.outcome === 'rolledBack');
        if (c.outcome === 'keptBoth') assert.ok((run.message ?? '').includes(fresh.authorizationId), run.message);
      }
    } finally {
      await w.close();
    }
  }

  const running = new Map<string, Promise<void>>();
  before(() => {
    for (const c of cells) {
      const p = runCell(c);
      p.catch(() => undefined); // reported by the cell's it()
      running.set(c.label, p);
    }
  });
  for (const c of cells) it(`${c.label} → ${c.outcome}`, () => running.get(c.label));
});
