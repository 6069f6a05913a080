// What executing a plan needs and gives back, shared by execute.ts (renew, revoke, list, skip) and produce.ts
// (create, rotate).
import type { NewPatToken, PatCreateRequest, PatStatusFilter, PatToken, PatUpdateRequest } from '../ado/types';
import type { Ledger } from './ledger';
import type { Action } from './plan';
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
  /** When this run began: another run's PAT created shortly before it may still be a rival (see produce.ts). */
  runStartedAt: Date;
  /** Ids of every PAT listed before any change: anything else with a rotated name was made by this run. */
  knownIds: ReadonlySet<string>;
  graceHours: number;
  concurrency: number;
  /** Records each change as it happens, for a cancel or crash to undo; a run without one keeps its own. */
  ledger?: Ledger;
}

/** What the steps of a run share, with the ledger every change is recorded in. */
export type RunDeps = ExecuteDeps & { ledger: Ledger };

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

/** The service clamps validTo to the tenant's maximum lifespan instead of failing: say so. */
export function warnIfClamped(requested: Date, got: PatToken, notes: Note[]): void {
  if (got.validTo.getTime() < requested.getTime() - 60_000) {
    notes.push({
      level: 'warning',
      text: `Azure DevOps shortened the validity to ${got.validTo.toISOString()} (asked for ${requested.toISOString()}): your tenant sets a maximum PAT lifespan.`,
    });
  }
}

/** The task result is the worst of the outcomes. */
export function worst(outcomes: readonly Outcome[]): Result {
  const rank: Record<Result, number> = { skipped: 0, succeeded: 1, succeededWithIssues: 2, failed: 3 };
  return outcomes.reduce<Result>((w, o) => (rank[o.result] > rank[w] ? o.result : w), 'skipped');
}
