// The rolled refresh token replaces the one sign-in just used: it is handed on (secret output) and saved where the
// next run reads it (a Key Vault secret, a variable group, or both), read back like a PAT, before the first PAT API
// call. With refreshTokenSecret and an empty refreshToken input, the run reads it from the vault first.
import type { VariableGroup, VariableGroupClient } from '../ado/variableGroups';
import type { SignedIn } from '../auth/types';
import type { Agent } from './agent';
import type { Log } from './log';
import { ConfigError } from '../configError';
import type { VaultSecrets } from '../keyvault/secrets';
import { KeyVaultStore } from '../rotation/keyVaultStore';
import { storeConfirmed } from '../rotation/storeConfirmed';
import { VariableGroupStore, type StoreResult } from '../rotation/stores';
import type { RunContext } from './context';
import { errorMessage } from '../errorMessage';

/** Where the rolled refresh token went; `lateWrite`: a write of that group got no answer and may still land. */
export interface SavedRefreshToken {
  groupId?: number;
  lateWrite: boolean;
}

/** The refresh token kept in Key Vault (refreshTokenSecret), for a run whose refreshToken input is empty. */
export async function readRefreshToken(
  { agent, cfg, log }: RunContext,
  vault: VaultSecrets,
): Promise<{ value: string; version: string }> {
  const name = cfg.keyVault?.refreshTokenSecret ?? '';
  const found = await vault.latest(name);
  if (!found?.value.trim())
    throw new ConfigError(
      'refreshTokenSecret',
      `secret '${name}' is not in ${vault.url} (or is empty): run once with authMethod deviceCode and refreshTokenSecret to save a first refresh token there, or pass one in refreshToken.`,
    );
  agent.setSecret(found.value);
  log.info(`Read the refresh token from ${vault.url} (secret '${name}').`);
  return { value: found.value.trim(), version: found.version };
}

/** Saves the rolled refresh token, read back. */
export async function saveRefreshToken(
  { agent, log, cfg }: RunContext,
  signedIn: SignedIn,
  groups: VariableGroupClient,
  vault: VaultSecrets | undefined,
  /** The vault version this run's refresh token was read from: disabled once the rolled one is saved. */
  redeemedVersion?: string,
): Promise<SavedRefreshToken | undefined> {
  const rt = signedIn.rolledRefreshToken;
  if (!rt) return undefined;
  agent.setSecret(rt);
  agent.setVariable('refreshToken', rt, true, true);
  const secretName = cfg.keyVault?.refreshTokenSecret;
  if (!cfg.refreshTokenStore && !secretName) {
    if (cfg.auth.method !== 'accessToken')
      log.warn(
        'Entra issued a new refresh token, but neither refreshTokenSecret nor refreshTokenVariable is set, so it is not saved: the next run may fail with a used or expired refresh token. Set refreshTokenSecret (Key Vault) or refreshTokenVariable and refreshTokenGroup.',
      );
    return undefined;
  }
  const failed = (where: string, why: string, cause?: unknown) =>
    new Error(
      `Saving the new refresh token to ${where} failed: ${why} No PAT was changed. If the next run reports a used refresh token, run the deviceCode bootstrap again.`,
      { cause },
    );
  if (secretName && vault) {
    const where = `secret '${secretName}' in ${vault.url}`;
    let result: StoreResult | undefined;
    try {
      result = (
        await storeConfirmed(new KeyVaultStore(vault, cfg.organization.organization), { [secretName]: rt })
      ).get(secretName);
    } catch (e) {
      throw failed(where, errorMessage(e), e);
    }
    if (result?.kind !== 'stored') throw failed(where, result?.why ?? '?');
    log.info(`Saved the new refresh token in ${where}.`);
    if (redeemedVersion) await disableRedeemed(vault, secretName, redeemedVersion, log);
  }
  if (!cfg.refreshTokenStore) return { lateWrite: false };
  const { variableName, ref } = cfg.refreshTokenStore;
  const where = `'${variableName}' in variable group '${ref.group}'`;
  let group: VariableGroup;
  let result: StoreResult | undefined;
  try {
    group = await groups.find(ref.project, ref.group);
    // Read back like a PAT: another run's write of the group may drop it.
    result = (await storeConfirmed(new VariableGroupStore(groups, group), { [variableName]: rt })).get(variableName);
  } catch (e) {
    throw failed(where, errorMessage(e), e);
  }
  if (result?.kind !== 'stored') throw failed(where, result?.why ?? '?');
  log.info(`Saved the new refresh token in variable group '${group.name}' as '${variableName}'.`);
  return { groupId: group.id, lateWrite: result.mayStillLand === true };
}

/**
 * A stop while signing in: Entra may redeem the refresh token (it works once) and answer with a new one. That answer
 * is awaited (within the stop's deadline) and handed on as the secret output, so the new token is not lost unsaid.
 */
export async function stoppedSigningIn(agent: Agent, signing: Promise<SignedIn>, deadlineMs: number): Promise<string> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), deadlineMs)));
  const rolled = await Promise.race([
    signing.then(
      (s) => s.rolledRefreshToken,
      () => undefined,
    ),
    late,
  ]);
  clearTimeout(timer);
  if (!rolled)
    return 'The run stopped while signing in: Entra may have redeemed the refresh token; if the next run reports a used refresh token, run the deviceCode bootstrap again.';
  agent.setSecret(rolled);
  agent.setVariable('refreshToken', rolled, true, true);
  return "The run stopped while signing in, after Entra rolled the refresh token: the new one was not saved; it is in this step's secret output refreshToken. If the next run reports a used refresh token, save that one where the runs read it, or run the deviceCode bootstrap again.";
}

/** Where the rolled refresh token is being saved, for a stop's message. */
export function savingTo({ cfg }: RunContext, vaultUrl: string | undefined): string | undefined {
  const places = [
    cfg.keyVault?.refreshTokenSecret && vaultUrl
      ? `secret '${cfg.keyVault.refreshTokenSecret}' in ${vaultUrl}`
      : undefined,
    cfg.refreshTokenStore ? `variable group '${cfg.refreshTokenStore.ref.group}'` : undefined,
  ].filter((p) => p !== undefined);
  return places.length > 0 ? places.join(' and ') : undefined;
}

/**
 * The version this run redeemed is disabled once the rolled token is saved: Entra may still honour an older refresh
 * token, and a disabled version cannot be read. A failure is only a warning (the new token is saved).
 */
async function disableRedeemed(vault: VaultSecrets, name: string, version: string, log: Log): Promise<void> {
  try {
    await vault.disableVersion(name, version);
    log.info(`Disabled the version of '${name}' this run redeemed (${version}).`);
  } catch (e) {
    log.warn(
      `The refresh token this run redeemed is still readable in ${vault.url} (secret '${name}', version ${version}): disabling it failed (${errorMessage(e)}); disable it by hand.`,
    );
  }
}
