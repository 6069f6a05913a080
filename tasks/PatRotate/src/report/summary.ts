// Outcomes → what the pipeline shows: the job summary (markdown) and the step's output variables. Never a secret.
import type { Action } from '../rotation/plan';
import type { Outcome } from '../rotation/execute';
import { markdownCell } from './inert';

const PAST: Record<Action['kind'], string> = {
  create: 'created',
  rotate: 'rotated',
  renew: 'renewed',
  revoke: 'revoked',
  skip: 'skipped',
  list: 'listed',
};

export function actionWord(o: Outcome): string {
  return o.result === 'failed' ? 'failed' : PAST[o.action.kind];
}

export function subjectOf(a: Action): { name: string; id?: string; oldValidTo?: Date } {
  switch (a.kind) {
    case 'create':
      return { name: a.displayName };
    case 'rotate':
      return { name: a.old.displayName, id: a.old.authorizationId, oldValidTo: a.old.validTo };
    default:
      return { name: a.pat.displayName, id: a.pat.authorizationId, oldValidTo: a.pat.validTo };
  }
}

export interface OutputValues {
  token?: string;
  authorizationId?: string;
  validTo?: string;
  action?: string;
  count: string;
}

/**
 * Output variables: per-PAT values when the run is about one PAT (or produced exactly one new PAT). A failed outcome
 * gives no token and no new expiry: after a rollback they would describe a revoked PAT.
 */
export function outputValues(outcomes: readonly Outcome[]): OutputValues {
  const acted = outcomes.filter((o) => o.action.kind !== 'skip' && o.action.kind !== 'list' && o.result !== 'failed');
  const out: OutputValues = { count: String(outcomes.filter((o) => o.action.kind === 'list').length || acted.length) };
  const produced = acted.filter((o) => o.token !== undefined);
  const single = outcomes.length === 1 ? outcomes[0] : produced.length === 1 ? produced[0] : undefined;
  if (single) {
    const ok = single.result !== 'failed';
    out.authorizationId = (ok ? single.pat?.authorizationId : undefined) ?? subjectOf(single.action).id;
    out.validTo = ok ? single.pat?.validTo.toISOString() : undefined;
    out.token = ok ? single.token : undefined;
  }
  if (outcomes.length === 1) {
    out.action = actionWord(outcomes[0]);
  } else if (outcomes.length > 1) {
    const kinds = new Set(acted.map((o) => actionWord(o)));
    out.action = kinds.size === 1 ? [...kinds][0] : acted.length === 0 ? actionWord(outcomes[0]) : 'mixed';
  }
  return out;
}

export function summaryMarkdown(title: string, outcomes: readonly Outcome[], dryRun: boolean): string {
  const rows = outcomes.map((o) => {
    const s = subjectOf(o.action);
    const changed =
      o.result !== 'failed' && (o.action.kind === 'create' || o.action.kind === 'rotate' || o.action.kind === 'renew');
    const newValidTo = changed ? o.pat?.validTo : undefined;
    const what =
      dryRun && o.action.kind !== 'list' && o.action.kind !== 'skip'
        ? `would be ${PAST[o.action.kind]}`
        : actionWord(o);
    return `| ${markdownCell(s.name)} | ${markdownCell(s.id ?? '')} | ${what} | ${day(s.oldValidTo)} | ${day(newValidTo)} | ${markdownCell(o.storedIn ?? '')} |`;
  });
  return [
    `### ${markdownCell(title)}${dryRun ? ' (dry run: nothing was changed)' : ''}`,
    '',
    '| PAT | Authorization id | Action | Old expiry | New expiry | Stored in |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

function day(d: Date | undefined): string {
  return d ? d.toISOString().replace(/\.\d+Z$/, 'Z') : '';
}
