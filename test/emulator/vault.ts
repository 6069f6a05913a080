/**
 * Key Vault secrets data plane (7.x and the SDK's dated versions), one listener per vault so identifiers sit at the root
 * of an origin as the SDK requires. Challenge authentication (401 + WWW-Authenticate first), RBAC-shaped 403s,
 * soft-delete 409, versions paged by `nextLink`.
 */
import type { Flavour } from './server';
import type { SecretVersionRecord, VaultPermission, VaultRecord, VaultSecretRecord } from './state';
import { json, type Ctx, type Reply } from './http';
import { newGuid } from './tokens';

export const VAULT_RESOURCE = 'https://vault.azure.net';
/** Key Vault's first-party application id: also a valid audience. */
const VAULT_APP_ID = 'cfa8b339-82a2-471a-a3c9-0fc0be7a4093';
const VERSIONS = /^(7\.\d(-preview)?|20\d\d-\d\d-\d\d(-preview)?)$/;
const NAME_RE = /^[0-9a-zA-Z-]{1,127}$/;
const PAGE_MAX = 25;

export function kvError(status: number, code: string, message: string, inner?: string, h?: Record<string, string>) {
  return json(status, { error: { code, message, ...(inner ? { innererror: { code: inner } } : {}) } }, h);
}

/** The listener's behaviour for vault `name`: routes, Key Vault headers, Key Vault-shaped injected faults. */
export function vaultFlavour(name: string): Flavour {
  return {
    route: (ctx) => handleVault(ctx, name),
    headers: () => ({
      'Cache-Control': 'no-cache',
      'x-ms-request-id': newGuid(),
      'x-ms-keyvault-region': 'westeurope',
      'x-ms-keyvault-service-version': '1.9.2164.1',
      'x-ms-keyvault-network-info': 'conn_type=Ipv4;addr=127.0.0.1;act_addr_fam=InterNetwork;',
    }),
    faultBody: (status) =>
      status === 429
        ? {
            error: {
              code: 'Throttled',
              message: 'Request was not processed because too many requests were received. Reason: A1',
            },
          }
        : {
            error: {
              code: status >= 500 ? 'InternalServerError' : 'BadParameter',
              message: `Injected fault: HTTP ${status}`,
            },
          },
    mark: { vault: name },
  };
}

function challenge(ctx: Ctx, v: VaultRecord, message: string): Reply {
  return kvError(401, 'Unauthorized', message, undefined, {
    'WWW-Authenticate': `Bearer authorization="${ctx.baseUrl}/${v.tenantId}", resource="${VAULT_RESOURCE}"`,
  });
}

/** The principal's object id, or the 401 to answer. */
function authenticate(ctx: Ctx, v: VaultRecord): { oid: string; appid: string } | Reply {
  const c = ctx.caller;
  if (c.kind === 'none') return challenge(ctx, v, 'AKV10000: Request is missing a Bearer or PoP token.');
  const t = c.token;
  if (!t || c.kind === 'basic' || c.kind === 'other')
    return challenge(ctx, v, 'AKV10032: Invalid issuer. The token was not issued by a trusted identity provider.');
  if (t.kind === 'job')
    return challenge(ctx, v, `AKV10032: Invalid issuer. Expected one of https://sts.windows.net/${v.tenantId}/.`);
  if (t.exp <= Date.now()) return challenge(ctx, v, 'AKV10013: Token is expired.');
  if (![VAULT_RESOURCE, `${VAULT_RESOURCE}/`, VAULT_APP_ID].includes(t.aud))
    return challenge(ctx, v, `AKV10022: Invalid audience. Expected ${VAULT_RESOURCE}, found: ${t.aud}.`);
  const oid = t.oid ?? c.user?.oid ?? t.identityId;
  return { oid, appid: t.clientId ?? '' };
}

const ACTIONS: Record<string, string> = {
  get: 'Microsoft.KeyVault/vaults/secrets/getSecret/action',
  list: 'Microsoft.KeyVault/vaults/secrets/readMetadata/action',
  set: 'Microsoft.KeyVault/vaults/secrets/setSecret/action',
  update: 'Microsoft.KeyVault/vaults/secrets/update/action',
  delete: 'Microsoft.KeyVault/vaults/secrets/delete',
};

function forbidden(v: VaultRecord, who: { oid: string; appid: string }, action: string, secret?: string): Reply {
  const resource =
    `/subscriptions/${v.subscriptionId}/resourcegroups/${v.resourceGroup}/providers/microsoft.keyvault/vaults/${v.name}` +
    (secret ? `/secrets/${secret}` : '');
  const message =
    'Caller is not authorized to perform action on resource.\r\n' +
    'If role assignments, deny assignments or role definitions were changed recently, please observe propagation time.\r\n' +
    `Caller: appid=${who.appid};oid=${who.oid};iss=https://sts.windows.net/${v.tenantId}/\r\n` +
    `Action: '${ACTIONS[action]}'\r\n` +
    `Resource: '${resource.toLowerCase()}'\r\n` +
    'Assignment: (not found)\r\n' +
    'DenyAssignmentId: null\r\n' +
    'DecisionReason: null \r\n' +
    `Vault: ${v.name};location=${v.location}\r\n`;
  return kvError(403, 'Forbidden', message, 'ForbiddenByRbac');
}

function notFound(name: string): Reply {
  return kvError(
    404,
    'SecretNotFound',
    `A secret with (name/id) ${name} was not found in this key vault. If you recently deleted this secret you may be able to recover it using the correct recovery command. For help resolving this issue, please see https://go.microsoft.com/fwlink/?linkid=2125182`,
  );
}

// Property order as in the 7.5 spec's definitions (SecretAttributes, SecretBundle, SecretItem); absent optional
// properties are left out, as the service does.
function attributes(r: SecretVersionRecord): Record<string, unknown> {
  return {
    enabled: r.enabled,
    ...(r.nbf !== undefined ? { nbf: r.nbf } : {}),
    ...(r.exp !== undefined ? { exp: r.exp } : {}),
    created: r.created,
    updated: r.updated,
    recoverableDays: 90,
    recoveryLevel: 'Recoverable+Purgeable',
  };
}

/** SecretBundle (with `value` unless `withValue` is false, as PATCH answers). */
function bundle(v: VaultRecord, s: VaultSecretRecord, r: SecretVersionRecord, withValue = true): unknown {
  return {
    ...(withValue ? { value: r.value } : {}),
    id: `${v.url}/secrets/${s.name}/${r.version}`,
    ...(r.contentType !== undefined ? { contentType: r.contentType } : {}),
    attributes: attributes(r),
    ...(r.tags !== undefined ? { tags: r.tags } : {}),
  };
}

function item(id: string, r: SecretVersionRecord): unknown {
  return {
    id,
    attributes: attributes(r),
    ...(r.tags !== undefined ? { tags: r.tags } : {}),
    ...(r.contentType !== undefined ? { contentType: r.contentType } : {}),
  };
}

/** The current version: the newest enabled one. */
function latest(s: VaultSecretRecord): SecretVersionRecord | undefined {
  return [...s.versions].reverse().find((r) => r.enabled);
}

function disabled(): Reply {
  return kvError(403, 'Forbidden', 'Operation get is not allowed on a disabled secret.', 'SecretDisabled');
}

/** One page of `items`; the `$skiptoken` is opaque (base64 of an offset), `nextLink` absolute or null. */
function page(ctx: Ctx, v: VaultRecord, path: string, items: unknown[]): Reply {
  const max = ctx.query.maxresults === undefined ? PAGE_MAX : Number(ctx.query.maxresults);
  if (!Number.isInteger(max) || max < 1 || max > PAGE_MAX)
    return kvError(400, 'BadParameter', `Invalid maxresults ${ctx.query.maxresults}: it must be between 1 and 25.`);
  const skip = ctx.query.$skiptoken ? Number(Buffer.from(ctx.query.$skiptoken, 'base64').toString('utf8')) : 0;
  const next = skip + max;
  const token = Buffer.from(String(next)).toString('base64');
  const q = `api-version=${encodeURIComponent(ctx.query['api-version'])}&$skiptoken=${token}&maxresults=${max}`;
  return json(200, {
    value: items.slice(skip, next),
    nextLink: next < items.length ? `${v.url}${path}?${q}` : null,
  });
}

interface SetBody {
  value?: unknown;
  contentType?: unknown;
  tags?: unknown;
  attributes?: { enabled?: unknown; nbf?: unknown; exp?: unknown };
}

function parseBody(ctx: Ctx): SetBody | Reply {
  try {
    const b: unknown = ctx.body.trim() === '' ? {} : JSON.parse(ctx.body);
    if (b && typeof b === 'object' && !Array.isArray(b)) return b;
  } catch {
    // answered below
  }
  return kvError(400, 'BadParameter', 'The request body is not valid JSON.');
}

function tagsOf(t: unknown): Record<string, string> | undefined | false {
  if (t === undefined || t === null) return undefined;
  if (typeof t !== 'object' || Array.isArray(t)) return false;
  const e = Object.entries(t);
  return e.length <= 15 && e.every(([, x]) => typeof x === 'string') ? (t as Record<string, string>) : false;
}

/** GET /deletedsecrets/{name}: a soft-deleted secret (list permission), else 404 as the service answers. */
function deletedSecret(ctx: Ctx, v: VaultRecord, who: { oid: string; appid: string }, name: string): Reply {
  if (!ctx.state.can(v, who.oid, 'list')) return forbidden(v, who, 'readMetadata', name);
  if (!v.deleted.includes(name.toLowerCase()))
    return kvError(404, 'SecretNotFound', `Deleted Secret not found: ${name}`);
  const now = Math.floor(Date.now() / 1000);
  return json(200, {
    recoveryId: `${v.url}/deletedsecrets/${name}`,
    deletedDate: now,
    scheduledPurgeDate: now + 90 * 86400,
    id: `${v.url}/secrets/${name}`,
    attributes: {
      enabled: true,
      created: now,
      updated: now,
      recoveryLevel: 'Recoverable+Purgeable',
      recoverableDays: 90,
    },
  });
}

export function handleVault(ctx: Ctx, vaultName: string): Reply {
  const v = ctx.state.vault(vaultName);
  if (!v) return kvError(404, 'VaultNotFound', `Vault ${vaultName} does not exist.`);
  const who = authenticate(ctx, v);
  if ('status' in who) return who;
  const version = ctx.query['api-version'];
  if (!version || !VERSIONS.test(version))
    return kvError(400, 'BadParameter', `The specified version (${version ?? ''}) is not recognized.`);
  const [root, name, third, ...rest] = ctx.segments;
  const m = ctx.method;
  if (root?.toLowerCase() === 'deletedsecrets' && name !== undefined && third === undefined && m === 'GET')
    return deletedSecret(ctx, v, who, name);
  if (root?.toLowerCase() !== 'secrets' || rest.length > 0)
    return kvError(404, 'NotFound', `The requested path ${ctx.path} was not found.`);
  const need = (p: VaultPermission, action: string = p): Reply | undefined =>
    ctx.state.can(v, who.oid, p) ? undefined : forbidden(v, who, action, name);
  const s = name === undefined ? undefined : v.secrets[name.toLowerCase()];
  if (name === undefined) {
    if (m !== 'GET') return kvError(405, 'BadParameter', `Method ${m} is not allowed.`);
    const denied = need('list');
    if (denied) return denied;
    const items = Object.values(v.secrets).flatMap((x) => {
      const r = x.versions[x.versions.length - 1];
      return r ? [item(`${v.url}/secrets/${x.name}`, r)] : [];
    });
    return page(ctx, v, '/secrets', items);
  }
  if (third?.toLowerCase() === 'versions' && m === 'GET') {
    const denied = need('list');
    if (denied) return denied;
    // Key Vault lists versions in no useful order: sorted by version id here, so a client must sort by `created`.
    const items = [...(s?.versions ?? [])]
      .sort((a, b) => a.version.localeCompare(b.version))
      .map((r) => item(`${v.url}/secrets/${s?.name ?? name}/${r.version}`, r));
    return page(ctx, v, `/secrets/${name}/versions`, items);
  }
  if (m === 'PUT' && third === undefined) return setSecret(ctx, v, name, need('set'));
  if (m === 'GET') {
    const denied = need('get');
    if (denied) return denied;
    if (!s) return notFound(third ? `${name}/${third}` : name);
    const r = third ? s.versions.find((x) => x.version === third.toLowerCase()) : latest(s);
    if (!r) return third ? notFound(`${name}/${third}`) : disabled();
    return r.enabled ? json(200, bundle(v, s, r)) : disabled();
  }
  if (m === 'PATCH') {
    const denied = need('set', 'update');
    if (denied) return denied;
    const r = s && (third ? s.versions.find((x) => x.version === third.toLowerCase()) : s.versions.at(-1));
    if (!s || !r) return notFound(third ? `${name}/${third}` : name);
    return updateSecret(ctx, v, s, r);
  }
  if (m === 'DELETE' && third === undefined) {
    const denied = need('delete');
    if (denied) return denied;
    const r = s?.versions.at(-1);
    if (!s || !r) return notFound(name);
    ctx.state.softDeleteSecret(v.name, name);
    const now = Math.floor(Date.now() / 1000);
    return json(200, {
      recoveryId: `${v.url}/deletedsecrets/${s.name}`,
      deletedDate: now,
      scheduledPurgeDate: now + 90 * 86400,
      ...(bundle(v, s, r, false) as object),
    });
  }
  return kvError(405, 'BadParameter', `Method ${m} is not allowed on ${ctx.path}.`);
}

function setSecret(ctx: Ctx, v: VaultRecord, name: string, denied: Reply | undefined): Reply {
  if (!NAME_RE.test(name)) return kvError(400, 'BadParameter', `The request URI contains an invalid name: ${name}`);
  if (denied) return denied;
  const b = parseBody(ctx);
  if ('status' in b) return b;
  if (typeof b.value !== 'string') return kvError(400, 'BadParameter', 'Property value is required.');
  if (b.value.length > 25 * 1024) return kvError(400, 'BadParameter', 'Secret value is too long.');
  const tags = tagsOf(b.tags);
  if (tags === false) return kvError(400, 'BadParameter', 'Tags must be at most 15 string values.');
  if (v.deleted.includes(name.toLowerCase()))
    return kvError(
      409,
      'Conflict',
      `Secret ${name} is currently in a deleted but recoverable state, and its name cannot be reused; in this state, the secret can only be recovered or purged.`,
    );
  const a = b.attributes ?? {};
  const r = ctx.state.setVaultSecret(v.name, name, b.value, {
    ...(typeof b.contentType === 'string' ? { contentType: b.contentType } : {}),
    ...(tags ? { tags } : {}),
    enabled: a.enabled !== false,
    ...(typeof a.nbf === 'number' ? { nbf: a.nbf } : {}),
    ...(typeof a.exp === 'number' ? { exp: a.exp } : {}),
  });
  return json(200, bundle(v, v.secrets[name.toLowerCase()], r));
}

function updateSecret(ctx: Ctx, v: VaultRecord, s: VaultSecretRecord, r: SecretVersionRecord): Reply {
  const b = parseBody(ctx);
  if ('status' in b) return b;
  const tags = tagsOf(b.tags);
  if (tags === false) return kvError(400, 'BadParameter', 'Tags must be at most 15 string values.');
  const a = b.attributes ?? {};
  if (typeof a.enabled === 'boolean') r.enabled = a.enabled;
  if (typeof a.nbf === 'number') r.nbf = a.nbf;
  if (typeof a.exp === 'number') r.exp = a.exp;
  if (typeof b.contentType === 'string') r.contentType = b.contentType;
  if (tags) r.tags = { ...tags };
  r.updated = Math.floor(Date.now() / 1000);
  return json(200, bundle(v, s, r, false));
}
