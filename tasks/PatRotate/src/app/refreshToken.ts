// The rolled refresh token replaces the one sign-in just used: it is handed on (secret output) and saved to its
// variable group, read back like a PAT, before the first PAT API call.
import type { VariableGroup, VariableGroupClient } from '../ado/variableGroups';
import type { SignedIn } from '../auth/types';
import { storeConfirmed, VariableGroupStore, type StoreResult } from '../rotation/stores';
import type { RunContext } from './context';
import { errorMessage } from '../errorMessage';

/** Saves the rolled refresh token; returns the id of the group it went to. */
export async function saveRefreshToken({ agent, log, cfg }: RunContext, signedIn: SignedIn, groups: VariableGroupClient): Promise<number | undefined> {
  const rt = signedIn.rolledRefreshToken;
  if (!rt) return undefined;
  agent.setSecret(rt);
  agent.setVariable('refreshToken', rt, true, true);
  if (!cfg.refreshTokenStore) {
    if (cfg.auth.method !== 'accessToken') log.warn(agent.loc('RefreshTokenNotSaved'));
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
    throw new Error(agent.loc('RefreshTokenSaveFailed', variableName, ref.group, errorMessage(e)), { cause: e });
  }
  if (result?.kind !== 'stored') throw new Error(agent.loc('RefreshTokenSaveFailed', variableName, ref.group, result?.why ?? '?'));
  log.info(agent.loc('RefreshTokenSaved', group.name, variableName));
  return group.id;
}
