/**
 * Whether an existing SQLite file is leadtrail's, checked before a store opens it (which would make
 * leadtrail's tables in it). Light: the driver only (the event loop has it already for the owner
 * lock), not the store's modules.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DEFAULT_MIGRATION_TABLE } from 'kysely';
import { LOCK_WAIT_MS, NoDatabaseError, UnusableDatabaseError } from '../store.js';
import { sqliteDriver } from './driver.js';

/**
 * What `file` (an existing SQLite file) holds: `leadtrail` when it has the migrations' bookkeeping
 * table, which every leadtrail store has from its first open; `empty` when it has no table at all;
 * otherwise the names of the first tables of another program (at most 3). Changes nothing: the
 * connection writes nothing and removes the -wal and -shm files it made as it closes (unless another
 * connection, a server's, still uses them). A file that is no SQLite database throws SQLite's error.
 */
function contents(file: string): 'leadtrail' | 'empty' | string[] {
  const db = new (sqliteDriver())(file, { fileMustExist: true });
  try {
    db.pragma(`busy_timeout = ${LOCK_WAIT_MS}`);
    const names = db
      .prepare<[], string>("select name from sqlite_master where type = 'table' and name not like 'sqlite\\_%' escape '\\' order by name")
      .pluck()
      .all();
    if (names.includes(DEFAULT_MIGRATION_TABLE)) return 'leadtrail';
    return names.length === 0 ? 'empty' : names.slice(0, 3);
  } finally {
    db.close();
  }
}

const foreign = (where: string, tables: string[]) =>
  new UnusableDatabaseError(where, `the file is another program's SQLite database (it has tables such as ${tables.join(', ')}, none of leadtrail's), and leadtrail does not add its tables to it`);

/**
 * Throws UnusableDatabaseError, having changed nothing, when `file` exists and is another program's
 * SQLite database (tables, none of them leadtrail's): `serve`, `migrate` and `account create` had
 * added leadtrail's tables to it and switched it to WAL (a mistyped `--db`, or the advice of the
 * commands that read a database; found by a fresh-eyes run). A missing or empty file, or one with
 * no tables, is fine: it is made leadtrail's.
 */
export function refuseForeignFile(file: string): void {
  const where = path.resolve(file);
  const stat = fs.statSync(where, { throwIfNoEntry: false });
  if (!stat || stat.size === 0) return;
  const found = contents(where);
  if (Array.isArray(found)) throw foreign(where, found);
}

/**
 * Throws, having changed nothing, unless `file` holds a leadtrail database: NoDatabaseError for a
 * file that does not exist or holds no table (opening would fill it with leadtrail's tables: the
 * commands that only read refuse it), UnusableDatabaseError for another program's database. A file
 * that is no SQLite database at all throws SQLite's error ("file is not a database").
 */
export function requireLeadtrailFile(file: string): void {
  const where = path.resolve(file);
  if (!fs.existsSync(where)) throw new NoDatabaseError(where, '');
  const found = contents(where);
  if (found === 'empty') throw new NoDatabaseError(where, 'the file holds no leadtrail tables');
  if (Array.isArray(found)) throw foreign(where, found);
}
