/**
 * A receiver that never answers holds only its own share of the delivery slots: another webhook's
 * events go out while its attempts hang, and the API keeps answering. Both engines.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LM, expectOk } from '../helpers/lsq.js';
import { started, type TestServer } from '../helpers/server.js';
import { receiverForFile, type Receiver } from './receiver.js';

let s: TestServer;
let rx: Receiver;

beforeAll(async () => {
  rx = await receiverForFile();
  // Two slots: a webhook may hold one of them.
  s = await started({ LEADTRAIL_WEBHOOK_CONCURRENCY: '2', LEADTRAIL_WEBHOOK_TIMEOUT_MS: '20000' });
});

describe('a hanging receiver', () => {
  it("does not hold up another webhook's deliveries or the API", async () => {
    rx.answer = (r) => (r.path === '/hang' ? { status: 200, delayMs: 60_000 } : { status: 200 });
    expectOk(await s.call('POST', '/v2/Webhook.svc/Create', { URL: `${rx.url}/hang`, WebhookEvent: 3 }));
    expectOk(await s.call('POST', '/v2/Webhook.svc/Create', { URL: `${rx.url}/ok`, WebhookEvent: 6 }));
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(expectOk(await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: `hang${i}@hooks.example` }])).Message.Id);
    await rx.until(() => rx.on('/hang').length >= 1);
    // Four leads' events wait for /hang, which holds its first request; an update's event goes to /ok meanwhile.
    expectOk(await s.call('POST', `${LM}/Lead.Update?leadId=${ids[0]}`, [{ Attribute: 'Company', Value: 'Still fast' }]));
    await rx.until(() => rx.on('/ok').length === 1);
    expect(rx.on('/ok')[0].json).toMatchObject({ ProspectID: ids[0], Company: 'Still fast' });
    expect(rx.on('/hang').every((r) => r.answeredAt === undefined)).toBe(true);
    expect(rx.on('/hang')).toHaveLength(1);
  });
});
