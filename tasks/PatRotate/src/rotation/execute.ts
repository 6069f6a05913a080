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
        if (action.variableName && deps.store?.extendExpiry) await followExpiry(outcome, action.variableName, deps);
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

/**
 * The store's expiry of a renewed PAT follows it (Key Vault: readers such as AzureKeyVault@2 skip expired secrets).
 * The PAT is renewed either way: a failure here is a warning.
 */
async function followExpiry(outcome: Outcome, name: string, deps: ExecuteDeps): Promise<void> {
  const { store } = deps;
  const pat = outcome.pat!;
  try {
    const result = await store!.extendExpiry!(name, pat.authorizationId, pat.validTo);
    outcome.notes.push(
      result === 'extended'
        ? { level: 'info', text: `The expiry of ${store!.where} secret '${name}' now follows it.` }
        : {
            level: 'info',
            text: `${store!.where} secret '${name}' ${result === 'missing' ? 'does not exist' : 'holds another PAT'}: its expiry was left as it is.`,
          },
    );
  } catch (e) {
    outcome.result = 'succeededWithIssues';
    outcome.notes.push({
      level: 'warning',
      text: `Renewed, but the expiry of ${store!.where} secret '${name}' was not updated (${errorMessage(e)}): readers that skip expired secrets may stop seeing it after ${outcome.action.kind === 'renew' ? outcome.action.pat.validTo.toISOString() : '?'}; update it by hand.`,
    });
  }
}
