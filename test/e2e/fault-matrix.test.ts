// Fault-injection matrix: one rotation into a variable group, with one fault injected at each step of it, and the
// "never lose the working token" invariant checked on the emulator's state after every run.
//
// Steps (the requests of one rotation, in order):
//   sign-in     POST /{tenant}/oauth2/v2.0/token                               (MSAL; before any PAT exists)
//   preflight   GET  /contoso/Platform/_apis/distributedtask/variablegroups    (find the group by name; 1st of 2 list calls)
//   list        GET  /contoso/_apis/tokens/pats
//   create      POST /contoso/_apis/tokens/pats
//   rival check GET  /contoso/_apis/tokens/pats                                (2nd list: did another run create one too?)
//   verify      GET  /contoso/_apis/connectionData                             (Basic, the new PAT)
//   store read  GET  /contoso/Platform/_apis/distributedtask/variablegroups/{id}  (the read of read→modify→PUT, after the
//                                                                              PAT exists; the preflight list is its own row)
//   store write PUT  /contoso/_apis/distributedtask/variablegroups/{id}
//   retire      DELETE /contoso/_apis/tokens/pats                              (retireOld: revoke, the default)
//
// Faults hit the FIRST matching request only (nth: 1), so a retry can succeed; the `…*` columns fail EVERY attempt,
// and `ap→rst` / `ap→500` apply the request for real and then lose the answer (mutating steps only).
//
// The expected outcome of each cell comes from the rule in `expected()` (what the product's documented policy says),
// not from what happened. Outcomes: S = Succeeded (new PAT stored, old revoked); SWI = new stored, old still live;
// F = Failed, nothing changed; F·rb = Failed, the new PAT was revoked (rolled back); F·kept-both = Failed, the new PAT
// is live but not stored and the old one is live (allowed only when the failure message names the new PAT).
//
// Bounds columns: `drip` answers 200 and then one byte every 250 ms for ever (the idle timeout never trips; the total
// deadline per request must end it), `bomb` is a gzip body inflating to 2 GiB (the 16 MiB body cap must stop it), and
// `endless` answers every PAT list page with no PATs and a fresh continuation token (the 1,000-page cap must stop it).
//
// Every run sets PatRotate.RequestTimeoutSeconds=5 (env PATROTATE_REQUESTTIMEOUTSECONDS), so a hang ends after 5 s
// idle and a drip at the 10 s total deadline instead of 30 s / 60 s (short, yet well above a loaded machine's stalls). The cells run in parallel (each in its own
// emulator) and every it() awaits its own cell.
import assert from 'node:assert/strict';
import type { FaultAction, PatRecord } from '../emulator';
import type { TaskHandle, TaskRun } from '../helpers/runTask';
import { world, type World } from './world';

type StepKey = 'signIn' | 'preflight' | 'list' | 'create' | 'rival' | 'verify' | 'storeRead' | 'storeWrite' | 'retire';
type Phase = 'entra' | 'beforeCreate' | 'create' | 'check' | 'verify' | 'storeRead' | 'storeWrite' | 'retire';

interface Step {
  key: StepKey;
  label: string;
  method: string;
  path: (w: World) => string;
  phase: Phase;
  /** Which matching request is the step's (default the first). */
  nth?: number;
}

interface Fault {
  key: string;
  label: string;
  /** A function when the fault needs the run: `cancel` signals the task as the agent does on a cancel. */
  action: FaultAction | ((phase: Phase, cancel: () => void) => FaultAction);
  /** The run is cancelled (SIGTERM) while this step's request is held. */
  cancel?: boolean;
  /** Every attempt fails (no nth). */
  always?: boolean;
  /** The Azure DevOps client retries it on GET/PUT/DELETE (429, 408/500/502/503/504, network errors, timeouts). */
  retryable: boolean;
  /** For a mutating request the answer may have been lost (5xx, reset, timeout, unreadable 2xx): the write may have landed. */
  lost: boolean;
  /** The Entra sign-in retries it (429 and 5xx answers, broken connections; with a fresh MSAL client). */
  entraRetry: boolean;
  /** The sign-in page (an auth failure): verify treats it as "not propagated yet" and waits. */
  auth?: boolean;
  /** A 2xx with well-formed JSON lacking the expected fields: for a PUT/DELETE that is success (nothing to read back). */
  ok2xx?: boolean;
  /** The server refused it without acting on it (429): even a POST may be sent again. */
  refusedUnread?: boolean;
  /** The request was carried out before the answer was lost (a create made its PAT). */
  applied?: boolean;
  /** No answer at all (reset, timeout): the request may still be carried out later. */
  noAnswer?: boolean;
  /** Only for these phases (the after-apply faults make sense on writes only). */
  only?: Phase[];
  /** Only for these steps (endless paging is an answer of the PAT list only). */
  steps?: StepKey[];
}

const STEPS: Step[] = [
  {
    key: 'signIn',
    label: 'sign-in',
    method: 'POST',
    path: (w) => `/${w.emu.state.tenantId}/oauth2/v2.0/token`,
    phase: 'entra',
  },
  {
    key: 'preflight',
    label: 'preflight',
    method: 'GET',
    path: () => '/contoso/Platform/_apis/distributedtask/variablegroups',
    phase: 'beforeCreate',
  },
  { key: 'list', label: 'list', method: 'GET', path: () => '/contoso/_apis/tokens/pats', phase: 'beforeCreate' },
  { key: 'create', label: 'create', method: 'POST', path: () => '/contoso/_apis/tokens/pats', phase: 'create' },
  {
    key: 'rival',
    label: 'rival check',
    method: 'GET',
    path: () => '/contoso/_apis/tokens/pats',
    phase: 'check',
    nth: 2,
  },
  { key: 'verify', label: 'verify', method: 'GET', path: () => '/contoso/_apis/connectionData', phase: 'verify' },
  {
    key: 'storeRead',
    label: 'store read',
    method: 'GET',
    path: (w) => `/contoso/Platform/_apis/distributedtask/variablegroups/${w.group.id}`,
    phase: 'storeRead',
  },
  {
    key: 'storeWrite',
    label: 'store write',
    method: 'PUT',
    path: (w) => `/contoso/_apis/distributedtask/variablegroups/${w.group.id}`,
    phase: 'storeWrite',
  },
  { key: 'retire', label: 'retire', method: 'DELETE', path: () => '/contoso/_apis/tokens/pats', phase: 'retire' },
];

const WRITES: Phase[] = ['create', 'storeWrite', 'retire'];
const FAULTS: Fault[] = [
  {
    key: '429',
    label: '429',
    action: { kind: 'status', status: 429, retryAfterSeconds: 1 },
    retryable: true,
    lost: false,
    entraRetry: true,
    refusedUnread: true,
  },
  // 5xx answers say Retry-After: 0, so retries come at once: the matrix checks outcomes; backoff timing is tested in
  // test/unit/ado-http.test.ts, and the 429 columns check that Retry-After is honoured.
  {
    key: '500',
    label: '500',
    action: { kind: 'status', status: 500, retryAfterSeconds: 0 },
    retryable: true,
    lost: true,
    entraRetry: true,
  },
  {
    key: '503',
    label: '503',
    action: { kind: 'status', status: 503, retryAfterSeconds: 0 },
    retryable: true,
    lost: true,
    entraRetry: true,
  },
  {
    key: 'reset',
    noAnswer: true,
    label: 'reset',
    action: { kind: 'reset' },
    retryable: true,
    lost: true,
    entraRetry: true,
  },
  {
    key: 'hang',
    noAnswer: true,
    label: 'hang',
    action: { kind: 'hang' },
    retryable: true,
    lost: true,
    entraRetry: true,
  },
  {
    key: 'html',
    label: 'html',
    action: { kind: 'html' },
    retryable: false,
    lost: false,
    entraRetry: false,
    auth: true,
  },
  {
    key: 'badJson',
    label: 'badJSON',
    action: { kind: 'malformedJson' },
    retryable: false,
    lost: true,
    entraRetry: false,
  },
  {
    key: 'always429',
    label: '429*',
    action: { kind: 'status', status: 429, retryAfterSeconds: 1 },
    always: true,
    retryable: true,
    lost: false,
    entraRetry: true,
    refusedUnread: true,
  },
  {
    key: 'always503',
    label: '503*',
    action: { kind: 'status', status: 503, retryAfterSeconds: 0 },
    always: true,
    retryable: true,
    lost: true,
    entraRetry: true,
  },
  {
    key: 'appliedReset',
    applied: true,
    noAnswer: true,
    label: 'ap→rst',
    action: { kind: 'afterApply', then: 'reset' },
    retryable: true,
    lost: true,
    entraRetry: false,
    only: WRITES,
  },
  {
    key: 'applied500',
    applied: true,
    label: 'ap→500',
    action: { kind: 'afterApply', then: { status: 500 } },
    retryable: true,
    lost: true,
    entraRetry: false,
    only: WRITES,
  },
  // Applied, then a 2xx whose body is not what the API answers (create: no patToken, so the value is lost).
  {
    key: 'applied2xx',
    applied: true,
    label: 'ap→2xx',
    action: { kind: 'afterApply', then: { status: 200 } },
    retryable: false,
    lost: true,
    entraRetry: false,
    ok2xx: true,
    only: WRITES,
  },
  // A cancel while the step's request is held: a create is held after it made the PAT (its answer not yet sent), the
  // others before they are applied.
  {
    key: 'sigterm',
    label: 'SIGTERM',
    cancel: true,
    retryable: false,
    lost: false,
    entraRetry: false,
    only: ['create', 'verify', 'storeWrite'],
    action: (phase, cancel) => ({ kind: 'hold', answerOnly: phase === 'create', onHeld: cancel }),
  },
  // Another writer replaces the group right after this run's PUT, from a read made before it (a lost update).
  {
    key: 'secondWriter',
    label: '2nd writer',
    action: { kind: 'lostUpdate' },
    retryable: true,
    lost: false,
    entraRetry: false,
    only: ['storeWrite'],
  },
  // Bounds: a drip is a timeout (the total deadline); a bomb is an unreadable answer (like badJSON); endless paging
  // fails the listing (every page, so no retry can help).
  {
    key: 'drip',
    noAnswer: true,
    label: 'drip',
    action: { kind: 'drip', everyMs: 250 },
    retryable: true,
    lost: true,
    entraRetry: true,
  },
  {
    key: 'bomb',
    label: 'bomb',
    action: { kind: 'oversized', gzip: true },
    retryable: false,
    lost: true,
    entraRetry: false,
  },
  {
    key: 'endless',
    label: 'endless*',
    action: { kind: 'endlessPages' },
    always: true,
    retryable: false,
    lost: false,
    entraRetry: false,
    steps: ['list', 'rival'],
  },
];

/** The per-request timeout every run gets (seconds): hang cells take this long, drip cells twice this. */
const REQUEST_TIMEOUT_SECONDS = 5;

type Outcome = 'S' | 'SWI' | 'F' | 'F·rb' | 'F·kept-both';

/**
 * The rule. A fault is absorbed when the product retries it and the retry meets no fault:
 *   - sign-in: 429 and 5xx answers, and a connection that broke or timed out (a fresh MSAL client, twice at most);
 *   - create (POST, retried only after a 429, which the server refuses unread): a 429, or an answer that may be
 *     lost — lost-create recovery lists, revokes any orphan and creates once more;
 *   - verify: what the HTTP client retries, plus the sign-in page (an auth answer = "not propagated yet", waited for);
 *   - other GET/PUT/DELETE: what the HTTP client retries (429, 5xx, reset, timeout); a well-formed 2xx on PUT/DELETE
 *     is success whatever its body (create needs the body: there it is a lost answer).
 * A fault that is not absorbed (or fails every attempt) ends the run by where it struck:
 *   before any PAT exists → F; rival check, verify or store read → F·rb; store write → F·rb (the group is read back:
 *   unchanged, so the write did not land; F·kept-both is kept for a write that may have landed); retire → SWI.
 * A second writer that drops the new value is absorbed (the read-back finds it missing and writes again). A cancel
 * (SIGTERM) revokes a new PAT no store write has touched (F·rb) and names one whose write had begun (F·kept-both).
 */
function expected(step: Step, fault: Fault): Outcome {
  // Cancelled: a new PAT no store write has touched is revoked; one whose write had begun is left live and named.
  // A create that made its PAT but got no answer yet: that PAT is named, not revoked (it may be another run's).
  if (fault.cancel) return step.phase === 'verify' ? 'F·rb' : 'F·kept-both';
  const once = !fault.always;
  const absorbed =
    step.phase === 'entra'
      ? once && fault.entraRetry
      : step.phase === 'create'
        ? once && ((fault.lost && !fault.applied) || fault.refusedUnread === true)
        : step.phase === 'verify'
          ? once && (fault.retryable || !!fault.auth)
          : // The store writes again from a fresh read after any failure but a refusal (the sign-in page here).
            step.phase === 'storeWrite'
            ? once && !fault.auth
            : once && (fault.retryable || !!fault.ok2xx);
  // A create sent again after one that got no answer at all: that one may still make a PAT later, so it is named.
  if (absorbed && step.phase === 'create' && fault.noAnswer) return 'SWI';
  // A group write that got no answer may still land with its older copy of the group: stored, and said so.
  if (absorbed && step.phase === 'storeWrite' && fault.noAnswer) return 'SWI';
  if (absorbed) return 'S';
  switch (step.phase) {
    case 'entra':
    case 'beforeCreate':
      return 'F';
    case 'create':
      // A create that made its PAT and lost the answer: that PAT may be another run's, so it is named, not revoked.
      return fault.applied ? 'F·kept-both' : 'F';
    case 'check':
    case 'verify':
    case 'storeRead':
      return 'F·rb';
    case 'storeWrite':
      // The group is read back after a failed write; none of these faults applied it, so it is unchanged.
      return 'F·rb';
    case 'retire':
      return 'SWI';
  }
}

const RESULT: Record<Outcome, TaskRun['result']> = {
  S: 'Succeeded',
  SWI: 'SucceededWithIssues',
  F: 'Failed',
  'F·rb': 'Failed',
  'F·kept-both': 'Failed',
};

interface Cell {
  step: Step;
  fault: Fault;
  expected: Outcome;
}

interface CellResult {
  actual: string;
  error?: Error;
  ms: number;
}

const intoGroup = {
  displayName: 'deploy',
  target: 'variableGroup',
  variableGroup: 'pat-store',
  variableName: 'Deploy.Pat',
};

function isLive(p: PatRecord): boolean {
  return !p.revoked && p.validTo.getTime() > Date.now();
}

/** What the state says happened, in the table's words (anything unexpected gets its own label). */
function outcomeOf(run: TaskRun, w: World, old: PatRecord): string {
  const created = w.emu.state.pats(w.user.oid).filter((p) => p.authorizationId !== old.authorizationId);
  const stored = w.emu.state.group(w.group.id)!.variables['Deploy.Pat']?.value;
  const storedPat = created.find((p) => p.token === stored);
  const unstoredLive = created.filter((p) => isLive(p) && p !== storedPat);
  const code =
    run.result === 'Succeeded'
      ? 'S'
      : run.result === 'SucceededWithIssues'
        ? 'SWI'
        : run.result === 'Failed'
          ? 'F'
          : `?${run.result ?? 'none'}`;
  let state: string;
  if (stored !== undefined && stored !== old.token && !storedPat) state = 'stored-unknown';
  else if (storedPat) state = unstoredLive.length > 0 ? 'stored+orphan' : isLive(old) ? 'old-live' : '';
  else if (unstoredLive.length > 0) state = 'kept-both';
  else if (created.length > 0) state = 'rb';
  else state = '';
  if (code === 'SWI' && state === 'old-live') return 'SWI';
  return state ? `${code}·${state}` : code;
}

/** The invariant on the emulator's state; throws an AssertionError naming what broke. */
function checkInvariant(run: TaskRun, w: World, old: PatRecord, snapshotBefore: string, step: Step): void {
  const why = `result ${run.result}: ${run.message}`;
  const created = w.emu.state.pats(w.user.oid).filter((p) => p.authorizationId !== old.authorizationId);
  const storedVar = w.emu.state.group(w.group.id)!.variables['Deploy.Pat'];
  const storedPat = storedVar ? created.find((p) => p.token === storedVar.value) : undefined;
  // (a) the store holds the token of a LIVE PAT: the old one (as before the run), or one this run created.
  assert.ok(storedVar, `(a) Deploy.Pat is gone; ${why}`);
  const held = storedPat ?? (storedVar.value === old.token ? old : undefined);
  assert.ok(held, `(a) Deploy.Pat holds a value that is neither the old PAT nor one this run created; ${why}`);
  assert.ok(isLive(held), `(a) Deploy.Pat holds the revoked/expired PAT ${held.authorizationId}; ${why}`);
  assert.equal(storedVar.isSecret, true, '(a) Deploy.Pat is stored as a secret');
  // (b) a live PAT the run created but did not store: only on a non-Succeeded run that names it in its issues.
  for (const p of created.filter((c) => isLive(c) && c !== storedPat)) {
    const named = [run.message, ...run.errors, ...run.warnings].some((m) => m.includes(p.authorizationId));
    assert.ok(
      run.result !== 'Succeeded' && named,
      `(b) live PAT ${p.authorizationId} was created and not stored, and the run (${run.result}) does not name it as an issue; ${why}`,
    );
  }
  // (c) the old PAT is live unless a live stored replacement exists.
  if (!storedPat) assert.ok(isLive(old), `(c) the old PAT was retired though no replacement is stored; ${why}`);
  // Sign-in faults strike before any PAT exists: a failed sign-in leaves everything as it was.
  if (step.phase === 'entra' && run.result === 'Failed') {
    assert.equal(w.emu.state.snapshot(), snapshotBefore, 'a failed sign-in changed the state');
    assert.ok(!w.emu.log.some((e) => e.path.startsWith('/contoso/')), 'no Azure DevOps call after a failed sign-in');
  }
}

async function runCell(cell: Cell): Promise<CellResult> {
  const started = Date.now();
  const w = await world();
  try {
    const old = w.addPat('deploy', 2);
    // As after an earlier rotation: the group holds the old PAT (a check that only sees a name would be fooled).
    w.emu.state.group(w.group.id)!.variables['Deploy.Pat'] = { value: old.token, isSecret: true };
    const before = w.emu.state.snapshot();
    const { step, fault } = cell;
    const path = step.path(w);
    const nth = step.nth ?? 1;
    const when = fault.always ? (nth > 1 ? { nth, times: 1_000_000 } : {}) : { nth };
    let task: TaskHandle | undefined;
    const action =
      typeof fault.action === 'function' ? fault.action(step.phase, () => task?.signal('SIGTERM')) : fault.action;
    const ruleId = w.emu.faults.add({ method: step.method, path, action, ...when });
    const run = await w.run(
      { ...w.signIn(), ...intoGroup },
      { PATROTATE_REQUESTTIMEOUTSECONDS: String(REQUEST_TIMEOUT_SECONDS) },
      { onStart: (t) => (task = t) },
    );
    const actual = outcomeOf(run, w, old);
    try {
      assert.ok(w.emu.faults.firedCount(ruleId) >= 1, `the fault never fired: no ${step.method} ${path}`);
      checkInvariant(run, w, old, before, step);
      // (d) the result the rule says, and the state that goes with it.
      assert.equal(
        run.result,
        RESULT[cell.expected],
        `(d) expected ${cell.expected}, got ${actual}; message: ${run.message}\n${run.stdout.slice(-2500)}`,
      );
      assert.equal(
        actual,
        cell.expected,
        `(d) state: expected ${cell.expected}, got ${actual}; message: ${run.message}`,
      );
      if (cell.expected === 'S' && fault.key === '429') {
        // Retry-After honoured: the retry of the throttled request came at least ~1 s later.
        const hits = w.emu.log.filter((e) => e.method === step.method && e.path.toLowerCase() === path.toLowerCase());
        const i = hits.findIndex((e) => e.status === 429);
        assert.ok(i === (step.nth ?? 1) - 1, "the fault hit the step's own request");
        assert.ok(
          i >= 0 && hits[i + 1] && hits[i + 1].at - hits[i].at >= 950,
          'the retry after 429 waited for Retry-After',
        );
      }
      if (fault.cancel) assert.match(run.message, /stopped \(SIGTERM\)/, 'the result says the run was cancelled');
      if (run.result !== 'Failed' || step.phase !== 'entra') {
        assert.ok(run.variables.has('refreshToken (output)'), 'the rolled refresh token is handed on');
      }
      return { actual, ms: Date.now() - started };
    } catch (error) {
      return { actual, error: asError(error), ms: Date.now() - started };
    }
  } catch (error) {
    return { actual: 'error', error: asError(error), ms: Date.now() - started };
  } finally {
    await w.close();
  }
}

function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

const CELLS: Cell[] = STEPS.flatMap((step) =>
  FAULTS.filter((f) => (!f.only || f.only.includes(step.phase)) && (!f.steps || f.steps.includes(step.key))).map(
    (fault) => ({ step, fault, expected: expected(step, fault) }),
  ),
);

/** Slow cells (idle waits: timeouts, backoff) first; at most `limit` task processes at once. */
function schedule(cells: Cell[], limit: number): Map<Cell, Promise<CellResult>> {
  const slowness = (c: Cell) => (c.fault.key === 'hang' || c.fault.key === 'drip' ? 3 : c.fault.always ? 2 : 0);
  const queue = [...cells].sort((a, b) => slowness(b) - slowness(a));
  const out = new Map<Cell, Promise<CellResult>>();
  const gates = new Map<Cell, () => void>();
  for (const c of cells) {
    out.set(
      c,
      new Promise<void>((resolve) => gates.set(c, resolve)).then(() => runCell(c)),
    );
  }
  let running = 0;
  const next = (): void => {
    while (running < limit && queue.length > 0) {
      const c = queue.shift()!;
      running++;
      gates.get(c)!();
      void out.get(c)!.finally(() => {
        running--;
        next();
      });
    }
  };
  next();
  return out;
}

function printMatrix(results: Map<Cell, CellResult>): void {
  const cols = FAULTS;
  const width = 13;
  const pad = (s: string, n = width) => s + ' '.repeat(Math.max(0, n - [...s].length));
  const lines = [`${pad('step \\ fault', 14)}${cols.map((f) => pad(f.label)).join('')}`];
  for (const step of STEPS) {
    const row = cols.map((f) => {
      const cell = CELLS.find((c) => c.step === step && c.fault === f);
      if (!cell) return pad('—');
      const r = results.get(cell);
      if (!r) return pad('(not run)');
      return pad(r.error ? `✗${r.actual}≠${cell.expected}` : r.actual);
    });
    lines.push(`${pad(step.label, 14)}${row.join('')}`);
  }
  const failed = [...results.values()].filter((r) => r.error).length;
  const slowest = Math.max(...[...results.values()].map((r) => r.ms));
  console.log(
    `\nFault matrix (${results.size} cells, ${failed} failing; slowest cell ${(slowest / 1000).toFixed(1)} s)\n${lines.join('\n')}`,
  );
  console.log(
    'S = Succeeded; SWI = SucceededWithIssues (old PAT left live); F = Failed, nothing changed; F·rb = Failed, new PAT revoked;',
  );
  console.log(
    'F·kept-both = Failed, new PAT live and named, old live; * = every attempt fails; ap→ = applied, then the answer is lost (rst/500) or a 2xx without the expected body;',
  );
  console.log(
    'drip = a byte every 250 ms, never finished; bomb = gzip body inflating to 2 GiB; endless = empty PAT list pages with fresh continuation tokens; ✗ = actual≠expected.\n',
  );
}

describe('e2e: fault matrix (one rotation into a variable group)', function () {
  this.timeout(240_000);
  let pending: Map<Cell, Promise<CellResult>>;
  const results = new Map<Cell, CellResult>();

  before(() => {
    pending = schedule(CELLS, 10);
  });
  after(async () => {
    // Wait for cells whose it() was skipped by a filter (--grep) so no emulator is left open.
    for (const [cell, p] of pending) if (!results.has(cell)) results.set(cell, await p);
    printMatrix(results);
  });

  for (const cell of CELLS) {
    it(`${cell.step.label} × ${cell.fault.label} → ${cell.expected}`, async () => {
      const r = await pending.get(cell)!;
      results.set(cell, r);
      if (r.error) throw r.error;
    });
  }
});
