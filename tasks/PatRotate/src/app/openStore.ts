// The target of new PAT values, checked before any PAT is created: the group exists, is not linked to Key Vault, and
// the writing identity may change it; a service connection can take the PAT; a vault is reached (the vault's
// permission probe needs the secret names, so it runs after the plan: Store.preflight).
import { AdoError } from '../ado/errors';
import { unsupportedReason, withToken, type ServiceEndpointClient } from '../ado/serviceEndpoints';
import type { VariableGroup, VariableGroupClient } from '../ado/variableGroups';
import { ConfigError, type Config } from '../config';
import { SECRET_NAME, secretNameFor } from '../keyvault/names';
import type { Action } from '../rotation/plan';
import { errorMessage } from '../errorMessage';
import type { VaultSecrets } from '../keyvault/secrets';
import { ServiceEndpointStore } from '../rotation/endpointStore';
import { KeyVaultStore } from '../rotation/keyVaultStore';
import { PipelineVariableStore, VariableGroupStore, type Store } from '../rotation/stores';
import type { RunContext } from './context';
import type { SavedRefreshToken } from './refreshToken';

export interface OpenedStore {
  store: Store;
  /** Variables of the target no PAT may be stored as: the refresh token's (saved in this very group), plain ones. */
  protectedVariables: { name: string; why: string }[];
}

export async function openStore(
  { agent, cfg }: RunContext,
  groups: VariableGroupClient,
  identity: string,
  refresh: SavedRefreshToken | undefined,
  endpoints?: ServiceEndpointClient,
  vault?: VaultSecrets,
): Promise<OpenedStore | undefined> {
  const target = cfg.target;
  if (cfg.operation === 'list' || cfg.operation === 'revoke') return undefined;
  // A renewed PAT keeps its value: only a vault, which records each PAT's expiry, has anything to update.
  if (cfg.operation === 'renew' && target.kind !== 'keyVault') return undefined;
  // target none: the new PAT goes to the secret output `token` as soon as it is verified, like any store.
  if (target.kind === 'none') return { store: new PipelineVariableStore(agent, true), protectedVariables: [] };
  if (target.kind === 'variable') return { store: new PipelineVariableStore(agent), protectedVariables: [] };
  if (target.kind === 'keyVault') {
    if (!vault) throw new Error('openStore: no vault');
    const refreshSecret = cfg.keyVault?.refreshTokenSecret;
    return {
      store: new KeyVaultStore(vault, cfg.organization.organization, cfg.concurrency),
      protectedVariables: refreshSecret
        ? [
            {
              name: refreshSecret,
              why: "the refresh token's secret in the same vault (refreshTokenSecret): the next run could not sign in",
            },
          ]
        : [],
    };
  }
  if (target.kind === 'serviceConnection') {
    if (!endpoints) throw new Error('openStore: no service connection client');
    const found = await endpoints.find(target.ref.project, target.ref.connection).catch((e: unknown) => {
      throw e instanceof AdoError && e.kind === 'notFound' ? new ConfigError('serviceConnection', e.message) : e;
    });
    const unsupported = unsupportedReason(found);
    if (unsupported) throw new ConfigError('serviceConnection', `${unsupported}.`);
    if (!(await endpoints.canManage(found))) {
      throw new ConfigError(
        'serviceConnection',
        `${identity} may not change service connection '${found.name}': give it the Administrator role on the connection (Project settings → Service connections → ${found.name} → Security), or use ${cfg.storeAuthInput} ${cfg.storeAuth === 'entra' ? 'jobToken' : 'entra'}.`,
      );
    }
    // The update sends the connection back whole: one that cannot be (a parameter without its value) is refused now.
    const current = await endpoints.read(found);
    try {
      withToken(current, 'preflight');
    } catch (e) {
      throw new ConfigError('serviceConnection', errorMessage(e));
    }
    if (current.isReady === false) {
      // Its check after the write would fail: refuse now, before a PAT exists.
      throw new ConfigError(
        'serviceConnection',
        `service connection '${current.name}' is not ready (isReady false): fix it under Project settings → Service connections first.`,
      );
    }
    return { store: new ServiceEndpointStore(endpoints, current, identity), protectedVariables: [] };
  }
  const group = await groups.find(target.ref.project, target.ref.group).catch((e: unknown) => {
    throw e instanceof AdoError && e.kind === 'notFound' ? new ConfigError('variableGroup', e.message) : e;
  });
  if (group.type.toLowerCase() === 'azurekeyvault') throw linkedGroupError(group, target.variableName);
  if (!(await groups.canManage(group))) {
    throw new ConfigError(
      'variableGroup',
      `${identity} may not change variable group '${group.name}': give it the Administrator role on the group (Pipelines → Library → ${group.name} → Security), or use ${cfg.storeAuthInput} ${cfg.storeAuth === 'entra' ? 'jobToken' : 'entra'}.`,
    );
  }
  const protectedVariables = Object.entries(group.variables)
    .filter(([, v]) => !v.isSecret)
    .map(([name]) => ({
      name,
      why: `a plain (not secret) variable of group '${group.name}': PatRotate stores only secrets, so it would turn it into one`,
    }));
  const refreshName = cfg.refreshTokenStore?.variableName;
  if (refresh?.groupId === group.id && refresh.lateWrite) {
    // That write's older copy of the group, landing late, would drop a PAT variable this run adds: change nothing.
    throw new Error(
      `Saving the refresh token to variable group '${group.name}' took a write that got no answer and may still land, which would undo what this run writes to that group; no PAT was changed: run again.`,
    );
  }
  if (refresh?.groupId === group.id && refreshName) {
    protectedVariables.push({
      name: refreshName,
      why: "the refresh token's variable in the same group (refreshTokenVariable): the next run could not sign in",
    });
  }
  return { store: new VariableGroupStore(groups, group, identity), protectedVariables };
}

/** A group linked to Key Vault reads its values from the vault: say which, and the inputs that write it. */
function linkedGroupError(group: VariableGroup, variableName: string): ConfigError {
  const data = (group.providerData ?? {}) as { vault?: unknown; serviceEndpointId?: unknown };
  const vault = typeof data.vault === 'string' && data.vault ? data.vault : undefined;
  const connection =
    typeof data.serviceEndpointId === 'string' && data.serviceEndpointId ? data.serviceEndpointId : undefined;
  // Secret names allow letters, digits and '-': a variable name's other characters become '-'.
  const secret = variableName.replace(/[^0-9A-Za-z{}-]|\{(?!displayName\})|(?<!\{displayName)\}/g, '-');
  return new ConfigError(
    'variableGroup',
    `variable group '${group.name}' is linked to Azure Key Vault${vault ? ` '${vault}'` : ''}: its values come from the vault and cannot be written through the group. Write the vault instead: target: keyVault, keyVaultName: ${vault ?? '<the vault>'}, azureSubscription: ${connection ?? '<an Azure Resource Manager service connection>'}, secretName: ${secret} (the group then picks the new value up).`,
  );
}

/**
 * The secrets the preflight checks: those this run writes; when it writes none (nothing due), the vault secret of the
 * first selected PAT, so that a wrong vault or role shows on the nightly run, not first on the day a PAT is due.
 */
export function preflightNames(cfg: Config, actions: readonly Action[]): string[] {
  // Not a renewal's secret: its expiry update is best effort, and a renewal must not fail for it.
  const names = actions.flatMap((a) =>
    (a.kind === 'create' || a.kind === 'rotate') && a.variableName ? [a.variableName] : [],
  );
  const first = actions.find((a) => 'pat' in a);
  if (names.length > 0 || cfg.operation !== 'rotate' || cfg.target.kind !== 'keyVault' || !first || !('pat' in first))
    return names;
  const name = secretNameFor(cfg.target.variableName, first.pat.displayName);
  return SECRET_NAME.test(name) ? [name] : []; // a name the plan would refuse is not checked early
}
