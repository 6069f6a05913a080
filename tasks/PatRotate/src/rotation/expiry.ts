// How a PAT's expiry is told, and the warnings a plan carries: expiring PATs it does not refresh, global PATs.
import type { Action, ListedPat, PlanInput } from './actions';
import { daysLeftText } from './days';

const DAY_MS = 86_400_000;

/** Global (all-organization) PATs stopped working on this day. */
export const GLOBAL_PATS_END = new Date('2026-12-01T00:00:00Z');

/** "stop working on 2026-12-01" before that day, "stopped working on 2026-12-01" from it on. */
export function globalPatsEnd(now: Date): string {
  return `${now >= GLOBAL_PATS_END ? 'stopped' : 'stop'} working on 2026-12-01`;
}

/** Expiry warnings for PATs this run does not refresh, and a warning for every global PAT it rotates. */
export function expiryWarnings(input: PlanInput, actions: Action[], now: Date): string[] {
  const warnBy = now.getTime() + input.warnWithinDays * DAY_MS;
  const warnings: string[] = [];
  for (const a of actions) {
    if (a.kind === 'rotate' && a.allOrgs) {
      warnings.push(
        `PAT '${a.old.displayName}' is global (all organizations), so its replacement is too; global PATs ${globalPatsEnd(now)}: recreate it for one organization (operation create, allOrgs false) and revoke this one.`,
      );
    }
    if (
      a.kind === 'revoke' &&
      a.pat.targetAccounts === null &&
      input.selector.kind !== 'id' &&
      input.selector.kind !== 'name'
    ) {
      warnings.push(
        `Revoking PAT '${a.pat.displayName}' (${a.pat.authorizationId}), which is global: it is valid in all your organizations, so consumers in other organizations lose it too.`,
      );
    }
    if ((a.kind !== 'skip' && a.kind !== 'list') || (a.kind === 'skip' && a.supersededBy)) continue;
    const p = a.pat;
    if (p.status === 'expired' || p.validTo.getTime() <= warnBy) {
      warnings.push(`PAT '${p.displayName}' (${p.authorizationId}) ${describeExpiry(p, now)}.`);
    }
  }
  return warnings;
}

export function describeExpiry(p: ListedPat, now: Date): string {
  const days = (p.validTo.getTime() - now.getTime()) / DAY_MS;
  if (p.status === 'expired' || days <= 0) return `expired on ${p.validTo.toISOString()}`;
  return `expires on ${p.validTo.toISOString()} (in ${daysLeftText(p.validTo.getTime() - now.getTime())})`;
}
