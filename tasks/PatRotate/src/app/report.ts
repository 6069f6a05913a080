// What a run tells the pipeline at its end: a group of log lines per PAT, the output variables, the job summary and
// the task result.
import type { Outcome } from '../rotation/execute';
import { worst } from '../rotation/outcome';
import { describeExpiry, type Action } from '../rotation/plan';
import { actionWord, outputValues, subjectOf, summaryMarkdown } from '../report/summary';
import type { RunContext } from './context';

export function report({ agent, log, cfg }: RunContext, outcomes: Outcome[], dryRun: boolean): void {
  const now = new Date();
  for (const o of outcomes) {
    const s = subjectOf(o.action);
    if (o.action.kind === 'list') {
      const p = o.action.pat;
      log.info(
        `${p.displayName} (${p.authorizationId}): ${describeExpiry(p, now)}; scopes ${p.scope}; ${p.targetAccounts === null ? 'all organizations (global)' : 'this organization'}.`,
      );
      continue;
    }
    if (dryRun) continue;
    log.group(`${actionWord(o)}: ${s.name}${s.id ? ` (${s.id})` : ''}`);
    for (const n of o.notes)
      (n.level === 'warning' ? log.warn : n.level === 'error' ? log.errorLine : log.info)(n.text);
    log.endGroup();
  }
  const out = outputValues(outcomes);
  if (out.token) agent.setVariable('token', out.token, true, true);
  if (out.authorizationId) agent.setVariable('authorizationId', out.authorizationId, false, true);
  if (out.validTo) agent.setVariable('validTo', out.validTo, false, true);
  if (out.action) agent.setVariable('action', out.action, false, true);
  agent.setVariable('count', out.count, false, true);
  agent.uploadSummary(
    summaryMarkdown(`PatRotate: ${cfg.operation} in ${cfg.organization.organization}`, outcomes, dryRun),
  );
}

/** The result line: every failure of a single-PAT run, the first three of a bulk run (all are in the log). */
export function finishRun({ log }: RunContext, outcomes: Outcome[]): void {
  const result = worst(outcomes);
  const failed = outcomes.filter((o) => o.result === 'failed');
  const reasons = failed.slice(0, 3).map(
    (o) =>
      `${subjectOf(o.action).name}: ${o.notes
        .filter((n) => n.level === 'error')
        .map((n) => n.text)
        .join(' ')}`,
  );
  if (failed.length > 3) reasons.push(`${failed.length - 3} more failed: see the log.`);
  const message = failed.length > 0 ? reasons.join(' | ') : `${outcomes.length} PAT(s): ${tally(outcomes)}.`;
  log.complete(result === 'skipped' ? 'succeeded' : result, message);
}

export function describe(a: Action, now: Date): string {
  switch (a.kind) {
    case 'create':
      return `create '${a.displayName}' (scopes ${a.scope}) valid to ${a.validTo.toISOString()}${a.variableName ? `, stored as '${a.variableName}'` : ''}.`;
    case 'rotate':
      return `rotate '${a.old.displayName}' (${a.old.authorizationId}, ${describeExpiry(a.old, now)}): new PAT valid to ${a.validTo.toISOString()}${a.variableName ? `, stored as '${a.variableName}'` : ''}, old one: ${a.retire}.`;
    case 'renew':
      return `renew '${a.pat.displayName}' (${a.pat.authorizationId}) to ${a.validTo.toISOString()}.`;
    case 'revoke':
      return `revoke '${a.pat.displayName}' (${a.pat.authorizationId}).`;
    case 'list':
      return `list '${a.pat.displayName}'.`;
    case 'skip':
      return `skip '${a.pat.displayName}' (${a.pat.authorizationId}): ${a.reason}.`;
  }
}

function tally(outcomes: Outcome[]): string {
  const counts = new Map<string, number>();
  outcomes.forEach((o) => counts.set(actionWord(o), (counts.get(actionWord(o)) ?? 0) + 1));
  return [...counts].map(([k, n]) => `${n} ${k}`).join(', ');
}
