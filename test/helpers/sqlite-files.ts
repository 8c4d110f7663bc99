/**
 * SQLite files for storage tests: `dbFile()` makes a fresh file path in a temporary folder of its own;
 * stores pushed onto `stores` are closed, and the folders removed, after each test.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach } from 'vitest';
import { sqliteDriver } from '../../src/storage/sqlite/driver.js';
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

/**
 * Rebuilds `users` with its account key checked at COMMIT (DEFERRABLE INITIALLY DEFERRED), on a
 * connection of its own: SQLite cannot alter a constraint. The contract's failing-COMMIT test uses it.
 */
export function deferUserAccountCheck(file: string): void {
  const raw = new (sqliteDriver())(file);
  try {
    raw.pragma('foreign_keys = OFF');
    raw.exec(`BEGIN;
      CREATE TABLE users_deferred (id TEXT PRIMARY KEY,
        account_id TEXT NOT NULL REFERENCES accounts(id) DEFERRABLE INITIALLY DEFERRED, email TEXT NOT NULL,
        first_name TEXT NOT NULL, last_name TEXT NOT NULL, role TEXT NOT NULL, created_at INTEGER NOT NULL);
      INSERT INTO users_deferred SELECT * FROM users;
      DROP TABLE users;
      ALTER TABLE users_deferred RENAME TO users;
      COMMIT;`);
  } finally {
    raw.close();
  }
}
