// A TokenCredential (what @azure/keyvault-secrets asks for) over msal-node, for the identity of an Azure Resource
// Manager connection: workload identity federation (a fresh OIDC token as client assertion per acquisition), a
// service principal's secret or certificate, or the agent machine's managed identity. Every call goes through the
// agent's proxy and CA (IMDS, link-local, never through a proxy). Only the vault's own scope is ever granted.
import type { AccessToken, GetTokenOptions, TokenCredential } from '@azure/core-auth';
import { ConfidentialClientApplication, ManagedIdentityApplication, type Configuration } from '@azure/msal-node';
import { redact } from '../auth/aadErrors';
import { msalAuthority, msalLogger } from '../auth/msalApp';
import { createNetworkClient } from '../auth/networkClient';
import { errorMessage } from '../errorMessage';
import type { NetworkSettings } from '../net/network';
import type { ArmConnection } from './armConnection';

export interface ArmCredentialDeps {
  network: NetworkSettings;
  /** A fresh OIDC token for the connection (workload identity federation only). */
  oidcToken?: () => Promise<string>;
  setSecret(value: string): void;
  debug?(message: string): void;
}

export function armCredential(conn: ArmConnection, deps: ArmCredentialDeps): TokenCredential {
  const scope = `${conn.vaultResource}/.default`;
  const acquire = acquirer(conn, deps);
  return {
    async getToken(scopes: string | string[], _options?: GetTokenOptions): Promise<AccessToken> {
      const asked = Array.isArray(scopes) ? scopes : [scopes];
      // The vault's challenge names the resource it wants a token for; a vault asking for any other resource
      // (Azure DevOps, ARM, Graph) would receive a token it could use elsewhere.
      if (asked.length !== 1 || asked[0].toLowerCase() !== scope.toLowerCase())
        throw new Error(
          `The vault asked for a token for '${asked.join(' ').slice(0, 100)}', not for Key Vault (${scope}): nothing was sent.`,
        );
      let result: { accessToken: string; expiresOn: Date | null } | null;
      try {
        result = await acquire(scope);
      } catch (e) {
        throw new Error(`Signing in to Key Vault as ${conn.describe} failed: ${redact(errorMessage(e))}`, { cause: e });
      }
      if (!result?.accessToken) throw new Error(`Signing in to Key Vault as ${conn.describe} returned no token.`);
      deps.setSecret(result.accessToken);
      return {
        token: result.accessToken,
        expiresOnTimestamp: (result.expiresOn ?? new Date(Date.now() + 300_000)).getTime(),
      };
    },
  };
}

type Acquire = (scope: string) => Promise<{ accessToken: string; expiresOn: Date | null } | null>;

function acquirer(conn: ArmConnection, deps: ArmCredentialDeps): Acquire {
  const logger = msalLogger(deps.debug ? (m) => deps.debug?.(m) : undefined);
  const id = conn.identity;
  if (id.scheme === 'ManagedServiceIdentity') {
    // IMDS is a link-local address on the VM itself: a proxy could never reach it.
    const direct: NetworkSettings = { ...deps.network, proxyFor: () => undefined };
    const app = new ManagedIdentityApplication({
      system: { networkClient: createNetworkClient(direct), loggerOptions: logger },
    });
    return (scope) => app.acquireToken({ resource: scope.replace(/\/\.default$/, '') });
  }
  const { authority, knownAuthorities, authorityMetadata } = msalAuthority(conn.authorityHost, id.tenantId);
  const auth: Configuration['auth'] = { clientId: id.clientId, authority, knownAuthorities, authorityMetadata };
  if (id.scheme === 'WorkloadIdentityFederation') {
    const oidc = deps.oidcToken;
    if (!oidc) throw new Error('workload identity federation needs the job OIDC token');
    auth.clientAssertion = async () => {
      const token = await oidc();
      deps.setSecret(token);
      return token;
    };
  } else if ('secret' in id) {
    deps.setSecret(id.secret);
    auth.clientSecret = id.secret;
  } else {
    auth.clientCertificate = {
      thumbprintSha256: id.certificate.thumbprintSha256,
      privateKey: id.certificate.privateKey,
      x5c: id.certificate.x5c,
    };
  }
  const app = new ConfidentialClientApplication({
    auth,
    system: { networkClient: createNetworkClient(deps.network), loggerOptions: logger },
  });
  return (scope) => app.acquireTokenByClientCredential({ scopes: [scope] });
}
