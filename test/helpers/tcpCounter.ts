// A TCP listener that only counts connections: the place a refused redirect points at, to prove nothing was sent.
import net from 'node:net';
import type { AddressInfo } from 'node:net';

export interface TcpCounter {
  port: number;
  connections(): number;
  close(): Promise<void>;
}

export async function startTcpCounter(): Promise<TcpCounter> {
  let count = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    count++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => count,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
