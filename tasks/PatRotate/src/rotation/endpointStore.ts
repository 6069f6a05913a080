// The store of a service connection's PAT (target serviceConnection): see rotation/stores.ts for the Store contract.
import { AdoError } from '../ado/errors';
import { keptFields, parametersOf, type ServiceEndpoint, type ServiceEndpointClient } from '../ado/serviceEndpoints';
import { errorMessage } from '../errorMessage';
import { STORE_RETRY_MS, StoreWriteError, type Held, type PutOptions, type Store, type StoreWrite } from './stores';

/**
 * The PAT in a service connection's authorization (one PAT per connection: `values` holds one entry, keyed by the
 * connection). The API has no partial update: a write is GET → PUT of the whole endpoint with the token replaced.
 * Secrets never come back, so a check confirms what it can: the connection is there, ready, and its other fields are
 * as this run sent them (else someone else wrote it since, and it may hold another token).
 */
export class ServiceEndpointStore implements Store {
  readonly where: string;
  readonly readsBack = true;

  constructor(
    private readonly client: ServiceEndpointClient,
    private readonly endpoint: ServiceEndpoint,
    private readonly identity?: string,
  ) {
    this.where = `service connection '${endpoint.name}' (id ${endpoint.id})`;
  }

  async putAll(values: Readonly<Record<string, string>>, options: PutOptions = {}): Promise<StoreWrite> {
    const tokens = Object.values(values);
    if (tokens.length !== 1)
      throw new StoreWriteError(`${this.where} holds one PAT, and ${tokens.length} were to be stored in it`, 'all');
    let before: ServiceEndpoint;
    try {
      before = await this.client.read(this.endpoint);
      const missing = Object.keys(parametersOf(this.endpoint.raw)).filter((k) => !(k in parametersOf(before.raw)));
      if (missing.length > 0)
        throw new AdoError(
          'protocol',
          `${this.where} came back without its parameter(s) ${missing.join(', ')}; writing it back would erase them, so nothing was written`,
        );
      if (before.type.toLowerCase() !== this.endpoint.type.toLowerCase() || before.scheme !== this.endpoint.scheme)
        throw new AdoError(
          'badRequest',
          `${this.where} changed its type or scheme to '${before.type}'/'${before.scheme}' since the run began; nothing was written`,
        );
    } catch (e) {
      throw new StoreWriteError(errorMessage(e), 'all', { cause: e });
    }
    Object.keys(values).forEach((n) => options.before?.(n));
    try {
      await this.client.replace(before, tokens[0], this.identity);
      return { fields: keptFields(before) };
    } catch (e) {
      const retryAfterMs =
        e instanceof AdoError && (e.retryable || e.lostResponse) ? (e.retryAfterMs ?? STORE_RETRY_MS) : undefined;
      if (!(e instanceof AdoError && e.lostResponse))
        throw new StoreWriteError(errorMessage(e), 'all', { cause: e, retryAfterMs });
      throw this.settle(e, retryAfterMs);
    }
  }

  async check(names: readonly string[], written: StoreWrite): Promise<Map<string, Held>> {
    const now = await this.client.read(this.endpoint);
    if (now.isReady === false)
      throw new AdoError(
        'protocol',
        `${this.where} is not ready after the update (isReady false): check it under Project settings → Service connections`,
      );
    const same = written.fields !== undefined && keptFields(now) === written.fields;
    return new Map(names.map((n): [string, Held] => [n, same ? 'held' : 'unsure']));
  }

  /**
   * A write whose answer was lost. The token cannot be read back, so whether it landed cannot be told (a connection
   * that reads as gone may only be hidden from this identity now): nothing is ruled out. Writing the same token
   * again from a fresh read is safe: the store does.
   */
  private settle(cause: AdoError, retryAfterMs: number | undefined): StoreWriteError {
    return new StoreWriteError(
      `${cause.message} (a service connection's token cannot be read back: the write may have landed)`,
      new Set(),
      { cause, retryAfterMs },
    );
  }
}
