// The target of new PAT values, checked before any PAT is created: the group exists, is not linked to Key Vault, and
// the writing identity may change it.
import { AdoError } from '../ado/errors';
import type { VariableGroupClient } from '../ado/variableGroups';
import { ConfigError } from '../config';
import { PipelineVariableStore, VariableGroupStore, type Store } from '../rotation/stores';
import type { RunContext } from './context';

export interface OpenedStore {
  store: Store;
  /** The refresh token's variable when it is saved in this very group: no PAT may be stored under its name. */
  refreshTokenVariableHere?: string;
}

export async function openStore(
  { agent, cfg }: RunContext, groups: VariableGroupClient, identity: string, refreshGroupId: number | undefined,
): Promise<OpenedStore | undefined> {
  const target = cfg.target;
  if (target.kind === 'none' || cfg.operation === 'list' || cfg.operation === 'renew' || cfg.operation === 'revoke') return undefined;
  if (target.kind === 'variable') return { store: new PipelineVariableStore(agent) };
  const group = await groups.find(target.ref.project, target.ref.group).catch((e: unknown) => {
    throw e instanceof AdoError && e.kind === 'notFound' ? new ConfigError('variableGroup', e.message) : e;
  });
  if (group.type.toLowerCase() === 'azurekeyvault') {
    throw new ConfigError('variableGroup', agent.loc('GroupIsKeyVault', group.name));
  }
  if (!(await groups.canManage(group))) {
    throw new ConfigError('variableGroup', agent.loc('GroupNotWritable', identity, group.name, group.name, cfg.groupAuth === 'entra' ? 'jobToken' : 'entra'));
  }
  const here = refreshGroupId === group.id ? cfg.refreshTokenStore?.variableName : undefined;
  return { store: new VariableGroupStore(groups, group, identity), refreshTokenVariableHere: here };
}
