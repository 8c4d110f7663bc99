import fs from 'node:fs';
import path from 'node:path';
import { Kysely, SqliteDialect } from 'kysely';
import type { Store } from '../store.js';
import type { DB } from '../sql/schema.js';
import { migrated, sqlStore } from '../sql/sql-store.js';
import { sqliteDriver } from './driver.js';
import { sqliteMigrations } from './migrations.js';

/**
 * Opens (creating it and its folder if needed) the SQLite file and migrates it. WAL lets readers
 * run beside the writer; synchronous=FULL makes every commit reach the disk before we answer,
 * which is what "accepted" promises. One process owns the file.
 */
export async function openSqliteStore(file: string): Promise<Store> {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const sqlite = new (sqliteDriver())(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  const db = new Kysely<DB>({ dialect: new SqliteDialect({ database: sqlite }) });
  return migrated(sqlStore(db, 'sqlite', sqliteMigrations));
}
