/** Public API of the local Entra + Azure DevOps emulator. See README.md. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from 'selfsigned';
import { Faults } from './faults';
import { EmulatorServer, type RequestLogEntry } from './server';
import { EmulatorState } from './state';

export { EmulatorState, canonicalJson } from './state';
export type * from './state';
export { Faults, type FaultRule, type FaultAction } from './faults';
export type { RequestLogEntry } from './server';
export type { AuthKind } from './http';
export { PAT_SCOPES, FULL_ACCESS_SCOPE } from './scopes';
export { descriptorOf, sessionTokenJson } from './admin';
export { ADO_RESOURCE, dotnetDate, readJwt, DOTNET_DATE_RE } from './tokens';

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
  close(): Promise<void>;
}

interface CertFiles {
  key: string;
  cert: string;
  caFile: string;
}
let certPromise: Promise<CertFiles> | undefined;

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
  return {
    url,
    port,
    caFile: cert.caFile,
    caPem: cert.cert,
    state,
    faults,
    log,
    issuedSecrets: () => state.issuedSecrets(),
    close: () => (closed ??= server.close()),
  };
}
