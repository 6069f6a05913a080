// Token Admin (vssps): the PATs of one user of the organization, as a Project Collection Administrator sees them.
// Paged by a continuationToken in the body; bounded like every listing. Tokens are never returned.
import { parseAdoDate } from './dates';
import { AdoError } from './errors';
import type { AdoHttp } from './http';
import type { Credential } from './types';

export const ADMIN_PAGE_SIZE = 100;
/** One user's PATs: 1,000 pages of 100 are far beyond what anyone owns. */
export const MAX_ADMIN_PAGES = 1_000;

/** SessionToken as the audit needs it (no token value: the API never sends one). */
export interface AdminPat {
  authorizationId: string;
  displayName: string;
  scope: string;
  /** null = a global PAT (all organizations). */
  targetAccounts: string[] | null;
  validFrom: Date;
  validTo: Date;
  isValid: boolean;
  userId: string;
}

export class TokenAdminClient {
  private readonly baseUrl: string;

  constructor(
    private readonly http: AdoHttp,
    vsspsUrl: string,
    private readonly credential: Credential,
    private readonly apiVersion = '7.1-preview.1',
  ) {
    this.baseUrl = `${vsspsUrl.replace(/\/+$/, '')}/_apis/tokenadmin/personalaccesstokens`;
  }

  /** Every PAT of the user with this subject descriptor, page by page. */
  async *pats(descriptor: string): AsyncIterable<AdminPat[]> {
    const seen = new Set<string>();
    let continuation: string | undefined;
    const where = `${this.baseUrl}/${descriptor}`;
    for (let pages = 1; ; pages++) {
      let url = `${this.baseUrl}/${encodeURIComponent(descriptor)}?pageSize=${ADMIN_PAGE_SIZE}&isPublic=false&api-version=${encodeURIComponent(this.apiVersion)}`;
      if (continuation) url += `&continuationToken=${encodeURIComponent(continuation)}`;
      const body = await this.http.send<{ value?: unknown; continuationToken?: unknown }>('GET', url, {
        credential: this.credential,
      });
      if (!body || !Array.isArray(body.value)) throw protocol(`GET ${where} answered without a value list`);
      yield body.value.map(toAdminPat);
      const next = typeof body.continuationToken === 'string' ? body.continuationToken : '';
      if (!next) return;
      if (pages >= MAX_ADMIN_PAGES)
        throw protocol(`GET ${where} was still listing after ${pages} pages; stopping (at most ${MAX_ADMIN_PAGES})`);
      if (seen.has(next)) throw protocol(`GET ${where} returned the same continuation token twice`);
      seen.add(next);
      continuation = next;
    }
  }
}

export function toAdminPat(raw: unknown): AdminPat {
  if (typeof raw !== 'object' || raw === null) throw protocol('a token entry is not an object');
  const o = raw as Record<string, unknown>;
  const id = typeof o.authorizationId === 'string' ? o.authorizationId.toLowerCase() : '';
  if (!id) throw protocol('a token entry has no authorizationId');
  const date = (name: string): Date => {
    try {
      return parseAdoDate(typeof o[name] === 'string' ? o[name] : '');
    } catch {
      throw protocol(`token ${id} has an unreadable ${name}`);
    }
  };
  const targets = o.targetAccounts;
  if (targets != null && !(Array.isArray(targets) && targets.every((t) => typeof t === 'string')))
    throw protocol(`token ${id} has an unreadable targetAccounts`);
  return {
    authorizationId: id,
    displayName: typeof o.displayName === 'string' ? o.displayName : '',
    scope: typeof o.scope === 'string' ? o.scope : '',
    targetAccounts: targets == null ? null : [...targets],
    validFrom: date('validFrom'),
    validTo: date('validTo'),
    isValid: o.isValid !== false,
    userId: typeof o.userId === 'string' ? o.userId : '',
  };
}

function protocol(what: string): AdoError {
  return new AdoError('protocol', `The Token Admin API answered in an unexpected shape: ${what}`);
}
