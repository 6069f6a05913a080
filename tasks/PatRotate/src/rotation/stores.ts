// Where a new PAT value goes. A Store writes secrets and says which of them it holds; `storeConfirmed` is the one way
// values are stored: write, read back, write again what another writer dropped, and say per value what became of it.
import { AdoError } from '../ado/errors';
import { variableKey, type VariableGroup, type VariableGroupClient } from '../ado/variableGroups';
import { errorMessage } from '../errorMessage';

export interface Store {
  /** In words, for logs and the summary. */
  readonly where: string;
  /** Writes every value in one go. Throws StoreWriteError, which says per name whether the write may have landed. */
  putAll(values: Readonly<Record<string, string>>): Promise<void>;
  /** Which of `names` the store holds now as secrets. */
  holding(names: readonly string[]): Promise<Set<string>>;
}

/** A write that failed. `landed(name)`: 'no' when the store is known to be unchanged for it, else 'unknown'. */
export class StoreWriteError extends Error {
  override readonly name = 'StoreWriteError';
  constructor(
    message: string,
    private readonly notLanded: ReadonlySet<string> | 'all',
    options?: ErrorOptions,
  ) {
    super(message, options);
  }

  landed(variableName: string): 'no' | 'unknown' {
    return this.notLanded === 'all' || this.notLanded.has(variableName) ? 'no' : 'unknown';
  }
}

/** What became of one value: stored (read back), not stored (safe to roll back), or unknown (it may be there). */
export type StoreResult = { kind: 'stored'; writes: number } | { kind: 'notStored'; why: string } | { kind: 'unknown'; why: string };

/** Writes of one value that another writer keeps dropping: then the run gives up rather than loop. */
export const MAX_STORE_WRITES = 3;

/**
 * Stores `values` and confirms each one by reading the store back. A value missing after a write that succeeded was
 * dropped by another writer (a PUT of theirs built on an older read): it is written again, up to MAX_STORE_WRITES.
 */
export async function storeConfirmed(store: Store, values: Readonly<Record<string, string>>): Promise<Map<string, StoreResult>> {
  const results = new Map<string, StoreResult>();
  let pending = { ...values };
  for (let write = 1; write <= MAX_STORE_WRITES && Object.keys(pending).length > 0; write++) {
    const names = Object.keys(pending);
    try {
      await store.putAll(pending);
    } catch (e) {
      const why = errorMessage(e);
      for (const n of names) {
        const landed = e instanceof StoreWriteError ? e.landed(n) : 'no';
        results.set(n, landed === 'no' ? { kind: 'notStored', why } : { kind: 'unknown', why: `${why} (the write may have landed)` });
      }
      return results;
    }
    let held: Set<string>;
    try {
      held = await store.holding(names);
    } catch (e) {
      const why = `the write was accepted, but reading ${store.where} back to confirm it failed: ${errorMessage(e)}`;
      names.forEach((n) => results.set(n, { kind: 'unknown', why }));
      return results;
    }
    pending = Object.fromEntries(Object.entries(pending).filter(([n]) => !held.has(n)));
    names.filter((n) => held.has(n)).forEach((n) => results.set(n, { kind: 'stored', writes: write }));
  }
  for (const n of Object.keys(pending)) {
    results.set(n, { kind: 'notStored', why: `'${n}' was missing from ${store.where} after each of ${MAX_STORE_WRITES} writes: another run or person is replacing the group at the same time (let one run at a time write it)` });
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
  readonly where = 'pipeline variable';
  constructor(private readonly sink: VariableSink) {}

  putAll(values: Readonly<Record<string, string>>): Promise<void> {
    for (const [name, value] of Object.entries(values)) {
      this.sink.setSecret(value);
      this.sink.setVariable(name, value, true, false);
      this.sink.setVariable(name, value, true, true);
    }
    return Promise.resolve();
  }

  /** The agent takes a variable command as given: there is nothing to read back. */
  holding(names: readonly string[]): Promise<Set<string>> {
    return Promise.resolve(new Set(names));
  }
}

/**
 * Secret variables in a variable group. The API has no partial update, so a write is GET → modify → PUT of the
 * whole group, once for all values of a phase.
 */
export class VariableGroupStore implements Store {
  readonly where: string;

  /** `identity` names who writes, for a permission error. */
  constructor(
    private readonly client: VariableGroupClient,
    private readonly group: VariableGroup,
    private readonly identity?: string,
  ) {
    this.where = `variable group '${group.name}' (id ${group.id})`;
  }

  async putAll(values: Readonly<Record<string, string>>): Promise<void> {
    let before: VariableGroup;
    try {
      before = await this.client.read(this.group);
    } catch (e) {
      throw new StoreWriteError(errorMessage(e), 'all', { cause: e });
    }
    try {
      await this.client.replace(before, values, this.identity);
    } catch (e) {
      if (!(e instanceof AdoError && e.lostResponse)) throw new StoreWriteError(errorMessage(e), 'all', { cause: e });
      throw await this.settle(before, Object.keys(values), e);
    }
  }

  async holding(names: readonly string[]): Promise<Set<string>> {
    const now = await this.client.read(this.group);
    return new Set(names.filter((n) => {
      const key = variableKey(now, n);
      return key !== undefined && now.variables[key].isSecret === true;
    }));
  }

  /**
   * A write whose answer was lost (5xx after the retries, a dropped connection). Read the group again: a value that
   * is not there did not land; when the group is unchanged since the read before the write (same modifiedOn and
   * variables), nothing landed. Anything else may have.
   */
  private async settle(before: VariableGroup, names: string[], cause: AdoError): Promise<StoreWriteError> {
    let after: VariableGroup;
    try {
      after = await this.client.read(this.group);
    } catch {
      return new StoreWriteError(cause.message, new Set(), { cause });
    }
    const keys = (g: VariableGroup) => Object.keys(g.variables).map((k) => k.toLowerCase()).sort().join('\n');
    const unchanged = before.modifiedOn !== undefined && after.modifiedOn === before.modifiedOn && keys(after) === keys(before);
    const notLanded = new Set(names.filter((n) => unchanged || variableKey(after, n) === undefined));
    return new StoreWriteError(`${cause.message}; read back: ${unchanged ? 'the group is unchanged' : 'the group changed'}`, notLanded, { cause });
  }
}

