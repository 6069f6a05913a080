// One keep-alive typed-rest-client per origin, each with its abort handler (net/bounded.ts), for the clients that
// make many requests to few hosts (Azure DevOps, a vault): a TLS handshake per request would dominate a bulk run.
// requestOptionsFor refuses redirects: they would carry the Authorization header to wherever they point.
import { HttpClient } from 'typed-rest-client/HttpClient';
import { AbortHandler } from './bounded';
import { requestOptionsFor, type NetworkSettings } from './network';

export interface OriginClient {
  client: HttpClient;
  handler: AbortHandler;
}

export class OriginClients {
  private readonly clients = new Map<string, OriginClient>();

  constructor(
    private readonly network: NetworkSettings,
    private readonly userAgent: string,
  ) {}

  for(url: string): OriginClient {
    const origin = new URL(url).origin;
    let entry = this.clients.get(origin);
    if (!entry) {
      const handler = new AbortHandler();
      entry = { client: new HttpClient(this.userAgent, [handler], requestOptionsFor(this.network, url)), handler };
      this.clients.set(origin, entry);
    }
    return entry;
  }

  /** Closes the keep-alive sockets. */
  dispose(): void {
    for (const { client } of this.clients.values()) client.dispose();
    this.clients.clear();
  }
}
