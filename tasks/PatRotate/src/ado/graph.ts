// Graph users of an organization (vssps), page by page: the continuation token comes in the X-MS-ContinuationToken
// response header and goes back as the continuationToken query parameter. Every listing is bounded.
import { AdoError } from './errors';
import type { AdoHttp } from './http';
import type { Credential } from './types';

/** 10,000 pages of users are far beyond any organization; a server handing out endless tokens stops here. */
export const MAX_USER_PAGES = 10_000;
export const MAX_USERS = 1_000_000;
export const CONTINUATION_HEADER = 'x-ms-continuationtoken';

export interface GraphUser {
  descriptor: string;
  principalName: string;
  displayName: string;
  mailAddress: string;
  origin: string;
  originId: string;
  /** Graph's word that the user is gone from its directory (AadGraphMember.isDeletedInOrigin). */
  deletedInOrigin: boolean;
}

export class GraphClient {
  private readonly baseUrl: string;

  constructor(
    private readonly http: AdoHttp,
    vsspsUrl: string,
    private readonly credential: Credential,
    private readonly apiVersion = '7.1-preview.1',
  ) {
    this.baseUrl = `${vsspsUrl.replace(/\/+$/, '')}/_apis/graph/users`;
  }

  /** The organization's Entra and Microsoft account users, one page (array) at a time. */
  async *pages(): AsyncIterable<GraphUser[]> {
    const seen = new Set<string>();
    let continuation: string | undefined;
    let listed = 0;
    for (let pages = 1; ; pages++) {
      let url = `${this.baseUrl}?subjectTypes=aad,msa&api-version=${encodeURIComponent(this.apiVersion)}`;
      if (continuation) url += `&continuationToken=${encodeURIComponent(continuation)}`;
      const { body, headers } = await this.http.exchange<{ value?: unknown }>('GET', url, {
        credential: this.credential,
      });
      if (!body || !Array.isArray(body.value)) throw protocol(`GET ${this.baseUrl} answered without a value list`);
      listed += body.value.length;
      if (listed > MAX_USERS) throw tooLong(this.baseUrl, pages, listed);
      yield body.value.map(toGraphUser);
      const raw = headers[CONTINUATION_HEADER];
      const next = Array.isArray(raw) ? raw[0] : raw;
      if (!next) return;
      if (pages >= MAX_USER_PAGES) throw tooLong(this.baseUrl, pages, listed);
      if (seen.has(next)) throw protocol(`GET ${this.baseUrl} returned the same continuation token twice`);
      seen.add(next);
      continuation = next;
    }
  }
}

export function toGraphUser(raw: unknown): GraphUser {
  if (typeof raw !== 'object' || raw === null) throw protocol('a user entry is not an object');
  const o = raw as Record<string, unknown>;
  const str = (name: string): string => (typeof o[name] === 'string' ? o[name] : '');
  const descriptor = str('descriptor');
  if (!/^[A-Za-z0-9]+\.[A-Za-z0-9_=-]+$/.test(descriptor)) throw protocol('a user entry has no usable descriptor');
  return {
    descriptor,
    principalName: str('principalName'),
    displayName: str('displayName'),
    mailAddress: str('mailAddress'),
    origin: str('origin'),
    originId: str('originId'),
    deletedInOrigin: o.isDeletedInOrigin === true,
  };
}

function tooLong(url: string, pages: number, listed: number): AdoError {
  return protocol(
    `GET ${url} was still listing after ${pages} pages and ${listed} users; stopping: PatRotate lists at most ${MAX_USER_PAGES} pages or ${MAX_USERS} users`,
  );
}

function protocol(what: string): AdoError {
  return new AdoError('protocol', `The Graph API answered in an unexpected shape: ${what}`);
}
