/**
 * Service connections (serviceendpoint 7.1): project-scoped reads (by id, or by `endpointNames`), the org-scoped
 * whole-object PUT. Secret authorization parameters come back null by id and absent in a list (as in the
 * httpExamples); a PUT stores exactly what it is sent (a secret sent null or left out is erased, and the connection is
 * no longer ready). Roles are per identity: Administrator may PUT and passes `actionFilter=manage`; any role sees it.
 */
import {
  isSecretParameter,
  type EndpointProjectRef,
  type Org,
  type Project,
  type ServiceEndpointRecord,
} from './state';
import {
  apiVersion,
  authorizedForOrg,
  badRequest,
  json,
  notFound,
  parseJsonBody,
  unauthorized,
  vssError,
  type Ctx,
  type Reply,
} from './http';
import { checkApiVersion } from './pats';

const SE_VERSIONS = /^(5\.[0-1]|6\.0|7\.[0-2])(-preview(\.[1-4])?)?$/;

/** The parameter a scheme cannot work without (lower case). */
const REQUIRED: Record<string, string> = {
  token: 'apitoken',
  usernamepassword: 'password',
  personalaccesstoken: 'accesstoken',
};

export function handleServiceEndpoints(ctx: Ctx, org: Org): Reply | undefined {
  const s = ctx.segments.map((x) => x.toLowerCase());
  const at = s.indexOf('_apis');
  if (at < 1 || at > 2 || s[at + 1] !== 'serviceendpoint' || s[at + 2] !== 'endpoints' || s.length > at + 4)
    return undefined;
  const projectName = at === 2 ? ctx.segments[1] : undefined;
  const id = ctx.segments[at + 3];
  if (!authorizedForOrg(ctx, org, false)) return unauthorized(ctx);
  const bad = checkApiVersion(ctx, apiVersion(ctx), SE_VERSIONS);
  if (bad) return bad;
  if (projectName !== undefined) {
    const project = ctx.state.project(org.name, projectName);
    if (!project)
      return vssError(
        404,
        `VS800075: The project with id 'vstfs:///Classification/TeamProject/${projectName}' does not exist, or you do not have permission to access it.`,
        'ProjectDoesNotExistWithNameException',
      );
    if (ctx.method !== 'GET')
      return vssError(
        405,
        `The requested resource does not support http method '${ctx.method}'.`,
        'HttpMethodNotAllowed',
      );
    return id === undefined ? byNames(ctx, org, project) : getOne(ctx, org, project, id);
  }
  if (ctx.method === 'PUT' && id !== undefined) return update(ctx, org, id);
  return vssError(405, `The requested resource does not support http method '${ctx.method}'.`, 'HttpMethodNotAllowed');
}

function me(ctx: Ctx): string {
  return ctx.caller.identityId ?? '';
}

function visible(ctx: Ctx, e: ServiceEndpointRecord, org: Org, p: Project): boolean {
  return (
    e.orgName === org.name &&
    e.projectRefs.some((r) => r.projectId === p.id) &&
    ctx.state.endpointRole(e, me(ctx)) !== undefined
  );
}

export function isReady(e: ServiceEndpointRecord): boolean {
  const need = REQUIRED[e.scheme.toLowerCase()];
  if (!need) return true;
  const v = Object.entries(e.parameters).find(([k]) => k.toLowerCase() === need)?.[1];
  return typeof v === 'string' && v !== '';
}

/** Wire shape: secrets null (`byId`) or left out (a list). */
export function endpointJson(ctx: Ctx, e: ServiceEndpointRecord, byId: boolean): Record<string, unknown> {
  const parameters: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(e.parameters)) {
    if (!isSecretParameter(k)) parameters[k] = v;
    else if (byId) parameters[k] = null;
  }
  const creator = ctx.state.identity(e.createdBy);
  return {
    data: structuredClone(e.data),
    id: e.id,
    name: e.name,
    type: e.type,
    url: e.url,
    createdBy: {
      displayName: creator?.displayName ?? e.createdBy,
      url: `${ctx.baseUrl}/_apis/Identities/${e.createdBy}`,
      _links: { avatar: { href: `${ctx.baseUrl}/_apis/GraphProfile/MemberAvatars/aad.${e.createdBy}` } },
      id: e.createdBy,
      uniqueName: creator?.uniqueName ?? e.createdBy,
      imageUrl: `${ctx.baseUrl}/_apis/GraphProfile/MemberAvatars/aad.${e.createdBy}`,
      descriptor: `aad.${Buffer.from(e.createdBy).toString('base64url')}`,
    },
    description: e.description,
    authorization: { parameters, scheme: e.scheme },
    isShared: e.projectRefs.length > 1,
    isReady: isReady(e),
    owner: e.owner,
    serviceEndpointProjectReferences: e.projectRefs.map((r) => ({
      projectReference: { id: r.projectId, name: r.projectName },
      name: r.name,
      description: r.description,
    })),
  };
}

function getOne(ctx: Ctx, org: Org, p: Project, id: string): Reply {
  const e = ctx.state.endpoint(id);
  // A missing (or hidden) id is answered 200 with no body, as the service does for a GET by id.
  if (!e || !visible(ctx, e, org, p)) return { status: 200, headers: { 'Content-Type': 'application/json' } };
  const filter = (ctx.query.actionFilter ?? 'none').toLowerCase();
  if (filter === 'manage' && ctx.state.endpointRole(e, me(ctx)) !== 'Administrator')
    return { status: 200, headers: { 'Content-Type': 'application/json' } };
  if (filter === 'use' && ctx.state.endpointRole(e, me(ctx)) === 'Reader')
    return { status: 200, headers: { 'Content-Type': 'application/json' } };
  return json(200, endpointJson(ctx, e, true));
}

function byNames(ctx: Ctx, org: Org, p: Project): Reply {
  if (ctx.query.endpointNames === undefined)
    return badRequest('Value cannot be null.\r\nParameter name: endpointNames', 'ArgumentNullException');
  const names = new Set(ctx.query.endpointNames.split(',').map((n) => n.trim().toLowerCase()));
  const rows = ctx.state.endpoints.filter((e) => visible(ctx, e, org, p) && names.has(e.name.toLowerCase()));
  return json(200, { count: rows.length, value: rows.map((e) => endpointJson(ctx, e, false)) });
}

interface RefIn {
  name?: unknown;
  description?: unknown;
  projectReference?: { id?: unknown; name?: unknown };
}

function update(ctx: Ctx, org: Org, id: string): Reply {
  const st = ctx.state;
  const e = st.endpoint(id);
  if (!e || e.orgName !== org.name)
    return notFound(`Service connection with id ${id} does not exist.`, 'ServiceEndpointNotFoundException');
  if (st.endpointRole(e, me(ctx)) !== 'Administrator') {
    return vssError(
      403,
      `Access denied. ${st.identity(me(ctx))?.displayName ?? me(ctx)} needs Administrator permissions for service connection ${e.name} to perform the action.`,
      'AccessDeniedException',
    );
  }
  const parsed = parseJsonBody(ctx);
  if (!parsed.ok) return parsed.reply;
  const b = parsed.value as Record<string, unknown> | undefined;
  if (!b || typeof b !== 'object')
    return badRequest('Value cannot be null.\r\nParameter name: endpoint', 'ArgumentNullException');
  if (typeof b.id === 'string' && b.id.toLowerCase() !== e.id.toLowerCase())
    return badRequest('The service connection id in the body does not match the id in the URL.');
  const name = typeof b.name === 'string' ? b.name : '';
  if (name.trim() === '') return badRequest('Service connection name is not valid.');
  if (typeof b.type !== 'string' || typeof b.url !== 'string')
    return badRequest('Service connection type and url are required.');
  const auth = b.authorization as { scheme?: unknown; parameters?: unknown } | undefined;
  if (!auth || typeof auth.scheme !== 'string') return badRequest('Service connection authorization is required.');
  const paramsIn = (auth.parameters ?? {}) as Record<string, unknown>;
  if (typeof paramsIn !== 'object' || Array.isArray(paramsIn))
    return badRequest('The authorization parameters are not valid.');
  const refsIn = b.serviceEndpointProjectReferences as RefIn[] | undefined;
  if (!Array.isArray(refsIn) || refsIn.length === 0)
    return badRequest('At least one service connection project reference is required.');
  const refs: EndpointProjectRef[] = [];
  for (const r of refsIn) {
    const key = r?.projectReference?.id ?? r?.projectReference?.name;
    const project = typeof key === 'string' ? st.project(org.name, key) : undefined;
    if (!project || typeof r.name !== 'string')
      return badRequest('Project information is not valid for the service connection.');
    refs.push({
      projectId: project.id,
      projectName: project.name,
      name: r.name,
      description: typeof r.description === 'string' ? r.description : '',
    });
  }
  // The whole object is replaced: what is not sent is gone (a secret sent null too: there is no "keep the old one").
  const parameters: Record<string, string | null> = {};
  for (const [k, v] of Object.entries(paramsIn)) parameters[k] = typeof v === 'string' ? v : null;
  Object.assign(e, {
    name,
    type: b.type,
    url: b.url,
    description: typeof b.description === 'string' ? b.description : '',
    owner: typeof b.owner === 'string' ? b.owner : 'Library',
    data: typeof b.data === 'object' && b.data !== null ? structuredClone(b.data) : {},
    scheme: auth.scheme,
    parameters,
    projectRefs: refs,
  });
  return json(200, endpointJson(ctx, e, true));
}
