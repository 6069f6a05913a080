/** `node build/test/emulator/cli.js [--port N] [--latency MS] [--interval S]`: the emulator with the demo seed, until Ctrl-C. */
import { start } from './index';
import { seedDemo } from './demo-seed';
import { daysLeftText } from '../../tasks/PatRotate/src/rotation/days';

function arg(name: string): number | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return undefined;
  const n = Number(process.argv[i + 1]);
  if (!Number.isFinite(n)) throw new Error(`--${name} needs a number`);
  return n;
}

async function main(): Promise<void> {
  const em = await start({ port: arg('port'), latencyMs: arg('latency'), deviceCodeIntervalSeconds: arg('interval') });
  const seed = seedDemo(em);
  const lines = [
    `PatRotate emulator listening on ${em.url}`,
    `CA file:            ${em.caFile}   (export NODE_EXTRA_CA_CERTS=${em.caFile})`,
    `Tenant id:          ${em.state.tenantId}`,
    `Authority:          ${em.url}/${em.state.tenantId}   (knownAuthorities: ["127.0.0.1:${em.port}"])`,
    `Client id:          ${seed.clientId}`,
    `User:               ${seed.user.upn} (oid ${seed.user.oid}, password alice-password)`,
    `Organization URL:   ${em.url}/${seed.org.name}`,
    `Project:            ${seed.project.name}`,
    `Variable group:     ${seed.group.name} (id ${seed.group.id})`,
    `PATs:               ${[seed.pats.expiringSoon, seed.pats.fresh, seed.pats.expired].map((p) => `${p.displayName} (${p.validTo.getTime() > Date.now() ? `expires in ${daysLeftText(p.validTo.getTime() - Date.now())}` : 'expired'})`).join(', ')}`,
    `Refresh token:      ${seed.refreshToken}`,
    'Press Ctrl-C to stop.',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  const stop = (): void => {
    void em.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${String(err)}\n`);
  process.exit(1);
});
