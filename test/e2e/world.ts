// A seeded emulator world for end-to-end tests: one user, org 'contoso', project 'Platform', a variable group the
// user administers, and helpers to run the built task against it with sensible default inputs.
import assert from 'node:assert/strict';
import { start, type Emulator, type PatRecord, type User, type VariableGroupRecord } from '../emulator';
import { assertNoSecretLeaks } from '../helpers/leaks';
import { run as runApp } from '../../tasks/PatRotate/src/app/run';
import { FakeAgent } from '../helpers/fakeAgent';
import { envName, parseRun, runTask, type RunOptions, type TaskRun } from '../helpers/runTask';

export const CLIENT_ID = '04b07795-8ddb-461a-bbee-02f9e1bf7b46';
export const DAY = 86_400_000;

export interface World {
  emu: Emulator;
  user: User;
  group: VariableGroupRecord;
  orgUrl: string;
  /** Secrets the test itself supplied (passwords, client secrets), for the leak scan. */
  supplied: string[];
  addPat(
    displayName: string,
    daysLeft: number,
    extra?: { scope?: string; allOrgs?: boolean; revoked?: boolean },
  ): PatRecord;
  /** Inputs for a refresh-token sign-in against the emulator (a fresh refresh token each call). */
  signIn(): Record<string, string>;
  /**
   * Runs the task's application code in this process over a FakeAgent, with debug output on (System.Debug, as a user
   * chasing a problem would), and scans every run for leaked secrets.
   */
  run(
    inputs: RunOptions['inputs'],
    env?: Record<string, string>,
    options?: Pick<RunOptions, 'onStart'>,
  ): Promise<TaskRun>;
  /** The same, through the built bundle in a child process, exactly as the agent runs it. */
  spawn(
    inputs: RunOptions['inputs'],
    env?: Record<string, string>,
    options?: Pick<RunOptions, 'onStart'>,
  ): Promise<TaskRun>;
  close(): Promise<void>;
}

export async function world(options: { latencyMs?: number } = {}): Promise<World> {
  const emu = await start({ latencyMs: options.latencyMs });
  const withOrganization = (inputs: RunOptions['inputs']) => ({ organization: `${emu.url}/contoso`, ...inputs });
  const agentEnv = (env: Record<string, string>) => ({
    SYSTEM_TEAMPROJECT: 'Platform',
    SYSTEM_COLLECTIONURI: `${emu.url}/contoso/`,
    SYSTEM_DEBUG: 'true',
    ...env,
  });
  /** What the agent would put in the task's environment. */
  const environment = (inputs: RunOptions['inputs'], env: Record<string, string>): Record<string, string> => {
    const out: Record<string, string> = agentEnv(env);
    for (const [k, v] of Object.entries(withOrganization(inputs)))
      if (v !== undefined) out[envName('INPUT_', k)] = String(v);
    return out;
  };
  const leakCandidates = (env: Record<string, string>) => [
    ...emu.issuedSecrets(),
    ...w.supplied,
    ...Object.entries(env)
      .filter(([k]) => /TOKEN|PASSWORD|SECRET/.test(k) && !k.startsWith('SECRET_AGENT_'))
      .map(([, v]) => v),
  ];
  const s = emu.state;
  const user = s.addUser({ upn: 'alice@contoso.example', password: 'P@ssw0rd-alice-1234' });
  s.addOrg('contoso');
  s.addProject('contoso', 'Platform');
  const group = s.addGroup('contoso', 'Platform', {
    name: 'pat-store',
    admins: [user.oid],
    variables: {
      'Other.Secret': { value: 'other-secret-value-1', isSecret: true },
      'Plain.Setting': { value: 'plain' },
    },
  });
  const w: World = {
    emu,
    user,
    group,
    orgUrl: `${emu.url}/contoso`,
    supplied: ['P@ssw0rd-alice-1234', 'other-secret-value-1'],
    addPat: (displayName, daysLeft, extra = {}) =>
      s.addPat(user.oid, 'contoso', {
        displayName,
        scope: extra.scope ?? 'vso.code vso.build',
        validFrom: new Date(Date.now() - 20 * DAY),
        validTo: new Date(Date.now() + daysLeft * DAY),
        allOrgs: extra.allOrgs,
        revoked: extra.revoked,
      }).pat,
    signIn: () => ({
      authMethod: 'refreshToken',
      refreshToken: s.issueRefreshToken(user.oid, CLIENT_ID),
      authorityHost: emu.url,
      tenantId: s.tenantId,
    }),
    run: async (inputs, env = {}, options = {}) => {
      const agent = new FakeAgent(environment(inputs, env), emu.caFile);
      options.onStart?.({ signal: (name) => agent.signal(name) });
      await runApp(agent);
      const run = { ...parseRun(agent.exitCode ?? 0, agent.stdout, ''), summaryTexts: agent.summaryTexts };
      assertNoSecretLeaks(run, leakCandidates(env));
      return run;
    },
    spawn: async (inputs, env = {}, options = {}) => {
      const run = await runTask({
        inputs: withOrganization(inputs),
        env: agentEnv(env),
        caFile: emu.caFile,
        ...options,
      });
      assertNoSecretLeaks(run, leakCandidates(env));
      return run;
    },
    close: () => emu.close(),
  };
  return w;
}

/** Gives every test of the enclosing suite a fresh world (handed to `use`), closed after the test. */
export function worldPerTest(use: (w: World) => void, options: { latencyMs?: number } = {}): void {
  let current: World | undefined;
  beforeEach(async () => {
    current = await world(options);
    use(current);
  });
  afterEach(async () => {
    await current?.close();
    current = undefined;
  });
}

/** Live = not revoked and not expired. */
export function live(w: World, displayName?: string): PatRecord[] {
  return w.emu.state
    .pats(w.user.oid)
    .filter(
      (p) =>
        !p.revoked && p.validTo.getTime() > Date.now() && (displayName === undefined || p.displayName === displayName),
    );
}

export function assertResult(run: TaskRun, expected: TaskRun['result']): void {
  assert.equal(
    run.result,
    expected,
    `result ${run.result}, message: ${run.message}\n${run.stdout.slice(-3000)}\n${run.stderr.slice(-2000)}`,
  );
}

/** Paths the task requested from the PAT API, in order. */
export function patApiCalls(w: World): string[] {
  return w.emu.log.filter((e) => /\/_apis\/tokens\/pats$/i.test(e.path)).map((e) => e.method);
}
