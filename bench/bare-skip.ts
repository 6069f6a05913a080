// The skip-run baseline as a bare Node script: the same two HTTPS calls the task needs when nothing is due
// (token POST with the refresh token, then the PAT list GET), with node:https and nothing else.
// Run as a child process by run.ts so it pays node's start-up exactly as the task does. Self-contained on purpose.
import * as https from 'node:https';
import { readFileSync } from 'node:fs';

interface Answer {
  status: number;
  body: string;
}

function request(
  agent: https.Agent,
  method: string,
  url: string,
  headers: Record<string, string>,
  body?: string,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = https.request(url, { method, agent, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

function expectOk(a: Answer, what: string): Answer {
  if (a.status !== 200) throw new Error(`${what}: HTTP ${a.status}`);
  return a;
}

async function main(): Promise<void> {
  const e = (k: string) => process.env[k] ?? '';
  const agent = new https.Agent({ keepAlive: true, ca: readFileSync(e('BENCH_CA'), 'utf8') });
  const form = new URLSearchParams({
    grant_type: 'refresh_token',
    client_id: e('BENCH_CLIENT'),
    refresh_token: e('BENCH_RT'),
    scope: '499b84ac-1321-427f-aa17-267ca6975798/.default openid profile offline_access',
  }).toString();
  const tok = expectOk(
    await request(
      agent,
      'POST',
      `${e('BENCH_URL')}/${e('BENCH_TENANT')}/oauth2/v2.0/token`,
      { 'Content-Type': 'application/x-www-form-urlencoded' },
      form,
    ),
    'token',
  );
  const accessToken = (JSON.parse(tok.body) as { access_token: string }).access_token;
  const list = expectOk(
    await request(
      agent,
      'GET',
      `${e('BENCH_URL')}/contoso/_apis/tokens/pats?displayFilterOption=active&$top=100&api-version=7.1-preview.1`,
      { Authorization: `Bearer ${accessToken}`, Accept: 'application/json' },
    ),
    'list',
  );
  const n = (JSON.parse(list.body) as { patTokens: unknown[] }).patTokens.length;
  agent.destroy();
  process.stdout.write(`${n} PAT(s)\n`);
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
