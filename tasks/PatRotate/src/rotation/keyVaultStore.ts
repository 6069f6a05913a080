// The store of target keyVault (and of refreshTokenSecret): each value is a new version of its own Key Vault secret,
// expiring with its PAT and tagged with which PAT it is. See rotation/stores.ts for the Store contract.
import type { PatToken } from '../ado/types';
import type { VaultSecrets } from '../keyvault/secrets';
import { PAT_CONTENT_TYPE, VaultError, type SecretFacts } from '../keyvault/vaultTypes';
import { errorMessage } from '../errorMessage';
import { mapPool } from './pool';
import { STORE_RETRY_MS, StoreWriteError, type Held, type PutOptions, type Store, type StoreWrite } from './stores';

/** Key Vault allows 15 tags of at most 256 characters. */
const MAX_TAG = 256;
export const REFRESH_TOKEN_CONTENT_TYPE = 'application/vnd.microsoft.entra.refresh-token';

export class KeyVaultStore implements Store {
  readonly where: string;
  readonly readsBack = true;

  /** `concurrency`: secrets written at a time; `organization` goes into each PAT's tags. */
  constructor(
    private readonly vault: VaultSecrets,
    private readonly organization: string,
    private readonly concurrency = 4,
  ) {
    this.where = `Key Vault ${vault.url}`;
  }

  async extendExpiry(
    name: string,
    authorizationId: string,
    validTo: Date,
  ): Promise<'extended' | 'holdsAnother' | 'missing'> {
    const latest = await this.vault.latest(name);
    if (!latest) return 'missing';
    if (latest.tags.authorizationId?.toLowerCase() !== authorizationId.toLowerCase()) return 'holdsAnother';
    await this.vault.setExpiry(name, latest.version, validTo);
    return 'extended';
  }

  async preflight(names: readonly string[]): Promise<void> {
    await mapPool([...names], this.concurrency, (n) => this.vault.preflight(n));
  }

  async putAll(values: Readonly<Record<string, string>>, options: PutOptions = {}): Promise<StoreWrite> {
    const written: StoreWrite = { secrets: values };
    const failures = new Map<string, VaultError>();
    let halted: { error: unknown } | undefined;
    await mapPool(Object.keys(values), this.concurrency, async (name) => {
      if (halted) return;
      try {
        options.before?.(name); // e.g. a stopping run: no further write begins
      } catch (error) {
        halted = { error };
        return;
      }
      try {
        await this.vault.set(name, values[name], this.facts(options.pats?.[name]));
      } catch (e) {
        failures.set(name, e instanceof VaultError ? e : new VaultError('other', errorMessage(e), { cause: e }));
      }
    });
    if (halted) throw halted.error;
    if (failures.size === 0) return written;
    const notLanded = new Set<string>();
    let retryAfterMs: number | undefined;
    for (const [name, e] of failures) {
      if (e.kind === 'retryable') retryAfterMs = Math.max(retryAfterMs ?? 0, e.details.retryAfterMs ?? STORE_RETRY_MS);
      // Throttled: refused unread, nothing was written.
      if (e.details.status === 429) notLanded.add(name);
    }
    // Any other failed write may have been applied (a gateway can answer 401, 403 or 408 after forwarding it): the
    // latest version says. Ours → landed. Another value → not landed, unless the write got no answer at all (it
    // may still land). Unreadable → unknown (written again if a retry follows).
    const landed: string[] = [];
    await mapPool(
      [...failures.keys()].filter((n) => !notLanded.has(n)),
      this.concurrency,
      async (name) => {
        const found = await this.vault.latest(name).catch(() => null);
        if (found !== null && found?.value === values[name]) landed.push(name);
        else if (found !== null && !failures.get(name)!.details.unanswered) notLanded.add(name);
      },
    );
    const first = [...failures.values()][0];
    throw new StoreWriteError(
      failures.size === 1 ? first.message : `${first.message} (and ${failures.size - 1} more)`,
      notLanded,
      {
        cause: first,
        retryAfterMs,
        partial: { names: [...Object.keys(values).filter((n) => !failures.has(n)), ...landed], written },
      },
    );
  }

  /** Each value is held when the secret's latest version is it (a newer version of someone else's is not). */
  async check(names: readonly string[], written: StoreWrite): Promise<Map<string, Held>> {
    const held = new Map<string, Held>();
    await mapPool([...names], this.concurrency, async (name) => {
      const latest = await this.vault.latest(name);
      held.set(name, latest === undefined ? 'missing' : latest.value === written.secrets?.[name] ? 'held' : 'missing');
    });
    return held;
  }

  private facts(pat: PatToken | undefined): SecretFacts {
    if (!pat) return { contentType: REFRESH_TOKEN_CONTENT_TYPE, tags: { rotatedBy: 'PatRotate' } };
    const tag = (v: string) => (v.length > MAX_TAG ? `${v.slice(0, MAX_TAG - 1)}…` : v);
    return {
      expiresOn: pat.validTo,
      contentType: PAT_CONTENT_TYPE,
      tags: {
        authorizationId: pat.authorizationId,
        displayName: tag(pat.displayName),
        organization: tag(this.organization),
        scope: tag(pat.scope),
        rotatedBy: 'PatRotate',
      },
    };
  }
}
