// The vault of target keyVault and refreshTokenSecret: the Azure Resource Manager connection's identity (never the
// user's: the PAT API gets only the user token), the vault's URL in the connection's cloud, and the client over them.
import { AzureLogger } from '@azure/logger';
import type { AdoHttp } from '../ado/http';
import { readArmConnection } from '../azure/armConnection';
import { armCredential } from '../azure/armCredential';
import { oidcRequestUrl, requestOidcToken } from '../azure/oidc';
import { ConfigError } from '../configError';
import { vaultUrl } from '../keyvault/names';
import { VaultSecrets } from '../keyvault/secrets';
import type { NetworkSettings } from '../net/network';
import type { RunContext } from './context';

export function openVault(
  { agent, log, cfg }: RunContext,
  http: AdoHttp,
  network: NetworkSettings,
  setSecret: (v: string) => void,
): VaultSecrets {
  const kv = cfg.keyVault;
  if (!kv) throw new Error('openVault: no Key Vault configured');
  const conn = readArmConnection(kv.connectionId, agent.serviceConnection(kv.connectionId));
  const url = vaultUrl(kv.vault, conn.vaultSuffix);
  let oidcToken: (() => Promise<string>) | undefined;
  if (conn.identity.scheme === 'WorkloadIdentityFederation') {
    const requestUrl = oidcRequestUrl(agent);
    const jobToken = agent.jobAccessToken();
    if (!jobToken)
      throw new ConfigError(
        'azureSubscription',
        'workload identity federation needs the job access token to ask for an OIDC token: the job must have System.AccessToken (it does unless a script setting removed it).',
      );
    setSecret(jobToken);
    oidcToken = () => requestOidcToken(http, requestUrl, conn.id, jobToken);
  }
  // The SDK logs only when AZURE_LOG_LEVEL asks it to; its lines go to the debug log like every other, made inert.
  AzureLogger.log = (...args: unknown[]) => log.debug(`keyvault: ${args.map(String).join(' ')}`);
  const credential = armCredential(conn, { network: network, oidcToken, setSecret, debug: log.debug });
  const verifyChallenge = new URL(url).hostname.endsWith(`.${conn.vaultSuffix}`);
  const how = {
    WorkloadIdentityFederation: 'workload identity federation',
    ServicePrincipal: 'a service principal credential',
    ManagedServiceIdentity: 'managed identity',
  }[conn.identity.scheme];
  log.info(`Key Vault: ${url}, as ${conn.describe}, signing in with ${how}.`);
  return new VaultSecrets(url, credential, network, conn.describe, verifyChallenge);
}
