// target keyVault, the store step under faults (the other e2e tests: keyvault.test.ts). The vault's secret holds the
// old PAT before each cell; whatever the latest version holds afterwards must be a live PAT (the invariant), and the
// outcome is the store policy's (rotation/storeConfirmed.ts, rotation/keyVaultStore.ts): refused with an answer →
// rolled back; a lost answer → settled by reading the latest version, or written again; unsure → both kept, named.
import assert from 'node:assert/strict';
import type { FaultRule } from '../emulator';
import { assertResult } from './world';
import { VAULT, vaultWorld } from './vaultWorld';

describe('e2e: Key Vault store faults', function () {
  this.timeout(60_000);

  type Outcome = 'stored' | 'rolledBack' | 'keptBoth';
  const PUT = '/secrets/deploy';
  /** The SDK reads the latest version as /secrets/{name}/ (an empty version). */
  const LATEST = '/secrets/deploy/';
  // GETs of the secret, in order: the challenge (no token: 401), the preflight read, then the check after each write
  // (a settle reads it too).
  const cells: { label: string; rule: FaultRule; outcome: Outcome; holds: 'new' | 'old'; puts: number }[] = [
    {
      label: 'write: 500 once',
      rule: { method: 'PUT', path: PUT, nth: 1, action: { kind: 'status', status: 500 } },
      outcome: 'stored',
      holds: 'new',
      puts: 2,
    },
    {
      label: 'write: 500 always',
      rule: { method: 'PUT', path: PUT, action: { kind: 'status', status: 500 } },
      outcome: 'rolledBack',
      holds: 'old',
      puts: 3,
    },
    {
      label: 'write: 403',
      rule: { method: 'PUT', path: PUT, nth: 1, action: { kind: 'status', status: 403 } },
      outcome: 'rolledBack',
      holds: 'old',
      puts: 1,
    },
    {
      label: 'write: 409',
      rule: { method: 'PUT', path: PUT, nth: 1, action: { kind: 'status', status: 409 } },
      outcome: 'rolledBack',
      holds: 'old',
      puts: 1,
    },
    {
      label: 'write: 429 then ok',
      rule: { method: 'PUT', path: PUT, nth: 1, action: { kind: 'status', status: 429, retryAfterSeconds: 1 } },
      outcome: 'stored',
      holds: 'new',
      puts: 2,
    },
    {
      label: 'write: reset',
      rule: { method: 'PUT', path: PUT, nth: 1, action: { kind: 'reset' } },
      outcome: 'stored',
      holds: 'new',
      puts: 2,
    },
    {
      label: 'write: reset always',
      rule: { method: 'PUT', path: PUT, action: { kind: 'reset' } },
      outcome: 'keptBoth',
      holds: 'old',
      puts: 3,
    },
    {
      label: 'write: hang',
      rule: { method: 'PUT', path: PUT, nth: 1, action: { kind: 'hang' } },
      outcome: 'stored',
      holds: 'new',
      puts: 2,
    },
    {
      label: 'write: applied, answer reset',
      rule: { method: 'PUT', path: PUT, nth: 1, action: { kind: 'afterApply', then: 'reset' } },
      outcome: 'stored',
      holds: 'new',
      puts: 1,
    },
    {
      label: 'write: applied, answer 500',
      rule: { method: 'PUT', path: PUT, nth: 1, action: { kind: 'afterApply', then: { status: 500 } } },
      outcome: 'stored',
      holds: 'new',
      puts: 1,
    },
    {
      label: 'write: applied, answer 403',
      rule: { method: 'PUT', path: PUT, nth: 1, action: { kind: 'afterApply', then: { status: 403 } } },
      outcome: 'stored',
      holds: 'new',
      puts: 1,
    },
    {
      label: 'write: applied, answer 408 (a gateway timing out after forwarding)',
      rule: { method: 'PUT', path: PUT, nth: 1, action: { kind: 'afterApply', then: { status: 408 } } },
      outcome: 'stored',
      holds: 'new',
      puts: 1,
    },
    {
      label: 'write: 503 once',
      rule: { method: 'PUT', path: PUT, nth: 1, action: { kind: 'status', status: 503, retryAfterSeconds: 0 } },
      outcome: 'stored',
      holds: 'new',
      puts: 2,
    },
    {
      label: 'write: 429 always',
      rule: { method: 'PUT', path: PUT, action: { kind: 'status', status: 429, retryAfterSeconds: 0 } },
      outcome: 'rolledBack',
      holds: 'old',
      puts: 3,
    },
    {
      label: 'write: malformed JSON (not applied)',
      rule: { method: 'PUT', path: PUT, nth: 1, action: { kind: 'malformedJson' } },
      outcome: 'rolledBack',
      holds: 'old',
      puts: 1,
    },
    {
      label: 'write: applied, answer 2xx without a bundle',
      rule: { method: 'PUT', path: PUT, nth: 1, action: { kind: 'afterApply', then: { status: 200 } } },
      outcome: 'stored',
      holds: 'new',
      puts: 1,
    },
    {
      label: 'write: drip (the total deadline ends it)',
      rule: { method: 'PUT', path: PUT, nth: 1, action: { kind: 'drip', everyMs: 250 } },
      outcome: 'stored',
      holds: 'new',
      puts: 2,
    },
    {
      label: 'write: gzip bomb (the body cap ends it)',
      rule: { method: 'PUT', path: PUT, nth: 1, action: { kind: 'oversized', gzip: true } },
      outcome: 'stored',
      holds: 'new',
      puts: 2,
    },
    {
      label: 'write: html',
      rule: { method: 'PUT', path: PUT, nth: 1, action: { kind: 'html' } },
      outcome: 'rolledBack',
      holds: 'old',
      puts: 1,
    },
    {
      label: 'check: 503 on every read',
      rule: { method: 'GET', path: LATEST, nth: 3, times: 3, action: { kind: 'status', status: 503 } },
      outcome: 'keptBoth',
      holds: 'new',
      puts: 1,
    },
    {
      label: 'check: another writer on top',
      rule: {
        method: 'GET',
        path: LATEST,
        nth: 3,
        action: { kind: 'tamper', change: (b) => ({ ...(b as object), value: 'someone-else' }) },
      },
      outcome: 'stored',
      holds: 'new',
      puts: 2,
    },
  ];

  async function runCell(c: (typeof cells)[number]): Promise<void> {
    const v = await vaultWorld('secret');
    try {
      const old = v.addPat('deploy', 1);
      v.emu.state.setVaultSecret(VAULT, 'deploy', old.token);
      v.emu.faults.add(c.rule);
      const run = await v.run(v.intoVault(), { ...v.env, PATROTATE_REQUESTTIMEOUTSECONDS: '5' });
      const made = v.emu.state.pats(v.user.oid).filter((p) => p.authorizationId !== old.authorizationId);
      assert.equal(made.length, 1, `one new PAT (${c.label}): ${run.message}`);
      const latest = v
        .versions('deploy')
        .filter((x) => x.enabled)
        .at(-1)!;
      const held = v.emu.state.patByToken(latest.value);
      assert.ok(held && !held.revoked, `the vault's latest version is a live PAT (${c.label})`);
      assert.equal(held.authorizationId, c.holds === 'new' ? made[0].authorizationId : old.authorizationId, c.label);
      const puts = v.emu.log.filter((e) => e.vault && e.method === 'PUT' && e.path === PUT).length;
      assert.equal(puts, c.puts, `PUTs (${c.label})`);
      const oldNow = v.emu.state.pats(v.user.oid).find((p) => p.authorizationId === old.authorizationId)!;
      if (c.outcome === 'stored') {
        assertResult(run, 'Succeeded');
        assert.ok(oldNow.revoked, `old retired (${c.label})`);
      } else if (c.outcome === 'rolledBack') {
        assertResult(run, 'Failed');
        assert.ok(made[0].revoked && !oldNow.revoked, `rolled back (${c.label})`);
      } else {
        assertResult(run, 'Failed');
        assert.ok(!made[0].revoked && !oldNow.revoked, `both kept (${c.label})`);
        assert.match(run.stdout, new RegExp(`both were left live \\(old: ${old.authorizationId}\\)`), c.label);
      }
    } finally {
      await v.close();
    }
  }

  it(`keeps the invariant in each of ${cells.length} cells`, async () => {
    const failures: string[] = [];
    await Promise.all(
      cells.map((c) =>
        runCell(c).catch((e: unknown) => failures.push(`${c.label}: ${e instanceof Error ? e.message : String(e)}`)),
      ),
    );
    assert.deepEqual(failures, []);
  });
});
