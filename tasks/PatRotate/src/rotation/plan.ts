// The rotation rules, as pure code: (Config, listed PATs, now) → the actions to take. No I/O, no agent: every
// decision the task makes about which PAT to touch, and how, is here and unit-tested.
import type { PatToken } from '../ado/types';
import { ConfigError, type Selector } from '../config';
import type { Action, ListedPat, Plan, PlanInput } from './actions';
import { describeExpiry, expiryWarnings } from './expiry';
import { withVariableNames } from './variableNames';

export type { Action, ListedPat, PatStatus, Plan, PlanInput } from './actions';
export { describeExpiry, globalPatsEnd, GLOBAL_PATS_END } from './expiry';

const DAY_MS = 86_400_000;

/** True when expired PATs must be listed too: a list report, or a rotate whose PAT is not among the active ones. */
export function wantsExpired(input: PlanInput, active: readonly PatToken[]): boolean {
  if (input.operation === 'list') return true;
  if (input.operation !== 'rotate' || (input.selector.kind !== 'id' && input.selector.kind !== 'name')) return false;
  return (
    select(
      input.selector,
      active.map((p) => ({ ...p, status: 'active' as const })),
    ).length === 0
  );
}

export function plan(input: PlanInput, pats: readonly ListedPat[], now: Date): Plan {
  const actions = withVariableNames(input, chooseActions(input, select(input.selector, pats), now));
  return { actions, warnings: expiryWarnings(input, actions, now) };
}

/** What to do with each selected PAT (skips included), before variable names are given. */
function chooseActions(input: PlanInput, selected: ListedPat[], now: Date): Action[] {
  const validTo = new Date(now.getTime() + input.validityDays * DAY_MS);
  const dueBy = new Date(now.getTime() + input.rotateWithinDays * DAY_MS);
  const isDue = (p: ListedPat): boolean => input.rotateWithinDays === 0 || p.status === 'expired' || p.validTo <= dueBy;
  const create = (displayName: string): Action => ({
    kind: 'create',
    displayName,
    scope: scopeText(input.scopes),
    allOrgs: input.allOrgs,
    validTo,
  });
  const notDue = (p: ListedPat, verb: string): Action => ({
    kind: 'skip',
    pat: p,
    reason: `${describeExpiry(p, now)}; ${verb} within ${input.rotateWithinDays} days of expiry`,
  });

  switch (input.operation) {
    case 'list':
    case 'audit': // never planned: app/audit.ts runs it
      return selected.map((pat) => ({ kind: 'list', pat }));
    case 'create': {
      if (input.selector.kind !== 'name')
        throw new ConfigError('displayName', 'create needs the exact name of the new PAT.');
      const live = selected.filter((p) => p.status === 'active');
      if (live.length > 0) {
        throw new ConfigError(
          'displayName',
          `a live PAT named '${input.selector.displayName}' already exists (${ids(live)}): use operation rotate, or another name (two PATs with one name make later runs ambiguous).`,
        );
      }
      return [create(input.selector.displayName)];
    }
    case 'rotate': {
      const { chosen, superseded } = single(input, selected, latestPerName, now);
      if (chosen.length === 0 && input.createIfMissing && input.selector.kind === 'name')
        return [...superseded, create(input.selector.displayName)];
      requireSome(input, chosen);
      return [
        ...superseded,
        ...chosen.map((old): Action =>
          isDue(old)
            ? {
                kind: 'rotate',
                old,
                validTo,
                retire: input.retireOld,
                scope: input.scopes ? scopeText(input.scopes) : old.scope,
                allOrgs: old.targetAccounts === null,
              }
            : notDue(old, 'rotates'),
        ),
      ];
    }
    case 'renew': {
      const { chosen, superseded } = single(
        input,
        selected.filter((p) => p.status === 'active'),
        (s) => s,
        now,
      );
      requireSome(input, chosen);
      return [
        ...superseded,
        ...chosen.map((pat): Action =>
          !isDue(pat)
            ? notDue(pat, 'renews')
            : pat.validTo >= validTo
              ? { kind: 'skip', pat, reason: `already valid beyond ${input.validityDays} days from now` }
              : { kind: 'renew', pat, validTo },
        ),
      ];
    }
    case 'revoke': {
      const { chosen, superseded } = single(
        input,
        selected.filter((p) => p.status === 'active'),
        (s) => s,
        now,
      );
      requireSome(input, chosen);
      return [...superseded, ...chosen.map((pat): Action => ({ kind: 'revoke', pat }))];
    }
  }
}

function select(selector: Selector, pats: readonly ListedPat[]): ListedPat[] {
  switch (selector.kind) {
    case 'id':
      return pats.filter((p) => p.authorizationId.toLowerCase() === selector.authorizationId);
    case 'name': {
      const exact = pats.filter((p) => p.displayName === selector.displayName);
      const active = exact.filter((p) => p.status === 'active');
      return active.length > 0 ? active : exact;
    }
    case 'prefix':
      return pats.filter((p) => p.displayName.startsWith(selector.prefix) && p.status === 'active');
    case 'all':
      return [...pats];
  }
}

/**
 * Which of the selected PATs to act on. A rotation with retireOld shorten or keep leaves the old PAT live under the
 * same name, so for rotate and renew the newest PAT of a name is its current one and older ones are skipped as
 * superseded — in bulk always, for an exact name when retireOld says such leftovers are expected. Otherwise two live
 * PATs sharing the exact name a single-PAT action needs is an error that lists their ids (revoke always asks).
 */
function single(
  input: PlanInput,
  selected: ListedPat[],
  pick: (s: ListedPat[]) => ListedPat[],
  now: Date,
): { chosen: ListedPat[]; superseded: Action[] } {
  const active = selected.filter((p) => p.status === 'active');
  const bulk = input.selector.kind === 'prefix' || input.selector.kind === 'all';
  const newestWins =
    input.operation !== 'revoke' && input.selector.kind !== 'id' && (bulk || input.retireOld !== 'revoke');
  if (input.selector.kind === 'name' && active.length > 1 && !newestWins) {
    const recent = active.some((p) => now.getTime() - p.validFrom.getTime() < 10 * 60_000);
    const race = recent
      ? ' (one was created minutes ago: if another run may be rotating it right now, let one run at a time rotate a PAT)'
      : '';
    throw new ConfigError(
      'displayName',
      `${active.length} PATs are named '${input.selector.displayName}' (${ids(active)}): set authorizationId to choose one, and revoke the others${race}.`,
    );
  }
  const { newest, superseded } = newestWins ? newestPerName(active) : { newest: active, superseded: [] };
  const current = new Set(newest);
  if (input.selector.kind === 'name') return { chosen: current.size > 0 ? [...current] : pick(selected), superseded };
  return { chosen: selected.filter((p) => p.status !== 'active' || current.has(p)), superseded };
}

/** The newest live PAT of each name; the older ones become skips that say which PAT superseded them. */
function newestPerName(active: ListedPat[]): { newest: ListedPat[]; superseded: Action[] } {
  const byName = new Map<string, ListedPat>();
  for (const p of active) {
    const n = byName.get(p.displayName);
    if (!n || p.validFrom > n.validFrom) byName.set(p.displayName, p);
  }
  const superseded = active
    .filter((p) => byName.get(p.displayName) !== p)
    .map((p): Action => {
      const current = byName.get(p.displayName)!;
      return {
        kind: 'skip',
        pat: p,
        reason: `superseded by the newer PAT of this name, ${current.authorizationId}`,
        supersededBy: current.authorizationId,
      };
    });
  return { newest: active.filter((p) => byName.get(p.displayName) === p), superseded };
}

/** Among expired PATs of one name (none live), the most recent is the one to replace. */
function latestPerName(expired: ListedPat[]): ListedPat[] {
  const latest = expired.reduce<ListedPat | undefined>((a, p) => (!a || p.validTo > a.validTo ? p : a), undefined);
  return latest ? [latest] : [];
}

function requireSome(input: PlanInput, chosen: ListedPat[]): void {
  if (chosen.length > 0 || input.selector.kind === 'prefix' || input.selector.kind === 'all') return;
  if (input.selector.kind === 'id') {
    throw new ConfigError(
      'authorizationId',
      `no ${input.operation === 'rotate' ? '' : 'live '}PAT with id ${input.selector.authorizationId} belongs to the signed-in user in this organization: check the id (operation list shows them).`,
    );
  }
  const hint = input.operation === 'rotate' ? ', or set createIfMissing with scopes to create it' : '';
  throw new ConfigError(
    'displayName',
    `no ${input.operation === 'rotate' ? '' : 'live '}PAT named '${input.selector.displayName}' belongs to the signed-in user in this organization: check the name (operation list shows them)${hint}.`,
  );
}

function scopeText(scopes: string[] | undefined): string {
  return (scopes ?? []).join(' ');
}

function ids(pats: ListedPat[]): string {
  return pats.map((p) => p.authorizationId).join(', ');
}
