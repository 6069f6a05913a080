// A world with a Key Vault: an Azure Resource Manager service connection in project Platform (workload identity
// federation by default, or a service principal's secret or certificate, or the agent's managed identity), its
// service principal, and a vault it may write. `env` is what the agent gives the task for that connection.
import { generate } from 'selfsigned';
import type { AppRecord, ManagedIdentityRecord, SecretVersionRecord } from '../emulator';
import { CLIENT_ID, world, type World } from './world';

export type Scheme = 'wif' | 'secret' | 'cert' | 'msi';

export interface VaultWorld extends World {
  vaultUrl: string;
  connectionId: string;
  app?: AppRecord;
  mi?: ManagedIdentityRecord;
  /** The agent's environment for the connection (ENDPOINT_*, the job token, System.OidcRequestUri). */
  env: Record<string, string>;
  /** Inputs of a rotation into the vault with refreshTokenSecret (the refresh token already in the vault). */
  vaultInputs(extra?: Record<string, string>): Record<string, string>;
  /** Inputs of a rotation of 'deploy' into the vault, signing in with a refresh token input. */
  intoVault(extra?: Record<string, string>): Record<string, string>;
  /** Every version of a secret, oldest first ([] when there is none). */
  versions(name: string): SecretVersionRecord[];
}

export const VAULT = 'contoso-kv';
export const CONNECTION = 'kv-connection';
export const RT_SECRET = 'PatRotate-RefreshToken';

let certificate: Promise<{ cert: string; private: string }> | undefined;

export async function vaultWorld(
  scheme: Scheme = 'wif',
  grant: 'officer' | 'user' | 'none' = 'officer',
  options: { latencyMs?: number } = {},
): Promise<VaultWorld> {
  const w = await world(options);
  const s = w.emu.state;
  const vault = await w.emu.addVault(VAULT);
  const endpoint = s.addEndpoint('contoso', 'Platform', {
    name: CONNECTION,
    type: 'azurerm',
    url: 'https://management.azure.com/',
    scheme:
      scheme === 'wif'
        ? 'WorkloadIdentityFederation'
        : scheme === 'msi'
          ? 'ManagedServiceIdentity'
          : 'ServicePrincipal',
    parameters: {},
  });
  const id = endpoint.id;
  const env: Record<string, string> = {
    [`ENDPOINT_AUTH_SCHEME_${id}`]: endpoint.scheme,
    [`ENDPOINT_DATA_${id}_ENVIRONMENTAUTHORITYURL`]: `${w.emu.url}/`,
    [`ENDPOINT_DATA_${id}_ENVIRONMENT`]: 'AzureCloud',
    [`ENDPOINT_AUTH_PARAMETER_${id}_TENANTID`]: s.tenantId,
  };
  let app: AppRecord | undefined;
  let mi: ManagedIdentityRecord | undefined;
  if (scheme === 'msi') {
    mi = s.addManagedIdentity({});
    env.AZURE_POD_IDENTITY_AUTHORITY_HOST = await w.emu.startImds(mi);
  } else if (scheme === 'wif') {
    app = s.addApp({
      displayName: 'kv-writer',
      federated: [{ issuer: s.oidcIssuer('contoso'), subject: s.federatedSubject('contoso', 'Platform', CONNECTION) }],
    });
    env.SYSTEM_OIDCREQUESTURI = w.emu.oidcRequestUri('contoso', 'Platform');
    env.ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN = s.issueJobToken();
  } else if (scheme === 'secret') {
    const secret = 'kv-writer-client-secret-0123456789';
    app = s.addApp({ displayName: 'kv-writer', secret });
    env[`ENDPOINT_AUTH_PARAMETER_${id}_AUTHENTICATIONTYPE`] = 'spnKey';
    env[`ENDPOINT_AUTH_PARAMETER_${id}_SERVICEPRINCIPALKEY`] = secret;
  } else {
    certificate ??= generate([{ name: 'commonName', value: 'kv-writer' }], { keySize: 2048, algorithm: 'sha256' });
    const pems = await certificate;
    app = s.addApp({ displayName: 'kv-writer', certificatePem: pems.cert });
    env[`ENDPOINT_AUTH_PARAMETER_${id}_AUTHENTICATIONTYPE`] = 'spnCertificate';
    env[`ENDPOINT_AUTH_PARAMETER_${id}_SERVICEPRINCIPALCERTIFICATE`] = `${pems.cert}\n${pems.private}`;
    w.supplied.push(pems.private);
  }
  if (app) env[`ENDPOINT_AUTH_PARAMETER_${id}_SERVICEPRINCIPALID`] = app.clientId;
  const principal = app?.objectId ?? mi!.objectId;
  if (grant !== 'none') s.grantVault(VAULT, principal, grant);
  return Object.assign(w, {
    vaultUrl: vault.url,
    connectionId: id,
    app,
    mi,
    env,
    vaultInputs: (extra: Record<string, string> = {}) => {
      // The refresh token lives in the vault; the task reads it there and saves the rolled one back.
      s.setVaultSecret(VAULT, RT_SECRET, s.issueRefreshToken(w.user.oid, CLIENT_ID));
      return {
        authMethod: 'refreshToken',
        authorityHost: w.emu.url,
        tenantId: s.tenantId,
        azureSubscription: id,
        keyVaultName: vault.url,
        refreshTokenSecret: RT_SECRET,
        target: 'keyVault',
        ...extra,
      };
    },
    intoVault: (extra: Record<string, string> = {}) => ({
      ...w.signIn(),
      displayName: 'deploy',
      azureSubscription: id,
      keyVaultName: vault.url,
      target: 'keyVault',
      ...extra,
    }),
    versions: (name: string) => s.vault(VAULT)?.secrets[name.toLowerCase()]?.versions ?? [],
  });
}
