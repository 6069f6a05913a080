// The Key Vault inputs: the vault (keyVaultName), the Azure Resource Manager connection that writes it
// (azureSubscription), and refreshTokenSecret. Needed by target keyVault and by refreshTokenSecret.
import type { AuthMethod } from './auth/types';
import { ConfigError } from './configError';
import { checkVaultInput, SECRET_NAME } from './keyvault/names';

export interface KeyVaultConfig {
  /** The azureSubscription input: the agent gives the connection's id (a name in YAML becomes its id). */
  connectionId: string;
  /** keyVaultName as given: a vault name or an https URL (resolved with the connection's cloud). */
  vault: string;
  /** Where the rolled refresh token is saved (and, when refreshToken is empty, read from). */
  refreshTokenSecret?: string;
}

type Text = (name: string, fallback?: string) => string;

export function parseKeyVault(text: Text, targetKind: string, method: AuthMethod): KeyVaultConfig | undefined {
  const refreshTokenSecret = text('refreshTokenSecret') || undefined;
  if (targetKind !== 'keyVault' && !refreshTokenSecret) return undefined;
  const why = targetKind === 'keyVault' ? 'target keyVault' : 'refreshTokenSecret';
  if (refreshTokenSecret !== undefined) {
    if (method === 'accessToken')
      throw new ConfigError(
        'refreshTokenSecret',
        'the accessToken method has no refresh token to save or read: clear refreshTokenSecret.',
      );
    if (!SECRET_NAME.test(refreshTokenSecret))
      throw new ConfigError(
        'refreshTokenSecret',
        `'${refreshTokenSecret}' is not a valid Key Vault secret name: use 1–127 letters, digits and '-', e.g. PatRotate-RefreshToken.`,
      );
  }
  const vault = text('keyVaultName');
  if (!vault)
    throw new ConfigError('keyVaultName', `${why} needs the vault: its name (e.g. contoso-kv) or its https URL.`);
  checkVaultInput(vault);
  const connectionId = text('azureSubscription');
  if (!connectionId)
    throw new ConfigError(
      'azureSubscription',
      `${why} needs an Azure Resource Manager service connection whose identity may read and set secrets in '${vault}' (workload identity federation recommended).`,
    );
  return { connectionId, vault, refreshTokenSecret };
}
