/** Chooses the adapter from the config: `DATABASE_URL=postgres://…` → PostgreSQL, else the SQLite file. */
import type { Config } from '../config.js';
import type { Store } from './store.js';

export async function openStore(config: Pick<Config, 'databaseUrl' | 'dbPath' | 'pgPoolSize' | 'statementTimeoutMs' | 'txTimeoutMs'> & Partial<Pick<Config, 'pgPrepared'>>): Promise<Store> {
  if (config.databaseUrl) {
    if (!/^postgres(ql)?:\/\//i.test(config.databaseUrl)) {
      throw new Error('DATABASE_URL must start with postgres:// or postgresql://');
    }
    const { openPostgresStore } = await import('./postgres/postgres-store.js');
    return openPostgresStore(config.databaseUrl, { poolSize: config.pgPoolSize, prepared: config.pgPrepared, statementTimeoutMs: config.statementTimeoutMs, fnTimeoutMs: config.txTimeoutMs });
  }
  const { openSqliteStore } = await import('./sqlite/sqlite-store.js');
  return openSqliteStore(config.dbPath, { fnTimeoutMs: config.txTimeoutMs });
}
