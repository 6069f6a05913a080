// Where a new PAT value goes. A Store writes secrets and says which of them it holds; `storeConfirmed` is the one way
// values are stored: write, read back, write again what another writer dropped, and say per value what became of it.
import { AdoError } from '../ado/errors';
import { variableKey, type VariableGroup, type VariableGroupClient } from '../ado/variableGroups';
import { errorMessage } from '../errorMessage';
import { sleep } from '../time';

/**
 * What a write left behind that a later check compares against (for a variable group: its modifiedOn; for a service
 * connection: its fields other than the token, as sent).
 */
export interface StoreWrite {
  modifiedOn?: string;
  fields?: string;
}

/**
 * What a check found for one value: `held` (there, and nobody wrote the store after this run did), `missing`, or
 * `unsure` (there, but someone wrote the store since, or it is no longer secret: secrets cannot be read, so it may
 * hold another value).
 */
export type Held = 'held' | 'missing' | 'unsure';

export interface Store {
  /** In words, for logs and the summary. */
  readonly where: string;
  /** False when there is nothing to read back (the agent takes a variable as given). */
  readonly readsBack: boolean;
  /** Writes every value in one go. Throws StoreWriteError, which says per name whether the write may have landed. */
  putAll(values: Readonly<Record<string, string>>): Promise<StoreWrite>;
  /** What the store holds now for each of `names`, compared with `written`. */
  check(names: readonly string[], written: StoreWrite): Promise<Map<string, Held>>;
}

/**
 * A write that failed. `landed(name)`: 'no' when the store is known to be unchanged for it, else 'unknown'.
 * `retryAfterMs` is set when writing again from a fresh read may succeed (throttled, a server fault, a lost answer).
 */
export class StoreWriteError extends Error {
  override readonly name = 'StoreWriteError';
  constructor(
    message: string,
    private readonly notLanded: ReadonlySet<string> | 'all',
    options?: ErrorOptions & { retryAfterMs?: number },
  ) {
    super(message, options);
    this.retryAfterMs = options?.retryAfterMs;
  }

  readonly retryAfterMs?: number;

  landed(variableName: string): 'no' | 'unknown' {
    return this.notLanded === 'all' || this.notLanded.has(variableName) ? 'no' : 'unknown';
  }
}

/** What became of one value: stored (read back), not stored (safe to roll back), or unknown (it may be there). */
export type StoreResult =
  /** `mayStillLand`: an earlier write of this run got no answer; landing late, its older copy of the store would
   * drop what was added after it was built (the value itself is in it). */
  | { kind: 'stored'; writes: number; mayStillLand?: boolean }
  | { kind: 'notStored'; why: string }
  | { kind: 'unknown'; why: string };

/** Writes of one value (another writer keeps dropping it, or the service keeps failing): then the run gives up. */
export const MAX_STORE_WRITES = 3;
/** The longest wait between two writes (a Retry-After may ask for more). */
const MAX_STORE_WAIT_MS = 30_000;
/** The wait before writing again after a failure that did not say how long. */
export const STORE_RETRY_MS = 1_000;

/**
 * Stores `values` and confirms each one by reading the store back. A value missing after a write that succeeded was
 * dropped by another writer (a PUT of theirs built on an older read): it is written again, up to MAX_STORE_WRITES.
 */
export async function storeConfirmed(
  store: Store,
  values: Readonly<Record<string, string>>,
  wait: (ms: number) => Promise<void> = sleep,
  beforeWrite: () => void = () => undefined,
): Promise<Map<string, StoreResult>> {
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
    beforeWrite(); // e.g. the ledger's check: no write begins once the run is stopping
    try {
      written = await store.putAll(pending);
    } catch (e) {
      names.filter((n) => !(e instanceof StoreWriteError && e.landed(n) === 'no')).forEach((n) => maybe.add(n));
      // No answer at all: that write may still land later, with its older copy of the store.
      if (e instanceof Error && e.cause instanceof AdoError && e.cause.unanswered) names.forEach((n) => late.add(n));
      if (e instanceof StoreWriteError && e.retryAfterMs !== undefined && write < MAX_STORE_WRITES) {
        await wait(Math.min(e.retryAfterMs, MAX_STORE_WAIT_MS));
        continue;
      }
      const why = errorMessage(e);
      for (const n of names) {
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
    try {
      last = await store.check(names, written);
    } catch (e) {
      const why = `the write was accepted, but reading ${store.where} back to confirm it failed: ${errorMessage(e)}`;
      names.forEach((n) => results.set(n, { kind: 'unknown', why }));
      return results;
    }
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

/** Agent commands the pipeline-variable store needs (task-lib stays behind agent.ts). */
export interface VariableSink {
  setSecret(value: string): void;
  setVariable(name: string, value: string, secret: boolean, isOutput: boolean): void;
}

/** A secret job variable, plus a secret output variable of the same name for later jobs and stages. */
export class PipelineVariableStore implements Store {
  readonly where: string;
  readonly readsBack = false;

  /** `outputOnly`: just the secret output (target none: the `token` output is where the new PAT goes). */
  constructor(
    private readonly sink: VariableSink,
    private readonly outputOnly = false,
  ) {
    this.where = outputOnly ? 'secret output' : 'pipeline variable';
  }

  putAll(values: Readonly<Record<string, string>>): Promise<StoreWrite> {
    for (const [name, value] of Object.entries(values)) {
      this.sink.setSecret(value);
      if (!this.outputOnly) this.sink.setVariable(name, value, true, false);
      this.sink.setVariable(name, value, true, true);
    }
    return Promise.resolve({});
  }

  /** The agent takes a variable command as given: there is nothing to read back. */
  check(names: readonly string[]): Promise<Map<string, Held>> {
    return Promise.resolve(new Map(names.map((n) => [n, 'held'])));
  }
}

/**
 * Secret variables in a variable group. The API has no partial update, so a write is GET → modify → PUT of the
 * whole group, once for all values of a phase.
 */
export class VariableGroupStore implements Store {
  readonly where: string;
  readonly readsBack = true;

  /** `identity` names who writes, for a permission error. */
  constructor(
    private readonly client: VariableGroupClient,
    private readonly group: VariableGroup,
    private readonly identity?: string,
  ) {
    this.where = `variable group '${group.name}' (id ${group.id})`;
  }

  async putAll(values: Readonly<Record<string, string>>): Promise<StoreWrite> {
    let before: VariableGroup;
    try {
      before = await this.client.read(this.group);
    } catch (e) {
      throw new StoreWriteError(errorMessage(e), 'all', { cause: e });
    }
    try {
      const saved = await this.client.replace(before, values, this.identity);
      // An answer without the saved group leaves nothing to compare later writes against.
      return { modifiedOn: saved === before ? undefined : saved.modifiedOn };
    } catch (e) {
      const retryAfterMs =
        e instanceof AdoError && (e.retryable || e.lostResponse) ? (e.retryAfterMs ?? STORE_RETRY_MS) : undefined;
      if (!(e instanceof AdoError && e.lostResponse))
        throw new StoreWriteError(errorMessage(e), 'all', { cause: e, retryAfterMs });
      throw await this.settle(before, Object.keys(values), e, retryAfterMs);
    }
  }

  async check(names: readonly string[], written: StoreWrite): Promise<Map<string, Held>> {
    const now = await this.client.read(this.group);
    // Someone wrote the group after this run did (or the write's answer had no date to tell): a value of ours that is
    // still there may have been replaced. Two writes within the service's clock step (1/300 s) look like one.
    const writtenSince = written.modifiedOn === undefined || !sameInstant(now.modifiedOn, written.modifiedOn);
    return new Map(
      names.map((n): [string, Held] => {
        const key = variableKey(now, n);
        if (key === undefined) return [n, 'missing'];
        return [n, now.variables[key].isSecret === true && !writtenSince ? 'held' : 'unsure'];
      }),
    );
  }

  /**
   * A write whose answer was lost (5xx after the retries, a dropped connection). Read the group again: a value that
   * is not there did not land; when the group is unchanged since the read before the write (same modifiedOn and
   * variables), nothing landed. Anything else may have.
   */
  private async settle(
    before: VariableGroup,
    names: string[],
    cause: AdoError,
    retryAfterMs: number | undefined,
  ): Promise<StoreWriteError> {
    // An attempt that got no answer at all may still land after this read: nothing can be ruled out.
    if (cause.unanswered)
      return new StoreWriteError(`${cause.message} (the attempt got no answer and may still land)`, new Set(), {
        cause,
        retryAfterMs,
      });
    let after: VariableGroup;
    try {
      after = await this.client.read(this.group);
    } catch {
      return new StoreWriteError(cause.message, new Set(), { cause });
    }
    const keys = (g: VariableGroup) =>
      Object.keys(g.variables)
        .map((k) => k.toLowerCase())
        .sort()
        .join('\n');
    const unchanged =
      before.modifiedOn !== undefined &&
      sameInstant(after.modifiedOn, before.modifiedOn) &&
      keys(after) === keys(before);
    const notLanded = new Set(names.filter((n) => unchanged || variableKey(after, n) === undefined));
    return new StoreWriteError(
      `${cause.message}; read back: ${unchanged ? 'the group is unchanged' : 'the group changed'}`,
      notLanded,
      { cause, retryAfterMs },
    );
  }
}

/** The same .NET date, however many fractional digits each was written with ("…52.08Z" = "…52.0800000Z"). */
function sameInstant(a: string | undefined, b: string | undefined): boolean {
  const norm = (d: string | undefined) =>
    d?.replace(/(?:\.(\d+))?Z$/i, (_m, f: string | undefined) => `.${(f ?? '').padEnd(7, '0')}Z`);
  return a !== undefined && norm(a) === norm(b);
}
