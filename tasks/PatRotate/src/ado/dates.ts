// Azure DevOps writes .NET dates: ISO 8601 UTC with 0–7 fractional digits, trailing zeros trimmed
// ("2020-12-01T23:46:23.32Z", "…52.1033333Z"). Date.parse handles only some of these forms reliably.

const ADO_DATE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?(Z|[+-]\d{2}:\d{2})?$/;

/** Parses an Azure DevOps date (no zone means UTC); throws RangeError when it is not one. */
export function parseAdoDate(text: string): Date {
  const m = ADO_DATE.exec(text.trim());
  if (!m) throw new RangeError(`not an ISO 8601 date: "${text}"`);
  const [, y, mo, d, h, mi, s, frac = '', zone = 'Z'] = m;
  const year = Number(y),
    month = Number(mo),
    day = Number(d);
  const hour = Number(h),
    minute = Number(mi),
    second = Number(s);
  // Fractions finer than a millisecond are rounded; Date keeps milliseconds only.
  const ms = frac === '' ? 0 : Math.round(Number(`0.${frac}`) * 1000);
  let t = Date.UTC(year, month - 1, day, hour, minute, second) + ms;
  const check = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
  if (
    check.getUTCFullYear() !== year ||
    check.getUTCMonth() !== month - 1 ||
    check.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    throw new RangeError(`not a valid date: "${text}"`);
  }
  if (zone !== 'Z') {
    const sign = zone.startsWith('-') ? -1 : 1;
    const offsetMinutes = Number(zone.slice(1, 3)) * 60 + Number(zone.slice(4, 6));
    t -= sign * offsetMinutes * 60_000;
  }
  return new Date(t);
}

/** The form sent in requests: ISO 8601 UTC with milliseconds, which the service accepts. */
export function formatAdoDate(date: Date): string {
  return date.toISOString();
}
