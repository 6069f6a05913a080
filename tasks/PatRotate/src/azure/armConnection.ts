// The Azure Resource Manager service connection (azureSubscription) as the identity that reads and writes Key Vault:
// its scheme and what each scheme needs, the Entra authority and the vault DNS suffix of its cloud. Only Key Vault
// gets this identity's tokens: the PAT API refuses service principals and managed identities.
import { createHash, X509Certificate } from 'node:crypto';
import type { ServiceConnectionAuth } from '../app/agent';
import { DEFAULT_AUTHORITY_HOST } from '../auth/types';
import { ConfigError } from '../configError';
import { DEFAULT_VAULT_SUFFIX, vaultSuffixOf } from '../keyvault/names';

export type ArmIdentity =
  | { scheme: 'WorkloadIdentityFederation'; tenantId: string; clientId: string }
  | { scheme: 'ServicePrincipal'; tenantId: string; clientId: string; secret: string }
  | { scheme: 'ServicePrincipal'; tenantId: string; clientId: string; certificate: ClientCertificate }
  | { scheme: 'ManagedServiceIdentity' };

export interface ClientCertificate {
  privateKey: string;
  /** Base64 of the certificate's SHA-256 digest, hex as msal-node wants it. */
  thumbprintSha256: string;
  /** The certificate PEM, sent as x5c (subject name / issuer authentication). */
  x5c: string;
}

export interface ArmConnection {
  id: string;
  identity: ArmIdentity;
  /** https://host of the Entra authority of the connection's cloud (environmentAuthorityUrl), no trailing slash. */
  authorityHost: string;
  /** The resource Key Vault tokens are for, e.g. https://vault.azure.net (scope: {resource}/.default). */
  vaultResource: string;
  vaultSuffix: string;
  /** For messages: "service connection <id> (service principal <clientId>)". */
  describe: string;
}

const SCHEMES =
  'WorkloadIdentityFederation (recommended), ServicePrincipal (secret or certificate) or ManagedServiceIdentity';

export function readArmConnection(id: string, auth: ServiceConnectionAuth | undefined): ArmConnection {
  if (!auth)
    throw new ConfigError(
      'azureSubscription',
      `the agent gave no authorization for service connection '${id}': use an Azure Resource Manager service connection this pipeline is authorized to use.`,
    );
  const need = (name: string): string => {
    const value = auth.parameter(name)?.trim();
    if (!value)
      throw new ConfigError(
        'azureSubscription',
        `service connection '${id}' (${auth.scheme}) has no ${name}: edit the connection.`,
      );
    return value;
  };
  const scheme = auth.scheme.toLowerCase();
  let identity: ArmIdentity;
  if (scheme === 'workloadidentityfederation') {
    identity = {
      scheme: 'WorkloadIdentityFederation',
      tenantId: need('tenantid'),
      clientId: need('serviceprincipalid'),
    };
  } else if (scheme === 'serviceprincipal') {
    const base = {
      scheme: 'ServicePrincipal' as const,
      tenantId: need('tenantid'),
      clientId: need('serviceprincipalid'),
    };
    const kind = (auth.parameter('authenticationType') ?? 'spnKey').toLowerCase();
    if (kind === 'spnkey') identity = { ...base, secret: need('serviceprincipalkey') };
    else if (kind === 'spncertificate')
      identity = { ...base, certificate: certificateOf(id, need('servicePrincipalCertificate')) };
    else
      throw new ConfigError(
        'azureSubscription',
        `service connection '${id}' uses authenticationType '${kind}': only spnKey (secret) and spnCertificate are supported.`,
      );
  } else if (scheme === 'managedserviceidentity') {
    identity = { scheme: 'ManagedServiceIdentity' };
  } else {
    throw new ConfigError(
      'azureSubscription',
      `service connection '${id}' uses the scheme '${auth.scheme}', which PatRotate cannot sign in with: use ${SCHEMES}.`,
    );
  }
  const authorityHost = authorityOf(id, auth.data('environmentAuthorityUrl'));
  const environment = auth.data('environment');
  const vaultSuffix =
    auth.data('AzureKeyVaultDnsSuffix')?.replace(/^\.+/, '') || vaultSuffixOf(environment) || DEFAULT_VAULT_SUFFIX;
  const vaultResource = (auth.data('AzureKeyVaultServiceEndpointResourceId') || `https://${vaultSuffix}`).replace(
    /\/+$/,
    '',
  );
  const who =
    identity.scheme === 'ManagedServiceIdentity'
      ? "the agent machine's managed identity"
      : `service principal ${identity.clientId}`;
  return { id, identity, authorityHost, vaultResource, vaultSuffix, describe: `service connection ${id} (${who})` };
}

/** environmentAuthorityUrl (default the public cloud), which must be an https origin: the client secret goes there. */
function authorityOf(id: string, value: string | undefined): string {
  const text = (value || DEFAULT_AUTHORITY_HOST).trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(
      'azureSubscription',
      `service connection '${id}' has an environmentAuthorityUrl that is not a URL.`,
    );
  }
  if (url.protocol !== 'https:')
    throw new ConfigError(
      'azureSubscription',
      `service connection '${id}' has an environmentAuthorityUrl that is not https.`,
    );
  return url.origin;
}

/** The connection's PEM holds the certificate and its unencrypted private key. */
function certificateOf(id: string, pem: string): ClientCertificate {
  const cert = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem)?.[0];
  const key = /-----BEGIN (?:RSA |EC )?PRIVATE KEY-----[\s\S]+?-----END (?:RSA |EC )?PRIVATE KEY-----/.exec(pem)?.[0];
  if (!cert || !key)
    throw new ConfigError(
      'azureSubscription',
      `the certificate of service connection '${id}' must be a PEM with the certificate and its unencrypted private key.`,
    );
  let der: Buffer;
  try {
    der = new X509Certificate(cert).raw;
  } catch {
    throw new ConfigError('azureSubscription', `the certificate of service connection '${id}' cannot be read.`);
  }
  return { privateKey: key, thumbprintSha256: createHash('sha256').update(der).digest('hex'), x5c: cert };
}
