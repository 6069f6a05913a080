import assert from 'node:assert/strict';
import type { AdminPat } from '../../tasks/PatRotate/src/ado/tokenAdmin';
import { failsRun, FINDING_IDS, judge, type FindingId } from '../../tasks/PatRotate/src/audit/findings';
import { csvCell, csvLine, emptyTotals, rowOf, auditSummary } from '../../tasks/PatRotate/src/audit/report';

const DAY = 86_400_000;
const NOW = new Date('2026-12-01T12:00:00Z');
const settings = { warnWithinDays: 14, maxLifetimeDays: 90 };
let seq = 0;

function pat(daysLeft: number, extra: Partial<AdminPat> = {}): AdminPat {
  seq++;
  return {
    authorizationId: `00000000-0000-0000-0000-${String(seq).padStart(12, '0')}`,
    displayName: `pat-${seq}`,
    scope: 'vso.code',
    targetAccounts: ['org'],
    validFrom: new Date(NOW.getTime() - 10 * DAY),
    validTo: new Date(NOW.getTime() + daysLeft * DAY),
    isValid: true,
    userId: 'u',
    ...extra,
  };
}

const ids = (pats: AdminPat[], deleted = false): FindingId[][] =>
  judge({ deletedInOrigin: deleted }, pats, settings, NOW).map((j) => j.findings);

describe('audit/findings', () => {
  it('has stable ids', () => {
    assert.deepEqual(FINDING_IDS, [
      'AUD-EXPIRING',
      'AUD-EXPIRED',
      'AUD-GLOBAL',
      'AUD-FULLSCOPE',
      'AUD-LONGLIVED',
      'AUD-ORPHAN',
    ]);
  });

  it('AUD-EXPIRING: within warnWithinDays (inclusive), not beyond', () => {
    assert.deepEqual(ids([pat(14), pat(13.9), pat(14.01), pat(60)]), [['AUD-EXPIRING'], ['AUD-EXPIRING'], [], []]);
  });

  it('AUD-EXPIRED: expired within 30 days and no live PAT of the same name', () => {
    const renewedOld = pat(-2, { displayName: 'Deploy' });
    const renewedNew = pat(60, { displayName: 'deploy ' });
    assert.deepEqual(ids([pat(-1), pat(-29.9), pat(-30.1), renewedOld, renewedNew]), [
      ['AUD-EXPIRED'],
      ['AUD-EXPIRED'],
      [],
      [],
      [],
    ]);
  });

  it('AUD-GLOBAL, AUD-FULLSCOPE, AUD-LONGLIVED on live PATs only', () => {
    assert.deepEqual(
      ids([
        pat(60, { targetAccounts: null }),
        pat(60, { scope: 'vso.build app_token' }),
        pat(60, { scope: 'vso.app_tokenish' }),
        pat(80.5),
        pat(80),
        pat(-5, { targetAccounts: null, scope: 'app_token', displayName: 'x' }),
      ]),
      [['AUD-GLOBAL'], ['AUD-FULLSCOPE'], [], ['AUD-LONGLIVED'], [], ['AUD-EXPIRED']],
    );
  });

  it('AUD-ORPHAN when Graph says the owner is deleted in its directory; revoked PATs have no findings', () => {
    assert.deepEqual(ids([pat(60), pat(5, { isValid: false })], true), [['AUD-ORPHAN'], []]);
    const [j] = judge({ deletedInOrigin: false }, [pat(5, { isValid: false })], settings, NOW);
    assert.equal(j.status, 'revoked');
  });

  it('combines findings in id order and counts days left rounded down', () => {
    const [j] = judge(
      { deletedInOrigin: true },
      [pat(3.5, { targetAccounts: null, scope: 'app_token', validFrom: new Date(NOW.getTime() - 200 * DAY) })],
      settings,
      NOW,
    );
    assert.deepEqual(j.findings, ['AUD-EXPIRING', 'AUD-GLOBAL', 'AUD-FULLSCOPE', 'AUD-LONGLIVED', 'AUD-ORPHAN']);
    assert.equal(j.daysLeft, 3);
  });

  it('failOnFindings: none never, expiring on EXPIRING or EXPIRED, any on anything', () => {
    const counts = (id?: FindingId) => ({ ...emptyTotals().findings, ...(id ? { [id]: 1 } : {}) });
    assert.equal(failsRun('none', counts('AUD-EXPIRING')), false);
    assert.equal(failsRun('expiring', counts('AUD-EXPIRED')), true);
    assert.equal(failsRun('expiring', counts('AUD-GLOBAL')), false);
    assert.equal(failsRun('any', counts('AUD-ORPHAN')), true);
    assert.equal(failsRun('any', counts()), false);
  });
});

describe('audit/report', () => {
  it('quotes every CSV cell and defuses formulas', () => {
    assert.equal(csvCell('plain'), '"plain"');
    assert.equal(csvCell('say "hi", ok'), '"say ""hi"", ok"');
    for (const f of ['=1+1', '+1', '-1', '@SUM(A1)', '\t=1', '\r=1']) assert.equal(csvCell(f)[1], "'", f);
    assert.equal(csvCell(-3), '"-3"', 'numbers are ours, not formulas');
    assert.equal(csvCell('line\nbreak'), '"line\nbreak"');
  });

  it('writes no token field and keeps hostile text inert in the summary', () => {
    const owner = {
      descriptor: 'aad.x',
      principalName: '##vso[task.setvariable variable=a]b',
      displayName: '<b>x</b>',
      mailAddress: '',
      origin: 'aad',
      originId: 'o',
      deletedInOrigin: false,
    };
    const [j] = judge(owner, [pat(3, { displayName: '[link](https://evil.example) | col' })], settings, NOW);
    const row = rowOf(owner, j);
    assert.ok(!Object.keys(row).some((k) => /token/i.test(k)));
    assert.ok(csvLine(row).includes('"[link](https://evil.example) | col"'));
    const totals = emptyTotals();
    totals.withFindings = 1;
    const md = auditSummary('contoso', totals, [row], { csv: 'a.csv', json: 'a.json' });
    assert.ok(!md.includes('##vso['));
    assert.ok(!md.includes('](https://'));
    assert.ok(md.includes(' \\| col') && !md.includes(' | col'), 'the pipe is escaped');
  });

  it('groups the summary table by owner: the owner once, then its PATs by days left', () => {
    const owner = (name: string) => ({
      descriptor: `aad.${name}`,
      principalName: `${name}@x`,
      displayName: name,
      mailAddress: '',
      origin: 'aad',
      originId: name,
      deletedInOrigin: false,
    });
    const rows = [
      rowOf(owner('bob'), judge(owner('bob'), [pat(9)], settings, NOW)[0]),
      rowOf(owner('amy'), judge(owner('amy'), [pat(12)], settings, NOW)[0]),
      rowOf(owner('bob'), judge(owner('bob'), [pat(2)], settings, NOW)[0]),
    ];
    const totals = emptyTotals();
    totals.withFindings = 3;
    const table = auditSummary('contoso', totals, rows, { csv: 'a', json: 'b' })
      .split('\n')
      .filter((l) => l.includes('| 00000000-'));
    assert.deepEqual(
      table.map((l) => `${l.split('|')[1].trim()} ${l.split('|')[6].trim()}`),
      ['amy@x 12', 'bob@x 2', ' 9'],
    );
  });
});
