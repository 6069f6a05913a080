// A tiny authenticating HTTP CONNECT proxy on loopback that records every tunnel, to prove that outgoing HTTPS
// really goes through the agent's proxy with its credentials.
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type Socket } from 'node:net';

export interface Tunnel {
  /** host:port asked for in CONNECT. */
  target: string;
  /** The user name from a valid Proxy-Authorization header, or undefined when refused with 407. */
  user?: string;
  authorized: boolean;
}

export interface ConnectProxy {
  /** http://127.0.0.1:PORT */
  url: string;
  tunnels: Tunnel[];
  close(): Promise<void>;
}

export async function startConnectProxy(credentials?: { username: string; password: string }): Promise<ConnectProxy> {
  const tunnels: Tunnel[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((_req, res) => {
    res.writeHead(405, { 'Content-Type': 'text/plain' });
    res.end('CONNECT only');
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  server.on('connect', (req: IncomingMessage, client: Socket, head: Buffer) => {
    const target = req.url ?? '';
    const user = checkAuth(req.headers['proxy-authorization'], credentials);
    if (credentials && user === undefined) {
      tunnels.push({ target, authorized: false });
      client.end(
        'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n',
      );
      return;
    }
    tunnels.push({ target, user, authorized: true });
    const [host, port] = splitHostPort(target);
    const upstream = connect(port, host, () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    const fail = () => {
      upstream.destroy();
      client.destroy();
    };
    upstream.on('error', fail);
    client.on('error', fail);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}`,
    tunnels,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

function checkAuth(
  header: string | undefined,
  credentials?: { username: string; password: string },
): string | undefined {
  const m = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!m) return undefined;
  const decoded = Buffer.from(m[1], 'base64').toString('utf8');
  const sep = decoded.indexOf(':');
  const [user, password] = [decoded.slice(0, sep), decoded.slice(sep + 1)];
  if (credentials && (user !== credentials.username || password !== credentials.password)) return undefined;
  return user;
}

function splitHostPort(target: string): [string, number] {
  const i = target.lastIndexOf(':');
  return [target.slice(0, i).replace(/^\[|\]$/g, ''), Number(target.slice(i + 1)) || 443];
}
