/** AADSTS error texts and the Entra error body (HTTP 400) the token endpoints answer with. */
import type { EntraFailure } from './state';
import { json, type Ctx, type Reply } from './http';
import { ADO_RESOURCE, entraTimestamp, newGuid } from './tokens';

/** Default `error`, text and suberror for each modelled AADSTS code. */
const AADSTS: Record<number, { error: string; text: string; suberror?: string }> = {
  700082: {
    error: 'invalid_grant',
    text: 'The refresh token has expired due to inactivity. The token was issued on 2025-01-01T00:00:00.0000000Z and was inactive for 90.00:00:00.',
  },
  70000: { error: 'invalid_grant', text: 'Provided grant is invalid or malformed.' },
  9002313: { error: 'invalid_grant', text: 'Invalid request. Request is malformed or invalid.' },
  50173: {
    error: 'invalid_grant',
    text: 'The provided grant has expired due to it being revoked, a fresh auth token is needed. The user might have changed or reset their password.',
  },
  50076: {
    error: 'invalid_grant',
    suberror: 'basic_action',
    text: `Due to a configuration change made by your administrator, or because you moved to a new location, you must use multi-factor authentication to access '${ADO_RESOURCE}'.`,
  },
  50079: {
    error: 'interaction_required',
    text: 'Due to a configuration change made by your administrator, or because you moved to a new location, you must enroll in multi-factor authentication to access the resource.',
  },
  65001: {
    error: 'invalid_grant',
    suberror: 'consent_required',
    text: 'The user or administrator has not consented to use the application. Send an interactive authorization request for this user and resource.',
  },
  50126: { error: 'invalid_grant', text: 'Error validating credentials due to invalid username or password.' },
  50034: { error: 'invalid_grant', text: 'The user account does not exist in this directory.' },
  53003: {
    error: 'invalid_grant',
    suberror: 'message_only',
    text: 'Access has been blocked by Conditional Access policies. The access policy does not allow token issuance.',
  },
  7000218: {
    error: 'invalid_client',
    text: "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
  },
  7000215: {
    error: 'invalid_client',
    text: 'Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.',
  },
  700016: {
    error: 'unauthorized_client',
    text: 'Application with identifier was not found in the directory. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant.',
  },
  90002: {
    error: 'invalid_request',
    text: 'Tenant not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.',
  },
  900144: { error: 'invalid_request', text: "The request body must contain the following parameter: 'client_id'." },
  70003: { error: 'unsupported_grant_type', text: 'The app requested an unsupported grant type.' },
  70016: {
    error: 'authorization_pending',
    text: 'OAuth 2.0 device flow error. Authorization is pending. Continue polling.',
  },
  70019: { error: 'expired_token', text: 'Verification code expired.' },
  70020: { error: 'authorization_declined', text: 'The user declined the authorization request.' },
  // Client assertions (certificate or federated): entra-app.ts passes the variable parts as the text.
  700027: { error: 'invalid_client', text: 'Client assertion failed signature validation.' },
  700024: { error: 'invalid_client', text: 'Client assertion is not within its valid time range.' },
  700021: {
    error: 'invalid_client',
    text: "Client assertion application identifier doesn't match 'client_id' parameter. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
  },
  700211: {
    error: 'invalid_client',
    text: 'No matching federated identity record found for presented assertion issuer.',
  },
  700212: {
    error: 'invalid_client',
    text: 'No matching federated identity record found for presented assertion audience.',
  },
  700213: {
    error: 'invalid_client',
    text: 'No matching federated identity record found for presented assertion subject.',
  },
  1002012: {
    error: 'invalid_scope',
    text: 'The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).',
  },
};

/** The real Entra error body shape (HTTP 400); `text` replaces the code's default text (variable parts). */
export function entraError(ctx: Ctx, f: EntraFailure, extraText = '', text?: string): Reply {
  const d = AADSTS[f.errorNo] ?? { error: 'invalid_grant', text: 'Authentication failed.' };
  const trace = newGuid();
  const corr = ctx.query['client-request-id'] ?? newGuid();
  const ts = entraTimestamp();
  const suberror = f.suberror === null ? undefined : (f.suberror ?? d.suberror);
  const body: Record<string, unknown> = {
    error: f.error ?? d.error,
    error_description: `AADSTS${f.errorNo}: ${text ?? d.text}${extraText}\r\nTrace ID: ${trace}\r\nCorrelation ID: ${corr}\r\nTimestamp: ${ts}`,
    error_codes: [f.errorNo],
    timestamp: ts,
    trace_id: trace,
    correlation_id: corr,
    error_uri: `${ctx.baseUrl}/error?code=${f.errorNo}`,
  };
  if (suberror) body.suberror = suberror;
  if (f.errorNo === 50076 || f.errorNo === 53003)
    body.claims = '{"access_token":{"capolids":{"essential":true,"values":["' + newGuid() + '"]}}}';
  return json(400, body, { 'Cache-Control': 'no-store, no-cache' });
}
