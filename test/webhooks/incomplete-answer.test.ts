/**
 * A receiver whose answer's status and headers come but whose body never ends (or is cut off): the
 * attempt fails, as before, and its delivery record keeps the status and what of the body came. It
 * had been recorded with `statusCode: null`, as if no answer had come (a fresh-eyes run). Both engines.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LM, expectOk } from '../helpers/lsq.js';
import { started, type TestServer } from '../helpers/server.js';

let s: TestServer;
let rx: http.Server;
let url: string;

beforeAll(async () => {
  rx = http.createServer((req, res) => {
    req.resume();
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.write('partial answer');
    // /hang: the body never ends (the timeout cuts it off); /cut: the connection is closed mid-body.
    if (req.url === '/cut') setTimeout(() => res.socket?.destroy(), 50);
    // /reset: a TCP reset after the status (Node reports it on the request, before the answer).
    if (req.url === '/reset') setTimeout(() => res.socket?.resetAndDestroy(), 50);
  });
  await new Promise<void>((resolve) => rx.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(rx.address() as AddressInfo).port}`;
  s = await started({ LEADTRAIL_WEBHOOK_TIMEOUT_MS: '1000' });
});
afterAll(async () => {
  rx.closeAllConnections();
  await new Promise((resolve) => rx.close(resolve));
});

async function firstDelivery(webhookId: string): Promise<any> {
  for (const end = Date.now() + 15_000; Date.now() < end; await new Promise((r) => setTimeout(r, 50))) {
    const r = await s.call('GET', `/_leadtrail/webhooks/deliveries?webhookId=${webhookId}&limit=1`);
    if (r.body.total > 0) return r.body.deliveries[0];
  }
  throw new Error('no delivery recorded');
}

describe('an answer whose body does not end', () => {
  it.each([
    ['/hang', 'HTTP 200 came, but its body did not end within 1000 ms'],
    ['/cut', 'HTTP 200 came, but its body did not end (the receiver closed the connection before the answer was complete)'],
    ['/reset', 'HTTP 200 came, but its body did not end (the receiver closed the connection before the answer was complete)'],
  ])('%s: a failed attempt whose record keeps the status and the body that came', async (path, error) => {
    const webhookId = expectOk(await s.call('POST', '/v2/Webhook.svc/Create', { URL: `${url}${path}`, WebhookEvent: 3 })).Message.Id;
    expectOk(await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: `incomplete${path.slice(1)}@hooks.example` }]));
    const d = await firstDelivery(webhookId);
    expect(d).toMatchObject({ statusCode: 200, response: 'partial answer', error, outcome: 'retry', attempt: 1 });
  });
});
