// What the Key Vault client (./secrets.ts) and the store (../rotation/keyVaultStore.ts) share, without the Azure SDK:
// the store loads with every run, the SDK only when a vault is used.

/** What a PAT's secret version carries besides its value: Key Vault shows the expiry, tags say which PAT it is. */
export interface SecretFacts {
  /** exp: Key Vault shows it and raises SecretNearExpiry events. */
  expiresOn?: Date;
  contentType: string;
  tags: Record<string, string>;
}

export const PAT_CONTENT_TYPE = 'application/vnd.azure-devops.pat';

export interface LatestSecret {
  value: string;
  version: string;
  tags: Readonly<Record<string, string>>;
}

export type VaultErrorKind = 'forbidden' | 'conflict' | 'notFound' | 'unauthorized' | 'retryable' | 'other';

export class VaultError extends Error {
  override readonly name = 'VaultError';
  constructor(
    readonly kind: VaultErrorKind,
    message: string,
    readonly details: {
      status?: number;
      retryAfterMs?: number;
      /** A write that was sent and got no answer: it may have landed, or still land. */
      unanswered?: boolean;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: details.cause });
  }
}
