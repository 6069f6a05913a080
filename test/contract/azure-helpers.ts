// Helpers for the contract tests that drive the emulator with the Azure clients the product uses: msal-node
// (confidential client, managed identity) over a network module that trusts the emulator, a TokenCredential on top of
// it, a SecretClient for an emulated vault, and a throwaway app certificate.
import { X509Certificate } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { TokenCredential } from '@azure/core-auth';
import { SecretClient } from '@azure/keyvault-secrets';
import {
  ConfidentialClientApplication,
  type AuthenticationResult,
  type INetworkModule,
  type NetworkRequestOptions,
  type NetworkResponse,
} from '@azure/msal-node';
import { generate } from 'selfsigned';
import type { Emulator } from '../emulator';

/** INetworkModule over node:http(s), trusting the emulator's CA (NODE_EXTRA_CA_CERTS does not apply in-process). */
export function networkClient(ca: string): INetworkModule {
  const send = <T>(url: string, method: string, o?: NetworkRequestOptions): Promise<NetworkResponse<T>> =>
    new Promise((resolve, reject) => {
      const request = url.startsWith('http:') ? httpRequest : httpsRequest;
      const req = request(url, { method, headers: o?.headers, ca, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const headers = Object.fromEntries(Object.entries(res.headers).map(([k, v]) => [k, String(v)]));
          resolve({ status: res.statusCode ?? 0, headers, body: (text ? JSON.parse(text) : {}) as T });
        });
      });
      req.on('error', reject);
      if (o?.body) req.write(o.body);
      req.end();
    });
  return {
    sendGetRequestAsync: (url, o) => send(url, 'GET', o),
    sendPostRequestAsync: (url, o) => send(url, 'POST', o),
  };
}

type Auth = ConstructorParameters<typeof ConfidentialClientApplication>[0]['auth'];

/** A confidential client on the emulator's authority; `auth` carries the credential (secret, certificate, assertion). */
export function confidentialClient(em: Emulator, auth: Omit<Auth, 'authority'>): ConfidentialClientApplication {
  return new ConfidentialClientApplication({
    auth: { ...auth, authority: `${em.url}/${em.state.tenantId}`, knownAuthorities: [`127.0.0.1:${em.port}`] },
    system: { networkClient: networkClient(em.caPem) },
  });
}

/** A TokenCredential over any msal acquisition; counts its calls. */
export function credentialOf(
  acquire: (scopes: string[]) => Promise<AuthenticationResult | null>,
): TokenCredential & { calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    getToken: async (scopes) => {
      const list = Array.isArray(scopes) ? scopes : [scopes];
      calls.push(list);
      const r = await acquire(list);
      if (!r?.expiresOn) throw new Error('no token');
      return { token: r.accessToken, expiresOnTimestamp: r.expiresOn.getTime() };
    },
  };
}

/** The credential a confidential client gives (client credentials for the challenge's scope). */
export function appCredential(app: ConfidentialClientApplication): TokenCredential & { calls: string[][] } {
  return credentialOf((scopes) => app.acquireTokenByClientCredential({ scopes }));
}

/**
 * The real SecretClient for an emulated vault. The vault is on 127.0.0.1, so the challenge resource
 * (vault.azure.net) cannot match its host: verification is off, as the product must allow for the emulator only.
 */
export function secretClient(em: Emulator, vaultUrl: string, credential: TokenCredential, retryDelayMs = 50) {
  return new SecretClient(vaultUrl, credential, {
    disableChallengeResourceVerification: true,
    tlsOptions: { ca: em.caPem },
    retryOptions: { retryDelayInMs: retryDelayMs, maxRetryDelayInMs: 2000 },
  });
}

export interface AppCert {
  certPem: string;
  keyPem: string;
  /** Hex thumbprints as msal-node wants them. */
  sha1: string;
  sha256: string;
}

const certs: Promise<AppCert>[] = [];

/** A self-signed app certificate; `index` picks one of a few per process (generation is slow). */
export function appCertificate(index = 0): Promise<AppCert> {
  certs[index] ??= (async () => {
    const pems = await generate([{ name: 'commonName', value: `patrotate-test-app-${index}` }], { keySize: 2048 });
    const x = new X509Certificate(pems.cert);
    return {
      certPem: pems.cert,
      keyPem: pems.private,
      sha1: x.fingerprint.replace(/:/g, ''),
      sha256: x.fingerprint256.replace(/:/g, ''),
    };
  })();
  return certs[index];
}
