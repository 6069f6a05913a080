// The HTTP client the Key Vault SDK sends through: typed-rest-client with the agent's proxy, CA and client
// certificate, the per-request deadline and body cap of net/bounded.ts, and no redirects (the SDK's own redirect and
// retry policies are off too: see keyvault/secrets.ts).
import {
  createHttpHeaders,
  RestError,
  type HttpClient,
  type PipelineRequest,
  type PipelineResponse,
} from '@azure/core-rest-pipeline';
import { boundedExchange, redirectHost } from '../net/bounded';
import { deadlineMs, withoutQuery, type NetworkSettings } from '../net/network';
import { OriginClients } from '../net/originClients';

const USER_AGENT = 'PatRotate-keyvault';

export function vaultHttpClient(network: NetworkSettings): HttpClient {
  const clients = new OriginClients(network, USER_AGENT);
  return {
    async sendRequest(request: PipelineRequest): Promise<PipelineResponse> {
      const where = `${request.method} ${withoutQuery(request.url)}`;
      if (typeof request.body !== 'string' && request.body !== undefined && request.body !== null)
        throw new RestError(`${where}: only text bodies are sent`, { code: 'UNSUPPORTED_BODY', request });
      const headers: Record<string, string> = {};
      for (const [name, value] of request.headers) headers[name] = value;
      const { client, handler } = clients.for(request.url);
      try {
        const answer = await boundedExchange(
          client,
          handler,
          request.method,
          request.url,
          request.body ?? null,
          headers,
          {
            deadlineMs: deadlineMs(network),
          },
        );
        if (answer.status >= 300 && answer.status < 400)
          throw new RestError(
            `${where} answered with a redirect to ${redirectHost(answer.headers.location, request.url)}, which is not followed`,
            { code: 'REDIRECT_REFUSED', statusCode: answer.status, request },
          );
        const flat: Record<string, string> = {};
        for (const [name, value] of Object.entries(answer.headers))
          if (value !== undefined) flat[name] = Array.isArray(value) ? value.join(', ') : value;
        return { request, status: answer.status, headers: createHttpHeaders(flat), bodyAsText: answer.text };
      } catch (e) {
        if (e instanceof RestError) throw e;
        const code = typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : undefined;
        throw new RestError(`${where} failed: ${code ?? (e instanceof Error ? e.message : String(e))}`, {
          code: code ?? 'REQUEST_SEND_ERROR',
          request,
        });
      }
    },
  };
}
