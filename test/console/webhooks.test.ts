/**
 * The console's Webhooks page over plain HTTP: the account's webhooks with their status, failures
 * in a row and waiting events; the delivery attempts, newest first, filtered by webhook, polled
 * (204 while unchanged); "Send again" queues the same event id; another account's deliveries and
 * webhooks are out of reach; what an API caller wrote stays text. On SQLite and PostgreSQL.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LM, expectOk, secondAccount } from '../helpers/lsq.js';
import { started, type CallInit, type TestServer } from '../helpers/server.js';
import { receiverForFile, type Receiver } from '../webhooks/receiver.js';
import { consoleClient, type ConsoleClient } from './session.js';

const WH = '/v2/Webhook.svc';

let s: TestServer;
let rx: Receiver;
let c: ConsoleClient;

async function hook(path: string, extra: Record<string, unknown> = {}, init?: CallInit): Promise<string> {
  const body = { Description: `to ${path}`, URL: `${rx.url}${path}`, Method: 'POST', ContentType: 'application/json', WebhookEvent: '3', ...extra };
  return expectOk(await s.call('POST', `${WH}/Create`, body, init)).Message.Id;
}

async function lead(email: string, init?: CallInit): Promise<string> {
  return expectOk(await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: email }], init)).Message.Id;
}

/** Rows of the page's deliveries table: [webhook url, attempt, answer, outcome] each. */
function attempts(html: string): string[][] {
  const table = html.split('id="webhook-table"')[1] ?? '';
  return [...table.matchAll(/<tr class="out-[a-z]+">([\s\S]*?)<\/tr>/g)].map((m) => [...m[1].matchAll(/<td[^>]*>([\s\S]*?)<\/td>/g)].map((td) => td[1].replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim()));
}

beforeAll(async () => {
  rx = await receiverForFile();
  rx.answer = (r) => (r.path === '/down' ? { status: 500, body: '<h1>Internal error</h1> at handler.js:12' } : { status: 200 });
  s = await started({ LEADTRAIL_RETRY_SCALE: '0.001', LEADTRAIL_WEBHOOK_RETRY_SCHEDULE: '1,1,1', LEADTRAIL_WEBHOOK_DISABLE_AFTER: '2' });
  c = await consoleClient(s.url);
});

describe('the Webhooks page', () => {
  it('says how to register one when the account has none, and is in the menu', async () => {
    const page = await c.get('/console/webhooks');
    expect(page.status).toBe(200);
    expect(page.text).toContain('This account has no webhooks');
    expect(page.text).toMatch(/<a href="\/console\/webhooks" aria-current="page">Webhooks<\/a>/);
  });

  it('shows each webhook and its attempts, a failing one disabled with its events waiting, and sends an event again', async () => {
    const up = await hook('/up', { Description: '<script>alert(1)</script>' });
    const down = await hook('/down');
    const first = await lead('first@hooks.example');
    // /up gets it once; /down fails twice, which disables it (LEADTRAIL_WEBHOOK_DISABLE_AFTER=2).
    await rx.until((all) => all.filter((r) => r.path === '/up').length === 1 && all.filter((r) => r.path === '/down').length === 2);
    const disabled = async () => (await s.services.store.webhooks.get(await accountId(), down))?.status === 2;
    for (const end = Date.now() + 10_000; !(await disabled()); ) {
      if (Date.now() > end) throw new Error('the failing webhook was not disabled');
      await new Promise((r) => setTimeout(r, 20));
    }
    // A lead made while it is disabled: /up gets its event, /down does not keep it (docs/webhooks.md).
    await lead('second@hooks.example');
    // The attempts are recorded a moment after the receiver has answered: wait for the records.
    await recorded(4);

    const page = await c.get('/console/webhooks');
    expect(page.status).toBe(200);
    const rows = [...page.text.matchAll(/<tr class="wh-([a-z]+)">([\s\S]*?)<\/tr>/g)].map((m) => [m[1], m[2].replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').trim()]);
    expect(rows).toHaveLength(2);
    expect(rows[0][0]).toBe('enabled');
    expect(rows[0][1]).toContain(`${rx.url}/up`);
    expect(rows[0][1]).toMatch(/Lead Creation \(3\) Enabled 0 0 0 s application\/json no Show$/);
    expect(rows[1][0]).toBe('disabled');
    // Disabled after failures, 2 in a row; the first lead's event waits for it.
    expect(rows[1][1]).toMatch(/Lead Creation \(3\) Disabled after failures 2 1 0 s application\/json no Show$/);
    expect(page.text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page.text).not.toContain('<script>alert(1)</script>');
    expect(page.text).toContain('Save it again with <code>POST /v2/Webhook.svc/Update</code> to send what waits.');

    // Four attempts, newest first: /up twice (200), /down twice (500).
    const all = attempts(page.text);
    expect(all.map((r) => [r[1], r[3], r[4], r[5]]).sort()).toEqual(
      [
        [`${rx.url}/down`, '1', '500', 'will retry'],
        [`${rx.url}/down`, '2', '500', 'will retry'],
        [`${rx.url}/up`, '1', '200', 'delivered'],
        [`${rx.url}/up`, '1', '200', 'delivered'],
      ].sort(),
    );
    expect(page.text).toContain('4 attempts, newest first');
    // A failed attempt shows the error and what the receiver answered (escaped): the answer, often
    // the receiver's own error message, had been hidden behind "HTTP 500".
    const failed = all.find((r) => r[1] === `${rx.url}/down`)!;
    expect(failed[7]).toBe('HTTP 500 &lt;h1&gt;Internal error&lt;/h1&gt; at handler.js:12');

    // Filtered to one webhook; the poll answers 204 while nothing changed.
    const only = await c.get(`/console/webhooks?webhook=${up.toUpperCase()}`);
    expect(attempts(only.text).map((r) => r[1])).toEqual([`${rx.url}/up`, `${rx.url}/up`]);
    const tableUrl = /id="webhook-table" hx-get="([^"]+)"/.exec(only.text)![1].replace(/&amp;/g, '&');
    // The webhook list polls on its own, and also answers 204 while it shows the same.
    const listUrl = /id="webhook-list" hx-get="([^"]+)"/.exec(only.text)![1].replace(/&amp;/g, '&');
    expect(listUrl).toMatch(/^\/console\/webhooks\/list\?webhook=[0-9a-f-]+&v=/);
    expect((await fetch(`${s.url}${listUrl}`, { headers: { cookie: c.cookie, 'hx-request': 'true' } })).status).toBe(204);
    expect(tableUrl).toMatch(/^\/console\/webhooks\/table\?webhook=[0-9a-f-]+&v=/);
    const poll = await fetch(`${s.url}${tableUrl}`, { headers: { cookie: c.cookie, 'hx-request': 'true' } });
    expect(poll.status).toBe(204);

    // Send again: the first lead's event goes to /up once more, with the same event id.
    const firstEvent = rx.received.find((r) => r.path === '/up' && r.json.ProspectID === first)!;
    const deliveryId = (await s.services.store.webhooks.listDeliveries(await accountId(), { webhookId: up, eventId: firstEvent.eventId, offset: 0, limit: 1 })).deliveries[0].id;
    const sent = await c.post(`/console/webhooks/deliveries/${deliveryId}/resend`, '/console/webhooks');
    expect(sent.status).toBe(303);
    expect(sent.headers.get('location')).toBe(`/console/webhooks?resent=${firstEvent.eventId}`);
    await rx.until((got) => got.filter((r) => r.path === '/up' && r.eventId === firstEvent.eventId).length === 2);
    await recorded(5);
    const after = await c.get(`/console/webhooks?resent=${firstEvent.eventId}`);
    expect(after.text).toContain(`Event <code>${firstEvent.eventId}</code> is queued to be sent again; its attempts count from 1.</p>`);

    // Send again on the disabled webhook's attempt: taken back, and the page says it waits.
    const downDelivery = (await s.services.store.webhooks.listDeliveries(await accountId(), { webhookId: down, offset: 0, limit: 1 })).deliveries[0];
    const held = await c.post(`/console/webhooks/deliveries/${downDelivery.id}/resend`, '/console/webhooks');
    expect(held.status).toBe(303);
    expect(held.headers.get('location')).toBe(`/console/webhooks?resent=${downDelivery.eventId}&held=1`);
    expect((await c.get(held.headers.get('location')!)).text).toContain('Its webhook is disabled, so it waits until the webhook is saved again');
    expect((await s.services.store.webhooks.pendingCounts(await accountId()))[down]).toBe(1);
    // The poll of the earlier copy now has a new table (5 attempts).
    const changed = await fetch(`${s.url}${tableUrl}`, { headers: { cookie: c.cookie, 'hx-request': 'true' } });
    expect(changed.status).toBe(200);
    expect(await changed.text()).toContain('3 attempts, newest first');
  });

  it("another account's webhooks and deliveries are out of reach", async () => {
    const other = await secondAccount(s);
    const theirs = await hook('/theirs', {}, { keys: other.keys });
    await lead('theirs@hooks.example', { keys: other.keys });
    await rx.until((all) => all.some((r) => r.path === '/theirs'));
    const page = await c.get(`/console/webhooks?webhook=${theirs}`);
    expect(page.text).not.toContain('/theirs');
    const [delivery] = (await s.services.store.webhooks.listDeliveries(other.accountId, { offset: 0, limit: 1 })).deliveries;
    const sent = await c.post(`/console/webhooks/deliveries/${delivery.id}/resend`, '/console/webhooks');
    expect(sent.status).toBe(404);
    expect(sent.text).toContain('That delivery, or its event, was not found in this account.');
    expect(rx.received.filter((r) => r.path === '/theirs')).toHaveLength(1);
  });

  it('says when this process sends no webhooks and applies no async requests (found by a fresh-eyes run)', async () => {
    expect((await c.get('/console/webhooks')).text).not.toContain('runs no worker');
    const api = await started({ LEADTRAIL_WORKER: 'false' });
    const ac = await consoleClient(api.url);
    const other = api.dbPath.startsWith('pg:') ? 'A <code>leadtrail serve --role worker</code> process on the same database does.' : 'On SQLite no other process can: start it with the worker on.';
    for (const [path, what] of [['/console/webhooks', 'sends no webhooks'], ['/console/async', 'applies no async requests']]) {
      const text = (await ac.get(path)).text;
      expect(text, path).toContain(`This server process runs no worker (started with <code>--no-worker</code> or <code>--role api</code>), so it ${what}. ${other}`);
    }
  });

  it('a page past the last goes to the last page', async () => {
    const r = await c.get('/console/webhooks?page=99');
    expect(r.status).toBe(303);
    expect(r.headers.get('location')).toBe('/console/webhooks?page=1');
  });
});

/** Waits until the default account has `n` delivery records. */
async function recorded(n: number): Promise<void> {
  for (const end = Date.now() + 10_000; (await s.services.store.webhooks.listDeliveries(await accountId(), { offset: 0, limit: 1 })).total < n; ) {
    if (Date.now() > end) throw new Error(`fewer than ${n} delivery records after 10 s`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function accountId(): Promise<string> {
  const [a] = await s.services.store.accounts.list();
  return a.id;
}
