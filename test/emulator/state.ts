/** Emulator data model: organisations, projects, PATs, variable groups, policies (+ identity half in auth-state.ts). */
import type { Identity } from './auth-state';
export type {
  AppRecord,
  AppCertificate,
  AddAppOptions,
  FederatedCredential,
  ManagedIdentityRecord,
  OidcTokenRecord,
} from './principals';
export type {
  VaultRecord,
  VaultSecretRecord,
  SecretVersionRecord,
  SetSecretOptions,
  VaultPermission,
  VaultRole,
} from './vault-state';
import { VaultState } from './vault-state';
import { newGuid, randomPatValue } from './tokens';

export type {
  User,
  Identity,
  TokenInfo,
  DeviceCodeInfo,
  EntraFailure,
  GrantKind,
  RefreshTokenRecord,
} from './auth-state';

export interface Org {
  id: string;
  name: string;
}
export interface Project {
  id: string;
  name: string;
  orgName: string;
}

export interface PatRecord {
  authorizationId: string;
  displayName: string;
  scope: string;
  /** `[orgId]`, or null for a global (all organisations) PAT. */
  targetAccounts: string[] | null;
  validFrom: Date;
  validTo: Date;
  revoked: boolean;
  token: string;
  ownerOid: string;
  orgName: string;
  /** Creation sequence number (1, 2, …). */
  createdAt: number;
}

export interface StoredVariable {
  value: string | null;
  isSecret?: boolean;
  isReadOnly?: boolean;
}

export interface GroupProjectRef {
  projectId: string;
  projectName: string;
  name: string;
  description: string;
}

export interface VariableGroupRecord {
  id: number;
  orgName: string;
  name: string;
  description: string;
  type: 'Vsts' | 'AzureKeyVault';
  /** REAL stored values, secrets included. */
  variables: Record<string, StoredVariable>;
  projectRefs: GroupProjectRef[];
  providerData?: Record<string, unknown>;
  admins: string[];
  createdBy: string;
  createdOn: Date;
  modifiedBy: string;
  modifiedOn: Date;
}

export interface Policies {
  restrictGlobalPats: boolean;
  restrictFullScope: boolean;
  maxLifespanDays: number | null;
  patCreationDisabled: boolean;
  /** HTTP status used for answers whose patTokenError is not "none" (default 200). */
  errorStatus: number;
}

export interface AddGroupOptions {
  name: string;
  type?: 'Vsts' | 'AzureKeyVault';
  variables: Record<string, { value: string | null; isSecret?: boolean; isReadOnly?: boolean }>;
  description?: string;
  /** Identity ids (or user oids) with Administrator role; default: a synthetic seeding identity. */
  admins?: string[];
  providerData?: Record<string, unknown>;
  /** Extra projects the group is shared with. */
  sharedWith?: string[];
}

/** Authorization parameters the service never sends back (lower case). */
const SECRET_ENDPOINT_PARAMETERS = new Set(['apitoken', 'password', 'accesstoken']);

export function isSecretParameter(name: string): boolean {
  return SECRET_ENDPOINT_PARAMETERS.has(name.toLowerCase());
}

/** A service connection's role for one identity (Administrator may change it; User may use it; Reader may see it). */
export type EndpointRole = 'Reader' | 'User' | 'Administrator';

export interface EndpointProjectRef {
  projectId: string;
  projectName: string;
  name: string;
  description: string;
}

export interface ServiceEndpointRecord {
  id: string;
  orgName: string;
  name: string;
  type: string;
  url: string;
  description: string;
  owner: string;
  data: Record<string, unknown>;
  scheme: string;
  /** REAL stored parameters, secrets included (null = no value). */
  parameters: Record<string, string | null>;
  projectRefs: EndpointProjectRef[];
  /** identity id (or user oid) → role. */
  roles: Record<string, EndpointRole>;
  createdBy: string;
}

export interface AddEndpointOptions {
  name: string;
  type: string;
  url: string;
  scheme: string;
  parameters: Record<string, string | null>;
  description?: string;
  owner?: string;
  data?: Record<string, unknown>;
  /** identity id (or user oid) → role; default: a synthetic seeding identity as Administrator. */
  roles?: Record<string, EndpointRole>;
  /** Extra projects the connection is shared with. */
  sharedWith?: string[];
}

export class EmulatorState extends VaultState {
  readonly endpoints: ServiceEndpointRecord[] = [];
  readonly orgs: Org[] = [];
  readonly projects: Project[] = [];
  private readonly patList: PatRecord[] = [];
  readonly groups: VariableGroupRecord[] = [];
  readonly policies: Policies = {
    restrictGlobalPats: false,
    restrictFullScope: false,
    maxLifespanDays: null,
    patCreationDisabled: false,
    errorStatus: 200,
  };
  /** Eventual consistency: each PAT created through the API fails the first N connectionData calls (401). */
  patPropagationCalls = 0;
  /** authorizationId → connectionData calls still to refuse. */
  readonly propagationPending = new Map<string, number>();
  /** Oids of the Project Collection Administrators: the only callers Graph users and Token Admin answer. */
  readonly collectionAdmins = new Set<string>();
  /** Users per Graph page (the service's is larger; small here so tests page). */
  graphPageSize = 100;
  private patSeq = 0;
  private readonly byOwner = new Map<string, PatRecord[]>();
  private byOwnerSize = -1;
  private groupSeq = 0;
  readonly seedIdentityId = newGuid();

  constructor() {
    super();
    this.identities.set(this.seedIdentityId, {
      id: this.seedIdentityId,
      displayName: 'Seed Administrator',
      uniqueName: 'seed@emulator',
      kind: 'user',
    });
  }

  addOrg(name: string): Org {
    const org = { id: newGuid(), name };
    this.orgs.push(org);
    return org;
  }

  org(name: string): Org | undefined {
    return this.orgs.find((o) => o.name.toLowerCase() === name.toLowerCase());
  }

  addProject(org: Org | string, name: string): Project {
    const o = typeof org === 'string' ? this.org(org) : org;
    if (!o) throw new Error(`emulator: unknown org ${typeof org === 'string' ? org : org.name}`);
    const p = { id: newGuid(), name, orgName: o.name };
    this.projects.push(p);
    return p;
  }

  /** Project by name (case-insensitive) or id within an org. */
  project(orgName: string, nameOrId: string): Project | undefined {
    const k = nameOrId.toLowerCase();
    return this.projects.find(
      (p) => p.orgName.toLowerCase() === orgName.toLowerCase() && (p.id === k || p.name.toLowerCase() === k),
    );
  }

  identity(id: string): Identity | undefined {
    return this.identities.get(id);
  }

  /** Seeds a PAT with any dates (expired, revoked…). */
  addPat(
    userOid: string,
    orgName: string,
    o: {
      displayName: string;
      scope: string;
      validFrom?: Date | string;
      validTo: Date | string;
      allOrgs?: boolean;
      revoked?: boolean;
    },
  ): { pat: PatRecord; token: string } {
    if (!this.user(userOid)) throw new Error(`emulator: unknown user oid ${userOid}`);
    const org = this.org(orgName);
    if (!org) throw new Error(`emulator: unknown org ${orgName}`);
    const pat: PatRecord = {
      authorizationId: newGuid(),
      displayName: o.displayName,
      scope: o.scope,
      targetAccounts: o.allOrgs ? null : [org.id],
      validFrom: new Date(o.validFrom ?? Date.now()),
      validTo: new Date(o.validTo),
      revoked: o.revoked ?? false,
      token: this.remember(randomPatValue()),
      ownerOid: userOid,
      orgName: org.name,
      createdAt: ++this.patSeq,
    };
    this.patList.push(pat);
    return { pat, token: pat.token };
  }

  /** All PAT records (live objects), optionally only one user's. */
  pats(userOid?: string): PatRecord[] {
    if (userOid === undefined) return [...this.patList];
    // An index by owner (an owner never changes; a record is never removed), rebuilt when PATs were added.
    if (this.byOwnerSize !== this.patList.length) {
      this.byOwner.clear();
      for (const p of this.patList) {
        const list = this.byOwner.get(p.ownerOid);
        if (list) list.push(p);
        else this.byOwner.set(p.ownerOid, [p]);
      }
      this.byOwnerSize = this.patList.length;
    }
    return [...(this.byOwner.get(userOid) ?? [])];
  }

  patByToken(token: string): PatRecord | undefined {
    return this.patList.find((p) => p.token === token);
  }

  addGroup(orgName: string, projectName: string, o: AddGroupOptions): VariableGroupRecord {
    const org = this.org(orgName);
    if (!org) throw new Error(`emulator: unknown org ${orgName}`);
    const projects = [projectName, ...(o.sharedWith ?? [])].map((n) => {
      const p = this.project(org.name, n);
      if (!p) throw new Error(`emulator: unknown project ${n}`);
      return p;
    });
    const admins = o.admins ?? [this.seedIdentityId];
    const creator = this.resolveIdentityId(admins[0]);
    const now = new Date();
    const g: VariableGroupRecord = {
      id: ++this.groupSeq,
      orgName: org.name,
      name: o.name,
      description: o.description ?? '',
      type: o.type ?? 'Vsts',
      variables: {},
      projectRefs: projects.map((p) => ({
        projectId: p.id,
        projectName: p.name,
        name: o.name,
        description: o.description ?? '',
      })),
      providerData: o.providerData,
      admins: [...admins],
      createdBy: creator,
      createdOn: now,
      modifiedBy: creator,
      modifiedOn: now,
    };
    for (const [k, v] of Object.entries(o.variables)) g.variables[k] = { ...v };
    this.groups.push(g);
    return g;
  }

  /** The record with REAL stored values. */
  group(id: number): VariableGroupRecord | undefined {
    return this.groups.find((g) => g.id === id);
  }

  grantGroupAdmin(groupId: number, identityId: string): void {
    const g = this.group(groupId);
    if (!g) throw new Error(`emulator: unknown group ${groupId}`);
    if (!g.admins.includes(identityId)) g.admins.push(identityId);
  }

  /** Accepts a user oid where an identity id is expected. */
  resolveIdentityId(idOrOid: string): string {
    return this.users.find((u) => u.oid === idOrOid)?.identityId ?? idOrOid;
  }

  isGroupAdmin(g: VariableGroupRecord, identityId: string): boolean {
    return g.admins.some((a) => this.resolveIdentityId(a) === identityId);
  }

  addEndpoint(orgName: string, projectName: string, o: AddEndpointOptions): ServiceEndpointRecord {
    const org = this.org(orgName);
    if (!org) throw new Error(`emulator: unknown org ${orgName}`);
    const projects = [projectName, ...(o.sharedWith ?? [])].map((n) => {
      const p = this.project(org.name, n);
      if (!p) throw new Error(`emulator: unknown project ${n}`);
      return p;
    });
    const roles = o.roles ?? { [this.seedIdentityId]: 'Administrator' };
    const e: ServiceEndpointRecord = {
      id: newGuid(),
      orgName: org.name,
      name: o.name,
      type: o.type,
      url: o.url,
      description: o.description ?? '',
      owner: o.owner ?? 'Library',
      data: structuredClone(o.data ?? {}),
      scheme: o.scheme,
      parameters: { ...o.parameters },
      projectRefs: projects.map((p) => ({ projectId: p.id, projectName: p.name, name: o.name, description: '' })),
      roles: { ...roles },
      createdBy: this.resolveIdentityId(Object.keys(roles)[0] ?? this.seedIdentityId),
    };
    for (const [k, v] of Object.entries(e.parameters)) if (v && isSecretParameter(k)) this.remember(v);
    this.endpoints.push(e);
    return e;
  }

  /** The record with REAL stored parameters. */
  endpoint(id: string): ServiceEndpointRecord | undefined {
    return this.endpoints.find((e) => e.id.toLowerCase() === id.toLowerCase());
  }

  /** The role `identityId` holds on the connection, if any. */
  endpointRole(e: ServiceEndpointRecord, identityId: string): EndpointRole | undefined {
    const found = Object.entries(e.roles).find(([k]) => this.resolveIdentityId(k) === identityId);
    return found?.[1];
  }

  /** Internal: used by the PAT API on create. */
  createPat(rec: Omit<PatRecord, 'authorizationId' | 'token' | 'createdAt'>): PatRecord {
    const pat: PatRecord = {
      ...rec,
      authorizationId: newGuid(),
      token: this.remember(randomPatValue()),
      createdAt: ++this.patSeq,
    };
    this.patList.push(pat);
    if (this.patPropagationCalls > 0) this.propagationPending.set(pat.authorizationId, this.patPropagationCalls);
    return pat;
  }

  /** The issuer of an organisation's OIDC tokens (what a federated credential names). */
  oidcIssuer(orgName: string): string {
    const org = this.org(orgName);
    if (!org) throw new Error(`emulator: unknown org ${orgName}`);
    return `https://vstoken.dev.azure.com/${org.id}`;
  }

  /** The subject of a service connection's OIDC tokens: `sc://{org}/{project}/{connection name}`. */
  federatedSubject(orgName: string, projectName: string, connectionName: string): string {
    const org = this.org(orgName);
    const project = org && this.project(org.name, projectName);
    if (!org || !project) throw new Error(`emulator: unknown org/project ${orgName}/${projectName}`);
    return `sc://${org.name}/${project.name}/${connectionName}`;
  }

  nextGroupId(): number {
    return ++this.groupSeq;
  }

  /** Canonical JSON of durable state (users, orgs, projects, PATs, groups with stored values, policies). */
  snapshot(): string {
    const data = {
      users: this.users,
      orgs: this.orgs,
      projects: this.projects,
      pats: this.patList,
      groups: this.groups,
      endpoints: this.endpoints,
      policies: this.policies,
      clientSecrets: [...this.clientSecrets].map(([k, v]) => [k, [...v].sort()]),
      apps: this.apps,
      managedIdentities: this.managedIdentities,
      vaults: this.vaultsSnapshot(),
    };
    return canonicalJson(data);
  }
}

export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Date)) {
      const o = v as Record<string, unknown>;
      return Object.fromEntries(
        Object.keys(o)
          .sort()
          .map((k) => [k, o[k]]),
      );
    }
    return v;
  });
}
