// MSAL's network module over typed-rest-client, so Entra calls take the same proxy (with credentials and bypass
// list), CA file, client certificate and ignoreSslError path as the Azure DevOps calls. msal-node 7 has no proxy
// option of its own: its default client is bare global fetch.
import { AuthError, type INetworkModule, type NetworkRequestOptions, type NetworkResponse } from '@azure/msal-node';
import type { IncomingHttpHeaders } from 'node:http';
import { HttpClient } from 'typed-rest-client/HttpClient';
import { AbortHandler, boundedExchange, redirectHost } from '../net/bounded';
import { deadlineMs, requestOptionsFor, withoutQuery, type NetworkSettings } from '../net/network';

const USER_AGENT = 'PatRotate-msal';

/** What happened on one request; holds no body and no token, only what error explanations need. */
export interface HttpExchange {
  method: 'GET' | 'POST';
  /** Origin and path, without the query string. */
  url: string;
  status?: number;
  retryAfter?: string;
  /** From an OAuth error body. */
  error?: string;
  errorCodes?: number[];
  /** Set when no HTTP response came back (DNS, refused, TLS, proxy, timeout). */
  networkError?: { code?: string; message: string };
}

export type ExchangeObserver = (exchange: HttpExchange) => void;

/** The errorCode of the AuthError for a refused redirect (explainSignInError keeps its message). */
export const REDIRECT_REFUSED = 'redirect_refused';

export function createNetworkClient(
  settings: NetworkSettings,
  observe: ExchangeObserver = () => undefined,
): INetworkModule {
  return {
    sendGetRequestAsync: <T>(url: string, options?: NetworkRequestOptions, timeout?: number) =>
      send<T>(settings, observe, 'GET', url, options, timeout),
    sendPostRequestAsync: <T>(url: string, options?: NetworkRequestOptions) =>
      send<T>(settings, observe, 'POST', url, options),
  };
}

async function send<T>(
  settings: NetworkSettings,
  observe: ExchangeObserver,
  method: 'GET' | 'POST',
  url: string,
  options: NetworkRequestOptions | undefined,
  timeout?: number,
): Promise<NetworkResponse<T>> {
  const where = withoutQuery(url);
  const requestOptions = requestOptionsFor(settings, url);
  if (timeout) requestOptions.socketTimeout = Math.min(timeout, requestOptions.socketTimeout ?? timeout);
  // One client per request: its agents are destroyed afterwards, so no socket keeps the task process alive.
  // requestOptionsFor refuses redirects: a 307 from the token endpoint would re-send the refresh token, password or
  // client secret in the body to wherever it points.
  const handler = new AbortHandler();
  const client = new HttpClient(USER_AGENT, [handler], requestOptions);
  try {
    let text: string;
    let status: number;
    let headers: Record<string, string>;
    try {
      const data = method === 'GET' ? null : (options?.body ?? '');
      const res = await boundedExchange(client, handler, method, url, data, options?.headers ?? {}, {
        deadlineMs: deadlineMs(settings),
      });
      text = res.text;
      status = res.status;
      headers = flatten(res.headers);
    } catch (e) {
      const networkError = describe(e);
      observe({ method, url: where, networkError });
      // An AuthError keeps our message: MSAL replaces any other error with a bare "network_error".
      const code = networkError.code ? `${networkError.code} ` : '';
      throw new AuthError(
        'network_error',
        '',
        `Network request failed: ${code}${networkError.message} (${method} ${where})`,
      );
    }
    if (status >= 300 && status < 400) {
      observe({ method, url: where, status });
      // Not a network_error: sign-in retries those, and this one would only be refused again.
      throw new AuthError(
        REDIRECT_REFUSED,
        '',
        `Entra answered HTTP ${status} redirecting to ${redirectHost(headers.location, url)}; ` +
          `PatRotate does not follow redirects with credentials: check authorityHost and the agent proxy (${method} ${where})`,
      );
    }
    const body = parseBody(text, status, headers['content-type'], method, where);
    const oauth = body as { error?: unknown; error_codes?: unknown };
    observe({
      method,
      url: where,
      status,
      retryAfter: headers['retry-after'],
      error: typeof oauth.error === 'string' ? oauth.error : undefined,
      errorCodes: Array.isArray(oauth.error_codes) ? oauth.error_codes.map(Number) : undefined,
    });
    return { headers, body: body as T, status };
  } finally {
    client.dispose();
  }
}

/**
 * JSON object bodies pass through untouched. A non-JSON error response (a proxy's HTML page, an empty 503) becomes
 * an OAuth error body, so MSAL raises a ServerError instead of treating it as a token response without a token.
 */
function parseBody(
  text: string,
  status: number,
  contentType: string | undefined,
  method: string,
  where: string,
): object {
  const ok = status >= 200 && status < 300;
  let parsed: unknown;
  try {
    parsed = text.trim() === '' && !ok ? {} : JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  const object =
    typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : undefined;
  if (ok && !object) {
    throw new AuthError(
      'token_parsing_error',
      '',
      `Failed to parse response: HTTP ${status} from ${method} ${where} is not a JSON object (content-type ${contentType ?? 'none'})`,
    );
  }
  if (!ok && !(object && 'error' in object)) {
    return {
      ...object,
      error: `http_${status}`,
      error_description: `HTTP ${status} from ${method} ${where} (content-type ${contentType ?? 'none'}), not an OAuth error body`,
    };
  }
  return object ?? {};
}

function flatten(headers: IncomingHttpHeaders): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined) out[name.toLowerCase()] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function describe(e: unknown): { code?: string; message: string } {
  const err = e as { code?: unknown; message?: unknown };
  return {
    code: typeof err?.code === 'string' ? err.code : undefined,
    message: typeof err?.message === 'string' ? err.message : String(e),
  };
}
