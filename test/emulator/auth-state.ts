/** Identity half of the emulator state: users, identities, issued tokens, refresh tokens, device codes, AADSTS injection. */
import { randomBytes } from 'node:crypto';
import { ADO_RESOURCE, b64url, newGuid, randomSecret, randomUserCode, signJwt } from './tokens';

export interface User {
  oid: string;
  upn: string;
  displayName: string;
  tenantId: string;
  password?: string;
  /** Azure DevOps identity id (storage key), distinct from the Entra oid as in the real service. */
  identityId: string;
  /** Graph origin: aad (default), msa, or vsts (service identities, which Graph lists under subjectTypes svc). */
  origin?: 'aad' | 'msa' | 'vsts';
  /** Graph's isDeletedInOrigin: the user left its directory but is still known to the organization. */
  deletedInOrigin?: boolean;
}

export interface Identity {
  id: string;
  displayName: string;
  uniqueName: string;
  kind: 'user' | 'job' | 'app';
  oid?: string;
}

export interface TokenInfo {
  kind: 'user' | 'app' | 'job';
  identityId: string;
  oid?: string;
  clientId?: string;
  aud: string;
  scp?: string;
  exp: number; // ms epoch
}

export interface RefreshTokenRecord {
  oid: string;
  clientId: string;
  expiresAt: number;
  used: boolean;
  revoked: boolean;
}

export interface DeviceCodeInfo {
  userCode: string;
  deviceCode: string;
  clientId: string;
  scope: string;
  polls: number;
  status: 'pending' | 'approved' | 'declined' | 'redeemed';
  oid?: string;
  expiresAt: number;
  /** Approve for this user on this poll (deterministic: no wall-clock wait in tests). */
  approveOnPoll?: { poll: number; oid: string };
}

export type GrantKind = 'refresh_token' | 'password' | 'device_code' | 'client_credentials' | 'any';

export interface EntraFailure {
  errorNo: number;
  error?: string;
  /** `null` suppresses the default suberror for that code. */
  suberror?: string | null;
  times?: number;
  grant?: GrantKind;
}

export const RT_LIFETIME_MS = 90 * 24 * 3600 * 1000;

export class AuthState {
  readonly tenantId = newGuid();
  readonly signingKey = randomBytes(32);
  /** Set by the server once listening; used as token/issuer host. */
  baseUrl = 'https://127.0.0.1';
  /** `interval` returned by the devicecode endpoint. */
  deviceCodeIntervalSeconds = 1;
  readonly users: User[] = [];
  readonly identities = new Map<string, Identity>();
  readonly tokens = new Map<string, TokenInfo>();
  readonly refreshTokens = new Map<string, RefreshTokenRecord>();
  readonly deviceCodes: DeviceCodeInfo[] = [];
  readonly clientSecrets = new Map<string, Set<string>>();
  readonly failQueue: (EntraFailure & { remaining: number })[] = [];
  /** Called whenever a device code is issued (e.g. to approve it automatically). */
  onDeviceCode?: (dc: DeviceCodeInfo) => void;
  protected readonly secrets: string[] = [];
  private readonly jobIdentities = new Map<string, string>();

  protected remember(secret: string): string {
    this.secrets.push(secret);
    return secret;
  }

  issuedSecrets(): string[] {
    return [...this.secrets];
  }

  addUser(o: {
    upn: string;
    displayName?: string;
    tenantId?: string;
    password?: string;
    oid?: string;
    origin?: User['origin'];
    deletedInOrigin?: boolean;
  }): User {
    const user: User = {
      ...(o.origin ? { origin: o.origin } : {}),
      ...(o.deletedInOrigin ? { deletedInOrigin: true } : {}),
      oid: o.oid ?? newGuid(),
      upn: o.upn,
      displayName: o.displayName ?? o.upn.split('@')[0],
      tenantId: o.tenantId ?? this.tenantId,
      password: o.password,
      identityId: newGuid(),
    };
    this.users.push(user);
    this.identities.set(user.identityId, {
      id: user.identityId,
      displayName: user.displayName,
      uniqueName: user.upn,
      kind: 'user',
      oid: user.oid,
    });
    return user;
  }

  user(oid: string): User | undefined {
    return this.users.find((u) => u.oid === oid);
  }

  userByUpn(upn: string): User | undefined {
    return this.users.find((u) => u.upn.toLowerCase() === upn.toLowerCase());
  }

  private requireUser(oid: string): User {
    const u = this.user(oid);
    if (!u) throw new Error(`emulator: unknown user oid ${oid}`);
    return u;
  }

  addClientSecret(clientId: string, secret: string): void {
    const set = this.clientSecrets.get(clientId) ?? new Set<string>();
    set.add(secret);
    this.clientSecrets.set(clientId, set);
    this.remember(secret);
  }

  issueRefreshToken(userOid: string, clientId: string, expiresInMs = RT_LIFETIME_MS): string {
    this.requireUser(userOid);
    const rt = this.remember(`1.AQ${randomSecret(96)}`);
    this.refreshTokens.set(rt, {
      oid: userOid,
      clientId,
      expiresAt: Date.now() + expiresInMs,
      used: false,
      revoked: false,
    });
    return rt;
  }

  revokeRefreshTokens(userOid: string): void {
    for (const r of this.refreshTokens.values()) if (r.oid === userOid) r.revoked = true;
  }

  expireRefreshToken(rt: string): void {
    const r = this.refreshTokens.get(rt);
    if (r) r.expiresAt = Date.now() - 1000;
  }

  /** A user access token as Entra issues it for Azure DevOps (v1 format). */
  issueAccessToken(
    userOid: string,
    o: { expiresInSeconds?: number; audience?: string; scp?: string; clientId?: string } = {},
  ): string {
    const u = this.requireUser(userOid);
    const now = Math.floor(Date.now() / 1000);
    const exp = now + (o.expiresInSeconds ?? 3599);
    const aud = o.audience ?? ADO_RESOURCE;
    const clientId = o.clientId ?? '872cd9fa-d31f-45e0-9eab-6e460a02d1f1';
    const scp = o.scp ?? 'user_impersonation';
    const claims = {
      aud,
      iss: `https://sts.windows.net/${u.tenantId}/`,
      iat: now,
      nbf: now,
      exp,
      appid: clientId,
      appidacr: '0',
      idtyp: 'user',
      name: u.displayName,
      oid: u.oid,
      scp,
      sub: b64url(u.oid),
      tid: u.tenantId,
      unique_name: u.upn,
      upn: u.upn,
      uti: randomSecret(16),
      ver: '1.0',
    };
    const token = this.remember(signJwt(claims, this.signingKey));
    this.tokens.set(token, { kind: 'user', identityId: u.identityId, oid: u.oid, clientId, aud, scp, exp: exp * 1000 });
    return token;
  }

  /** Service-principal (client credentials) token: idtyp "app", roles, no scp. */
  issueAppToken(o: { clientId: string; audience?: string; expiresInSeconds?: number }): string {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + (o.expiresInSeconds ?? 3599);
    const aud = o.audience ?? ADO_RESOURCE;
    const spOid = this.appIdentity(o.clientId);
    const claims = {
      aud,
      iss: `https://sts.windows.net/${this.tenantId}/`,
      iat: now,
      nbf: now,
      exp,
      appid: o.clientId,
      appidacr: '1',
      idtyp: 'app',
      oid: spOid,
      roles: [],
      sub: spOid,
      tid: this.tenantId,
      uti: randomSecret(16),
      ver: '1.0',
    };
    const token = this.remember(signJwt(claims, this.signingKey));
    this.tokens.set(token, { kind: 'app', identityId: spOid, clientId: o.clientId, aud, exp: exp * 1000 });
    return token;
  }

  private appIdentity(clientId: string): string {
    const key = `app:${clientId}`;
    let id = this.jobIdentities.get(key);
    if (!id) {
      id = newGuid();
      this.jobIdentities.set(key, id);
      this.identities.set(id, { id, displayName: clientId, uniqueName: clientId, kind: 'app' });
    }
    return id;
  }

  /** Identity id of a build-service identity (created on first use). */
  jobIdentityId(identityName = 'Project Collection Build Service'): string {
    let id = this.jobIdentities.get(identityName);
    if (!id) {
      id = newGuid();
      this.jobIdentities.set(identityName, id);
      this.identities.set(id, { id, displayName: identityName, uniqueName: `Build\\${id}`, kind: 'job' });
    }
    return id;
  }

  /** What System.AccessToken would be: accepted by core/variable groups, refused (401) by the PAT API. */
  issueJobToken(identityName?: string, expiresInSeconds = 3600): string {
    const id = this.jobIdentityId(identityName);
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      nameid: id,
      scp: 'app_token',
      aui: newGuid(),
      sid: newGuid(),
      iss: 'app.vstoken.visualstudio.com',
      aud: 'app.vstoken.visualstudio.com',
      nbf: now,
      exp: now + expiresInSeconds,
    };
    const token = this.remember(signJwt(claims, this.signingKey));
    this.tokens.set(token, {
      kind: 'job',
      identityId: id,
      aud: 'app.vstoken.visualstudio.com',
      exp: (now + expiresInSeconds) * 1000,
    });
    return token;
  }

  /** id_token for a user (aud = clientId, v2.0 issuer on the emulator). */
  issueIdToken(u: User, clientId: string): string {
    const now = Math.floor(Date.now() / 1000);
    const claims = {
      aud: clientId,
      iss: `${this.baseUrl}/${u.tenantId}/v2.0`,
      iat: now,
      nbf: now,
      exp: now + 3600,
      name: u.displayName,
      oid: u.oid,
      preferred_username: u.upn,
      sub: b64url(`${u.oid}:${clientId}`),
      tid: u.tenantId,
      ver: '2.0',
    };
    return this.remember(signJwt(claims, this.signingKey));
  }

  newDeviceCode(clientId: string, scope: string, expiresInSeconds = 900): DeviceCodeInfo {
    const dc: DeviceCodeInfo = {
      userCode: randomUserCode(),
      deviceCode: this.remember(`DAQABAAEAAA${randomSecret(96)}`),
      clientId,
      scope,
      polls: 0,
      status: 'pending',
      expiresAt: Date.now() + expiresInSeconds * 1000,
    };
    this.deviceCodes.push(dc);
    this.onDeviceCode?.(dc);
    return dc;
  }

  /** Live records of device codes still waiting for the user. */
  pendingDeviceCodes(): DeviceCodeInfo[] {
    return this.deviceCodes.filter((d) => d.status === 'pending' && d.expiresAt > Date.now());
  }

  private deviceCode(userCode: string): DeviceCodeInfo {
    const d = this.deviceCodes.find((x) => x.userCode === userCode);
    if (!d) throw new Error(`emulator: unknown user code ${userCode}`);
    return d;
  }

  /** The person signs in just as the client makes its `poll`-th token request. */
  approveDeviceCodeOnPoll(userCode: string, userOid: string, poll: number): void {
    this.deviceCode(userCode).approveOnPoll = { poll, oid: userOid };
  }

  approveDeviceCode(userCode: string, userOid: string): void {
    this.requireUser(userOid);
    const d = this.deviceCode(userCode);
    d.status = 'approved';
    d.oid = userOid;
  }

  declineDeviceCode(userCode: string): void {
    this.deviceCode(userCode).status = 'declined';
  }

  /** The next matching token request(s) answer the real Entra error body for `errorNo`. */
  entraFailNext(f: EntraFailure): void {
    this.failQueue.push({ ...f, remaining: f.times ?? 1 });
  }

  takeFailure(grant: string): EntraFailure | undefined {
    const g = grant === 'urn:ietf:params:oauth:grant-type:device_code' ? 'device_code' : grant;
    const i = this.failQueue.findIndex((f) => (f.grant ?? 'any') === 'any' || f.grant === g);
    if (i < 0) return undefined;
    const f = this.failQueue[i];
    if (--f.remaining <= 0) this.failQueue.splice(i, 1);
    return f;
  }
}
