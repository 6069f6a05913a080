// create and rotate. Every new PAT goes through the same steps, in this order and no other:
//   create → check the answer → check for a rival run → verify → store (and read back) → retire the old one.
// The working token is never lost: until the new PAT is stored the old one is untouched, and a new PAT that fails a
// step is revoked (rolled back). The steps run as phases over all PATs of the run, each with `concurrency` in flight,
// so a bulk run lists once for rivals and writes each variable group once, instead of once per PAT. Every change is
// recorded in the ledger first, so a cancel or crash can undo it.
import type { NewPatToken, PatCreateRequest, PatToken } from '../ado/types';
import { splitScopes } from '../scopes';
import { createOnce, listedBefore } from './create';
import { Ledger } from './ledger';
import { errorMessage } from '../errorMessage';
import { warnIfClamped, type ExecuteDeps, type Outcome, type RunDeps } from './outcome';
import type { Action } from './plan';
import { retire } from './retire';
import { mapPool } from './pool';
import { storeConfirmed } from './storeConfirmed';

export type Production = Outcome & { action: Extract<Action, { kind: 'create' | 'rotate' }> };

/** A production still on its way: it has a new PAT and no step has failed. */
interface Live {
  o: Production;
  created: NewPatToken;
}

type Deps = RunDeps;

/** How long before this run began another run's new PAT may have been created and still be a rival. */
const RIVAL_WINDOW_MS = 10 * 60_000;

export async function produceAll(items: readonly Production[], execDeps: ExecuteDeps): Promise<void> {
  const deps: Deps = { ...execDeps, ledger: execDeps.ledger ?? new Ledger() };
  const ours = new Set<string>();
  let live = await createAll(items, deps, ours);
  live = await checkAnswers(live, deps);
  if (live.length > 0) live = await checkRivals(live, deps, ours);
  if (deps.verify) live = await verifyAll(live, deps, deps.verify);
  if (deps.store) live = await storeAll(live, deps);
  await retireAll(live, deps);
}

/** 1. Create. */
function createAll(items: readonly Production[], deps: Deps, ours: Set<string>): Promise<Live[]> {
  return phase(
    items.map((o) => ({ o })),
    deps,
    async ({ o }): Promise<Live> => {
      const { created, mayStillLand } = await createOnce(request(o), deps, o.notes, ours);
      if (mayStillLand) {
        // The first request got no answer at all: it may still make a PAT after the listing found none.
        o.result = 'succeededWithIssues';
        o.notes.push({
          level: 'warning',
          text: `The first request to create '${o.action.kind === 'create' ? o.action.displayName : o.action.old.displayName}' (sent at ${mayStillLand.toISOString()}) got no answer and may still make a PAT, stored nowhere: in a few minutes, check with operation list and revoke any PAT of this name other than ${created.authorizationId}.`,
        });
      }
      ours.add(created.authorizationId);
      o.pat = created;
      o.token = created.token;
      warnIfClamped(o.action.validTo, created, o.notes);
      o.notes.push({
        level: 'info',
        text: `Created ${created.authorizationId}: valid to ${created.validTo.toISOString()}.`,
      });
      return { o, created };
    },
  );
}

/** 2. The answer must be the PAT that was asked for: a broader, global, misnamed or dead PAT is not stored. */
function checkAnswers(live: Live[], deps: Deps): Promise<Live[]> {
  return phase(live, deps, async (l) => {
    const req = request(l.o);
    const got = l.created;
    const wrong: string[] = [];
    if (listedBefore(deps, got.authorizationId)) {
      wrong.push(`its authorizationId ${got.authorizationId} is not that of a new PAT`);
    }
    if (!/^[\x21-\x7e]+$/.test(got.token)) wrong.push('its token is not one word of printable characters');
    if (got.displayName !== req.displayName)
      wrong.push(`its name is '${got.displayName}' (asked for '${req.displayName}')`);
    const asked = new Set(splitScopes(req.scope.toLowerCase()));
    const gotScopes = splitScopes(got.scope.toLowerCase());
    const extra = gotScopes.filter((s) => !asked.has(s));
    if (extra.length > 0) wrong.push(`its scopes are '${got.scope}' (asked for '${req.scope}')`);
    if (!req.allOrgs && got.targetAccounts === null)
      wrong.push('it is global, valid in all organizations (asked for this organization only)');
    if (got.validTo.getTime() <= deps.now().getTime())
      wrong.push(`its validTo ${got.validTo.toISOString()} is already past`);
    else if (got.validTo.getTime() <= got.validFrom.getTime())
      wrong.push(`its validTo ${got.validTo.toISOString()} is not after its validFrom ${got.validFrom.toISOString()}`);
    if (wrong.length > 0) {
      throw await rollBack(
        l,
        deps,
        new Error(`Azure DevOps answered the create with a PAT other than the one asked for: ${wrong.join('; ')}.`),
      );
    }
    const missing = [...asked].filter((s) => !gotScopes.includes(s));
    if (missing.length > 0) {
      l.o.notes.push({
        level: 'warning',
        text: `The new PAT lacks scopes that were asked for (${missing.join(' ')}): Azure DevOps gave '${got.scope}'; its consumers may be refused.`,
      });
    }
    return l;
  });
}

/**
 * 3. Rivals. Two runs rotating one PAT at once would each store their own new PAT and leave the other's live and
 * stored nowhere. Each run lists after its own creates, so of two overlapping runs at least one sees the other's
 * new PAT: a live PAT of the name that it did not make, that is not the one it replaces, and that is new (not
 * listed when the run began, or created minutes before it — the other run may have created it just before this
 * run's first listing). Seeing one, it steps back.
 */
async function checkRivals(live: Live[], deps: Deps, ours: ReadonlySet<string>): Promise<Live[]> {
  let active: PatToken[] | undefined;
  let listError: unknown;
  try {
    active = await deps.pats.listAll('active');
  } catch (e) {
    listError = e;
  }
  return phase(live, deps, async (l) => {
    if (!active) throw await rollBack(l, deps, new Error(`Checking for other runs failed: ${errorMessage(listError)}`));
    // Older PATs of the name (superseded, left by retireOld shorten/keep) predate the one being replaced.
    const replaced = l.o.action.kind === 'rotate' ? l.o.action.old : undefined;
    const recent = deps.runStartedAt.getTime() - RIVAL_WINDOW_MS;
    const rival = active.find(
      (p) =>
        p.displayName === l.created.displayName &&
        !ours.has(p.authorizationId) &&
        (!replaced || (p.authorizationId !== replaced.authorizationId && p.validFrom > replaced.validFrom)) &&
        (!deps.knownIds.has(p.authorizationId) || p.validFrom.getTime() >= recent),
    );
    if (rival) {
      throw await rollBack(
        l,
        deps,
        new Error(
          `Another run is rotating '${l.created.displayName}' at the same time (it created ${rival.authorizationId}), so this run stepped back: let one run at a time rotate a PAT (an exclusive lock on the pipeline, or lockBehavior: sequential).`,
        ),
      );
    }
    return l;
  });
}

/** 4. Verify: Azure DevOps must accept the new PAT before anything depends on it. */
function verifyAll(live: Live[], deps: Deps, verify: (token: string) => Promise<void>): Promise<Live[]> {
  return phase(live, deps, async (l) => {
    try {
      await verify(l.created.token);
    } catch (e) {
      throw await rollBack(l, deps, new Error(`Verifying the new PAT failed: ${errorMessage(e)}`, { cause: e }));
    }
    l.o.notes.push({ level: 'info', text: 'Verified: Azure DevOps accepts the new PAT.' });
    return l;
  });
}

/**
 * 5. Store, all values of the run in one write, read back to confirm each (another writer may drop a value: it is
 * written again). A value known not to be stored is rolled back; one whose write may have landed is left live with
 * the old PAT, both named.
 */
async function storeAll(live: Live[], deps: Deps): Promise<Live[]> {
  const store = deps.store!;
  const storing = live.filter((l) => l.o.action.variableName);
  if (storing.length === 0) return live;
  deps.ledger.check();
  const idOf = new Map(storing.map((l) => [l.o.action.variableName!, l.created.authorizationId]));
  const results = await storeConfirmed(
    store,
    Object.fromEntries(storing.map((l) => [l.o.action.variableName!, l.created.token])),
    {
      // Marked right before its write is sent (checked and marked in one step): a stop before that revokes it.
      beforeWrite: (name) => deps.ledger.storing([idOf.get(name)!]),
      pats: Object.fromEntries(storing.map((l) => [l.o.action.variableName!, l.created])),
    },
  );
  return phase(
    live,
    deps,
    async (l) => {
      const name = l.o.action.variableName;
      if (!name) return l;
      const r = results.get(name)!;
      if (r.kind === 'unknown') {
        const old = l.o.action.kind === 'rotate' ? ` (old: ${l.o.action.old.authorizationId})` : '';
        throw new Error(
          `Storing the new PAT ${l.created.authorizationId} did not complete (${r.why}); ${store.where} may hold either PAT, so both were left live${old}: find out which one its consumers have (they work with it), then revoke the other (operation revoke with authorizationId).`,
        );
      }
      if (r.kind === 'notStored') {
        deps.ledger.notStored(l.created.authorizationId);
        throw await rollBack(l, deps, new Error(`Storing the new PAT failed: ${r.why}`));
      }
      deps.ledger.stored(l.created.authorizationId);
      if (r.mayStillLand) {
        // It carries the new PAT too, but an older copy of the rest: landing late, it would undo others' changes.
        l.o.result = 'succeededWithIssues';
        l.o.notes.push({
          level: 'warning',
          text: `An earlier write to ${store.where} got no answer and may still land: it holds the new PAT too, but may undo changes others made to it meanwhile; check it in a few minutes.`,
        });
      }
      l.o.storedIn = `${store.where} as '${name}'`;
      const again =
        r.writes > 1 ? `; written ${r.writes} times, as another writer had written the group meanwhile` : '';
      l.o.notes.push({
        level: 'info',
        text: `Stored in ${l.o.storedIn}${store.readsBack ? ` (read back${again})` : ''}.`,
      });
      return l;
    },
    live.length,
  );
}

/** 6. Retire the old PAT: only now is the new one in place. A failure leaves both live, which is safe. */
async function retireAll(live: Live[], deps: Deps): Promise<void> {
  await phase(live, deps, async (l) => {
    const action = l.o.action;
    if (action.kind !== 'rotate') return l;
    try {
      deps.ledger.retiringOld(action.old.authorizationId);
      l.o.notes.push({ level: 'info', text: await retire(action.old, action.retire, deps) });
      deps.ledger.retiredOld(action.old.authorizationId);
    } catch (e) {
      l.o.result = 'succeededWithIssues';
      l.o.notes.push({
        level: 'warning',
        text: `The new PAT is stored, but retiring the old PAT ${action.old.authorizationId} failed: ${errorMessage(e)} It is still live until ${action.old.validTo.toISOString()}: revoke it by hand or run again.`,
      });
    }
    return l;
  });
}

/** Runs one step over every item; an item whose step throws is marked failed (with the message) and drops out. */
async function phase<T extends { o: Production }, R>(
  items: readonly T[],
  deps: Deps,
  step: (item: T) => Promise<R>,
  concurrency = deps.concurrency,
): Promise<R[]> {
  const results = await mapPool(items, concurrency, async (item) => {
    try {
      return { ok: true as const, value: await step(item) };
    } catch (e) {
      item.o.result = 'failed';
      item.o.notes.push({ level: 'error', text: errorMessage(e) });
      return { ok: false as const };
    }
  });
  return results.flatMap((r) => (r.ok ? [r.value] : []));
}

function request(o: Production): PatCreateRequest {
  const a = o.action;
  return {
    displayName: a.kind === 'create' ? a.displayName : a.old.displayName,
    scope: a.scope,
    validTo: a.validTo,
    allOrgs: a.allOrgs,
  };
}

/** Rolls the new PAT back and returns the error to fail the item with, saying what state it left. */
async function rollBack(l: Live, deps: Deps, cause: Error): Promise<Error> {
  if (listedBefore(deps, l.created.authorizationId)) {
    // The answer named a PAT that existed before: revoking it could retire the working one.
    return new Error(
      `${cause.message} Nothing was revoked, as the answer did not name the new PAT: a PAT named '${l.created.displayName}' made by this run may be live and stored nowhere: check with operation list and revoke it. The old PAT and the store are unchanged.`,
      { cause },
    );
  }
  try {
    await deps.pats.revoke(l.created.authorizationId);
    deps.ledger.revoked(l.created.authorizationId);
    return new Error(
      `${cause.message} Rolled back: the new PAT ${l.created.authorizationId} was revoked; the old PAT and the store are unchanged.`,
      { cause },
    );
  } catch (e) {
    return new Error(
      `${cause.message} Rolling back failed too: the new PAT ${l.created.authorizationId} is still live and stored nowhere: revoke it by hand (${errorMessage(e)}). The old PAT and the store are unchanged.`,
      { cause },
    );
  }
}
