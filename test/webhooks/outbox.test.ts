/**
 * The outbox at the storage level, on the engine under test, with the clock passed in: events commit
 * with their transaction or not at all, fan out to the account's enabled webhooks, wait for their
 * delay, keep each webhook's events of one lead in order (retries included), stay with the worker
 * that leased them until the lease runs out, are never claimed twice at once, and repeated failures
 * disable a webhook.
 */
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emitWebhookEvents, updateWebhook, type Webhook } from '../../src/domain/webhooks.js';
import { openStore } from '../../src/storage/open-store.js';
import type { AttemptResult, OutboxEvent, Store } from '../../src/storage/store.js';
import { freshSchema, schemaUrl, testSchemas } from '../helpers/pg.js';
import { tempDir } from '../helpers/server.js';

const T0 = 1_800_000_000_000;
let store: Store;

beforeAll(async () => {
  const pgSchema = process.env.LEADTRAIL_TEST_STORE === 'postgres' ? freshSchema().name : null;
  if (pgSchema) testSchemas.add(pgSchema);
  store = await openStore({
    databaseUrl: pgSchema ? schemaUrl(pgSchema) : null,
    dbPath: path.join(tempDir(), 'outbox.db'),
    pgPoolSize: 6,
    statementTimeoutMs: 10_000,
    txTimeoutMs: 10_000,
  });
});
afterAll(() => store.close());

function webhook(accountId: string, eventCode: number, more: Partial<Webhook> = {}): Webhook {
  return {
    id: randomUUID(),
    accountId,
    description: '',
    url: 'http://127.0.0.1:9/x',
    method: 'POST',
    contentType: 'application/json',
    eventCode,
    customHeaders: [],
    notifyOnFailure: false,
    delaySeconds: 0,
    secret: null,
    status: 0,
    consecutiveFailures: 0,
    createdOn: T0,
    modifiedOn: T0,
    ...more,
  };
}

const ctxAt = (t: number) => ({ now: () => t, newId: () => randomUUID() });
const leadSnapshot = (id: string) => ({ kind: 'lead' as const, lead: { id, accountId: 'a', autoId: 1, fields: {}, score: 0, engagementScore: 0, createdOn: T0, modifiedOn: T0, lastActivityId: null, lastActivityName: null, lastActivityOn: null } });

async function emit(accountId: string, code: number, leadId: string, at = T0): Promise<void> {
  await store.transaction((tx) => emitWebhookEvents(tx, ctxAt(at), accountId, [{ code, leadId, snapshot: leadSnapshot(leadId) }]));
}

async function addHook(w: Webhook): Promise<Webhook> {
  await store.transaction((tx) => tx.webhooks.insert(w));
  return w;
}

function result(e: OutboxEvent, w: Webhook, at: number, ok: boolean, retryAt?: number, disableAfter = 100, probeDelaysMs: number[] = []): AttemptResult {
  return {
    delivery: {
      id: randomUUID(),
      accountId: e.accountId,
      webhookId: w.id,
      eventSeq: e.seq,
      eventId: e.id,
      eventCode: e.eventCode,
      attempt: e.attempts + 1,
      at,
      url: w.url,
      statusCode: ok ? 200 : 500,
      latencyMs: 1,
      response: null,
      error: ok ? null : 'HTTP 500',
      outcome: ok ? 'delivered' : retryAt === undefined ? 'failed' : 'retry',
    },
    next: ok ? { status: 'delivered', dueAt: e.dueAt, lastError: null } : retryAt === undefined ? { status: 'failed', dueAt: e.dueAt, lastError: 'HTTP 500' } : { status: 'pending', dueAt: retryAt, lastError: 'HTTP 500' },
    disableAfter,
    failureEpoch: e.failureEpoch,
    probeDelaysMs,
  };
}

const finish = (worker: string, e: OutboxEvent, r: AttemptResult) => store.transaction((tx) => tx.webhooks.finishAttempt(worker, e.seq, r));
const claim = (worker: string, now: number, limit = 100, lease = 1000) => store.webhooks.claim(worker, limit, now, now + lease);
/** Claims, keeping only one account's rows (each test uses its own account; earlier tests' rows are leased or not due). */
async function claimFor(account: string, worker: string, now: number, limit = 100, lease = 1000) {
  return (await claim(worker, now, limit, lease)).filter((c) => c.event.accountId === account);
}

describe('webhook outbox', () => {
  it('commits with its transaction or not at all, one row per enabled webhook of the code, due after the delay', async () => {
    const acct = `acct-${randomUUID()}`;
    const now = await addHook(webhook(acct, 3));
    const later = await addHook(webhook(acct, 3, { delaySeconds: 10 }));
    await addHook(webhook(acct, 6));
    await addHook(webhook(acct, 3, { status: 1 }));
    await addHook(webhook(`other-${acct}`, 3));
    await expect(
      store.transaction(async (tx) => {
        await emitWebhookEvents(tx, ctxAt(T0), acct, [{ code: 3, leadId: 'L1', snapshot: leadSnapshot('L1') }]);
        throw new Error('the change fails');
      }),
    ).rejects.toThrow('the change fails');
    expect(await claimFor(acct, 'w', T0 + 60_000, 100, 0)).toEqual([]);
    await emit(acct, 3, 'L1');
    const first = await claimFor(acct, 'w', T0, 100, 60_000);
    expect(first.map((c) => c.webhook.id)).toEqual([now.id]);
    const second = await claimFor(acct, 'w', T0 + 10_000, 100, 0);
    expect(second.map((c) => c.webhook.id)).toEqual([later.id]);
    expect(second[0].event.id).toBe(first[0].event.id);
  });

  it("keeps a webhook's events of one lead in order, also across retries; other leads go on", async () => {
    const acct = `acct-${randomUUID()}`;
    const w = await addHook(webhook(acct, 6));
    await emit(acct, 6, 'L', T0);
    await emit(acct, 6, 'L', T0 + 1);
    await emit(acct, 6, 'M', T0 + 2);
    const t = T0 + 10;
    const c1 = await claimFor(acct, 'w', t);
    expect(c1.map((c) => c.event.orderKey)).toEqual(['L', 'M']);
    const [l1, m1] = c1;
    expect(await finish('w', l1.event, result(l1.event, w, t, false, t + 1000))).toBe('recorded');
    expect(await finish('w', m1.event, result(m1.event, w, t, true))).toBe('recorded');
    // L's second event waits while its first waits for a retry.
    expect(await claimFor(acct, 'w', t + 500)).toEqual([]);
    const retry = await claimFor(acct, 'w', t + 1000);
    expect(retry.map((c) => [c.event.seq, c.event.attempts])).toEqual([[l1.event.seq, 1]]);
    await finish('w', retry[0].event, result(retry[0].event, w, t + 1000, true));
    const next = await claimFor(acct, 'w', t + 1000);
    expect(next).toHaveLength(1);
    expect(next[0].event.seq).toBeGreaterThan(l1.event.seq);
  });

  it('a lease keeps other workers off until it runs out; a worker that lost it changes nothing', async () => {
    const acct = `acct-${randomUUID()}`;
    const w = await addHook(webhook(acct, 3));
    await emit(acct, 3, 'L');
    const [a] = await claimFor(acct, 'A', T0, 100, 1000);
    expect(await claimFor(acct, 'B', T0 + 999)).toEqual([]);
    const [b] = await claimFor(acct, 'B', T0 + 1001);
    expect(b.event.seq).toBe(a.event.seq);
    expect(await finish('A', a.event, result(a.event, w, T0 + 1002, true))).toBe('not-held');
    expect(await finish('B', b.event, result(b.event, w, T0 + 1003, false, T0 + 5000))).toBe('recorded');
    const again = await claimFor(acct, 'C', T0 + 5000);
    expect(again.map((c) => c.event.attempts)).toEqual([1]);
  });

  it('claimers side by side never take the same event', async () => {
    const acct = `acct-${randomUUID()}`;
    await addHook(webhook(acct, 3));
    for (let i = 0; i < 40; i++) await emit(acct, 3, `lead-${i}`);
    const claims = await Promise.all(Array.from({ length: 5 }, (_, i) => claimFor(acct, `w${i}`, T0 + 10, 15, 60_000)));
    const seqs = claims.flat().map((c) => c.event.seq);
    expect(new Set(seqs).size).toBe(seqs.length);
    expect(seqs.length).toBe(40);
  });

  it('failed attempts in a row disable the webhook at the threshold; a success in between starts the count again', async () => {
    const acct = `acct-${randomUUID()}`;
    const w = await addHook(webhook(acct, 3));
    for (let i = 0; i < 6; i++) await emit(acct, 3, `l${i}`);
    let t = T0 + 10;
    const attempt = async (ok: boolean) => {
      const [c] = await claimFor(acct, 'w', t, 1);
      await finish('w', c.event, result(c.event, w, t, ok, undefined, 3));
      t += 1;
    };
    await attempt(false);
    await attempt(false);
    await attempt(true);
    expect((await store.webhooks.get(acct, w.id))!.consecutiveFailures).toBe(0);
    await attempt(false);
    await attempt(false);
    expect((await store.webhooks.get(acct, w.id))!.status).toBe(0);
    await attempt(false);
    expect((await store.webhooks.get(acct, w.id))!).toMatchObject({ status: 2, consecutiveFailures: 3 });
    // A disabled webhook's events are not claimed.
    await emit(acct, 3, 'after');
    expect(await claimFor(acct, 'w', t + 10_000)).toEqual([]);
  });

  it('failures of attempts claimed together count once; a failing webhook hands out one event at a time, the one waiting longest, once per pacing delay', async () => {
    const acct = `acct-${randomUUID()}`;
    const w = await addHook(webhook(acct, 3));
    for (let i = 0; i < 3; i++) await emit(acct, 3, `l${i}`);
    const t = T0 + 10;
    // The webhook's pacing: 999 ms after its first failure in a row, 3999 ms after the second.
    const pacing = [999, 3999];
    // Three attempts on their way together (one claim, or claims that saw the webhook healthy), all failing.
    const together = await claimFor(acct, 'w', t);
    expect(together).toHaveLength(3);
    for (const c of together) await finish('w', c.event, result(c.event, w, t + 1, false, t + 1000, 100, pacing));
    expect((await store.webhooks.get(acct, w.id))!).toMatchObject({ status: 0, consecutiveFailures: 1 });
    // All three are due again at t + 1000, but only the first is handed out, to one claimer.
    expect(await claimFor(acct, 'w', t + 999)).toEqual([]);
    const [probe, ...others] = await claimFor(acct, 'A', t + 1000);
    expect(others).toEqual([]);
    expect(probe.event.seq).toBe(together[0].event.seq);
    expect(await claimFor(acct, 'B', t + 1000)).toEqual([]);
    // Sent after the first failure was recorded: it counts, and the next probe waits 3999 ms,
    // although the other two are due.
    await finish('A', probe.event, result(probe.event, w, t + 1001, false, t + 9000, 100, pacing));
    expect((await store.webhooks.get(acct, w.id))!.consecutiveFailures).toBe(2);
    expect(await claimFor(acct, 'B', t + 1002)).toEqual([]);
    expect(await claimFor(acct, 'B', t + 4999)).toEqual([]);
    // The next probe is the event that has waited longest (due at t + 1000), not the one that just
    // failed (due again at t + 9000): once it succeeds, the rest go, each at its own due time.
    const [again, ...more] = await claimFor(acct, 'A', t + 5000);
    expect(more).toEqual([]);
    expect(again.event.seq).toBe(together[1].event.seq);
    await finish('A', again.event, result(again.event, w, t + 5001, true));
    expect((await store.webhooks.get(acct, w.id))!.consecutiveFailures).toBe(0);
    const rest = await claimFor(acct, 'B', t + 5002);
    expect(rest.map((c) => c.event.seq)).toEqual([together[2].event.seq]);
    await finish('B', rest[0].event, result(rest[0].event, w, t + 5003, true));
    expect(await claimFor(acct, 'B', t + 8999)).toEqual([]);
    expect((await claimFor(acct, 'B', t + 9000)).map((c) => c.event.seq)).toEqual([together[0].event.seq]);
  });

  it('a failing webhook whose probe is on its way hands out nothing else, and one probe is claimed by one of many claimers', async () => {
    const acct = `acct-${randomUUID()}`;
    const w = await addHook(webhook(acct, 3));
    for (let i = 0; i < 6; i++) await emit(acct, 3, `l${i}`, T0 + i);
    const t = T0 + 10;
    const [first] = await claimFor(acct, 'w', t, 1);
    await finish('w', first.event, result(first.event, w, t + 1, false, t + 60_000, 100, [500]));
    // Claimers side by side after the pacing: exactly one of them gets one event, the one due first.
    const claims = (await Promise.all(Array.from({ length: 4 }, (_, i) => claimFor(acct, `c${i}`, t + 501, 10, 10_000)))).flat();
    expect(claims.map((c) => c.event.orderKey)).toEqual(['l1']);
    // While it is on its way (leased), nothing else of the webhook goes, whatever is due.
    expect(await claimFor(acct, 'x', t + 5000)).toEqual([]);
  });
});

describe('an attempt that ends after its event is gone', () => {
  it('leaves no delivery record once the account was reset; one whose lease was lost is still recorded', async () => {
    const acct = `acct-${randomUUID()}`;
    const w = await addHook(webhook(acct, 3));
    await emit(acct, 3, 'L', T0);
    const [c] = await claimFor(acct, 'w', T0 + 1, 100, 1000);
    // The reset commits while the attempt is on its way; the attempt then ends.
    await store.transaction((tx) => tx.webhooks.clearEvents(acct));
    expect(await finish('w', c.event, result(c.event, w, T0 + 2, true))).toBe('not-held');
    expect((await store.webhooks.listDeliveries(acct, { offset: 0, limit: 10 })).total).toBe(0);
    // A lease lost to another worker: the event is still there, so the attempt is listed.
    await emit(acct, 3, 'M', T0 + 10);
    const [a] = await claimFor(acct, 'A', T0 + 11, 100, 1000);
    const [b] = await claimFor(acct, 'B', T0 + 1012, 100, 1000);
    expect(await finish('A', a.event, result(a.event, w, T0 + 1013, true))).toBe('not-held');
    expect(await finish('B', b.event, result(b.event, w, T0 + 1014, true))).toBe('recorded');
    expect((await store.webhooks.listDeliveries(acct, { offset: 0, limit: 10 })).total).toBe(2);
  });
});

describe('saving a webhook again', () => {
  it('sends what waited for a retry at once, but an event still in its ExecutionDelay keeps its time', async () => {
    const acct = `acct-${randomUUID()}`;
    const w = await addHook(webhook(acct, 3, { delaySeconds: 60 }));
    await emit(acct, 3, 'early', T0);
    const t = T0 + 60_000;
    const [c] = await claimFor(acct, 'w', t);
    await finish('w', c.event, result(c.event, w, t, false, t + 3_600_000));
    await emit(acct, 3, 'late', t + 10);
    // The receiver is fixed and the webhook saved: the retry goes now, not in an hour…
    await store.transaction((tx) => updateWebhook(tx, ctxAt(t + 20), acct, w.id, {}, { allowHosts: [] }));
    const retried = await claimFor(acct, 'w', t + 20);
    expect(retried.map((x) => x.event.orderKey)).toEqual(['early']);
    await finish('w', retried[0].event, result(retried[0].event, w, t + 30, true));
    // …but the event raised meanwhile still waits out its 60 s delay (it had been made due at once).
    expect(await claimFor(acct, 'w', t + 40)).toEqual([]);
    expect((await claimFor(acct, 'w', t + 10 + 60_000)).map((x) => x.event.orderKey)).toEqual(['late']);
  });
});

describe('webhook records over time', () => {
  it('purge drops finished events and their old delivery records, never a pending event or its records; clearEvents empties one account', async () => {
    const acct = `acct-${randomUUID()}`;
    const w = await addHook(webhook(acct, 3));
    await emit(acct, 3, 'done', T0);
    await emit(acct, 3, 'waiting', T0);
    const t = T0 + 100;
    const got = await claimFor(acct, 'w', t);
    const done = got.find((c) => c.event.orderKey === 'done')!;
    const waiting = got.find((c) => c.event.orderKey === 'waiting')!;
    await finish('w', done.event, result(done.event, w, t, true));
    await finish('w', waiting.event, result(waiting.event, w, t, false, t + 1));
    const records = async () => (await store.webhooks.listDeliveries(acct, { offset: 0, limit: 10 })).deliveries.map((d) => `${d.eventSeq}#${d.attempt}`);
    expect(await records()).toHaveLength(2);
    await store.transaction((tx) => tx.webhooks.purge(t + 1));
    // The finished event's record went with it; the waiting event keeps the record of its failed
    // attempt (it had gone too: the list no longer showed why an event still waited).
    expect(await records()).toEqual([`${waiting.event.seq}#1`]);
    // The waiting event is still there and goes out…
    const [again] = await claimFor(acct, 'w', t + 2);
    expect(again.event.orderKey).toBe('waiting');
    await finish('w', again.event, result(again.event, w, t + 5, true));
    // …and its records are kept for the retention after it finished, not after each attempt.
    await store.transaction((tx) => tx.webhooks.purge(t + 3));
    expect(await records()).toEqual([`${waiting.event.seq}#2`, `${waiting.event.seq}#1`]);
    await store.transaction((tx) => tx.webhooks.purge(t + 6));
    expect(await records()).toEqual([]);
    await emit(acct, 3, 'after', t + 10);
    await store.transaction((tx) => tx.webhooks.clearEvents(acct));
    expect(await claimFor(acct, 'w', t + 10_000)).toEqual([]);
    expect(await store.webhooks.get(acct, w.id)).not.toBeNull();
  });
});
