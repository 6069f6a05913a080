// The audit's rules: pure functions of one owner's PATs, the owner and the clock. Each finding has a stable id that
// the summary, the files and failOnFindings use; the ids never change meaning.
import type { AdminPat } from '../ado/tokenAdmin';

export const FINDING_IDS = [
  'AUD-EXPIRING',
  'AUD-EXPIRED',
  'AUD-GLOBAL',
  'AUD-FULLSCOPE',
  'AUD-LONGLIVED',
  'AUD-ORPHAN',
] as const;
export type FindingId = (typeof FINDING_IDS)[number];

/** What each finding means, for the summary's legend. */
export const FINDING_TEXT: Record<FindingId, string> = {
  'AUD-EXPIRING': 'expires within warnWithinDays',
  'AUD-EXPIRED': 'expired within the last 30 days and not renewed (no live PAT of the same name)',
  'AUD-GLOBAL': 'global (valid in all organizations): global PATs stopped working on 2026-12-01',
  'AUD-FULLSCOPE': 'full access (app_token)',
  'AUD-LONGLIVED': 'lifetime over maxLifetimeDays',
  'AUD-ORPHAN': 'owner no longer active (deleted in its directory, says Graph)',
};

export const EXPIRED_LOOKBACK_DAYS = 30;
const DAY_MS = 86_400_000;

export type PatStatus = 'active' | 'expired' | 'revoked';

export interface RuleSettings {
  warnWithinDays: number;
  maxLifetimeDays: number;
}

export interface Owner {
  deletedInOrigin: boolean;
}

export interface Judged {
  pat: AdminPat;
  status: PatStatus;
  /** Whole days to expiry (negative once expired), rounded down. */
  daysLeft: number;
  findings: FindingId[];
}

export function statusOf(pat: AdminPat, now: Date): PatStatus {
  if (!pat.isValid) return 'revoked';
  return pat.validTo.getTime() <= now.getTime() ? 'expired' : 'active';
}

/** Judges every PAT of one owner (renewal is judged across that owner's PATs: a live PAT of the same name). */
export function judge(owner: Owner, pats: readonly AdminPat[], settings: RuleSettings, now: Date): Judged[] {
  const t = now.getTime();
  const liveNames = new Set(
    pats.filter((p) => statusOf(p, now) === 'active').map((p) => p.displayName.trim().toLowerCase()),
  );
  return pats.map((pat) => {
    const status = statusOf(pat, now);
    const left = pat.validTo.getTime() - t;
    const findings: FindingId[] = [];
    if (status === 'active') {
      if (left <= settings.warnWithinDays * DAY_MS) findings.push('AUD-EXPIRING');
      if (pat.targetAccounts === null) findings.push('AUD-GLOBAL');
      if (pat.scope.split(/\s+/).includes('app_token')) findings.push('AUD-FULLSCOPE');
      if (pat.validTo.getTime() - pat.validFrom.getTime() > settings.maxLifetimeDays * DAY_MS)
        findings.push('AUD-LONGLIVED');
      if (owner.deletedInOrigin) findings.push('AUD-ORPHAN');
    } else if (
      status === 'expired' &&
      -left <= EXPIRED_LOOKBACK_DAYS * DAY_MS &&
      !liveNames.has(pat.displayName.trim().toLowerCase())
    ) {
      findings.push('AUD-EXPIRED');
    }
    return { pat, status, daysLeft: Math.floor(left / DAY_MS), findings };
  });
}

export type FailOn = 'none' | 'expiring' | 'any';

/** Whether these findings fail the run under failOnFindings. */
export function failsRun(failOn: FailOn, counts: Readonly<Record<FindingId, number>>): boolean {
  if (failOn === 'none') return false;
  if (failOn === 'expiring') return counts['AUD-EXPIRING'] + counts['AUD-EXPIRED'] > 0;
  return FINDING_IDS.some((id) => counts[id] > 0);
}
