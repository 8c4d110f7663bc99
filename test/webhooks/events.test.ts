/**
 * Webhooks end to end with a real receiver (node:http on port 0): each event code fires once per
 * cause, from every door (sync, async worker, bulk), with LeadSquared's shapes, the webhook's content
 * type and custom headers and an event id; nothing is sent for a change that rolled back; one
 * account's webhooks never see another's events. Runs on both engines.
 */
import { createHmac } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { accept, settled } from '../async/helpers.js';
import { LM, PA, createType, expectMx, expectOk, secondAccount } from '../helpers/lsq.js';
import { started, type CallInit, type TestServer } from '../helpers/server.js';
import { receiverForFile, type Receiver, type Received } from './receiver.js';

const WH = '/v2/Webhook.svc';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

let s: TestServer;
let rx: Receiver;
let scored: number;
let unscored: number;

async function hook(event: number, path: string, extra: Record<string, unknown> = {}, init?: CallInit): Promise<string> {
  const r = await s.call('POST', `${WH}/Create`, { Description: `test ${path}`, URL: `${rx.url}${path}`, Method: 'POST', ContentType: 'application/json', WebhookEvent: String(event), ...extra }, init);
  return expectOk(r).Message.Id;
}

async function lead(attrs: Record<string, string>, init?: CallInit): Promise<string> {
  const r = await s.call('POST', `${LM}/Lead.Create`, Object.entries(attrs).map(([Attribute, Value]) => ({ Attribute, Value })), init);
  return expectOk(r).Message.Id;
}

/** Requests to `path` about lead `leadId` (lead events carry ProspectID, activity events RelatedProspectId). */
const about = (path: string, leadId: string) => rx.on(path).filter((r) => (r.json.ProspectID ?? r.json.RelatedProspectId) === leadId);

/** Waits until the outbox has nothing pending, then a few more polls, so a duplicate would have shown up. */
async function quiet(): Promise<void> {
  const end = Date.now() + 15_000;
  for (;;) {
    const counts = await s.services.store.webhooks.countByStatus();
    if (counts.pending === 0) break;
    if (Date.now() > end) throw new Error(`outbox still has ${counts.pending} pending`);
    await new Promise((r) => setTimeout(r, 20));
  }
  await new Promise((r) => setTimeout(r, 150));
}

beforeAll(async () => {
  rx = await receiverForFile();
  s = await started({ LEADTRAIL_RETRY_SCALE: '0.001', LEADTRAIL_WEBHOOK_DISABLE_AFTER: '5' });
  scored = await createType(s, { ActivityEventName: 'Webhook scored', Score: 5 });
  unscored = await createType(s, { ActivityEventName: 'Webhook unscored', Score: 0 });
  await hook(3, '/e3', { CustomHeaders: [{ Key: 'x-api-key', Value: 'k3' }, { Key: 'X-Team', Value: 'sales' }] });
  await hook(6, '/e6', { ContentType: 'application/x-www-form-urlencoded' });
  await hook(5, '/e5');
  await hook(4, '/e4');
  await hook(2, '/e2', { ContentType: 'text/plain' });
  await hook(9, '/e9');
  await hook(15, '/e15');
});

describe('each event code fires once per cause, in its shape', () => {
  let leadId: string;
  let activityId: string;

  it('3 lead create: the lead as a flat object of strings, JSON, with the custom headers and an event id', async () => {
    leadId = await lead({ FirstName: 'Ada', EmailAddress: 'ada@hooks.example' });
    const [r] = await rx.until(() => about('/e3', leadId).length === 1).then(() => about('/e3', leadId));
    expect(r.method).toBe('POST');
    expect(r.headers['content-type']).toMatch(/^application\/json/);
    expect(r.headers['x-api-key']).toBe('k3');
    expect(r.headers['x-team']).toBe('sales');
    expect(r.headers['x-leadtrail-event']).toBe('3');
    expect(r.eventId).toMatch(UUID);
    expect(r.json).toMatchObject({ ProspectID: leadId, FirstName: 'Ada', EmailAddress: 'ada@hooks.example', ProspectAutoId: expect.stringMatching(/^\d+$/), Score: '0', DoNotEmail: '0' });
    expect(r.json.Phone).toBeNull();
    expect(r.headers['x-leadtrail-signature']).toBeUndefined();
    // The same keys as a lead read: every field of the account, JobTitle and Website among them.
    const read = expectOk(await s.call('GET', `${LM}/Leads.GetById?id=${leadId}`))[0];
    expect(Object.keys(r.json)).toEqual(Object.keys(read));
    expect(r.json).toMatchObject({ JobTitle: null, Website: null });
  });

  it('6 lead update, 5 stage change and 4 owner change: one each for one update that changes stage and owner', async () => {
    const before = expectOk(await s.call('GET', `${LM}/Leads.GetById?id=${leadId}`))[0];
    expectOk(await s.call('POST', `${LM}/Lead.Update?leadId=${leadId}`, [{ Attribute: 'ProspectStage', Value: 'Prospect' }, { Attribute: 'OwnerId', Value: 'owner-two' }]));
    await rx.until(() => about('/e6', leadId).length >= 1 && about('/e5', leadId).length >= 1 && about('/e4', leadId).length >= 1);
    const [u] = about('/e6', leadId);
    expect(u.headers['content-type']).toMatch(/^application\/x-www-form-urlencoded/);
    expect(u.json).toMatchObject({ ProspectID: leadId, ProspectStage: 'Prospect', OwnerId: 'owner-two', FirstName: 'Ada' });
    expect(about('/e5', leadId)[0].json).toMatchObject({ ProspectStage: 'Prospect', PreviousProspectStage: null });
    expect(about('/e4', leadId)[0].json).toMatchObject({ OwnerId: 'owner-two', PreviousOwnerId: before.OwnerId });
    // An update that changes neither stage nor owner raises 6 only.
    expectOk(await s.call('POST', `${LM}/Lead.Update?leadId=${leadId}`, [{ Attribute: 'LastName', Value: 'Lovelace' }]));
    await rx.until(() => about('/e6', leadId).length === 2);
    await quiet();
    expect([about('/e6', leadId).length, about('/e5', leadId).length, about('/e4', leadId).length]).toEqual([2, 1, 1]);
  });

  it('2 activity create (text/plain) and 9 score change; an activity that scores nothing raises no 9', async () => {
    const r = expectOk(await s.call('POST', `${PA}/Create`, { RelatedProspectId: leadId, ActivityEvent: scored, ActivityNote: 'first call', ActivityDateTime: '2026-01-02 03:04:05' }));
    activityId = r.Message.Id;
    await rx.until(() => about('/e2', leadId).length === 1 && about('/e9', leadId).length === 1);
    const [a] = about('/e2', leadId);
    expect(a.headers['content-type']).toMatch(/^text\/plain/);
    expect(a.json).toMatchObject({
      ProspectActivityId: activityId,
      RelatedProspectId: leadId,
      ActivityEvent: scored,
      ActivityEventName: 'Webhook scored',
      ActivityNote: 'first call',
      ActivityDateTime: '2026-01-02 03:04:05',
      Lead: { ProspectID: leadId, EmailAddress: 'ada@hooks.example', Score: '5' },
    });
    expect(about('/e9', leadId)[0].json).toMatchObject({ ProspectID: leadId, Score: '5', PreviousScore: '0' });
    expectOk(await s.call('POST', `${PA}/Create`, { RelatedProspectId: leadId, ActivityEvent: unscored, ActivityNote: 'no score' }));
    await rx.until(() => about('/e2', leadId).length === 2);
    await quiet();
    expect(about('/e9', leadId)).toHaveLength(1);
  });

  it('15 activity update: the activity with its new note', async () => {
    expectOk(await s.call('POST', `${PA}/CustomActivity/Update`, { ProspectActivityId: activityId, ActivityNote: 'edited' }));
    await rx.until(() => about('/e15', leadId).length === 1);
    expect(about('/e15', leadId)[0].json).toMatchObject({ ProspectActivityId: activityId, ActivityNote: 'edited', ActivityEvent: scored });
    expect(about('/e15', leadId)[0].headers['x-leadtrail-event']).toBe('15');
  });

  it('every event has its own id, and each was delivered once (delivery records agree)', async () => {
    await quiet();
    const mine = rx.received.filter((r) => (r.json.ProspectID ?? r.json.RelatedProspectId) === leadId);
    expect(mine.map((r) => r.path).sort()).toEqual(['/e15', '/e2', '/e2', '/e3', '/e4', '/e5', '/e6', '/e6', '/e9']);
    expect(new Set(mine.map((r) => r.eventId)).size).toBe(mine.length);
    const d = expectOk(await s.call('GET', `/_leadtrail/webhooks/deliveries?eventId=${mine[0].eventId}`));
    expect(d.deliveries).toEqual([expect.objectContaining({ eventId: mine[0].eventId, attempt: 1, statusCode: 200, outcome: 'delivered', response: '{"Status":"Success"}' })]);
  });
});

describe('every door raises events', () => {
  it('async worker, bulk create and update, CreateCustom, bulk activities, Capture, CreateOrUpdate, Convert', async () => {
    const rid = await accept(s.url, '/lead/capture', [{ Attribute: 'EmailAddress', Value: 'door-async@hooks.example' }]);
    await settled(s.url, rid, ['Success', 'FAILURE', 'ERROR'], '/lead/status');
    const bulk = expectOk(await s.call('POST', `${LM}/Lead/Bulk/Create`, [[{ Attribute: 'EmailAddress', Value: 'door-bulk1@hooks.example' }], [{ Attribute: 'EmailAddress', Value: 'door-bulk2@hooks.example' }]]));
    expect(bulk).toBeDefined();
    const custom = expectOk(
      await s.call('POST', `${PA}/CreateCustom`, { LeadDetails: [{ Attribute: 'EmailAddress', Value: 'door-custom@hooks.example' }, { Attribute: 'SearchBy', Value: 'EmailAddress' }], Activity: { ActivityEvent: unscored, ActivityNote: 'custom' } }),
    );
    expect(custom).toBeDefined();
    const captured = expectOk(await s.call('POST', `${LM}/Lead.Capture`, [{ Attribute: 'EmailAddress', Value: 'door-capture@hooks.example' }]));
    expect(captured).toBeDefined();
    expectOk(await s.call('POST', `${LM}/Lead.Convert?leadId=00000000-0000-0000-0000-00000000c0de`, [{ Attribute: 'EmailAddress', Value: 'door-convert@hooks.example' }]));
    const emails = ['door-async', 'door-bulk1', 'door-bulk2', 'door-custom', 'door-capture', 'door-convert'].map((e) => `${e}@hooks.example`);
    const created = () => rx.on('/e3').filter((r) => emails.includes(r.json.EmailAddress));
    await rx.until(() => created().length === emails.length);
    const ids: Record<string, string> = Object.fromEntries(created().map((r) => [r.json.EmailAddress, r.json.ProspectID as string]));
    await rx.until(() => about('/e2', ids['door-custom@hooks.example']).length === 1);

    // Bulk update (6 per lead), CreateOrUpdate on an existing lead (6), a bulk activity (2).
    const two = [ids['door-bulk1@hooks.example'], ids['door-bulk2@hooks.example']];
    expectOk(await s.call('POST', `${LM}/Lead/Bulk/Update`, { LeadIds: two, LeadFields: { Attribute: 'Company', Value: 'Bulk Co' } }));
    expectOk(await s.call('POST', `${LM}/Lead.CreateOrUpdate`, [{ Attribute: 'EmailAddress', Value: 'door-capture@hooks.example' }, { Attribute: 'Company', Value: 'Upserted' }]));
    expectOk(await s.call('POST', `${PA}/Bulk/CustomActivity/Add/ByLeadId`, [{ RelatedProspectId: ids['door-async@hooks.example'], ActivityEvent: unscored, ActivityNote: 'bulk activity' }]));
    await rx.until(
      () =>
        two.every((id) => about('/e6', id).length === 1) &&
        about('/e6', ids['door-capture@hooks.example']).length === 1 &&
        about('/e2', ids['door-async@hooks.example']).length === 1,
    );
    await quiet();
    expect(two.map((id) => about('/e6', id)[0].json.Company)).toEqual(['Bulk Co', 'Bulk Co']);
    for (const id of Object.values(ids)) expect(about('/e3', id)).toHaveLength(1);
  });
});

describe('nothing phantom', () => {
  it('a write that fails sends nothing: a duplicate lead, and CreateCustom whose activity is refused after its lead was made', async () => {
    await lead({ EmailAddress: 'taken@hooks.example' });
    await rx.until(() => rx.on('/e3').some((r) => r.json.EmailAddress === 'taken@hooks.example'));
    expectMx(await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: 'taken@hooks.example' }]), 500, 'MXDuplicateEntryException');
    const bad = await s.call('POST', `${PA}/CreateCustom`, { LeadDetails: [{ Attribute: 'EmailAddress', Value: 'never@hooks.example' }], Activity: { ActivityEvent: 99_999 } });
    expect(bad.status).not.toBe(200);
    await quiet();
    expect(rx.on('/e3').filter((r) => r.json.EmailAddress === 'taken@hooks.example')).toHaveLength(1);
    expect(rx.received.filter((r) => r.body.includes('never@hooks.example'))).toEqual([]);
  });
});

describe('retries, disabling, re-sending and signatures', () => {
  it('a receiver answering 500 then 200 gets the event twice, with the same event id; both attempts are recorded', async () => {
    await hook(3, '/flaky');
    rx.answer = (r, n) => (r.path === '/flaky' && n === 0 ? { status: 500 } : { status: 200 });
    const id = await lead({ EmailAddress: 'flaky@hooks.example' });
    const got = await rx.until(() => about('/flaky', id).length === 2).then(() => about('/flaky', id));
    expect(got[0].eventId).toBe(got[1].eventId);
    expect(got.map((r) => r.headers['x-leadtrail-attempt'])).toEqual(['1', '2']);
    await quiet();
    expect(about('/flaky', id)).toHaveLength(2);
    const d = expectOk(await s.call('GET', `/_leadtrail/webhooks/deliveries?eventId=${got[0].eventId}`)).deliveries.filter((x: any) => x.url.endsWith('/flaky'));
    expect(d.map((x: any) => [x.attempt, x.statusCode, x.outcome])).toEqual([
      [2, 200, 'delivered'],
      [1, 500, 'retry'],
    ]);
    expect(d[1].response).toContain('test receiver says no');
    rx.answer = () => ({ status: 200 });
  });

  it('a receiver that keeps failing gets its webhook disabled (StatusCode 2), counted in the metrics; saving it again sends what waited, in order', async () => {
    const disabledTotal = async () => Number(/ (\d+)$/m.exec(await s.services.metrics.registry.getSingleMetricAsString('leadtrail_webhooks_disabled_total'))?.[1]);
    const disabledBefore = await disabledTotal();
    const wid = await hook(3, '/dead');
    rx.answer = (r) => (r.path === '/dead' ? { status: 503 } : { status: 200 });
    // Five leads: the first event's attempt fails, the others wait while it is retried (the receiver
    // is probed once per retry delay), and the fifth failure in a row disables it.
    const leads: string[] = [];
    for (let i = 0; i < 5; i++) leads.push(await lead({ EmailAddress: `dead${i}@hooks.example` }));
    const first = leads[0];
    const listed = async () => expectOk(await s.call('POST', `${WH}/Retrieve`, { Parameter: { WebhookId: wid } })).Response[0];
    for (let i = 0; (await listed()).StatusCode !== 2; i++) {
      if (i > 750) throw new Error('webhook never disabled');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect((await listed()).ConsecutiveFailures).toBeGreaterThanOrEqual(5);
    // Said once, when it happened (it had been silent: a fresh-eyes run).
    for (let i = 0; (await disabledTotal()) === disabledBefore; i++) {
      if (i > 250) throw new Error('disabling never counted');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await disabledTotal()).toBe(disabledBefore + 1);
    const failedSoFar = rx.on('/dead').length;
    expect(failedSoFar).toBeGreaterThanOrEqual(5);
    // While disabled, nothing is posted; events of leads made now do not go to it at all.
    const later = await lead({ EmailAddress: 'dead-later@hooks.example' });
    await new Promise((r) => setTimeout(r, 300));
    expect(rx.on('/dead').length).toBe(failedSoFar);
    rx.answer = () => ({ status: 200 });
    expectOk(await s.call('POST', `${WH}/Update`, { WebhookId: wid, Description: 'fixed' }));
    expect(await listed()).toMatchObject({ StatusCode: 0, ConsecutiveFailures: 0, Description: 'fixed' });
    await quiet();
    expect(about('/dead', later)).toEqual([]);
    // Every event that waited went out once it was enabled again; the one that failed first went out on a later attempt.
    const deliveries = expectOk(await s.call('GET', `/_leadtrail/webhooks/deliveries?webhookId=${wid}&limit=1000`)).deliveries;
    for (const id of leads) expect(about('/dead', id).length).toBeGreaterThanOrEqual(1);
    expect(deliveries.filter((d: any) => d.outcome === 'delivered')).toHaveLength(leads.length);
    expect(about('/dead', first).length).toBeGreaterThanOrEqual(2);
    expect(about('/dead', first).at(-1)!.headers['x-leadtrail-attempt']).not.toBe('1');
  });

  it('an answer with NUL bytes or a long body is recorded (its first KB), and the event counts as delivered', async () => {
    await hook(3, '/nul');
    rx.answer = (r) => (r.path === '/nul' ? { status: 200, body: `ok\u0000${'x'.repeat(5000)}` } : { status: 200 });
    const id = await lead({ EmailAddress: 'nul@hooks.example' });
    await rx.until(() => about('/nul', id).length === 1);
    await quiet();
    const [r] = about('/nul', id);
    const d = expectOk(await s.call('GET', `/_leadtrail/webhooks/deliveries?eventId=${r.eventId}`)).deliveries.find((x: any) => x.url.endsWith('/nul'));
    expect(d).toMatchObject({ outcome: 'delivered', statusCode: 200 });
    expect(d.response).toMatch(/^ok\uFFFDx+$/);
    expect(d.response.length).toBe(1024);
    expect(about('/nul', id)).toHaveLength(1);
    rx.answer = () => ({ status: 200 });
  });

  it('re-send posts a delivered event again, with the same event id', async () => {
    const id = await lead({ EmailAddress: 'resend@hooks.example' });
    const [r] = await rx.until(() => about('/e3', id).length === 1).then(() => about('/e3', id));
    // The receiver has answered; the attempt is recorded a moment later.
    let d: any;
    for (let i = 0; !d; i++) {
      if (i > 200) throw new Error('delivery never recorded');
      d = expectOk(await s.call('GET', `/_leadtrail/webhooks/deliveries?eventId=${r.eventId}`)).deliveries.find((x: any) => x.url.endsWith('/e3'));
      if (!d) await new Promise((res) => setTimeout(res, 20));
    }
    expect(expectOk(await s.call('POST', `/_leadtrail/webhooks/deliveries/resend?id=${d.id}`)).resent).toMatchObject({ eventId: r.eventId });
    await rx.until(() => about('/e3', id).length === 2);
    expect(about('/e3', id)[1].eventId).toBe(r.eventId);
    expectMx(await s.call('POST', `/_leadtrail/webhooks/deliveries/resend?id=00000000-0000-0000-0000-000000000000`), 404, 'MXInvalidEntityException');
  });

  it('re-send of a delivery whose webhook was deleted is 404, and leaves no event pending for good', async () => {
    const hookId = await hook(3, '/deleted-later');
    const id = await lead({ EmailAddress: 'resend-deleted@hooks.example' });
    await rx.until(() => about('/deleted-later', id).length === 1);
    await quiet();
    const [d] = expectOk(await s.call('GET', `/_leadtrail/webhooks/deliveries?webhookId=${hookId}`)).deliveries;
    expect(d).toMatchObject({ outcome: 'delivered' });
    expectOk(await s.call('POST', `${WH}/Delete`, { WebhookId: hookId }));
    // There is nowhere to send it: answering "resent" left the event pending forever (never claimed, never purged).
    expectMx(await s.call('POST', `/_leadtrail/webhooks/deliveries/resend?id=${d.id}`), 404, 'MXInvalidEntityException');
    expect((await s.services.store.webhooks.countByStatus()).pending).toBe(0);
    // The record of the attempt stays listed.
    expect(expectOk(await s.call('GET', `/_leadtrail/webhooks/deliveries?webhookId=${hookId}`)).total).toBe(1);
  });

  it('a webhook with a secret signs timestamp.body with HMAC-SHA256', async () => {
    await hook(3, '/signed', { SigningSecret: 'shh' });
    const id = await lead({ EmailAddress: 'signed@hooks.example' });
    const [r] = await rx.until(() => about('/signed', id).length === 1).then(() => about('/signed', id));
    const ts = String(r.headers['x-leadtrail-timestamp']);
    expect(Math.abs(Number(ts) - Date.now() / 1000)).toBeLessThan(300);
    const expected = `v1=${createHmac('sha256', 'shh').update(`${ts}.${r.body}`).digest('hex')}`;
    expect(r.headers['x-leadtrail-signature']).toBe(expected);
    const listed = expectOk(await s.call('POST', `${WH}/Retrieve`, { Parameter: { SearchText: '/signed' } })).Response;
    expect(listed).toHaveLength(1);
    expect(listed[0].HasSigningSecret).toBe(true);
    expect(JSON.stringify(listed)).not.toContain('shh');
  });

  it('in order per webhook and lead, also when the receiver is slow', async () => {
    await hook(6, '/ordered');
    rx.answer = (r) => (r.path === '/ordered' ? { status: 200, delayMs: 30 } : { status: 200 });
    const id = await lead({ EmailAddress: 'ordered@hooks.example' });
    for (let i = 1; i <= 6; i++) expectOk(await s.call('POST', `${LM}/Lead.Update?leadId=${id}`, [{ Attribute: 'Company', Value: `C${i}` }]));
    await rx.until(() => about('/ordered', id).length === 6);
    expect(about('/ordered', id).map((r: Received) => r.json.Company)).toEqual(['C1', 'C2', 'C3', 'C4', 'C5', 'C6']);
    rx.answer = () => ({ status: 200 });
  });
});

describe('Webhook.svc settings', () => {
  it('refuses custom headers no receiver would take, and delivers those at the bounds', async () => {
    // Each had been accepted, then every delivery failed (431 from the receiver, or the client
    // refusing `Trailer`) until the webhook was disabled: found by a fresh-eyes run.
    const create = (CustomHeaders: { Key: string; Value: string }[]) => s.call('POST', `${WH}/Create`, { URL: `${rx.url}/bounds`, WebhookEvent: 3, CustomHeaders });
    expectMx(await create([{ Key: 'X'.repeat(257), Value: '1' }]), 500, 'MXInvalidInputException', /longer than 256 characters/);
    const wide = Array.from({ length: 50 }, (_, i) => ({ Key: `X-Wide-${i}`, Value: 'v'.repeat(4000) }));
    expectMx(await create(wide), 500, 'MXInvalidInputException', /at most 8192/);
    expect((await s.call('POST', `${WH}/Retrieve`, { Parameter: { SearchText: '/bounds' } })).body.RecordCount).toBe(0);
    // At the bounds: two headers of 8,192 bytes in all, one with a name of 256 characters.
    const name = `X-${'n'.repeat(254)}`;
    const atBounds = [
      { Key: name, Value: 'a'.repeat(4096) },
      { Key: 'X-Rest', Value: 'b'.repeat(8192 - (name.length + 2 + 4096 + 2) - ('X-Rest'.length + 2 + 2)) },
    ];
    const id = expectOk(await create(atBounds)).Message.Id;
    const leadId = await lead({ EmailAddress: 'bounds@hooks.example' });
    await rx.until(() => about('/bounds', leadId).length === 1);
    const got = about('/bounds', leadId)[0];
    expect(got.headers[name.toLowerCase()]).toBe('a'.repeat(4096));
    expect(got.headers['x-rest']).toHaveLength(atBounds[1].Value.length);
    expectOk(await s.call('POST', `${WH}/Delete`, { WebhookId: id }));
  });

  it('Retrieve by event name, Update, Delete; bad input gets MX envelopes', async () => {
    const id = await hook(26, '/settings', { Description: 'field change hook', CustomHeaders: [{ Key: 'A', Value: '1' }], ExecutionDelay: 5 });
    const all = expectOk(await s.call('POST', `${WH}/Retrieve`, { Parameter: { WebhookEvent: 'Lead_Field_Change' }, Paging: { PageIndex: 1, PageSize: 10 } }));
    expect(all.RecordCount).toBe(1);
    expect(all.Response[0]).toMatchObject({ WebhookId: id, EventCode: 'Lead_Field_Change', WebhookEvent: 26, URL: `${rx.url}/settings`, ContentType: 'application/json', Method: 'POST', StatusCode: 0, ExecutionDelay: 5, CustomHeaders: [{ Key: 'A', Value: '1' }] });
    expectOk(await s.call('POST', `${WH}/Update`, { WebhookId: id, ContentType: 'text/plain', StatusCode: 1 }));
    expect(expectOk(await s.call('POST', `${WH}/Retrieve`, { Parameter: { WebhookId: id } })).Response[0]).toMatchObject({ ContentType: 'text/plain', StatusCode: 1 });
    expectOk(await s.call('POST', `${WH}/Delete`, { WebhookId: id }));
    expect(expectOk(await s.call('POST', `${WH}/Retrieve`, { Parameter: { WebhookId: id } })).RecordCount).toBe(0);
    expectMx(await s.call('POST', `${WH}/Delete`, { WebhookId: id }), 500, 'MXInvalidInputException');
    expectMx(await s.call('POST', `${WH}/Create`, { URL: `${rx.url}/x`, WebhookEvent: 3, ContentType: 'application/xml' }), 500, 'MXInvalidInputException', /ContentType/);
    expectMx(await s.call('POST', `${WH}/Create`, { URL: `${rx.url}/x`, WebhookEvent: 99 }), 500, 'MXInvalidInputException', /WebhookEvent/);
    expectMx(await s.call('POST', `${WH}/Create`, { URL: 'ftp://example.com/x', WebhookEvent: 3 }), 500, 'MXInvalidInputException', /http/);
    expectMx(await s.call('POST', `${WH}/Create`, { WebhookEvent: 3 }), 500, 'MXMandatoryAttributeMissingException', /URL/);
    expectMx(await s.call('POST', `${WH}/Create`, { URL: `${rx.url}/x`, WebhookEvent: 3, CustomHeaders: [{ Key: 'Content-Type', Value: 'x' }] }), 500, 'MXInvalidInputException', /Content-Type/);
    expectMx(await s.call('POST', `${WH}/Update`, { Description: 'no id' }), 500, 'MXMandatoryAttributeMissingException', /WebhookId/);
    expectMx(await s.call('POST', `${WH}/Create`, { URL: `${rx.url}/x`, WebhookEvent: 3, CustomHeaders: [{ Key: 'X-Name', Value: 'caf\u00e9 \u2603' }] }), 500, 'MXInvalidInputException', /cannot carry/);
    expectMx(await s.call('POST', `${WH}/Create`, { URL: `${rx.url}/${'x'.repeat(3000)}`, WebhookEvent: 3 }), 500, 'MXInvalidInputException', /longer/);
    expectMx(await s.call('POST', `${WH}/Create`, { URL: `${rx.url}/x`, WebhookEvent: 3, CustomHeaders: [{ Key: 'Bad Name', Value: '1' }] }), 500, 'MXInvalidInputException', /header name/);
    // Settings no delivery could ever be made with (fetch refuses them before sending): refused when saved.
    for (const Key of ['Expect', 'upgrade', 'Keep-Alive']) {
      expectMx(await s.call('POST', `${WH}/Create`, { URL: `${rx.url}/x`, WebhookEvent: 3, CustomHeaders: [{ Key, Value: '1' }] }), 500, 'MXInvalidInputException', new RegExp(`'${Key}' cannot be sent`));
    }
    expectMx(await s.call('POST', `${WH}/Create`, { URL: `${rx.url}/x`, WebhookEvent: 3, CustomHeaders: [{ Key: 'Trailer', Value: 'x' }] }), 500, 'MXInvalidInputException', /'Trailer' cannot be sent/);
    const withCredentials = rx.url.replace('://', '://user:pa55word@');
    expectMx(await s.call('POST', `${WH}/Create`, { URL: `${withCredentials}/x`, WebhookEvent: 3 }), 500, 'MXInvalidInputException', /user name or password/);
    const saved = await hook(3, '/saved');
    expectMx(await s.call('POST', `${WH}/Update`, { WebhookId: saved, URL: `${withCredentials}/x` }), 500, 'MXInvalidInputException', /user name or password/);
    expectMx(await s.call('POST', `${WH}/Update`, { WebhookId: saved, CustomHeaders: [{ Key: 'Expect', Value: '100-continue' }] }), 500, 'MXInvalidInputException', /'Expect' cannot be sent/);
    expect(expectOk(await s.call('POST', `${WH}/Retrieve`, { Parameter: { WebhookId: saved } })).Response[0]).toMatchObject({ URL: `${rx.url}/saved`, CustomHeaders: [] });
    expectOk(await s.call('POST', `${WH}/Delete`, { WebhookId: saved }));
    expectMx(await s.call('POST', `${WH}/Retrieve`, { Parameter: { WebhookEvent: 'Lead_Nowhere' } }), 500, 'MXInvalidInputException', /'Lead_Nowhere' is not a webhook event/);
    // A code no event has is refused as a name is: 2147483648 was a 500 MXSystemException on PostgreSQL (no INTEGER holds it), an empty list on SQLite.
    for (const code of ['10', '2147483648', '99999999999999999999999']) {
      expectMx(await s.call('POST', `${WH}/Retrieve`, { Parameter: { WebhookEvent: code } }), 500, 'MXInvalidInputException', new RegExp(`'${code}' is not a webhook event`));
    }
    expect(expectOk(await s.call('POST', `${WH}/Retrieve`, { Parameter: { WebhookEvent: ' 003 ' } })).RecordCount).toBeGreaterThanOrEqual(0);
    expectMx(await s.call('POST', `${WH}/Retrieve`, { Parameter: { StatusCode: 3 } }), 500, 'MXInvalidInputException', /StatusCode must be 0/);
    expectMx(await s.call('POST', `${WH}/Retrieve`, { Paging: { PageIndex: 0 } }), 500, 'MXInvalidInputException', /PageIndex/);
    expectMx(await s.call('POST', `${WH}/Retrieve`, { Paging: { PageSize: '1001' } }), 500, 'MXInvalidInputException', /'Paging.PageSize' must be a whole number from 1 to 1000/);
    expectMx(await s.call('POST', `${WH}/Retrieve`, { Parameter: [] }), 400, 'MXInvalidInputException', /'Parameter' must be a JSON object/);
    expectMx(await s.call('POST', `${WH}/Create`, { URL: `${rx.url}/x`, WebhookEvent: 3, NotifyOnFailure: 'maybe' }), 400, 'MXInvalidInputException', /'NotifyOnFailure' must be true or false/);
    expectMx(await s.call('POST', `${WH}/Create`, [1]), 400, 'MXInvalidInputException', /request body must be a JSON object/);
  });

  it('LEADTRAIL_WEBHOOK_ALLOW refuses other hosts', async () => {
    const strict = await started({ LEADTRAIL_WEBHOOK_ALLOW: 'hooks.example.com,*.trusted.example' });
    expectMx(await strict.call('POST', `${WH}/Create`, { URL: `${rx.url}/x`, WebhookEvent: 3 }), 500, 'MXInvalidInputException', /allow/);
    expectOk(await strict.call('POST', `${WH}/Create`, { URL: 'https://hooks.example.com/in', WebhookEvent: 3 }));
    expectOk(await strict.call('POST', `${WH}/Create`, { URL: 'https://a.trusted.example/in', WebhookEvent: 3 }));
  });

  it('LEADTRAIL_WEBHOOK_ALLOW with an IPv6 address in brackets allows that address, and only it', async () => {
    const strict = await started({ LEADTRAIL_WEBHOOK_ALLOW: '[::1]' });
    expectOk(await strict.call('POST', `${WH}/Create`, { URL: 'http://[::1]:9330/in', WebhookEvent: 3 }));
    expectMx(await strict.call('POST', `${WH}/Create`, { URL: 'http://[::2]:9330/in', WebhookEvent: 3 }), 500, 'MXInvalidInputException', /allow/);
    expectMx(await strict.call('POST', `${WH}/Create`, { URL: 'http://127.0.0.1:9330/in', WebhookEvent: 3 }), 500, 'MXInvalidInputException', /allow/);
  });
});

describe('account isolation', () => {
  it("account A's webhooks never see account B's events; B cannot read or change A's webhooks or deliveries", async () => {
    const b = await secondAccount(s);
    const other = { keys: b.keys };
    const bHook = await hook(3, '/b-only', {}, other);
    const aLead = await lead({ EmailAddress: 'isolation-a@hooks.example' });
    const bLead = await lead({ EmailAddress: 'isolation-b@hooks.example' }, other);
    await rx.until(() => about('/b-only', bLead).length === 1 && about('/e3', aLead).length === 1);
    await quiet();
    expect(rx.on('/b-only').map((r) => r.json.ProspectID)).toEqual([bLead]);
    expect(about('/e3', bLead)).toEqual([]);
    // A's Retrieve lists only A's webhooks; B's delivery list has only B's.
    const aList = expectOk(await s.call('POST', `${WH}/Retrieve`, {})).Response.map((w: any) => w.WebhookId);
    expect(aList).not.toContain(bHook);
    const bDeliveries = expectOk(await s.call('GET', '/_leadtrail/webhooks/deliveries', undefined, other)).deliveries;
    expect(bDeliveries.map((d: any) => d.webhookId)).toEqual([bHook]);
    expectMx(await s.call('POST', `${WH}/Delete`, { WebhookId: aList[0] }, other), 500, 'MXInvalidInputException');
  });
});

describe('custom headers', () => {
  it('a custom User-Agent is sent as given (it was replaced by leadtrail-webhooks); without one, leadtrail-webhooks', async () => {
    const ua = await hook(3, '/ua', { CustomHeaders: [{ Key: 'user-agent', Value: 'acme-crm/1.0' }] });
    const id = await lead({ EmailAddress: 'ua@hooks.example' });
    await rx.until(() => about('/ua', id).length === 1 && about('/e3', id).length === 1);
    expect(about('/ua', id)[0].headers['user-agent']).toBe('acme-crm/1.0');
    expect(about('/e3', id)[0].headers['user-agent']).toBe('leadtrail-webhooks');
    expectOk(await s.call('POST', `${WH}/Delete`, { WebhookId: ua }));
  });

  it('a Latin-1 value goes out as Latin-1, as Create accepted it (it went out as UTF-8 bytes: "cafÃ©" to a Node receiver)', async () => {
    const h = await hook(3, '/latin1', { CustomHeaders: [{ Key: 'X-Team', Value: 'café ñ' }] });
    const id = await lead({ EmailAddress: 'latin1@hooks.example' });
    await rx.until(() => about('/latin1', id).length === 1);
    const got = about('/latin1', id)[0].headers['x-team'] as string;
    // Node reads a header's bytes as Latin-1: one byte a character.
    expect(got).toBe('café ñ');
    expect(Buffer.from(got, 'latin1').toString('hex')).toBe('636166e920f1');
    expectOk(await s.call('POST', `${WH}/Delete`, { WebhookId: h }));
  });
});

describe('what docs/webhooks.md says about ids and enabling', () => {
  it('two webhooks of one code get the same event id for one change, told apart by X-LeadTrail-Webhook-Id', async () => {
    const a = await hook(3, '/same-a');
    const b = await hook(3, '/same-b');
    const id = await lead({ EmailAddress: 'same-id@hooks.example' });
    await rx.until(() => about('/same-a', id).length === 1 && about('/same-b', id).length === 1);
    const [ra, rb] = [about('/same-a', id)[0], about('/same-b', id)[0]];
    expect(ra.eventId).toBe(rb.eventId);
    expect([ra.headers['x-leadtrail-webhook-id'], rb.headers['x-leadtrail-webhook-id']]).toEqual([a, b]);
    for (const w of [a, b]) expectOk(await s.call('POST', `${WH}/Delete`, { WebhookId: w }));
  });

  it('Update keeps a SigningSecret left out and removes it with "" or null', async () => {
    const w = await hook(3, '/unsigned', { SigningSecret: 's3cret' });
    const has = async () => expectOk(await s.call('POST', `${WH}/Retrieve`, { Parameter: { WebhookId: w } })).Response[0].HasSigningSecret;
    expectOk(await s.call('POST', `${WH}/Update`, { WebhookId: w, Description: 'kept' }));
    expect(await has()).toBe(true);
    expectOk(await s.call('POST', `${WH}/Update`, { WebhookId: w, SigningSecret: '' }));
    expect(await has()).toBe(false);
    expectOk(await s.call('POST', `${WH}/Update`, { WebhookId: w, SigningSecret: 'again' }));
    expectOk(await s.call('POST', `${WH}/Update`, { WebhookId: w, SigningSecret: null }));
    expect(await has()).toBe(false);
    expectOk(await s.call('POST', `${WH}/Delete`, { WebhookId: w }));
  });

  it('an Update without StatusCode leaves a webhook disabled by hand disabled; StatusCode 0 enables it', async () => {
    const w = await hook(3, '/by-hand');
    const one = async () => expectOk(await s.call('POST', `${WH}/Retrieve`, { Parameter: { WebhookId: w } })).Response[0];
    expectOk(await s.call('POST', `${WH}/Update`, { WebhookId: w, StatusCode: 1 }));
    expectOk(await s.call('POST', `${WH}/Update`, { WebhookId: w, Description: 'saved again' }));
    expect(await one()).toMatchObject({ StatusCode: 1, Description: 'saved again' });
    expectOk(await s.call('POST', `${WH}/Update`, { WebhookId: w, StatusCode: 0 }));
    expect(await one()).toMatchObject({ StatusCode: 0 });
    expectOk(await s.call('POST', `${WH}/Delete`, { WebhookId: w }));
  });
});
