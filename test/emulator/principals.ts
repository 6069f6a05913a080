/**
 * Service principals (apps) and managed identities, the identities Key Vault accepts (the PAT API refuses them), with
 * their credentials; and the Azure DevOps OIDC signing key whose tokens a federated credential trusts.
 */
import { createHash, generateKeyPairSync, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { AuthState } from './auth-state';
import { b64url, newGuid, randomSecret } from './tokens';

/** The audience Entra expects in a federated (workload identity) assertion. */
export const TOKEN_EXCHANGE_AUDIENCE = 'api://AzureADTokenExchange';

export interface FederatedCredential {
  issuer: string;
  subject: string;
  audience: string;
}

export interface AppCertificate {
  pem: string;
  /** base64url SHA-1 / SHA-256 of the DER certificate: the `x5t` / `x5t#S256` a client assertion names it by. */
  x5t: string;
  x5tS256: string;
}

export interface AppRecord {
  clientId: string;
  /** The service principal's object id (≠ clientId, as in Entra): the `oid` of its tokens, what Key Vault grants. */
  objectId: string;
  tenantId: string;
  displayName: string;
  certificates: AppCertificate[];
  federated: FederatedCredential[];
}

export interface ManagedIdentityRecord {
  clientId: string;
  objectId: string;
  tenantId: string;
}

export interface AddAppOptions {
  clientId?: string;
  displayName?: string;
  tenantId?: string;
  secret?: string;
  /** Certificate PEM (a private key block in it is allowed, like a service connection's certificate). */
  certificatePem?: string;
  federated?: { issuer: string; subject: string; audience?: string }[];
}

export interface OidcTokenRecord {
  iss: string;
  sub: string;
  aud: string;
  /** ms epoch */
  exp: number;
}

let processKeyPair: { privateKey: KeyObject; publicKey: KeyObject } | undefined;

const CERT_RE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;
const KEY_RE = /-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]+?-----END [A-Z ]*PRIVATE KEY-----/;

export class AppState extends AuthState {
  readonly apps: AppRecord[] = [];
  readonly managedIdentities: ManagedIdentityRecord[] = [];
  /** Every OIDC token minted (by the Azure DevOps oidctoken route or `mintOidcToken`), in order. */
  readonly oidcTokens: (OidcTokenRecord & { token: string })[] = [];

  addApp(o: AddAppOptions = {}): AppRecord {
    const clientId = o.clientId ?? newGuid();
    if (this.app(clientId)) throw new Error(`emulator: app ${clientId} exists`);
    const app: AppRecord = {
      clientId,
      objectId: newGuid(),
      tenantId: o.tenantId ?? this.tenantId,
      displayName: o.displayName ?? `app-${clientId.slice(0, 8)}`,
      certificates: [],
      federated: (o.federated ?? []).map((f) => ({ ...f, audience: f.audience ?? TOKEN_EXCHANGE_AUDIENCE })),
    };
    this.apps.push(app);
    this.identities.set(app.objectId, {
      id: app.objectId,
      displayName: app.displayName,
      uniqueName: clientId,
      kind: 'app',
    });
    if (o.secret !== undefined) this.addClientSecret(clientId, o.secret);
    if (o.certificatePem !== undefined) this.addAppCertificate(clientId, o.certificatePem);
    return app;
  }

  app(clientId: string): AppRecord | undefined {
    return this.apps.find((a) => a.clientId.toLowerCase() === clientId.toLowerCase());
  }

  /** Registers another certificate (rotation). Counts the PEM (and a private key in it) as issued secrets. */
  addAppCertificate(clientId: string, pem: string): AppCertificate {
    const app = this.app(clientId);
    if (!app) throw new Error(`emulator: unknown app ${clientId}`);
    const certPem = CERT_RE.exec(pem)?.[0];
    if (!certPem) throw new Error('emulator: no CERTIFICATE block in certificatePem');
    const der = new X509Certificate(certPem).raw;
    const cert: AppCertificate = {
      pem: certPem,
      x5t: b64url(createHash('sha1').update(der).digest()),
      x5tS256: b64url(createHash('sha256').update(der).digest()),
    };
    app.certificates.push(cert);
    this.remember(pem);
    const key = KEY_RE.exec(pem)?.[0];
    if (key) this.remember(key);
    return cert;
  }

  addManagedIdentity(o: { clientId?: string; objectId?: string } = {}): ManagedIdentityRecord {
    const mi = { clientId: o.clientId ?? newGuid(), objectId: o.objectId ?? newGuid(), tenantId: this.tenantId };
    this.managedIdentities.push(mi);
    this.identities.set(mi.objectId, {
      id: mi.objectId,
      displayName: mi.clientId,
      uniqueName: mi.clientId,
      kind: 'app',
    });
    return mi;
  }

  /**
   * An app-only access token (v1, as Entra issues for Key Vault) for an app or a managed identity: `aud` = resource,
   * `appid`/`azp` = client id, `oid`/`sub` = object id, `idtyp` app, no `scp`.
   */
  issuePrincipalToken(
    p: AppRecord | ManagedIdentityRecord,
    resource: string,
    o: { expiresInSeconds?: number; credential?: 'secret' | 'certificate' | 'managed' } = {},
  ): string {
    const now = Math.floor(Date.now() / 1000);
    const exp = now + (o.expiresInSeconds ?? 3599);
    const claims: Record<string, unknown> = {
      aud: resource,
      iss: `https://sts.windows.net/${p.tenantId}/`,
      iat: now,
      nbf: now,
      exp,
      appid: p.clientId,
      azp: p.clientId,
      // 1 = client secret, 2 = certificate or federated/managed credential (Entra's appidacr).
      appidacr: o.credential === 'secret' ? '1' : '2',
      idp: `https://sts.windows.net/${p.tenantId}/`,
      idtyp: 'app',
      oid: p.objectId,
      rh: randomSecret(12),
      sub: p.objectId,
      tid: p.tenantId,
      uti: randomSecret(16),
      ver: '1.0',
    };
    if (o.credential === 'managed')
      claims.xms_mirid = `/subscriptions/${newGuid()}/resourcegroups/rg/providers/Microsoft.Compute/virtualMachines/agent`;
    const token = this.remember(this.signRs256(claims));
    this.tokens.set(token, {
      kind: 'app',
      identityId: p.objectId,
      oid: p.objectId,
      clientId: p.clientId,
      aud: resource,
      exp: exp * 1000,
    });
    return token;
  }

  /** An Azure DevOps OIDC token (RS256, 10 minutes by default), as the oidctoken route mints it. */
  mintOidcToken(iss: string, sub: string, o: { audience?: string; expiresInSeconds?: number } = {}): string {
    const now = Math.floor(Date.now() / 1000);
    const rec = {
      iss,
      sub,
      aud: o.audience ?? TOKEN_EXCHANGE_AUDIENCE,
      exp: (now + (o.expiresInSeconds ?? 600)) * 1000,
    };
    const claims = { jti: newGuid(), sub, aud: rec.aud, iss, nbf: now, exp: rec.exp / 1000, iat: now };
    const token = this.remember(this.signRs256(claims));
    this.oidcTokens.push({ ...rec, token });
    return token;
  }

  /** The record of an OIDC token this emulator minted, if `token` is one and its signature holds (expiry NOT checked). */
  verifyOidcToken(token: string): OidcTokenRecord | undefined {
    const rec = this.oidcTokens.find((t) => t.token === token);
    const [h, p, s] = token.split('.');
    if (!rec || !s) return undefined;
    const ok = verify('sha256', Buffer.from(`${h}.${p}`), this.oidcKey().publicKey, Buffer.from(s, 'base64url'));
    return ok ? rec : undefined;
  }

  /**
   * One key per process, generated on first use: RSA generation blocks the event loop for tens to hundreds of
   * milliseconds, which, once per emulator, would stall every other in-process run of a test that starts many.
   */
  private oidcKey(): { privateKey: KeyObject; publicKey: KeyObject } {
    processKeyPair ??= generateKeyPairSync('rsa', { modulusLength: 2048 });
    return processKeyPair;
  }

  private signRs256(claims: Record<string, unknown>): string {
    const head = b64url(JSON.stringify({ typ: 'JWT', alg: 'RS256', kid: 'emulator-rs256' }));
    const body = b64url(JSON.stringify(claims));
    const sig = sign('sha256', Buffer.from(`${head}.${body}`), this.oidcKey().privateKey).toString('base64url');
    return `${head}.${body}.${sig}`;
  }
}
