/**
 * Migration 0012 on a database written before it: leads stored without DoNotEmail or DoNotCall (or
 * with an empty one) get "0", which their reads always showed, so a search for "0" finds them.
 * A written flag stays. On the engine of the vitest project.
 */
import type { LeadSearch } from '../../src/storage/store.js';
import { describe, expect, it } from 'vitest';
import { upgradeFrom } from '../helpers/upgrade.js';

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
});
