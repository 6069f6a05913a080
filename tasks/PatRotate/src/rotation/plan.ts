// The rotation rules, as pure code: (Config, listed PATs, now) → the actions to take. No I/O, no agent: every
// decision the task makes about which PAT to touch, and how, is here and unit-tested.
import type { PatToken } from '../ado/types';
import { ConfigError, isOutputName, OUTPUT_CLASH, reservedVariableName, sameVariable, type Config, type RetireMode, type Selector } from '../config';
import { daysLeftText } from './days';

export type PatStatus = 'active' | 'expired';
export interface ListedPat extends PatToken {
  status: PatStatus;
}

export type Action =
  | { kind: 'create'; displayName: string; scope: string; allOrgs: boolean; validTo: Date; variableName?: string }
  | { kind: 'rotate'; old: ListedPat; scope: string; allOrgs: boolean; validTo: Date; variableName?: string; retire: RetireMode }
  | { kind: 'renew'; pat: ListedPat; validTo: Date }
  | { kind: 'revoke'; pat: ListedPat }
  | { kind: 'list'; pat: ListedPat }
  | { kind: 'skip'; pat: ListedPat; reason: string; supersededBy?: string };

export interface Plan {
  actions: Action[];
  /** Expiry warnings for selected PATs this run does not refresh, and global-PAT retirement warnings. */
  warnings: string[];
}

export type PlanInput = Pick<
  Config,
  'operation' | 'selector' | 'scopes' | 'validityDays' | 'allOrgs' | 'rotateWithinDays' | 'warnWithinDays' | 'createIfMissing' | 'retireOld' | 'target'
> & {
  /** Variables of the target no PAT may be stored as (the refresh token's, plain ones), each with the reason. */
  protectedVariables?: readonly { name: string; why: string }[];
};

/** Global (all-organization) PATs stopped working on this day. */
export const GLOBAL_PATS_END = new Date('2026-12-01T00:00:00Z');

/** "stop working on 2026-12-01" before that day, "stopped working on 2026-12-01" from it on. */
export function globalPatsEnd(now: Date): string {
  return `${now >= GLOBAL_PATS_END ? 'stopped' : 'stop'} working on 2026-12-01`;
}

const DAY_MS = 86_400_000;

/** True when expired PATs must be listed too: a list report, or a rotate whose PAT is not among the active ones. */
export function wantsExpired(input: PlanInput, active: readonly PatToken[]): boolean {
  if (input.operation === 'list') return true;
  if (input.operation !== 'rotate' || (input.selector.kind !== 'id' && input.selector.kind !== 'name')) return false;
  return select(input.selector, active.map((p) => ({ ...p, status: 'active' as const }))).length === 0;
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
  const create = (displayName: string): Action => ({ kind: 'create', displayName, scope: scopeText(input.scopes), allOrgs: input.allOrgs, validTo });
  const notDue = (p: ListedPat, verb: string): Action => ({ kind: 'skip', pat: p, reason: `${describeExpiry(p, now)}; ${verb} within ${input.rotateWithinDays} days of expiry` });

  switch (input.operation) {
    case 'list':
      return selected.map((pat) => ({ kind: 'list', pat }));
    case 'create': {
      if (input.selector.kind !== 'name') throw new ConfigError('displayName', 'create needs the exact name of the new PAT.');
      const live = selected.filter((p) => p.status === 'active');
      if (live.length > 0) {
        throw new ConfigError('displayName', `a live PAT named '${input.selector.displayName}' already exists (${ids(live)}): use operation rotate, or another name (two PATs with one name make later runs ambiguous).`);
      }
      return [create(input.selector.displayName)];
    }
    case 'rotate': {
      const { chosen, superseded } = single(input, selected, latestPerName, now);
      if (chosen.length === 0 && input.createIfMissing && input.selector.kind === 'name') return [...superseded, create(input.selector.displayName)];
      requireSome(input, chosen);
      return [...superseded, ...chosen.map((old): Action => (isDue(old)
        ? { kind: 'rotate', old, validTo, retire: input.retireOld, scope: input.scopes ? scopeText(input.scopes) : old.scope, allOrgs: old.targetAccounts === null }
        : notDue(old, 'rotates')))];
    }
    case 'renew': {
      const { chosen, superseded } = single(input, selected.filter((p) => p.status === 'active'), (s) => s, now);
      requireSome(input, chosen);
      return [...superseded, ...chosen.map((pat): Action => (!isDue(pat) ? notDue(pat, 'renews')
        : pat.validTo >= validTo ? { kind: 'skip', pat, reason: `already valid beyond ${input.validityDays} days from now` }
          : { kind: 'renew', pat, validTo }))];
    }
    case 'revoke': {
      const { chosen, superseded } = single(input, selected.filter((p) => p.status === 'active'), (s) => s, now);
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
function single(input: PlanInput, selected: ListedPat[], pick: (s: ListedPat[]) => ListedPat[], now: Date): { chosen: ListedPat[]; superseded: Action[] } {
  const active = selected.filter((p) => p.status === 'active');
  const bulk = input.selector.kind === 'prefix' || input.selector.kind === 'all';
  const newestWins = input.operation !== 'revoke' && input.selector.kind !== 'id' && (bulk || input.retireOld !== 'revoke');
  if (input.selector.kind === 'name' && active.length > 1 && !newestWins) {
    const recent = active.some((p) => now.getTime() - p.validFrom.getTime() < 10 * 60_000);
    const race = recent ? ' (one was created minutes ago: if another run may be rotating it right now, let one run at a time rotate a PAT)' : '';
    throw new ConfigError('displayName', `${active.length} PATs are named '${input.selector.displayName}' (${ids(active)}): set authorizationId to choose one, and revoke the others${race}.`);
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
  const superseded = active.filter((p) => byName.get(p.displayName) !== p).map((p): Action => {
    const current = byName.get(p.displayName)!;
    return { kind: 'skip', pat: p, reason: `superseded by the newer PAT of this name, ${current.authorizationId}`, supersededBy: current.authorizationId };
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
    throw new ConfigError('authorizationId', `no ${input.operation === 'rotate' ? '' : 'live '}PAT with id ${input.selector.authorizationId} belongs to the signed-in user in this organization: check the id (operation list shows them).`);
  }
  const hint = input.operation === 'rotate' ? ', or set createIfMissing with scopes to create it' : '';
  throw new ConfigError('displayName', `no ${input.operation === 'rotate' ? '' : 'live '}PAT named '${input.selector.displayName}' belongs to the signed-in user in this organization: check the name (operation list shows them)${hint}.`);
}

/** Where each new PAT goes (a copy of each action, with its variable name). Every new value needs a place of its own. */
function withVariableNames(input: PlanInput, actions: Action[]): Action[] {
  const producing = actions.filter((a): a is Extract<Action, { kind: 'create' | 'rotate' }> => a.kind === 'create' || a.kind === 'rotate');
  const bulk = input.selector.kind === 'prefix' || input.selector.kind === 'all';
  if (input.target.kind === 'none') {
    if (bulk && producing.length > 0) {
      throw new ConfigError('target', 'several PATs may be rotated, and with target none their new values would be lost (the token output holds one PAT only): store them with target variable or variableGroup and {displayName} in variableName.');
    }
    // The one new PAT goes to the secret output `token`, as soon as it is verified.
    return actions.map((a) => (a.kind === 'create' || a.kind === 'rotate' ? { ...a, variableName: 'token' } : a));
  }
  const template = input.target.variableName;
  if (bulk && !template.includes('{displayName}') && producing.length > 0) {
    throw new ConfigError('variableName', `several PATs may be rotated into one variable: put {displayName} in variableName (e.g. "PAT.{displayName}").`);
  }
  const taken = new Map<string, string>();
  return actions.map((a) => {
    if (a.kind !== 'create' && a.kind !== 'rotate') return a;
    const name = a.kind === 'create' ? a.displayName : a.old.displayName;
    const variableName = template.replace(/\{displayName\}/g, name.replace(/[^A-Za-z0-9._-]/g, '_'));
    // Variable names are case-insensitive, and sanitising can make two names one.
    const other = taken.get(variableName.toLowerCase());
    if (other !== undefined) {
      throw new ConfigError('variableName', `PATs '${other}' and '${name}' would both be stored as '${variableName}': rename one of the PATs, or narrow the selection.`);
    }
    taken.set(variableName.toLowerCase(), name);
    const reserved = reservedVariableName(variableName);
    if (reserved) throw new ConfigError('variableName', `PAT '${name}' would be stored as ${reserved}`);
    if (input.target.kind === 'variable' && isOutputName(variableName)) throw new ConfigError('variableName', `PAT '${name}' would be stored as '${variableName}', which ${OUTPUT_CLASH}`);
    const clash = input.protectedVariables?.find((p) => sameVariable(p.name, variableName));
    if (clash) throw new ConfigError('variableName', `PAT '${name}' would be stored as '${variableName}', ${clash.why}. Use another variableName.`);
    return { ...a, variableName };
  });
}

/** Expiry warnings for PATs this run does not refresh, and a warning for every global PAT it rotates. */
function expiryWarnings(input: PlanInput, actions: Action[], now: Date): string[] {
  const warnBy = now.getTime() + input.warnWithinDays * DAY_MS;
  const warnings: string[] = [];
  for (const a of actions) {
    if (a.kind === 'rotate' && a.allOrgs) {
      warnings.push(`PAT '${a.old.displayName}' is global (all organizations), so its replacement is too; global PATs ${globalPatsEnd(now)}: recreate it for one organization (operation create, allOrgs false) and revoke this one.`);
    }
    if (a.kind === 'revoke' && a.pat.targetAccounts === null && input.selector.kind !== 'id' && input.selector.kind !== 'name') {
      warnings.push(`Revoking PAT '${a.pat.displayName}' (${a.pat.authorizationId}), which is global: it is valid in all your organizations, so consumers in other organizations lose it too.`);
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

function scopeText(scopes: string[] | undefined): string {
  return (scopes ?? []).join(' ');
}

function ids(pats: ListedPat[]): string {
  return pats.map((p) => p.authorizationId).join(', ');
}
