// The job's OIDC token for a workload identity federation connection: POST {System.OidcRequestUri} with the job
// access token. Tokens live ~10 minutes, so one is requested for every Entra token acquisition.
import type { AdoHttp } from '../ado/http';
import { sameService } from '../ado/urls';
import { ConfigError } from '../configError';
import type { InputSource } from '../config';

/** System.OidcRequestUri, or (older agents) the same route built from the job's variables. */
export function oidcRequestUrl(src: Pick<InputSource, 'variable'>): string {
  const given = src.variable('System.OidcRequestUri')?.trim();
  const collection = src.variable('System.CollectionUri')?.trim();
  if (given) {
    // The job token goes only to the pipeline's own service.
    if (collection && !sameService(given, collection))
      throw new ConfigError(
        'azureSubscription',
        `System.OidcRequestUri points at another server than System.CollectionUri: the job token is not sent there.`,
      );
    return given;
  }
  const parts = ['System.TeamProjectId', 'System.HostType', 'System.PlanId', 'System.JobId'].map((n) =>
    src.variable(n)?.trim(),
  );
  if (!collection || parts.some((p) => !p))
    throw new ConfigError(
      'azureSubscription',
      'workload identity federation needs System.OidcRequestUri (or System.CollectionUri, System.TeamProjectId, System.HostType, System.PlanId and System.JobId): run the task in a pipeline job.',
    );
  const [project, hub, plan, job] = parts.map((p) => encodeURIComponent(p!));
  return `${collection.replace(/\/+$/, '')}/${project}/_apis/distributedtask/hubs/${hub}/plans/${plan}/jobs/${job}/oidctoken`;
}

/** A fresh OIDC token for the connection, from the agent's server. */
export async function requestOidcToken(
  http: AdoHttp,
  url: string,
  connectionId: string,
  jobToken: string,
): Promise<string> {
  const sep = url.includes('?') ? '&' : '?';
  const answer = await http.send<{ oidcToken?: unknown }>(
    'POST',
    `${url}${sep}api-version=7.1-preview.1&serviceConnectionId=${encodeURIComponent(connectionId)}`,
    { credential: { kind: 'bearer', token: jobToken }, body: {} },
  );
  const token = answer?.oidcToken;
  if (typeof token !== 'string' || !/^[\w-]+\.[\w-]+\.[\w-]*$/.test(token))
    throw new Error(`The OIDC token request for service connection ${connectionId} answered without a token.`);
  return token;
}
