// A tiny plain-HTTP server for unit tests of the Azure DevOps clients: canned answers from a queue (or a
// handler), and a log of every request received.
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type FakeAnswer =
  | { status: number; body?: unknown; headers?: Record<string, string> }
  /** Destroys the connection without an answer. */
  | { reset: true }
  /** Never answers (for client timeouts). */
  | { hang: true }
  /** Answers by hand (slow or huge bodies); the connection is destroyed by close() if still open. */
  | { respond: (res: http.ServerResponse) => void };

export interface LoggedRequest {
  method: string;
  /** Path and query, e.g. /contoso/_apis/tokens/pats?api-version=7.1-preview.1 */
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The body parsed as JSON, or undefined. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests read arbitrary JSON fields
  json: any;
}

export type FakeHandler = (req: LoggedRequest) => FakeAnswer;

export interface FakeServer {
  url: string;
  log: LoggedRequest[];
  /** Queues answers, served in order; when the queue is empty the handler (or a 500) answers. */
  enqueue(...answers: FakeAnswer[]): void;
  handle(handler: FakeHandler): void;
  close(): Promise<void>;
}

export async function startFakeServer(): Promise<FakeServer> {
  const queue: FakeAnswer[] = [];
  const log: LoggedRequest[] = [];
  let handler: FakeHandler | undefined;
  const hanging = new Set<http.ServerResponse>();

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = body ? JSON.parse(body) : undefined;
      } catch {
        json = undefined;
      }
      const entry: LoggedRequest = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body, json };
      log.push(entry);
      const answer = queue.shift() ??
        handler?.(entry) ?? { status: 500, body: { message: 'fake server: no answer queued' } };
      if ('reset' in answer) {
        req.socket.destroy();
        return;
      }
      if ('hang' in answer) {
        hanging.add(res);
        return;
      }
      if ('respond' in answer) {
        hanging.add(res);
        answer.respond(res);
        return;
      }
      const isText = typeof answer.body === 'string';
      const payload = answer.body === undefined ? '' : isText ? (answer.body as string) : JSON.stringify(answer.body);
      res.writeHead(answer.status, {
        'Content-Type': isText ? 'text/plain; charset=utf-8' : 'application/json; charset=utf-8',
        ...answer.headers,
      });
      res.end(payload);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    log,
    enqueue: (...answers) => queue.push(...answers),
    handle: (h) => {
      handler = h;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.socket?.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A sleep that returns at once and remembers how long it was asked to wait. */
export function recordingSleep(): { sleep: (ms: number) => Promise<void>; waits: number[] } {
  const waits: number[] = [];
  return { waits, sleep: (ms: number) => (waits.push(ms), Promise.resolve()) };
}
