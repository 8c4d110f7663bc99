/**
 * Lead/Delete/ById beside writes of the same lead, the race made certain: the test holds one write
 * open in a transaction of a second store on the server's database, sends the other over HTTP, and
 * commits once the HTTP call waits for it (PostgreSQL: a session waits on a lock; SQLite: the
 * file's one writer waits). On PostgreSQL an activity posted while the lead was deleted was the
 * risk: a delete that read the lead's activities before the post committed left that activity
 * behind, its lead gone. Neither order may leave an orphan or deadlock, and a write that waited for
 * the delete finds no lead (or, for an activity update, no activity).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { updateLead } from '../../src/domain/leads.js';
import type { Repos, Store } from '../../src/storage/store.js';
import { LM, PA, accountIdOf, activitiesOf, counts, createLead, createType, expectMx, expectOk, getLead } from '../helpers/lsq.js';
import { callWhileHeld } from '../helpers/held.js';
import { started, storeBeside, type CallResult, type TestServer } from '../helpers/server.js';

const DELETE = `${LM}/Lead/Delete/ById`;

let s: TestServer;
let beside: Store;
let accountId: string;
let code: number;

beforeAll(async () => {
  s = await started();
  beside = await storeBeside(s);
  accountId = await accountIdOf(s);
  code = await createType(s, { ActivityEventName: 'Posted beside a delete', Score: 2 });
});
afterAll(() => beside?.close());

/** callWhileHeld on this file's server and second store. */
const whileHeld = (hold: (tx: Repos) => Promise<unknown>, call: () => Promise<CallResult>) => callWhileHeld(s, beside, hold, call);

const activityRow = (leadId: string) => ({
  id: randomUUID(),
  accountId,
  leadId,
  eventCode: code,
  note: 'held open',
  occurredAt: Date.now(),
  ownerEmail: null,
  fields: {},
  score: 2,
  createdOn: Date.now(),
  requestId: null,
});

describe('Lead/Delete/ById beside a write of the same lead', () => {
  it('a delete that waits for an activity post deletes that activity too', async () => {
    const lead = await createLead(s, { FirstName: 'Posted' });
    const before = await counts(s, accountId);
    const row = activityRow(lead);
    const r = await whileHeld(
      async (tx) => expect(await tx.leads.addActivity(row, 'Posted beside a delete')).not.toBeNull(),
      () => s.call('GET', `${DELETE}?leadId=${lead}`),
    );
    expect(r.body, r.text).toEqual({ Status: 'Success' });
    expect(await counts(s, accountId)).toEqual({ leads: before.leads - 1, activities: before.activities });
    expectMx(await s.call('GET', `${PA}/GetActivityDetails?activityId=${row.id}`), 500, 'MXUnknownProspectActivityException');
  });

  it('an activity post that waits for a delete finds no lead, and writes nothing', async () => {
    const lead = await createLead(s, { FirstName: 'Deleted first' });
    const before = await counts(s, accountId);
    const r = await whileHeld(
      async (tx) => expect(await tx.leads.remove(accountId, lead)).toBe(true),
      () => s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: code }),
    );
    expectMx(r, 500, 'MXInvalidEntityException', lead);
    expect(await counts(s, accountId)).toEqual({ leads: before.leads - 1, activities: before.activities });
    expect((await activitiesOf(s, lead)).RecordCount).toBe(0);
  });

  it('a Lead.Update that waits for a delete finds no lead (it succeeded on nothing before)', async () => {
    const lead = await createLead(s, { FirstName: 'Deleted', EmailAddress: 'deleted-first@turns.example' });
    const r = await whileHeld(
      async (tx) => expect(await tx.leads.remove(accountId, lead)).toBe(true),
      () => s.call('POST', `${LM}/Lead.Update?leadId=${lead}`, [{ Attribute: 'FirstName', Value: 'Updated' }]),
    );
    expectMx(r, 500, 'MXInvalidEntityException', lead);
    expect(await getLead(s, lead)).toBeNull();
    // Its email was freed with it, and the update did not take it back.
    expect(await createLead(s, { EmailAddress: 'deleted-first@turns.example' })).not.toBe(lead);
  });

  it("a CustomActivity/Update that waits for its lead's delete finds no activity (it succeeded on nothing before)", async () => {
    const lead = await createLead(s, { FirstName: 'Activity updated late' });
    const posted = expectOk(await s.call('POST', `${PA}/Create`, { RelatedProspectId: lead, ActivityEvent: code, ActivityNote: 'before' })).Message.Id as string;
    const r = await whileHeld(
      async (tx) => expect(await tx.leads.remove(accountId, lead)).toBe(true),
      () => s.call('POST', `${PA}/CustomActivity/Update`, { ProspectActivityId: posted, ActivityNote: 'after' }),
    );
    expectMx(r, 500, 'MXUnknownProspectActivityException', posted);
    expectMx(await s.call('GET', `${PA}/GetActivityDetails?activityId=${posted}`), 500, 'MXUnknownProspectActivityException');
  });

  it('a delete that waits for a lead update deletes the lead as updated, without a deadlock', async () => {
    const lead = await createLead(s, { FirstName: 'Updated first', EmailAddress: 'updated-first@turns.example' });
    const read = (await beside.leads.get(accountId, lead))!;
    const r = await whileHeld(
      (tx) => updateLead(tx, s.services.ctx, read, { FirstName: 'Changed', EmailAddress: 'changed@turns.example' }),
      () => s.call('GET', `${DELETE}?leadId=${lead}`),
    );
    expect(r.body, r.text).toEqual({ Status: 'Success' });
    expect(await getLead(s, lead)).toBeNull();
    expectOk(await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: 'changed@turns.example' }]));
  });
});
