/** Key Vault half of the state: vaults, their secrets (every version), soft-deleted names and data-plane grants. */
import { randomBytes } from 'node:crypto';
import { AppState } from './principals';
import { newGuid } from './tokens';

export type VaultPermission = 'get' | 'list' | 'set' | 'delete';
/** Key Vault Secrets Officer / Secrets User / Reader (RBAC roles, seen from the secrets data plane). */
export type VaultRole = 'officer' | 'user' | 'reader';

const ROLE_PERMISSIONS: Record<VaultRole, VaultPermission[]> = {
  officer: ['get', 'list', 'set', 'delete'],
  user: ['get', 'list'],
  reader: ['list'],
};

export interface SecretVersionRecord {
  /** 32 lowercase hex digits. */
  version: string;
  value: string;
  contentType?: string;
  tags?: Record<string, string>;
  enabled: boolean;
  /** Unix seconds. */
  nbf?: number;
  exp?: number;
  created: number;
  updated: number;
}

export interface VaultSecretRecord {
  /** As first written (names are case-insensitive). */
  name: string;
  /** In creation order. */
  versions: SecretVersionRecord[];
}

export interface VaultRecord {
  name: string;
  /** "https://127.0.0.1:PORT" once listening (no trailing slash). */
  url: string;
  tenantId: string;
  location: string;
  subscriptionId: string;
  resourceGroup: string;
  /** Lower-case name → secret. */
  secrets: Record<string, VaultSecretRecord>;
  /** Lower-case names deleted but recoverable (soft-delete): a PUT answers 409. */
  deleted: string[];
  /** Principal object id (SP, managed identity or user oid) → permissions. */
  access: Record<string, VaultPermission[]>;
}

export interface SetSecretOptions {
  contentType?: string;
  tags?: Record<string, string>;
  enabled?: boolean;
  nbf?: number;
  exp?: number;
}

export class VaultState extends AppState {
  readonly vaults: VaultRecord[] = [];

  /** Internal: `em.addVault` registers the record, then starts its listener and sets `url`. */
  createVault(
    name: string,
    o: { location?: string; subscriptionId?: string; resourceGroup?: string } = {},
  ): VaultRecord {
    if (!/^[a-zA-Z][a-zA-Z0-9-]{1,22}[a-zA-Z0-9]$/.test(name)) throw new Error(`emulator: invalid vault name ${name}`);
    if (this.vault(name)) throw new Error(`emulator: vault ${name} exists`);
    const v: VaultRecord = {
      name,
      url: '',
      tenantId: this.tenantId,
      location: o.location ?? 'westeurope',
      subscriptionId: o.subscriptionId ?? newGuid(),
      resourceGroup: o.resourceGroup ?? 'rg-patrotate',
      secrets: {},
      deleted: [],
      access: {},
    };
    this.vaults.push(v);
    return v;
  }

  /** The live record. */
  vault(name: string): VaultRecord | undefined {
    return this.vaults.find((v) => v.name.toLowerCase() === name.toLowerCase());
  }

  private requireVault(name: string): VaultRecord {
    const v = this.vault(name);
    if (!v) throw new Error(`emulator: unknown vault ${name}`);
    return v;
  }

  /** Grants a principal (object id) a role or an explicit permission list, replacing what it had. */
  grantVault(vaultName: string, principalObjectId: string, access: VaultRole | VaultPermission[]): void {
    const v = this.requireVault(vaultName);
    v.access[principalObjectId] = typeof access === 'string' ? [...ROLE_PERMISSIONS[access]] : [...access];
  }

  can(v: VaultRecord, principalObjectId: string | undefined, p: VaultPermission): boolean {
    return principalObjectId !== undefined && (v.access[principalObjectId] ?? []).includes(p);
  }

  /** Writes a new version (what a PUT does; also a seeding helper). */
  setVaultSecret(vaultName: string, name: string, value: string, o: SetSecretOptions = {}): SecretVersionRecord {
    const v = this.requireVault(vaultName);
    const key = name.toLowerCase();
    const now = Math.floor(Date.now() / 1000);
    const rec: SecretVersionRecord = {
      version: randomBytes(16).toString('hex'),
      value,
      ...(o.contentType !== undefined ? { contentType: o.contentType } : {}),
      ...(o.tags !== undefined ? { tags: { ...o.tags } } : {}),
      enabled: o.enabled ?? true,
      ...(o.nbf !== undefined ? { nbf: o.nbf } : {}),
      ...(o.exp !== undefined ? { exp: o.exp } : {}),
      created: now,
      updated: now,
    };
    const s = (v.secrets[key] ??= { name, versions: [] });
    s.versions.push(rec);
    return rec;
  }

  /** Deletes the secret (all versions) into the recoverable state: its name cannot be reused until purged. */
  softDeleteSecret(vaultName: string, name: string): void {
    const v = this.requireVault(vaultName);
    const key = name.toLowerCase();
    delete v.secrets[key];
    if (!v.deleted.includes(key)) v.deleted.push(key);
  }

  /** Purges a soft-deleted name. */
  purgeSecret(vaultName: string, name: string): void {
    const v = this.requireVault(vaultName);
    v.deleted = v.deleted.filter((n) => n !== name.toLowerCase());
  }

  /** Vaults for `snapshot()`: secrets with every version, values, tags, attributes; deleted names; grants. */
  protected vaultsSnapshot(): unknown {
    return this.vaults.map((v) => ({
      name: v.name,
      secrets: v.secrets,
      deleted: [...v.deleted].sort(),
      access: Object.fromEntries(Object.entries(v.access).map(([k, p]) => [k, [...p].sort()])),
    }));
  }
}
