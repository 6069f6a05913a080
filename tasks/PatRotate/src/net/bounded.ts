// One HTTP exchange with bounds, shared by the Azure DevOps client and MSAL's network client: a total deadline
// (connect, headers and body; the socket timeout is only an idle timer, which a server dripping a byte at a time
// never trips), and a cap on the body after decompression (read here with a byte counter: typed-rest-client's
// readBody() buffers everything and gunzips in one go, so a small gzip bomb could take gigabytes).
import type { IncomingHttpHeaders, IncomingMessage, RequestOptions } from 'node:http';
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';
import type { HttpClient } from 'typed-rest-client/HttpClient';
import type { IHttpClient, IHttpClientResponse, IRequestHandler, IRequestInfo } from 'typed-rest-client/Interfaces';

/** Largest body accepted, after decompression (the biggest real answer, 100 PATs or a variable group, is ~100 KB). */
export const MAX_BODY_BYTES = 16 * 1024 * 1024;

/** A bound was hit. `code` is what callers branch on; the message is one line naming the limit, never the body. */
export class BoundsError extends Error {
  override readonly name = 'BoundsError';
  constructor(
    readonly code: 'EDEADLINE' | 'EBODYTOOLARGE' | 'EENCODING',
    message: string,
  ) {
    super(message);
  }
}

export interface BoundedAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  /** The decoded body (empty when there was none). */
  text: string;
}

export interface Bounds {
  deadlineMs: number;
  maxBodyBytes?: number;
}

/**
 * Puts an AbortSignal on the request typed-rest-client is about to make. typed-rest-client has no signal option,
 * but it builds and starts the request synchronously inside request(), calling every handler's prepareRequest, so a
 * signal armed just before that call reaches exactly that request. Aborting destroys the request and its socket.
 */
export class AbortHandler implements IRequestHandler {
  private armed?: AbortSignal;

  prepareRequest(options: RequestOptions): void {
    if (this.armed) options.signal = this.armed;
    this.armed = undefined;
  }

  canHandleAuthentication(): boolean {
    return false;
  }

  handleAuthentication(_client: IHttpClient, _info: IRequestInfo, _objs: unknown): Promise<IHttpClientResponse> {
    return Promise.reject(new Error('not an authentication handler'));
  }

  /** Starts `start()` with `signal` on its request. */
  during<T>(signal: AbortSignal, start: () => Promise<T>): Promise<T> {
    this.armed = signal;
    try {
      return start();
    } finally {
      this.armed = undefined;
    }
  }
}

/**
 * Sends one request through `client` (which must carry `handler` and must not follow redirects) and reads the whole
 * answer within the bounds. Network failures reject with the original error; bounds with a BoundsError.
 */
export async function boundedExchange(
  client: HttpClient,
  handler: AbortHandler,
  method: string,
  url: string,
  /** null: no body and no Content-Length (what typed-rest-client's get() sends). */
  data: string | null,
  headers: Record<string, string>,
  bounds: Bounds,
): Promise<BoundedAnswer> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      const seconds = Math.round(bounds.deadlineMs / 100) / 10;
      reject(
        new BoundsError('EDEADLINE', `timed out: no complete answer within the ${seconds} s deadline per request`),
      );
      controller.abort();
    }, bounds.deadlineMs);
  });
  const work = (async (): Promise<BoundedAnswer> => {
    const res = await handler.during(controller.signal, () => client.request(method, url, data as string, headers));
    const body = await readCapped(res.message, bounds.maxBodyBytes ?? MAX_BODY_BYTES, controller.signal);
    return {
      status: res.message.statusCode ?? 0,
      headers: res.message.headers,
      text: decode(body, res.message.headers['content-type']),
    };
  })();
  work.catch(() => undefined); // after the deadline, the aborted request's own failure is of no interest
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads the body, decompressing gzip/deflate/br, and stops (destroying the socket) at `max` bytes in or out. */
function readCapped(message: IncomingMessage, max: number, signal: AbortSignal): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    let source: Readable = message;
    const fail = (err: Error) => {
      message.destroy();
      if (source !== message) source.destroy();
      reject(err);
    };
    // The signal on the request already destroys it; this also covers a request that started without the signal.
    if (signal.aborted) return fail(new Error('aborted'));
    signal.addEventListener('abort', () => fail(new Error('aborted')), { once: true });
    const encoding = String(message.headers['content-encoding'] ?? '')
      .trim()
      .toLowerCase();
    // We never send Accept-Encoding, but a proxy may compress anyway: the usual codings are decoded, under the cap.
    if (encoding === 'gzip' || encoding === 'x-gzip') source = message.pipe(createGunzip());
    else if (encoding === 'deflate') source = message.pipe(createInflate());
    else if (encoding === 'br') source = message.pipe(createBrotliDecompress());
    else if (encoding !== '' && encoding !== 'identity') {
      return fail(
        new BoundsError(
          'EENCODING',
          `the answer has an unsupported Content-Encoding "${encoding.slice(0, 40).replace(/[^\w ,.-]/g, '?')}"`,
        ),
      );
    }
    const tooLarge = () =>
      new BoundsError(
        'EBODYTOOLARGE',
        `the answer is larger than ${Math.round(max / 1024 / 1024)} MiB; stopped reading it`,
      );
    const chunks: Buffer[] = [];
    let raw = 0;
    let size = 0;
    if (source !== message) {
      message.on('data', (c: Buffer) => {
        raw += c.length;
        if (raw > max) fail(tooLarge());
      });
    }
    source.on('data', (c: Buffer) => {
      size += c.length;
      if (size > max) fail(tooLarge());
      else chunks.push(c);
    });
    source.on('end', () => resolve(Buffer.concat(chunks)));
    source.on('error', (e) => fail(e));
    if (source !== message) message.on('error', (e) => fail(e));
    message.on('close', () => {
      if (!message.complete)
        fail(Object.assign(new Error('the connection closed before the answer was complete'), { code: 'ECONNRESET' }));
    });
  });
}

const NODE_CHARSETS = new Set(['ascii', 'utf8', 'utf-8', 'utf16le', 'ucs2', 'base64', 'binary', 'hex', 'latin1']);

/** The charset of Content-Type when Node knows it, else UTF-8 (as typed-rest-client's readBody did). */
function decode(body: Buffer, contentType: string | undefined): string {
  const charset = /charset=([^;,\r\n]+)/i
    .exec(contentType ?? '')?.[1]
    ?.trim()
    .toLowerCase();
  return body.toString(charset && NODE_CHARSETS.has(charset) ? (charset as BufferEncoding) : 'utf8');
}

/** The host a 3xx answer points at, for error messages (never the whole Location: it may carry a query). */
export function redirectHost(location: string | string[] | undefined, from: string): string {
  const value = Array.isArray(location) ? location[0] : location;
  if (!value) return 'nowhere (no Location header)';
  try {
    return new URL(value, from).host || 'an unreadable location';
  } catch {
    return 'an unreadable location';
  }
}
