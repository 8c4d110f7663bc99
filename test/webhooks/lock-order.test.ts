/**
 * A webhook's row and its outbox events are locked in one order by every path that locks both: the
 * webhook's row first. On PostgreSQL two paths that took them in opposite orders deadlocked:
 * PostgreSQL found it after `deadlock_timeout` (1 s), aborted one, and the write pipeline ran the
 * loser again, so the call stalled a second and PostgreSQL logged an error. The pairs were:
 *
 * - `Webhook.svc/Delete` (the webhook's row, then its pending events) and the worker recording
 *   attempts (an event's row, then the webhook's failure count);
 * - `Webhook.svc/Update` of a failing webhook (its row, then the events waiting for a retry) and the
 *   worker recording attempts, when the worker's clock is ahead of the API process's;
 * - a sandbox reset (the account's events, then its failing webhooks' counts) and an Update or a
 *   Delete of a failing webhook.
 *
 * Each race is made certain: the test holds one side open in a transaction on a second store, lets
 * the server's side start and wait for it, then has the held side take its second lock and commits.
 * No deadlock means the server's side that waits is the same transaction before and after
 * (PostgreSQL: a deadlock's loser is aborted and run again in a new one), and the held side ran once.
 * Both engines (SQLite's one writer runs one transaction at a time: there it only shows the outcome).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deleteWebhook, updateWebhook } from '../../src/domain/webhooks.js';
import type { AttemptResult, OutboxEvent, Repos, Store } from '../../src/storage/store.js';
import { accountIdOf, sleep, waitFor } from '../async/helpers.js';
import { LM, expectOk } from '../helpers/lsq.js';
import { lockWaitingTransactions } from '../helpers/pg.js';
import { attempt, RETRY_MS } from './attempts.js';
import { started, storeBeside, type CallResult, type TestServer } from '../helpers/server.js';

const WH = '/v2/Webhook.svc';
const PG = process.env.LEADTRAIL_TEST_STORE === 'postgres';
const WORKER = 'test-worker';
const HOUR = 3_600_000;

/**
 * `first`, then (on `next()`) `second`, in one transaction of `store` that commits on `commit()`.
 * `runs` counts the runs of its function: the pipeline runs it again after a deadlock it lost.
 */
function hold(store: Store, first: (tx: Repos) => Promise<unknown>, second: (tx: Repos) => Promise<unknown>) {
  let runs = 0;
  const signal = () => {
    let resolve!: () => void;
    return { promise: new Promise<void>((ok) => (resolve = ok)), resolve: () => resolve() };
  };
  const [firstDone, go, secondDone, commit] = [signal(), signal(), signal(), signal()];
  const done = store.transaction(async (tx) => {
    runs += 1;
    await first(tx);
    firstDone.resolve();
    await go.promise;
    await second(tx);
    secondDone.resolve();
    await commit.promise;
  });
  // A transaction that ended early fails the step that waits for it.
  const until = (p: Promise<void>) => Promise.race([p, done.then(() => Promise.reject(new Error('the held transaction ended early')))]);
  return {
    runs: () => runs,
    firstDone: () => until(firstDone.promise),
    next: () => {
      go.resolve();
      return until(secondDone.promise);
    },
    /** Lets the transaction run to its end (its second step too, when `next` was not called) and commit. */
    commit: () => {
      go.resolve();
      commit.resolve();
      return done;
    },
  };
}

describe('a webhook and its events are locked in one order', () => {
  let s: TestServer;
  let beside: Store;
  let accountId: string;
  beforeAll(async () => {
    // No worker in the server: the test records the attempts.
    s = await started({ LEADTRAIL_WORKER: 'false', LEADTRAIL_SANDBOX: 'true' });
    beside = await storeBeside(s);
    accountId = await accountIdOf(s);
  });
  afterAll(() => beside?.close());

  /** A webhook for lead creation with one waiting event per name (a lead each). */
  async function hookWithEvents(name: string, leads: number): Promise<string> {
    const wid = expectOk(await s.call('POST', `${WH}/Create`, { URL: 'http://127.0.0.1:9/lock-order', WebhookEvent: 3, Description: name })).Message.Id as string;
    for (let i = 0; i < leads; i++) expectOk(await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: `${name}-${i}@lock-order.example` }]));
    return wid;
  }

  /** The webhook's events claimed by the test as a worker would, at `now`, in the order they were raised. */
  async function claim(wid: string, now: number, lockedUntil = now + 600_000): Promise<OutboxEvent[]> {
    return (await beside.webhooks.claim(WORKER, 100, now, lockedUntil)).filter((c) => c.webhook.id === wid).map((c) => c.event);
  }

  /** Records an attempt in `tx`, or in a transaction of its own on the test's store. */
  const finish = (tx: Repos | null, e: OutboxEvent, at: number, ok: boolean): Promise<string> =>
    tx ? tx.webhooks.finishAttempt(WORKER, e.seq, attempt(e, at, ok)) : beside.transaction((t) => t.webhooks.finishAttempt(WORKER, e.seq, attempt(e, at, ok)));

  /**
   * Sends `call` while `held` holds its first lock, lets `held` go on once the call waits for it, and
   * commits it: checks that the call's transaction was the same before and after (PostgreSQL), and
   * that the held transaction ran once. Answers the call's result.
   */
  async function meet(held: ReturnType<typeof hold>, call: () => Promise<CallResult>): Promise<CallResult> {
    await held.firstDone();
    const sent = call();
    try {
      let waiting: string[] = [];
      if (PG) {
        // The server's side waits on a lock the held transaction has (other test files share the database).
        waiting = await waitFor(
          () => lockWaitingTransactions(s.dbPath.slice(3)),
          (w) => w.length > 0,
        );
        expect(waiting).toHaveLength(1);
      } else {
        // The server's writer waits for this file's write lock (busy_timeout); nothing to ask for that.
        await sleep(300);
      }
      await held.next();
      // The server's side still waits, in the same transaction: not aborted by a deadlock and run again.
      if (PG) expect(await lockWaitingTransactions(s.dbPath.slice(3))).toEqual(waiting);
    } finally {
      // Ended also when a check failed, so that the next test does not wait for it.
      await held.commit().catch(() => {});
    }
    await held.commit();
    expect(held.runs()).toBe(1);
    return sent;
  }

  const retrieve = async (wid: string) => expectOk(await s.call('POST', `${WH}/Retrieve`, { Parameter: { WebhookId: wid } }));
  const deliveries = async (wid: string) => (await s.call('GET', `/_leadtrail/webhooks/deliveries?webhookId=${wid}`)).body.total as number;

  it('Delete while the worker records attempts: both attempts recorded, then the webhook and its waiting events gone', async () => {
    const wid = await hookWithEvents('delete', 2);
    const now = Date.now();
    const [e1, e2] = await claim(wid, now);
    expect(e2).toBeDefined();
    // Two attempts recorded in one batch (as the pipeline gathers them): a success, then a failure,
    // which counts on the webhook's row. Delete comes between the two.
    const held = hold(
      beside,
      async (tx) => expect(await finish(tx, e1, now, true)).toBe('recorded'),
      async (tx) => expect(await finish(tx, e2, now, false)).toBe('recorded'),
    );
    expectOk(await meet(held, () => s.call('POST', `${WH}/Delete`, { WebhookId: wid })));
    expect((await retrieve(wid)).RecordCount).toBe(0);
    // The failed event, waiting for its retry, went with the webhook; the records of both attempts stay.
    expect((await beside.webhooks.pendingCounts(accountId))[wid]).toBeUndefined();
    expect(await deliveries(wid)).toBe(2);
  });

  it('an attempt recorded after its webhook was deleted leaves no record', async () => {
    const wid = await hookWithEvents('deleted-first', 1);
    const now = Date.now();
    const [e] = await claim(wid, now);
    let deleted!: () => void;
    const gate = new Promise<void>((ok) => (deleted = ok));
    let commit!: () => void;
    const committed = new Promise<void>((ok) => (commit = ok));
    const deleting = beside.transaction(async (tx) => {
      await deleteWebhook(tx, accountId, wid);
      deleted();
      await committed;
    });
    await gate;
    // Recorded by the server's store, as its worker would (on SQLite it waits on its writer thread).
    const recording = s.services.store.transaction((tx) => tx.webhooks.finishAttempt(WORKER, e.seq, attempt(e, now, false)));
    if (PG) {
      await waitFor(
        () => lockWaitingTransactions(s.dbPath.slice(3)),
        (w) => w.length > 0,
      );
    } else {
      await sleep(300);
    }
    commit();
    await deleting;
    expect(await recording).toBe('not-held');
    expect(await deliveries(wid)).toBe(0);
    expect((await beside.webhooks.pendingCounts(accountId))[wid]).toBeUndefined();
  });

  it('Update of a failing webhook while the worker, its clock ahead, records attempts: the save starts from them', async () => {
    const wid = await hookWithEvents('update', 4);
    // The worker's clock two hours ahead of the API process's (another machine).
    const tw = Date.now() + 2 * HOUR;
    const [a, b, d, e] = await claim(wid, tw, tw + 10 * HOUR);
    expect(e).toBeDefined();
    await finish(null, a, tw, false); // counted: the webhook is failing
    await finish(null, b, tw, false); // on its way with a: not counted; b waits for its retry
    await finish(null, e, tw, true); // a success: the webhook is healthy again
    const tw2 = tw + RETRY_MS + 1;
    const retries = await claim(wid, tw2);
    expect(retries.map((r) => r.seq)).toEqual([a.seq, b.seq]);
    await finish(null, retries[0], tw2, false); // counted: failing again
    expect((await retrieve(wid)).Response[0]).toMatchObject({ StatusCode: 0, ConsecutiveFailures: 1 });
    // b's retry fails (not counted: a's failure came first), then d, on its way since the start,
    // succeeds, which sets the count back to 0 on the webhook's row. The Update comes between the two.
    const held = hold(
      beside,
      async (tx) => expect(await finish(tx, retries[1], tw2, false)).toBe('recorded'),
      async (tx) => expect(await finish(tx, d, tw2, true)).toBe('recorded'),
    );
    expectOk(await meet(held, () => s.call('POST', `${WH}/Update`, { WebhookId: wid, Description: 'renamed' })));
    expect((await retrieve(wid)).Response[0]).toMatchObject({ Description: 'renamed', StatusCode: 0, ConsecutiveFailures: 0 });
    expectOk(await s.call('POST', `${WH}/Delete`, { WebhookId: wid }));
  });

  it('a reset while a failing webhook is saved and deleted: the reset waits, then empties the account', async () => {
    const wid = await hookWithEvents('reset', 1);
    const now = Date.now();
    const [e] = await claim(wid, now);
    await finish(null, e, now, false);
    expect((await retrieve(wid)).Response[0]).toMatchObject({ ConsecutiveFailures: 1 });
    const ctx = { now: () => Date.now(), newId: () => randomUUID() };
    // Disabled, then deleted, in one batch (as the pipeline may gather a client's two calls).
    const held = hold(
      beside,
      (tx) => updateWebhook(tx, ctx, accountId, wid, { status: 1 }, { allowHosts: [] }),
      (tx) => deleteWebhook(tx, accountId, wid),
    );
    const reset = await meet(held, () => s.call('POST', '/_leadtrail/reset'));
    expect(reset.status).toBe(200);
    expect((await retrieve(wid)).RecordCount).toBe(0);
    expect((await s.call('GET', '/_leadtrail/webhooks/deliveries')).body.total).toBe(0);
    expect(await beside.webhooks.pendingCounts(accountId)).toEqual({});
  });
});
