import fs from 'node:fs';
import path from 'node:path';
import { Kysely, SqliteDialect } from 'kysely';
import type { Store } from '../store.js';
import type { DB } from '../sql/schema.js';
import { REF_TOKEN_SQL } from '../sql/ref-cache.js';
import { DEFAULT_FN_TIMEOUT_MS, migrated, sqlStore } from '../sql/sql-store.js';
import { sqliteDriver, type SqliteDatabase } from './driver.js';
import { sqliteMigrations } from './migrations.js';

export interface SqliteOptions {
  /** How long one transaction function may run before it is rolled back (src/storage/pipeline.ts). */
  fnTimeoutMs?: number;
}

/** Prepared statements kept per connection; past this many distinct SQL texts the cache starts over. */
const STATEMENT_CACHE = 1000;

/**
 * The connection as Kysely's SQLite dialect sees it, with each SQL text prepared once: Kysely's
 * driver prepares every query anew, which was 13% of a sync Create's CPU.
 */
function withStatementCache(db: SqliteDatabase): ConstructorParameters<typeof SqliteDialect>[0]['database'] & object {
  const cache = new Map<string, ReturnType<SqliteDatabase['prepare']>>();
  return {
    close: () => db.close(),
    prepare(text: string) {
      let stmt = cache.get(text);
      if (!stmt) {
        if (cache.size >= STATEMENT_CACHE) cache.clear();
        stmt = db.prepare(text);
        cache.set(text, stmt);
      }
      return stmt;
    },
  };
}

/** Reads ref_version's token on `conn`, prepared on first use (after the migrations made the table). */
function rawToken(conn: SqliteDatabase): () => string {
  let stmt: { get(): unknown } | null = null;
  return () => {
    stmt ??= conn.prepare<[]>(REF_TOKEN_SQL).pluck().safeIntegers(); // exact: tokens are 64-bit
    return String(stmt.get());
  };
}

function connect(file: string): SqliteDatabase {
  const sqlite = new (sqliteDriver())(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('foreign_keys = ON');
  return sqlite;
}

/**
 * Opens (creating it and its folder if needed) the SQLite file and migrates it. WAL lets readers
 * run beside the writer; synchronous=FULL makes every commit reach the disk before we answer,
 * which is what "accepted" promises. One process owns the file.
 *
 * Two connections: the writer, on which the write pipeline runs every transaction (group commit,
 * one batch at a time), and a reader for reads made outside a transaction. The reader sees only
 * committed data, and does not wait for a batch in progress. (`:memory:` has one connection: a
 * second would be another database.)
 */
export async function openSqliteStore(file: string, opts: SqliteOptions = {}): Promise<Store> {
  const memory = file === ':memory:';
  if (!memory) fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const writeConn = connect(file);
  const writer = new Kysely<DB>({ dialect: new SqliteDialect({ database: withStatementCache(writeConn) }) });
  let reader = writer;
  let readConn = writeConn;
  if (!memory) {
    readConn = connect(file);
    readConn.pragma('query_only = ON');
    reader = new Kysely<DB>({ dialect: new SqliteDialect({ database: withStatementCache(readConn) }) });
  }
  return migrated(
    sqlStore({
      engine: 'sqlite',
      writer,
      reader,
      topLevelWrites: 'pipeline',
      slots: 1,
      gatherTurn: true,
      fnTimeoutMs: opts.fnTimeoutMs ?? DEFAULT_FN_TIMEOUT_MS,
      migrations: sqliteMigrations,
      // The reference-data token (sql/ref-cache.ts) is read before every cached lookup: as a raw
      // prepared statement it costs about a microsecond, through Kysely several.
      refToken: { reader: rawToken(readConn), writer: rawToken(writeConn) },
    }),
  );
}
