/**
 * SQLite's writer thread loads its own copy of the code it runs, at every start of a server with
 * `LEADTRAIL_SQLITE_WRITER=thread` (the default of `leadtrail serve`). The endpoint schemas (zod and
 * the schema modules) were about 220 of the 250 ms its operations module took to load; it runs only
 * apply steps, which need none of them (src/wire/operation-apply.ts). This walks the run-time imports
 * (not `import type`) of the thread's two entry modules and fails when one reaches them again.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const SRC = fileURLToPath(new URL('../../src/', import.meta.url));
const ENTRIES = ['storage/sqlite/writer-thread.ts', 'wire/thread-operations.ts'];

/** Every module reached from `entries` by run-time imports: own files (relative to src/) and packages. */
function reached(entries: string[]): { own: Set<string>; packages: Set<string> } {
  const own = new Set<string>();
  const packages = new Set<string>();
  const visit = (rel: string) => {
    if (own.has(rel)) return;
    own.add(rel);
    const text = fs.readFileSync(path.join(SRC, rel), 'utf8');
    // Static imports and re-exports with a `from`, and bare `import '…'`; `import type` / `export type` erase.
    for (const m of text.matchAll(/^(import|export)\s+(type\s+)?(?:[^;]*?\sfrom\s+)?'([^']+)';/gms)) {
      if (m[2]) continue;
      const spec = m[3];
      if (spec.startsWith('.')) visit(path.relative(SRC, path.resolve(path.dirname(path.join(SRC, rel)), spec.replace(/\.js$/, '.ts'))));
      else packages.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]);
    }
  };
  for (const e of entries) visit(e);
  return { own, packages };
}

it("the writer thread's modules load no endpoint schema, zod, or JSON body reader", () => {
  const { own, packages } = reached(ENTRIES);
  // The walk itself works: it reaches what the thread does need.
  expect(own).toContain('wire/operation-apply.ts');
  expect(own).toContain('domain/activities.ts');
  expect(packages).toContain('kysely');
  expect([...own].filter((f) => f.startsWith('schemas/') || f === 'wire/json-body.ts' || f === 'wire/operations.ts')).toEqual([]);
  expect([...packages].filter((p) => ['zod', 'lossless-json', 'jsonc-parser', 'fastify'].includes(p))).toEqual([]);
});
