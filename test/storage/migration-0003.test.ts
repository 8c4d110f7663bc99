/**
 * Migration 0003 on a database written before it: each account's existing leads are numbered from 1
 * in the order they were made, the account's counter continues from there, and the account is
 * marked for the start-up re-keying of phone numbers. On the engine of the vitest project.
 */
import type { Kysely } from 'kysely';
import { describe, expect, it } from 'vitest';
import { upgradeFrom } from '../helpers/upgrade.js';

describe('migration 0003 on existing data', () => {
  it('numbers each account\'s leads from 1 by creation order, and continues from there', async () => {
    const store = await upgradeFrom('0003', async (db) => {
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
