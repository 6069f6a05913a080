// Which PATs an operation applies to: an authorization id, an exact name, a name prefix (`svc-*`) or all (`*`).
import { ConfigError } from './configError';

const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Which PATs the operation applies to. */
export type Selector =
  | { kind: 'id'; authorizationId: string }
  | { kind: 'name'; displayName: string }
  | { kind: 'prefix'; prefix: string }
  | { kind: 'all' };

export function parseSelector(authorizationId: string, displayName: string, operation: string): Selector {
  if (authorizationId && displayName && operation !== 'create') {
    throw new ConfigError('authorizationId', 'give either authorizationId or displayName, not both.');
  }
  if (operation === 'create') {
    if (!displayName) throw new ConfigError('displayName', 'create needs the name of the new PAT.');
    if (displayName.endsWith('*'))
      throw new ConfigError('displayName', 'create needs an exact name, not a prefix ending in *.');
    return { kind: 'name', displayName };
  }
  if (authorizationId) {
    if (!GUID.test(authorizationId))
      throw new ConfigError('authorizationId', `'${authorizationId}' is not a PAT authorization id (a GUID).`);
    return { kind: 'id', authorizationId: authorizationId.toLowerCase() };
  }
  if (displayName.endsWith('*')) {
    const prefix = displayName.slice(0, -1);
    return prefix ? { kind: 'prefix', prefix } : { kind: 'all' };
  }
  if (displayName) return { kind: 'name', displayName };
  if (operation === 'list' || operation === 'audit') return { kind: 'all' };
  throw new ConfigError(
    'displayName',
    `${operation} needs displayName (exact, or a prefix ending in *) or authorizationId to know which PATs to ${operation}.`,
  );
}
