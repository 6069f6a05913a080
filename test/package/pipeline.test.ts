// azure-pipelines.yml, the release path: valid YAML, tests and packages on main, and publishes with a short-lived
// Entra token from a workload-identity service connection, never with a personal access token.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { load } from 'js-yaml';
import { REPO_ROOT } from '../helpers/runTask';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = any;

const ADO_RESOURCE = '499b84ac-1321-427f-aa17-267ca6975798';

/** Every step of every job of every stage (deployment jobs included). */
function steps(doc: Json): Json[] {
  return (doc.stages as Json[]).flatMap((s) =>
    (s.jobs as Json[]).flatMap((j) => j.steps ?? j.strategy?.runOnce?.deploy?.steps ?? []),
  );
}

/** Every string value in the document (comments are not values). */
function strings(v: Json): string[] {
  if (typeof v === 'string') return [v];
  if (Array.isArray(v)) return v.flatMap(strings);
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => [k, ...strings(x)]);
  return [];
}

describe('package: azure-pipelines.yml', () => {
  const doc: Json = load(readFileSync(path.join(REPO_ROOT, 'azure-pipelines.yml'), 'utf8'));

  it('is valid YAML with a Build and a Publish stage, triggered by main and v* tags', () => {
    assert.deepEqual(doc.trigger.branches.include, ['main']);
    assert.deepEqual(doc.trigger.tags.include, ['v*']);
    assert.deepEqual(
      doc.stages.map((s: Json) => s.stage),
      ['Build', 'Publish'],
    );
  });

  it('runs npm ci, npm test and npm run package in the Build stage', () => {
    const scripts = (doc.stages[0].jobs as Json[])
      .flatMap((j) => j.steps)
      .map((s: Json) => s.script)
      .filter(Boolean);
    for (const cmd of ['npm ci', 'npm test', 'npm run package'])
      assert.ok(
        scripts.some((s: string) => s.startsWith(cmd)),
        `no '${cmd}' step`,
      );
    assert.ok(scripts.indexOf('npm test') < scripts.indexOf('npm run package'));
  });

  it('publishes only on a v* tag or a manual run, after the Build stage', () => {
    const publish = doc.stages[1];
    assert.equal(publish.dependsOn, 'Build');
    assert.match(publish.condition, /startsWith\(variables\['Build\.SourceBranch'\], 'refs\/tags\/v'\)/);
    assert.match(publish.condition, /parameters\.publish/);
  });

  it('gets an Entra token with AzureCLI@2 from the service connection, and passes it to tfx extension publish', () => {
    const all = steps(doc);
    const cli = all.find((s) => s.task === 'AzureCLI@2');
    assert.ok(cli, 'no AzureCLI@2 step');
    assert.equal(cli.inputs.azureSubscription, '${{ parameters.serviceConnection }}');
    assert.match(cli.inputs.inlineScript, /az account get-access-token --resource "\$\(azureDevOpsResource\)"/);
    assert.equal(doc.variables.azureDevOpsResource, ADO_RESOURCE);
    assert.match(cli.inputs.inlineScript, /task\.setvariable variable=MarketplaceToken;issecret=true/);
    const tfx = all.find((s) => typeof s.script === 'string' && s.script.includes('tfx extension publish'));
    assert.ok(tfx, 'no tfx extension publish step');
    assert.ok(all.indexOf(cli) < all.indexOf(tfx), 'tfx runs before the token exists');
    assert.match(tfx.script, /--token "\$MARKETPLACE_TOKEN"/);
    assert.equal(tfx.env.MARKETPLACE_TOKEN, '$(MarketplaceToken)');
  });

  it('uses no personal access token anywhere', () => {
    for (const s of strings(doc)) {
      // tfx names its bearer-token option "--auth-type pat": the only "pat" allowed, and only with the Entra token.
      const rest = s.replace(/--auth-type pat --token "\$MARKETPLACE_TOKEN"/g, '');
      assert.doesNotMatch(
        rest,
        /\bpat\b|personal.?access|System\.AccessToken|SYSTEM_ACCESSTOKEN/i,
        `PAT usage in: ${s}`,
      );
    }
    for (const s of steps(doc))
      assert.doesNotMatch(
        s.task ?? '',
        /^(PublishAzureDevOpsExtension|TfxInstaller)@/,
        'an extension-publishing task with its own (PAT) connection',
      );
  });
});
