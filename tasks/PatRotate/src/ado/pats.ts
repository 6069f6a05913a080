// Client of the PAT Lifecycle Management API (tokens/pats): five operations on one URL, told apart by method.
// Errors come back two ways — a non-2xx VSS error body, or a 2xx body whose patTokenError is not "none" —
// and both become AdoError.
import { parseAdoDate, formatAdoDate } from './dates';
import { AdoError, patTokenErrorToAdoError } from './errors';
import type { AdoHttp } from './http';
import type { Credential, NewPatToken, PatCreateRequest, PatStatusFilter, PatToken, PatUpdateRequest } from './types';

/** The service's own page size limit for List. */
export const PAT_PAGE_SIZE = 100;

/**
 * Bounds of one listing: a server that hands out a fresh continuation token with every (even empty) page would
 * otherwise be listed forever. 1,000 full pages are 100,000 PATs, far beyond what one user owns.
 */
export const MAX_LIST_PAGES = 1_000;
export const MAX_LISTED_PATS = 100_000;

interface PatTokenResultBody {
  patToken?: unknown;
  patTokenError?: string;
  patTokenErrorMessage?: string;
}

interface PagedPatTokensBody {
  continuationToken?: string | null;
  patTokens?: unknown[] | null;
}

export class PatClient {
  private readonly baseUrl: string;

  constructor(
    private readonly http: AdoHttp,
    patApiUrl: string,
    private readonly credential: Credential,
    private readonly apiVersion = '7.1-preview.1',
  ) {
    this.baseUrl = `${patApiUrl.replace(/\/+$/, '')}/_apis/tokens/pats`;
  }

  /** Every PAT of the signed-in user in this organization that matches the filter, page by page. */
  async *list(filter: PatStatusFilter = 'active'): AsyncIterable<PatToken> {
    const seen = new Set<string>();
    let continuation: string | undefined;
    let listed = 0;
    for (let pages = 1; ; pages++) {
      // The service wants the same filter on every page.
      let url = this.url({ displayFilterOption: filter, $top: String(PAT_PAGE_SIZE) });
      if (continuation) url += `&continuationToken=${encodeURIComponent(continuation)}`;
      const page = await this.http.send<PagedPatTokensBody>('GET', url, { credential: this.credential });
      throwIfPatTokenError(page);
      if (!page || (page.patTokens != null && !Array.isArray(page.patTokens))) {
        throw new AdoError('protocol', `GET ${this.baseUrl} answered without a patTokens list`);
      }
      const raws = page.patTokens ?? [];
      listed += raws.length;
      if (listed > MAX_LISTED_PATS) throw tooLong(this.baseUrl, pages, listed);
      for (const raw of raws) yield toPatToken(raw);
      const next = page.continuationToken;
      if (!next) return;
      if (pages >= MAX_LIST_PAGES) throw tooLong(this.baseUrl, pages, listed);
      if (seen.has(next)) {
        throw new AdoError(
          'protocol',
          `GET ${this.baseUrl} returned continuation token "${next}" twice; stopping to avoid an endless listing`,
        );
      }
      seen.add(next);
      continuation = next;
    }
  }

  async listAll(filter: PatStatusFilter = 'active'): Promise<PatToken[]> {
    const all: PatToken[] = [];
    for await (const pat of this.list(filter)) all.push(pat);
    return all;
  }

  /** Creates a PAT. Never retried: a lost answer is reported as AdoError.lostResponse for the caller to recover. */
  async create(req: PatCreateRequest): Promise<NewPatToken> {
    const body = {
      displayName: req.displayName,
      scope: req.scope,
      validTo: formatAdoDate(req.validTo),
      allOrgs: req.allOrgs,
    };
    const result = await this.http.send<PatTokenResultBody>('POST', this.url(), { credential: this.credential, body });
    throwIfPatTokenError(result);
    const raw = result?.patToken as Record<string, unknown> | null | undefined;
    const token = raw?.token;
    if (typeof token !== 'string' || token === '') {
      // 2xx means the PAT exists now, but without its value it is useless to us.
      throw new AdoError('protocol', `POST ${this.baseUrl} answered 2xx without the new token's value`, {
        lostResponse: true,
      });
    }
    try {
      return { ...toPatToken(raw), token };
    } catch (e) {
      throw e instanceof AdoError ? new AdoError(e.kind, e.message, { ...e, lostResponse: true }) : e;
    }
  }

  async update(req: PatUpdateRequest): Promise<PatToken> {
    const body: Record<string, unknown> = { authorizationId: req.authorizationId };
    if (req.displayName !== undefined) body.displayName = req.displayName;
    if (req.scope !== undefined) body.scope = req.scope;
    if (req.validTo !== undefined) body.validTo = formatAdoDate(req.validTo);
    if (req.allOrgs !== undefined) body.allOrgs = req.allOrgs;
    const result = await this.http.send<PatTokenResultBody>('PUT', this.url(), { credential: this.credential, body });
    return toPatToken(requirePatToken(result, `PAT ${req.authorizationId}`));
  }

  /** Revokes a PAT; any 2xx, with or without a body, is success. */
  async revoke(authorizationId: string): Promise<void> {
    const result = await this.http.send<PatTokenResultBody>('DELETE', this.url({ authorizationId }), {
      credential: this.credential,
    });
    throwIfPatTokenError(result);
  }

  private url(query: Record<string, string> = {}): string {
    const params = Object.entries(query).map(([k, v]) => `${k}=${encodeURIComponent(v)}`);
    return `${this.baseUrl}?${[...params, `api-version=${encodeURIComponent(this.apiVersion)}`].join('&')}`;
  }
}

function tooLong(url: string, pages: number, listed: number): AdoError {
  return new AdoError(
    'protocol',
    `GET ${url} was still listing after ${pages} pages and ${listed} PATs; stopping: PatRotate lists at most ` +
      `${MAX_LIST_PAGES} pages or ${MAX_LISTED_PATS} PATs (the server may be handing out endless continuation tokens)`,
  );
}

function throwIfPatTokenError(result: unknown): void {
  if (typeof result !== 'object' || result === null) return;
  const { patTokenError, patTokenErrorMessage } = result as PatTokenResultBody;
  if (typeof patTokenError === 'string' && patTokenError !== '' && patTokenError !== 'none') {
    throw patTokenErrorToAdoError(patTokenError, patTokenErrorMessage);
  }
}

function requirePatToken(result: PatTokenResultBody | undefined, what: string): unknown {
  throwIfPatTokenError(result);
  if (result?.patToken == null) {
    throw new AdoError('notFound', `${what} was not found for the signed-in user (the answer had no patToken)`);
  }
  return result.patToken;
}

/** Validates one PatToken JSON object; the service never sends a partial one, so anything missing is a protocol error. */
export function toPatToken(raw: unknown): PatToken {
  if (typeof raw !== 'object' || raw === null) throw protocol('a PAT entry is not an object');
  const o = raw as Record<string, unknown>;
  const str = (name: string): string => {
    const v = o[name];
    if (typeof v !== 'string' || v === '') throw protocol(`a PAT entry has no ${name}`);
    return v;
  };
  const date = (name: string): Date => {
    try {
      return parseAdoDate(str(name));
    } catch (e) {
      throw e instanceof AdoError ? e : protocol(`PAT ${String(o.authorizationId)} has an unreadable ${name}`);
    }
  };
  const targets = o.targetAccounts;
  if (targets != null && !(Array.isArray(targets) && targets.every((t) => typeof t === 'string'))) {
    throw protocol(`PAT ${String(o.authorizationId)} has an unreadable targetAccounts`);
  }
  return {
    // GUIDs in one case, so every comparison of ids (listed before, ours, the ledger's) is exact.
    authorizationId: str('authorizationId').toLowerCase(),
    displayName: typeof o.displayName === 'string' ? o.displayName : '',
    scope: str('scope'),
    targetAccounts: targets == null ? null : [...targets],
    validFrom: date('validFrom'),
    validTo: date('validTo'),
  };
}

function protocol(what: string): AdoError {
  return new AdoError('protocol', `The PAT API answered in an unexpected shape: ${what}`);
}
