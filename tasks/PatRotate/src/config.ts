// Every task input read and validated once, into a typed, immutable Config. Bad input fails here, before sign-in
// and before any write, with one line that names the input, what is wrong and how to fix it.
import { parseSelector, type Selector } from './selector';
import { ConfigError } from './configError';
import { checkVariableName, sameVariable } from './variableNames';
import { parseTarget, type GroupRef, type TargetConfig } from './target';
import { AZURE_CLI_CLIENT_ID, DEFAULT_AUTHORITY_HOST, type AuthMethod, type SignInConfig } from './auth/types';
import { resolveOrganization, sameService } from './ado/urls';
import { isDocumentedScope, splitScopes } from './scopes';
import { errorMessage } from './errorMessage';
import { parseKeyVault, type KeyVaultConfig } from './keyVaultConfig';

export type Operation = 'rotate' | 'create' | 'renew' | 'revoke' | 'list' | 'audit';
export type FailOnFindings = 'none' | 'expiring' | 'any';
export type RetireMode = 'revoke' | 'shorten' | 'keep';
export type StoreAuth = 'entra' | 'jobToken';

export type { ConnectionRef, GroupRef, TargetConfig } from './target';
export type { Selector } from './selector';

export interface Config {
  readonly organization: { collectionUrl: string; patApiUrl: string; organization: string };
  readonly auth: SignInConfig;
  /** Where the rolled refresh token is saved (a secret in a variable group), when configured. */
  readonly refreshTokenStore?: { variableName: string; ref: GroupRef };
  readonly operation: Operation;
  readonly selector: Selector;
  /** Scopes for new PATs; undefined = keep the old PAT's scopes (rotate). */
  readonly scopes?: string[];
  readonly validityDays: number;
  readonly allOrgs: boolean;
  readonly rotateWithinDays: number;
  readonly warnWithinDays: number;
  readonly createIfMissing: boolean;
  readonly retireOld: RetireMode;
  readonly graceHours: number;
  readonly verifyNewToken: boolean;
  readonly target: TargetConfig;
  /** The vault (target keyVault, refreshTokenSecret) and the Azure Resource Manager connection that writes it. */
  readonly keyVault?: KeyVaultConfig;
  /** Who writes the store (a variable group or a service connection), and the input that said so (for messages). */
  readonly storeAuth: StoreAuth;
  readonly storeAuthInput: 'storeAuth' | 'groupAuth';
  readonly concurrency: number;
  readonly dryRun: boolean;
  /** audit: a PAT whose lifetime is longer is flagged AUD-LONGLIVED. */
  readonly maxLifetimeDays: number;
  /** audit: where pat-inventory.csv/json are written; empty = the agent's temp directory. */
  readonly reportDirectory: string;
  readonly failOnFindings: FailOnFindings;
}

export { ConfigError } from './configError';

/** What the config reader needs from the agent: inputs and pipeline variables, as strings. */
export interface InputSource {
  input(name: string): string | undefined;
  variable(name: string): string | undefined;
}

export { DEFAULT_VARIABLE_NAME } from './target';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function parseConfig(src: InputSource): Config {
  const text = (name: string, fallback = ''): string => (src.input(name) ?? '').trim() || fallback;
  const choice = <T extends string>(name: string, options: readonly T[], fallback: T): T => {
    const value = text(name, fallback);
    const found = options.find((o) => o.toLowerCase() === value.toLowerCase());
    if (!found) throw new ConfigError(name, `'${value}' is not one of ${options.join(', ')}.`);
    return found;
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const value = text(name).toLowerCase();
    if (value === '') return fallback;
    if (value === 'true') return true;
    if (value === 'false') return false;
    throw new ConfigError(name, `'${value}' is not a boolean: use true or false.`);
  };
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const value = text(name);
    if (value === '') return fallback;
    // Plain decimal digits only: Number() would also take 0x1E, 3e1 or 1_0 as numbers nobody meant.
    const n = /^\d{1,6}$/.test(value) ? Number(value) : NaN;
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new ConfigError(name, `'${value}' is not a whole number from ${min} to ${max}.`);
    }
    return n;
  };

  const operation = choice<Operation>('operation', ['rotate', 'create', 'renew', 'revoke', 'list', 'audit'], 'rotate');
  let organization: Config['organization'];
  try {
    organization = resolveOrganization(text('organization'), src.variable('System.CollectionUri'));
  } catch (e) {
    throw new ConfigError('organization', errorMessage(e));
  }

  const auth = parseSignIn(text, choice, int, text('refreshTokenSecret') !== '');
  const selector = parseSelector(text('authorizationId'), text('displayName'), operation);

  const scopesText = text('scopes');
  const scopes = scopesText ? splitScopes(scopesText) : undefined;
  for (const s of scopes ?? []) {
    if (!isDocumentedScope(s)) {
      throw new ConfigError(
        'scopes',
        `'${s}' is not a documented Azure DevOps scope: use names such as vso.code or vso.packaging_write (app_token = full access).`,
      );
    }
  }
  if (operation === 'create' && !scopes) {
    throw new ConfigError('scopes', 'create needs the scopes of the new PAT, e.g. "vso.code vso.build".');
  }

  const createIfMissing = bool('createIfMissing', false);
  if (createIfMissing && operation === 'rotate' && !scopes) {
    throw new ConfigError('scopes', 'createIfMissing needs the scopes to give a PAT it creates.');
  }
  if (createIfMissing && operation === 'rotate' && selector.kind !== 'name') {
    throw new ConfigError(
      'createIfMissing',
      'needs an exact displayName (no authorizationId, no trailing *) to know what to create.',
    );
  }

  const project = text('project', src.variable('System.TeamProject') ?? '');
  let pipelineCollection = organization.collectionUrl;
  try {
    const pipeline = resolveOrganization('', src.variable('System.CollectionUri')).collectionUrl;
    // The user's token goes only to hosts of the organization it was asked for: the pipeline's collection on the
    // same host (another Azure DevOps Services organization), never another server.
    if (sameService(pipeline, organization.collectionUrl)) pipelineCollection = pipeline;
  } catch {
    // Not in a pipeline (or an unreadable variable): the connection is looked up in `organization`.
  }
  const target = parseTarget(text, choice, project, pipelineCollection);
  const keyVault = parseKeyVault(text, target.kind, auth.method);
  // storeAuth was called groupAuth before service connections: the old name is still read when the new one is empty.
  const storeAuthInput = text('storeAuth') === '' && text('groupAuth') !== '' ? 'groupAuth' : 'storeAuth';
  const storeAuth = choice<StoreAuth>(storeAuthInput, ['entra', 'jobToken'], 'entra');

  const refreshTokenVariable = text('refreshTokenVariable');
  let refreshTokenStore: Config['refreshTokenStore'];
  if (refreshTokenVariable) {
    if (auth.method === 'accessToken') {
      throw new ConfigError(
        'refreshTokenVariable',
        'the accessToken method has no refresh token to save: clear refreshTokenVariable.',
      );
    }
    checkVariableName('refreshTokenVariable', refreshTokenVariable);
    const group = text('refreshTokenGroup', text('variableGroup'));
    if (!group) {
      throw new ConfigError(
        'refreshTokenGroup',
        'refreshTokenVariable needs a variable group to save the refresh token in: set refreshTokenGroup (or variableGroup).',
      );
    }
    if (!project)
      throw new ConfigError('project', "the refresh token's variable group needs its project: set project.");
    refreshTokenStore = { variableName: refreshTokenVariable, ref: { group, project } };
    if (
      target.kind === 'variableGroup' &&
      sameGroupRef(target.ref, refreshTokenStore.ref) &&
      sameVariable(target.variableName, refreshTokenVariable)
    ) {
      throw new ConfigError(
        'variableName',
        `'${target.variableName}' is refreshTokenVariable in the same variable group: a PAT stored there would overwrite the refresh token and the next run could not sign in. Use another variableName.`,
      );
    }
  }

  return Object.freeze({
    organization,
    auth,
    refreshTokenStore,
    operation,
    selector,
    scopes,
    validityDays: int('validityDays', 30, 1, 365),
    allOrgs: bool('allOrgs', false),
    rotateWithinDays: int('rotateWithinDays', 7, 0, 365),
    warnWithinDays: int('warnWithinDays', 14, 0, 365),
    createIfMissing,
    retireOld: choice<RetireMode>('retireOld', ['revoke', 'shorten', 'keep'], 'revoke'),
    graceHours: int('graceHours', 24, 0, 720),
    verifyNewToken: bool('verifyNewToken', true),
    target,
    keyVault,
    storeAuth,
    storeAuthInput,
    concurrency: int('concurrency', 4, 1, 16),
    dryRun: bool('dryRun', false),
    maxLifetimeDays: int('maxLifetimeDays', 90, 1, 3650),
    reportDirectory: text('reportDirectory'),
    failOnFindings: choice<FailOnFindings>('failOnFindings', ['none', 'expiring', 'any'], 'none'),
  });
}

type Text = (name: string, fallback?: string) => string;
type Choice = <T extends string>(name: string, options: readonly T[], fallback: T) => T;
type Int = (name: string, fallback: number, min: number, max: number) => number;

/** `refreshFromVault`: refreshTokenSecret is set, so an empty refreshToken is read from Key Vault at start. */
function parseSignIn(text: Text, choice: Choice, int: Int, refreshFromVault: boolean): SignInConfig {
  const method = choice<AuthMethod>(
    'authMethod',
    ['refreshToken', 'deviceCode', 'usernamePassword', 'accessToken'],
    'refreshToken',
  );
  const authorityHost = text('authorityHost', DEFAULT_AUTHORITY_HOST).replace(/\/+$/, '');
  let host: URL;
  try {
    host = new URL(authorityHost);
  } catch {
    throw new ConfigError(
      'authorityHost',
      `'${authorityHost}' is not a URL: use https://login.microsoftonline.com or your cloud's authority host.`,
    );
  }
  if (host.protocol !== 'https:') {
    throw new ConfigError(
      'authorityHost',
      `'${authorityHost}' must use https (Entra and MSAL accept only https authorities).`,
    );
  }
  if (host.pathname.replace(/\/+$/, '') !== '' || host.search || host.hash || host.username || host.password) {
    throw new ConfigError(
      'authorityHost',
      `'${authorityHost}' must be just https://host[:port], without a path: put the tenant in tenantId.`,
    );
  }
  const clientId = text('clientId', AZURE_CLI_CLIENT_ID);
  if (!GUID.test(clientId)) throw new ConfigError('clientId', `'${clientId}' is not an application (client) id GUID.`);
  const cfg: SignInConfig = {
    method,
    tenantId: text('tenantId', 'organizations'),
    clientId,
    clientSecret: text('clientSecret') || undefined,
    refreshToken: refreshTokenInput(text('refreshToken'), method === 'refreshToken', refreshFromVault),
    username: text('username') || undefined,
    password: text('password') || undefined,
    accessToken: text('accessToken') || undefined,
    authorityHost,
    deviceCodeTimeoutMinutes: int('deviceCodeTimeoutMinutes', 15, 1, 60),
  };
  if (!/^[A-Za-z0-9.-]+$/.test(cfg.tenantId)) {
    throw new ConfigError(
      'tenantId',
      `'${cfg.tenantId}' is not a tenant id or domain: use a GUID, a domain such as contoso.onmicrosoft.com, or organizations.`,
    );
  }
  const required: Partial<Record<AuthMethod, (keyof SignInConfig)[]>> = {
    refreshToken: refreshFromVault ? [] : ['refreshToken'],
    usernamePassword: ['username', 'password'],
    accessToken: ['accessToken'],
  };
  if (method === 'deviceCode' && cfg.clientSecret) {
    throw new ConfigError(
      'clientSecret',
      'the deviceCode method runs as a public client: leave clientSecret empty, and enable "Allow public client flows" on the app registration.',
    );
  }
  for (const name of required[method] ?? []) {
    if (!cfg[name]) {
      const hint =
        method === 'refreshToken'
          ? 'pass the secret variable that holds it, e.g. refreshToken: $(PatRotate.RefreshToken), or keep it in Key Vault (refreshTokenSecret); to get a first one, run once with authMethod deviceCode.'
          : `authMethod ${method} needs it.`;
      throw new ConfigError(name, `is required: ${hint}`);
    }
  }
  return cfg;
}

/** Two references to a variable group written the same way (ids and names can still meet at run time: see plan). */
function sameGroupRef(a: GroupRef, b: GroupRef): boolean {
  return a.group.toLowerCase() === b.group.toLowerCase() && a.project.toLowerCase() === b.project.toLowerCase();
}

/** What the agent passes for `$(Name)` when the pipeline has no variable Name. */
export const UNDEFINED_MACRO = /^\$\([^()\s]+\)$/;

/**
 * The agent passes `$(Name)` through as text when the pipeline has no variable Name: with refreshTokenSecret that
 * means "none given" (the vault's is read); without it, it is bad input rather than a token Entra would refuse.
 */
function refreshTokenInput(value: string, used: boolean, refreshFromVault: boolean): string | undefined {
  if (!UNDEFINED_MACRO.test(value)) return value || undefined;
  // Another method never reads it (e.g. the deviceCode bootstrap, before the variable exists).
  if (!used || refreshFromVault) return undefined;
  throw new ConfigError(
    'refreshToken',
    `is the literal text ${value}: the pipeline has no such variable. Define it (or link its variable group), or keep the refresh token in Key Vault with refreshTokenSecret.`,
  );
}
