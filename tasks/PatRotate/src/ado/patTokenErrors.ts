// The PAT API's own error codes (patTokenError, sent with a 2xx or an error status): each becomes an AdoError
// whose message says the cause and the fix.
import { AdoError, type AdoErrorKind } from './adoError';

export const SERVICE_PRINCIPAL_FIX =
  'the PAT Lifecycle API accepts only a signed-in user: service principals and managed identities cannot ' +
  'create, list or revoke PATs; choose a user sign-in method (refresh token, device code or username/password)';

type PatErrorInfo = { kind: AdoErrorKind; explain: string };

const NOT_FOUND: PatErrorInfo = {
  kind: 'notFound',
  explain: 'no PAT with that authorizationId exists for the signed-in user (revoked, deleted or owned by someone else)',
};
const NOT_AZURE_DEVOPS_TOKEN: PatErrorInfo = {
  kind: 'auth',
  explain: 'the Entra token was not issued to a user for Azure DevOps (resource 499b84ac-1321-427f-aa17-267ca6975798)',
};
const NOT_A_USER: PatErrorInfo = { kind: 'auth', explain: SERVICE_PRINCIPAL_FIX };
const TRY_LATER: PatErrorInfo = { kind: 'transient', explain: 'Azure DevOps could not complete it; try again later' };

// Mapping of the SessionTokenError enum (tokens.json 7.2); policy causes are inferred from the enum names.
const PAT_TOKEN_ERRORS: Record<string, PatErrorInfo> = {
  displayNameRequired: { kind: 'badRequest', explain: 'a PAT display name is required' },
  invalidDisplayName: { kind: 'badRequest', explain: 'the PAT display name is not valid' },
  invalidValidTo: {
    kind: 'badRequest',
    explain: 'the expiry date is not valid: it must be in the future and at most one year away',
  },
  invalidScope: {
    kind: 'badRequest',
    explain: 'a scope is not valid: use space-separated scopes such as "vso.code vso.build" or "app_token"',
  },
  userIdRequired: NOT_A_USER,
  invalidUserId: NOT_A_USER,
  invalidUserType: NOT_A_USER,
  accessDenied: { kind: 'forbidden', explain: 'the signed-in user may not manage this PAT (only its owner can)' },
  failedToIssueAccessToken: TRY_LATER,
  invalidClient: NOT_AZURE_DEVOPS_TOKEN,
  invalidClientType: NOT_AZURE_DEVOPS_TOKEN,
  invalidClientId: NOT_AZURE_DEVOPS_TOKEN,
  invalidTargetAccounts: {
    kind: 'badRequest',
    explain: 'the organization is not valid for this PAT: the user must be a member of it',
  },
  hostAuthorizationNotFound: NOT_FOUND,
  authorizationNotFound: NOT_FOUND,
  tokenNotFound: NOT_FOUND,
  invalidAuthorizationId: { ...NOT_FOUND, explain: 'the authorizationId is not a valid PAT id' },
  failedToUpdateAccessToken: TRY_LATER,
  sourceNotSupported: { kind: 'policy', explain: 'requests from this source are not allowed by a policy' },
  invalidSourceIP: { kind: 'policy', explain: 'a conditional access / IP policy does not allow this agent' },
  invalidSource: { kind: 'policy', explain: 'requests from this source are not allowed by a policy' },
  duplicateHash: TRY_LATER,
  sshPolicyDisabled: { kind: 'policy', explain: 'SSH authentication is disabled by policy' },
  invalidToken: { kind: 'badRequest', explain: 'the PAT is not valid (revoked or malformed)' },
  failedToReadTenantPolicy: {
    kind: 'transient',
    explain: 'Azure DevOps could not read the tenant PAT policy; try again later',
  },
  failedToReadOrgPolicy: {
    kind: 'transient',
    explain: 'Azure DevOps could not read the organization PAT policy; try again later',
  },
  globalPatPolicyViolation: { kind: 'policy', explain: 'your tenant restricts global PATs: set allOrgs false' },
  fullScopePatPolicyViolation: {
    kind: 'policy',
    explain: 'your tenant restricts full-access PATs: choose specific scopes instead of app_token',
  },
  patLifespanPolicyViolation: {
    kind: 'policy',
    explain: 'the expiry is beyond the maximum PAT lifespan your tenant allows: choose a shorter validity',
  },
  invalidTokenType: NOT_AZURE_DEVOPS_TOKEN,
  invalidAudience: NOT_AZURE_DEVOPS_TOKEN,
  invalidSubject: NOT_AZURE_DEVOPS_TOKEN,
  deploymentHostNotSupported: {
    kind: 'badRequest',
    explain: 'this Azure DevOps deployment does not support the PAT Lifecycle API (Azure DevOps Services only)',
  },
  disablePatCreationPolicyViolation: {
    kind: 'policy',
    explain: 'the organization restricts PAT creation to an allow-list; ask an admin to add this user',
  },
  globalPATCreationBlocked: {
    kind: 'policy',
    explain: 'global PATs can no longer be created: set allOrgs false',
  },
  expiredPatCannotBeExtended: {
    kind: 'policy',
    explain: 'the PAT has already expired and cannot be extended: use rotate to replace it',
  },
};

/** Maps a `patTokenError` value (sent with 2xx or error statuses) to an AdoError. */
export function patTokenErrorToAdoError(code: string, serverMessage?: string, status?: number): AdoError {
  const info = PAT_TOKEN_ERRORS[code] ?? { kind: 'policy', explain: 'Azure DevOps refused the PAT request' };
  const detail = serverMessage ? ` (${serverMessage})` : '';
  return new AdoError(info.kind, `PAT request failed with ${code}: ${info.explain}${detail}`, {
    status,
    patTokenError: code,
    retryable: false,
  });
}
