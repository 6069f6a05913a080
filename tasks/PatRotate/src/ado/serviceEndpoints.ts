// Service connections (serviceendpoint 7.1) that hold a PAT: find one by name or id in a project, check the caller may
// administer it, and put it back whole with a new token in the authorization parameter its type and scheme use.
// Reads are project-scoped; the update is organization-scoped and replaces the whole endpoint. Secret parameters come
// back null or absent, so a write cannot be confirmed by reading the token: only the other fields and isReady.
import { AdoError } from './errors';
import type { AdoHttp } from './http';
import type { Credential } from './types';

const API_VERSION = '7.1';

/** type → scheme → the authorization parameter that carries the PAT (both compared case-insensitively). */
const TOKEN_PARAMETERS: Record<string, Record<string, string>> = {
  externaltfs: { token: 'apitoken' },
  externalnugetfeed: { token: 'apitoken', usernamepassword: 'password' },
  externalnpmregistry: { token: 'apitoken' },
  git: { usernamepassword: 'password' },
  generic: { usernamepassword: 'password' },
  github: { personalaccesstoken: 'accessToken' },
};

/** The supported pairs in words, for an error. */
export const SUPPORTED_CONNECTIONS =
  'externaltfs (Azure Repos/Team Foundation Server) with Token, externalnugetfeed with Token or UsernamePassword, ' +
  'externalnpmregistry with Token, git (Other Git) and generic with UsernamePassword, github with PersonalAccessToken';

/** Fields the update sends back as read and a read-back must show unchanged (the token parameter aside). */
const KEPT_FIELDS = [
  'name',
  'type',
  'url',
  'description',
  'data',
  'authorization',
  'serviceEndpointProjectReferences',
  'isShared',
  'owner',
] as const;

export interface ServiceEndpoint {
  id: string;
  name: string;
  type: string;
  scheme: string;
  isReady?: boolean;
  /** The endpoint exactly as the service sent it: the update sends it back with one parameter changed. */
  raw: Record<string, unknown>;
  /** The project it was read from (reads need a project). */
  project: string;
}

/** The parameter that carries the PAT for this type and scheme, or undefined when PatRotate does not support it. */
export function tokenParameter(type: string, scheme: string): string | undefined {
  return TOKEN_PARAMETERS[type.toLowerCase()]?.[scheme.toLowerCase()];
}

export class ServiceEndpointClient {
  private readonly collectionUrl: string;

  constructor(
    private readonly http: AdoHttp,
    collectionUrl: string,
    private readonly credential: Credential,
  ) {
    this.collectionUrl = collectionUrl.replace(/\/+$/, '');
  }

  /** Finds a connection by id (a GUID) or by exact (then case-insensitive) name. */
  async find(project: string, nameOrId: string): Promise<ServiceEndpoint> {
    const key = nameOrId.trim();
    const notFound = () =>
      new AdoError(
        'notFound',
        `Service connection '${key}' was not found in project '${project}': check its name or id under Project ` +
          'settings → Service connections, and that the signed-in identity may see it',
        { status: 404 },
      );
    try {
      if (GUID.test(key)) {
        const raw = await this.http.send<unknown>('GET', this.endpointUrl(project, key), {
          credential: this.credential,
        });
        // A missing id comes back as 200 with an empty body rather than 404.
        if (!isEndpointJson(raw) || raw.id.toLowerCase() !== key.toLowerCase()) throw notFound();
        return toEndpoint(raw, project);
      }
      const url = `${this.projectBase(project)}?endpointNames=${encodeURIComponent(key)}&api-version=${API_VERSION}`;
      const list = await this.http.send<{ value?: unknown[] }>('GET', url, { credential: this.credential });
      const found = (Array.isArray(list?.value) ? list.value : []).filter(isEndpointJson);
      const match = found.find((e) => e.name === key) ?? found.find((e) => e.name.toLowerCase() === key.toLowerCase());
      if (!match) throw notFound();
      return toEndpoint(match, project);
    } catch (e) {
      if (e instanceof AdoError && e.kind === 'notFound') throw notFound();
      throw e;
    }
  }

  /**
   * Whether the caller holds the Administrator role on the connection (`actionFilter=manage` answers only then), so a
   * missing permission is found before anything is created.
   */
  async canManage(endpoint: ServiceEndpoint): Promise<boolean> {
    const url = `${this.projectBase(endpoint.project)}/${encodeURIComponent(endpoint.id)}?actionFilter=manage&api-version=${API_VERSION}`;
    try {
      const raw = await this.http.send<unknown>('GET', url, { credential: this.credential });
      return isEndpointJson(raw) && raw.id.toLowerCase() === endpoint.id.toLowerCase();
    } catch (e) {
      if (e instanceof AdoError && (e.kind === 'notFound' || e.kind === 'forbidden')) return false;
      throw e;
    }
  }

  /** The connection as stored now, read again by its id. An answer for another id is refused. */
  async read(endpoint: ServiceEndpoint): Promise<ServiceEndpoint> {
    const raw = await this.http.send<unknown>('GET', this.endpointUrl(endpoint.project, endpoint.id), {
      credential: this.credential,
    });
    if (!isEndpointJson(raw)) {
      throw new AdoError(
        'notFound',
        `Service connection '${endpoint.name}' (id ${endpoint.id}) no longer exists in project '${endpoint.project}'`,
      );
    }
    if (raw.id.toLowerCase() !== endpoint.id.toLowerCase()) {
      throw new AdoError(
        'protocol',
        `Reading service connection ${endpoint.id} answered with connection ${raw.id}; nothing was written`,
      );
    }
    return toEndpoint(raw, endpoint.project);
  }

  /**
   * Puts `current` (as just read) back whole, with `token` in its token parameter and every other field as read.
   * Never resent as is (allowRetry false): the store writes again from a fresh read (rotation/stores.ts).
   */
  async replace(current: ServiceEndpoint, token: string, identityLabel?: string): Promise<void> {
    const body = withToken(current, token);
    const url = `${this.collectionUrl}/_apis/serviceendpoint/endpoints/${encodeURIComponent(current.id)}?api-version=${API_VERSION}`;
    try {
      await this.http.send<unknown>('PUT', url, { credential: this.credential, body, allowRetry: false });
    } catch (e) {
      if (e instanceof AdoError && e.kind === 'forbidden') {
        const who = identityLabel ? `'${identityLabel}'` : 'The signed-in identity';
        throw e.withMessage(
          `${who} may not change service connection '${current.name}' (HTTP 403): it needs the Administrator role ` +
            `on that connection (Project settings → Service connections → ${current.name} → Security)`,
        );
      }
      throw e;
    }
  }

  private projectBase(project: string): string {
    return `${this.collectionUrl}/${encodeURIComponent(project)}/_apis/serviceendpoint/endpoints`;
  }

  private endpointUrl(project: string, id: string): string {
    return `${this.projectBase(project)}/${encodeURIComponent(id)}?api-version=${API_VERSION}`;
  }
}

/** Why PatRotate cannot write this connection (unsupported type or scheme), or undefined when it can. */
export function unsupportedReason(e: ServiceEndpoint): string | undefined {
  if (tokenParameter(e.type, e.scheme)) return undefined;
  return `service connection '${e.name}' is of type '${e.type}' with scheme '${e.scheme}', which does not hold a PAT PatRotate can replace; supported: ${SUPPORTED_CONNECTIONS}`;
}

/** The stored key of the token parameter (keys are matched case-insensitively; a missing one gets its usual name). */
function tokenKey(e: ServiceEndpoint, parameters: Record<string, unknown>): string {
  const wanted = tokenParameter(e.type, e.scheme);
  if (!wanted) throw new AdoError('badRequest', unsupportedReason(e) ?? '');
  return Object.keys(parameters).find((k) => k.toLowerCase() === wanted.toLowerCase()) ?? wanted;
}

export function parametersOf(raw: Record<string, unknown>): Record<string, unknown> {
  const auth = raw.authorization as { parameters?: unknown } | undefined;
  const p = auth?.parameters;
  return typeof p === 'object' && p !== null && !Array.isArray(p) ? (p as Record<string, unknown>) : {};
}

/** The PUT body: the endpoint as read, with the token set; refused when another parameter came back without a value. */
export function withToken(current: ServiceEndpoint, token: string): Record<string, unknown> {
  const body = structuredClone(current.raw);
  const auth = (body.authorization ?? {}) as Record<string, unknown>;
  const parameters = { ...parametersOf(body) };
  const key = tokenKey(current, parameters);
  for (const [k, v] of Object.entries(parameters)) {
    if (k !== key && (v === null || v === undefined)) {
      // Another secret the service did not send back: a whole-object PUT without it would erase it.
      throw new AdoError(
        'protocol',
        `Service connection '${current.name}' came back with authorization parameter '${k}' without a value; writing the connection back could erase it, so nothing was written`,
      );
    }
  }
  parameters[key] = token;
  body.authorization = { ...auth, parameters };
  return body;
}

/**
 * The fields a write must leave as they were, as one string (keys sorted), the token parameter left out. Two reads of
 * a connection nobody else changed give the same string.
 */
export function keptFields(e: ServiceEndpoint): string {
  const out: Record<string, unknown> = {};
  for (const f of KEPT_FIELDS) out[f] = e.raw[f];
  const parameters = { ...parametersOf(e.raw) };
  const auth = (e.raw.authorization ?? {}) as Record<string, unknown>;
  delete parameters[tokenKey(e, parameters)];
  out.authorization = { ...auth, parameters };
  return canonical(out);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .filter((k) => o[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

type EndpointJson = Record<string, unknown> & { id: string; name: string };

function isEndpointJson(raw: unknown): raw is EndpointJson {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return false;
  const o = raw as Record<string, unknown>;
  return typeof o.id === 'string' && typeof o.name === 'string';
}

function toEndpoint(raw: EndpointJson, project: string): ServiceEndpoint {
  const auth = raw.authorization as { scheme?: unknown } | undefined;
  return {
    id: raw.id,
    name: raw.name,
    type: typeof raw.type === 'string' ? raw.type : '',
    scheme: typeof auth?.scheme === 'string' ? auth.scheme : '',
    isReady: typeof raw.isReady === 'boolean' ? raw.isReady : undefined,
    raw,
    project,
  };
}
