/**
 * Migration 0003 on a database written before it: each account's existing leads are numbered from 1
 * in the order they were made, the account's counter continues from there, and the account is
 * marked for the start-up re-keying of phone numbers. On the engine of the vitest project.
 */
import { Kysely, PostgresDialect, SqliteDialect, sql } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { createPool, openPostgresStore, parsePostgresUrl } from '../../src/storage/postgres/postgres-store.js';
import { postgresMigrations } from '../../src/storage/postgres/migrations.js';
import { migrateDb } from '../../src/storage/sql/sql-store.js';
import { sqliteDriver } from '../../src/storage/sqlite/driver.js';
import { sqliteMigrations } from '../../src/storage/sqlite/migrations.js';
import { openSqliteStore } from '../../src/storage/sqlite/sqlite-store.js';
import type { Store } from '../../src/storage/store.js';
import { dropSchemas, freshSchema } from '../helpers/pg.js';
import { tempDir } from '../helpers/server.js';

const onPostgres = process.env.LEADTRAIL_TEST_STORE === 'postgres';
const schemas: string[] = [];
afterAll(() => dropSchemas(schemas));

const before = (all: Record<string, unknown>) => Object.fromEntries(Object.entries(all).filter(([k]) => k < '0003')) as any;

/** A database migrated up to 0002, written through `write`, then opened (and so migrated) by today's code. */
async function upgrade(write: (db: Kysely<any>) => Promise<void>): Promise<Store> {
  if (onPostgres) {
    const schema = freshSchema();
    schemas.push(schema.name);
    const pool = createPool(parsePostgresUrl(schema.url), { poolSize: 1, statementTimeoutMs: 10_000 });
    const db = new Kysely<any>({ dialect: new PostgresDialect({ pool }) });
    await sql.raw(`CREATE SCHEMA "${schema.name}"`).execute(db);
    await migrateDb(db, before(postgresMigrations), schema.name);
    await write(db);
    await db.destroy();
    return openPostgresStore(schema.url, { poolSize: 2, statementTimeoutMs: 10_000 });
  }
  const file = `${tempDir()}/old.db`;
  const db = new Kysely<any>({ dialect: new SqliteDialect({ database: new (sqliteDriver())(file) }) });
  await migrateDb(db, before(sqliteMigrations));
  await write(db);
  await db.destroy();
  return openSqliteStore(file);
}

describe('migration 0003 on existing data', () => {
  it('numbers each account\'s leads from 1 by creation order, and continues from there', async () => {
    const store = await upgrade(async (db) => {
      for (const id of ['acc-a', 'acc-b']) await db.insertInto('accounts').values({ id, name: id, created_at: 1 }).execute();
      // Interleaved: the database-wide sequence was a1, b1, a2, b2, a3.
      for (const [id, account] of [['a1', 'acc-a'], ['b1', 'acc-b'], ['a2', 'acc-a'], ['b2', 'acc-b'], ['a3', 'acc-a']]) {
        await db
          .insertInto('leads')
          .values({ id, account_id: account, fields: '{"FirstName":"x"}', score: 0, engagement_score: 0, created_on: 1, modified_on: 1 })
          .execute();
      }
    });
    try {
      const auto = async (account: string, id: string) => (await store.leads.get(account, id))?.autoId;
      expect([await auto('acc-a', 'a1'), await auto('acc-a', 'a2'), await auto('acc-a', 'a3')]).toEqual([1, 2, 3]);
      expect([await auto('acc-b', 'b1'), await auto('acc-b', 'b2')]).toEqual([1, 2]);
      const next = await store.transaction((tx) =>
        tx.leads.insert({ id: 'b3', accountId: 'acc-b', autoId: 0, fields: {}, score: 0, engagementScore: 0, createdOn: 2, modifiedOn: 2, lastActivityId: null, lastActivityName: null, lastActivityOn: null }, []),
      );
      expect(next).toBe(3);
      // Both accounts existed before: their phone keys are re-keyed at the next start.
      expect(await store.leads.accountsKeyedBefore(2)).toEqual(['acc-a', 'acc-b']);
    } finally {
      await store.close();
    }
  });
});
