/**
 * Migration 0012 on a database written before it: leads stored without DoNotEmail or DoNotCall (or
 * with an empty one) get "0", which their reads always showed, so a search for "0" finds them.
 * A written flag stays. On the engine of the vitest project. On PostgreSQL, an update an older process
 * makes while the migration runs (a rolling upgrade) is kept: the migration read a batch of leads
 * unheld and wrote each one's fields back as read, dropping an update committed in between.
 */
import type { LeadSearch } from '../../src/storage/store.js';
import { describe, expect, it } from 'vitest';
import { oldDatabase, upgradeFrom } from '../helpers/upgrade.js';

const onPostgres = process.env.LEADTRAIL_TEST_STORE === 'postgres';

describe('migration 0012 on existing data', () => {
  it('stores "0" for the flags a lead lacks, in its fields and its search values; written flags stay', async () => {
    const store = await upgradeFrom('0012', async (db) => {
      await db.insertInto('accounts').values({ id: 'acc-a', name: 'a', created_at: 1 }).execute();
      const rows: [string, Record<string, unknown>][] = [
        ['none', { FirstName: 'None' }],
        ['empty', { FirstName: 'Empty', DoNotEmail: '', DoNotCall: null }],
        ['opted', { FirstName: 'Opted', DoNotEmail: '1' }],
      ];
      for (const [i, [id, fields]] of rows.entries()) {
        await db
          .insertInto('leads')
          .values({ id, account_id: 'acc-a', fields: JSON.stringify(fields), score: 0, engagement_score: 0, created_on: i, modified_on: i, auto_id: i + 1 })
          .execute();
        for (const [field, v] of Object.entries(fields)) {
          if (typeof v === 'string' && v !== '') await db.insertInto('lead_values').values({ account_id: 'acc-a', lead_id: id, field, value: v.toLowerCase(), num: null }).execute();
        }
      }
    });
    try {
      const q = (where: LeadSearch['where']): LeadSearch => ({ where, orderBy: { kind: 'column', column: 'createdOn' }, descending: false, offset: 0, limit: 10, count: true });
      const ids = async (where: LeadSearch['where']) => (await store.leads.search('acc-a', q(where))).leads.map((l) => l.id);
      expect(await ids([{ kind: 'field', field: 'DoNotEmail', op: '=', value: '0' }])).toEqual(['none', 'empty']);
      expect(await ids([{ kind: 'field', field: 'DoNotEmail', op: '=', value: '1' }])).toEqual(['opted']);
      expect(await ids([{ kind: 'field', field: 'DoNotCall', op: '=', value: '0' }])).toEqual(['none', 'empty', 'opted']);
      expect((await store.leads.get('acc-a', 'empty'))?.fields).toEqual({ FirstName: 'Empty', DoNotEmail: '0', DoNotCall: '0' });
      expect((await store.leads.get('acc-a', 'opted'))?.fields).toEqual({ FirstName: 'Opted', DoNotEmail: '1', DoNotCall: '0' });
    } finally {
      await store.close();
    }
  });

  // PostgreSQL only: SQLite's migrations hold its one write lock, so no other process writes while they run.
  it.runIf(onPostgres)('keeps the updates an older process (a rolling upgrade) makes to leads while it runs', async () => {
    const LEADS = 1500;
    const old = await oldDatabase('0012', async (db) => {
      await db.insertInto('accounts').values({ id: 'acc-r', name: 'r', created_at: 1 }).execute();
      const rows = Array.from({ length: LEADS }, (_, i) => ({
        id: `lead-${i}`,
        account_id: 'acc-r',
        fields: JSON.stringify({ FirstName: `L${i}` }),
        score: 0,
        engagement_score: 0,
        created_on: i,
        modified_on: i,
        auto_id: i + 1,
      }));
      for (let i = 0; i < LEADS; i += 500) await db.insertInto('leads').values(rows.slice(i, i + 500)).execute();
    });
    // The older process's Lead.Update: each lead read and written back with mx_Kept, holding the
    // lead; LANES connections at once, in a scattered order (601 is prime to 1500), so that some
    // land in a batch the migration has read and not yet written, wherever it is.
    const LANES = 4;
    let opened = false;
    let begunWhileMigrating = 0;
    const updates = Array.from({ length: LANES }, (_, lane) =>
      old.change(async (db) => {
        for (let n = lane; n < LEADS; n += LANES) {
          const i = (n * 601) % LEADS;
          if (!opened) begunWhileMigrating++;
          await db.transaction().execute(async (t) => {
            const { fields } = await t.selectFrom('leads').select('fields').where('id', '=', `lead-${i}`).forUpdate().executeTakeFirstOrThrow();
            await t.updateTable('leads').set({ fields: JSON.stringify({ ...JSON.parse(fields), mx_Kept: `k${i}` }) }).where('id', '=', `lead-${i}`).execute();
          });
        }
      }),
    );
    const store = await old.open();
    opened = true;
    try {
      await Promise.all(updates);
      expect(begunWhileMigrating).toBeGreaterThan(0);
      const lost: string[] = [];
      for (let i = 0; i < LEADS; i++) {
        const fields = (await store.leads.get('acc-r', `lead-${i}`))?.fields;
        if (fields?.mx_Kept !== `k${i}`) lost.push(`lead-${i}`);
        expect(fields?.FirstName).toBe(`L${i}`);
      }
      expect(lost, `${lost.length} updates lost`).toEqual([]);
    } finally {
      await store.close();
    }
  });
});
