/** JWT making/reading, random secrets and .NET-style date formatting. */
import { createHmac, randomBytes, randomInt, randomUUID } from 'node:crypto';

/** Azure DevOps resource (application) id: the `aud` of tokens Entra issues for Azure DevOps. */
export const ADO_RESOURCE = '499b84ac-1321-427f-aa17-267ca6975798';

export function newGuid(): string {
  return randomUUID();
}

export function b64url(data: Buffer | string): string {
  return Buffer.from(data).toString('base64url');
}

/** HS256-signed JWT. Clients never check the signature; the emulator looks tokens up in its registry. */
export function signJwt(claims: Record<string, unknown>, key: Buffer, typ = 'JWT'): string {
  const head = b64url(JSON.stringify({ typ, alg: 'HS256', kid: 'emulator' }));
  const body = b64url(JSON.stringify(claims));
  const sig = createHmac('sha256', key).update(`${head}.${body}`).digest('base64url');
  return `${head}.${body}.${sig}`;
}

/** Decodes (does not verify) a JWT; undefined when it is not one. */
export function readJwt(
  token: string,
): { header: Record<string, unknown>; payload: Record<string, unknown> } | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const header = JSON.parse(Buffer.from(parts[0], 'base64url').toString('utf8')) as Record<string, unknown>;
    const payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as Record<string, unknown>;
    return { header, payload };
  } catch {
    return undefined;
  }
}

/** Long opaque random string (refresh tokens, device codes). */
export function randomSecret(bytes = 64): string {
  return randomBytes(bytes).toString('base64url');
}

const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/** 52-char lowercase base32 value, like the PAT in Microsoft's CreatePat example. */
export function randomPatValue(): string {
  let s = '';
  for (let i = 0; i < 52; i++) s += BASE32[randomInt(32)];
  return s;
}

/** 9-char user code such as Entra shows ("FGH7KQ2MX"). */
export function randomUserCode(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  let s = '';
  for (let i = 0; i < 9; i++) s += alphabet[randomInt(alphabet.length)];
  return s;
}

/**
 * .NET/SQL-style UTC date: rounded to SQL `datetime` precision (1/300 s), 0–7 fractional digits with
 * trailing zeros trimmed, e.g. `2020-12-01T23:46:23.32Z`, `2020-11-02T22:56:52.1033333Z`, `…:05Z`.
 */
export function dotnetDate(value: Date | number): string {
  const ms = typeof value === 'number' ? value : value.getTime();
  const units = Math.round((ms * 3) / 10); // 1/300 s
  const secs = Math.floor(units / 300);
  const rest = units - secs * 300;
  const base = new Date(secs * 1000).toISOString().slice(0, 19);
  if (rest === 0) return `${base}Z`;
  const frac = String(Math.round((rest * 1e7) / 300))
    .padStart(7, '0')
    .replace(/0+$/, '');
  return `${base}.${frac}Z`;
}

/** The exact regex dates produced by `dotnetDate` match. */
export const DOTNET_DATE_RE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,7})?Z$/;

/** Entra's timestamp format in error bodies: `2025-01-10 12:24:46Z`. */
export function entraTimestamp(now = Date.now()): string {
  return new Date(now)
    .toISOString()
    .replace('T', ' ')
    .replace(/\.\d+Z$/, 'Z');
}
