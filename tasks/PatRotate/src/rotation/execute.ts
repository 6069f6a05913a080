// Carries out planned actions: renew, revoke, list and skip here, one PAT at a time with `concurrency` in flight;
// create and rotate in produce.ts, where the order of their side effects is fixed.
import type { NewPatToken, PatCreateRequest, PatStatusFilter, PatToken, PatUpdateRequest } from '../ado/types';
import type { Action } from './plan';
import { mapPool } from './pool';
import { produceAll, type Production } from './produce';
import type { Store } from './stores';

export interface PatApi {
  listAll(filter: PatStatusFilter): Promise<PatToken[]>;
  create(req: PatCreateRequest): Promise<NewPatToken>;
  update(req: PatUpdateRequest): Promise<PatToken>;
  revoke(authorizationId: string): Promise<void>;
}

export interface ExecuteDeps {
  pats: PatApi;
  /** Proves a new PAT is accepted; undefined when verifyNewToken is off. */
  verify?: (token: string) => Promise<void>;
  store?: Store;
  /** Registers a value as secret with the agent before anything else sees it. */
  setSecret(value: string): void;
  now(): Date;
  /** When this run began: a PAT of ours created after it, whose create answer was lost, is an orphan. */
  runStartedAt: Date;
  /** Ids of every PAT listed before any change: anything else with a rotated name was made by this run. */
  knownIds: ReadonlySet<string>;
  graceHours: number;
  concurrency: number;
}

export type Result = 'succeeded' | 'succeededWithIssues' | 'failed' | 'skipped';

export interface Note {
  level: 'info' | 'warning' | 'error';
  text: string;
}

export interface Outcome {
  action: Action;
  result: Result;
  /** The PAT after this run: the new one for create/rotate, the renewed one for renew. */
  pat?: PatToken;
  /** The new value (create/rotate only). Already registered as a secret; never print it. */
  token?: string;
  storedIn?: string;
  notes: Note[];
}

export async function execute(actions: readonly Action[], deps: ExecuteDeps): Promise<Outcome[]> {
  const outcomes: Outcome[] = actions.map((action) => ({ action, result: 'succeeded', notes: [] }));
  const productions = outcomes.filter((o): o is Production => o.action.kind === 'create' || o.action.kind === 'rotate');
  await mapPool(outcomes.filter((o) => !productions.includes(o as Production)), deps.concurrency, (o) => runOne(o, deps));
  await produceAll(productions, deps);
  return outcomes;
}

async function runOne(outcome: Outcome, deps: ExecuteDeps): Promise<void> {
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
        outcome.pat = await deps.pats.update({ authorizationId: action.pat.authorizationId, validTo: action.validTo });
        warnIfClamped(action.validTo, outcome.pat, notes);
        notes.push({ level: 'info', text: `Renewed ${action.pat.authorizationId}: valid to ${outcome.pat.validTo.toISOString()} (was ${action.pat.validTo.toISOString()}).` });
        return;
      case 'revoke':
        await deps.pats.revoke(action.pat.authorizationId);
        notes.push({ level: 'info', text: `Revoked ${action.pat.authorizationId}.` });
        return;
      default:
        throw new Error(`${action.kind} is carried out by produceAll`);
    }
  } catch (e) {
    outcome.result = 'failed';
    notes.push({ level: 'error', text: message(e) });
  }
}

/** The service clamps validTo to the tenant's maximum lifespan instead of failing: say so. */
export function warnIfClamped(requested: Date, got: PatToken, notes: Note[]): void {
  if (got.validTo.getTime() < requested.getTime() - 60_000) {
    notes.push({ level: 'warning', text: `Azure DevOps shortened the validity to ${got.validTo.toISOString()} (asked for ${requested.toISOString()}): your tenant sets a maximum PAT lifespan.` });
  }
}

export function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The task result is the worst of the outcomes. */
export function worst(outcomes: readonly Outcome[]): Result {
  const rank: Record<Result, number> = { skipped: 0, succeeded: 1, succeededWithIssues: 2, failed: 3 };
  return outcomes.reduce<Result>((w, o) => (rank[o.result] > rank[w] ? o.result : w), 'skipped');
}
