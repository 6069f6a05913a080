// Retiring the old PAT once the new one is stored: revoke it, shorten it to the grace period, or keep it.
import type { Action, ListedPat } from './actions';
import type { RunDeps } from './outcome';

const HOUR_MS = 3_600_000;

export async function retire(
  old: ListedPat,
  mode: Extract<Action, { kind: 'rotate' }>['retire'],
  deps: RunDeps,
): Promise<string> {
  if (old.status === 'expired') return `The old PAT ${old.authorizationId} had already expired.`;
  if (mode === 'keep')
    return `Kept the old PAT ${old.authorizationId} (retireOld: keep): it stays valid until ${old.validTo.toISOString()}.`;
  if (mode === 'revoke') {
    await deps.pats.revoke(old.authorizationId);
    return `Revoked the old PAT ${old.authorizationId}.`;
  }
  const graceEnd = new Date(deps.now().getTime() + deps.graceHours * HOUR_MS);
  if (graceEnd >= old.validTo)
    return `The old PAT ${old.authorizationId} expires within the grace period anyway (${old.validTo.toISOString()}).`;
  await deps.pats.update({ authorizationId: old.authorizationId, validTo: graceEnd });
  return `Shortened the old PAT ${old.authorizationId}: it stops working at ${graceEnd.toISOString()}.`;
}
