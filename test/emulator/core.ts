/** Azure DevOps core: `/{org}/_apis/connectionData` (PAT verification) and route dispatch for variable groups. */
import type { Org } from './state';
import { authorizedForOrg, unauthorized, json, type Ctx, type Reply } from './http';
import { handleServiceEndpoints } from './service-endpoints';
import { handleVariableGroups } from './variable-groups';

/** Fixed ids, like a real deployment's. */
const DEPLOYMENT_ID = 'b1bba4e6-02a8-4e3b-8ba0-6ff02e7f2f4c';
const SPS_SERVICE_OWNER = '00025394-6065-48ca-87d9-7f5672854ef7';

function identityJson(ctx: Ctx, identityId: string): Record<string, unknown> {
  const id = ctx.state.identity(identityId);
  const user = ctx.caller.user;
  const isUser = id?.kind === 'user';
  return {
    id: identityId,
    descriptor:
      isUser && user
        ? `Microsoft.IdentityModel.Claims.ClaimsIdentity;${user.tenantId}\\${user.upn}`
        : `Microsoft.TeamFoundation.ServiceIdentity;${identityId}`,
    subjectDescriptor: isUser
      ? `aad.${Buffer.from(identityId).toString('base64url')}`
      : `svc.${Buffer.from(identityId).toString('base64url')}`,
    providerDisplayName: id?.displayName ?? identityId,
    isActive: true,
    properties: { Account: { $type: 'System.String', $value: id?.uniqueName ?? identityId } },
    resourceVersion: 2,
    metaTypeId: isUser ? 0 : 1,
  };
}

function connectionData(ctx: Ctx, org: Org): Reply {
  if (!authorizedForOrg(ctx, org, true) || !ctx.caller.identityId) return unauthorized(ctx);
  const me = identityJson(ctx, ctx.caller.identityId);
  return json(200, {
    authenticatedUser: me,
    authorizedUser: me,
    instanceId: org.id,
    deploymentId: DEPLOYMENT_ID,
    deploymentType: 'hosted',
    locationServiceData: {
      serviceOwner: SPS_SERVICE_OWNER,
      defaultAccessMappingMoniker: 'PublicAccessMapping',
      lastChangeId: 1,
      lastChangeId64: 1,
    },
  });
}

/** `/{org}/_apis/connectionData` and the variable group routes; undefined when the path is not ours. */
export function handleCore(ctx: Ctx, org: Org): Reply | undefined {
  const s = ctx.segments.map((x) => x.toLowerCase());
  if (s.length === 3 && s[1] === '_apis' && s[2] === 'connectiondata') {
    return ctx.method === 'GET' ? connectionData(ctx, org) : json(405, { message: 'Method not allowed' });
  }
  return handleVariableGroups(ctx, org) ?? handleServiceEndpoints(ctx, org);
}
