/**
 * Migration 0005 on a database written before it: each lead's activities are counted into the lead
 * row, and `Retrieve`'s RecordCount (which reads that count) stays right as activities are added.
 * On the engine of the vitest project.
 */
import { describe, expect, it } from 'vitest';
import { upgradeFrom } from '../helpers/upgrade.js';

describe('migration 0005 on existing data', () => {
  it('counts each lead\'s stored activities, per account, and keeps counting', async () => {
    const store = await upgradeFrom('0005', async (db) => {
      for (const id of ['acc-a', 'acc-b']) await db.insertInto('accounts').values({ id, name: id, created_at: 1 }).execute();
      for (const [i, [id, account]] of [['l1', 'acc-a'], ['l2', 'acc-a'], ['l3', 'acc-b']].entries()) {
        await db.insertInto('leads').values({ id, account_id: account, fields: '{}', score: 0, engagement_score: 0, created_on: 1, modified_on: 1, auto_id: i + 1 }).execute();
      }
      const acts: [string, string][] = [['acc-a', 'l1'], ['acc-a', 'l1'], ['acc-a', 'l1'], ['acc-a', 'l2'], ['acc-b', 'l3']];
      for (const [i, [account, lead]] of acts.entries()) {
        await db
          .insertInto('activities')
          .values({ id: `a${i}`, account_id: account, lead_id: lead, event_code: 201, note: '', occurred_at: i, owner_email: null, fields: '{}', score: 0, created_on: i, request_id: null })
          .execute();
      }
    });
    try {
      const total = async (account: string, lead: string) => (await store.activities.listForLead(account, { leadId: lead, offset: 0, limit: 1 })).total;
      expect([await total('acc-a', 'l1'), await total('acc-a', 'l2'), await total('acc-b', 'l3')]).toEqual([3, 1, 1]);
      // Another account's lead id counts nothing here.
      expect(await total('acc-b', 'l1')).toBe(0);
      await store.transaction(async (tx) => {
        await tx.leads.addActivity({ id: 'new', accountId: 'acc-a', leadId: 'l2', eventCode: 201, note: '', occurredAt: 9, ownerEmail: null, fields: {}, score: 0, createdOn: 9, requestId: null }, 'x');
      });
      expect(await total('acc-a', 'l2')).toBe(2);
      // With an event code the activities are counted, and agree.
      expect((await store.activities.listForLead('acc-a', { leadId: 'l1', eventCode: 201, offset: 0, limit: 1 })).total).toBe(3);
    } finally {
      await store.close();
    }
  });
});
