// The rotated refresh token. AuthenticationResult has no refresh token field: it is only in MSAL's cache, and
// only if the request used forceCache (or the account was already cached). Entra invalidates the old one.
import type { JsonCache } from '@azure/msal-node';

/** The refresh token secret for homeAccountId in a serialized MSAL cache; else the only one; else undefined. */
export function readRefreshToken(serializedCache: string, homeAccountId?: string): string | undefined {
  let cache: Partial<JsonCache>;
  try {
    cache = JSON.parse(serializedCache) as Partial<JsonCache>;
  } catch {
    return undefined;
  }
  const entries = Object.values(cache.RefreshToken ?? {}).filter(
    (e) => typeof e?.secret === 'string' && e.secret !== '',
  );
  const mine = homeAccountId ? entries.filter((e) => e.home_account_id === homeAccountId) : [];
  if (mine.length > 0) return mine[0].secret;
  return entries.length === 1 ? entries[0].secret : undefined;
}
