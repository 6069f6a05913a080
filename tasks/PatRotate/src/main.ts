// Entry point. The data flows one way: inputs → sign-in → save the rolled refresh token → read PATs → plan →
// execute → report. This file only wires the steps; the only tl.setResult calls are in agent.ts via finish/fail.
import { agentInputs, agentNetwork, fail, finish, initStrings, jobAccessToken, loc, log, secrets, uploadSummary } from './agent';
import { AdoError } from './ado/errors';
import { AdoHttp } from './ado/http';
import { verifyPat } from './ado/connection';
import { PatClient } from './ado/pats';
import type { Credential } from './ado/types';
import { VariableGroupClient } from './ado/variableGroups';
import { signIn } from './auth/signIn';
import type { SignedIn } from './auth/types';
import { ConfigError, parseConfig, type Config } from './config';
import { execute, worst, type Outcome } from './rotation/execute';
import { describeExpiry, plan, wantsExpired, type Action, type ListedPat } from './rotation/plan';
import { PipelineVariableStore, VariableGroupStore, type Store } from './rotation/stores';
import { actionWord, outputValues, subjectOf, summaryMarkdown } from './report/summary';

async function run(): Promise<void> {
  const runStartedAt = new Date();
  initStrings();
  const cfg = parseConfig(agentInputs);
  if (cfg.allOrgs) log.warn(loc('AllOrgsRetiring'));

  const network = agentNetwork();
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
  await saveRefreshToken(cfg, signedIn, groups);

  // Every check that can fail on bad input happens before the first change.
  const store = await openStore(cfg, groups, groupIdentity);
  log.section(loc('SectionReadPats', cfg.organization.organization));
  const pats = new PatClient(http, cfg.organization.patApiUrl, user);
  const active = await pats.listAll('active');
  const listed: ListedPat[] = active.map((p) => ({ ...p, status: 'active' }));
  if (wantsExpired(cfg, active)) listed.push(...(await pats.listAll('expired')).map((p) => ({ ...p, status: 'expired' as const })));
  log.info(loc('PatsFound', active.length, listed.length - active.length));

  const now = new Date();
  const { actions, warnings } = plan(cfg, listed, now);
  warnings.forEach((w) => log.warn(w));
  if (actions.length === 0) log.warn(loc('NothingSelected'));

  if (cfg.dryRun) {
    log.section(loc('SectionDryRun'));
    actions.filter((a) => a.kind !== 'list').forEach((a) => log.info(`Would ${describe(a, now)}`));
    report(cfg, actions.map((action) => ({ action, result: 'skipped', notes: [] })), true);
    finish('succeeded', loc('DryRunDone', actions.length));
    return;
  }

  log.section(loc('SectionExecute', capital(cfg.operation), actions.length, cfg.concurrency));
  const outcomes = await execute(actions, {
    pats,
    verify: cfg.verifyNewToken ? async (token) => void (await verifyPat(http, cfg.organization.collectionUrl, token)) : undefined,
    store,
    setSecret: secrets.setSecret,
    now: () => new Date(),
    runStartedAt,
    knownIds: new Set(listed.map((p) => p.authorizationId)),
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

async function saveRefreshToken(cfg: Config, signedIn: SignedIn, groups: VariableGroupClient): Promise<void> {
  const rt = signedIn.rolledRefreshToken;
  if (!rt) return;
  secrets.setSecret(rt);
  secrets.setVariable('refreshToken', rt, true, true);
  if (!cfg.refreshTokenStore) {
    if (cfg.auth.method !== 'accessToken') {
      log.warn(loc('RefreshTokenNotSaved'));
    }
    return;
  }
  const { variableName, ref } = cfg.refreshTokenStore;
  try {
    const group = await groups.find(ref.project, ref.group);
    await groups.setSecret(group, variableName, rt);
    log.info(loc('RefreshTokenSaved', group.name, variableName));
  } catch (e) {
    throw new Error(loc('RefreshTokenSaveFailed', variableName, ref.group, e instanceof Error ? e.message : String(e)), { cause: e });
  }
}

async function openStore(cfg: Config, groups: VariableGroupClient, identity: string): Promise<Store | undefined> {
  const target = cfg.target;
  if (target.kind === 'none' || cfg.operation === 'list' || cfg.operation === 'renew' || cfg.operation === 'revoke') return undefined;
  if (target.kind === 'variable') return new PipelineVariableStore(secrets);
  const group = await groups.find(target.ref.project, target.ref.group).catch((e: unknown) => {
    throw e instanceof AdoError && e.kind === 'notFound' ? new ConfigError('variableGroup', e.message) : e;
  });
  if (group.type.toLowerCase() === 'azurekeyvault') {
    throw new ConfigError('variableGroup', loc('GroupIsKeyVault', group.name));
  }
  if (!(await groups.canManage(group))) {
    throw new ConfigError('variableGroup', loc('GroupNotWritable', identity, group.name, group.name, cfg.groupAuth === 'entra' ? 'jobToken' : 'entra'));
  }
  return new VariableGroupStore(groups, group, identity);
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

run().catch((e: unknown) => fail(e instanceof Error ? e.message : String(e)));
