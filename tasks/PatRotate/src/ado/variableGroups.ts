// Library variable groups: find one by name or id, and set one secret variable in it.
// Reads are project-scoped; writes are organization-scoped and replace the whole group (distributedTask 7.1).
import { AdoError } from './errors';
import type { AdoHttp } from './http';
import type { Credential } from './types';

const API_VERSION = '7.1';

export interface VariableValue {
  value?: string | null;
  isSecret?: boolean;
  isReadOnly?: boolean;
  /** Key Vault groups carry more (enabled, contentType, expires); kept untouched. */
  [extra: string]: unknown;
}

export interface VariableGroupProjectReference {
  name?: string;
  description?: string;
  projectReference?: { id?: string; name?: string };
}

export interface VariableGroup {
  id: number;
  name: string;
  description?: string;
  /** "Vsts" or "AzureKeyVault". */
  type: string;
  variables: Record<string, VariableValue>;
  variableGroupProjectReferences?: VariableGroupProjectReference[];
  providerData?: unknown;
  /** As the service sent it: changes with every saved write, so it tells whether a write landed. */
  modifiedOn?: string;
  /** The project it was read from (reads need a project). */
  project: string;
}

export class VariableGroupClient {
  private readonly collectionUrl: string;

  constructor(
    private readonly http: AdoHttp,
    collectionUrl: string,
    private readonly credential: Credential,
  ) {
    this.collectionUrl = collectionUrl.replace(/\/+$/, '');
  }

  /** Finds a group by numeric id or by exact (case-insensitive) name. */
  async find(project: string, nameOrId: string): Promise<VariableGroup> {
    const key = nameOrId.trim();
    const notFound = () =>
      new AdoError(
        'notFound',
        `Variable group '${key}' was not found in project '${project}': check its name or id under ` +
          'Pipelines → Library, and that the signed-in identity has at least the Reader role on it',
        { status: 404 },
      );
    try {
      if (/^\d+$/.test(key)) {
        const raw = await this.http.send<unknown>('GET', this.groupUrl(project, Number(key)), {
          credential: this.credential,
        });
        // A missing id may come back as 200 with an empty body rather than 404.
        if (!isGroupJson(raw)) throw notFound();
        return toVariableGroup(raw, project);
      }
      const url = `${this.projectBase(project)}?groupName=${encodeURIComponent(key)}&api-version=${API_VERSION}`;
      const list = await this.http.send<{ value?: unknown[] }>('GET', url, { credential: this.credential });
      const groups = (list?.value ?? []).filter(isGroupJson);
      const match =
        groups.find((g) => g.name === key) ?? groups.find((g) => g.name.toLowerCase() === key.toLowerCase());
      if (!match) throw notFound();
      return toVariableGroup(match, project);
    } catch (e) {
      if (e instanceof AdoError && e.kind === 'notFound') throw notFound();
      throw e;
    }
  }

  /**
   * Whether the caller holds the Administrator role on the group (`actionFilter=manage` lists only those), so a
   * missing permission is found before anything is created, not when the new PAT is already minted.
   */
  async canManage(group: VariableGroup): Promise<boolean> {
    const url = `${this.projectBase(group.project)}?groupName=${encodeURIComponent(group.name)}&actionFilter=manage&api-version=${API_VERSION}`;
    const list = await this.http.send<{ value?: unknown[] }>('GET', url, { credential: this.credential });
    return (list?.value ?? []).filter(isGroupJson).some((g) => g.id === group.id);
  }

  /**
   * The group as stored now, read again by the id that was looked up. An answer for another id is refused: writing
   * it back would change a group nobody chose.
   */
  async read(group: VariableGroup): Promise<VariableGroup> {
    const fresh = await this.http.send<unknown>('GET', this.groupUrl(group.project, group.id), {
      credential: this.credential,
    });
    if (!isGroupJson(fresh)) {
      throw new AdoError(
        'notFound',
        `Variable group '${group.name}' (id ${group.id}) no longer exists in project '${group.project}'`,
      );
    }
    if (fresh.id !== group.id) {
      throw new AdoError(
        'protocol',
        `Reading variable group ${group.id} answered with group ${fresh.id}; nothing was written`,
      );
    }
    return toVariableGroup(fresh, group.project);
  }

  /**
   * Replaces the group `current` (as just read) with `values` set as secret variables; returns the group as saved.
   *
   * The API has no ETag, so this is read → modify → replace: an edit someone else saves between the read and this
   * PUT is overwritten, and a PUT of theirs built on an older read drops what this one added. Callers read the group
   * back afterwards (see rotation/stores.ts) to find that out.
   */
  async replace(
    current: VariableGroup,
    values: Record<string, string>,
    identityLabel?: string,
  ): Promise<VariableGroup> {
    refuseKeyVault(current);
    const variables: Record<string, VariableValue> = {};
    for (const [key, v] of Object.entries(current.variables)) {
      if (!v.isSecret && (v.value === null || v.value === undefined)) {
        // A secret read back without its flag: writing it back as it came would erase its value.
        throw new AdoError(
          'protocol',
          `Variable group '${current.name}' came back with variable '${key}' without a value and not marked secret; writing the group back could erase it, so nothing was written`,
        );
      }
      // A secret sent back with value null keeps its stored value (the contract every Microsoft client relies on).
      variables[key] = v.isSecret ? { ...v, isSecret: true, value: null } : { ...v };
    }
    for (const [name, value] of Object.entries(values)) {
      // Pipeline variable names are case-insensitive: an existing key is updated rather than given a twin.
      const target = variableKey(current, name) ?? name;
      const readOnly = current.variables[target]?.isReadOnly;
      variables[target] =
        readOnly === undefined ? { value, isSecret: true } : { value, isSecret: true, isReadOnly: readOnly };
    }

    const body = {
      name: current.name,
      description: current.description,
      type: current.type,
      variables,
      // The org-scoped PUT requires at least one project reference; older answers may lack them.
      variableGroupProjectReferences: current.variableGroupProjectReferences ?? [
        { name: current.name, description: current.description, projectReference: { name: current.project } },
      ],
      providerData: current.providerData,
    };
    const url = `${this.collectionUrl}/_apis/distributedtask/variablegroups/${current.id}?api-version=${API_VERSION}`;
    try {
      // Never resent as is: a resend carries this read, perhaps seconds old, and would drop what others wrote since.
      // The store writes again from a fresh read when it knows this write did not land (rotation/stores.ts).
      const saved = await this.http.send<unknown>('PUT', url, { credential: this.credential, body, allowRetry: false });
      return isGroupJson(saved) && saved.id === current.id ? toVariableGroup(saved, current.project) : current;
    } catch (e) {
      if (e instanceof AdoError && e.kind === 'forbidden') {
        const who = identityLabel ? `'${identityLabel}'` : 'The signed-in identity';
        throw e.withMessage(
          `${who} may not change variable group '${current.name}' (HTTP 403): it needs the Administrator role ` +
            `on that group (Pipelines → Library → ${current.name} → Security)`,
        );
      }
      throw e;
    }
  }

  private projectBase(project: string): string {
    return `${this.collectionUrl}/${encodeURIComponent(project)}/_apis/distributedtask/variablegroups`;
  }

  private groupUrl(project: string, id: number): string {
    return `${this.projectBase(project)}/${id}?api-version=${API_VERSION}`;
  }
}

/** The stored key for variable `name` (names are case-insensitive), if the group has it. */
export function variableKey(group: VariableGroup, name: string): string | undefined {
  return Object.keys(group.variables).find((k) => k.toLowerCase() === name.toLowerCase());
}

function refuseKeyVault(group: VariableGroup): void {
  if (group.type.toLowerCase() === 'azurekeyvault') {
    throw new AdoError(
      'badRequest',
      `Variable group '${group.name}' is linked to Azure Key Vault; its values come from the vault: store the PAT ` +
        'in Key Vault instead, or choose a variable group that is not linked to a vault',
    );
  }
}

type GroupJson = Record<string, unknown> & { id: number; name: string };

function isGroupJson(raw: unknown): raw is GroupJson {
  if (typeof raw !== 'object' || raw === null) return false;
  const o = raw as Record<string, unknown>;
  return typeof o.id === 'number' && typeof o.name === 'string';
}

function toVariableGroup(raw: GroupJson, project: string): VariableGroup {
  const vars = raw.variables;
  if (vars != null && (typeof vars !== 'object' || Array.isArray(vars))) {
    throw new AdoError('protocol', `Variable group '${raw.name}' came back with unreadable variables`);
  }
  return {
    id: raw.id,
    name: raw.name,
    description: typeof raw.description === 'string' ? raw.description : undefined,
    type: typeof raw.type === 'string' && raw.type !== '' ? raw.type : 'Vsts',
    variables: { ...((vars ?? {}) as Record<string, VariableValue>) },
    variableGroupProjectReferences: Array.isArray(raw.variableGroupProjectReferences)
      ? (raw.variableGroupProjectReferences as VariableGroupProjectReference[])
      : undefined,
    providerData: raw.providerData ?? undefined,
    modifiedOn: typeof raw.modifiedOn === 'string' ? raw.modifiedOn : undefined,
    project,
  };
}
