/**
 * Migration 0004 on a database written before it: the field values of the leads already stored are
 * indexed, so lead search finds them, per account. On the engine of the vitest project.
 */
import type { LeadSearch } from '../../src/storage/store.js';
import type { Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { upgradeFrom } from '../helpers/upgrade.js';

describe('migration 0004 on existing data', () => {
  it('indexes the values of existing leads: = on a field, numbers and LIKE find them, in their own account only', async () => {
    const store = await upgradeFrom('0004', async (db) => {
      for (const id of ['acc-a', 'acc-b']) await db.insertInto('accounts').values({ id, name: id, created_at: 1 }).execute();
      const rows: [string, string, Record<string, unknown>][] = [
        ['a1', 'acc-a', { FirstName: 'Ada', EmailAddress: 'Ada@Example.com', mx_Age: '36', mx_Set: { mx_CustomObject_1: 'x' } }],
        ['a2', 'acc-a', { FirstName: 'Bob', EmailAddress: 'bob@example.com', mx_Age: '3', Notes: 'n'.repeat(500) }],
        ['b1', 'acc-b', { FirstName: 'Ada', EmailAddress: 'ada@example.com' }],
      ];
      for (const [i, [id, account, fields]] of rows.entries()) {
        await db
          .insertInto('leads')
          .values({ id, account_id: account, fields: JSON.stringify(fields), score: 0, engagement_score: 0, created_on: i, modified_on: i, auto_id: i + 1 })
          .execute();
      }
    });
    try {
      const q = (where: LeadSearch['where']): LeadSearch => ({ where, orderBy: { kind: 'column', column: 'createdOn' }, descending: false, offset: 0, limit: 10, count: true });
      const ids = async (account: string, where: LeadSearch['where']) => (await store.leads.search(account, q(where))).leads.map((l) => l.id);
      expect(await ids('acc-a', [{ kind: 'field', field: 'EmailAddress', op: '=', value: 'ADA@example.com' }])).toEqual(['a1']);
      expect(await ids('acc-b', [{ kind: 'field', field: 'EmailAddress', op: '=', value: 'ada@example.com' }])).toEqual(['b1']);
      expect(await ids('acc-a', [{ kind: 'field', field: 'mx_Age', op: '>', value: 20 }])).toEqual(['a1']);
      expect(await ids('acc-a', [{ kind: 'field', field: 'FirstName', op: 'like', value: 'b%' }])).toEqual(['a2']);
      expect(await ids('acc-a', [{ kind: 'field', field: 'Notes', op: 'like', value: 'nnn%' }])).toEqual(['a2']);
      expect((await store.leads.search('acc-a', q([]))).total).toBe(2);
    } finally {
      await store.close();
    }
  });
});
