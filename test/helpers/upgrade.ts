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
  return (await oldDatabase(upTo, write)).open();
}

export interface OldDatabase {
  /** Opens it with today's code, migrating it to the latest (rejects if a migration fails). */
  open(): Promise<Store>;
  /** Works on it directly, as `write` did (between two opens, say). */
  change(fn: (db: Kysely<any>) => Promise<void>): Promise<void>;
}

/** As upgradeFrom, but the database is opened (and can be changed between opens) by the caller. */
export async function oldDatabase(upTo: string, write: (db: Kysely<any>) => Promise<void>): Promise<OldDatabase> {
  if (onPostgres) {
    const schema = freshSchema();
    schemas.push(schema.name);
    const connect = () => new Kysely<any>({ dialect: new PostgresDialect({ pool: createPool(parsePostgresUrl(schema.url), { poolSize: 1, statementTimeoutMs: 10_000 }) }) });
    const db = connect();
    await sql.raw(`CREATE SCHEMA "${schema.name}"`).execute(db);
    await migrateDb(db, before(postgresMigrations, upTo), schema.name);
    await write(db);
    await db.destroy();
    return {
      open: () => openPostgresStore(schema.url, { poolSize: 2, statementTimeoutMs: 10_000 }),
      change: async (fn) => {
        const db = connect();
        try {
          await fn(db);
        } finally {
          await db.destroy();
        }
      },
    };
  }
  const file = `${tempDir()}/old.db`;
  const connect = () => new Kysely<any>({ dialect: new SqliteDialect({ database: new (sqliteDriver())(file) }) });
  const db = connect();
  await migrateDb(db, before(sqliteMigrations, upTo));
  await write(db);
  await db.destroy();
  return {
    open: () => openSqliteStore(file),
    change: async (fn) => {
      const db = connect();
      try {
        await fn(db);
      } finally {
        await db.destroy();
      }
    },
  };
}
