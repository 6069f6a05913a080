import assert from 'node:assert/strict';
import { ConfigError } from '../../tasks/PatRotate/src/config';
import { plan, wantsExpired, type ListedPat, type PlanInput } from '../../tasks/PatRotate/src/rotation/plan';

const NOW = new Date('2026-11-23T12:00:00Z');
const DAY = 86_400_000;
let seq = 0;

function pat(displayName: string, daysLeft: number, extra: Partial<ListedPat> = {}): ListedPat {
  seq++;
  return {
    authorizationId: `00000000-0000-4000-8000-${String(seq).padStart(12, '0')}`,
    displayName,
    scope: 'vso.code vso.build',
    targetAccounts: ['11111111-1111-1111-1111-111111111111'],
    validFrom: new Date(NOW.getTime() - 20 * DAY),
    validTo: new Date(NOW.getTime() + daysLeft * DAY),
    status: daysLeft <= 0 ? 'expired' : 'active',
    ...extra,
  };
}

function input(over: Partial<PlanInput> = {}): PlanInput {
  return {
    operation: 'rotate',
    selector: { kind: 'name', displayName: 'deploy' },
    scopes: undefined,
    validityDays: 30,
    allOrgs: false,
    rotateWithinDays: 7,
    warnWithinDays: 14,
    createIfMissing: false,
    retireOld: 'revoke',
    target: { kind: 'variable', variableName: 'PatRotate.Token' },
    ...over,
  };
}

function throwsInput(fn: () => unknown, inputName: string, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof ConfigError && e.input === inputName && pattern.test(e.message));
}

describe('plan: rotate', () => {
  it('rotates a PAT due within the threshold, keeping its scopes and org scope', () => {
    const old = pat('deploy', 3);
    const { actions } = plan(input(), [old, pat('other', 3)], NOW);
    assert.equal(actions.length, 1);
    const a = actions[0];
    assert.equal(a.kind, 'rotate');
    if (a.kind !== 'rotate') return;
    assert.equal(a.old, old);
    assert.equal(a.scope, 'vso.code vso.build');
    assert.equal(a.allOrgs, false);
    assert.equal(a.validTo.getTime(), NOW.getTime() + 30 * DAY);
    assert.equal(a.variableName, 'PatRotate.Token');
    assert.equal(a.retire, 'revoke');
  });

  it('treats a PAT expiring exactly at the threshold as due, and one a millisecond later as not', () => {
    const atEdge = pat('deploy', 7);
    assert.equal(plan(input(), [atEdge], NOW).actions[0].kind, 'rotate');
    const later = pat('deploy', 7, { validTo: new Date(NOW.getTime() + 7 * DAY + 1) });
    const { actions } = plan(input(), [later], NOW);
    assert.equal(actions[0].kind, 'skip');
  });

  it('rotateWithinDays 0 always rotates', () => {
    assert.equal(plan(input({ rotateWithinDays: 0 }), [pat('deploy', 300)], NOW).actions[0].kind, 'rotate');
  });

  it('skips a fresh PAT and warns only when it expires within warnWithinDays', () => {
    const r1 = plan(input(), [pat('deploy', 10)], NOW);
    assert.equal(r1.actions[0].kind, 'skip');
    assert.equal(r1.warnings.length, 1);
    assert.match(r1.warnings[0], /deploy.*expires on .* \(in 10 days\)/);
    const r2 = plan(input(), [pat('deploy', 20)], NOW);
    assert.equal(r2.warnings.length, 0);
  });

  it('replaces an already expired PAT when no live one has that name, and does not retire it', () => {
    const older = pat('deploy', -10);
    const newer = pat('deploy', -2);
    const { actions } = plan(input(), [older, newer], NOW);
    assert.equal(actions.length, 1);
    assert.equal(actions[0].kind === 'rotate' && actions[0].old, newer);
  });

  it('prefers the live PAT over expired ones of the same name', () => {
    const live = pat('deploy', 2);
    const { actions } = plan(input(), [pat('deploy', -5), live], NOW);
    assert.equal(actions.length, 1);
    assert.equal(actions[0].kind === 'rotate' && actions[0].old, live);
  });

  it('keeps a global PAT global, and uses the scopes input when given', () => {
    const { actions } = plan(input({ scopes: ['vso.packaging'] }), [pat('deploy', 1, { targetAccounts: null })], NOW);
    const a = actions[0];
    assert.ok(a.kind === 'rotate');
    assert.equal(a.allOrgs, true);
    assert.equal(a.scope, 'vso.packaging');
    const { warnings } = plan(input(), [pat('deploy', 1, { targetAccounts: null })], NOW);
    assert.match(warnings.join('\n'), /'deploy' is global.*2026-12-01/);
  });

  it('refuses an ambiguous name, listing both ids', () => {
    const a = pat('deploy', 3);
    const b = pat('deploy', 40);
    throwsInput(
      () => plan(input(), [a, b], NOW),
      'displayName',
      new RegExp(`${a.authorizationId}.*${b.authorizationId}`),
    );
  });

  it('fails on a missing name unless createIfMissing, which creates it', () => {
    throwsInput(() => plan(input(), [pat('other', 3)], NOW), 'displayName', /no PAT named 'deploy'.*createIfMissing/);
    const { actions } = plan(input({ createIfMissing: true, scopes: ['vso.code'] }), [], NOW);
    assert.deepEqual(
      actions.map((a) => a.kind),
      ['create'],
    );
  });

  it('selects by authorizationId, including an expired PAT', () => {
    const target = pat('x', -1);
    const { actions } = plan(
      input({ selector: { kind: 'id', authorizationId: target.authorizationId } }),
      [pat('x', 3), target],
      NOW,
    );
    assert.equal(actions.length, 1);
    assert.equal(actions[0].kind === 'rotate' && actions[0].old, target);
    throwsInput(
      () =>
        plan(
          input({ selector: { kind: 'id', authorizationId: 'ffffffff-0000-4000-8000-000000000000' } }),
          [target],
          NOW,
        ),
      'authorizationId',
      /no PAT with id/,
    );
  });

  it('bulk rotation by prefix needs {displayName} in variableName, and names each variable', () => {
    const pats = [pat('svc-a', 1), pat('svc-b', 2), pat('svc-c', 30), pat('other', 1), pat('svc-d', -3)];
    const bulk = input({ selector: { kind: 'prefix', prefix: 'svc-' } });
    throwsInput(() => plan(bulk, pats, NOW), 'variableName', /\{displayName\}/);
    const { actions } = plan({ ...bulk, target: { kind: 'variable', variableName: 'PAT.{displayName}' } }, pats, NOW);
    assert.deepEqual(
      actions.map((a) => a.kind),
      ['rotate', 'rotate', 'skip'],
    );
    assert.deepEqual(
      actions.map((a) => (a.kind === 'rotate' ? a.variableName : undefined)),
      ['PAT.svc-a', 'PAT.svc-b', undefined],
    );
  });

  it('after retireOld shorten or keep, rotates the newest PAT of a name and skips the superseded one quietly', () => {
    const older = pat('deploy', 1, { validFrom: new Date(NOW.getTime() - 30 * DAY) });
    const newer = pat('deploy', 2, { validFrom: new Date(NOW.getTime() - 28 * DAY) });
    for (const retireOld of ['shorten', 'keep'] as const) {
      const { actions, warnings } = plan(input({ retireOld }), [older, newer], NOW);
      assert.deepEqual(
        actions.map((a) => a.kind),
        ['skip', 'rotate'],
      );
      assert.equal(actions[1].kind === 'rotate' && actions[1].old, newer);
      assert.match(
        actions[0].kind === 'skip' ? actions[0].reason : '',
        new RegExp(`superseded by .*${newer.authorizationId}`),
      );
      assert.deepEqual(warnings, []);
    }
    throwsInput(
      () => plan(input({ retireOld: 'shorten', operation: 'revoke' }), [older, newer], NOW),
      'displayName',
      /2 PATs are named 'deploy'/,
    );
  });

  it('in bulk, acts on the newest PAT of each name only', () => {
    const a1 = pat('svc-a', 1, { validFrom: new Date(NOW.getTime() - 30 * DAY) });
    const a2 = pat('svc-a', 1, { validFrom: new Date(NOW.getTime() - 2 * DAY) });
    const b = pat('svc-b', 1);
    const { actions } = plan(
      input({
        rotateWithinDays: 0,
        selector: { kind: 'prefix', prefix: 'svc-' },
        target: { kind: 'variable', variableName: 'P.{displayName}' },
      }),
      [a1, a2, b],
      NOW,
    );
    assert.deepEqual(
      actions.map((x) => (x.kind === 'rotate' ? x.old : x.kind === 'skip' ? `skip ${x.pat.authorizationId}` : x.kind)),
      [`skip ${a1.authorizationId}`, a2, b],
    );
  });

  it('refuses a bulk rotation with target none: the new values would be lost', () => {
    throwsInput(
      () =>
        plan(input({ selector: { kind: 'prefix', prefix: 'svc-' }, target: { kind: 'none' } }), [pat('svc-a', 1)], NOW),
      'target',
      /would be lost/,
    );
    assert.equal(plan(input({ target: { kind: 'none' } }), [pat('deploy', 1)], NOW).actions[0].kind, 'rotate');
  });

  it('refuses two PATs whose variable names collide after sanitising or case-folding', () => {
    const bulk = input({
      selector: { kind: 'prefix', prefix: 'svc' },
      target: { kind: 'variable', variableName: 'P.{displayName}' },
    });
    throwsInput(
      () => plan(bulk, [pat('svc a', 1), pat('svc_a', 1)], NOW),
      'variableName',
      /'svc a' and 'svc_a' would both be stored as 'P.svc_a'/,
    );
    throwsInput(
      () => plan(bulk, [pat('svc-B', 1), pat('svc-b', 1)], NOW),
      'variableName',
      /'svc-B' and 'svc-b' would both be stored/,
    );
  });

  it('a prefix matching nothing plans nothing (no error)', () => {
    assert.deepEqual(plan(input({ selector: { kind: 'prefix', prefix: 'zzz' } }), [pat('a', 1)], NOW).actions, []);
  });

  it('sanitises a display name used in a variable name', () => {
    const { actions } = plan(
      input({ target: { kind: 'variable', variableName: 'PAT.{displayName}' } }),
      [pat('deploy', 1, { displayName: 'deploy' })],
      NOW,
    );
    assert.equal(actions[0].kind === 'rotate' && actions[0].variableName, 'PAT.deploy');
    const odd = plan(
      input({
        selector: { kind: 'name', displayName: 'my pat/1' },
        target: { kind: 'variable', variableName: '{displayName}' },
      }),
      [pat('my pat/1', 1)],
      NOW,
    );
    assert.equal(odd.actions[0].kind === 'rotate' && odd.actions[0].variableName, 'my_pat_1');
  });

  it('asks for expired PATs only when a rotate target is not among the active ones', () => {
    assert.equal(wantsExpired(input(), [pat('deploy', 3)]), false);
    assert.equal(wantsExpired(input(), [pat('other', 3)]), true);
    assert.equal(wantsExpired(input({ selector: { kind: 'prefix', prefix: 'x' } }), []), false);
    assert.equal(wantsExpired(input({ operation: 'list', selector: { kind: 'all' } }), []), true);
    assert.equal(wantsExpired(input({ operation: 'renew' }), []), false);
  });
});

describe('plan: create, renew, revoke, list', () => {
  it('create makes a new PAT with the given scopes and validity', () => {
    const { actions } = plan(
      input({ operation: 'create', scopes: ['vso.code', 'vso.build'], allOrgs: false }),
      [pat('deploy', -4)],
      NOW,
    );
    assert.equal(actions.length, 1);
    const a = actions[0];
    assert.ok(a.kind === 'create');
    assert.equal(a.displayName, 'deploy');
    assert.equal(a.scope, 'vso.code vso.build');
    assert.equal(a.variableName, 'PatRotate.Token');
  });

  it('create refuses a name a live PAT already has and suggests rotate', () => {
    throwsInput(
      () => plan(input({ operation: 'create', scopes: ['vso.code'] }), [pat('deploy', 20)], NOW),
      'displayName',
      /already exists.*rotate/,
    );
  });

  it('renew moves validTo of a due PAT, skips fresh ones and never shortens', () => {
    const due = pat('deploy', 2);
    const r = plan(input({ operation: 'renew' }), [due], NOW);
    assert.ok(r.actions[0].kind === 'renew');
    assert.equal(r.actions[0].validTo.getTime(), NOW.getTime() + 30 * DAY);
    assert.equal(plan(input({ operation: 'renew' }), [pat('deploy', 20)], NOW).actions[0].kind, 'skip');
    const longer = plan(input({ operation: 'renew', rotateWithinDays: 0, validityDays: 5 }), [pat('deploy', 10)], NOW);
    assert.equal(longer.actions[0].kind, 'skip');
  });

  it('renew and revoke ignore expired PATs', () => {
    throwsInput(() => plan(input({ operation: 'renew' }), [pat('deploy', -1)], NOW), 'displayName', /no live PAT/);
    throwsInput(() => plan(input({ operation: 'revoke' }), [pat('deploy', -1)], NOW), 'displayName', /no live PAT/);
  });

  it('revoke by prefix selects every live match', () => {
    const r = plan(
      input({ operation: 'revoke', selector: { kind: 'prefix', prefix: 'tmp-' } }),
      [pat('tmp-1', 3), pat('tmp-2', 90), pat('keep', 1)],
      NOW,
    );
    assert.deepEqual(
      r.actions.map((a) => a.kind),
      ['revoke', 'revoke'],
    );
  });

  it('list reports every selected PAT and warns for the expiring and the expired', () => {
    const r = plan(
      input({ operation: 'list', selector: { kind: 'all' } }),
      [pat('a', 3), pat('b', 100), pat('c', -1)],
      NOW,
    );
    assert.deepEqual(
      r.actions.map((a) => a.kind),
      ['list', 'list', 'list'],
    );
    assert.equal(r.warnings.length, 2);
    assert.match(r.warnings[1], /expired on/);
  });
});

describe('plan: global PATs and protected names', () => {
  it('says global PATs stop working before 2026-12-01, and stopped from that day on', () => {
    const global = pat('deploy', 2, { targetAccounts: null });
    assert.match(plan(input(), [global], NOW).warnings.join('\n'), /global PATs stop working on 2026-12-01/);
    const today = new Date('2026-12-01T08:00:00Z');
    const later = pat('deploy', 2, { targetAccounts: null, validTo: new Date(today.getTime() + 2 * DAY) });
    assert.match(plan(input(), [later], today).warnings.join('\n'), /global PATs stopped working on 2026-12-01/);
  });

  it('warns when a prefix revoke would revoke a global PAT', () => {
    const { warnings } = plan(
      input({ operation: 'revoke', selector: { kind: 'prefix', prefix: 'svc-' } }),
      [pat('svc-a', 20, { targetAccounts: null }), pat('svc-b', 20)],
      NOW,
    );
    assert.equal(warnings.filter((w) => /Revoking PAT 'svc-a' .* which is global/.test(w)).length, 1);
    assert.ok(!warnings.some((w) => /svc-b/.test(w)));
  });

  it('refuses a {displayName} expansion that is the refresh token variable or a reserved name', () => {
    const group = {
      kind: 'variableGroup' as const,
      variableName: 'PAT.{displayName}',
      ref: { group: 'g', project: 'p' },
    };
    throwsInput(
      () =>
        plan(
          input({
            target: group,
            protectedVariables: [{ name: 'pat.deploy', why: "the refresh token's variable in the same group" }],
          }),
          [pat('deploy', 2)],
          NOW,
        ),
      'variableName',
      /would be stored as 'PAT.deploy', the refresh token's variable/,
    );
    throwsInput(
      () =>
        plan(
          input({
            selector: { kind: 'prefix', prefix: 'Build.' },
            target: { kind: 'variable', variableName: '{displayName}' },
          }),
          [pat('Build.Token', 2)],
          NOW,
        ),
      'variableName',
      /'Build.Token' is a name the agent reserves/,
    );
  });
});
