// Bench 7: a bulk rotation of 50 PATs into one Key Vault (workload identity federation), emulator latency 40 ms, at
// the default concurrency and at 16: wall time against the ideal, requests per PAT, and how many vault writes were
// in flight at once (the store writes at most `concurrency` secrets at a time).
import { parseCommands } from '../test/helpers/runTask';
import { vaultWorld } from '../test/e2e/vaultWorld';
import { ms, ratio, runNode, table, TASK_BUNDLE, taskEnv } from './lib';

const N = 50;
const LATENCY = 40;

export async function keyVaultBulk(say: (text?: string) => void): Promise<void> {
  say(`## 7. Bulk into Key Vault: ${N} PATs → ${N} secrets, emulator latency ${LATENCY} ms`);
  const rows: (string | number)[][] = [];
  for (const concurrency of [4, 16]) {
    const v = await vaultWorld('wif', 'officer', { latencyMs: LATENCY });
    try {
      for (let i = 0; i < N; i++) v.addPat(`svc-${String(i).padStart(2, '0')}`, 2);
      const inputs = v.vaultInputs({
        organization: `${v.emu.url}/contoso`,
        displayName: 'svc-*',
        secretName: 'PAT-{displayName}',
        concurrency: String(concurrency),
      });
      const env = { SYSTEM_TEAMPROJECT: 'Platform', SYSTEM_COLLECTIONURI: `${v.emu.url}/contoso/`, ...v.env };
      const run = await runNode(TASK_BUNDLE, taskEnv(inputs, env, v.emu.caFile));
      const result = parseCommands(run.stdout)
        .filter((c) => c.name === 'task.complete')
        .at(-1);
      if (result?.props.result !== 'Succeeded') throw new Error(`Key Vault bulk: ${result?.message ?? run.stderr}`);
      const stored = v.emu.state
        .pats(v.user.oid)
        .filter((p) => !p.revoked && v.versions(`PAT-${p.displayName}`).at(-1)?.value === p.token).length;
      if (stored !== N) throw new Error(`Key Vault bulk: ${stored} of ${N} stored`);
      const puts = v.emu.log.filter(
        (e) => e.vault && e.method === 'PUT' && e.path !== `/secrets/PatRotate-RefreshToken`,
      );
      // Every answer takes at least LATENCY ms: writes that arrived within that window of each other overlapped.
      const inFlight = Math.max(...puts.map((p) => puts.filter((q) => q.at <= p.at && q.at > p.at - LATENCY).length));
      const perPat = v.emu.log.length / N;
      // Ideal: sign-in and reads before the first create (~12 requests), then per PAT on `concurrency` lanes: the
      // vault preflight (read, deleted check of a new name, permission probe), create, verify, vault write, read
      // back, revoke.
      const ideal = (12 + 8 * Math.ceil(N / concurrency)) * LATENCY;
      rows.push([concurrency, ms(run.wallMs), ms(ideal), ratio(run.wallMs / ideal), perPat.toFixed(2), inFlight]);
    } finally {
      await v.close();
    }
  }
  say(
    table(['concurrency', 'wall', 'ideal', 'wall / ideal', 'requests per PAT', 'vault writes in flight (max)'], rows),
  );
  say(
    'Ideal = (12 requests before the first create + 8 × ceil(N/c): vault read, deleted check (new names only), permission probe, create, verify, vault write, read back, revoke) × 40 ms; the wall includes node start-up (~100 ms) and the rival check after the creates.',
  );
  say('');
}
