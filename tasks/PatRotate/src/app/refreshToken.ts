// The rolled refresh token replaces the one sign-in just used: it is handed on (secret output) and saved to its
// variable group, read back like a PAT, before the first PAT API call.
import type { VariableGroup, VariableGroupClient } from '../ado/variableGroups';
import type { SignedIn } from '../auth/types';
import { storeConfirmed, VariableGroupStore, type StoreResult } from '../rotation/stores';
import type { RunContext } from './context';
import { errorMessage } from '../errorMessage';

/** Where the rolled refresh token went; `lateWrite`: a write of that group got no answer and may still land. */
export interface SavedRefreshToken {
  groupId: number;
  lateWrite: boolean;
}

/** Saves the rolled refresh token, read back. */
export async function saveRefreshToken(
  { agent, log, cfg }: RunContext,
  signedIn: SignedIn,
  groups: VariableGroupClient,
): Promise<SavedRefreshToken | undefined> {
  const rt = signedIn.rolledRefreshToken;
  if (!rt) return undefined;
  agent.setSecret(rt);
  agent.setVariable('refreshToken', rt, true, true);
  if (!cfg.refreshTokenStore) {
    if (cfg.auth.method !== 'accessToken')
      log.warn(
        'Entra issued a new refresh token, but refreshTokenVariable is not set, so it is not saved: the next run may fail with a used or expired refresh token. Set refreshTokenVariable and refreshTokenGroup.',
      );
    return undefined;
  }
  const { variableName, ref } = cfg.refreshTokenStore;
  let group: VariableGroup;
  let result: StoreResult | undefined;
  try {
    group = await groups.find(ref.project, ref.group);
    // Read back like a PAT: another run's write of the group may drop it.
    result = (await storeConfirmed(new VariableGroupStore(groups, group), { [variableName]: rt })).get(variableName);
  } catch (e) {
    throw new Error(
      `Saving the new refresh token to '${variableName}' in variable group '${ref.group}' failed: ${errorMessage(e)} No PAT was changed. If the next run reports a used refresh token, run the deviceCode bootstrap again.`,
      { cause: e },
    );
  }
  if (result?.kind !== 'stored')
    throw new Error(
      `Saving the new refresh token to '${variableName}' in variable group '${ref.group}' failed: ${result?.why ?? '?'} No PAT was changed. If the next run reports a used refresh token, run the deviceCode bootstrap again.`,
    );
  log.info(`Saved the new refresh token in variable group '${group.name}' as '${variableName}'.`);
  return { groupId: group.id, lateWrite: result.mayStillLand === true };
}
