/**
 * "in N days", computed one way everywhere: the task log (describeExpiry in plan.ts), the demo's tables, npm run local
 * and the emulator CLI.
 */
const DAY_MS = 86_400_000;

function days(n: number): string {
  return n === 1 ? '1 day' : `${n} days`;
}

/**
 * Time left before an expiry as the number of days it falls within: whole days rounded up (2 days 23 hours is
 * '3 days'). It is the count rotateWithinDays and warnWithinDays are compared with: a PAT shown 'in 7 days' is due with
 * rotateWithinDays 7, one shown 'in 8 days' is not. Under a day: 'less than a day'.
 */
export function daysLeftText(ms: number): string {
  return ms < DAY_MS ? 'less than a day' : days(Math.ceil(ms / DAY_MS));
}

/** Time since an expiry in whole days, rounded down (10 days 2 hours is '10 days'). Under a day: 'less than a day'. */
export function daysAgoText(ms: number): string {
  return ms < DAY_MS ? 'less than a day' : days(Math.floor(ms / DAY_MS));
}
