/**
 * docs/compatibility.md promises "every endpoint in src/http/routes.ts": a route added without a word
 * in the doc fails here.
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ROUTES } from '../../src/http/routes.js';

const DOC = fs.readFileSync(fileURLToPath(new URL('../../docs/compatibility.md', import.meta.url)), 'utf8');

describe('docs/compatibility.md', () => {
  it('names every route of src/http/routes.ts', () => {
    expect(ROUTES.length).toBeGreaterThan(20);
    const missing = ROUTES.map((r) => (r.path.includes('.svc/') ? r.path.split('.svc/')[1] : r.path)).filter((op) => !DOC.includes(op));
    expect(missing).toEqual([]);
  });
});
