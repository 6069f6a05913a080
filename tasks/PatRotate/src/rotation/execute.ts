// Carries out planned actions. The order of side effects for one rotation is fixed here and nowhere else:
// create the new PAT → verify it → store it → retire the old one. The working token is never lost: if verify or
// store fails, the new PAT is revoked and the old one and the store are left as they were.
import { AdoError } from '../ado/errors';
import type { NewPatToken, PatCreateRequest, PatStatusFilter, PatToken, PatUpdateRequest } from '../ado/types';
import type { Action, ListedPat } from './plan';
import { batched } from './batched';
import { mapPool } from './pool';
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

const HOUR_MS = 3_600_000;

/** What the workers of one run share. */
interface RunState {
  /** PATs this run created. */
  ours: Set<string>;
  /** A listing of active PATs that starts after the call (bulk creates that finish together share one). */
  freshList: () => Promise<PatToken[]>;
}

export function execute(actions: readonly Action[], deps: ExecuteDeps): Promise<Outcome[]> {
  const run: RunState = { ours: new Set(), freshList: batched<void, PatToken[]>(() => deps.pats.listAll('active')) };
  return mapPool(actions, deps.concurrency, (action) => runOne(action, deps, run));
}

async function runOne(action: Action, deps: ExecuteDeps, run: RunState): Promise<Outcome> {
  const notes: Note[] = [];
  const outcome: Outcome = { action, result: 'succeeded', notes };
  try {
    switch (action.kind) {
      case 'list':
        outcome.result = 'skipped';
        outcome.pat = action.pat;
        return outcome;
      case 'skip':
        outcome.result = 'skipped';
        outcome.pat = action.pat;
        notes.push({ level: 'info', text: `Skipped: ${action.reason}.` });
        return outcome;
      case 'renew':
        outcome.pat = await deps.pats.update({ authorizationId: action.pat.authorizationId, validTo: action.validTo });
        warnIfClamped(action.validTo, outcome.pat, notes);
        notes.push({ level: 'info', text: `Renewed ${action.pat.authorizationId}: valid to ${outcome.pat.validTo.toISOString()} (was ${action.pat.validTo.toISOString()}).` });
        return outcome;
      case 'revoke':
        await deps.pats.revoke(action.pat.authorizationId);
        notes.push({ level: 'info', text: `Revoked ${action.pat.authorizationId}.` });
        return outcome;
      case 'create':
      case 'rotate':
        return await produce(action, deps, outcome, run);
    }
  } catch (e) {
    outcome.result = 'failed';
    notes.push({ level: 'error', text: message(e) });
    return outcome;
  }
}

/** create or rotate: the new PAT must be verified and stored before the old one is retired. */
async function produce(action: Extract<Action, { kind: 'create' | 'rotate' }>, deps: ExecuteDeps, outcome: Outcome, run: RunState): Promise<Outcome> {
  const notes = outcome.notes;
  const displayName = action.kind === 'create' ? action.displayName : action.old.displayName;
  const request: PatCreateRequest = { displayName, scope: action.scope, validTo: action.validTo, allOrgs: action.allOrgs };

  const created = await createOnce(request, deps, notes);
  run.ours.add(created.authorizationId);
  outcome.pat = created;
  outcome.token = created.token;
  warnIfClamped(action.validTo, created, notes);
  notes.push({ level: 'info', text: `Created ${created.authorizationId}: valid to ${created.validTo.toISOString()}.` });

  // Check for a rival run, verify, then store. Any of them failing means the new PAT must not survive: the old one
  // still works.
  let stage: 'check' | 'verify' | 'store' = 'check';
  try {
    const rival = await findRival(created, deps, run);
    if (rival) {
      throw new Error(`Another run is rotating '${displayName}' at the same time (it created ${rival.authorizationId}), so this run stepped back: let one run at a time rotate a PAT (an exclusive lock on the pipeline, or lockBehavior: sequential).`);
    }
    stage = 'verify';
    if (deps.verify) {
      await deps.verify(created.token);
      notes.push({ level: 'info', text: 'Verified: Azure DevOps accepts the new PAT.' });
    }
    stage = 'store';
    if (deps.store && action.variableName) {
      await deps.store.put(action.variableName, created.token);
      outcome.storedIn = `${deps.store.where} as '${action.variableName}'`;
      notes.push({ level: 'info', text: `Stored in ${outcome.storedIn}.` });
    }
  } catch (e) {
    if (stage === 'store' && e instanceof AdoError && e.lostResponse) {
      // The write may or may not have landed, and a secret cannot be read back: keep both PATs live.
      throw new Error(`Storing the new PAT ${created.authorizationId} failed with no answer (${e.message}); ${deps.store?.where} may hold either PAT, so both were left live${action.kind === 'rotate' ? ` (old: ${action.old.authorizationId})` : ''}: run again to finish.`, { cause: e });
    }
    const what = stage === 'check' ? '' : `${stage === 'verify' ? 'Verifying' : 'Storing'} the new PAT failed: `;
    throw new Error(`${what}${message(e)} ${await rollBack(created, deps)}`, { cause: e });
  }

  if (action.kind === 'rotate') {
    try {
      const retired = await retire(action.old, action.retire, deps);
      notes.push({ level: 'info', text: retired });
    } catch (e) {
      outcome.result = 'succeededWithIssues';
      notes.push({ level: 'warning', text: `The new PAT is stored, but retiring the old PAT ${action.old.authorizationId} failed: ${message(e)} It is still live until ${action.old.validTo.toISOString()}: revoke it by hand or run again.` });
    }
  }
  return outcome;
}

/**
 * Creates a PAT. POST is never retried blindly: a create whose answer was lost may still have made a PAT whose
 * value nobody will ever see. Find such orphans (same name, not listed before this run), revoke them, then try once more.
 */
async function createOnce(request: PatCreateRequest, deps: ExecuteDeps, notes: Note[]): Promise<NewPatToken> {
  try {
    return secret(await deps.pats.create(request), deps);
  } catch (e) {
    if (!(e instanceof AdoError && e.lostResponse)) throw e;
    notes.push({ level: 'warning', text: `The answer to creating '${request.displayName}' was lost (${e.message}); looking for a PAT it may have made.` });
    const since = deps.runStartedAt.getTime() - 5 * 60_000;
    const orphans = (await deps.pats.listAll('active')).filter(
      (p) => p.displayName === request.displayName && !deps.knownIds.has(p.authorizationId) && p.validFrom.getTime() >= since,
    );
    for (const orphan of orphans) {
      await deps.pats.revoke(orphan.authorizationId);
      notes.push({ level: 'warning', text: `Revoked ${orphan.authorizationId}, created by the lost request: its value was never received.` });
    }
    return secret(await deps.pats.create(request), deps);
  }
}

/**
 * Two runs rotating one PAT at once would each store their own new PAT, and one would be left live and stored
 * nowhere. Each run lists after its own create, so of two overlapping runs at least one sees the other's PAT (a PAT
 * of this name that did not exist when the run began and is not its own) and steps back.
 */
async function findRival(created: PatToken, deps: ExecuteDeps, run: RunState): Promise<PatToken | undefined> {
  const same = (await run.freshList()).filter((p) => p.displayName === created.displayName);
  return same.find((p) => !deps.knownIds.has(p.authorizationId) && !run.ours.has(p.authorizationId));
}

function secret(created: NewPatToken, deps: ExecuteDeps): NewPatToken {
  deps.setSecret(created.token);
  return created;
}

async function rollBack(created: PatToken, deps: ExecuteDeps): Promise<string> {
  try {
    await deps.pats.revoke(created.authorizationId);
    return `Rolled back: the new PAT ${created.authorizationId} was revoked; the old PAT and the store are unchanged.`;
  } catch (e) {
    return `Rolling back failed too: the new PAT ${created.authorizationId} is still live and stored nowhere: revoke it by hand (${message(e)}). The old PAT and the store are unchanged.`;
  }
}

async function retire(old: ListedPat, mode: Extract<Action, { kind: 'rotate' }>['retire'], deps: ExecuteDeps): Promise<string> {
  if (old.status === 'expired') return `The old PAT ${old.authorizationId} had already expired.`;
  if (mode === 'keep') return `Kept the old PAT ${old.authorizationId} (retireOld: keep): it stays valid until ${old.validTo.toISOString()}.`;
  if (mode === 'revoke') {
    await deps.pats.revoke(old.authorizationId);
    return `Revoked the old PAT ${old.authorizationId}.`;
  }
  const graceEnd = new Date(deps.now().getTime() + deps.graceHours * HOUR_MS);
  if (graceEnd >= old.validTo) return `The old PAT ${old.authorizationId} expires within the grace period anyway (${old.validTo.toISOString()}).`;
  await deps.pats.update({ authorizationId: old.authorizationId, validTo: graceEnd });
  return `Shortened the old PAT ${old.authorizationId}: it stops working at ${graceEnd.toISOString()}.`;
}

/** The service clamps validTo to the tenant's maximum lifespan instead of failing: say so. */
function warnIfClamped(requested: Date, got: PatToken, notes: Note[]): void {
  if (got.validTo.getTime() < requested.getTime() - 60_000) {
    notes.push({ level: 'warning', text: `Azure DevOps shortened the validity to ${got.validTo.toISOString()} (asked for ${requested.toISOString()}): your tenant sets a maximum PAT lifespan.` });
  }
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The task result is the worst of the outcomes. */
export function worst(outcomes: readonly Outcome[]): Result {
  const rank: Record<Result, number> = { skipped: 0, succeeded: 1, succeededWithIssues: 2, failed: 3 };
  return outcomes.reduce<Result>((w, o) => (rank[o.result] > rank[w] ? o.result : w), 'skipped');
}
