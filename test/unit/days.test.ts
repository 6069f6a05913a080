// "in N days" is counted one way (tasks/PatRotate/src/rotation/days.ts) and means what rotateWithinDays means.
import assert from 'node:assert/strict';
import { daysAgoText, daysLeftText } from '../../tasks/PatRotate/src/rotation/days';
import { describeExpiry, plan, type ListedPat, type PlanInput } from '../../tasks/PatRotate/src/rotation/plan';

const NOW = new Date('2026-11-23T12:00:00Z');
const DAY = 86_400_000;
const HOUR = 3_600_000;

function pat(msLeft: number): ListedPat {
  return {
    authorizationId: '00000000-0000-4000-8000-000000000001',
    displayName: 'deploy',
    scope: 'vso.code',
    targetAccounts: ['11111111-1111-1111-1111-111111111111'],
    validFrom: new Date(NOW.getTime() - 20 * DAY),
    validTo: new Date(NOW.getTime() + msLeft),
    status: msLeft <= 0 ? 'expired' : 'active',
  };
}

function rotateWithin(days: number): PlanInput {
  return {
    operation: 'rotate',
    selector: { kind: 'name', displayName: 'deploy' },
    scopes: undefined,
    validityDays: 30,
    allOrgs: false,
    rotateWithinDays: days,
    warnWithinDays: 14,
    createIfMissing: false,
    retireOld: 'revoke',
    target: { kind: 'none' },
  };
}

describe('unit: days left ("in N days")', () => {
  it('counts days left rounded up, and under a day as "less than a day"', () => {
    assert.equal(daysLeftText(1), 'less than a day');
    assert.equal(daysLeftText(23 * HOUR), 'less than a day');
    assert.equal(daysLeftText(DAY), '1 day');
    assert.equal(daysLeftText(DAY + 1), '2 days');
    assert.equal(daysLeftText(3 * DAY - 1000), '3 days');
    assert.equal(daysLeftText(3 * DAY), '3 days');
    assert.equal(daysLeftText(30 * DAY - 5000), '30 days');
  });

  it('counts days since expiry rounded down', () => {
    assert.equal(daysAgoText(HOUR), 'less than a day');
    assert.equal(daysAgoText(DAY + HOUR), '1 day');
    assert.equal(daysAgoText(10 * DAY + 2 * HOUR), '10 days');
  });

  it('is the text the task log uses (describeExpiry)', () => {
    assert.match(describeExpiry(pat(3 * DAY - 1000), NOW), /\(in 3 days\)$/);
    assert.match(describeExpiry(pat(2 * HOUR), NOW), /\(in less than a day\)$/);
    assert.match(describeExpiry(pat(-DAY), NOW), /^expired on /);
  });

  it('agrees with rotateWithinDays: a PAT shown "in N days" is due exactly when N <= rotateWithinDays', () => {
    for (const within of [1, 3, 7]) {
      for (const ms of [
        HOUR,
        DAY - 1,
        DAY,
        DAY + 1,
        3 * DAY - 1,
        3 * DAY,
        3 * DAY + 1,
        7 * DAY - HOUR,
        7 * DAY,
        7 * DAY + HOUR,
        8 * DAY,
      ]) {
        const shown = Number(/^(\d+)/.exec(daysLeftText(ms))?.[1] ?? '1');
        const due = plan(rotateWithin(within), [pat(ms)], NOW).actions.some((a) => a.kind === 'rotate');
        assert.equal(due, shown <= within, `${ms} ms left, shown '${daysLeftText(ms)}', rotateWithinDays ${within}`);
      }
    }
  });
});
