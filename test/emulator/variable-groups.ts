/** Variable groups (distributedtask 7.1/7.2): project-scoped reads, org-scoped POST/PUT/DELETE. */
import type { Org, Project, StoredVariable, VariableGroupRecord } from './state';
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
import { dotnetDate } from './tokens';

const VG_VERSIONS = /^(5\.[0-2]|6\.[01]|7\.[0-2])(-preview(\.[12])?)?$/;

export function handleVariableGroups(ctx: Ctx, org: Org): Reply | undefined {
  const s = ctx.segments.map((x) => x.toLowerCase());
  const at = s.indexOf('_apis');
  if (at < 1 || at > 2 || s[at + 1] !== 'distributedtask' || s[at + 2] !== 'variablegroups' || s.length > at + 4)
    return undefined;
  const projectName = at === 2 ? ctx.segments[1] : undefined;
  const idText = s[at + 3];
  if (!authorizedForOrg(ctx, org, false)) return unauthorized(ctx);
  const bad = checkApiVersion(ctx, apiVersion(ctx), VG_VERSIONS);
  if (bad) return bad;
  const id = idText === undefined ? undefined : Number(idText);
  if (id !== undefined && !Number.isInteger(id)) return badRequest(`The value '${idText}' is not valid for groupId.`);
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
    return id === undefined ? list(ctx, org, project) : getOne(ctx, org, project, id);
  }
  if (ctx.method === 'POST' && id === undefined) return write(ctx, org, undefined);
  if (ctx.method === 'PUT' && id !== undefined) return write(ctx, org, id);
  if (ctx.method === 'DELETE' && id !== undefined) return remove(ctx, org, id);
  return vssError(405, `The requested resource does not support http method '${ctx.method}'.`, 'HttpMethodNotAllowed');
}

function identityRef(ctx: Ctx, id: string, full: boolean): Record<string, unknown> {
  if (!full) return { displayName: null, id };
  const i = ctx.state.identity(id);
  return {
    id,
    displayName: i?.displayName ?? id,
    uniqueName: i?.uniqueName ?? id,
    url: `${ctx.baseUrl}/_apis/Identities/${id}`,
    imageUrl: `${ctx.baseUrl}/_api/_common/identityImage?id=${id}`,
  };
}

function variableJson(v: StoredVariable): Record<string, unknown> {
  const out: Record<string, unknown> = v.isSecret ? { value: null, isSecret: true } : { value: v.value };
  if (v.isReadOnly) out.isReadOnly = true;
  return out;
}

/** Wire shape of a group (secrets masked). `full` = GET-style identity refs. */
export function groupJson(ctx: Ctx, g: VariableGroupRecord, full: boolean): Record<string, unknown> {
  const out: Record<string, unknown> = {
    variables: Object.fromEntries(Object.entries(g.variables).map(([k, v]) => [k, variableJson(v)])),
    id: g.id,
    type: g.type,
    name: g.name,
    description: g.description,
    createdBy: identityRef(ctx, g.createdBy, full),
    createdOn: dotnetDate(g.createdOn),
    modifiedBy: identityRef(ctx, g.modifiedBy, full),
    modifiedOn: dotnetDate(g.modifiedOn),
    isShared: g.projectRefs.length > 1,
    variableGroupProjectReferences: g.projectRefs.map((r) => ({
      projectReference: { id: r.projectId, name: r.projectName },
      name: r.name,
      description: r.description,
    })),
  };
  if (g.providerData) out.providerData = g.providerData;
  return out;
}

function inProject(g: VariableGroupRecord, org: Org, p: Project): boolean {
  return g.orgName === org.name && g.projectRefs.some((r) => r.projectId === p.id);
}

/** Unknown id → 404 VSS error (choice; the real service may answer 200 with an empty body — unverified). */
function notFoundGroup(id: number): Reply {
  return notFound(`Variable group with id ${id} does not exist.`, 'VariableGroupNotFoundException');
}

function getOne(ctx: Ctx, org: Org, p: Project, id: number): Reply {
  const g = ctx.state.group(id);
  return g && inProject(g, org, p) ? json(200, groupJson(ctx, g, true)) : notFoundGroup(id);
}

function list(ctx: Ctx, org: Org, p: Project): Reply {
  const q = ctx.query;
  let rows = ctx.state.groups.filter((g) => inProject(g, org, p));
  if (q.groupIds !== undefined) {
    const ids = new Set(q.groupIds.split(',').map((x) => Number(x.trim())));
    rows = rows.filter((g) => ids.has(g.id));
  } else if (q.groupName !== undefined) {
    const re = new RegExp(
      `^${q.groupName
        .split('*')
        .map((x) => x.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('.*')}$`,
      'i',
    );
    rows = rows.filter((g) => re.test(g.name));
  }
  const filter = (q.actionFilter ?? 'none').toLowerCase();
  if (filter === 'manage' || filter === '2')
    rows = rows.filter((g) => ctx.state.isGroupAdmin(g, ctx.caller.identityId ?? ''));
  const ascending = (q.queryOrder ?? 'idDescending').toLowerCase() === 'idascending' || q.queryOrder === '0';
  rows.sort((a, b) => (ascending ? a.id - b.id : b.id - a.id));
  if (q.$top !== undefined && Number(q.$top) > 0) rows = rows.slice(0, Number(q.$top));
  return json(200, { count: rows.length, value: rows.map((g) => groupJson(ctx, g, true)) });
}

interface RefIn {
  name?: unknown;
  description?: unknown;
  projectReference?: { id?: unknown; name?: unknown };
}

function write(ctx: Ctx, org: Org, id: number | undefined): Reply {
  const st = ctx.state;
  const existing = id === undefined ? undefined : st.group(id);
  if (id !== undefined && (!existing || existing.orgName !== org.name)) return notFoundGroup(id);
  const me = ctx.caller.identityId ?? '';
  if (existing && !st.isGroupAdmin(existing, me)) {
    return vssError(
      403,
      `Access denied. ${st.identity(me)?.displayName ?? me} needs Administrator permissions for variable group ${existing.name} to perform the action. For more information, contact the Azure DevOps Server administrator.`,
      'AccessDeniedException',
      'Microsoft.TeamFoundation.DistributedTask.WebApi.AccessDeniedException, Microsoft.TeamFoundation.DistributedTask.WebApi',
    );
  }
  const parsed = parseJsonBody(ctx);
  if (!parsed.ok) return parsed.reply;
  const b = parsed.value as Record<string, unknown> | undefined;
  if (!b || typeof b !== 'object')
    return badRequest('Value cannot be null.\r\nParameter name: variableGroupParameters', 'ArgumentNullException');
  const refsIn = b.variableGroupProjectReferences as RefIn[] | undefined;
  if (!Array.isArray(refsIn) || refsIn.length === 0)
    return badRequest('At least one variable group project reference is required.');
  const refs: VariableGroupRecord['projectRefs'] = [];
  for (const r of refsIn) {
    if (typeof r?.name !== 'string' || r.name.trim() === '')
      return badRequest('Project information name is not valid for variable group.');
    const key = r.projectReference?.id ?? r.projectReference?.name;
    const project = typeof key === 'string' ? st.project(org.name, key) : undefined;
    if (!project) return badRequest('Project information is not valid for variable group.');
    refs.push({
      projectId: project.id,
      projectName: project.name,
      name: r.name,
      description: typeof r.description === 'string' ? r.description : '',
    });
  }
  const name = typeof b.name === 'string' ? b.name : '';
  if (name.trim() === '') return badRequest('Variable group name is not valid.');
  const clash = st.groups.find(
    (g) =>
      g !== existing &&
      g.orgName === org.name &&
      g.name.toLowerCase() === name.toLowerCase() &&
      g.projectRefs.some((r) => refs.some((x) => x.projectId === r.projectId)),
  );
  if (clash)
    return badRequest(
      `Variable group '${name}' already exists.`,
      'VariableGroupExistsException',
      'Microsoft.TeamFoundation.DistributedTask.WebApi.VariableGroupExistsException, Microsoft.TeamFoundation.DistributedTask.WebApi',
    );
  const type =
    b.type === 'AzureKeyVault' || (b.type === undefined && existing?.type === 'AzureKeyVault')
      ? 'AzureKeyVault'
      : 'Vsts';
  const varsIn = (b.variables ?? {}) as Record<
    string,
    { value?: unknown; isSecret?: unknown; isReadOnly?: unknown } | null
  >;
  if (typeof varsIn !== 'object') return badRequest('The variables are not valid.');
  if (type === 'AzureKeyVault' && Object.values(varsIn).some((v) => v?.value !== undefined && v.value !== null)) {
    return badRequest(
      'Variable values cannot be set in a variable group linked to Azure Key Vault. Update the secret in the key vault instead.',
      'InvalidOperationException',
    );
  }
  const variables: Record<string, StoredVariable> = {};
  for (const [k, v] of Object.entries(varsIn)) {
    const isSecret = v?.isSecret === true || type === 'AzureKeyVault';
    const given =
      v?.value === undefined || v.value === null
        ? null
        : typeof v.value === 'string'
          ? v.value
          : JSON.stringify(v.value);
    const old = existing?.variables[k];
    // A secret sent without a value keeps the stored secret of the same name (CLI/terraform rely on this).
    const value = isSecret && given === null && old?.isSecret ? old.value : given;
    variables[k] = {
      value,
      ...(isSecret ? { isSecret: true } : {}),
      ...(v?.isReadOnly === true ? { isReadOnly: true } : {}),
    };
  }
  const now = new Date();
  const description = typeof b.description === 'string' ? b.description : '';
  const providerData = b.providerData as Record<string, unknown> | undefined;
  if (existing) {
    // modifiedOn never goes back (the dates are sent at 1/300 s, so two writes within ~3 ms can still share one).
    const modifiedOn = new Date(Math.max(now.getTime(), existing.modifiedOn.getTime()));
    Object.assign(existing, { name, description, type, variables, projectRefs: refs, modifiedBy: me, modifiedOn });
    if (providerData) existing.providerData = providerData;
    return json(200, groupJson(ctx, existing, false));
  }
  const g: VariableGroupRecord = {
    id: st.nextGroupId(),
    orgName: org.name,
    name,
    description,
    type,
    variables,
    projectRefs: refs,
    providerData,
    admins: [me],
    createdBy: me,
    createdOn: now,
    modifiedBy: me,
    modifiedOn: now,
  };
  st.groups.push(g);
  return json(200, groupJson(ctx, g, false));
}

/** `DELETE …/variablegroups/{id}?projectIds=a,b` removes the group from those projects (the group goes when none is left). */
function remove(ctx: Ctx, org: Org, id: number): Reply {
  const g = ctx.state.group(id);
  if (!g || g.orgName !== org.name) return notFoundGroup(id);
  if (!ctx.state.isGroupAdmin(g, ctx.caller.identityId ?? ''))
    return vssError(403, 'Access denied.', 'AccessDeniedException');
  const ids = (ctx.query.projectIds ?? '')
    .split(',')
    .filter(Boolean)
    .map((x) => ctx.state.project(org.name, x)?.id);
  if (ids.length === 0)
    return badRequest('Value cannot be null.\r\nParameter name: projectIds', 'ArgumentNullException');
  g.projectRefs = g.projectRefs.filter((r) => !ids.includes(r.projectId));
  if (g.projectRefs.length === 0) ctx.state.groups.splice(ctx.state.groups.indexOf(g), 1);
  return { status: 204 };
}
