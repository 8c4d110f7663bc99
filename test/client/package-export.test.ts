/**
 * `import { createClient } from 'leadtrail/client'` resolves through package.json "exports" to the
 * built client (npm test builds first), and it talks to a running leadtrail.
 */
import { describe, expect, it } from 'vitest';
import { KEYS, started } from '../helpers/server.js';

describe('leadtrail/client as a package export', () => {
  it('resolves to the build and calls the API', async () => {
    const mod = (await import('leadtrail/client' as string)) as typeof import('../../src/client/index.js');
    expect(typeof mod.createClient).toBe('function');
    expect(typeof mod.LeadSquaredError).toBe('function');
    const s = await started();
    const lsq = mod.createClient({ baseUrl: s.url, ...KEYS });
    expect(Array.isArray(await lsq.activityTypesGet())).toBe(true);
  });
});
