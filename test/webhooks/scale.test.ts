/**
 * Webhooks scaled out on PostgreSQL: one API process and two worker processes on one database. Each
 * event is delivered by one worker per attempt (never two posts of one attempt), retries included,
 * and the receiver sees every event. PostgreSQL only (SQLite has one process).
 */
import { describe, expect, it } from 'vitest';
import { LM, expectOk } from '../helpers/lsq.js';
import { started } from '../helpers/server.js';
import { receiverForFile } from './receiver.js';

const LEADS = 40;

describe.skipIf(process.env.LEADTRAIL_TEST_STORE !== 'postgres')('two webhook workers on PostgreSQL', () => {
  it('deliver each event once per attempt: one post for a 200, two for a 500 then 200', async () => {
    const rx = await receiverForFile();
    const seen = new Map<string, number>();
    // Every other lead's event fails its first attempt.
    rx.answer = (r) => {
      const n = (seen.get(r.eventId) ?? 0) + 1;
      seen.set(r.eventId, n);
      const fails = Number(String(r.json.EmailAddress).match(/^scale(\d+)@/)?.[1] ?? 1) % 2 === 0;
      return { status: fails && n === 1 ? 500 : 200 };
    };
    const env = { LEADTRAIL_RETRY_SCALE: '0.001', LEADTRAIL_WEBHOOK_CONCURRENCY: '4' };
    const api = await started({ ...env, LEADTRAIL_ROLE: 'api' });
    const w1 = await started({ ...env, LEADTRAIL_ROLE: 'worker', LEADTRAIL_DB: api.dbPath });
    const w2 = await started({ ...env, LEADTRAIL_ROLE: 'worker', LEADTRAIL_DB: api.dbPath });
    expectOk(await api.call('POST', '/v2/Webhook.svc/Create', { URL: `${rx.url}/scale`, WebhookEvent: 3, ContentType: 'application/json' }));
    const ids = await Promise.all(
      Array.from({ length: LEADS }, async (_, i) => expectOk(await api.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: `scale${i}@hooks.example` }])).Message.Id as string),
    );
    const wanted = (i: number) => (i % 2 === 0 ? 2 : 1);
    await rx.until(() => ids.every((id, i) => rx.received.filter((r) => r.json.ProspectID === id).length >= wanted(i)), 30_000);
    // Let any duplicate show up, then count: exactly one post per attempt, attempts numbered 1..n.
    await new Promise((r) => setTimeout(r, 500));
    ids.forEach((id, i) => {
      const got = rx.received.filter((r) => r.json.ProspectID === id);
      expect(got.map((r) => r.headers['x-leadtrail-attempt']), `lead ${i}`).toEqual(i % 2 === 0 ? ['1', '2'] : ['1']);
      expect(new Set(got.map((r) => r.eventId)).size).toBe(1);
    });
    // Both workers took part (each claims with SKIP LOCKED; neither waits for the other).
    const attempts = async (s: typeof w1) => {
      const text = await s.services.metrics.registry.getSingleMetricAsString('leadtrail_webhook_attempts_total');
      return [...text.matchAll(/leadtrail_webhook_attempts_total\{outcome="\w+"\} (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
    };
    const [a1, a2] = [await attempts(w1), await attempts(w2)];
    expect(a1 + a2).toBe(LEADS + LEADS / 2);
    expect(await attempts(api)).toBe(0);
  }, 60_000);

  it('a worker in another process is woken by the commit, not by its next poll', async () => {
    const rx = await receiverForFile();
    // A poll once a minute: only the NOTIFY can bring the event out within the wait below.
    const api = await started({ LEADTRAIL_ROLE: 'api', LEADTRAIL_POLL_MS: '60000' });
    await started({ LEADTRAIL_ROLE: 'worker', LEADTRAIL_DB: api.dbPath, LEADTRAIL_POLL_MS: '60000' });
    expectOk(await api.call('POST', '/v2/Webhook.svc/Create', { URL: `${rx.url}/woken`, WebhookEvent: 3 }));
    // Time for the worker's LISTEN connection to be up (it connects in the background at start).
    await new Promise((r) => setTimeout(r, 1000));
    const id = expectOk(await api.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: 'woken@hooks.example' }])).Message.Id;
    await rx.until(() => rx.on('/woken').some((r) => r.json.ProspectID === id), 10_000);
  }, 60_000);
});
