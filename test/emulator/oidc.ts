/**
 * Azure DevOps OIDC tokens for workload identity federation (System.OidcRequestUri):
 * `POST /{org}/{projectId}/_apis/distributedtask/hubs/{hub}/plans/{planId}/jobs/{jobId}/oidctoken?serviceConnectionId=`
 * with the job token. The token names the service connection (`sc://org/project/name`) and is exchanged at Entra.
 */
import type { Org } from './state';
import { apiVersion, badRequest, json, parseJsonBody, unauthorized, vssError, type Ctx, type Reply } from './http';
import { checkApiVersion } from './pats';

const OIDC_VERSIONS = /^7\.[0-2](-preview(\.[1-4])?)?$/;

/** Fixed fake plan and job ids (what SYSTEM_PLANID / SYSTEM_JOBID would be). */
export const FAKE_PLAN_ID = '4f6a8e0e-5a4b-4b0e-9d57-2d1f0c7d6a11';
export const FAKE_JOB_ID = '12f1170f-54f2-53f3-20dd-22fc7dff55f9';

/** The URL an agent puts in SYSTEM_OIDCREQUESTURI for a job of this project. */
export function oidcRequestPath(orgName: string, projectId: string): string {
  return `/${orgName}/${projectId}/_apis/distributedtask/hubs/build/plans/${FAKE_PLAN_ID}/jobs/${FAKE_JOB_ID}/oidctoken`;
}

export function handleOidc(ctx: Ctx, org: Org): Reply | undefined {
  const s = ctx.segments.map((x) => x.toLowerCase());
  if (
    s.length !== 11 ||
    s[2] !== '_apis' ||
    s[3] !== 'distributedtask' ||
    s[4] !== 'hubs' ||
    s[6] !== 'plans' ||
    s[8] !== 'jobs' ||
    s[10] !== 'oidctoken'
  )
    return undefined;
  // Only the job's own token (System.AccessToken) may ask: a user's bearer or a PAT is refused like an anonymous call.
  if (ctx.caller.kind !== 'bearer-job' || !ctx.caller.valid) return unauthorized(ctx);
  if (ctx.method !== 'POST')
    return vssError(
      405,
      `The requested resource does not support http method '${ctx.method}'.`,
      'HttpMethodNotAllowed',
    );
  const bad = checkApiVersion(ctx, apiVersion(ctx), OIDC_VERSIONS);
  if (bad) return bad;
  const project = ctx.state.project(org.name, ctx.segments[1]);
  if (!project)
    return vssError(
      404,
      `VS800075: The project with id 'vstfs:///Classification/TeamProject/${ctx.segments[1]}' does not exist, or you do not have permission to access it.`,
      'ProjectDoesNotExistWithNameException',
    );
  const body = parseJsonBody(ctx);
  if (!body.ok) return body.reply;
  const id = ctx.query.serviceConnectionId;
  if (!id) return badRequest('Value cannot be null.\r\nParameter name: serviceConnectionId', 'ArgumentNullException');
  const e = ctx.state.endpoint(id);
  if (!e || !e.projectRefs.some((r) => r.projectId === project.id))
    return vssError(
      404,
      `Service connection with id '${id}' does not exist in project '${project.id}' or you do not have permission to use it.`,
      'ServiceEndpointNotFoundException',
      'Microsoft.VisualStudio.Services.ServiceEndpoints.WebApi.ServiceEndpointNotFoundException, Microsoft.VisualStudio.Services.ServiceEndpoints.WebApi',
    );
  if (e.scheme.toLowerCase() !== 'workloadidentityfederation')
    return badRequest(
      `Service connection '${e.name}' does not use workload identity federation; an OIDC token cannot be issued for it.`,
      'InvalidOperationException',
    );
  const oidcToken = ctx.state.mintOidcToken(
    ctx.state.oidcIssuer(org.name),
    ctx.state.federatedSubject(org.name, project.name, e.name),
  );
  return json(200, { oidcToken });
}
