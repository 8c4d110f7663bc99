/**
 * Named prepared statements on PostgreSQL (src/storage/postgres/prepared.ts): a statement that comes
 * back is prepared once per connection and then only executed; LEADTRAIL_PG_PREPARED=false turns it
 * off; a statement whose table changed shape under it fails once and is prepared anew. Real
 * PostgreSQL, each test on a schema of its own.
 */
import type { PoolClient } from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { createPool, parsePostgresUrl } from '../../src/storage/postgres/postgres-store.js';
import { dropSchemas, freshSchema, pgAvailable, pgQuery } from '../helpers/pg.js';

const available = await pgAvailable();
const schemas: string[] = [];
afterAll(() => dropSchemas(schemas));

async function schemaWithTable(): Promise<{ url: string; name: string }> {
  const s = freshSchema();
  schemas.push(s.name);
  await pgQuery('public', `CREATE SCHEMA "${s.name}"`);
  await pgQuery(s.name, 'CREATE TABLE t (id int primary key, v text)');
  await pgQuery(s.name, `INSERT INTO t VALUES (1, 'one'), (2, 'two')`);
  return s;
}

/** The statements this session has prepared (pg_prepared_statements is per connection). */
async function prepared(c: { query: (t: string) => Promise<{ rows: { statement: string }[] }> }): Promise<string[]> {
  return (await c.query('SELECT statement FROM pg_prepared_statements ORDER BY prepare_time')).rows.map((r) => r.statement);
}

/** A one-connection pool on a fresh schema with table `t`, and one client of it, for `fn`. */
async function withClient(prepared: boolean, fn: (c: PoolClient, schema: string) => Promise<void>): Promise<void> {
  const s = await schemaWithTable();
  const pool = createPool(parsePostgresUrl(s.url), { poolSize: 1, statementTimeoutMs: 10_000, prepared });
  try {
    const c = await pool.connect();
    try {
      await fn(c, s.name);
    } finally {
      c.release();
    }
  } finally {
    await pool.end();
  }
}

describe.skipIf(!available)('PostgreSQL: named prepared statements', () => {
  it('prepares a statement that comes back once per connection, and answers the same', () =>
    withClient(true, async (c) => {
      const text = 'SELECT v FROM t WHERE id = $1';
      // First use: not named yet (a text seen once may never come back).
      expect((await c.query(text, [1])).rows).toEqual([{ v: 'one' }]);
      expect(await prepared(c)).toEqual([]);
      // From the second on: prepared once, reused with new values.
      for (let i = 0; i < 5; i++) expect((await c.query(text, [2])).rows).toEqual([{ v: 'two' }]);
      expect(await prepared(c)).toEqual([text]);
      // Statements without parameters (BEGIN, SAVEPOINT …) go through the simple protocol, unnamed.
      await c.query('SELECT 1');
      await c.query('SELECT 1');
      expect(await prepared(c)).toEqual([text]);
    }));

  it('prepares nothing with prepared: false (LEADTRAIL_PG_PREPARED=false)', () =>
    withClient(false, async (c) => {
      for (let i = 0; i < 5; i++) await c.query('SELECT v FROM t WHERE id = $1', [1]);
      expect(await prepared(c)).toEqual([]);
    }));

  it('after a table changed shape under a prepared select *, fails that call and prepares it anew', () =>
    withClient(true, async (c, schema) => {
      const text = 'SELECT * FROM t WHERE id = $1';
      for (let i = 0; i < 3; i++) await c.query(text, [1]);
      expect(await prepared(c)).toEqual([text]);
      // Another process migrates: the prepared statement's result no longer matches the table.
      await pgQuery(schema, 'ALTER TABLE t ADD COLUMN w int');
      await expect(c.query(text, [1])).rejects.toThrow(/cached plan must not change result type/);
      expect((await c.query(text, [1])).rows).toEqual([{ id: 1, v: 'one', w: null }]);
      expect((await c.query(text, [2])).rows).toEqual([{ id: 2, v: 'two', w: null }]);
    }));
});
