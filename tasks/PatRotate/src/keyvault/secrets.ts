// Key Vault secrets through the official client (@azure/keyvault-secrets), as three calls PatRotate needs: the latest
// version of a secret, a new version, and a probe that the identity may change secrets. Errors become VaultErrors
// whose message says what to do (the identity and the permission it lacks, a soft-deleted name). The client's own
// retries and redirects are off: reads are retried here within bounds, writes by the store (rotation/stores.ts).
import type { TokenCredential } from '@azure/core-auth';
import { RestError, type PipelinePolicy } from '@azure/core-rest-pipeline';
import { SecretClient } from '@azure/keyvault-secrets';
import { errorMessage } from '../errorMessage';
import type { NetworkSettings } from '../net/network';
import { NEVER_SENT_CODES, parseRetryAfter } from '../net/network';
import { sleep } from '../time';
import { vaultHttpClient } from './vaultHttp';
import { VaultError, type LatestSecret, type SecretFacts } from './vaultTypes';

export { PAT_CONTENT_TYPE, VaultError, type LatestSecret, type SecretFacts, type VaultErrorKind } from './vaultTypes';

const SOFT_DELETED =
  'was deleted and is kept for recovery (soft-delete): recover it (az keyvault secret recover) or purge it (az keyvault secret purge), or choose another secret name.';

/** Attempts of one read (429, 5xx, network), and the longest wait between two. */
const READ_ATTEMPTS = 3;
const MAX_WAIT_MS = 30_000;

export class VaultSecrets {
  private readonly client: SecretClient;
  /** contentType per secret name being written (see contentTypePolicy). */
  private readonly contentTypes = new Map<string, string>();

  /** `identity` names who reads and writes (a connection and its service principal), for permission errors. */
  constructor(
    readonly url: string,
    credential: TokenCredential,
    network: NetworkSettings,
    private readonly identity: string,
    /** True when the vault's host is under the cloud's vault DNS suffix: the client then checks the challenge. */
    verifyChallenge: boolean,
    private readonly wait: (ms: number) => Promise<void> = sleep,
  ) {
    this.client = new SecretClient(url, credential, {
      httpClient: vaultHttpClient(network),
      retryOptions: { maxRetries: 0 },
      redirectOptions: { maxRetries: 0 },
      serviceVersion: '7.5',
      userAgentOptions: { userAgentPrefix: 'PatRotate' },
      // A vault by URL (a private endpoint alias, an emulator) answers the challenge with the public resource; the
      // credential grants only the vault scope either way (azure/armCredential.ts).
      disableChallengeResourceVerification: !verifyChallenge,
      additionalPolicies: [{ policy: contentTypePolicy(this.contentTypes), position: 'perCall' }],
    });
  }

  /** The latest version of `name`, or undefined when there is none. */
  async latest(name: string): Promise<LatestSecret | undefined> {
    return this.read(`reading secret '${name}'`, async () => {
      try {
        const s = await this.client.getSecret(name);
        return { value: s.value ?? '', version: s.properties.version ?? '', tags: s.properties.tags ?? {} };
      } catch (e) {
        if (e instanceof RestError && e.statusCode === 404) return undefined;
        throw e;
      }
    });
  }

  /** Sets a new version of `name` (one attempt). */
  async set(name: string, value: string, facts: SecretFacts): Promise<{ version: string }> {
    this.contentTypes.set(name.toLowerCase(), facts.contentType);
    try {
      const s = await this.client.setSecret(name, value, {
        contentType: facts.contentType,
        tags: facts.tags,
        expiresOn: facts.expiresOn,
        enabled: true,
      });
      return { version: s.properties.version ?? '' };
    } catch (e) {
      throw this.explain(`writing secret '${name}'`, e, true);
    } finally {
      this.contentTypes.delete(name.toLowerCase());
    }
  }

  /** Disables one version (the refresh token a run redeemed). One attempt. */
  async disableVersion(name: string, version: string): Promise<void> {
    try {
      await this.client.updateSecretProperties(name, version, { enabled: false });
    } catch (e) {
      throw this.explain(`disabling version ${version} of secret '${name}'`, e, true);
    }
  }

  /** Moves the expiry of one version (a renewed PAT's secret). One attempt. */
  async setExpiry(name: string, version: string, expiresOn: Date): Promise<void> {
    try {
      await this.client.updateSecretProperties(name, version, { expiresOn });
    } catch (e) {
      throw this.explain(`updating the expiry of secret '${name}'`, e, true);
    }
  }

  /**
   * Proves, without changing anything, that the identity may read `name` and change secrets: reads it (absent is
   * fine), then updates a version that cannot exist (Key Vault checks the permission first: 404 means allowed).
   */
  async preflight(name: string): Promise<void> {
    const found = await this.latest(name);
    // A soft-deleted name cannot be written (409) until it is recovered or purged: say so before anything changes.
    // (A name with a current version is not deleted: only an absent one is asked about.)
    if (found === undefined && (await this.isDeleted(name)))
      throw new VaultError('conflict', `Key Vault ${this.url}: secret '${name}' ${SOFT_DELETED}`);
    await this.read(`checking that ${this.identity} may set secret '${name}'`, async () => {
      try {
        await this.client.updateSecretProperties(name, '0'.repeat(32), { tags: { rotatedBy: 'PatRotate' } });
      } catch (e) {
        if (e instanceof RestError && e.statusCode === 404) return;
        throw e;
      }
      throw new VaultError('other', `Key Vault ${this.url} accepted an update of a secret version that cannot exist`);
    });
  }

  /**
   * Whether `name` is soft-deleted. Only a better message rides on it (writing a deleted name fails with 409 and is
   * rolled back anyway), so anything but a clear answer (403, a vault without soft-delete, a gateway, 5xx) is
   * undefined: carry on.
   */
  private async isDeleted(name: string): Promise<boolean | undefined> {
    try {
      await this.client.getDeletedSecret(name);
      return true;
    } catch (e) {
      return e instanceof RestError && e.statusCode === 404 ? false : undefined;
    }
  }

  private async read<T>(what: string, call: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await call();
      } catch (e) {
        const err = e instanceof VaultError ? e : this.explain(what, e, false);
        if (err.kind !== 'retryable' || attempt >= READ_ATTEMPTS) throw err;
        await this.wait(Math.min(err.details.retryAfterMs ?? 1_000 * attempt, MAX_WAIT_MS));
      }
    }
  }

  /** One line that says what failed and what to do. */
  explain(what: string, e: unknown, write: boolean): VaultError {
    if (e instanceof VaultError) return e;
    const at = `Key Vault ${this.url}: ${what}`;
    if (!(e instanceof RestError)) return new VaultError('other', `${at} failed: ${errorMessage(e)}`, { cause: e });
    const status = e.statusCode;
    const server = serverMessage(e);
    if (e.code === 'REDIRECT_REFUSED') return new VaultError('other', `${at} failed: ${e.message}`, { cause: e });
    if (status === undefined) {
      const code = e.code ?? '';
      const hint = NEVER_SENT_CODES.has(code)
        ? ': check keyVaultName and that the agent can reach the vault (DNS, firewall, private endpoint)'
        : '';
      return new VaultError('retryable', `${at} failed: ${code || e.message} (network error${hint})`, {
        cause: e,
        unanswered: write && !NEVER_SENT_CODES.has(code),
      });
    }
    if (status === 403)
      return new VaultError(
        'forbidden',
        `${at} was refused (HTTP 403${server}): ${this.identity} needs the "Key Vault Secrets Officer" role on the vault (Access control (IAM)), or, with access policies, the Get and Set secret permissions.`,
        { status, cause: e },
      );
    if (status === 409)
      return new VaultError('conflict', `${at} was refused (HTTP 409${server}): the secret ${SOFT_DELETED}`, {
        status,
        cause: e,
      });
    if (status === 401)
      return new VaultError(
        'unauthorized',
        `${at} was refused (HTTP 401${server}): the vault did not accept the token of ${this.identity}; check that the connection's tenant is the vault's.`,
        { status, cause: e },
      );
    if (status === 404) return new VaultError('notFound', `${at} failed (HTTP 404${server})`, { status, cause: e });
    if (status === 429 || status === 408 || status >= 500)
      return new VaultError('retryable', `${at} failed (HTTP ${status}${server}); try again later`, {
        status,
        cause: e,
        retryAfterMs: parseRetryAfter(e.response?.headers.get('retry-after') ?? undefined),
      });
    return new VaultError('other', `${at} was rejected (HTTP ${status}${server})`, { status, cause: e });
  }
}

/** The first line of the vault's error message, short. */
function serverMessage(e: RestError): string {
  const first = (e.message ?? '').split(/\r|\n/)[0].trim().slice(0, 300);
  return first ? `: ${first}` : '';
}

/**
 * @azure/keyvault-secrets 4.11.1 drops setSecret's contentType option (it never reaches the request body), so this
 * policy puts it into the body of the PUT that sets a secret being written.
 */
function contentTypePolicy(contentTypes: ReadonlyMap<string, string>): PipelinePolicy {
  return {
    name: 'patrotateContentType',
    sendRequest(request, next) {
      const name = /\/secrets\/([0-9A-Za-z-]+)$/.exec(new URL(request.url).pathname)?.[1]?.toLowerCase();
      const contentType = name === undefined ? undefined : contentTypes.get(name);
      if (request.method === 'PUT' && contentType && typeof request.body === 'string') {
        const body = JSON.parse(request.body) as Record<string, unknown>;
        request.body = JSON.stringify({ ...body, contentType: body.contentType ?? contentType });
      }
      return next(request);
    },
  };
}
