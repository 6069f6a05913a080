// Two scheduled runs that overlap must never leave a live PAT that nobody stored, nor a store without a live PAT.
import assert from 'node:assert/strict';
import type { TaskRun } from '../helpers/runTask';
import { assertResult, live, worldPerTest, type World } from './world';

const inputs = {
  displayName: 'deploy',
  target: 'variableGroup',
  variableGroup: 'pat-store',
  variableName: 'Deploy.Pat',
  rotateWithinDays: 0,
};

describe('e2e: concurrent runs and the job token', function () {
  this.timeout(120_000);

  // Staggered starts land the second run's list and create at different points of the first run's rotation.
  // With latency, the runs overlap longer. Together these reach every path: both step back; one rotates while the
  // other finds two PATs of that name and stops; they run one after the other and both succeed.
  for (const [latency, staggers] of [
    [0, [0, 60]],
    [20, [0, 60, 150]],
  ] as const) {
    describe(`with ${latency} ms latency`, () => {
      let w!: World;
      worldPerTest((x) => (w = x), { latencyMs: latency });
      for (const staggerMs of staggers) {
        it(`two runs rotating the same PAT, the second ${staggerMs} ms later, leave one live, stored PAT and no orphan`, async () => {
          const old = w.addPat('deploy', 2);
          const first = w.run({ ...w.signIn(), ...inputs });
          await new Promise((r) => setTimeout(r, staggerMs));
          const runs = await Promise.all([first, w.run({ ...w.signIn(), ...inputs })]);
          const results = runs.map((r) => r.result);
          const alive = live(w, 'deploy');
          assert.equal(alive.length, 1, `one live PAT named deploy (results ${results.join(', ')})`);
          const stored = w.emu.state.group(w.group.id)!.variables['Deploy.Pat']?.value;
          if (stored === undefined)
            assert.equal(
              alive[0].authorizationId,
              old.authorizationId,
              'nothing stored: the old PAT must still be live',
            );
          else assert.equal(stored, alive[0].token, 'the stored PAT is the live one');
          // Runs that did not overlap both succeed (the second rotates the first one's PAT); one that did steps back.
          for (const r of runs.filter((r) => r.result !== 'Succeeded')) {
            assertResult(r, 'Failed');
            assert.match(
              r.message,
              /Another run is rotating 'deploy' at the same time.*Rolled back|2 PATs are named 'deploy'.*if another run may be rotating it right now/,
            );
          }
        });
      }
    });
  }

  describe('two runs rotating the same PAT, in each order the emulator forces', () => {
    let w!: World;
    worldPerTest((x) => (w = x));
    const PATS = '/contoso/_apis/tokens/pats';
    const gate = () => {
      let open!: () => void;
      const opened = new Promise<void>((r) => (open = r));
      return { open, opened };
    };
    /** One live PAT named deploy, and the group holds it (or holds nothing and the old PAT is that one). */
    const assertOneLiveStored = (oldId: string) => {
      const alive = live(w, 'deploy');
      assert.equal(alive.length, 1, 'one live PAT named deploy');
      const stored = w.emu.state.group(w.group.id)!.variables['Deploy.Pat']?.value;
      if (stored === undefined) assert.equal(alive[0].authorizationId, oldId);
      else assert.equal(stored, alive[0].token);
    };

    it('both create before either checks: both step back, the old PAT stays', async () => {
      const old = w.addPat('deploy', 2);
      const first = gate();
      const second = gate();
      w.emu.faults.add({
        method: 'POST',
        path: PATS,
        nth: 1,
        action: { kind: 'hold', answerOnly: true, until: second.opened, onApplied: first.open },
      });
      w.emu.faults.add({
        method: 'POST',
        path: PATS,
        nth: 2,
        action: { kind: 'hold', answerOnly: true, until: first.opened, onApplied: second.open },
      });
      const runs = await Promise.all([w.run({ ...w.signIn(), ...inputs }), w.run({ ...w.signIn(), ...inputs })]);
      runs.forEach((r) => assert.match(r.message, /Another run is rotating 'deploy' at the same time.*Rolled back/));
      assertOneLiveStored(old.authorizationId);
      assert.equal(live(w, 'deploy')[0].authorizationId, old.authorizationId);
    });

    it('the second creates after the first checked: the second steps back, the first rotates', async () => {
      const old = w.addPat('deploy', 2);
      const listsDone = gate();
      const firstChecked = gate();
      // Both list first; then one creates and checks for rivals; only then may the other create.
      w.emu.faults.add({
        method: 'GET',
        path: PATS,
        nth: 2,
        action: { kind: 'hold', answerOnly: true, until: Promise.resolve(), onApplied: listsDone.open },
      });
      w.emu.faults.add({ method: 'POST', path: PATS, nth: 1, action: { kind: 'hold', until: listsDone.opened } });
      w.emu.faults.add({
        method: 'GET',
        path: PATS,
        nth: 3,
        action: { kind: 'hold', answerOnly: true, until: Promise.resolve(), onApplied: firstChecked.open },
      });
      w.emu.faults.add({ method: 'POST', path: PATS, nth: 2, action: { kind: 'hold', until: firstChecked.opened } });
      const runs = await Promise.all([w.run({ ...w.signIn(), ...inputs }), w.run({ ...w.signIn(), ...inputs })]);
      assert.deepEqual(runs.map((r) => r.result).sort(), ['Failed', 'Succeeded']);
      assert.match(
        runs.find((r) => r.result === 'Failed')!.message,
        /Another run is rotating 'deploy' at the same time.*Rolled back/,
      );
      assertOneLiveStored(old.authorizationId);
      assert.notEqual(live(w, 'deploy')[0].authorizationId, old.authorizationId);
    });

    it('the second starts while the first verifies: it finds two PATs of the name and stops before any change', async () => {
      const old = w.addPat('deploy', 2);
      const secondDone = gate();
      let second: Promise<TaskRun> | undefined;
      w.emu.faults.add({
        method: 'GET',
        path: '/contoso/_apis/connectionData',
        nth: 1,
        action: {
          kind: 'hold',
          until: secondDone.opened,
          onHeld: () => {
            second = w.run({ ...w.signIn(), ...inputs });
            void second.then(() => secondDone.open());
          },
        },
      });
      const first = await w.run({ ...w.signIn(), ...inputs });
      const late = await second!;
      assertResult(first, 'Succeeded');
      assertResult(late, 'Failed');
      assert.match(late.message, /2 PATs are named 'deploy'.*if another run may be rotating it right now/);
      assertOneLiveStored(old.authorizationId);
    });
  });

  describe('two runs writing one variable group', () => {
    let w!: World;
    worldPerTest((x) => (w = x));

    /**
     * Exactly the lost update: the first PUT to arrive is held until the second has landed (so the first, built on a
     * read without the second's variable, drops it when it lands), and the second's answer is held until the first
     * has landed (so its read-back comes after the drop). Both interleavings of which run is "first" are the same.
     */
    function raceOnPut(): void {
      const path = `/contoso/_apis/distributedtask/variablegroups/${w.group.id}`;
      let secondLanded!: () => void;
      let firstLanded!: () => void;
      const second = new Promise<void>((r) => (secondLanded = r));
      const first = new Promise<void>((r) => (firstLanded = r));
      w.emu.faults.add({
        method: 'PUT',
        path,
        nth: 1,
        action: { kind: 'hold', until: second, onApplied: firstLanded },
      });
      w.emu.faults.add({
        method: 'PUT',
        path,
        nth: 2,
        action: { kind: 'hold', answerOnly: true, until: first, onApplied: secondLanded },
      });
    }

    for (const operation of ['rotate', 'create'] as const) {
      it(`${operation}: the PUT of one lands between the other's GET and PUT; both new PATs end up stored`, async () => {
        const olds = operation === 'rotate' ? [w.addPat('svc-a', 2), w.addPat('svc-b', 2)] : [];
        raceOnPut();
        const common = {
          operation,
          target: 'variableGroup',
          variableGroup: 'pat-store',
          rotateWithinDays: 0,
          scopes: 'vso.code',
        };
        const runs = await Promise.all(
          ['svc-a', 'svc-b'].map((name) =>
            w.run({ ...w.signIn(), ...common, displayName: name, variableName: `${name}.Pat` }),
          ),
        );
        runs.forEach((r) => assertResult(r, 'Succeeded'));
        const g = w.emu.state.group(w.group.id)!;
        for (const name of ['svc-a', 'svc-b']) {
          const [pat] = live(w, name);
          assert.equal(g.variables[`${name}.Pat`]?.value, pat.token, `${name}.Pat holds the live new PAT`);
          assert.equal(g.variables[`${name}.Pat`].isSecret, true);
        }
        olds.forEach((o) =>
          assert.ok(w.emu.state.pats(w.user.oid).find((p) => p.authorizationId === o.authorizationId)!.revoked),
        );
        const puts = w.emu.log.filter((e) => e.method === 'PUT');
        assert.ok(puts.length >= 3, 'the run whose variable was dropped wrote once more');
        assert.ok(
          runs.some((r) =>
            /read back; written [23] times, as another writer had written the group meanwhile/.test(r.stdout),
          ),
        );
      });
    }

    it('a failed group write is not resent as is: what another run wrote meanwhile is kept', async () => {
      w.addPat('deploy', 2);
      const other = w.emu.state.addPat(w.user.oid, 'contoso', {
        displayName: 'build',
        scope: 'vso.build',
        validFrom: new Date(),
        validTo: new Date(Date.now() + 30 * 86_400_000),
      }).pat;
      w.emu.faults.add({
        method: 'PUT',
        path: `/contoso/_apis/distributedtask/variablegroups/${w.group.id}`,
        nth: 1,
        action: { kind: 'status', status: 503, retryAfterSeconds: 1 },
        onHit: () =>
          setTimeout(() => {
            const g = w.emu.state.group(w.group.id)!;
            g.variables['Build.Pat'] = { value: other.token, isSecret: true };
            g.modifiedOn = new Date(g.modifiedOn.getTime() + 20);
          }, 100),
      });
      const run = await w.run({ ...w.signIn(), ...inputs });
      assertResult(run, 'Succeeded');
      assert.equal(
        w.emu.state.group(w.group.id)!.variables['Build.Pat']?.value,
        other.token,
        "the other run's PAT is still stored",
      );
      assert.equal(w.emu.state.group(w.group.id)!.variables['Deploy.Pat'].value, live(w, 'deploy')[0].token);
    });

    it('the rolled refresh token is read back and written again when another writer dropped it', async () => {
      w.addPat('deploy', 2);
      w.emu.faults.add({
        method: 'PUT',
        path: `/contoso/_apis/distributedtask/variablegroups/${w.group.id}`,
        nth: 1,
        action: { kind: 'lostUpdate' },
      });
      const run = await w.run({ ...w.signIn(), ...inputs, refreshTokenVariable: 'PatRotate.RefreshToken' });
      assertResult(run, 'Succeeded');
      const g = w.emu.state.group(w.group.id)!;
      assert.equal(g.variables['PatRotate.RefreshToken']?.value, run.variables.get('refreshToken (output)')?.value);
      assert.equal(g.variables['Other.Writer']?.value, 'written by someone else', "the other writer's change is kept");
    });
  });

  describe('groupAuth jobToken', () => {
    let w!: World;
    worldPerTest((x) => (w = x));

    it('writes the group as the build service identity', async () => {
      w.addPat('deploy', 2);
      const g = w.emu.state.addGroup('contoso', 'Platform', { name: 'build-owned', variables: {} });
      w.emu.state.grantGroupAdmin(g.id, w.emu.state.jobIdentityId());
      const jobToken = w.emu.state.issueJobToken();
      const run = await w.run(
        { ...w.signIn(), ...inputs, variableGroup: 'build-owned', groupAuth: 'jobToken' },
        { ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN: jobToken },
      );
      assertResult(run, 'Succeeded');
      assert.equal(w.emu.state.group(g.id)!.variables['Deploy.Pat'].value, live(w, 'deploy')[0].token);
      const puts = w.emu.log.filter((e) => e.method === 'PUT');
      assert.deepEqual(
        puts.map((e) => e.auth),
        ['bearer-job'],
      );
    });

    it('without the Administrator role fails before any change, naming the identity', async () => {
      w.addPat('deploy', 2);
      const before = w.emu.state.snapshot();
      const run = await w.run(
        { ...w.signIn(), ...inputs, groupAuth: 'jobToken' },
        { ENDPOINT_AUTH_PARAMETER_SYSTEMVSSCONNECTION_ACCESSTOKEN: w.emu.state.issueJobToken() },
      );
      assertResult(run, 'Failed');
      assert.match(
        run.message,
        /Input 'variableGroup': the job's build service identity \(groupAuth: jobToken\) may not change variable group 'pat-store'.*Administrator role.*or use groupAuth entra/,
      );
      assert.equal(w.emu.state.snapshot(), before);
    });
  });
});
