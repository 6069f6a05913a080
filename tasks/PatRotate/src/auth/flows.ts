// One function per MSAL flow. Each masks every token the moment it has it, before doing anything else with it.
import type { AuthenticationResult, DeviceCodeRequest } from '@azure/msal-node';
import { PublicClientApplication } from '@azure/msal-node';
import { SignInError } from './aadErrors';
import type { MsalApp } from './msalApp';
import { readRefreshToken } from './tokenCache';
import { AZURE_DEVOPS_SCOPE, type SignedIn, type SignInConfig, type SignInDeps } from './types';

const SCOPES = [AZURE_DEVOPS_SCOPE];

export async function byRefreshToken(app: MsalApp, cfg: SignInConfig, deps: SignInDeps): Promise<SignedIn> {
  // forceCache: without it MSAL drops the rotated refresh token (the account is not in our empty cache).
  const result = await app.acquireTokenByRefreshToken({
    refreshToken: cfg.refreshToken ?? '',
    scopes: SCOPES,
    forceCache: true,
  });
  return finish(app, result, cfg, deps);
}

export async function byDeviceCode(app: MsalApp, cfg: SignInConfig, deps: SignInDeps): Promise<SignedIn> {
  // config.ts refuses a clientSecret with deviceCode, so the app is a public client.
  if (!(app instanceof PublicClientApplication)) throw new Error('deviceCode needs a public client application');
  const request: DeviceCodeRequest = {
    scopes: SCOPES,
    timeout: Math.round(cfg.deviceCodeTimeoutMinutes * 60),
    deviceCodeCallback: (r) => {
      // MSAL passes on a failed devicecode answer as an empty response and would poll with no code: stop it.
      if (!r.userCode) {
        request.cancel = true;
        return;
      }
      // The person running the bootstrap reads this on the run summary (a warning), not in the raw log.
      deps.warn(r.message || `To sign in, open ${r.verificationUri} and enter the code ${r.userCode}.`);
    },
  };
  const result = await app.acquireTokenByDeviceCode(request);
  return finish(app, result, cfg, deps);
}

export async function byUsernamePassword(app: MsalApp, cfg: SignInConfig, deps: SignInDeps): Promise<SignedIn> {
  // Deprecated in MSAL (ROPC); kept for accounts that really have no MFA. signIn() warns about it.
  const result = await app.acquireTokenByUsernamePassword({
    username: cfg.username ?? '',
    password: cfg.password ?? '',
    scopes: SCOPES,
  });
  return finish(app, result, cfg, deps);
}

function finish(app: MsalApp, result: AuthenticationResult | null, cfg: SignInConfig, deps: SignInDeps): SignedIn {
  if (result?.accessToken) deps.setSecret(result.accessToken);
  if (!result?.accessToken || !result.expiresOn) {
    throw new SignInError(
      'no_access_token',
      `Entra answered the ${cfg.method} sign-in without an access token or its expiry.`,
    );
  }
  const rolled = readRefreshToken(app.getTokenCache().serialize(), result.account?.homeAccountId);
  if (rolled) deps.setSecret(rolled);
  let rolledRefreshToken: string | undefined = rolled;
  if (!rolled) {
    deps.info(`Entra returned no refresh token for the ${cfg.method} sign-in; nothing to store for the next run.`);
  } else if (rolled === cfg.refreshToken) {
    deps.info('Entra returned the same refresh token; nothing new to store.');
    rolledRefreshToken = undefined;
  }
  return {
    accessToken: result.accessToken,
    expiresOn: result.expiresOn,
    rolledRefreshToken,
    user: {
      upn: result.account?.username || undefined,
      oid: result.account?.localAccountId || result.uniqueId || undefined,
      tenantId: result.account?.tenantId || result.tenantId || undefined,
    },
  };
}
