/** Demo data set shared by the CLI, the demo script and tests. */
import type { Emulator } from './index';
import type { Org, PatRecord, Project, SecretVersionRecord, User, VariableGroupRecord } from './state';

/** Public client id the demo uses (Azure CLI's well-known id; any id is accepted). */
export const DEMO_CLIENT_ID = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';
const DAY = 24 * 3600 * 1000;

export interface DemoSeed {
  user: User;
  org: Org;
  project: Project;
  group: VariableGroupRecord;
  refreshToken: string;
  clientId: string;
  pats: { expiringSoon: PatRecord; fresh: PatRecord; expired: PatRecord };
}

/** Tenant user alice, org `contoso`, project `Platform`, three PATs, group `pat-store`, a refresh token. */
export function seedDemo(emulator: Pick<Emulator, 'state'>): DemoSeed {
  const st = emulator.state;
  const now = Date.now();
  const user = st.addUser({ upn: 'alice@contoso.example', displayName: 'Alice Example', password: 'alice-password' });
  const org = st.addOrg('contoso');
  // A Project Collection Administrator, so operation: audit runs against the demo emulator too.
  st.collectionAdmins.add(user.oid);
  const project = st.addProject(org, 'Platform');
  const expiringSoon = st.addPat(user.oid, org.name, {
    displayName: 'build-feed',
    scope: 'vso.packaging',
    validFrom: new Date(now - 87 * DAY),
    validTo: new Date(now + 3 * DAY),
  }).pat;
  const fresh = st.addPat(user.oid, org.name, {
    displayName: 'release-bot',
    scope: 'vso.code',
    validFrom: new Date(now - DAY),
    validTo: new Date(now + 60 * DAY),
  }).pat;
  const expired = st.addPat(user.oid, org.name, {
    displayName: 'old-deploy',
    scope: 'vso.build',
    validFrom: new Date(now - 100 * DAY),
    validTo: new Date(now - 10 * DAY),
  }).pat;
  const group = st.addGroup(org.name, project.name, {
    name: 'pat-store',
    description: 'Secrets rotated by PatRotate',
    admins: [user.identityId],
    variables: {
      'build-feed': { value: expiringSoon.token, isSecret: true },
      'db-password': { value: 'demo-db-password-1', isSecret: true },
      'api-key': { value: 'demo-api-key-2', isSecret: true },
      environment: { value: 'demo' },
    },
  });
  const refreshToken = st.issueRefreshToken(user.oid, DEMO_CLIENT_ID);
  return { user, org, project, group, refreshToken, clientId: DEMO_CLIENT_ID, pats: { expiringSoon, fresh, expired } };
}

export const DEMO_VAULT = 'contoso-kv';
export const DEMO_RT_SECRET = 'PatRotate-RefreshToken';

export interface DemoVault {
  url: string;
  connectionId: string;
  /** What the agent gives the task for the connection (ENDPOINT_*, the job token, System.OidcRequestUri). */
  env: Record<string, string>;
  versions(name: string): SecretVersionRecord[];
  names(): string[];
}

/**
 * A vault, an Azure Resource Manager service connection with workload identity federation (an app whose federated
 * credential trusts this project's OIDC tokens for that connection) with the Key Vault Secrets Officer role, and the
 * refresh token moved into the vault.
 */
export async function seedDemoVault(emu: Emulator, seed: DemoSeed, refreshToken: string): Promise<DemoVault> {
  const st = emu.state;
  const vault = await emu.addVault(DEMO_VAULT);
  const connection = st.addEndpoint(seed.org.name, seed.project.name, {
    name: 'kv-connection',
    type: 'azurerm',
    url: 'https://management.azure.com/',
    scheme: 'WorkloadIdentityFederation',
    parameters: {},
  });
  const app = st.addApp({
    displayName: 'patrotate-kv-writer',
    federated: [
      {
        issuer: st.oidcIssuer(seed.org.name),
        subject: st.federatedSubject(seed.org.name, seed.project.name, 'kv-connection'),
      },
    ],
  });
  st.grantVault(DEMO_VAULT, app.objectId, 'officer');
  st.setVaultSecret(DEMO_VAULT, DEMO_RT_SECRET, refreshToken);
  const id = connection.id;
  return {
    url: vault.url,
    connectionId: id,
    env: {
      [`ENDPOINT_AUTH_SCHEME_${id}`]: 'WorkloadIdentityFederation',
      [`ENDPOINT_AUTH_PARAMETER_${id}_SERVICEPRINCIPALID`]: app.clientId,
      [`ENDPOINT_AUTH_PARAMETER_${id}_TENANTID`]: st.tenantId,
      [`ENDPOINT_DATA_${id}_ENVIRONMENTAUTHORITYURL`]: `${emu.url}/`,
      ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN: st.issueJobToken(),
      SYSTEM_OIDCREQUESTURI: emu.oidcRequestUri(seed.org.name, seed.project.name),
    },
    versions: (name) => st.vault(DEMO_VAULT)?.secrets[name.toLowerCase()]?.versions ?? [],
    names: () => Object.values(st.vault(DEMO_VAULT)?.secrets ?? {}).map((x) => x.name),
  };
}
