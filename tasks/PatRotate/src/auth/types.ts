// Sign-in inputs and result. Plain data: no task-lib here, so the module runs and tests without an agent.
import type { NetworkSettings } from '../net/network';

/**
 * How the task signs in as a user. The PAT Lifecycle API accepts only delegated user tokens: PATs, service
 * principals and managed identities are refused by Azure DevOps.
 */
export type AuthMethod = 'refreshToken' | 'deviceCode' | 'usernamePassword' | 'accessToken';

export interface SignInConfig {
  method: AuthMethod;
  /** Tenant id or domain; 'organizations' when the user's home tenant is not known. */
  tenantId: string;
  /** App registration; default is the Azure CLI (04b07795-8ddb-461a-bbee-02f9e1bf7b46). */
  clientId: string;
  /** Given → confidential client (the app registration is not a public client). */
  clientSecret?: string;
  refreshToken?: string;
  /** Where the refresh token is kept when that is Key Vault ("secret 'X' in https://…"), for error advice. */
  refreshTokenHome?: string;
  username?: string;
  password?: string;
  accessToken?: string;
  /** https URL without a path, default https://login.microsoftonline.com. */
  authorityHost: string;
  deviceCodeTimeoutMinutes: number;
}

export interface SignInDeps {
  network: NetworkSettings;
  /** Masks a value in the pipeline log; called before the value is used for anything else. */
  setSecret(value: string): void;
  warn(message: string): void;
  info(message: string): void;
  /** Optional sink for MSAL's own log lines (PII logging is off: they hold no tokens). */
  debug?(message: string): void;
  now(): Date;
  sleep?(ms: number): Promise<void>;
}

export interface SignedIn {
  accessToken: string;
  expiresOn: Date;
  /** The refresh token Entra issued in exchange: store it, the old one no longer works. */
  rolledRefreshToken?: string;
  user: { upn?: string; oid?: string; tenantId?: string };
}

export const AZURE_DEVOPS_SCOPE = '499b84ac-1321-427f-aa17-267ca6975798/.default';
export const AZURE_DEVOPS_RESOURCE = '499b84ac-1321-427f-aa17-267ca6975798';
export const AZURE_CLI_CLIENT_ID = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';
export const DEFAULT_AUTHORITY_HOST = 'https://login.microsoftonline.com';
