import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderSdkTypes } from '../../scripts/sdk-types.mjs';
import { type Harness, startHarness } from '../helpers/harness.js';

let h: Harness;
beforeAll(async () => {
  h = await startHarness({}, { workers: false });
});
afterAll(async () => {
  await h?.close();
});

describe('sdk/src/openapi.d.ts', () => {
  it('is what `npm run sdk:types` writes from the /openapi.json signoff serves now', async () => {
    const document = (await h.api({ method: 'GET', url: '/openapi.json', token: null })).json();
    const committed = readFileSync(new URL('../../sdk/src/openapi.d.ts', import.meta.url), 'utf8');
    // A plain equality, not toEqual on 3,000 lines: the message names the fix.
    const fresh = await renderSdkTypes(document);
    expect(committed === fresh, 'sdk/src/openapi.d.ts is stale: run `npm run sdk:types` and commit it').toBe(
      true,
    );
  });
});
