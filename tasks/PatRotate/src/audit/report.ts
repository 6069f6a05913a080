// The audit's report: one row per PAT (CSV and JSON, streamed to files as the rows arrive), and the job summary
// (totals, then the PATs with findings grouped by owner). No row holds a token value: the API never returns one.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { GraphUser } from '../ado/graph';
import { markdownCell } from '../report/inert';
import { FINDING_IDS, FINDING_TEXT, type FindingId, type Judged } from './findings';

export const CSV_FILE = 'pat-inventory.csv';
export const JSON_FILE = 'pat-inventory.json';
/** The summary lists at most this many PATs with findings; the files hold every PAT. */
export const SUMMARY_MAX_ROWS = 500;

export interface InventoryRow {
  ownerPrincipalName: string;
  ownerDisplayName: string;
  ownerDescriptor: string;
  ownerOrigin: string;
  authorizationId: string;
  displayName: string;
  scope: string;
  global: boolean;
  validFrom: string;
  validTo: string;
  daysLeft: number;
  status: string;
  findings: string;
}

export const CSV_COLUMNS: readonly (keyof InventoryRow)[] = [
  'ownerPrincipalName',
  'ownerDisplayName',
  'ownerDescriptor',
  'ownerOrigin',
  'authorizationId',
  'displayName',
  'scope',
  'global',
  'validFrom',
  'validTo',
  'daysLeft',
  'status',
  'findings',
];

export function rowOf(owner: GraphUser, j: Judged): InventoryRow {
  return {
    ownerPrincipalName: owner.principalName,
    ownerDisplayName: owner.displayName,
    ownerDescriptor: owner.descriptor,
    ownerOrigin: owner.origin,
    authorizationId: j.pat.authorizationId,
    displayName: j.pat.displayName,
    scope: j.pat.scope,
    global: j.pat.targetAccounts === null,
    validFrom: j.pat.validFrom.toISOString(),
    validTo: j.pat.validTo.toISOString(),
    daysLeft: j.daysLeft,
    status: j.status,
    findings: j.findings.join(' '),
  };
}

/**
 * One CSV cell: always quoted (quotes doubled), and text a spreadsheet would read as a formula (= + - @, or a tab or
 * carriage return first) is prefixed with ' so it stays text.
 */
export function csvCell(value: string | number | boolean): string {
  let s = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return `"${s.replace(/"/g, '""')}"`;
}

export function csvLine(row: InventoryRow): string {
  return CSV_COLUMNS.map((c) => csvCell(row[c])).join(',');
}

/** The two files, written row by row as PATs arrive (synchronous appends: the order is the order of the calls). */
export class InventoryFiles {
  readonly csvPath: string;
  readonly jsonPath: string;
  private readonly csv: number;
  private readonly json: number;
  private rows = 0;

  constructor(directory: string) {
    fs.mkdirSync(directory, { recursive: true });
    this.csvPath = path.join(directory, CSV_FILE);
    this.jsonPath = path.join(directory, JSON_FILE);
    this.csv = fs.openSync(this.csvPath, 'w');
    this.json = fs.openSync(this.jsonPath, 'w');
    fs.writeSync(this.csv, `\uFEFF${CSV_COLUMNS.join(',')}\r\n`);
    fs.writeSync(this.json, '[');
  }

  add(row: InventoryRow): void {
    fs.writeSync(this.csv, `${csvLine(row)}\r\n`);
    fs.writeSync(this.json, `${this.rows === 0 ? '\n' : ',\n'}${JSON.stringify(row)}`);
    this.rows++;
  }

  close(): void {
    fs.writeSync(this.json, this.rows === 0 ? ']\n' : '\n]\n');
    fs.closeSync(this.csv);
    fs.closeSync(this.json);
  }
}

export interface AuditTotals {
  users: number;
  usersWithPats: number;
  pats: number;
  active: number;
  expired: number;
  revoked: number;
  withFindings: number;
  findings: Record<FindingId, number>;
}

export function emptyTotals(): AuditTotals {
  return {
    users: 0,
    usersWithPats: 0,
    pats: 0,
    active: 0,
    expired: 0,
    revoked: 0,
    withFindings: 0,
    findings: Object.fromEntries(FINDING_IDS.map((id) => [id, 0])) as Record<FindingId, number>,
  };
}

/** The job summary: totals, the finding counts, and the PATs with findings grouped by owner (at most SUMMARY_MAX_ROWS). */
export function auditSummary(
  organization: string,
  totals: AuditTotals,
  flagged: readonly InventoryRow[],
  files: { csv: string; json: string },
): string {
  const lines = [
    `## PatRotate: PAT inventory of ${markdownCell(organization)}`,
    '',
    `${totals.users} user(s), ${totals.usersWithPats} with PATs; ${totals.pats} PAT(s): ${totals.active} active, ${totals.expired} expired, ${totals.revoked} revoked; ${totals.withFindings} with findings.`,
    '',
    '| finding | PATs | meaning |',
    '|---|---|---|',
    ...FINDING_IDS.map((id) => `| ${id} | ${totals.findings[id]} | ${markdownCell(FINDING_TEXT[id])} |`),
    '',
  ];
  if (flagged.length > 0) {
    const byOwner = [...flagged].sort(
      (a, b) =>
        a.ownerPrincipalName.localeCompare(b.ownerPrincipalName, 'en') ||
        a.daysLeft - b.daysLeft ||
        a.authorizationId.localeCompare(b.authorizationId),
    );
    lines.push('| owner | PAT | id | scope | expires | days left | findings |', '|---|---|---|---|---|---|---|');
    let last: string | undefined;
    for (const r of byOwner) {
      const owner = r.ownerPrincipalName === last ? '' : markdownCell(r.ownerPrincipalName || r.ownerDescriptor);
      last = r.ownerPrincipalName;
      lines.push(
        `| ${owner} | ${markdownCell(r.displayName)} | ${markdownCell(r.authorizationId)} | ${markdownCell(r.scope)} | ${r.validTo.slice(0, 10)} | ${r.daysLeft} | ${r.findings} |`,
      );
    }
    if (totals.withFindings > flagged.length)
      lines.push(
        '',
        `The table shows the first ${flagged.length} of ${totals.withFindings}: the files list every PAT.`,
      );
    lines.push('');
  }
  lines.push(`Files: ${markdownCell(files.csv)}, ${markdownCell(files.json)} (every PAT; no token values).`, '');
  return lines.join('\n');
}
