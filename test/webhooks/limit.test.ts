/**
 * LEADTRAIL_WEBHOOK_MAX: an account has at most that many webhooks (found by a fresh-eyes security
 * run: with no bound, 2,000 webhooks made one Lead.Create write 2,000 outbox rows in its transaction
 * and send 2,000 calls). Past it, Create is refused with LeadSquared's error envelope; other accounts
 * are not affected; deleting one makes room. On SQLite and PostgreSQL.
 */
import { describe, expect, it } from 'vitest';
import { expectMx, expectOk, secondAccount } from '../helpers/lsq.js';
import { started, type CallInit } from '../helpers/server.js';

const WH = '/v2/Webhook.svc';

describe('webhooks per account', () => {
  it('refuses a webhook past LEADTRAIL_WEBHOOK_MAX, per account, and takes one again after a delete', async () => {
    const s = await started({ LEADTRAIL_WEBHOOK_MAX: '3' });
    const create = (n: number, init?: CallInit) =>
      s.call('POST', `${WH}/Create`, { URL: `http://127.0.0.1:9/hook-${n}`, Method: 'POST', ContentType: 'application/json', WebhookEvent: '3' }, init);
    const ids: string[] = [];
    for (let n = 0; n < 3; n++) ids.push(expectOk(await create(n)).Message.Id);
    expectMx(await create(3), 500, 'MXInvalidInputException', 'This account has 3 webhooks, the most this server allows (LEADTRAIL_WEBHOOK_MAX 3): delete one first.');
    expect(expectOk(await s.call('POST', `${WH}/Retrieve`, {})).RecordCount).toBe(3);

    const other = await secondAccount(s);
    expectOk(await create(10, { keys: other.keys }));

    expectOk(await s.call('POST', `${WH}/Delete`, { WebhookId: ids[0] }));
    expectOk(await create(4));
    expectMx(await create(5), 500, 'MXInvalidInputException', /LEADTRAIL_WEBHOOK_MAX 3/);
  });

  it('creates side by side do not pass the limit together (PostgreSQL runs them side by side)', async () => {
    const s = await started({ LEADTRAIL_WEBHOOK_MAX: '3' });
    const made = await Promise.all(Array.from({ length: 24 }, (_, n) => s.call('POST', `${WH}/Create`, { URL: `http://127.0.0.1:9/side-${n}`, WebhookEvent: '3' })));
    for (const r of made) if (r.status !== 200) expectMx(r, 500, 'MXInvalidInputException', /LEADTRAIL_WEBHOOK_MAX 3/);
    expect(made.filter((r) => r.status === 200)).toHaveLength(3);
    expect(expectOk(await s.call('POST', `${WH}/Retrieve`, {})).RecordCount).toBe(3);
  });

  it('0 is no limit', async () => {
    const s = await started({ LEADTRAIL_WEBHOOK_MAX: '0' });
    for (let n = 0; n < 5; n++) expectOk(await s.call('POST', `${WH}/Create`, { URL: `http://127.0.0.1:9/h${n}`, WebhookEvent: '3' }));
  });
});
