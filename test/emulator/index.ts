/** Public API of the local Entra + Azure DevOps emulator. See README.md. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { Faults } from './faults';
import { imdsFlavour } from './imds';
import { oidcRequestPath } from './oidc';
import { EmulatorServer, type RequestLogEntry } from './server';
import { EmulatorState, type ManagedIdentityRecord } from './state';
import { vaultFlavour } from './vault';

export { EmulatorState, canonicalJson } from './state';
export type * from './state';
export { Faults, type FaultRule, type FaultAction } from './faults';
export type { RequestLogEntry } from './server';
export type { AuthKind } from './http';
export { PAT_SCOPES, FULL_ACCESS_SCOPE } from './scopes';
export { descriptorOf, sessionTokenJson } from './admin';
export { ADO_RESOURCE, dotnetDate, readJwt, DOTNET_DATE_RE } from './tokens';
export { TOKEN_EXCHANGE_AUDIENCE } from './principals';
export { VAULT_RESOURCE } from './vault';
export { FAKE_PLAN_ID, FAKE_JOB_ID } from './oidc';

export interface EmulatorOptions {
  /** Fixed delay before every response. */
  latencyMs?: number;
  /** `interval` in devicecode responses (default 1). */
  deviceCodeIntervalSeconds?: number;
  /** Default 0 (random). */
  port?: number;
}

export interface Emulator {
  /** "https://127.0.0.1:PORT" (no trailing slash). */
  url: string;
  /** PEM file of the self-signed certificate (trust it with NODE_EXTRA_CA_CERTS or `ca`). */
  caFile: string;
  /** The certificate PEM itself (for an in-process `ca` option). */
  caPem: string;
  port: number;
  state: EmulatorState;
  faults: Faults;
  /** Every request in arrival order. */
  log: RequestLogEntry[];
  /** Every secret ever issued: PATs, access/refresh/id tokens, job/app tokens, device codes, registered client secrets. */
  issuedSecrets(): string[];
  /**
   * A Key Vault on its own HTTPS listener (identifiers must sit at the root of an origin); `url` has no trailing slash.
   * Shares state, faults, latency and log (entries marked `vault`) with the emulator; closed by `close()`.
   */
  addVault(name: string, opts?: VaultOptions): Promise<{ name: string; url: string }>;
  /**
   * A plain-HTTP IMDS for `identity`; returns its origin (set it as AZURE_POD_IDENTITY_AUTHORITY_HOST). The same port
   * for every IMDS of the process while free (msal-node remembers the first endpoint process-wide).
   */
  startImds(identity: ManagedIdentityRecord): Promise<string>;
  /** What the agent puts in SYSTEM_OIDCREQUESTURI for a job of this project (fixed fake plan and job ids). */
  oidcRequestUri(org: string, project: string): string;
  close(): Promise<void>;
}

export interface VaultOptions {
  location?: string;
  subscriptionId?: string;
  resourceGroup?: string;
}

interface CertFiles {
  key: string;
  cert: string;
  caFile: string;
}
let certPromise: Promise<CertFiles> | undefined;
/**
 * msal-node fixes its managed identity endpoint once per process (a static in ManagedIdentityClient), so every IMDS of
 * this process listens on the port the first one got, when free: sequential emulators then look like one VM's IMDS.
 */
let imdsPort = 0;

/** One certificate per process (generation is slow): CN=localhost, SAN DNS:localhost + IP:127.0.0.1. */
function certificate(): Promise<CertFiles> {
  certPromise ??= (async () => {
    const notAfterDate = new Date(Date.now() + 30 * 24 * 3600 * 1000);
    const pems = await generate([{ name: 'commonName', value: 'localhost' }], {
      keySize: 2048,
      algorithm: 'sha256',
      notBeforeDate: new Date(Date.now() - 3600 * 1000),
      notAfterDate,
      extensions: [
        { name: 'basicConstraints', cA: true },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true },
        { name: 'extKeyUsage', serverAuth: true },
        {
          name: 'subjectAltName',
          altNames: [
            { type: 2, value: 'localhost' },
            { type: 7, ip: '127.0.0.1' },
          ],
        },
      ],
    });
    const dir = mkdtempSync(join(tmpdir(), 'patrotate-emulator-'));
    // Shared by every emulator of this process: removed when the process ends, so tests leave the temp folder clean.
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const caFile = join(dir, 'emulator-ca.pem');
    writeFileSync(caFile, pems.cert);
    return { key: pems.private, cert: pems.cert, caFile };
  })();
  return certPromise;
}

export async function start(options: EmulatorOptions = {}): Promise<Emulator> {
  const cert = await certificate();
  const state = new EmulatorState();
  state.deviceCodeIntervalSeconds = options.deviceCodeIntervalSeconds ?? 1;
  const faults = new Faults();
  const log: RequestLogEntry[] = [];
  const server = new EmulatorServer({
    key: cert.key,
    cert: cert.cert,
    latencyMs: options.latencyMs ?? 0,
    state,
    faults,
    log,
  });
  const port = await server.listen(options.port ?? 0);
  const url = `https://127.0.0.1:${port}`;
  state.baseUrl = url;
  let closed: Promise<void> | undefined;
  const servers = [server];
  const shared = { latencyMs: options.latencyMs ?? 0, state, faults, log };
  /** Starts one more listener (vault or IMDS) on a random port. */
  const listen = async (s: EmulatorServer, onPort = 0): Promise<number> => {
    if (closed) throw new Error('emulator: closed');
    const p = await s.listen(onPort);
    servers.push(s);
    return p;
  };
  return {
    url,
    port,
    caFile: cert.caFile,
    caPem: cert.cert,
    state,
    faults,
    log,
    issuedSecrets: () => state.issuedSecrets(),
    addVault: async (name, opts) => {
      const v = state.createVault(name, opts);
      const p = await listen(
        new EmulatorServer({ key: cert.key, cert: cert.cert, flavour: vaultFlavour(v.name), ...shared }),
      );
      v.url = `https://127.0.0.1:${p}`;
      return { name: v.name, url: v.url };
    },
    startImds: async (identity) => {
      const make = () => new EmulatorServer({ flavour: imdsFlavour(identity), ...shared });
      const p = await listen(make(), imdsPort).catch(() => listen(make(), 0)); // the port is taken: another emulator's
      imdsPort ||= p;
      return `http://127.0.0.1:${p}`;
    },
    oidcRequestUri: (org, project) => {
      const p = state.project(org, project);
      if (!p) throw new Error(`emulator: unknown project ${org}/${project}`);
      return `${url}${oidcRequestPath(p.orgName, p.id)}`;
    },
    close: () => (closed ??= Promise.all(servers.map((s) => s.close())).then(() => undefined)),
  };
}
