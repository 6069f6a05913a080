// Carries out planned actions: renew, revoke, list and skip here, one PAT at a time with `concurrency` in flight;
// create and rotate in produce.ts, where the order of their side effects is fixed.
import { Ledger } from './ledger';
import type { Action } from './plan';
import { errorMessage } from '../errorMessage';
import { warnIfClamped, type ExecuteDeps, type Outcome } from './outcome';
import { mapPool } from './pool';
import { produceAll, type Production } from './produce';

export { worst, type ExecuteDeps, type Note, type Outcome, type PatApi, type Result } from './outcome';

export async function execute(actions: readonly Action[], deps: ExecuteDeps): Promise<Outcome[]> {
  const withLedger = { ...deps, ledger: deps.ledger ?? new Ledger() };
  const outcomes: Outcome[] = actions.map((action) => ({ action, result: 'succeeded', notes: [] }));
  const isProduction = (o: Outcome): o is Production => o.action.kind === 'create' || o.action.kind === 'rotate';
  await mapPool(
    outcomes.filter((o) => !isProduction(o)),
    deps.concurrency,
    (o) => runOne(o, withLedger),
  );
  await produceAll(outcomes.filter(isProduction), withLedger);
  return outcomes;
}

async function runOne(outcome: Outcome, deps: ExecuteDeps & { ledger: Ledger }): Promise<void> {
  const { action, notes } = outcome;
  try {
    switch (action.kind) {
      case 'list':
        outcome.result = 'skipped';
        outcome.pat = action.pat;
        return;
      case 'skip':
        outcome.result = 'skipped';
        outcome.pat = action.pat;
        notes.push({ level: 'info', text: `Skipped: ${action.reason}.` });
        return;
      case 'renew':
        deps.ledger.check();
        outcome.pat = await deps.pats.update({ authorizationId: action.pat.authorizationId, validTo: action.validTo });
        warnIfClamped(action.validTo, outcome.pat, notes);
        notes.push({
          level: 'info',
          text: `Renewed ${action.pat.authorizationId}: valid to ${outcome.pat.validTo.toISOString()} (was ${action.pat.validTo.toISOString()}).`,
        });
        return;
      case 'revoke':
        deps.ledger.check();
        await deps.pats.revoke(action.pat.authorizationId);
        notes.push({ level: 'info', text: `Revoked ${action.pat.authorizationId}.` });
        return;
      default:
        throw new Error(`${action.kind} is carried out by produceAll`);
    }
  } catch (e) {
    outcome.result = 'failed';
    notes.push({ level: 'error', text: errorMessage(e) });
  }
}
