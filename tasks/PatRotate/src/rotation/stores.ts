// Where a new PAT value goes. A Store writes secrets and says which of them it holds; `storeConfirmed`
// (./storeConfirmed.ts) is the one way values are stored.
import { AdoError } from '../ado/errors';
import type { PatToken } from '../ado/types';
import { variableKey, type VariableGroup, type VariableGroupClient } from '../ado/variableGroups';
import { errorMessage } from '../errorMessage';

/**
 * What a write left behind that a later check compares against (for a variable group: its modifiedOn; for a service
 * connection: its fields other than the token, as sent).
 */
export interface StoreWrite {
  modifiedOn?: string;
  fields?: string;
  /** The values as written (Key Vault, whose values can be read back and compared); in memory only. */
  secrets?: Readonly<Record<string, string>>;
}

/**
 * What a check found for one value: `held` (there, and nobody wrote the store after this run did), `missing`, or
 * `unsure` (there, but someone wrote the store since, or it is no longer secret: secrets cannot be read, so it may
 * hold another value).
 */
export type Held = 'held' | 'missing' | 'unsure';

export interface PutOptions {
  /** The PAT each value is, for stores that keep more than the value (Key Vault: expiry and tags). */
  pats?: Readonly<Record<string, PatToken>>;
  before?: (name: string) => void;
}

export interface Store {
  /** In words, for logs and the summary. */
  readonly where: string;
  /** False when there is nothing to read back (the agent takes a variable as given). */
  readonly readsBack: boolean;
  /**
   * Writes every value in one go. Throws StoreWriteError, which says per name whether the write may have landed.
   * `before(name)` runs right before the request that writes `name` is sent, and may throw to stop the write
   * (a stopping run); that error is thrown on as it is.
   */
  putAll(values: Readonly<Record<string, string>>, options?: PutOptions): Promise<StoreWrite>;
  /** What the store holds now for each of `names`, compared with `written`. */
  check(names: readonly string[], written: StoreWrite): Promise<Map<string, Held>>;
  /** Checks, changing nothing, that `names` can be written; before any PAT is created. */
  preflight?(names: readonly string[]): Promise<void>;
  /**
   * A renewed PAT (same value, later validTo): the store's record of its expiry follows, when the store keeps one and
   * still holds that PAT (Key Vault: the latest version's `exp`, if its authorizationId tag is this PAT's).
   */
  extendExpiry?(name: string, authorizationId: string, validTo: Date): Promise<'extended' | 'holdsAnother' | 'missing'>;
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
    options?: ErrorOptions & { retryAfterMs?: number; partial?: { names: readonly string[]; written: StoreWrite } },
  ) {
    super(message, options);
    this.retryAfterMs = options?.retryAfterMs;
    this.partial = options?.partial;
  }

  readonly retryAfterMs?: number;
  /** A store that writes value by value (Key Vault): the names whose write succeeded, to be checked like any write. */
  readonly partial?: { names: readonly string[]; written: StoreWrite };

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
/** The wait before writing again after a failure that did not say how long. */
export const STORE_RETRY_MS = 1_000;

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

  putAll(values: Readonly<Record<string, string>>, options: PutOptions = {}): Promise<StoreWrite> {
    for (const [name, value] of Object.entries(values)) {
      options.before?.(name);
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

  async putAll(values: Readonly<Record<string, string>>, options: PutOptions = {}): Promise<StoreWrite> {
    let before: VariableGroup;
    try {
      before = await this.client.read(this.group);
    } catch (e) {
      throw new StoreWriteError(errorMessage(e), 'all', { cause: e });
    }
    Object.keys(values).forEach((n) => options.before?.(n));
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
