import assert from 'node:assert/strict';
import { AdoError } from '../../tasks/PatRotate/src/ado/errors';
import type {
  NewPatToken,
  PatCreateRequest,
  PatStatusFilter,
  PatToken,
  PatUpdateRequest,
} from '../../tasks/PatRotate/src/ado/types';
import { execute, worst, type ExecuteDeps, type PatApi } from '../../tasks/PatRotate/src/rotation/execute';
import { Ledger, RunStopping } from '../../tasks/PatRotate/src/rotation/ledger';
import type { Action, ListedPat } from '../../tasks/PatRotate/src/rotation/plan';
import {
  StoreWriteError,
  type Held,
  type PutOptions,
  type Store,
  type StoreWrite,
} from '../../tasks/PatRotate/src/rotation/stores';

const NOW = new Date('2026-11-23T12:00:00Z');
const DAY = 86_400_000;

/** An in-memory PAT service that records every call in order, with per-call failure hooks. */
class FakePats implements PatApi {
  calls: string[] = [];
  live = new Map<string, PatToken>();
  next = 1;
  failCreate: (() => Error | undefined)[] = [];
  failRevoke?: (id: string) => Error | undefined;

  add(p: PatToken): void {
    this.live.set(p.authorizationId, p);
  }
  listAll(filter: PatStatusFilter): Promise<PatToken[]> {
    this.calls.push(`list ${filter}`);
    return Promise.resolve([...this.live.values()]);
  }
  create(req: PatCreateRequest): Promise<NewPatToken> {
    this.calls.push(`create ${req.displayName}`);
    const id = `new-${this.next++}`;
    const made: NewPatToken = {
      authorizationId: id,
      displayName: req.displayName,
      scope: req.scope,
      targetAccounts: req.allOrgs ? null : ['org'],
      validFrom: NOW,
      validTo: req.validTo,
      token: `secret-${id}`,
    };
    this.live.set(id, made);
    const failure = this.failCreate.shift()?.();
    if (failure) return Promise.reject(failure);
    return Promise.resolve(made);
  }
  update(req: PatUpdateRequest): Promise<PatToken> {
    this.calls.push(`update ${req.authorizationId}`);
    const p = { ...this.live.get(req.authorizationId)!, validTo: req.validTo! };
    this.live.set(req.authorizationId, p);
    return Promise.resolve(p);
  }
  revoke(id: string): Promise<void> {
    this.calls.push(`revoke ${id}`);
    const failure = this.failRevoke?.(id);
    if (failure) return Promise.reject(failure);
    this.live.delete(id);
    return Promise.resolve();
  }
}

class FakeStore implements Store {
  readonly where = 'fake store';
  values = new Map<string, string>();
  fail?: Error;
  /** How many writes another writer undoes before the read-back (a lost update). */
  dropWrites = 0;
  constructor(private readonly calls: string[]) {}
  readonly readsBack = true;
  putAll(values: Readonly<Record<string, string>>, options: PutOptions = {}): Promise<StoreWrite> {
    Object.keys(values).forEach((n) => options.before?.(n));
    this.calls.push(`store ${Object.keys(values).join(',')}`);
    if (this.fail) return Promise.reject(this.fail);
    if (this.dropWrites > 0) {
      this.dropWrites--;
      return Promise.resolve({});
    }
    for (const [k, v] of Object.entries(values)) this.values.set(k, v);
    return Promise.resolve({});
  }
  check(names: readonly string[]): Promise<Map<string, Held>> {
    this.calls.push('read back');
    return Promise.resolve(new Map(names.map((n) => [n, this.values.has(n) ? 'held' : 'missing'])));
  }
}

function old(name = 'deploy', days = 2): ListedPat {
  return {
    authorizationId: `old-${name}`,
    displayName: name,
    scope: 'vso.code',
    targetAccounts: ['org'],
    validFrom: new Date(NOW.getTime() - 28 * DAY),
    validTo: new Date(NOW.getTime() + days * DAY),
    status: 'active',
  };
}

function rotate(pat: ListedPat, retire: 'revoke' | 'shorten' | 'keep' = 'revoke'): Action {
  return {
    kind: 'rotate',
    old: pat,
    scope: pat.scope,
    allOrgs: false,
    validTo: new Date(NOW.getTime() + 30 * DAY),
    variableName: `V.${pat.displayName}`,
    retire,
  };
}

function setup(over: Partial<ExecuteDeps> = {}) {
  const pats = new FakePats();
  const store = new FakeStore(pats.calls);
  const secrets: string[] = [];
  const deps: ExecuteDeps = {
    pats,
    store,
    verify: (token) => {
      pats.calls.push('verify');
      return pats.live.has(token.replace('secret-', ''))
        ? Promise.resolve()
        : Promise.reject(new Error('not accepted'));
    },
    setSecret: (v) => secrets.push(v),
    now: () => NOW,
    runStartedAt: NOW,
    knownIds: new Set(['old-deploy']),
    graceHours: 24,
    concurrency: 4,
    ...over,
  };
  return { pats, store, secrets, deps };
}

describe('execute: rotate', () => {
  it('creates, verifies, stores, then revokes the old PAT, in that order', async () => {
    const { pats, store, secrets, deps } = setup();
    pats.add(old());
    const [o] = await execute([rotate(old())], deps);
    assert.equal(o.result, 'succeeded');
    assert.deepEqual(pats.calls, [
      'create deploy',
      'list active',
      'verify',
      'store V.deploy',
      'read back',
      'revoke old-deploy',
    ]);
    assert.equal(store.values.get('V.deploy'), 'secret-new-1');
    assert.deepEqual(secrets, ['secret-new-1']);
    assert.equal(o.token, 'secret-new-1');
    assert.deepEqual([...pats.live.keys()], ['new-1']);
    assert.ok(!o.notes.some((n) => n.text.includes('secret-new-1')), 'no note carries the value');
  });

  it('rolls back when verification fails: new PAT revoked, store and old PAT untouched', async () => {
    const { pats, store, deps } = setup({ verify: () => Promise.reject(new Error('401 for 30 s')) });
    pats.add(old());
    const [o] = await execute([rotate(old())], deps);
    assert.equal(o.result, 'failed');
    assert.deepEqual(pats.calls, ['create deploy', 'list active', 'revoke new-1']);
    assert.equal(store.values.size, 0);
    assert.deepEqual([...pats.live.keys()], ['old-deploy']);
    assert.match(
      o.notes.at(-1)!.text,
      /Verifying the new PAT failed: 401 for 30 s Rolled back: the new PAT new-1 was revoked/,
    );
  });

  it('rolls back when the store refuses the write', async () => {
    const { pats, store, deps } = setup();
    store.fail = new StoreWriteError('needs the Administrator role', 'all');
    pats.add(old());
    const [o] = await execute([rotate(old())], deps);
    assert.equal(o.result, 'failed');
    assert.deepEqual(pats.calls, ['create deploy', 'list active', 'verify', 'store V.deploy', 'revoke new-1']);
    assert.deepEqual([...pats.live.keys()], ['old-deploy']);
  });

  it('keeps both PATs when the store write may have landed (answer lost)', async () => {
    const { pats, store, deps } = setup();
    store.fail = new StoreWriteError('connection reset', new Set());
    pats.add(old());
    const [o] = await execute([rotate(old())], deps);
    assert.equal(o.result, 'failed');
    assert.deepEqual(pats.calls, ['create deploy', 'list active', 'verify', 'store V.deploy']);
    assert.deepEqual([...pats.live.keys()].sort(), ['new-1', 'old-deploy']);
    assert.match(o.notes.at(-1)!.text, /both were left live \(old: old-deploy\)/);
  });

  it('says which rollback failed, naming the orphan', async () => {
    const { pats, deps } = setup({ verify: () => Promise.reject(new Error('nope')) });
    pats.failRevoke = () => new Error('503');
    const [o] = await execute([rotate(old())], deps);
    assert.match(o.notes.at(-1)!.text, /new PAT new-1 is still live and stored nowhere: revoke it by hand/);
  });

  it('finishes with issues when retiring the old PAT fails, naming it', async () => {
    const { pats, store, deps } = setup();
    pats.add(old());
    pats.failRevoke = (id) => (id === 'old-deploy' ? new Error('HTTP 500') : undefined);
    const [o] = await execute([rotate(old())], deps);
    assert.equal(o.result, 'succeededWithIssues');
    assert.equal(store.values.get('V.deploy'), 'secret-new-1');
    assert.match(o.notes.at(-1)!.text, /retiring the old PAT old-deploy failed: HTTP 500.*still live/);
  });

  it('shortens the old PAT to the grace period, or keeps it', async () => {
    const { pats, deps } = setup();
    pats.add(old('deploy', 5));
    const [o] = await execute([rotate(old('deploy', 5), 'shorten')], deps);
    assert.equal(o.result, 'succeeded');
    assert.equal(pats.calls.at(-1), 'update old-deploy');
    assert.equal(pats.live.get('old-deploy')!.validTo.getTime(), NOW.getTime() + 24 * 3_600_000);

    const k = setup();
    k.pats.add(old());
    await execute([rotate(old(), 'keep')], k.deps);
    assert.deepEqual(k.pats.calls, ['create deploy', 'list active', 'verify', 'store V.deploy', 'read back']);
  });

  it('sends a lost create once more when it made nothing', async () => {
    const { pats, store, deps } = setup();
    pats.add(old());
    pats.failCreate.push(() => {
      pats.live.delete('new-1'); // the request never reached the service
      return new AdoError('transient', 'socket hang up', { lostResponse: true });
    });
    const [o] = await execute([rotate(old())], deps);
    assert.equal(o.result, 'succeeded');
    assert.deepEqual(pats.calls, [
      'create deploy',
      'list active',
      'create deploy',
      'list active',
      'verify',
      'store V.deploy',
      'read back',
      'revoke old-deploy',
    ]);
    assert.equal(store.values.get('V.deploy'), 'secret-new-2');
  });

  it("revokes nothing after a lost create that made a PAT (it may be another run's), and names it", async () => {
    const { pats, store, deps } = setup();
    pats.add(old());
    pats.failCreate.push(() => new AdoError('transient', 'socket hang up', { lostResponse: true }));
    const [o] = await execute([rotate(old())], deps);
    assert.equal(o.result, 'failed');
    assert.deepEqual(pats.calls, ['create deploy', 'list active']);
    assert.match(
      o.notes.at(-1)!.text,
      /new-1 named 'deploy' appeared meanwhile: made by this request .* or by another run, which may have stored it, so nothing was revoked/,
    );
    assert.equal(store.values.size, 0);
  });

  it('steps back when another run created a PAT of the same name meanwhile', async () => {
    const { pats, store, deps } = setup();
    pats.add(old());
    const create = pats.create.bind(pats);
    pats.create = async (req) => {
      const rival = await create(req); // the other run's PAT, made first
      pats.calls.pop();
      void rival;
      return create(req);
    };
    const [o] = await execute([rotate(old())], deps);
    assert.equal(o.result, 'failed');
    assert.match(
      o.notes.at(-1)!.text,
      /Another run is rotating 'deploy' at the same time \(it created new-1\).*Rolled back: the new PAT new-2 was revoked/,
    );
    assert.equal(store.values.size, 0);
    assert.deepEqual([...pats.live.keys()].sort(), ['new-1', 'old-deploy']);
  });

  it('sees a rival run whose new PAT was already listed when this run began', async () => {
    const { pats, store, deps } = setup();
    pats.add(old());
    const rival: PatToken = {
      ...old(),
      authorizationId: 'rival-1',
      validFrom: new Date(NOW.getTime() - 60_000),
      validTo: new Date(NOW.getTime() + 30 * DAY),
    };
    pats.add(rival);
    deps.knownIds = new Set(['old-deploy', 'rival-1']);
    const [o] = await execute([rotate(old())], deps);
    assert.equal(o.result, 'failed');
    assert.match(o.notes.at(-1)!.text, /Another run is rotating 'deploy' at the same time \(it created rival-1\)/);
    assert.equal(store.values.size, 0);
  });

  it('does not mistake an old PAT of the same name (left by retireOld shorten) for a rival', async () => {
    const { pats, deps } = setup();
    const superseded: PatToken = {
      ...old(),
      authorizationId: 'older',
      validFrom: new Date(NOW.getTime() - 40 * DAY),
      validTo: new Date(NOW.getTime() + 3_600_000),
    };
    pats.add(superseded);
    pats.add(old());
    deps.knownIds = new Set(['old-deploy', 'older']);
    const [o] = await execute([rotate(old())], deps);
    assert.equal(o.result, 'succeeded');
  });

  it('after a lost create, revokes nothing when two new PATs of the name appeared, and names them', async () => {
    const { pats, deps } = setup();
    pats.add(old());
    pats.failCreate.push(() => {
      pats.add({ ...old(), authorizationId: 'someone-else', validFrom: NOW });
      return new AdoError('transient', 'socket hang up', { lostResponse: true });
    });
    const [o] = await execute([rotate(old())], deps);
    assert.equal(o.result, 'failed');
    assert.match(
      o.notes.at(-1)!.text,
      /(new-1, someone-else|someone-else, new-1) named 'deploy' appeared meanwhile.*nothing was revoked/,
    );
    assert.ok(!pats.calls.some((c) => c.startsWith('revoke')));
  });

  it('says a PAT may be left over when the second create is lost too', async () => {
    const { pats, deps } = setup();
    pats.add(old());
    const lost = () => {
      pats.live.delete(`new-${pats.next - 1}`); // made nothing the first time
      return new AdoError('transient', 'socket hang up', { lostResponse: true });
    };
    pats.failCreate.push(lost, () => new AdoError('transient', 'socket hang up', { lostResponse: true }));
    const [o] = await execute([rotate(old())], deps);
    assert.equal(o.result, 'failed');
    assert.match(
      o.notes.at(-1)!.text,
      /got no answer twice .*a PAT named 'deploy' created at about .* may be live and stored nowhere/,
    );
  });

  it('does not retry a create that was refused (policy)', async () => {
    const { pats, deps } = setup();
    pats.failCreate.push(() => new AdoError('policy', 'full-scope PATs are restricted'));
    const [o] = await execute([rotate(old())], deps);
    assert.equal(o.result, 'failed');
    assert.equal(pats.calls.filter((c) => c.startsWith('create')).length, 1);
  });

  it('warns when the service clamps validTo', async () => {
    const { pats, deps } = setup();
    const clamp = pats.create.bind(pats);
    pats.create = async (req) => ({ ...(await clamp(req)), validTo: new Date(NOW.getTime() + 7 * DAY) });
    const [o] = await execute([rotate(old())], deps);
    assert.ok(
      o.notes.some(
        (n) => n.level === 'warning' && /shortened the validity to 2026-11-30.*asked for 2026-12-23/.test(n.text),
      ),
    );
  });

  it('runs bulk actions with bounded concurrency; one failure does not stop the others', async () => {
    const { pats, deps } = setup({ concurrency: 3 });
    let inFlight = 0;
    let peak = 0;
    const verify = deps.verify!;
    deps.verify = async (t) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight--;
      if (t === 'secret-new-2') throw new Error('bad');
      return verify(t);
    };
    const olds = Array.from({ length: 8 }, (_, i) => old(`p${i}`));
    olds.forEach((p) => pats.add(p));
    deps.knownIds = new Set(olds.map((p) => p.authorizationId));
    const outcomes = await execute(
      olds.map((p) => rotate(p)),
      deps,
    );
    assert.equal(peak, 3);
    assert.equal(outcomes.filter((o) => o.result === 'failed').length, 1);
    assert.equal(outcomes.filter((o) => o.result === 'succeeded').length, 7);
    assert.equal(worst(outcomes), 'failed');
  });
});

describe('execute: renew, revoke, skip', () => {
  it('renews with a PUT, and revokes', async () => {
    const { pats, deps } = setup();
    const p = old();
    pats.add(p);
    const validTo = new Date(NOW.getTime() + 30 * DAY);
    const [r] = await execute([{ kind: 'renew', pat: p, validTo }], deps);
    assert.equal(r.result, 'succeeded');
    assert.equal(r.pat?.validTo.getTime(), validTo.getTime());
    const [v] = await execute([{ kind: 'revoke', pat: p }], deps);
    assert.equal(v.result, 'succeeded');
    assert.deepEqual(pats.calls, ['update old-deploy', 'revoke old-deploy']);
  });

  it('skips without any call, and the worst of skips is skipped', async () => {
    const { pats, deps } = setup();
    const outcomes = await execute([{ kind: 'skip', pat: old(), reason: 'fresh' }], deps);
    assert.deepEqual(pats.calls, []);
    assert.equal(worst(outcomes), 'skipped');
  });
});

describe('execute: the store is read back', () => {
  it('writes again when another writer dropped the value, then retires the old PAT', async () => {
    const { pats, store, deps } = setup();
    pats.add(old());
    store.dropWrites = 1;
    const [o] = await execute([rotate(old())], deps);
    assert.equal(o.result, 'succeeded');
    assert.deepEqual(pats.calls.slice(3), [
      'store V.deploy',
      'read back',
      'store V.deploy',
      'read back',
      'revoke old-deploy',
    ]);
    assert.equal(store.values.get('V.deploy'), 'secret-new-1');
  });

  it('keeps the old PAT and rolls the new one back when the value is dropped after every write', async () => {
    const { pats, store, deps } = setup();
    pats.add(old());
    store.dropWrites = 99;
    const [o] = await execute([rotate(old())], deps);
    assert.equal(o.result, 'failed');
    assert.equal(pats.calls.filter((c) => c === 'store V.deploy').length, 3);
    assert.equal(pats.calls.at(-1), 'revoke new-1');
    assert.deepEqual([...pats.live.keys()], ['old-deploy']);
    assert.match(
      o.notes.at(-1)!.text,
      /'V.deploy' was missing: fake store was written by someone else after each of 3 writes.*Rolled back: the new PAT new-1 was revoked/,
    );
  });
});

describe('execute: the create answer is checked against the request', () => {
  const cases: [string, (p: NewPatToken) => NewPatToken, RegExp][] = [
    ['a broader scope', (p) => ({ ...p, scope: 'app_token' }), /its scopes are 'app_token' \(asked for 'vso.code'\)/],
    ['another name', (p) => ({ ...p, displayName: 'other' }), /its name is 'other' \(asked for 'deploy'\)/],
    ['a global PAT', (p) => ({ ...p, targetAccounts: null }), /it is global/],
    ['a validTo in the past', (p) => ({ ...p, validTo: new Date(NOW.getTime() - DAY) }), /validTo .* is already past/],
    [
      'a validTo before validFrom',
      (p) => ({ ...p, validFrom: new Date(NOW.getTime() + 40 * DAY) }),
      /is not after its validFrom/,
    ],
  ];
  for (const [what, change, message] of cases) {
    it(`rolls back ${what}, naming both values, and keeps the old PAT`, async () => {
      const { pats, store, deps } = setup();
      pats.add(old());
      const create = pats.create.bind(pats);
      pats.create = async (req) => change(await create(req));
      const [o] = await execute([rotate(old())], deps);
      assert.equal(o.result, 'failed');
      assert.match(o.notes.at(-1)!.text, message);
      assert.match(o.notes.at(-1)!.text, /Rolled back: the new PAT new-1 was revoked/);
      assert.equal(store.values.size, 0);
      assert.deepEqual([...pats.live.keys()], ['old-deploy']);
    });
  }

  it('warns, and carries on, when a scope asked for is missing', async () => {
    const { pats, deps } = setup();
    pats.add(old());
    const create = pats.create.bind(pats);
    pats.create = async (req) => ({ ...(await create({ ...req })), scope: 'vso.code' });
    const [o] = await execute([{ ...rotate(old()), scope: 'vso.code vso.build' } as Action], deps);
    assert.equal(o.result, 'succeeded');
    assert.ok(
      o.notes.some((n) => n.level === 'warning' && /lacks scopes that were asked for \(vso.build\)/.test(n.text)),
    );
  });
});

describe('ledger: a stop undoes what is safe to undo', () => {
  it('revokes a new PAT not yet stored, names one being stored, and refuses further changes', async () => {
    const { pats } = setup();
    const said: string[] = [];
    const ledger = new Ledger((t) => said.push(t));
    const a = ledger.createSent('a', NOW);
    ledger.createAnswered(a, { authorizationId: 'new-a', displayName: 'a' });
    const b = ledger.createSent('b', NOW);
    ledger.createAnswered(b, { authorizationId: 'new-b', displayName: 'b' });
    ledger.storing(['new-b']);
    pats.add({ ...old('a'), authorizationId: 'new-a' });
    pats.add({ ...old('b'), authorizationId: 'new-b' });
    assert.deepEqual(said, [
      "New PAT new-a created for 'a' (not stored yet).",
      "New PAT new-b created for 'b' (not stored yet).",
    ]);
    const lines = await ledger.stop(pats, 2_000, new Set());
    assert.deepEqual(pats.calls, ['revoke new-a']);
    assert.match(lines.join('\n'), /revoked the new PAT new-a/);
    assert.match(lines.join('\n'), /Left live: the new PAT new-b \('b'\) was being stored/);
    assert.throws(() => ledger.check(), RunStopping);
    assert.throws(() => ledger.createSent('c', NOW), RunStopping);
  });

  it("names, and does not revoke, a PAT that appeared while a create had no answer (it may be another run's)", async () => {
    const { pats } = setup();
    const ledger = new Ledger();
    ledger.createSent('deploy', NOW);
    pats.add(old());
    pats.add({ ...old(), authorizationId: 'orphan', validFrom: NOW });
    const lines = await ledger.stop(pats, 2_000, new Set(['old-deploy']));
    assert.deepEqual(pats.calls, ['list active']);
    assert.match(
      lines.join('\n'),
      /Left live: orphan \('deploy'\) appeared while this run's create had no answer.*not revoked/,
    );
  });

  it('never revokes a PAT listed before the run, even when an answer named it as new', async () => {
    const { pats } = setup();
    const ledger = new Ledger();
    ledger.createAnswered(ledger.createSent('deploy', NOW), { authorizationId: 'old-deploy', displayName: 'deploy' });
    pats.add(old());
    await ledger.stop(pats, 2_000, new Set(['old-deploy']));
    assert.deepEqual(pats.calls, []);
  });

  it('gives up at the deadline and names what is left', async () => {
    const ledger = new Ledger();
    const c = ledger.createSent('deploy', NOW);
    ledger.createAnswered(c, { authorizationId: 'new-1', displayName: 'deploy' });
    const hang = {
      listAll: () => new Promise<PatToken[]>(() => undefined),
      revoke: () => new Promise<void>(() => undefined),
    };
    const lines = await ledger.stop(hang, 50, new Set());
    assert.match(lines.join('\n'), /did not finish within 0 s.*\n.*Left live: the new PAT new-1/);
  });
});
