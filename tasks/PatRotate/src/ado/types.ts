// Domain types of the PAT Lifecycle Management API and variable groups, as the rest of the task sees them.
// Field names follow the REST contract (test/fixtures/specs/tokens/7.2/tokens.json); dates are parsed into Date.

/** Which PATs a List call returns (`displayFilterOption`). */
export type PatStatusFilter = 'active' | 'expired' | 'revoked' | 'all';

export interface PatToken {
  authorizationId: string;
  displayName: string;
  /** Space-separated scope string, e.g. "vso.code vso.build" or "app_token" (full access). */
  scope: string;
  /** null for a global PAT (allOrgs: true); otherwise the ids of the organizations it works in. */
  targetAccounts: string[] | null;
  validFrom: Date;
  validTo: Date;
}

/** A PAT just created: the only moment the service returns its value. */
export interface NewPatToken extends PatToken {
  token: string;
}

export interface PatCreateRequest {
  displayName: string;
  scope: string;
  validTo: Date;
  allOrgs: boolean;
}

export interface PatUpdateRequest {
  authorizationId: string;
  validTo?: Date;
  displayName?: string;
  scope?: string;
  allOrgs?: boolean;
}

/** How a request to Azure DevOps is authenticated. */
export type Credential = { kind: 'bearer'; token: string } | { kind: 'basic'; token: string };
