import assert from 'node:assert/strict';
import type { Outcome } from '../../tasks/PatRotate/src/rotation/execute';
import type { ListedPat } from '../../tasks/PatRotate/src/rotation/plan';
import { outputValues, summaryMarkdown } from '../../tasks/PatRotate/src/report/summary';

const NOW = new Date('2026-11-23T12:00:00Z');
const old: ListedPat = {
  authorizationId: 'old-1',
  displayName: 'deploy',
  scope: 'vso.code',
  targetAccounts: ['o'],
  validFrom: NOW,
  validTo: new Date('2026-11-25T00:00:00Z'),
  status: 'active',
};
const fresh = { ...old, authorizationId: 'new-1', validTo: new Date('2026-12-23T12:00:00Z') };
const rotate = (over: Partial<Outcome> = {}): Outcome => ({
  action: {
    kind: 'rotate',
    old,
    scope: 'vso.code',
    allOrgs: false,
    validTo: fresh.validTo,
    retire: 'revoke',
    variableName: 'V',
  },
  result: 'succeeded',
  pat: fresh,
  token: 'secret-value',
  storedIn: "variable group 'g' as 'V'",
  notes: [],
  ...over,
});

describe('report: outputs and summary', () => {
  it('gives the new PAT of a single rotation', () => {
    assert.deepEqual(outputValues([rotate()]), {
      count: '1',
      authorizationId: 'new-1',
      validTo: '2026-12-23T12:00:00.000Z',
      token: 'secret-value',
      action: 'rotated',
    });
  });

  it('gives no token and no new expiry for a failed (rolled back) rotation, but names the old PAT', () => {
    assert.deepEqual(outputValues([rotate({ result: 'failed' })]), {
      count: '0',
      authorizationId: 'old-1',
      validTo: undefined,
      token: undefined,
      action: 'failed',
    });
  });

  it('gives the one new PAT of a bulk run where only one was due', () => {
    const skipped: Outcome = {
      action: { kind: 'skip', pat: { ...old, authorizationId: 'x', displayName: 'other' }, reason: 'fresh' },
      result: 'skipped',
      notes: [],
    };
    const out = outputValues([rotate(), skipped]);
    assert.equal(out.token, 'secret-value');
    assert.equal(out.action, 'rotated');
    assert.equal(out.count, '1');
  });

  it('summarises without any secret', () => {
    const md = summaryMarkdown('PatRotate: rotate in contoso', [rotate()], false);
    assert.match(
      md,
      /\| deploy \| old-1 \| rotated \| 2026-11-25T00:00:00Z \| 2026-12-23T12:00:00Z \| variable group 'g' as 'V' \|/,
    );
    assert.ok(!md.includes('secret-value'));
    const failed = summaryMarkdown('t', [rotate({ result: 'failed', storedIn: undefined })], false);
    assert.match(failed, /\| deploy \| old-1 \| failed \| 2026-11-25T00:00:00Z \| {2}\| {2}\|/);
  });
});
