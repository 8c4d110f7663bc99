/**
 * Nothing lost: the built server runs as a child process, posts lead-create events to a slow
 * receiver, and is killed with SIGKILL while deliveries are in flight and most events still wait in
 * the outbox. Restarted on the same database, it delivers every event of every lead whose create
 * was answered; an attempt cut off by the kill is sent again with the same event id. Both engines.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, kill9, spawnServer, stopGracefully } from '../async/crash-harness.js';
import { freshSchema, schemaUrl, testSchemas } from '../helpers/pg.js';
import { request, tempDir } from '../helpers/server.js';
import path from 'node:path';
import { receiverForFile } from './receiver.js';

beforeAll(() => ensureBuilt(), 120_000);

const LEADS = 30;

function storage(): { dbPath: string; env: Record<string, string> } {
  if (process.env.LEADTRAIL_TEST_STORE !== 'postgres') return { dbPath: path.join(tempDir(), 'leadtrail.db'), env: {} };
  const schema = freshSchema().name;
  testSchemas.add(schema);
  return { dbPath: 'unused.db', env: { DATABASE_URL: schemaUrl(schema), LEADTRAIL_PG_POOL: '4' } };
}

describe('SIGKILL during webhook delivery', () => {
  it('every committed event arrives after a restart; a cut-off attempt comes again with the same event id', async () => {
    const rx = await receiverForFile();
    // The receiver holds each request 1.5 s, so deliveries are in flight whenever the kill comes.
    rx.answer = () => ({ status: 200, delayMs: 1500 });
    const { dbPath, env } = storage();
    // A short lease (and timeout) so that on PostgreSQL the dead worker's events are taken over soon.
    const settings = { ...env, LEADTRAIL_WEBHOOK_TIMEOUT_MS: '5000', LEADTRAIL_LEASE_SECONDS: '1', LEADTRAIL_WEBHOOK_CONCURRENCY: '4' };
    const a = await spawnServer(dbPath, [], settings);
    const created = await request(a.url, 'POST', '/v2/Webhook.svc/Create', { URL: `${rx.url}/crash`, WebhookEvent: 3, ContentType: 'application/json' });
    expect(created.status, created.text).toBe(200);
    const ids: string[] = [];
    for (let i = 0; i < LEADS; i++) {
      const r = await request(a.url, 'POST', '/v2/LeadManagement.svc/Lead.Create', [{ Attribute: 'EmailAddress', Value: `crash${i}@hooks.example` }]);
      expect(r.status, r.text).toBe(200);
      ids.push(r.body.Message.Id);
    }
    // Some deliveries are in flight (two at a time: a webhook's share of four slots), most wait in the outbox.
    // Kill while the receiver holds a request: that attempt is cut off for sure.
    await rx.until(() => rx.received.length >= 2 && rx.received.some((r) => r.answeredAt === undefined));
    const killedAt = Date.now();
    await kill9(a);
    // Requests the receiver had not answered when the server died: their attempts were cut off.
    const cut = rx.received.filter((r) => r.answeredAt === undefined || r.answeredAt >= killedAt);
    expect(cut.length).toBeGreaterThan(0);
    const beforeRestart = rx.received.length;
    expect(beforeRestart).toBeLessThan(LEADS);

    const b = await spawnServer(dbPath, [], settings);
    try {
      rx.answer = () => ({ status: 200 });
      await rx.until(() => ids.every((id) => rx.received.some((r) => r.json.ProspectID === id)), 30_000);
      // Each lead's event went out under one event id however many times it was sent.
      for (const id of ids) {
        const got = rx.received.filter((r) => r.json.ProspectID === id);
        expect(new Set(got.map((r) => r.eventId)).size, `lead ${id}`).toBe(1);
      }
      // And the outbox agrees: every event is recorded delivered (the record lands just after the answer).
      const delivered = async () => {
        const d = await request(b.url, 'GET', '/_leadtrail/webhooks/deliveries?limit=1000');
        return new Set(d.body.deliveries.filter((x: any) => x.outcome === 'delivered').map((x: any) => x.eventId)).size;
      };
      const end = Date.now() + 10_000;
      while ((await delivered()) < LEADS && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      expect(await delivered()).toBe(LEADS);
      // Each cut-off attempt's event was sent again (on PostgreSQL once the dead worker's lease, 6 s, ran out).
      for (const c of cut) expect(rx.received.filter((r) => r.eventId === c.eventId).length).toBeGreaterThanOrEqual(2);
    } finally {
      await stopGracefully(b);
    }
  }, 90_000);
});
