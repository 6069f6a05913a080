// The target input (where a new PAT goes) and the inputs that go with it: variableName, variableGroup,
// serviceConnection, secretName and the project they live in (the vault and its connection: keyVaultConfig.ts).
import { ConfigError } from './configError';
import { checkSecretTemplate } from './keyvault/names';
import { checkVariableName, isOutputName, OUTPUT_CLASH } from './variableNames';

export interface GroupRef {
  /** Variable group name or numeric id. */
  group: string;
  project: string;
}

/** A service connection (name or id) in a project; the PAT goes into its authorization. */
export interface ConnectionRef {
  connection: string;
  project: string;
  /**
   * The collection the connection lives in: the pipeline's own (System.CollectionUri), which may differ from
   * `organization`, the one its PAT is made in (a connection to a second organization); else `organization`.
   */
  collectionUrl: string;
}

export type TargetConfig =
  | { kind: 'variable'; variableName: string }
  | { kind: 'variableGroup'; variableName: string; ref: GroupRef }
  /** `variableName` is the connection as given: one PAT per connection. */
  | { kind: 'serviceConnection'; variableName: string; ref: ConnectionRef }
  /** `variableName` is the secretName template (Key Vault secret names: letters, digits, '-'). */
  | { kind: 'keyVault'; variableName: string }
  | { kind: 'none' };

export const DEFAULT_VARIABLE_NAME = 'PatRotate.Token';
export const DEFAULT_SECRET_NAME = '{displayName}';

type Text = (name: string, fallback?: string) => string;
type Choice = <T extends string>(name: string, options: readonly T[], fallback: T) => T;

export function parseTarget(text: Text, choice: Choice, project: string, pipelineCollection: string): TargetConfig {
  const kind = choice<TargetConfig['kind']>(
    'target',
    ['variable', 'variableGroup', 'serviceConnection', 'keyVault', 'none'],
    'variable',
  );
  if (kind === 'none') return { kind };
  if (kind === 'keyVault') {
    const secretName = text('secretName', DEFAULT_SECRET_NAME);
    checkSecretTemplate('secretName', secretName);
    return { kind, variableName: secretName };
  }
  if (kind === 'serviceConnection') {
    const connection = text('serviceConnection');
    if (!connection)
      throw new ConfigError(
        'serviceConnection',
        'target serviceConnection needs the name or id of the service connection (Project settings → Service connections).',
      );
    if (!project) throw new ConfigError('project', "the service connection's project is unknown: set project.");
    return { kind, variableName: connection, ref: { connection, project, collectionUrl: pipelineCollection } };
  }
  const variableName = text('variableName', DEFAULT_VARIABLE_NAME);
  checkVariableName('variableName', variableName);
  if (kind === 'variable') {
    if (isOutputName(variableName)) throw new ConfigError('variableName', `'${variableName}' ${OUTPUT_CLASH}`);
    return { kind, variableName };
  }
  const group = text('variableGroup');
  if (!group)
    throw new ConfigError('variableGroup', 'target variableGroup needs the name or id of the variable group.');
  if (!project) throw new ConfigError('project', "the variable group's project is unknown: set project.");
  return { kind, variableName, ref: { group, project } };
}
