import assert from 'node:assert/strict';
import { resolveOrganization } from '../../tasks/PatRotate/src/ado/urls';

describe('ado/urls resolveOrganization', () => {
  const table: Array<[string, string | undefined, string, string, string]> = [
    // input, System.CollectionUri, collectionUrl, patApiUrl, organization
    ['contoso', undefined, 'https://dev.azure.com/contoso', 'https://vssps.dev.azure.com/contoso', 'contoso'],
    ['  my-org-1 ', undefined, 'https://dev.azure.com/my-org-1', 'https://vssps.dev.azure.com/my-org-1', 'my-org-1'],
    [
      '',
      'https://dev.azure.com/contoso/',
      'https://dev.azure.com/contoso',
      'https://vssps.dev.azure.com/contoso',
      'contoso',
    ],
    [
      '',
      'https://contoso.visualstudio.com/',
      'https://contoso.visualstudio.com',
      'https://vssps.dev.azure.com/contoso',
      'contoso',
    ],
    [
      'https://dev.azure.com/contoso',
      undefined,
      'https://dev.azure.com/contoso',
      'https://vssps.dev.azure.com/contoso',
      'contoso',
    ],
    [
      'https://dev.azure.com/contoso/Project/_git/repo',
      undefined,
      'https://dev.azure.com/contoso',
      'https://vssps.dev.azure.com/contoso',
      'contoso',
    ],
    [
      'https://DEV.AZURE.COM/contoso/',
      undefined,
      'https://dev.azure.com/contoso',
      'https://vssps.dev.azure.com/contoso',
      'contoso',
    ],
    [
      'https://contoso.visualstudio.com',
      undefined,
      'https://contoso.visualstudio.com',
      'https://vssps.dev.azure.com/contoso',
      'contoso',
    ],
    [
      'https://contoso.visualstudio.com/DefaultCollection/',
      undefined,
      'https://contoso.visualstudio.com/DefaultCollection',
      'https://vssps.dev.azure.com/contoso',
      'contoso',
    ],
    [
      'https://127.0.0.1:4433/contoso',
      undefined,
      'https://127.0.0.1:4433/contoso',
      'https://127.0.0.1:4433/contoso',
      'contoso',
    ],
    [
      'https://127.0.0.1:4433/contoso/',
      'https://dev.azure.com/other/',
      'https://127.0.0.1:4433/contoso',
      'https://127.0.0.1:4433/contoso',
      'contoso',
    ],
    [
      '',
      'https://127.0.0.1:4433/fabrikam/',
      'https://127.0.0.1:4433/fabrikam',
      'https://127.0.0.1:4433/fabrikam',
      'fabrikam',
    ],
  ];
  for (const [input, collectionUri, collectionUrl, patApiUrl, organization] of table) {
    it(`"${input}" (collection ${collectionUri ?? '-'})`, () => {
      assert.deepEqual(resolveOrganization(input, collectionUri), { collectionUrl, patApiUrl, organization });
    });
  }

  const bad: Array<[string, string | undefined, RegExp]> = [
    ['http://dev.azure.com/contoso', undefined, /must use https/],
    ['contoso org', undefined, /not an Azure DevOps organization/],
    ['-contoso', undefined, /not an Azure DevOps organization/],
    ['con_toso', undefined, /not an Azure DevOps organization/],
    ['https://dev.azure.com/', undefined, /not an Azure DevOps organization/],
    ['https://dev.azure.com/con_toso', undefined, /not an Azure DevOps organization/],
    ['https://user:pw@dev.azure.com/contoso', undefined, /not an Azure DevOps organization/],
    ['ftp://x/contoso', undefined, /must use https/],
    ['', undefined, /organization is empty/],
    ['', '  ', /organization is empty/],
  ];
  for (const [input, collectionUri, message] of bad) {
    it(`rejects "${input}"`, () => {
      assert.throws(
        () => resolveOrganization(input, collectionUri),
        (e: Error) => {
          assert.match(e.message, message);
          assert.match(e.message, /organization|CollectionUri/);
          assert.doesNotMatch(e.message, /^Input/, 'config.ts adds the input name');
          return true;
        },
      );
    });
  }
});
