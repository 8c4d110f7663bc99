/**
 * Migration tests: a database of the vitest project's engine migrated up to (not including)
 * migration `upTo`, written through `write`, then opened (and so migrated to the latest) by today's
 * code. PostgreSQL schemas are dropped after the file.
 */
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { afterAll } from 'vitest';
import { createPool, openPostgresStore, parsePostgresUrl } from '../../src/storage/postgres/postgres-store.js';
import { postgresMigrations } from '../../src/storage/postgres/migrations.js';
import { migrateDb } from '../../src/storage/sql/sql-store.js';
import { sqliteDriver } from '../../src/storage/sqlite/driver.js';
import { sqliteMigrations } from '../../src/storage/sqlite/migrations.js';
import { openSqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import type { Store } from '../../src/storage/store.js';
import { dropSchemas, freshSchema } from './pg.js';
import { tempDir } from './server.js';

const onPostgres = process.env.LEADTRAIL_TEST_STORE === 'postgres';
const schemas: string[] = [];
afterAll(() => dropSchemas(schemas));

const before = (all: Record<string, unknown>, upTo: string) => Object.fromEntries(Object.entries(all).filter(([k]) => k < upTo)) as any;

export async function upgradeFrom(upTo: string, write: (db: Kysely<any>) => Promise<void>): Promise<Store> {
  if (onPostgres) {
    const schema = freshSchema();
    schemas.push(schema.name);
    const pool = createPool(parsePostgresUrl(schema.url), { poolSize: 1, statementTimeoutMs: 10_000 });
    const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
    await sql.raw(`CREATE SCHEMA "${schema.name}"`).execute(db);
    await migrateDb(db, before(postgresMigrations, upTo), schema.name);
    await write(db);
    await db.destroy();
    return openPostgresStore(schema.url, { poolSize: 2, statementTimeoutMs: 10_000 });
  }
  const file = `${tempDir()}/old.db`;
  const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new (sqliteDriver())(file) }) });
  await migrateDb(db, before(sqliteMigrations, upTo));
  await write(db);
  await db.destroy();
  return openSqliteStore(file);
}
