/**
 * No event is left waiting for a webhook that no longer exists. On PostgreSQL, where API processes
 * and workers write side by side, three paths met a `Webhook.svc/Delete` badly:
 *
 * - a lead or activity write raising an event commits as the webhook is deleted: its event was
 *   inserted for the webhook (read before the Delete committed), after the Delete had deleted the
 *   webhook's waiting events. The event stayed `pending` for good: never claimed (no webhook to send
 *   it to), never purged (purge takes finished events), counted in `leadtrail_webhook_events
 *   {status="pending"}` for ever. The write takes no lock on the webhook (it is the API's hot path);
 *   the worker deletes such events at its housekeeping instead, and counts them.
 * - `resend` (leadtrail's own "send again") checked that the webhook existed without holding it: a
 *   resend and a Delete side by side left the event pending for the deleted webhook, after answering
 *   "resent". It now holds the webhook's row (FOR KEY SHARE) before the event.
 * - the worker giving back events it claimed (`release`) and a Delete locked the same events in
 *   different orders (by seq, by due time): a deadlock, found by PostgreSQL after a second. Both now
 *   lock them by seq.
 *
 * Each race is made certain by holding one side open in a transaction on a second store (or, for the
 * events of `release`, a plain PostgreSQL session holding them). SQLite's one writer runs one
 * transaction at a time: there the tests show the outcome, which was already right.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLead } from '../../src/domain/leads.js';
import { deleteWebhook } from '../../src/domain/webhooks.js';
import type { Store } from '../../src/storage/store.js';
import { accountIdOf, sleep, waitFor } from '../async/helpers.js';
import { LM, expectOk } from '../helpers/lsq.js';
import { lockWaitersIn, pgQuery, schemaUrl } from '../helpers/pg.js';
import { started, storeBeside, type CallResult, type TestServer } from '../helpers/server.js';
import { attempt } from './attempts.js';
import { receiverForFile } from './receiver.js';

const WH = '/v2/Webhook.svc';
const PG = process.env.LEADTRAIL_TEST_STORE === 'postgres';
const WORKER = 'test-worker';
const HOUR = 3_600_000;

/** A transaction of `store` that runs `first`, then waits until `commit()` and commits. */
function hold(store: Store, first: (tx: Parameters<Parameters<Store['transaction']>[0]>[0]) => Promise<unknown>) {
  let ready!: () => void;
  const started = new Promise<void>((ok) => (ready = ok));
  let go!: () => void;
  const gate = new Promise<void>((ok) => (go = ok));
  let runs = 0;
  const done = store.transaction(async (tx) => {
    runs += 1;
    const out = await first(tx);
    ready();
    await gate;
    return out;
  });
  return {
    started: () => Promise.race([started, done.then(() => Promise.reject(new Error('the held transaction ended early')))]),
    commit: () => {
      go();
      return done;
    },
    runs: () => runs,
  };
}

/** The server's side, sent while a transaction is held: answered, or (PostgreSQL) waiting on a lock, or (SQLite) given time to wait for the writer. */
async function sentBeside(s: TestServer, call: Promise<CallResult>): Promise<'answered' | 'waiting'> {
  const answered = call.then(() => 'answered' as const);
  if (!PG) return Promise.race([answered, sleep(300).then(() => 'waiting' as const)]);
  const schema = s.dbPath.slice(3);
  const waiting = waitFor(
    () => lockWaitersIn(schema),
    (n) => n > 0,
    5_000,
  ).then(() => 'waiting' as const);
  return Promise.race([answered, waiting.catch(() => answered)]);
}

/** The samples of a Prometheus text exposition named `name` with label `status` (or none), summed. */
async function metric(s: TestServer, name: string, labels = ''): Promise<number> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name} `)));
  return line === undefined ? NaN : Number(line.split(' ')[1]);
}

describe('an event raised while its webhook is deleted (PostgreSQL: the write and the Delete commit side by side)', () => {
  let s: TestServer;
  let beside: Store;
  let accountId: string;
  let receiver: Awaited<ReturnType<typeof receiverForFile>>;
  beforeAll(async () => {
    receiver = await receiverForFile();
    // A worker, and its housekeeping every 200 ms.
    s = await started({ LEADTRAIL_HOUSEKEEPING_SECONDS: '0.2' });
    beside = await storeBeside(s);
    accountId = await accountIdOf(s);
  });
  afterAll(() => beside?.close());

  it('is never sent, and the worker deletes it and counts it: nothing is left waiting', async () => {
    const gone = expectOk(await s.call('POST', `${WH}/Create`, { URL: `${receiver.url}/gone`, WebhookEvent: 3, Description: 'deleted' })).Message.Id as string;
    const kept = expectOk(await s.call('POST', `${WH}/Create`, { URL: `${receiver.url}/kept`, WebhookEvent: 3, Description: 'kept' })).Message.Id as string;
    const ctx = { now: () => Date.now(), newId: () => randomUUID() };
    // A Lead.Create in another process: its events are raised for the account's webhooks as it
    // read them, and written with the lead, in its transaction, which is still open.
    const write = hold(beside, (tx) => createLead(tx, ctx, accountId, { EmailAddress: 'raised@orphans.example' }));
    await write.started();
    const del = s.call('POST', `${WH}/Delete`, { WebhookId: gone });
    const meanwhile = await sentBeside(s, del);
    await write.commit();
    // The write holds no lock the Delete waits for (PostgreSQL): the Delete is answered meanwhile.
    // SQLite's one writer makes it wait for the write, which it then sees.
    expect(meanwhile).toBe(PG ? 'answered' : 'waiting');
    expectOk(await del);
    expect(write.runs()).toBe(1);
    // The other webhook gets its event.
    await receiver.until((all) => all.some((r) => r.path === '/kept'));
    // Left waiting for the deleted webhook: nothing is, after the worker's housekeeping.
    const pending = await waitFor(
      () => beside.webhooks.pendingCounts(accountId),
      (p) => Object.keys(p).length === 0,
      5_000,
    );
    expect(pending).toEqual({});
    expect(await metric(s, 'leadtrail_webhook_events', '{status="pending"}')).toBe(0);
    // Counted where they went: one on PostgreSQL, none on SQLite, where the Delete came after the write.
    expect(await metric(s, 'leadtrail_webhook_events_dropped_total')).toBe(PG ? 1 : 0);
    expect((await s.call('GET', `/_leadtrail/webhooks/deliveries?webhookId=${kept}`)).body.total).toBe(1);
    // PostgreSQL: never sent (the claim takes only an existing webhook's events), so never recorded.
    // SQLite: the event was raised while the webhook existed, and may have gone out before the Delete.
    if (PG) {
      expect(receiver.on('/gone')).toHaveLength(0);
      expect((await s.call('GET', `/_leadtrail/webhooks/deliveries?webhookId=${gone}`)).body.total).toBe(0);
    }
  });
});

describe('resend and release beside a Delete', () => {
  let s: TestServer;
  let beside: Store;
  let accountId: string;
  beforeAll(async () => {
    // No worker in the server: the test is the worker.
    s = await started({ LEADTRAIL_WORKER: 'false' });
    beside = await storeBeside(s);
    accountId = await accountIdOf(s);
  });
  afterAll(() => beside?.close());

  const lead = async (email: string) => expectOk(await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: email }]));
  const hook = async (name: string, more: Record<string, unknown> = {}) =>
    expectOk(await s.call('POST', `${WH}/Create`, { URL: 'http://127.0.0.1:9/orphans', WebhookEvent: 3, Description: name, ...more })).Message.Id as string;
  const claimed = async (wid: string, now: number) => (await beside.webhooks.claim(WORKER, 100, now, now + HOUR)).filter((c) => c.webhook.id === wid).map((c) => c.event);

  /** A webhook whose one event was delivered: the id of that delivery. */
  async function deliveredOnce(name: string): Promise<{ wid: string; deliveryId: string }> {
    const wid = await hook(name);
    await lead(`${name}@orphans.example`);
    const now = Date.now();
    const [e] = await claimed(wid, now);
    const r = attempt(e, now, true);
    expect(await beside.transaction((tx) => tx.webhooks.finishAttempt(WORKER, e.seq, r))).toBe('recorded');
    return { wid, deliveryId: r.delivery.id };
  }

  it('a resend committing as its webhook is deleted: the Delete waits for it, and the event goes with the webhook', async () => {
    const { wid, deliveryId } = await deliveredOnce('resent-first');
    const resend = hold(beside, (tx) => tx.webhooks.resend(accountId, deliveryId, Date.now()));
    await resend.started();
    const del = s.call('POST', `${WH}/Delete`, { WebhookId: wid });
    const meanwhile = await sentBeside(s, del);
    expect(await resend.commit()).toMatchObject({ webhookId: wid });
    // PostgreSQL: the Delete waits for the resend's hold on the webhook (it was answered at once, and
    // then the resend committed an event waiting for a webhook that no longer existed).
    expect(meanwhile).toBe('waiting');
    expectOk(await del);
    expect(await beside.webhooks.pendingCounts(accountId)).toEqual({});
    expect(await beside.webhooks.countByStatus()).toMatchObject({ pending: 0 });
  });

  it('a resend arriving while its webhook is deleted: 404 once the Delete commits, and nothing waits', async () => {
    const { wid, deliveryId } = await deliveredOnce('deleted-first');
    const deleting = hold(beside, (tx) => deleteWebhook(tx, accountId, wid));
    await deleting.started();
    const resend = s.call('POST', `/_leadtrail/webhooks/deliveries/resend?id=${deliveryId}`);
    const meanwhile = await sentBeside(s, resend);
    await deleting.commit();
    // It waits for the Delete (it was answered "resent" at once on PostgreSQL, for a webhook then deleted).
    expect(meanwhile).toBe('waiting');
    const r = await resend;
    expect(r.status, r.text).toBe(404);
    expect(r.body).toMatchObject({ Status: 'Error', ExceptionType: 'MXInvalidEntityException' });
    expect(await beside.webhooks.pendingCounts(accountId)).toEqual({});
    expect(await beside.webhooks.countByStatus()).toMatchObject({ pending: 0 });
  });

  // The release reads the rows by the table (a small one) or by its primary key (seq), the Delete
  // by its index (due time): in due order as the claim wrote them, or in seq order once the later
  // one was written anew (each update writes a row anew: a retry, a lease given back).
  it.each([
    ['in seq order', true],
    ['in due order', false],
  ])('events given back by the worker while their webhook is deleted, the table holding them %s: no deadlock', async (_, rewritten) => {
    // Two events whose due order is not their order of seq: the first lead's event waits out the
    // webhook's ExecutionDelay, the second's (raised after the delay was taken off) is due at once.
    const wid = await hook(`released-${rewritten}`, { ExecutionDelay: 3600 });
    await lead(`released-${rewritten}-1@orphans.example`);
    expectOk(await s.call('POST', `${WH}/Update`, { WebhookId: wid, ExecutionDelay: 0 }));
    await lead(`released-${rewritten}-2@orphans.example`);
    const later = Date.now() + 2 * HOUR;
    const events = await claimed(wid, later);
    expect(events).toHaveLength(2);
    const [first, second] = [...events].sort((a, b) => a.seq - b.seq);
    expect(second.dueAt).toBeLessThan(first.dueAt);
    let session: pg.Client | null = null;
    if (PG) {
      const schema = s.dbPath.slice(3);
      const laterInTable = async () =>
        (await pgQuery(schema, 'select (select ctid from webhook_events where seq = $1) > (select ctid from webhook_events where seq = $2) as after', [second.seq, first.seq]))[0].after ? second : first;
      for (let i = 0; rewritten && i < 10 && (await laterInTable()) !== second; i++) {
        await pgQuery(schema, 'update webhook_events set locked_until = locked_until where seq = $1', [second.seq]);
      }
      // A session holds the event later in the table, which a release reading the table takes
      // last: the Delete, if it takes that one first, waits for it holding none of the two, and the
      // release takes the other and waits too. When the session lets go, the Delete deletes the held
      // event and goes on to the release's: taken in different orders, each then waits for the other.
      const held = await laterInTable();
      session = new pg.Client({ connectionString: schemaUrl(schema).replace(/\?schema=.*$/, '') });
      await session.connect();
      await session.query(`set search_path to "${schema}"`);
      await session.query('begin');
      await session.query('select seq from webhook_events where seq = $1 for update', [held.seq]);
    }
    try {
      const del = s.call('POST', `${WH}/Delete`, { WebhookId: wid });
      if (PG) await waitFor(() => lockWaitersIn(s.dbPath.slice(3)), (n) => n === 1, 5_000);
      const release = beside.webhooks.release(WORKER, [first.seq, second.seq]);
      const settled = Promise.allSettled([del, release]);
      if (PG) await waitFor(() => lockWaitersIn(s.dbPath.slice(3)), (n) => n === 2, 5_000);
      const t0 = Date.now();
      await session?.query('commit');
      const [d, r] = await settled;
      // A deadlock is found after deadlock_timeout (1 s), and one of the two is aborted: the
      // release failed (40P01, its events left leased until the lease runs out), or the Delete was
      // run again, a second late.
      expect(r.status, r.status === 'rejected' ? String((r as PromiseRejectedResult).reason) : '').toBe('fulfilled');
      expect(Date.now() - t0).toBeLessThan(800);
      expect(d.status).toBe('fulfilled');
      expectOk((d as PromiseFulfilledResult<CallResult>).value);
    } finally {
      await session?.query('rollback').catch(() => {});
      await session?.end();
    }
    expect(await beside.webhooks.pendingCounts(accountId)).toEqual({});
  });
});
