/**
 * A webhook whose `WebhookEvent` an Update changes no longer sends the events that waited for it
 * under the old code (a retry after a failed attempt, a delay): they are dropped, as Delete drops a
 * webhook's waiting events. A fresh-eyes run changed a failing Lead_Post_Create webhook to
 * Lead_Post_Update, and its receiver of updates got the waiting create. An Update that keeps the
 * code still sends what waited, at once. Real receiver, both engines.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { uuidv7 } from '../../src/domain/context.js';
import type { Store } from '../../src/storage/store.js';
import { LM, accountIdOf, expectOk } from '../helpers/lsq.js';
import { started, storeBeside } from '../helpers/server.js';
import { receiverForFile } from './receiver.js';

const beside: Store[] = [];
afterAll(async () => {
  for (const b of beside) await b.close();
});

const WH = '/v2/Webhook.svc';

describe('a webhook whose event an Update changes', () => {
  it('drops the events that waited under the old code, and sends the new code\'s; one whose code stays sends what waited', async () => {
    const rx = await receiverForFile();
    let up = false;
    rx.answer = () => (up ? { status: 200 } : { status: 503 });
    const s = await started();
    const hook = async (path: string) =>
      expectOk(await s.call('POST', `${WH}/Create`, { Description: path, URL: `${rx.url}${path}`, ContentType: 'application/json', WebhookEvent: 'Lead_Post_Create' })).Message.Id as string;
    const changed = await hook('/changed');
    const kept = await hook('/kept');
    const leadId = expectOk(await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: 'change@events.example' }])).Message.Id as string;
    // Each webhook's first attempt fails: the create waits for its retry (a minute away).
    await rx.until((all) => ['/changed', '/kept'].every((p) => all.some((r) => r.path === p)));
    const failed = async (id: string) => expectOk(await s.call('POST', `${WH}/Retrieve`, { Parameter: { WebhookId: id } })).Response[0].ConsecutiveFailures === 1;
    for (const end = Date.now() + 10_000; !((await failed(changed)) && (await failed(kept))); ) {
      if (Date.now() > end) throw new Error('the first attempts were not recorded as failed');
      await new Promise((r) => setTimeout(r, 20));
    }
    up = true;
    // Saved, each sends what waited at once (its failures are behind it); `changed` now takes updates.
    expectOk(await s.call('POST', `${WH}/Update`, { WebhookId: changed, WebhookEvent: 'Lead_Post_Update' }));
    expectOk(await s.call('POST', `${WH}/Update`, { WebhookId: kept, Description: 'kept, renamed' }));
    expectOk(await s.call('POST', `${LM}/Lead.Update?leadId=${leadId}`, [{ Attribute: 'FirstName', Value: 'Changed' }]));
    const code = (r: { headers: Record<string, unknown> }) => String(r.headers['x-leadtrail-event']);
    await rx.until((all) => all.some((r) => r.path === '/changed' && code(r) === '6') && all.filter((r) => r.path === '/kept').length === 2);
    // The update reached `changed` after what else was due for it: nothing but the failed first attempt and the update.
    expect(rx.on('/changed').map(code)).toEqual(['3', '6']);
    expect(rx.on('/kept').map(code)).toEqual(['3', '3']);
    expect(rx.on('/kept')[1].json.ProspectID).toBe(leadId);
    // The records: the create's failed attempt to `changed` says its retry was dropped; `kept`'s
    // retry happened (it had read `retry`, "will retry" in the console, for good: a fresh-eyes run).
    const outcomes = async (id: string) =>
      ((await s.call('GET', `/_leadtrail/webhooks/deliveries?webhookId=${id}`)).body.deliveries as { eventCode: number; attempt: number; outcome: string }[])
        .map((d) => `${d.eventCode}#${d.attempt} ${d.outcome}`)
        .sort();
    for (const end = Date.now() + 10_000; (await outcomes(changed)).length < 2 || (await outcomes(kept)).length < 2; ) {
      if (Date.now() > end) throw new Error('the second attempts were not recorded');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await outcomes(changed)).toEqual(['3#1 dropped', '6#1 delivered']);
    expect(await outcomes(kept)).toEqual(['3#1 retry', '3#2 delivered']);
  });

  it("a deleted webhook's last failed attempt reads `dropped`, not `retry`: no attempt follows it", async () => {
    const rx = await receiverForFile();
    rx.answer = () => ({ status: 503 });
    const s = await started();
    const id = expectOk(await s.call('POST', `${WH}/Create`, { URL: `${rx.url}/deleted`, ContentType: 'application/json', WebhookEvent: 'Lead_Post_Create' })).Message.Id as string;
    expectOk(await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: 'deleted@events.example' }]));
    const listed = async () => (await s.call('GET', `/_leadtrail/webhooks/deliveries?webhookId=${id}`)).body.deliveries as { outcome: string }[];
    for (const end = Date.now() + 10_000; (await listed()).length === 0; ) {
      if (Date.now() > end) throw new Error('the first attempt was not recorded');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await listed()).map((d) => d.outcome)).toEqual(['retry']);
    expectOk(await s.call('POST', `${WH}/Delete`, { WebhookId: id }));
    expect((await listed()).map((d) => d.outcome)).toEqual(['dropped']);
  });

  it('an event written under a code its webhook no longer has (a write racing the Update) is dropped by the worker, not sent; the lead\'s next event goes out', async () => {
    const rx = await receiverForFile();
    const s = await started();
    const hookId = expectOk(await s.call('POST', `${WH}/Create`, { URL: `${rx.url}/raced`, ContentType: 'application/json', WebhookEvent: 'Lead_Post_Update' })).Message.Id as string;
    const leadId = expectOk(await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: 'raced@events.example' }])).Message.Id as string;
    const accountId = await accountIdOf(s);
    const store = await storeBeside(s);
    beside.push(store);
    // As a lead write that read the webhook's list before the Update committed writes it: a create
    // event (3) for a webhook that now takes updates (6), with a real lead payload.
    const lead = await store.leads.get(accountId, leadId);
    const written = await store.transaction((tx) =>
      tx.webhooks.enqueue([{ id: uuidv7(), accountId, eventCode: 3, orderKey: leadId, snapshot: JSON.stringify({ kind: 'lead', lead }), createdAt: Date.now() }], async () => [{ id: hookId, eventCode: 3, delaySeconds: 0 }]),
    );
    expect(written).toBe(1);
    expectOk(await s.call('POST', `${LM}/Lead.Update?leadId=${leadId}`, [{ Attribute: 'FirstName', Value: 'Raced' }]));
    // The update waits behind the earlier event of its lead until that one is dropped.
    await rx.until((all) => all.some((r) => r.path === '/raced'));
    for (const end = Date.now() + 10_000; (await store.webhooks.nextDueAt()) !== null; ) {
      if (Date.now() > end) throw new Error('an event is still waiting');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(rx.on('/raced').map((r) => String(r.headers['x-leadtrail-event']))).toEqual(['6']);
  });
});
