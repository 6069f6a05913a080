// The one way values are stored: write, read back, write again what another writer dropped, and say per value what
// became of it (see the Store contract in ./stores.ts).
import { AdoError } from '../ado/errors';
import type { PatToken } from '../ado/types';
import { errorMessage } from '../errorMessage';
import { sleep } from '../time';
import { MAX_STORE_WRITES, StoreWriteError, type Held, type Store, type StoreResult, type StoreWrite } from './stores';

/** The longest wait between two writes (a Retry-After may ask for more). */
const MAX_STORE_WAIT_MS = 30_000;

/**
 * Stores `values` and confirms each one by reading the store back. A value missing after a write that succeeded was
 * dropped by another writer (a PUT of theirs built on an older read): it is written again, up to MAX_STORE_WRITES.
 */
export async function storeConfirmed(
  store: Store,
  values: Readonly<Record<string, string>>,
  {
    wait = sleep,
    beforeWrite = () => undefined,
    pats,
  }: {
    wait?: (ms: number) => Promise<void>;
    /**
     * Runs right before each value's write is sent (every write of it): e.g. the ledger's mark, which throws once the
     * run is stopping, so no write begins after a stop. Its error is thrown on.
     */
    beforeWrite?: (name: string) => void;
    pats?: Readonly<Record<string, PatToken>>;
  } = {},
): Promise<Map<string, StoreResult>> {
  let halted: { error: unknown } | undefined;
  const before = (name: string): void => {
    try {
      beforeWrite(name);
    } catch (error) {
      halted = { error };
      throw error;
    }
  };
  const results = new Map<string, StoreResult>();
  let pending = { ...values };
  let last = new Map<string, Held>();
  /** Names a failed write of this run may have put there: never "not stored" after that. */
  const maybe = new Set<string>();
  /** Names a write of this run got no answer for: it may still land, after a later write. */
  const late = new Set<string>();
  for (let write = 1; write <= MAX_STORE_WRITES && Object.keys(pending).length > 0; write++) {
    const names = Object.keys(pending);
    let written: StoreWrite;
    try {
      written = await store.putAll(pending, { pats, before });
    } catch (e) {
      if (halted) throw halted.error;
      let failed = names;
      if (e instanceof StoreWriteError && e.partial) {
        // The values whose write succeeded are checked now; only the others failed.
        const ok = names.filter((n) => e.partial!.names.includes(n));
        failed = names.filter((n) => !ok.includes(n));
        const held = await checked(store, ok, e.partial.written, results);
        ok.forEach((n) => last.set(n, held.get(n) ?? 'unsure'));
        ok.filter((n) => held.get(n) === 'held').forEach((n) => {
          results.set(n, { kind: 'stored', writes: write, ...(late.has(n) ? { mayStillLand: true } : {}) });
        });
        pending = Object.fromEntries(Object.entries(pending).filter(([n]) => !results.has(n)));
        // Every write that failed turned out to have landed: nothing is left to write.
        if (Object.keys(pending).length === 0) break;
      }
      failed.filter((n) => !(e instanceof StoreWriteError && e.landed(n) === 'no')).forEach((n) => maybe.add(n));
      // No answer at all: that write may still land later, with its older copy of the store.
      if (e instanceof Error && e.cause instanceof AdoError && e.cause.unanswered) failed.forEach((n) => late.add(n));
      if (e instanceof StoreWriteError && e.retryAfterMs !== undefined && write < MAX_STORE_WRITES) {
        await wait(Math.min(e.retryAfterMs, MAX_STORE_WAIT_MS));
        continue;
      }
      const why = errorMessage(e);
      for (const n of Object.keys(pending)) {
        const unsure = maybe.has(n) || last.get(n) === 'unsure';
        results.set(
          n,
          unsure
            ? { kind: 'unknown', why: `${why}; a write of this run may have landed, or still land` }
            : { kind: 'notStored', why },
        );
      }
      return results;
    }
    last = await checked(store, names, written, results);
    if (names.some((n) => results.has(n))) return results;
    names
      .filter((n) => last.get(n) === 'held')
      .forEach((n) =>
        results.set(n, { kind: 'stored', writes: write, ...(late.has(n) ? { mayStillLand: true } : {}) }),
      );
    pending = Object.fromEntries(Object.entries(pending).filter(([n]) => last.get(n) !== 'held'));
  }
  for (const n of Object.keys(pending)) {
    const why = `${store.where} was written by someone else after each of ${MAX_STORE_WRITES} writes (another run or person is replacing it at the same time: let one run at a time write it)`;
    results.set(
      n,
      last.get(n) === 'missing' && !maybe.has(n)
        ? { kind: 'notStored', why: `'${n}' was missing: ${why}` }
        : { kind: 'unknown', why: `'${n}' may hold another value: ${why}` },
    );
  }
  return results;
}

/** The store's check of `names`; a check that fails makes each of them unknown in `results` (and returns nothing). */
async function checked(
  store: Store,
  names: readonly string[],
  written: StoreWrite,
  results: Map<string, StoreResult>,
): Promise<Map<string, Held>> {
  if (names.length === 0) return new Map();
  try {
    return await store.check(names, written);
  } catch (e) {
    const why = `the write was accepted, but reading ${store.where} back to confirm it failed: ${errorMessage(e)}`;
    names.forEach((n) => results.set(n, { kind: 'unknown', why }));
    return new Map();
  }
}
