/**
 * A migration that fails half-way leaves nothing of itself behind, on either engine: once the cause
 * is fixed, the next start applies it whole. On SQLite each statement used to commit on its own, so
 * 0012 that stopped at a lead it could not read had already stored "0" in the leads before it; the
 * next run skipped them (their flags were there) and never indexed them, and a search for
 * DoNotEmail = 0 missed them for good. On the engine of the vitest project.
 */
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { postgresMigrations } from '../../src/storage/postgres/migrations.js';
import { migrateDb } from '../../src/storage/sql/sql-store.js';
import { sqliteMigrations } from '../../src/storage/sqlite/migrations.js';
import type { LeadSearch } from '../../src/storage/store.js';
import { oldDatabase } from '../helpers/upgrade.js';

const onPostgres = process.env.LEADTRAIL_TEST_STORE === 'postgres';

describe('a migration that fails half-way', () => {
  it('is rolled back whole, and the next start applies it to every row', async () => {
    const old = await oldDatabase('0012', async (db) => {
      await db.insertInto('accounts').values({ id: 'acc-a', name: 'a', created_at: 1 }).execute();
      // 'broken' comes last: 0012 has changed the two before it when it fails on it.
      for (const [i, [id, fields]] of [
        ['one', '{"FirstName":"One"}'],
        ['two', '{"FirstName":"Two"}'],
        ['broken', '{"FirstName":'],
      ].entries()) {
        await db.insertInto('leads').values({ id, account_id: 'acc-a', fields, score: 0, engagement_score: 0, created_on: i, modified_on: i, auto_id: i + 1 }).execute();
      }
    });
    await expect(old.open()).rejects.toThrow(/Migration 0012_lead_contact_flags failed/);
    await old.change(async (db) => {
      // Nothing of 0012 (nor of 0013 after it) was kept.
      const one = await db.selectFrom('leads').select('fields').where('id', '=', 'one').executeTakeFirstOrThrow();
      expect(one.fields).toBe('{"FirstName":"One"}');
      const done = await db.selectFrom('kysely_migration').select('name').execute();
      expect(done.map((r) => r.name).filter((n: string) => n >= '0012')).toEqual([]);
      await db.updateTable('leads').set({ fields: '{"FirstName":"Broken"}' }).where('id', '=', 'broken').execute();
    });
    const store = await old.open();
    try {
      const q: LeadSearch = {
        where: [{ kind: 'field', field: 'DoNotEmail', op: '=', value: '0' }],
        orderBy: { kind: 'column', column: 'createdOn' },
        descending: false,
        offset: 0,
        limit: 10,
        count: true,
      };
      expect((await store.leads.search('acc-a', q)).leads.map((l) => l.id)).toEqual(['one', 'two', 'broken']);
    } finally {
      await store.close();
    }
  });

  it('leaves no table or column of a migration whose later statement fails', async () => {
    const old = await oldDatabase('0013', async () => {});
    await old.change(async (db) => {
      const schema = onPostgres ? (await sql<{ s: string }>`select current_schema() as s`.execute(db)).rows[0].s : undefined;
      const failing = {
        ...(onPostgres ? postgresMigrations : sqliteMigrations),
        '9999_test_fails': {
          up: async (d: typeof db) => {
            await sql.raw(`ALTER TABLE leads ADD COLUMN half_done INTEGER`).execute(d);
            await sql.raw(`CREATE TABLE half_done (a INTEGER)`).execute(d);
            await sql.raw(`SELECT no_such_column FROM leads`).execute(d);
          },
        },
      };
      await expect(migrateDb(db, failing, schema)).rejects.toThrow(/Migration 9999_test_fails failed/);
      // 0013 went with it (all or nothing), and so did both changes of the failed one.
      const done = await db.selectFrom('kysely_migration').select('name').execute();
      expect(done.map((r) => r.name)).not.toContain('0013_console_sign_outs');
      await expect(sql.raw(`SELECT half_done FROM leads`).execute(db)).rejects.toThrow();
      await expect(sql.raw(`SELECT a FROM half_done`).execute(db)).rejects.toThrow();
    });
    const store = await old.open();
    await store.close();
  });
});
