/**
 * PostgreSQL's statement timeout (LEADTRAIL_STATEMENT_TIMEOUT_MS) is for API calls, not for the
 * migrations: one that builds an index or rewrites every row of a large table can take longer, and
 * a second process starting beside the first waits for the migration lock as long as the first
 * runs. Either had been cut off at the timeout and failed the start. Migrations run without it
 * (their transaction's own setting: the connection keeps it for API calls), waiting for a table's
 * lock no longer than it. PostgreSQL only: SQLite has no statement timeout.
 */
import { Kysely, PostgresDialect, sql, type Migration } from 'kysely';
import { afterAll, describe, expect, it } from 'vitest';
import { postgresMigrations } from '../../src/storage/postgres/migrations.js';
import { createPool, parsePostgresUrl } from '../../src/storage/postgres/postgres-store.js';
import { migrateDb } from '../../src/storage/sql/sql-store.js';
import { dropSchemas, freshSchema } from '../helpers/pg.js';

const ON_PG = process.env.LEADTRAIL_TEST_STORE === 'postgres';
const TIMEOUT_MS = 300;
const schemas: string[] = [];
afterAll(() => dropSchemas(schemas));

/** A Kysely on `schema` whose one connection has a statement timeout of `timeoutMs`. */
function connect(url: string, timeoutMs = TIMEOUT_MS) {
  return new Kysely<any>({ dialect: new PostgresDialect({ pool: createPool(parsePostgresUrl(url), { poolSize: 1, statementTimeoutMs: timeoutMs }) }) });
}

/** Whether another session is in the slow migration marked `marker`. */
async function sleeping(db: Kysely<any>, marker: string): Promise<boolean> {
  const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM pg_stat_activity WHERE state = 'active' AND pid <> pg_backend_pid() AND query LIKE ${`%/* ${marker} */%`}`.execute(db);
  return r.rows[0].n > 0;
}

/** Every migration of today's code, then one that runs for `ms` (past the timeout), its query marked with `marker`. */
function withSlow(ms: number, marker = 'slow'): Record<string, Migration> {
  return { ...postgresMigrations, '9999_test_slow': { up: async (db) => void (await sql.raw(`SELECT pg_sleep(${ms / 1000}) /* ${marker} */`).execute(db)) } };
}

describe.skipIf(!ON_PG)('migrations and the statement timeout (PostgreSQL)', () => {
  it('a migration that runs past the timeout is applied, and the connection keeps its timeout for API calls', async () => {
    const schema = freshSchema();
    schemas.push(schema.name);
    const db = connect(schema.url);
    try {
      await sql.raw(`CREATE SCHEMA "${schema.name}"`).execute(db);
      // The timeout is in force on this connection: a statement past it is cut off.
      await expect(sql`SELECT pg_sleep(${(TIMEOUT_MS * 3) / 1000})`.execute(db)).rejects.toThrow(/statement timeout/);
      // Today's first, so that the slow one runs in a transaction of its own (0015 switches the
      // timeout off for what follows it in the same transaction).
      await migrateDb(db, postgresMigrations, schema.name);
      await migrateDb(db, withSlow(TIMEOUT_MS * 3), schema.name);
      const done = await db.withSchema(schema.name).selectFrom('kysely_migration').select('name').execute();
      expect(done.map((r) => r.name)).toContain('9999_test_slow');
      const shown = await sql<{ statement_timeout: string }>`SHOW statement_timeout`.execute(db);
      expect(shown.rows[0].statement_timeout).toBe(`${TIMEOUT_MS}ms`);
    } finally {
      await db.destroy();
    }
  });

  it('a second process waits for the first one\'s migrations past the timeout, then finds them applied', async () => {
    const schema = freshSchema();
    schemas.push(schema.name);
    // The first process's own timeout is long: only the second one's wait is under test.
    const first = connect(schema.url, 30_000);
    const second = connect(schema.url);
    try {
      await sql.raw(`CREATE SCHEMA "${schema.name}"`).execute(first);
      await migrateDb(first, postgresMigrations, schema.name);
      const running = migrateDb(first, withSlow(TIMEOUT_MS * 5, schema.name), schema.name);
      // The second starts once the first holds the migration lock and runs its slow migration.
      for (let i = 0; !(await sleeping(second, schema.name)); i++) {
        expect(i, 'the slow migration never started').toBeLessThan(500);
        await new Promise((ok) => setTimeout(ok, 10));
      }
      await Promise.all([running, migrateDb(second, withSlow(TIMEOUT_MS * 5, schema.name), schema.name)]);
      const done = await second.withSchema(schema.name).selectFrom('kysely_migration').select('name').execute();
      expect(done.filter((r) => r.name === '9999_test_slow')).toHaveLength(1);
    } finally {
      await first.destroy();
      await second.destroy();
    }
  });

  it('a migration waiting for a table that another session holds gives up after the timeout', async () => {
    // Without a lock timeout, DDL queued behind (say) a pg_dump waits as long as it runs, and every
    // query of the table by the processes still serving queues behind the DDL.
    const schema = freshSchema();
    schemas.push(schema.name);
    const db = connect(schema.url);
    const holder = connect(schema.url, 30_000);
    try {
      await sql.raw(`CREATE SCHEMA "${schema.name}"`).execute(db);
      await migrateDb(db, postgresMigrations, schema.name);
      const alter: Record<string, Migration> = { ...postgresMigrations, '9999_test_alter': { up: async (d) => void (await sql.raw('ALTER TABLE leads ADD COLUMN test_col INTEGER').execute(d)) } };
      await holder.transaction().execute(async (tx) => {
        await sql.raw(`LOCK TABLE "${schema.name}".leads IN ACCESS SHARE MODE`).execute(tx);
        await expect(migrateDb(db, alter, schema.name)).rejects.toThrow(/Migration 9999_test_alter failed: .*lock timeout/);
      });
      // Once the table is free, the next start applies it.
      await migrateDb(db, alter, schema.name);
      await sql.raw(`SELECT test_col FROM "${schema.name}".leads`).execute(db);
    } finally {
      await db.destroy();
      await holder.destroy();
    }
  });
});
