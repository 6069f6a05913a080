// One run of the task, over an Agent. The data flows one way: inputs → sign-in → save the rolled refresh token →
// open the store → read PATs → plan → execute → report. A cancel or an error nothing caught stops the run through
// the ledger (see rotation/ledger.ts), which undoes what is safe to undo and names the rest.
import { verifyPat } from '../ado/connection';
import { AdoHttp } from '../ado/http';
import { PatClient } from '../ado/pats';
import type { Credential } from '../ado/types';
import type { SignedIn } from '../auth/types';
import { ServiceEndpointClient } from '../ado/serviceEndpoints';
import { VariableGroupClient } from '../ado/variableGroups';
import { signIn } from '../auth/signIn';
import { ConfigError, parseConfig } from '../config';
import { execute } from '../rotation/execute';
import { Ledger } from '../rotation/ledger';
import { globalPatsEnd, plan, wantsExpired, type ListedPat } from '../rotation/plan';
import type { Agent, StopReason } from './agent';
import type { RunContext } from './context';
import { logOf, type Log } from './log';
import { audit } from './audit';
import { openStore, preflightNames } from './openStore';
import { readRefreshToken, saveRefreshToken, savingTo, stoppedSigningIn } from './refreshToken';
import { describe, finishRun, report } from './report';
import { errorMessage } from '../errorMessage';

/** How long a stopping run may spend revoking what it made: the agent kills the task some seconds after SIGINT. */
export const STOP_DEADLINE_MS = 5_000;

/** What a stop needs: the ledger (from the start, so a stop makes every later step refuse to begin) and the API. */
interface RunState {
  ledger: Ledger;
  /** Set while PATs may change (from the listing until execute is done): the API the undo revokes through. */
  pats?: PatClient;
  knownIds: ReadonlySet<string>;
  /** The group the rolled refresh token is being saved to, while that save is under way. */
  savingRefreshToken?: string;
  /** The sign-in under way: Entra may be redeeming the refresh token (and rolling it) right now. */
  signingIn?: Promise<SignedIn>;
}

/** Runs the task to its result; resolves once the result is set, after a stop too. */
export function run(agent: Agent): Promise<void> {
  const log = logOf(agent);
  return new Promise((resolve) => {
    const state: RunState = { ledger: new Ledger(log.info), knownIds: new Set() };
    let stopped: Promise<void> | undefined;
    let finished = false;
    // No further change begins, every new PAT no store write has touched is revoked, and what is left live is named.
    const stop = (reason: string): Promise<void> | undefined =>
      finished
        ? undefined
        : (stopped ??= (async () => {
            const lines = await state.ledger.stop(state.pats, STOP_DEADLINE_MS, state.knownIds);
            if (state.signingIn) lines.push(await stoppedSigningIn(agent, state.signingIn, STOP_DEADLINE_MS));
            if (state.savingRefreshToken)
              lines.push(
                `The new refresh token may not be saved in ${state.savingRefreshToken}: it is in this step's secret output refreshToken; if the next run reports a used refresh token, run the deviceCode bootstrap again.`,
              );
            log.errorLine(reason);
            lines.forEach((l) => log.errorLine(l));
            log.complete('failed', [reason, ...lines].join(' '));
            finished = true;
            agent.exit(1);
            resolve();
          })());
    agent.onStop(
      (r: StopReason) =>
        void stop(
          'signal' in r
            ? `The run was stopped (${r.signal}).`
            : `The run stopped on an unexpected error: ${errorMessage(r.error)}`,
        ),
    );

    steps(agent, log, state).then(
      () => {
        if (stopped) return;
        finished = true;
        resolve();
      },
      (e: unknown) => {
        if (stopped) return;
        // Only a run that may have changed something needs the undo; a bad input or a failed sign-in fails as it is.
        if (state.pats) {
          void stop(errorMessage(e));
          return;
        }
        log.complete('failed', errorMessage(e));
        finished = true;
        resolve();
      },
    );
  });
}

async function steps(agent: Agent, log: Log, state: RunState): Promise<void> {
  const { ledger } = state;
  const runStartedAt = new Date();
  const cfg = parseConfig(agent);
  const ctx: RunContext = { agent, log, cfg };
  if (cfg.allOrgs)
    log.warn(
      `allOrgs: global PATs (valid in all your organizations) ${globalPatsEnd(runStartedAt)}: prefer organization-scoped PATs.`,
    );

  const network = agent.network();
  if (network.ignoreSslError)
    log.warn(
      'Agent.SkipCertValidation is true: server certificates are not checked, so a machine in the middle could read the tokens this task sends. Turn it off unless you must.',
    );
  const secrets = new Set<string>();
  const setSecret = (value: string): void => {
    if (value) secrets.add(value);
    agent.setSecret(value);
  };
  const http = new AdoHttp(network, {
    secrets,
    onRetry: (r) =>
      log.info(
        `Retrying ${r.method} ${r.url} after ${r.reason} in ${Math.round(r.delayMs / 1000)} s (attempt ${r.attempt}).`,
      ),
  });

  // The vault's identity is the Azure Resource Manager connection's; its problems are bad input, found before sign-in.
  // Loaded only when used: the Key Vault client is a third of the bundle, and most runs never need it.
  const vault = cfg.keyVault ? (await import('./openKeyVault')).openVault(ctx, http, network, setSecret) : undefined;
  let auth = cfg.auth;
  let redeemedVersion: string | undefined;
  const rtSecret = cfg.keyVault?.refreshTokenSecret;
  if (vault && rtSecret) {
    // The rolled refresh token must be saved there: a run that could not would redeem the one it has for nothing.
    await vault.preflight(rtSecret);
    auth = { ...auth, refreshTokenHome: `secret '${rtSecret}' in ${vault.url}` };
    if (auth.method === 'refreshToken' && !auth.refreshToken) {
      const read = await readRefreshToken(ctx, vault);
      auth = { ...auth, refreshToken: read.value };
      redeemedVersion = read.version;
    }
  }
  ledger.check();

  log.section('Sign in to Microsoft Entra');
  state.signingIn = signIn(auth, {
    network,
    setSecret,
    warn: log.warn,
    info: log.info,
    debug: log.debug,
    now: () => new Date(),
  });
  const signedIn = await state.signingIn;
  state.signingIn = undefined;
  const who = signedIn.user.upn ?? signedIn.user.oid ?? '?';
  ledger.check(); // each step begins only if the run was not stopped meanwhile
  log.info(`Signed in as ${who} (method ${cfg.auth.method}).`);
  const user: Credential = { kind: 'bearer', token: signedIn.accessToken };
  [signedIn.accessToken, signedIn.rolledRefreshToken].forEach((t) => t && setSecret(t));
  const groupCredential = cfg.storeAuth === 'jobToken' ? jobCredential(agent, cfg.storeAuthInput, setSecret) : user;
  const groupIdentity =
    cfg.storeAuth === 'jobToken' ? `the job's build service identity (${cfg.storeAuthInput}: jobToken)` : who;
  const groups = new VariableGroupClient(http, cfg.organization.collectionUrl, groupCredential);

  // The rolled refresh token replaces the one just used: save it before anything else can fail.
  state.savingRefreshToken = savingTo(ctx, vault?.url);
  const refresh = await saveRefreshToken(ctx, signedIn, groups, vault, redeemedVersion);
  state.savingRefreshToken = undefined;
  ledger.check();
  if (cfg.operation === 'audit') {
    await audit(ctx, { http, credential: user, who, check: () => ledger.check() });
    return;
  }

  // Every check that can fail on bad input happens before the first change.
  const endpoints =
    cfg.target.kind === 'serviceConnection'
      ? new ServiceEndpointClient(http, cfg.target.ref.collectionUrl, groupCredential)
      : undefined;
  const opened = await openStore(ctx, groups, groupIdentity, refresh, endpoints, vault);
  ledger.check();
  log.section(`Read PATs in ${cfg.organization.organization}`);
  const pats = new PatClient(http, cfg.organization.patApiUrl, user);
  const listed = await readPats(ctx, pats);
  ledger.check();

  const now = new Date();
  const { actions, warnings } = plan({ ...cfg, protectedVariables: opened?.protectedVariables }, listed, now);
  warnings.forEach((w) => log.warn(w));
  if (actions.length === 0) log.warn('No PAT matches the selection: nothing to do.');
  // Every place a new PAT will be written can be written, before the first PAT is created (a dry run checks too).
  const names = preflightNames(cfg, actions);
  if (opened?.store.preflight && names.length > 0) await opened.store.preflight(names);
  ledger.check();

  if (cfg.dryRun) {
    log.section('Dry run: the actions this run would take');
    actions.filter((a) => a.kind !== 'list').forEach((a) => log.info(`Would ${describe(a, now)}`));
    report(
      ctx,
      actions.map((action) => ({ action, result: 'skipped', notes: [] })),
      true,
    );
    log.complete('succeeded', `Dry run: ${actions.length} action(s) planned, nothing changed.`);
    return;
  }

  log.section(
    `${capital(cfg.operation)}: ${actions.filter((a) => a.kind !== 'skip').length} PAT(s), ${cfg.concurrency} at a time`,
  );
  const knownIds = new Set(listed.map((p) => p.authorizationId));
  Object.assign(state, { pats, knownIds });
  const outcomes = await execute(actions, {
    pats,
    verify: cfg.verifyNewToken
      ? async (token) => void (await verifyPat(http, cfg.organization.collectionUrl, token))
      : undefined,
    store: opened?.store,
    ledger,
    setSecret,
    now: () => new Date(),
    runStartedAt,
    knownIds,
    graceHours: cfg.graceHours,
    concurrency: cfg.concurrency,
  });
  ledger.check(); // a run that was stopped meanwhile reports through the stop, not here
  state.pats = undefined; // every change is done and reported in the outcomes: nothing is left to undo
  report(ctx, outcomes, false);
  finishRun(ctx, outcomes);
}

/** Active PATs, and expired ones when the plan needs them (a PAT listed as both counts once, as expired). */
async function readPats({ log, cfg }: RunContext, pats: PatClient): Promise<ListedPat[]> {
  const active = await pats.listAll('active');
  if (!wantsExpired(cfg, active)) {
    log.info(`${active.length} active PAT(s).`);
    return active.map((p) => ({ ...p, status: 'active' }));
  }
  const expired = await pats.listAll('expired');
  const expiredIds = new Set(expired.map((p) => p.authorizationId));
  const stillActive = active.filter((p) => !expiredIds.has(p.authorizationId));
  log.info(`${stillActive.length} active PAT(s), ${expired.length} expired.`);
  return [
    ...stillActive.map((p) => ({ ...p, status: 'active' as const })),
    ...expired.map((p) => ({ ...p, status: 'expired' as const })),
  ];
}

function jobCredential(agent: Agent, input: string, setSecret: (value: string) => void): Credential {
  const token = agent.jobAccessToken();
  if (!token)
    throw new ConfigError(
      input,
      'jobToken needs the job access token: the pipeline must allow scripts to access the OAuth token (System.AccessToken).',
    );
  setSecret(token);
  return { kind: 'bearer', token };
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}
