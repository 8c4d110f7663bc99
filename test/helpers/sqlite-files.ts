/**
 * SQLite files for storage tests: `dbFile()` makes a fresh file path in a temporary folder of its own;
 * stores pushed onto `stores` are closed, and the folders removed, after each test.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import type { Store } from '../../src/storage/store.js';

export function sqliteFiles(prefix: string): { dbFile: () => string; stores: Store[] } {
  const dirs: string[] = [];
  const stores: Store[] = [];
  afterEach(async () => {
    for (const s of stores.splice(0)) await s.close().catch(() => {});
    for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
  });
  return {
    stores,
    dbFile() {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
      dirs.push(dir);
      return path.join(dir, 'leadtrail.db');
    },
  };
}
