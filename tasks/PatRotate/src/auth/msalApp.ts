// One MSAL client application per sign-in attempt, configured so that it talks only to authorityHost, through
// our network client, and never logs personal data or tokens.
import { ConfidentialClientApplication, LogLevel, PublicClientApplication, type Configuration } from '@azure/msal-node';
import { createNetworkClient, type ExchangeObserver } from './networkClient';
import type { SignInConfig, SignInDeps } from './types';

export type MsalApp = PublicClientApplication | ConfidentialClientApplication;

/** Public Microsoft clouds: msal-common ships their metadata, so no instance discovery call is needed. */
const MICROSOFT_HOSTS = new Set([
  'login.microsoftonline.com',
  'login.microsoft.com',
  'login.windows.net',
  'login.microsoftonline.us',
  'login-us.microsoftonline.com',
  'login.chinacloudapi.cn',
  'login.partner.microsoftonline.cn',
]);

/**
 * The authority URL and, for any other host (an emulator, a sovereign cloud proxy), knownAuthorities: without it
 * MSAL asks login.microsoftonline.com to validate the authority. The entry must be host:port when the port is
 * not 443 (MSAL matches on the port), which URL.host gives exactly.
 */
export function authorityFor(
  authorityHost: string,
  tenantId: string,
): { authority: string; knownAuthorities: string[] } {
  const url = new URL(authorityHost); // an https origin: config.ts checked it
  const knownAuthorities = MICROSOFT_HOSTS.has(url.hostname) && url.port === '' ? [] : [url.host];
  return { authority: `${url.origin}/${encodeURIComponent(tenantId)}`, knownAuthorities };
}

/**
 * The authority settings of an MSAL application. For the public clouds msal-common has the endpoints built in and
 * asks nothing before the token request; for any other host, giving it the standard Entra v2.0 endpoints saves the
 * same openid-configuration round trip.
 */
export function msalAuthority(
  authorityHost: string,
  tenantId: string,
): { authority: string; knownAuthorities: string[]; authorityMetadata?: string } {
  const { authority, knownAuthorities } = authorityFor(authorityHost, tenantId);
  const authorityMetadata =
    knownAuthorities.length === 0
      ? undefined
      : JSON.stringify({
          token_endpoint: `${authority}/oauth2/v2.0/token`,
          authorization_endpoint: `${authority}/oauth2/v2.0/authorize`,
          device_authorization_endpoint: `${authority}/oauth2/v2.0/devicecode`,
          issuer: `${authority}/v2.0`,
        });
  return { authority, knownAuthorities, authorityMetadata };
}

type LoggerOptions = NonNullable<NonNullable<Configuration['system']>['loggerOptions']>;

/** MSAL's log, without personal data (and so without tokens), into the task's debug log. */
export function msalLogger(debug: ((message: string) => void) | undefined): LoggerOptions {
  return {
    piiLoggingEnabled: false,
    logLevel: debug ? LogLevel.Info : LogLevel.Error,
    loggerCallback: (_level, message, containsPii) => {
      if (!containsPii) debug?.(`msal: ${message}`);
    },
  };
}

export function createMsalApp(cfg: SignInConfig, deps: SignInDeps, observe: ExchangeObserver): MsalApp {
  const { authority, knownAuthorities, authorityMetadata } = msalAuthority(cfg.authorityHost, cfg.tenantId);
  const config: Configuration = {
    auth: {
      clientId: cfg.clientId,
      authority,
      knownAuthorities,
      authorityMetadata,
      clientSecret: cfg.clientSecret || undefined,
    },
    system: {
      networkClient: createNetworkClient(deps.network, observe),
      loggerOptions: msalLogger(deps.debug ? (m) => deps.debug?.(m) : undefined),
    },
  };
  return cfg.clientSecret ? new ConfidentialClientApplication(config) : new PublicClientApplication(config);
}
