// operation: audit. Read-only: lists the organization's users (Graph) and each user's PATs (Token Admin) with at most
// `concurrency` users in flight, judges every PAT (audit/findings.ts) and streams one row per PAT into
// pat-inventory.csv/json as it arrives. Memory holds one page of users, one user's PATs at a time, and the summary's
// rows (at most SUMMARY_MAX_ROWS). Ends with the job summary, one warning per owner with expiring PATs, the files
// attached to the run, the outputs count and findings, and failOnFindings.
import * as os from 'node:os';
import { AdoError } from '../ado/errors';
import { GraphClient, type GraphUser } from '../ado/graph';
import type { AdoHttp } from '../ado/http';
import { TokenAdminClient, type AdminPat } from '../ado/tokenAdmin';
import type { Credential } from '../ado/types';
import { failsRun, FINDING_IDS, judge } from '../audit/findings';
import {
  auditSummary,
  emptyTotals,
  InventoryFiles,
  rowOf,
  SUMMARY_MAX_ROWS,
  type AuditTotals,
  type InventoryRow,
} from '../audit/report';
import { errorMessage } from '../errorMessage';
import { mapPool } from '../rotation/pool';
import type { RunContext } from './context';

/** Owners named in a warning of their own; the rest are counted in one more warning (the issues list stays usable). */
export const MAX_OWNER_WARNINGS = 100;
/** Users whose PATs could not be read, named in the log; more than this many failures stop the audit. */
export const MAX_USER_FAILURES = 50;

export interface AuditDeps {
  http: AdoHttp;
  credential: Credential;
  who: string;
  /** Throws once the run was stopped (a cancel): no new user begins. */
  check: () => void;
}

export async function audit(ctx: RunContext, deps: AuditDeps): Promise<void> {
  const { agent, log, cfg } = ctx;
  const org = cfg.organization.organization;
  const graph = new GraphClient(deps.http, cfg.organization.patApiUrl, deps.credential);
  const admin = new TokenAdminClient(deps.http, cfg.organization.patApiUrl, deps.credential);
  const directory = cfg.reportDirectory || agent.variable('Agent.TempDirectory') || os.tmpdir();
  const settings = { warnWithinDays: cfg.warnWithinDays, maxLifetimeDays: cfg.maxLifetimeDays };

  log.section(`Audit: every PAT in ${org}, ${cfg.concurrency} user(s) at a time`);
  const totals = emptyTotals();
  const flagged: InventoryRow[] = [];
  const failures: string[] = [];
  let ownerWarnings = 0;
  let ownersNotWarned = 0;
  const files = new InventoryFiles(directory);
  const now = new Date();
  let first = true;

  const readUser = async (user: GraphUser): Promise<void> => {
    deps.check();
    const pats: AdminPat[] = [];
    try {
      for await (const page of admin.pats(user.descriptor)) pats.push(...page);
    } catch (e) {
      if (e instanceof AdoError && e.kind === 'forbidden' && first) throw refusal(deps.who, org, e);
      failures.push(`${user.principalName || user.descriptor}: ${errorMessage(e)}`);
      log.warn(`Could not read the PATs of ${user.principalName || user.descriptor}: ${errorMessage(e)}`);
      if (failures.length > MAX_USER_FAILURES)
        throw new Error(`The PATs of more than ${MAX_USER_FAILURES} users could not be read; stopping the audit.`, {
          cause: e,
        });
      return;
    }
    totals.users++;
    if (pats.length > 0) totals.usersWithPats++;
    let expiring = 0;
    for (const j of judge(user, pats, settings, now)) {
      const row = rowOf(user, j);
      files.add(row);
      totals.pats++;
      totals[j.status]++;
      j.findings.forEach((id) => totals.findings[id]++);
      if (j.findings.includes('AUD-EXPIRING')) expiring++;
      if (j.findings.length > 0) {
        totals.withFindings++;
        if (flagged.length < SUMMARY_MAX_ROWS) flagged.push(row);
      }
    }
    if (expiring > 0) {
      if (ownerWarnings < MAX_OWNER_WARNINGS) {
        ownerWarnings++;
        log.warn(
          `${user.principalName || user.descriptor} has ${expiring} PAT(s) expiring within ${cfg.warnWithinDays} days in ${org}.`,
        );
      } else ownersNotWarned++;
    }
  };

  try {
    const pages = graph.pages()[Symbol.asyncIterator]();
    let next = pages.next().catch((e: unknown) => {
      throw e instanceof AdoError && e.kind === 'forbidden' ? refusal(deps.who, org, e) : e;
    });
    for (;;) {
      const page = await next;
      if (page.done) break;
      // The next page of users is fetched while this one's PATs are read.
      next = pages.next();
      next.catch(() => undefined);
      let users = page.value;
      if (first && users.length > 0) {
        // The first user alone: a non-administrator is refused once, before the pool starts.
        await readUser(users[0]);
        first = false;
        users = users.slice(1);
      }
      await mapPool(users, cfg.concurrency, readUser);
      log.info(`${totals.users} user(s), ${totals.pats} PAT(s) so far.`);
    }
  } finally {
    files.close();
  }

  if (ownersNotWarned > 0)
    log.warn(`${ownersNotWarned} more owner(s) have PATs expiring within ${cfg.warnWithinDays} days: see the summary.`);
  agent.uploadFile(files.csvPath);
  agent.uploadFile(files.jsonPath);
  agent.setVariable('count', String(totals.pats), false, true);
  agent.setVariable('findings', String(totals.withFindings), false, true);
  agent.uploadSummary(auditSummary(org, totals, flagged, { csv: files.csvPath, json: files.jsonPath }));
  log.info(`Wrote ${files.csvPath} and ${files.jsonPath}.`);
  finishAudit(ctx, totals, failures);
}

function finishAudit({ log, cfg }: RunContext, totals: AuditTotals, failures: string[]): void {
  const counts = FINDING_IDS.filter((id) => totals.findings[id] > 0).map((id) => `${id} ${totals.findings[id]}`);
  const message =
    `Audit: ${totals.pats} PAT(s) of ${totals.users} user(s); ${totals.withFindings} with findings` +
    `${counts.length ? ` (${counts.join(', ')})` : ''}` +
    `${failures.length ? `; the PATs of ${failures.length} user(s) could not be read (see the log)` : ''}.`;
  if (failsRun(cfg.failOnFindings, totals.findings)) {
    log.complete('failed', `${message} failOnFindings is ${cfg.failOnFindings}.`);
    return;
  }
  log.complete(failures.length ? 'succeededWithIssues' : 'succeeded', message);
}

/** The one error a non-administrator gets. */
function refusal(who: string, org: string, e: AdoError): Error {
  return new Error(
    `audit needs a Project Collection Administrator of ${org}: ${who} may not list the organization's users or their PATs (${e.message}). Add ${who} to Project Collection Administrators, or run the audit as a member of it.`,
    { cause: e },
  );
}
