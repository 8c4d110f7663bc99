/**
 * Per-lead order: requests for one lead are applied in the order they were accepted, even when an
 * early one hits system errors and waits for its retries; other leads' requests do not wait for it.
 */
import { describe, expect, it } from 'vitest';
import { started } from '../helpers/server.js';
import { accept, accountIdOf, createType, settled, stored } from './helpers.js';

const LEADS = ['slow@example.com', 'b@example.com', 'c@example.com', 'd@example.com'];
const PER_LEAD = 15;

describe('per-lead ordering', () => {
  it('applies each lead\'s requests in acceptance order while the first one of a lead is retried', async () => {
    // First retry 150 ms out, second 600 ms: plenty of time for later requests to jump the queue if they could.
    const s = await started({ LEADTRAIL_FAULTS: 'true', LEADTRAIL_RETRY_SCALE: '0.005', LEADTRAIL_WORKER_CONCURRENCY: '8' });
    const code = await createType(s, 'Ordered');
    const f = await s.call('POST', '/_leadtrail/faults', { operation: 'activity.create', times: 2, match: 'slow@example.com', message: 'database is locked' });
    expect(f.status, f.text).toBe(200);

    // Interleaved leads, sent 8 at a time: acceptance order is the stored seq, not the send order.
    // The slow lead's first request goes alone, first: it is the one the fault hits (a Create), and
    // sent beside its lead's second (a CreateCustom) it could be accepted after it, which made
    // that one the lead's first (seen once on PostgreSQL).
    const sends: { lead: string; n: number }[] = [];
    for (let n = 0; n < PER_LEAD; n++) for (const lead of LEADS) sends.push({ lead, n });
    const [first, ...rest] = sends;
    const groups = [[first]];
    for (let i = 0; i < rest.length; i += 8) groups.push(rest.slice(i, i + 8));
    const ids: string[] = [];
    for (const group of groups) {
      // Half by EmailAddress on Create, half by SearchBy on CreateCustom: both name the lead the same way.
      ids.push(
        ...(await Promise.all(
          group.map(({ lead, n }) =>
            n % 2 === 0
              ? accept(s.url, '/activity/create', { EmailAddress: lead, ActivityEvent: code, ActivityNote: `${lead}#${n}` })
              : accept(s.url, '/activity/createcustom', {
                  LeadDetails: [{ Attribute: 'EmailAddress', Value: lead }, { Attribute: 'SearchBy', Value: 'EmailAddress' }],
                  Activity: { ActivityEvent: code, ActivityNote: `${lead}#${n}` },
                }),
          ),
        )),
      );
    }
    for (const id of ids) expect((await settled(s.url, id)).TaskStatus.Status).toBe('Success');

    const accountId = await accountIdOf(s);
    const reqs = await Promise.all(ids.map((id) => stored(s, id)));
    const byId = new Map(reqs.map((r) => [r!.id, r!]));
    let retried = 0;
    for (const lead of LEADS) {
      const leadReqs = reqs.filter((r) => r!.body.includes(lead)).map((r) => r!);
      expect(leadReqs).toHaveLength(PER_LEAD);
      const leadId = JSON.parse(leadReqs[0].message!).Message.RelatedId as string;
      const { activities } = await s.services.store.activities.listForLead(accountId, { leadId, offset: 0, limit: 1000 });
      // Applied order (activity seq) must be acceptance order (request seq).
      const applied = activities.sort((a, b) => a.seq - b.seq).map((a) => byId.get(a.requestId!)!.seq);
      expect(applied).toHaveLength(PER_LEAD);
      expect(applied).toEqual([...applied].sort((a, b) => a - b));
      expect(applied).toEqual(leadReqs.map((r) => r.seq).sort((a, b) => a - b));
      retried += leadReqs.filter((r) => r.attempts > 0).length;
    }
    // The slow lead's first request was the one retried, twice; nothing else was.
    const slow = reqs.filter((r) => r!.body.includes('slow@')).map((r) => r!).sort((a, b) => a.seq - b.seq);
    expect(slow[0].attempts).toBe(2);
    expect(retried).toBe(1);
    // The other leads did not wait for it: some of their requests finished before it did.
    const others = reqs.filter((r) => !r!.body.includes('slow@')).map((r) => r!);
    expect(others.some((r) => r.finishedAt! < slow[0].finishedAt!)).toBe(true);
    // And every later request of the slow lead finished after it.
    for (const r of slow.slice(1)) expect(r.finishedAt!).toBeGreaterThanOrEqual(slow[0].finishedAt!);
  });

  // Found by a review: the order key read the first of an attribute named twice and knew no `Id`,
  // while the operation takes the last and reads `Id` as ProspectID. Such a request was ordered under
  // another lead's key, or none, and was applied while an earlier request for its lead waited.
  it('a request in ERROR put back in the queue (the console\'s Retry now) holds back a later request of its lead, on both engines', async () => {
    // SQLite had asked only whether the request just before was finished, as if finished requests
    // were always a prefix of a lead's: after a Retry now of an older request, a newer one of its
    // lead ran first (a fresh-eyes run), while PostgreSQL held it back.
    const s = await started({ LEADTRAIL_FAULTS: 'true', LEADTRAIL_RETRY_SCALE: '0.00001' });
    const code = await createType(s, 'Requeued');
    const lead = 'requeued@example.com';
    const f = await s.call('POST', '/_leadtrail/faults', { operation: 'activity.create', times: 50, match: 'doomed', message: 'database is locked' });
    expect(f.status, f.text).toBe(200);
    const post = (note: string) => accept(s.url, '/activity/create', { EmailAddress: lead, ActivityEvent: code, ActivityNote: note });
    const doomed = await post('doomed');
    expect((await settled(s.url, doomed, ['ERROR'], '/activity/status', 30_000)).TaskStatus.Status).toBe('ERROR');
    expect((await s.call('DELETE', '/_leadtrail/faults')).status).toBe(200);
    const second = await post('second');
    expect((await settled(s.url, second)).TaskStatus.Status).toBe('Success');

    // Back in the queue, due in an hour: unfinished, and earlier than anything accepted from now on.
    const accountId = await accountIdOf(s);
    expect(await s.services.store.requests.requeue(accountId, doomed, Date.now() + 3_600_000)).toBe(true);
    const third = await post('third');
    await s.worker!.idle();
    expect((await stored(s, third))!.status).toBe('queued');
    // Made due now: the requeued request first, then the one that waited for it.
    expect((await s.call('POST', '/_leadtrail/retries/run-now')).status).toBe(200);
    for (const id of [doomed, third]) expect((await settled(s.url, id)).TaskStatus.Status).toBe('Success');
    const [d, t] = await Promise.all([doomed, third].map(async (id) => (await stored(s, id))!));
    expect(t.finishedAt!).toBeGreaterThanOrEqual(d.finishedAt!);
    const leadId = JSON.parse(d.message!).Message.RelatedId as string;
    const { activities } = await s.services.store.activities.listForLead(accountId, { leadId, offset: 0, limit: 10 });
    expect(activities.sort((a, b) => a.seq - b.seq).map((a) => a.note)).toEqual(['second', 'doomed', 'third']);
  });

  it('orders Lead.Capture requests that name their lead by `Id`, or by an attribute named twice, as the operation reads them', async () => {
    const s = await started({ LEADTRAIL_FAULTS: 'true', LEADTRAIL_RETRY_SCALE: '0.005' });
    const create = await s.call('POST', '/v2/LeadManagement.svc/Lead.Create', [{ Attribute: 'EmailAddress', Value: 'by-id@example.com' }]);
    expect(create.status, create.text).toBe(200);
    const leadId = create.body.Message.Id as string;
    // Each lead's first request fails twice with a system error: a later request that is not
    // ordered behind it is applied first, and then overwritten by it.
    for (const match of ['first-by-id', 'first-by-email']) {
      const f = await s.call('POST', '/_leadtrail/faults', { operation: 'lead.capture', times: 2, match, message: 'database is locked' });
      expect(f.status, f.text).toBe(200);
    }
    const capture = (attrs: Record<string, string>[]) => accept(s.url, '/lead/capture', attrs);
    const ids = [
      await capture([{ Attribute: 'Id', Value: leadId }, { Attribute: 'FirstName', Value: 'first-by-id' }]),
      await capture([{ Attribute: 'EmailAddress', Value: 'twice@example.com' }, { Attribute: 'FirstName', Value: 'first-by-email' }]),
    ];
    ids.push(
      await capture([{ Attribute: 'Id', Value: leadId }, { Attribute: 'FirstName', Value: 'second-by-id' }]),
      await capture([
        { Attribute: 'EmailAddress', Value: 'decoy@example.com' },
        { Attribute: 'EmailAddress', Value: 'twice@example.com' },
        { Attribute: 'FirstName', Value: 'second-by-email' },
      ]),
    );
    for (const id of ids) expect((await settled(s.url, id, undefined, '/lead/status')).TaskStatus.Status).toBe('Success');
    const [firstById, firstByEmail, secondById, secondByEmail] = await Promise.all(ids.map(async (id) => (await stored(s, id))!));
    expect([firstById.attempts, firstByEmail.attempts]).toEqual([2, 2]);
    expect(secondById.finishedAt!).toBeGreaterThanOrEqual(firstById.finishedAt!);
    expect(secondByEmail.finishedAt!).toBeGreaterThanOrEqual(firstByEmail.finishedAt!);
    const firstName = async (q: string) => {
      const r = await s.call('GET', `/v2/LeadManagement.svc/${q}`);
      expect(r.status, r.text).toBe(200);
      return r.body[0].FirstName as string;
    };
    expect(await firstName(`Leads.GetById?id=${leadId}`)).toBe('second-by-id');
    expect(await firstName('Leads.GetByEmailaddress?emailaddress=twice@example.com')).toBe('second-by-email');
  });
});
