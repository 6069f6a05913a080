// Benchmarks of the built task (tasks/PatRotate/index.js) against the in-process emulator. `npm run bench`.
// Not part of `npm test`. Prints one table per benchmark and the ratios against the goals; bench/RESULTS.md holds
// a recorded run (`node build/bench/run.js --record` rewrites it).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as https from 'node:https';
import * as os from 'node:os';
import * as path from 'node:path';
import { start, type Emulator, type RequestLogEntry } from '../test/emulator';
import { parseCommands, REPO_ROOT } from '../test/helpers/runTask';
import { CLIENT_ID, DAY } from '../test/e2e/world';
import { keyVaultBulk } from './keyvault';
import { expectOk, median, ms, ratio, request, runNode, table, TASK_BUNDLE, taskEnv, type ChildRun } from './lib';

const BARE = path.join(__dirname, 'bare-skip.js');
const EMPTY = path.join(__dirname, 'empty.js');
const out: string[] = [];
function say(text = ''): void {
  out.push(text);
  console.log(text);
}

interface Seeded {
  emu: Emulator;
  oid: string;
  groupId: number;
  rt(): string;
  env(): Record<string, string>;
}

async function seeded(latencyMs = 0): Promise<Seeded> {
  const emu = await start({ latencyMs });
  const s = emu.state;
  const user = s.addUser({ upn: 'alice@contoso.example', password: 'P@ssw0rd-alice-1234' });
  s.addOrg('contoso');
  s.addProject('contoso', 'Platform');
  const group = s.addGroup('contoso', 'Platform', {
    name: 'pat-store',
    admins: [user.oid],
    variables: { 'Other.Secret': { value: 'other-secret-value-1', isSecret: true } },
  });
  return {
    emu,
    oid: user.oid,
    groupId: group.id,
    rt: () => s.issueRefreshToken(user.oid, CLIENT_ID),
    env: () => ({ SYSTEM_TEAMPROJECT: 'Platform', SYSTEM_COLLECTIONURI: `${emu.url}/contoso/` }),
  };
}

function addPat(w: Seeded, displayName: string, daysLeft: number): void {
  w.emu.state.addPat(w.oid, 'contoso', {
    displayName,
    scope: 'vso.code vso.build',
    validFrom: new Date(Date.now() - 20 * DAY),
    validTo: new Date(Date.now() + daysLeft * DAY),
  });
}

function signInInputs(w: Seeded): Record<string, string> {
  return {
    organization: `${w.emu.url}/contoso`,
    authMethod: 'refreshToken',
    refreshToken: w.rt(),
    authorityHost: w.emu.url,
    tenantId: w.emu.state.tenantId,
  };
}

async function runTaskTimed(
  w: Seeded,
  inputs: Record<string, string | number>,
  measureRss = false,
): Promise<ChildRun & { result?: string; message: string }> {
  const run = await runNode(TASK_BUNDLE, taskEnv({ ...signInInputs(w), ...inputs }, w.env(), w.emu.caFile), measureRss);
  const complete = parseCommands(run.stdout)
    .filter((c) => c.name === 'task.complete')
    .at(-1);
  return { ...run, result: complete?.props.result, message: complete?.message ?? '' };
}

function must(run: { result?: string; message: string; stderr: string }, want: string, what: string): void {
  if (run.result !== want)
    throw new Error(`${what}: expected ${want}, got ${run.result}: ${run.message} ${run.stderr.slice(-500)}`);
}

/** What a request is for, in the words of the tables. */
function purpose(e: RequestLogEntry): string {
  const p = e.path.toLowerCase();
  if (p.includes('/oauth2/v2.0/token')) return 'Entra token (sign-in)';
  if (p.includes('/.well-known/') || p.includes('/discovery/'))
    return `Entra discovery (${e.method} ${p.replace(/^\/[^/]+/, '{tenant}')})`;
  if (p.endsWith('/_apis/tokens/pats'))
    return (
      { GET: 'PAT list', POST: 'PAT create', DELETE: 'PAT revoke', PUT: 'PAT update' }[e.method] ?? `PAT ${e.method}`
    );
  if (p.endsWith('/_apis/connectiondata')) return 'verify (connectionData)';
  if (/variablegroups\/\d+$/.test(p)) return e.method === 'PUT' ? 'group write (PUT)' : 'group read by id (GET)';
  if (p.endsWith('/variablegroups'))
    return e.query.actionFilter ? 'group list, actionFilter=manage (GET)' : 'group find by name (GET)';
  return `${e.method} ${p}`;
}

/** purpose(), with PAT lists after the first create told apart (the rival check of overlapping runs). */
function purposes(log: RequestLogEntry[]): string[] {
  const firstCreate = log.findIndex((e) => e.method === 'POST' && e.path.endsWith('/_apis/tokens/pats'));
  return log.map((e, i) => {
    const p = purpose(e);
    return p === 'PAT list' && firstCreate >= 0 && i > firstCreate ? 'PAT list after create (rival check)' : p;
  });
}

function countBy<T>(xs: T[], key: (x: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const x of xs) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return m;
}

// ---------------------------------------------------------------------------------------------------------------
async function skipRun(): Promise<void> {
  say('## 1. Skip run (nothing due: sign-in + list), wall time of a child process');
  const w = await seeded(0);
  try {
    addPat(w, 'deploy', 30);
    const N = 10;
    const task: number[] = [];
    const bare: number[] = [];
    const empty: number[] = [];
    const emptyEnv = { ...process.env } as Record<string, string>;
    // Warm-up (disk cache, certificate): one of each, not counted.
    must(await runTaskTimed(w, { displayName: 'deploy' }), 'Succeeded', 'skip run');
    const bareEnv = () => ({
      ...emptyEnv,
      BENCH_URL: w.emu.url,
      BENCH_TENANT: w.emu.state.tenantId,
      BENCH_CLIENT: CLIENT_ID,
      BENCH_RT: w.rt(),
      BENCH_CA: w.emu.caFile,
    });
    await runNode(BARE, bareEnv());
    const logBefore = w.emu.log.length;
    for (let i = 0; i < N; i++) {
      const t = await runTaskTimed(w, { displayName: 'deploy' });
      must(t, 'Succeeded', 'skip run');
      task.push(t.wallMs);
      if (i === 0) {
        const reqs = w.emu.log.slice(logBefore).map(purpose);
        say(`Requests of one skip run: ${reqs.join(', ')}.`);
      }
      const b = await runNode(BARE, bareEnv());
      if (b.code !== 0) throw new Error(`bare script failed: ${b.stderr}`);
      bare.push(b.wallMs);
      empty.push((await runNode(EMPTY, emptyEnv)).wallMs);
    }
    const [mt, mb, me] = [median(task), median(bare), median(empty)];
    say(
      table(
        ['what (child process, spawn → exit)', `median of ${N}`, 'min', 'max'],
        [
          [
            `PatRotate task (${Math.round(statSync(path.join(REPO_ROOT, 'tasks', 'PatRotate', 'index.js')).size / 1024)} KiB bundle, task-lib, MSAL)`,
            ms(mt),
            ms(Math.min(...task)),
            ms(Math.max(...task)),
          ],
          ['bare node:https script (token POST + list GET)', ms(mb), ms(Math.min(...bare)), ms(Math.max(...bare))],
          ['node start-up alone (empty script)', ms(me), ms(Math.min(...empty)), ms(Math.max(...empty))],
        ],
      ),
    );
    const full = mt / mb;
    const beyondStartup = (mt - me) / (mb - me);
    say(
      `Task / bare: ${ratio(full)} (goal ≤ 1.5×: ${full <= 1.5 ? 'met' : 'NOT met'}). Both include node start-up (${ms(me)}); without it: ${ms(mt - me)} vs ${ms(mb - me)} = ${ratio(beyondStartup)}.`,
    );
    say('');
  } finally {
    await w.emu.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
async function requestsPerRotation(): Promise<void> {
  say('## 2. Requests per rotation (one due PAT → variable group, verifyNewToken true)');
  const w = await seeded(0);
  try {
    addPat(w, 'deploy', 2);
    const run = await runTaskTimed(w, {
      displayName: 'deploy',
      target: 'variableGroup',
      variableGroup: 'pat-store',
      variableName: 'Deploy.Pat',
    });
    must(run, 'Succeeded', 'single rotation');
    const byPurpose = countBy(purposes(w.emu.log), (x) => x);
    const minimum: Record<string, [number, string]> = {
      'Entra token (sign-in)': [1, 'the access token (and rolled refresh token)'],
      'group find by name (GET)': [1, 'the group id from its name (needed by every client)'],
      'group list, actionFilter=manage (GET)': [
        0,
        'EXTRA: preflight permission check, so a missing Administrator role fails before a PAT is minted',
      ],
      'PAT list': [1, 'find the PAT to rotate'],
      'PAT list after create (rival check)': [
        0,
        'EXTRA: detects an overlapping run that created a PAT of the same name (all pages of the active list)',
      ],
      'PAT create': [1, 'the new PAT'],
      'verify (connectionData)': [1, 'prove the new PAT works (verifyNewToken)'],
      'group read by id (GET)': [
        1,
        'read → modify → replace: PUT replaces the whole group, so the current variables are needed; a fresh read keeps the lost-update window short',
      ],
      'group write (PUT)': [1, 'store the new PAT'],
      'PAT revoke': [1, 'retire the old PAT'],
    };
    const rows: string[][] = [];
    let total = 0;
    let min = 0;
    for (const [k, n] of byPurpose) {
      const [m, why] = minimum[k] ?? [0, 'EXTRA (not in the minimum)'];
      rows.push([k, String(n), String(m), why]);
      total += n;
      min += m;
    }
    say(table(['request', 'made', 'minimum', 'what for'], rows));
    say(`Total ${total} requests vs a minimum of ${min} (${total - min} extra).`);
    say('');
  } finally {
    await w.emu.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
const BULK_N = 200;
const LATENCY = 40;

async function bulkWorld(): Promise<Seeded> {
  const w = await seeded(LATENCY);
  for (let i = 1; i <= BULK_N; i++) addPat(w, `svc-${String(i).padStart(3, '0')}`, 2);
  return w;
}

function checkBulk(w: Seeded, what: string): void {
  const pats = w.emu.state.pats(w.oid);
  const live = pats.filter((p) => !p.revoked);
  const vars = w.emu.state.group(w.groupId)!.variables;
  const stored = live.filter((p) => vars[`PAT.${p.displayName}`]?.value === p.token).length;
  if (live.length !== BULK_N || stored !== BULK_N)
    throw new Error(`${what}: ${live.length} live PATs, ${stored} stored (want ${BULK_N} each)`);
}

/** The way peer scripts work: one request at a time, create → verify → read group → write group → revoke, per PAT. */
async function sequentialBaseline(w: Seeded): Promise<number> {
  const agent = new https.Agent({ keepAlive: true, maxSockets: 1, ca: w.emu.caPem });
  const base = w.emu.url;
  const started = Date.now();
  const form = new URLSearchParams({
    grant_type: 'refresh_token',
    client_id: CLIENT_ID,
    refresh_token: w.rt(),
    scope: '499b84ac-1321-427f-aa17-267ca6975798/.default offline_access',
  }).toString();
  const tok = expectOk(
    await request(
      agent,
      'POST',
      `${base}/${w.emu.state.tenantId}/oauth2/v2.0/token`,
      { 'Content-Type': 'application/x-www-form-urlencoded' },
      form,
    ),
    'token',
  );
  const bearer = {
    Authorization: `Bearer ${(JSON.parse(tok.body) as { access_token: string }).access_token}`,
    Accept: 'application/json',
  };
  const pats: { authorizationId: string; displayName: string; scope: string }[] = [];
  for (let cont = ''; ;) {
    const page = expectOk(
      await request(
        agent,
        'GET',
        `${base}/contoso/_apis/tokens/pats?displayFilterOption=active&$top=100&api-version=7.1-preview.1${cont ? `&continuationToken=${encodeURIComponent(cont)}` : ''}`,
        bearer,
      ),
      'list',
    );
    const body = JSON.parse(page.body) as { patTokens: typeof pats; continuationToken?: string };
    pats.push(...body.patTokens);
    if (!body.continuationToken) break;
    cont = body.continuationToken;
  }
  const found = expectOk(
    await request(
      agent,
      'GET',
      `${base}/contoso/Platform/_apis/distributedtask/variablegroups?groupName=pat-store&api-version=7.1`,
      bearer,
    ),
    'find group',
  );
  const groupId = (JSON.parse(found.body) as { value: { id: number }[] }).value[0].id;
  const json = { ...bearer, 'Content-Type': 'application/json' };
  for (const old of pats.filter((p) => p.displayName.startsWith('svc-'))) {
    const validTo = new Date(Date.now() + 30 * DAY).toISOString();
    const created = expectOk(
      await request(
        agent,
        'POST',
        `${base}/contoso/_apis/tokens/pats?api-version=7.1-preview.1`,
        json,
        JSON.stringify({ displayName: old.displayName, scope: old.scope, validTo, allOrgs: false }),
      ),
      'create',
    );
    const token = (JSON.parse(created.body) as { patToken: { token: string } }).patToken.token;
    expectOk(
      await request(agent, 'GET', `${base}/contoso/_apis/connectionData`, {
        Authorization: `Basic ${Buffer.from(`:${token}`).toString('base64')}`,
        Accept: 'application/json',
      }),
      'verify',
    );
    const g = JSON.parse(
      expectOk(
        await request(
          agent,
          'GET',
          `${base}/contoso/Platform/_apis/distributedtask/variablegroups/${groupId}?api-version=7.1`,
          bearer,
        ),
        'read group',
      ).body,
    ) as Record<string, unknown> & { variables: Record<string, unknown> };
    const body = {
      name: g.name,
      description: g.description,
      type: g.type,
      variables: { ...g.variables, [`PAT.${old.displayName}`]: { value: token, isSecret: true } },
      variableGroupProjectReferences: g.variableGroupProjectReferences,
      providerData: g.providerData,
    };
    expectOk(
      await request(
        agent,
        'PUT',
        `${base}/contoso/_apis/distributedtask/variablegroups/${groupId}?api-version=7.1`,
        json,
        JSON.stringify(body),
      ),
      'write group',
    );
    expectOk(
      await request(
        agent,
        'DELETE',
        `${base}/contoso/_apis/tokens/pats?authorizationId=${old.authorizationId}&api-version=7.1-preview.1`,
        bearer,
      ),
      'revoke',
    );
  }
  agent.destroy();
  return Date.now() - started;
}

interface BulkFigures {
  label: string;
  wallMs: number;
  requests: number;
  groupWrites: number;
  prefix: number;
  throttled: number;
  idealMs?: number;
  byPurpose: Map<string, number>;
}

async function bulkProduct(concurrency: number, inject429: boolean): Promise<BulkFigures & { delayGapsOk?: string }> {
  const w = await bulkWorld();
  try {
    if (inject429) {
      for (let k = 1; k <= BULK_N / 20; k++) {
        w.emu.faults.add({
          method: 'POST',
          path: '/contoso/_apis/tokens/pats',
          nth: 20 * k,
          action: { kind: 'status', status: 429, retryAfterSeconds: 1 },
        });
        w.emu.faults.add({
          method: 'DELETE',
          path: '/contoso/_apis/tokens/pats',
          nth: 20 * k,
          action: { kind: 'status', status: 429, retryAfterSeconds: 1 },
        });
        w.emu.faults.add({
          method: 'GET',
          path: '/contoso/_apis/connectionData',
          nth: 20 * k,
          action: { kind: 'status', status: 429, retryAfterSeconds: 1 },
        });
      }
    }
    const run = await runTaskTimed(w, {
      displayName: 'svc-*',
      target: 'variableGroup',
      variableGroup: 'pat-store',
      variableName: 'PAT.{displayName}',
      verifyNewToken: 'true',
      concurrency,
    });
    must(run, 'Succeeded', `bulk c=${concurrency}`);
    checkBulk(w, `bulk c=${concurrency}`);
    const log = w.emu.log;
    const firstCreate = log.findIndex((e) => e.method === 'POST' && e.path.endsWith('/_apis/tokens/pats'));
    const groupWrites = log.filter((e) => e.method === 'PUT' && /variablegroups\/\d+$/.test(e.path)).length;
    // The ideal for c requests in flight: the sequential prefix (sign-in, group checks, list pages), then the three
    // requests every PAT needs (create, verify, revoke) spread over c lanes, the rival-check list pages, and the
    // group writes (GET + PUT + the GET that reads it back, each; a PUT replaces the whole group, so they cannot
    // overlap, and a new value counts as stored only once it is read back).
    const lateLists = purposes(log).filter((x) => x === 'PAT list after create (rival check)').length;
    const idealMs = (firstCreate + 3 * Math.ceil(BULK_N / concurrency) + lateLists + groupWrites * 3) * LATENCY;
    let delayGapsOk: string | undefined;
    if (inject429) {
      const deletes = log.filter((e) => e.method === 'DELETE');
      const gaps: number[] = [];
      for (const e of deletes.filter((d) => d.status === 429)) {
        const retry = deletes.find((d) => d.seq > e.seq && d.query.authorizationId === e.query.authorizationId);
        if (retry) gaps.push(retry.at - e.at);
      }
      delayGapsOk = `${gaps.length} throttled revokes retried after ${ms(Math.min(...gaps))}–${ms(Math.max(...gaps))} (Retry-After 1 s)`;
    }
    return {
      label: `PatRotate, concurrency ${concurrency}${inject429 ? ', 429 on every 20th create, verify + revoke' : ''}`,
      wallMs: run.wallMs,
      requests: log.length,
      groupWrites,
      prefix: firstCreate,
      throttled: log.filter((e) => e.status === 429).length,
      idealMs,
      delayGapsOk,
      byPurpose: countBy(purposes(log), (x) => x),
    };
  } finally {
    await w.emu.close();
  }
}

async function bulk(): Promise<void> {
  say(
    `## 3. Bulk rotation: ${BULK_N} due PATs (prefix svc-*), target variableGroup 'PAT.{displayName}', verifyNewToken true, emulator latency ${LATENCY} ms`,
  );
  const wb = await bulkWorld();
  let seqMs: number;
  let seqRequests: number;
  try {
    seqMs = await sequentialBaseline(wb);
    checkBulk(wb, 'sequential baseline');
    seqRequests = wb.emu.log.length;
  } finally {
    await wb.emu.close();
  }
  const c4 = await bulkProduct(4, false);
  const c16 = await bulkProduct(16, false);
  const t16 = await bulkProduct(16, true);
  const rows = [
    [
      `sequential node:https loop (peer-script style)`,
      ms(seqMs),
      String(seqRequests),
      String(BULK_N),
      '—',
      '1.00×',
      '—',
      '0',
    ],
  ];
  for (const f of [c4, c16, t16]) {
    rows.push([
      f.label,
      ms(f.wallMs),
      String(f.requests),
      String(f.groupWrites),
      ms(f.idealMs!),
      ratio(seqMs / f.wallMs),
      ratio(f.wallMs / f.idealMs!),
      String(f.throttled),
    ]);
  }
  say(
    table(['run', 'wall', 'requests', 'group PUTs', 'ideal', 'speed-up vs sequential', 'wall / ideal', '429s'], rows),
  );
  say('');
  say(
    table(
      ['request (concurrency 16, no faults)', 'count', 'per PAT'],
      [...c16.byPurpose].map(([k, n]) => [k, String(n), (n / BULK_N).toFixed(2)]),
    ),
  );
  say(
    `Ideal = (sequential prefix of ${c16.prefix} requests before the first create + 3 × ceil(N/c) (create, verify, revoke on c lanes) + rival-check list pages + group PUTs × 3 (GET + PUT + read-back GET, serialized)) × ${LATENCY} ms.`,
  );
  for (const f of [c4, c16]) {
    say(
      `Goals (concurrency ${f === c4 ? '4, the default' : '16'}): ≥ 5× faster than sequential: ${seqMs / f.wallMs >= 5 ? 'met' : 'NOT met'} (${ratio(seqMs / f.wallMs)}); within 1.3× of ideal: ${f.wallMs / f.idealMs! <= 1.3 ? 'met' : 'NOT met'} (${ratio(f.wallMs / f.idealMs!)}).`,
    );
  }
  say(`With 429s: ${t16.throttled} answered 429, ${ms(t16.wallMs - c16.wallMs)} extra wall time; ${t16.delayGapsOk}.`);
  say(
    `Requests per rotated PAT in bulk: ${(c16.requests / BULK_N).toFixed(2)} (concurrency 16; sequential baseline ${(seqRequests / BULK_N).toFixed(2)}).`,
  );
  say('');
}

// ---------------------------------------------------------------------------------------------------------------
function zipEntries(file: string): number | undefined {
  const buf = readFileSync(file);
  for (let i = buf.length - 22; i >= Math.max(0, buf.length - 65_557); i--) {
    if (buf.readUInt32LE(i) === 0x06054b50) return buf.readUInt16LE(i + 10);
  }
  return undefined;
}

function vsix(): void {
  say('## 4. Package');
  const dist = path.join(REPO_ROOT, 'dist');
  const find = () => (existsSync(dist) ? readdirSync(dist).filter((f) => f.endsWith('.vsix')) : []);
  let files = find();
  let note = 'existing dist/*.vsix';
  if (files.length === 0) {
    try {
      execFileSync('npm', ['run', 'package'], { cwd: REPO_ROOT, stdio: 'ignore' });
      files = find();
      note = 'built by npm run package';
    } catch {
      say('vsix: n/a (no dist/*.vsix and npm run package failed)');
      return;
    }
  }
  say(
    table(
      ['vsix', 'size', 'files', 'source'],
      files.map((f) => {
        const p = path.join(dist, f);
        return [f, `${(statSync(p).size / 1024).toFixed(0)} KiB`, String(zipEntries(p) ?? 'n/a'), note];
      }),
    ),
  );
  say(`Task bundle tasks/PatRotate/index.js: ${(statSync(TASK_BUNDLE).size / 1024).toFixed(0)} KiB.`);
  say('');
}

// ---------------------------------------------------------------------------------------------------------------
async function peakRss(): Promise<void> {
  say('## 5. Peak RSS: operation list over an organization with 5,000 PATs');
  const w = await seeded(0);
  try {
    for (let i = 0; i < 5000; i++) addPat(w, `pat-${String(i).padStart(4, '0')}`, 10 + (i % 300));
    const run = await runTaskTimed(w, { operation: 'list' }, true);
    must(run, 'Succeeded', 'list 5000');
    const pages = w.emu.log.filter((e) => e.path.endsWith('/_apis/tokens/pats')).length;
    const rss = run.peakRssMiB ?? NaN;
    say(
      table(
        ['run', 'peak RSS', 'wall', 'list pages', 'measured with'],
        [['list, 5,000 PATs', `${rss.toFixed(1)} MiB`, ms(run.wallMs), String(pages), run.rssSource ?? 'n/a']],
      ),
    );
    say(`Goal ≤ 120 MB: ${rss * 1.048576 <= 120 ? 'met' : 'NOT met'} (${(rss * 1.048576).toFixed(1)} MB).`);
    say('');
  } finally {
    await w.emu.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
async function auditBench(): Promise<void> {
  const users = 10_000;
  const perUser = 3;
  const latencyMs = 40;
  const concurrency = 8;
  say(
    `## 6. Audit: ${users.toLocaleString('en')} users × ${perUser} PATs, emulator latency ${latencyMs} ms, concurrency ${concurrency}`,
  );
  const w = await seeded(latencyMs);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'patrotate-bench-audit-'));
  try {
    const s = w.emu.state;
    s.collectionAdmins.add(w.oid);
    const now = Date.now();
    const owners = [w.oid];
    for (let i = 1; i < users; i++) owners.push(s.addUser({ upn: `user${i}@contoso.example` }).oid);
    for (const oid of owners)
      for (let k = 0; k < perUser; k++)
        s.addPat(oid, 'contoso', {
          displayName: `pat-${k}`,
          scope: k === 2 ? 'app_token' : 'vso.code',
          validFrom: new Date(now - 10 * DAY),
          validTo: new Date(now + (k * 40 + 5) * DAY),
        });
    const run = await runTaskTimed(
      w,
      { operation: 'audit', concurrency: String(concurrency), reportDirectory: dir },
      true,
    );
    must(run, 'Succeeded', 'audit');
    const graphPages = w.emu.log.filter((e) => e.path.endsWith('/_apis/graph/users')).length;
    const adminCalls = w.emu.log.filter((e) => e.path.includes('/_apis/tokenadmin/')).length;
    const rows = readFileSync(path.join(dir, 'pat-inventory.csv'), 'utf8').split('\r\n').filter(Boolean).length - 1;
    // Concurrency-bound ideal: sign-in and the first page of users one after the other, then one Token Admin call per
    // user over `concurrency` lanes (later pages of users are fetched while PATs are read).
    const ideal = (2 + Math.ceil(users / concurrency)) * latencyMs;
    const rss = run.peakRssMiB ?? NaN;
    say(
      table(
        ['run', 'wall', 'ideal', 'wall / ideal', 'peak RSS', 'Graph pages', 'Token Admin calls', 'CSV rows'],
        [
          [
            `audit, concurrency ${concurrency}`,
            ms(run.wallMs),
            ms(ideal),
            ratio(run.wallMs / ideal),
            `${rss.toFixed(1)} MiB`,
            String(graphPages),
            String(adminCalls),
            String(rows),
          ],
        ],
      ),
    );
    say(
      `Goals: wall ≤ 1.3× ideal: ${run.wallMs <= 1.3 * ideal ? 'met' : 'NOT met'}; peak RSS ≤ 150 MB: ${rss * 1.048576 <= 150 ? 'met' : 'NOT met'} (${(rss * 1.048576).toFixed(1)} MB, ${run.rssSource ?? 'n/a'}).`,
    );
    say('');
  } finally {
    rmSync(dir, { recursive: true, force: true });
    await w.emu.close();
  }
}

function machine(): void {
  const cpu =
    /model name\s*:\s*(.*)/.exec(existsSync('/proc/cpuinfo') ? readFileSync('/proc/cpuinfo', 'utf8') : '')?.[1] ??
    os.cpus()[0]?.model ??
    '?';
  say(`# PatRotate benchmarks — ${new Date().toISOString()}`);
  say(
    `Machine: ${os.availableParallelism()} CPU(s) (nproc), ${cpu}, ${(os.totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Node ${process.version}, ${os.type()} ${os.release()}.`,
  );
  say('');
}

async function main(): Promise<void> {
  machine();
  if (process.argv.includes('--only-audit')) {
    await auditBench();
    return;
  }
  if (process.argv.includes('--only-keyvault')) {
    await keyVaultBulk(say);
    return;
  }
  await skipRun();
  await requestsPerRotation();
  await bulk();
  vsix();
  await peakRss();
  await auditBench();
  await keyVaultBulk(say);
  if (process.argv.includes('--record')) {
    const file = path.join(REPO_ROOT, 'bench', 'RESULTS.md');
    writeFileSync(file, `${out.join('\n')}\n`);
    console.log(`Recorded in ${file}.`);
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
