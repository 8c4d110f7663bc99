/**
 * PostgreSQL's statement timeout (LEADTRAIL_STATEMENT_TIMEOUT_MS) is for API calls, not for the
 * migrations: one that builds an index or rewrites every row of a large table can take longer, and
 * a second process starting beside the first waits for the migration lock as long as the first
 * runs. Either had been cut off at the timeout and failed the start. Migrations run without it, and
 * the connection goes back to the pool with it. PostgreSQL only: SQLite has no statement timeout.
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

/** A Kysely on `schema` whose one connection has a statement timeout of TIMEOUT_MS. */
function connect(url: string) {
  return new Kysely<any>({ dialect: new PostgresDialect({ pool: createPool(parsePostgresUrl(url), { poolSize: 1, statementTimeoutMs: TIMEOUT_MS }) }) });
}

/** Every migration of today's code, then one that runs for `ms` (past the timeout). */
function withSlow(ms: number): Record<string, Migration> {
  return { ...postgresMigrations, '9999_test_slow': { up: async (db) => void (await sql`SELECT pg_sleep(${ms / 1000})`.execute(db)) } };
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
    const first = connect(schema.url);
    const second = connect(schema.url);
    try {
      await sql.raw(`CREATE SCHEMA "${schema.name}"`).execute(first);
      await migrateDb(first, postgresMigrations, schema.name);
      const running = migrateDb(first, withSlow(TIMEOUT_MS * 4), schema.name);
      // The second asks while the first holds the migration lock (its slow migration under way).
      await new Promise((ok) => setTimeout(ok, TIMEOUT_MS / 2));
      await Promise.all([running, migrateDb(second, withSlow(TIMEOUT_MS * 4), schema.name)]);
      const done = await second.withSchema(schema.name).selectFrom('kysely_migration').select('name').execute();
      expect(done.filter((r) => r.name === '9999_test_slow')).toHaveLength(1);
    } finally {
      await first.destroy();
      await second.destroy();
    }
  });
});
