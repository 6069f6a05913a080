// The one error type of every Azure DevOps call: a kind the caller can branch on, and a one-line message.

export type AdoErrorKind =
  'auth' | 'forbidden' | 'notFound' | 'policy' | 'badRequest' | 'throttled' | 'transient' | 'protocol';

export interface AdoErrorDetails {
  status?: number;
  typeKey?: string;
  patTokenError?: string;
  /** Trying the same request again may succeed (throttling, 5xx, network). */
  retryable?: boolean;
  /** The server may have applied the request but its answer was lost (timeout, reset, 5xx, unreadable 2xx). */
  lostResponse?: boolean;
  /** Server-requested wait before the next attempt (Retry-After), when it sent one. */
  retryAfterMs?: number;
  /**
   * An attempt of this request was sent and got no answer at all (a timeout, a reset): it may still be carried out
   * later, so a read that shows nothing changed yet proves nothing.
   */
  unanswered?: boolean;
}

export class AdoError extends Error {
  override readonly name = 'AdoError';
  readonly kind: AdoErrorKind;
  readonly status?: number;
  readonly typeKey?: string;
  readonly patTokenError?: string;
  readonly retryable: boolean;
  readonly lostResponse: boolean;
  readonly retryAfterMs?: number;
  readonly unanswered: boolean;

  constructor(kind: AdoErrorKind, message: string, details: AdoErrorDetails = {}) {
    super(oneLine(message));
    this.kind = kind;
    this.status = details.status;
    this.typeKey = details.typeKey;
    this.patTokenError = details.patTokenError;
    this.retryable = details.retryable ?? false;
    this.lostResponse = details.lostResponse ?? false;
    this.retryAfterMs = details.retryAfterMs;
    this.unanswered = details.unanswered ?? false;
  }

  /** The same error with a different message (e.g. one that names the variable group), all else kept. */
  withMessage(message: string): AdoError {
    return new AdoError(this.kind, message, this);
  }
}

/** Collapses whitespace so a message is always one log line, and caps its length. */
export function oneLine(text: string, max = 600): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
