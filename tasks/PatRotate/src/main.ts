// Entry point. The data flows one way: inputs → sign-in → save the rolled refresh token → read PATs → plan →
// execute → report. This file only wires the steps; the only tl.setResult calls are in agent.ts via finish/fail.
import { agentInputs, agentNetwork, exitNow, fail, finish, initStrings, jobAccessToken, loc, log, onStop, secrets, uploadSummary } from './agent';
import { AdoError } from './ado/errors';
import { AdoHttp } from './ado/http';
import { verifyPat } from './ado/connection';
import { PatClient } from './ado/pats';
import type { Credential } from './ado/types';
import { VariableGroupClient, type VariableGroup } from './ado/variableGroups';
import { signIn } from './auth/signIn';
import type { SignedIn } from './auth/types';
import { ConfigError, parseConfig, type Config } from './config';
import { execute, worst, type Outcome } from './rotation/execute';
import { describeExpiry, globalPatsEnd, plan, wantsExpired, type Action, type ListedPat } from './rotation/plan';
import { Ledger } from './rotation/ledger';
import { PipelineVariableStore, storeConfirmed, VariableGroupStore, type Store, type StoreResult } from './rotation/stores';
import { actionWord, outputValues, subjectOf, summaryMarkdown } from './report/summary';

/** What a cancel or crash needs to undo this run's changes; set once the PAT API is in reach. */
let undo: { ledger: Ledger; pats: PatClient; knownIds: ReadonlySet<string> } | undefined;
/** How long a cancelled run may spend revoking what it made: the agent kills the task some seconds after SIGINT. */
const STOP_DEADLINE_MS = 5_000;

async function run(): Promise<void> {
  const runStartedAt = new Date();
  initStrings();
  const cfg = parseConfig(agentInputs);
  if (cfg.allOrgs) log.warn(loc('AllOrgsRetiring', globalPatsEnd(runStartedAt)));

  const network = agentNetwork();
  if (network.ignoreSslError) log.warn(loc('CertChecksOff'));
  const http = new AdoHttp(network, {
    onRetry: (r) => log.info(loc('Retrying', r.method, r.url, r.reason, Math.round(r.delayMs / 1000), r.attempt)),
  });

  log.section(loc('SectionSignIn'));
  const signedIn = await signIn(cfg.auth, { network, setSecret: secrets.setSecret, warn: log.warn, info: log.info, debug: log.debug, now: () => new Date() });
  log.info(loc('SignedInAs', signedIn.user.upn ?? signedIn.user.oid ?? '?', cfg.auth.method));
  const user: Credential = { kind: 'bearer', token: signedIn.accessToken };
  const groupCredential = cfg.groupAuth === 'jobToken' ? jobCredential() : user;
  const groupIdentity = cfg.groupAuth === 'jobToken' ? loc('JobIdentity') : (signedIn.user.upn ?? signedIn.user.oid ?? '?');
  const groups = new VariableGroupClient(http, cfg.organization.collectionUrl, groupCredential);

  // The rolled refresh token replaces the one just used: save it before anything else can fail.
  const refreshGroupId = await saveRefreshToken(cfg, signedIn, groups);

  // Every check that can fail on bad input happens before the first change.
  const opened = await openStore(cfg, groups, groupIdentity, refreshGroupId);
  log.section(loc('SectionReadPats', cfg.organization.organization));
  const pats = new PatClient(http, cfg.organization.patApiUrl, user);
  const active = await pats.listAll('active');
  const listed: ListedPat[] = active.map((p) => ({ ...p, status: 'active' }));
  if (wantsExpired(cfg, active)) {
    // A PAT that expires between the two listings would be in both: it counts once, as expired.
    const expired = await pats.listAll('expired');
    const expiredIds = new Set(expired.map((p) => p.authorizationId));
    listed.splice(0, listed.length, ...listed.filter((p) => !expiredIds.has(p.authorizationId)), ...expired.map((p) => ({ ...p, status: 'expired' as const })));
    log.info(loc('PatsFound', listed.length - expired.length, expired.length));
  } else {
    log.info(loc('ActivePatsFound', active.length));
  }

  const now = new Date();
  const { actions, warnings } = plan({ ...cfg, protectedVariable: opened?.refreshTokenVariableHere }, listed, now);
  warnings.forEach((w) => log.warn(w));
  if (actions.length === 0) log.warn(loc('NothingSelected'));

  if (cfg.dryRun) {
    log.section(loc('SectionDryRun'));
    actions.filter((a) => a.kind !== 'list').forEach((a) => log.info(`Would ${describe(a, now)}`));
    report(cfg, actions.map((action) => ({ action, result: 'skipped', notes: [] })), true);
    finish('succeeded', loc('DryRunDone', actions.length));
    return;
  }

  log.section(loc('SectionExecute', capital(cfg.operation), actions.filter((a) => a.kind !== 'skip').length, cfg.concurrency));
  const knownIds = new Set(listed.map((p) => p.authorizationId));
  const ledger = new Ledger(log.info);
  undo = { ledger, pats, knownIds };
  const outcomes = await execute(actions, {
    pats,
    verify: cfg.verifyNewToken ? async (token) => void (await verifyPat(http, cfg.organization.collectionUrl, token)) : undefined,
    store: opened?.store,
    ledger,
    setSecret: secrets.setSecret,
    now: () => new Date(),
    runStartedAt,
    knownIds,
    graceHours: cfg.graceHours,
    concurrency: cfg.concurrency,
  });
  report(cfg, outcomes, false);
  const result = worst(outcomes);
  const failed = outcomes.filter((o) => o.result === 'failed');
  // One line on the run summary: every failure of a single-PAT run, the first three of a bulk run (all are in the log).
  const reasons = failed.slice(0, 3).map((o) => `${subjectOf(o.action).name}: ${o.notes.filter((n) => n.level === 'error').map((n) => n.text).join(' ')}`);
  if (failed.length > 3) reasons.push(loc('MoreFailures', failed.length - 3));
  const message = failed.length > 0 ? reasons.join(' | ') : loc('Done', outcomes.length, tally(outcomes));
  finish(result === 'skipped' ? 'succeeded' : result, message);
}

function jobCredential(): Credential {
  const token = jobAccessToken();
  if (!token) {
    throw new ConfigError('groupAuth', loc('JobTokenMissing'));
  }
  secrets.setSecret(token);
  return { kind: 'bearer', token };
}

/** Saves the rolled refresh token; returns the id of the group it went to. */
async function saveRefreshToken(cfg: Config, signedIn: SignedIn, groups: VariableGroupClient): Promise<number | undefined> {
  const rt = signedIn.rolledRefreshToken;
  if (!rt) return undefined;
  secrets.setSecret(rt);
  secrets.setVariable('refreshToken', rt, true, true);
  if (!cfg.refreshTokenStore) {
    if (cfg.auth.method !== 'accessToken') {
      log.warn(loc('RefreshTokenNotSaved'));
    }
    return undefined;
  }
  const { variableName, ref } = cfg.refreshTokenStore;
  let group: VariableGroup;
  let result: StoreResult | undefined;
  try {
    group = await groups.find(ref.project, ref.group);
    // Read back like a PAT: another run's write of the group may drop it.
    result = (await storeConfirmed(new VariableGroupStore(groups, group), { [variableName]: rt })).get(variableName);
  } catch (e) {
    throw new Error(loc('RefreshTokenSaveFailed', variableName, ref.group, e instanceof Error ? e.message : String(e)), { cause: e });
  }
  if (result?.kind !== 'stored') throw new Error(loc('RefreshTokenSaveFailed', variableName, ref.group, result?.why ?? '?'));
  log.info(loc('RefreshTokenSaved', group.name, variableName));
  return group.id;
}

interface OpenedStore {
  store: Store;
  /** The refresh token's variable when it is saved in this very group: no PAT may be stored under its name. */
  refreshTokenVariableHere?: string;
}

async function openStore(cfg: Config, groups: VariableGroupClient, identity: string, refreshGroupId: number | undefined): Promise<OpenedStore | undefined> {
  const target = cfg.target;
  if (target.kind === 'none' || cfg.operation === 'list' || cfg.operation === 'renew' || cfg.operation === 'revoke') return undefined;
  if (target.kind === 'variable') return { store: new PipelineVariableStore(secrets) };
  const group = await groups.find(target.ref.project, target.ref.group).catch((e: unknown) => {
    throw e instanceof AdoError && e.kind === 'notFound' ? new ConfigError('variableGroup', e.message) : e;
  });
  if (group.type.toLowerCase() === 'azurekeyvault') {
    throw new ConfigError('variableGroup', loc('GroupIsKeyVault', group.name));
  }
  if (!(await groups.canManage(group))) {
    throw new ConfigError('variableGroup', loc('GroupNotWritable', identity, group.name, group.name, cfg.groupAuth === 'entra' ? 'jobToken' : 'entra'));
  }
  const here = refreshGroupId === group.id ? cfg.refreshTokenStore?.variableName : undefined;
  return { store: new VariableGroupStore(groups, group, identity), refreshTokenVariableHere: here };
}

function report(cfg: Config, outcomes: Outcome[], dryRun: boolean): void {
  const now = new Date();
  for (const o of outcomes) {
    const s = subjectOf(o.action);
    if (o.action.kind === 'list') {
      const p = o.action.pat;
      log.info(loc('ListLine', p.displayName, p.authorizationId, describeExpiry(p, now), p.scope, loc(p.targetAccounts === null ? 'ScopeGlobal' : 'ScopeOrg')));
      continue;
    }
    if (dryRun) continue;
    log.group(`${actionWord(o)}: ${s.name}${s.id ? ` (${s.id})` : ''}`);
    for (const n of o.notes) (n.level === 'warning' ? log.warn : n.level === 'error' ? log.errorLine : log.info)(n.text);
    log.endGroup();
  }
  const out = outputValues(outcomes);
  if (out.token) secrets.setVariable('token', out.token, true, true);
  if (out.authorizationId) secrets.setVariable('authorizationId', out.authorizationId, false, true);
  if (out.validTo) secrets.setVariable('validTo', out.validTo, false, true);
  if (out.action) secrets.setVariable('action', out.action, false, true);
  secrets.setVariable('count', out.count, false, true);
  uploadSummary(summaryMarkdown(loc('SummaryTitle', cfg.operation, cfg.organization.organization), outcomes, dryRun));
}

function describe(a: Action, now: Date): string {
  switch (a.kind) {
    case 'create': return `create '${a.displayName}' (scopes ${a.scope}) valid to ${a.validTo.toISOString()}${a.variableName ? `, stored as '${a.variableName}'` : ''}.`;
    case 'rotate': return `rotate '${a.old.displayName}' (${a.old.authorizationId}, ${describeExpiry(a.old, now)}): new PAT valid to ${a.validTo.toISOString()}${a.variableName ? `, stored as '${a.variableName}'` : ''}, old one: ${a.retire}.`;
    case 'renew': return `renew '${a.pat.displayName}' (${a.pat.authorizationId}) to ${a.validTo.toISOString()}.`;
    case 'revoke': return `revoke '${a.pat.displayName}' (${a.pat.authorizationId}).`;
    case 'list': return `list '${a.pat.displayName}'.`;
    case 'skip': return `skip '${a.pat.displayName}' (${a.pat.authorizationId}): ${a.reason}.`;
  }
}

function tally(outcomes: Outcome[]): string {
  const counts = new Map<string, number>();
  outcomes.forEach((o) => counts.set(actionWord(o), (counts.get(actionWord(o)) ?? 0) + 1));
  return [...counts].map(([k, n]) => `${n} ${k}`).join(', ');
}

function capital(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

/**
 * A cancel (the agent sends SIGINT, then SIGTERM, then kills), or an error nothing else caught: no new change begins,
 * every new PAT no store write has touched is revoked, and what is left live is named. Then the task fails.
 */
async function stop(reason: string): Promise<void> {
  const lines = undo ? await undo.ledger.stop(undo.pats, STOP_DEADLINE_MS, undo.knownIds) : [];
  log.errorLine(reason);
  lines.forEach((l) => log.errorLine(l));
  fail([reason, ...lines].join(' '));
  exitNow(1);
}

let stopping = false;
function stopOnce(reason: string): void {
  if (stopping) return;
  stopping = true;
  void stop(reason);
}

onStop(({ signal, error }) => stopOnce(signal ? loc('Cancelled', signal) : loc('Crashed', message(error))));

run().catch((e: unknown) => {
  // Only a run that may have changed something needs the undo; a bad input or a failed sign-in fails as it is.
  if (undo) stopOnce(message(e));
  else if (!stopping) fail(message(e));
});

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
