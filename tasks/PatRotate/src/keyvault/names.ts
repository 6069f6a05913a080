// Key Vault names: the vault's URL from keyVaultName (a name, or a full https URL) and the connection's cloud, and
// the secret names PatRotate writes (Key Vault allows letters, digits and '-', 1–127 characters; case-insensitive).
import { ConfigError } from '../configError';

export const SECRET_NAME = /^[0-9A-Za-z-]{1,127}$/;
const VAULT_NAME = /^[A-Za-z](?!.*--)[A-Za-z0-9-]{1,22}[A-Za-z0-9]$/;

/** The vault DNS suffix of each Azure cloud (the connection's `environment`), when the connection does not say it. */
const VAULT_SUFFIX: Record<string, string> = {
  azurecloud: 'vault.azure.net',
  azureusgovernment: 'vault.usgovcloudapi.net',
  azurechinacloud: 'vault.azure.cn',
};
export const DEFAULT_VAULT_SUFFIX = 'vault.azure.net';

export function vaultSuffixOf(environment: string | undefined): string | undefined {
  return VAULT_SUFFIX[(environment ?? 'AzureCloud').toLowerCase()];
}

/** Checks keyVaultName as typed: a vault name, or an https URL with nothing after the host. */
export function checkVaultInput(value: string): void {
  if (/^https?:\/\//i.test(value)) {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      throw new ConfigError(
        'keyVaultName',
        `'${value}' is not a URL: use a vault name or https://<vault>.vault.azure.net.`,
      );
    }
    if (url.protocol !== 'https:')
      throw new ConfigError('keyVaultName', `'${value}' must use https: Key Vault answers only over TLS.`);
    if (url.pathname.replace(/\/+$/, '') !== '' || url.search || url.hash || url.username || url.password)
      throw new ConfigError(
        'keyVaultName',
        `'${value}' must be just https://host[:port], without a path: the vault's base URL, e.g. https://contoso-kv.vault.azure.net.`,
      );
    return;
  }
  if (!VAULT_NAME.test(value))
    throw new ConfigError(
      'keyVaultName',
      `'${value}' is not a Key Vault name (3–24 letters, digits and single '-', starting with a letter): use the vault's name or its https URL.`,
    );
}

/** The vault's base URL (no trailing slash): a URL as given, or https://{name}.{suffix}. */
export function vaultUrl(value: string, suffix: string): string {
  return /^https:\/\//i.test(value) ? new URL(value).origin : `https://${value.toLowerCase()}.${suffix}`;
}

/** Checks a secretName template: literal parts must already be valid, only {displayName} is expanded. */
export function checkSecretTemplate(input: string, template: string): void {
  const literal = template.replace(/\{displayName\}/g, '');
  if (!/^[0-9A-Za-z-]*$/.test(literal) || (literal === '' && !template.includes('{displayName}')))
    throw new ConfigError(
      input,
      `'${template}' is not a valid Key Vault secret name: use letters, digits and '-' (and {displayName}), e.g. 'PAT-{displayName}'.`,
    );
  if (literal.length > 127) throw new ConfigError(input, `'${template}' is longer than Key Vault's 127 characters.`);
}

/** The secret name for a PAT: every character Key Vault does not allow in {displayName} becomes '-'. */
export function secretNameFor(template: string, displayName: string): string {
  return template.replace(/\{displayName\}/g, displayName.replace(/[^0-9A-Za-z-]/g, '-'));
}

/** Key Vault secret names are case-insensitive. */
export function sameSecret(a: string, b: string): boolean {
  return a.toLowerCase() === b.toLowerCase();
}
