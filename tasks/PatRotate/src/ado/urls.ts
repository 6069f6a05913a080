// The `organization` input → where the collection lives (variable groups, connectionData) and where the
// PAT Lifecycle API lives (vssps.dev.azure.com for the cloud; the same host for an emulator or proxy).

export interface OrganizationUrls {
  /** e.g. https://dev.azure.com/contoso or https://contoso.visualstudio.com (no trailing slash). */
  collectionUrl: string;
  /** e.g. https://vssps.dev.azure.com/contoso (no trailing slash). */
  patApiUrl: string;
  organization: string;
}

const ORG_NAME = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,48}[A-Za-z0-9])?$/;

export function isValidOrganizationName(name: string): boolean {
  return ORG_NAME.test(name);
}

/**
 * Resolves the `organization` input: empty → the pipeline's own collection (System.CollectionUri), a bare name,
 * a dev.azure.com or *.visualstudio.com URL, or any other https URL (used as-is for both APIs).
 */
export function resolveOrganization(input: string, collectionUri?: string): OrganizationUrls {
  const given = input.trim();
  if (given === '') {
    if (!collectionUri?.trim()) {
      throw new Error(
        'the organization is empty and System.CollectionUri is not set: give the organization name, e.g. "contoso"',
      );
    }
    return resolveUrl(collectionUri.trim(), 'System.CollectionUri');
  }
  if (!given.includes('/') && !given.includes(':')) {
    if (!isValidOrganizationName(given)) throw invalid(given);
    return cloud(`https://dev.azure.com/${given}`, given);
  }
  return resolveUrl(given, 'organization');
}

/** `source` says where an invalid value came from when it was not the organization input itself. */
function resolveUrl(text: string, source: string): OrganizationUrls {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid(text, source);
  }
  if (url.protocol !== 'https:') {
    throw new Error(
      `"${text}"${from(source)} must use https: give the organization name (e.g. "contoso") or its https URL`,
    );
  }
  if (url.username || url.password || url.search || url.hash) throw invalid(text, source);
  const host = url.hostname.toLowerCase();
  const segments = url.pathname.split('/').filter((s) => s !== '');

  if (host === 'dev.azure.com') {
    const org = segments[0];
    if (!org || !isValidOrganizationName(org)) throw invalid(text, source);
    return cloud(`https://dev.azure.com/${org}`, org);
  }
  const legacy = /^([a-z0-9-]+)\.visualstudio\.com$/.exec(host);
  if (legacy) {
    const org = legacy[1];
    if (!isValidOrganizationName(org) || segments.length > 1) throw invalid(text, source);
    // A path segment here is the collection (DefaultCollection), which stays part of the collection URL.
    const collection = `https://${host}${segments.length ? `/${segments[0]}` : ''}`;
    return { collectionUrl: collection, patApiUrl: `https://vssps.dev.azure.com/${org}`, organization: org };
  }
  // An emulator, a proxy or a sovereign cloud: one base URL serves both APIs; its last segment is the org.
  const base = `${url.origin}${segments.length ? `/${segments.join('/')}` : ''}`;
  const org = segments[segments.length - 1] ?? host;
  return { collectionUrl: base, patApiUrl: base, organization: org };
}

function cloud(collectionUrl: string, org: string): OrganizationUrls {
  return { collectionUrl, patApiUrl: `https://vssps.dev.azure.com/${org}`, organization: org };
}

function from(source: string): string {
  return source === 'organization' ? '' : ` (from ${source})`;
}

function invalid(text: string, source = 'organization'): Error {
  return new Error(
    `"${text}"${from(source)} is not an Azure DevOps organization: give its name (letters, digits and ` +
      'hyphens, e.g. "contoso") or its URL (https://dev.azure.com/contoso)',
  );
}

/**
 * Two URLs of one Azure DevOps service: the same host, or both Azure DevOps Services (dev.azure.com and
 * *.visualstudio.com are one service under two names). Tokens of that service may go to either.
 */
export function sameService(a: string, b: string): boolean {
  const host = (u: string) => {
    try {
      return new URL(u).host.toLowerCase();
    } catch {
      return '';
    }
  };
  const cloud = (h: string) => h === 'dev.azure.com' || h.endsWith('.visualstudio.com');
  return host(a) !== '' && (host(a) === host(b) || (cloud(host(a)) && cloud(host(b))));
}
