// Outside text never becomes a logging command: PAT names, server error messages, group names, the UPN and Entra's
// error descriptions are hostile here, and the output is read with the agent's own rule (a `##vso[` anywhere in a
// line, a bare \r ends a line, ignorable characters skipped). Summary cells must not carry markdown or HTML.
import assert from 'node:assert/strict';
import type { TaskRun } from '../helpers/runTask';
import { assertResult, CLIENT_ID, live, worldPerTest, type World } from './world';

/** Each of these would set a variable, prepend PATH or complete the task if printed as is. */
const HOSTILE = [
  'x ##vso[task.setvariable variable=Injected]pwned',
  'cr\r##vso[task.prependpath]/evil',
  'lf\n##[error]fake ##vso[task.complete result=Succeeded]done',
  '#\u200b#vso[task.setvariable variable=Injected;issecret=false]zw',
  '##VSO[task.setvariable variable=Injected]upper',
];

/** No command but the task's own: nothing named Injected, no PATH change, one task.complete. */
function assertInert(run: TaskRun): void {
  const bad = run.commands.filter(
    (c) =>
      c.name === 'task.prependpath' ||
      c.props.variable === 'Injected' ||
      /pwned|\/evil|zw|upper/.test(c.props.variable ?? ''),
  );
  assert.deepEqual(bad, [], `injected commands:\n${run.stdout}`);
  assert.equal(
    run.commands.filter((c) => c.name === 'task.complete').length,
    1,
    `exactly one task.complete:\n${run.stdout}`,
  );
  assert.ok(!run.variables.has('Injected'));
}

describe('e2e: outside text stays text (logging-command injection)', function () {
  this.timeout(60_000);
  let w!: World;
  worldPerTest((x) => (w = x));

  it('PAT names in a list run', async () => {
    for (const name of HOSTILE) w.addPat(name, 20);
    const run = await w.spawn({ ...w.signIn(), operation: 'list' });
    assertResult(run, 'Succeeded');
    assertInert(run);
    assert.match(run.stdout, /x ＃＃vso\[task\.setvariable variable=Injected\]pwned/);
    assert.match(run.stdout, /cr ⏎ ＃＃vso\[task\.prependpath\]/);
  });

  it('PAT names in a bulk rotation into a group, and in the summary table', async () => {
    w.addPat('svc-a ##vso[task.setvariable variable=Injected]x', 2);
    w.addPat('svc-b | <img src=x onerror=alert(1)> [link](https://evil.example) `code`', 2);
    const run = await w.spawn({
      ...w.signIn(),
      displayName: 'svc-*',
      target: 'variableGroup',
      variableGroup: 'pat-store',
      variableName: 'PAT.{displayName}',
    });
    assertResult(run, 'Succeeded');
    assertInert(run);
    assert.equal(live(w).length, 2);
    const summary = run.summaryTexts[0];
    const rows = summary.split('\n').filter((l) => l.startsWith('| svc'));
    assert.equal(rows.length, 2, summary);
    for (const row of rows) assert.equal(row.split(/(?<!\\)\|/).length, 8, `a name cannot add columns: ${row}`);
    assert.ok(!summary.includes('<img'), 'HTML escaped');
    assert.ok(!/\]\(https/.test(summary), 'no live markdown link');
    assert.ok(!summary.includes('##vso['));
  });

  it('a server error message carrying a command', async () => {
    w.addPat('deploy', 2);
    w.emu.faults.add({
      method: 'POST',
      path: '/contoso/_apis/tokens/pats',
      action: {
        kind: 'status',
        status: 400,
        body: {
          message: 'bad\r##vso[task.setvariable variable=Injected]pwned\n##vso[task.complete result=Succeeded]ok',
          typeKey: 'X',
        },
      },
    });
    const run = await w.spawn({ ...w.signIn(), displayName: 'deploy', target: 'none' });
    assertResult(run, 'Failed');
    assertInert(run);
  });

  it('a patTokenError message carrying a command', async () => {
    w.addPat('deploy', 2);
    w.emu.faults.add({
      method: 'POST',
      path: '/contoso/_apis/tokens/pats',
      action: {
        kind: 'status',
        status: 200,
        body: {
          patToken: null,
          patTokenError: 'fullScopePatPolicyViolation',
          patTokenErrorMessage: 'no ##vso[task.setvariable variable=Injected]pwned',
        },
      },
    });
    const run = await w.spawn({ ...w.signIn(), displayName: 'deploy', target: 'none' });
    assertResult(run, 'Failed');
    assertInert(run);
  });

  it('a variable group name and the UPN', async () => {
    w.addPat('deploy', 2);
    const evilUser = w.emu.state.addUser({ upn: 'eve##vso[task.setvariable variable=Injected]pwned@contoso.example' });
    w.emu.state.addPat(evilUser.oid, 'contoso', {
      displayName: 'deploy',
      scope: 'vso.code',
      validFrom: new Date(Date.now() - 86_400_000),
      validTo: new Date(Date.now() + 86_400_000),
    });
    const g = w.emu.state.addGroup('contoso', 'Platform', {
      name: 'grp ##vso[task.prependpath]/evil',
      admins: [evilUser.oid],
      variables: {},
    });
    const run = await w.spawn({
      authMethod: 'refreshToken',
      refreshToken: w.emu.state.issueRefreshToken(evilUser.oid, CLIENT_ID),
      authorityHost: w.emu.url,
      tenantId: w.emu.state.tenantId,
      displayName: 'deploy',
      target: 'variableGroup',
      variableGroup: String(g.id),
      variableName: 'Deploy.Pat',
    });
    assertResult(run, 'Succeeded');
    assertInert(run);
    assert.match(run.stdout, /Signed in as eve＃＃vso/);
  });

  it('a service connection name and type from the server', async () => {
    w.addPat('deploy', 2);
    const connection = w.emu.state.addEndpoint('contoso', 'Platform', {
      name: 'conn ##vso[task.setvariable variable=Injected]pwned | <img src=x onerror=alert(1)>',
      type: 'externaltfs',
      url: 'https://dev.azure.com/fabrikam',
      scheme: 'Token',
      parameters: { apitoken: 'old-connection-token-1' },
      roles: { [w.user.oid]: 'Administrator' },
    });
    w.supplied.push('old-connection-token-1');
    const inputs = { displayName: 'deploy', target: 'serviceConnection', serviceConnection: connection.id };
    const run = await w.spawn({ ...w.signIn(), ...inputs });
    assertResult(run, 'Succeeded');
    assertInert(run);
    assert.match(run.stdout, /conn ＃＃vso\[task\.setvariable variable=Injected\]pwned/);
    const summary = run.summaryTexts.join('\n');
    assert.ok(summary.includes('conn ') && !summary.includes('##vso[') && !summary.includes('<img'), summary);
    connection.type = 'azurerm\n##vso[task.setvariable variable=Injected]type';
    const refused = await w.spawn({ ...w.signIn(), ...inputs });
    assertResult(refused, 'Failed');
    assertInert(refused);
    assert.match(refused.message ?? '', /azurerm ⏎ ＃＃vso/);
  });

  it('an Entra error description carrying a command', async () => {
    w.emu.faults.add({
      method: 'POST',
      path: `/${w.emu.state.tenantId}/oauth2/v2.0/token`,
      action: {
        kind: 'status',
        status: 400,
        body: {
          error: 'invalid_grant',
          error_codes: [70000],
          error_description:
            'AADSTS70000: bad ##vso[task.setvariable variable=Injected]pwned\r##vso[task.prependpath]/evil',
        },
      },
    });
    const run = await w.spawn({ ...w.signIn(), displayName: 'deploy' });
    assertResult(run, 'Failed');
    assertInert(run);
  });
});
