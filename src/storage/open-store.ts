/** Chooses the adapter from the config: `DATABASE_URL=postgres://…` → PostgreSQL, else the SQLite file. */
import { ConfigError, type Config } from '../config.js';
import type { ErrorCodec } from './operations.js';
import type { Store } from './store.js';
import { checkSqlitePath } from './sqlite/path-check.js';
import type { ReadTurnOptions } from './sqlite/read-turns.js';

/**
 * `operations`: for `sqliteWriter: 'thread'`, the module of named operations the writer thread
 * loads (its URL) and its error codec (sqlite/writer-protocol.ts); without it the thread runs
 * only transactions and repo writes. `options.readTurns`: the SQLite reader's shared read
 * transactions (sqlite/read-turns.ts; tests freeze them). `options.mustExist`: open only a
 * leadtrail database that is there, creating nothing: a SQLite file holding leadtrail's tables, or
 * a PostgreSQL database whose schema (`?schema=`, else the connection's default) holds them; else
 * NoDatabaseError (store.ts) saying which is missing. Without it the file (with its folder) or
 * the `?schema=` is created if missing, and every open migrates. A SQLite path that cannot hold a
 * database (a folder, another program's file) is UnusableDatabaseError (store.ts), either way.
 */
export async function openStore(
  config: Pick<Config, 'databaseUrl' | 'dbPath' | 'pgPoolSize' | 'statementTimeoutMs' | 'txTimeoutMs'> & Partial<Pick<Config, 'pgPrepared' | 'pgWriteBatches' | 'sqliteWriter'>>,
  operations?: { url: URL; errorCodec?: ErrorCodec },
  options: { readTurns?: ReadTurnOptions; mustExist?: boolean } = {},
): Promise<Store> {
  if (config.databaseUrl) {
    if (!/^postgres(ql)?:\/\//i.test(config.databaseUrl)) {
      throw new ConfigError('DATABASE_URL (--database-url) must start with postgres:// or postgresql://');
    }
    const { openPostgresStore } = await import('./postgres/postgres-store.js');
    return openPostgresStore(config.databaseUrl, {
      poolSize: config.pgPoolSize,
      writeBatches: config.pgWriteBatches,
      prepared: config.pgPrepared,
      statementTimeoutMs: config.statementTimeoutMs,
      fnTimeoutMs: config.txTimeoutMs,
      mustExist: options.mustExist,
    });
  }
  checkSqlitePath(config.dbPath);
  if (config.dbPath !== ':memory:') {
    const { refuseForeignFile, requireLeadtrailFile } = await import('./sqlite/own-file.js');
    if (options.mustExist) requireLeadtrailFile(config.dbPath);
    else refuseForeignFile(config.dbPath);
  }
  if (config.sqliteWriter === 'thread' && config.dbPath !== ':memory:') {
    const { openThreadedSqliteStore } = await import('./sqlite/thread-store.js');
    return openThreadedSqliteStore(config.dbPath, { fnTimeoutMs: config.txTimeoutMs, operations, readTurns: options.readTurns });
  }
  const { openSqliteStore } = await import('./sqlite/sqlite-store.js');
  return openSqliteStore(config.dbPath, { fnTimeoutMs: config.txTimeoutMs, readTurns: options.readTurns });
}
