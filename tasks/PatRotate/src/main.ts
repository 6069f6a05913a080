// Entry point. The data flows one way: inputs → sign-in → save the rolled refresh token → read PATs → plan →
// execute → report. This file only wires the steps; the only tl.setResult calls are in agent.ts via finish/fail.
import { agentInputs, agentNetwork, fail, finish, jobAccessToken, log, secrets, uploadSummary } from './agent';
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
  const cfg = parseConfig(agentInputs);
  if (cfg.allOrgs) log.warn('allOrgs: global PATs (valid in all your organizations) stop working on 2026-12-01: prefer organization-scoped PATs.');

  const network = agentNetwork();
  const http = new AdoHttp(network, {
    onRetry: (r) => log.info(`Retrying ${r.method} ${r.url} after ${r.reason} in ${Math.round(r.delayMs / 1000)} s (attempt ${r.attempt}).`),
  });

  log.section('Sign in to Microsoft Entra');
  const signedIn = await signIn(cfg.auth, { network, setSecret: secrets.setSecret, warn: log.warn, info: log.info, now: () => new Date() });
  log.info(`Signed in as ${signedIn.user.upn ?? signedIn.user.oid ?? 'the token\'s user'} (method ${cfg.auth.method}).`);
  const user: Credential = { kind: 'bearer', token: signedIn.accessToken };
  const groupCredential = cfg.groupAuth === 'jobToken' ? jobCredential() : user;
  const groupIdentity = cfg.groupAuth === 'jobToken' ? 'the job\'s build service identity (groupAuth: jobToken)' : (signedIn.user.upn ?? 'the signed-in user');
  const groups = new VariableGroupClient(http, cfg.organization.collectionUrl, groupCredential);

  // The rolled refresh token replaces the one just used: save it before anything else can fail.
  await saveRefreshToken(cfg, signedIn, groups);

  // Every check that can fail on bad input happens before the first change.
  const store = await openStore(cfg, groups, groupIdentity);
  log.section(`Read PATs in ${cfg.organization.organization}`);
  const pats = new PatClient(http, cfg.organization.patApiUrl, user);
  const active = await pats.listAll('active');
  const listed: ListedPat[] = active.map((p) => ({ ...p, status: 'active' }));
  if (wantsExpired(cfg, active)) listed.push(...(await pats.listAll('expired')).map((p) => ({ ...p, status: 'expired' as const })));
  log.info(`${active.length} active PAT(s)${listed.length > active.length ? `, ${listed.length - active.length} expired` : ''}.`);

  const now = new Date();
  const { actions, warnings } = plan(cfg, listed, now);
  warnings.forEach((w) => log.warn(w));
  if (actions.length === 0) log.warn('No PAT matches the selection: nothing to do.');

  if (cfg.dryRun) {
    log.section('Dry run: the actions this run would take');
    actions.forEach((a) => log.info(`Would ${describe(a, now)}`));
    report(cfg, actions.map((action) => ({ action, result: 'skipped', notes: [] })), true);
    finish('succeeded', `Dry run: ${actions.length} action(s) planned, nothing changed.`);
    return;
  }

  log.section(`${capital(cfg.operation)} (${actions.length} PAT(s), ${cfg.concurrency} at a time)`);
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
  const message = failed.length > 0
    ? failed.map((o) => `${subjectOf(o.action).name}: ${o.notes.filter((n) => n.level === 'error').map((n) => n.text).join(' ')}`).join(' | ')
    : `${outcomes.length} PAT(s): ${tally(outcomes)}.`;
  finish(result === 'skipped' ? 'succeeded' : result, message);
}

function jobCredential(): Credential {
  const token = jobAccessToken();
  if (!token) {
    throw new ConfigError('groupAuth', 'jobToken needs the job access token: the pipeline must allow scripts to access the OAuth token (System.AccessToken).');
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
      log.warn('Entra issued a new refresh token, but refreshTokenVariable is not set, so it is not saved: the next run may fail with a used or expired refresh token. Set refreshTokenVariable and refreshTokenGroup.');
    }
    return;
  }
  const { variableName, ref } = cfg.refreshTokenStore;
  try {
    const group = await groups.find(ref.project, ref.group);
    await groups.setSecret(group, variableName, rt);
    log.info(`Saved the new refresh token in variable group '${group.name}' as '${variableName}'.`);
  } catch (e) {
    throw new Error(`Saving the new refresh token to '${variableName}' in variable group '${ref.group}' failed: ${e instanceof Error ? e.message : String(e)} No PAT was changed. If the next run reports a used refresh token, run the deviceCode bootstrap again.`, { cause: e });
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
    throw new ConfigError('variableGroup', `variable group '${group.name}' is linked to Azure Key Vault, whose values come from the vault: store the PAT in Key Vault instead, or choose a group that is not linked.`);
  }
  if (!(await groups.canManage(group))) {
    throw new ConfigError('variableGroup', `${identity} may not change variable group '${group.name}': give it the Administrator role on the group (Pipelines → Library → ${group.name} → Security), or use groupAuth ${cfg.groupAuth === 'entra' ? 'jobToken' : 'entra'}.`);
  }
  return new VariableGroupStore(groups, group);
}

function report(cfg: Config, outcomes: Outcome[], dryRun: boolean): void {
  const now = new Date();
  for (const o of outcomes) {
    const s = subjectOf(o.action);
    if (o.action.kind === 'list') {
      const p = o.action.pat;
      log.info(`${p.displayName} (${p.authorizationId}): ${describeExpiry(p, now)}; scopes ${p.scope}; ${p.targetAccounts === null ? 'all organizations (global)' : 'this organization'}.`);
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
  uploadSummary(summaryMarkdown(`PatRotate: ${cfg.operation} in ${cfg.organization.organization}`, outcomes, dryRun));
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
