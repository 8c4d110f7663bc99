/**
 * Migration 0009 on a database written before it: activities stored before it (no ModifiedOn) are
 * read by `RetrieveRecentlyModified`'s window at the time they were posted, an update moves an
 * activity to the time of the update, and each account sees only its own. On the engine of the
 * vitest project.
 */
import { describe, expect, it } from 'vitest';
import { upgradeFrom } from '../helpers/upgrade.js';

describe('migration 0009 on existing data', () => {
  it('windows old activities by when they were posted, updated ones by their update, per account', async () => {
    const store = await upgradeFrom('0009', async (db) => {
      for (const id of ['acc-a', 'acc-b']) await db.insertInto('accounts').values({ id, name: id, created_at: 1 }).execute();
      await db.insertInto('leads').values({ id: 'l1', account_id: 'acc-a', fields: '{}', score: 7, engagement_score: 0, created_on: 1, modified_on: 1, auto_id: 1 }).execute();
      await db.insertInto('leads').values({ id: 'l2', account_id: 'acc-b', fields: '{}', score: 7, engagement_score: 0, created_on: 1, modified_on: 1, auto_id: 1 }).execute();
      const acts: [string, string, number][] = [['acc-a', 'l1', 1000], ['acc-a', 'l1', 2000], ['acc-a', 'l1', 3000], ['acc-b', 'l2', 2000]];
      for (const [i, [account, lead, at]] of acts.entries()) {
        await db
          .insertInto('activities')
          .values({ id: `a${i}`, account_id: account, lead_id: lead, event_code: 201, note: '', occurred_at: 1, owner_email: null, fields: '{}', score: 0, created_on: at, request_id: null })
          .execute();
      }
    });
    try {
      const window = async (account: string, from: number | null, to: number | null, eventCode?: number) =>
        (await store.activities.listModified(account, { from, to, ...(eventCode !== undefined ? { eventCode } : {}), orderBy: 'modifiedOn', offset: 0, limit: 10, descending: false })).activities.map((a) => a.id);
      expect(await window('acc-a', 1500, 3000)).toEqual(['a1', 'a2']);
      expect(await window('acc-b', null, null)).toEqual(['a3']);
      expect(await window('acc-a', null, null, 999)).toEqual([]);
      // An update after the migration sets ModifiedOn: the activity leaves its old place in the window.
      await store.transaction(async (tx) => {
        await tx.activities.update('acc-a', 'a0', { note: 'changed', fields: {}, modifiedOn: 5000 });
      });
      expect(await window('acc-a', null, null, 201)).toEqual(['a1', 'a2', 'a0']);
      expect(await window('acc-a', 4000, null)).toEqual(['a0']);
      expect((await store.activities.get('acc-a', 'a0'))?.modifiedOn).toBe(5000);
      expect((await store.activities.get('acc-a', 'a1'))?.modifiedOn).toBeNull();
      // Score lookups (now indexed) still find the leads written before.
      const found = await store.leads.search('acc-a', { where: [{ kind: 'column', column: 'score', op: '=', value: 7 }], orderBy: { kind: 'column', column: 'createdOn' }, descending: true, offset: 0, limit: 10, count: true });
      expect(found.leads.map((l) => l.id)).toEqual(['l1']);
    } finally {
      await store.close();
    }
  });
});
