/**
 * Opening a store (and so migrating) on PostgreSQL while other sessions create and drop schemas of
 * their own: Kysely's migrator lists the tables of every schema, and a schema dropped meanwhile used
 * to fail our start with "schema … does not exist" (seen in CI-like runs sharing one database).
 */
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/storage/postgres/postgres-store.js';
import { PG_BASE_URL, dropSchemas, freshSchema } from '../helpers/pg.js';

const onPostgres = process.env.LEADTRAIL_TEST_STORE === 'postgres';
const ours: string[] = [];
afterAll(() => dropSchemas(ours));

describe.skipIf(!onPostgres)('migrations beside schemas being dropped (PostgreSQL)', () => {
  it('12 stores open while another session creates and drops schemas with tables as fast as it can', async () => {
    const churn = new pg.Client({ connectionString: PG_BASE_URL });
    await churn.connect();
    let stop = false;
    let cycles = 0;
    const loop = (async () => {
      for (let i = 0; !stop && i < 5000; i++) {
        const name = `lt_churn_${process.pid}_${i}`;
        await churn.query(`CREATE SCHEMA "${name}"; CREATE TABLE "${name}".t (a int); CREATE TABLE "${name}".u (b int)`);
        await churn.query(`DROP SCHEMA "${name}" CASCADE`);
        cycles++;
      }
    })();
    try {
      for (let i = 0; i < 12; i++) {
        const s = freshSchema();
        ours.push(s.name);
        const store = await openPostgresStore(s.url, { poolSize: 2, statementTimeoutMs: 10_000 });
        expect(await store.accounts.count()).toBe(0);
        await store.close();
      }
    } finally {
      stop = true;
      await loop;
      await churn.end();
    }
    expect(cycles).toBeGreaterThan(0);
  });
});
