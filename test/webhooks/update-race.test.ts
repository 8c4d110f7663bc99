/**
 * A delivery recorded while `Webhook.svc/Update` runs is not undone by it. Update reads the webhook
 * and writes it back whole, its failure accounting included (ConsecutiveFailures, StatusCode); the
 * worker records an attempt's outcome on the webhook's row without Update's turn. On PostgreSQL a
 * failure committed between Update's read and its write was overwritten with the count Update had
 * read (and a success's reset to 0 undone), so Retrieve showed a failing webhook as healthy, or a
 * healthy one as failing, until the next attempt.
 * The race is made certain: the test is the worker (the server runs none), claims the event on a
 * second store, records the attempt in a transaction it holds open, sends the Update, and commits
 * once the Update waits on it (PostgreSQL: a session waits on a lock; SQLite: the file's one writer
 * waits, where this never went wrong). Both engines.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AttemptResult, OutboxEvent, Store } from '../../src/storage/store.js';
import { LM, expectOk } from '../helpers/lsq.js';
import { callWhileHeld } from '../helpers/held.js';
import { attempt } from './attempts.js';
import { started, storeBeside, type TestServer } from '../helpers/server.js';

const WH = '/v2/Webhook.svc';
const WORKER = 'test-worker';

const listed = async (s: TestServer, wid: string) => expectOk(await s.call('POST', `${WH}/Retrieve`, { Parameter: { WebhookId: wid } })).Response[0];

/** The webhook's one waiting event, claimed by the test as a worker would (at `now`). */
async function claimOne(beside: Store, wid: string, now: number): Promise<OutboxEvent> {
  const claimed = (await beside.webhooks.claim(WORKER, 100, now, now + 600_000)).filter((c) => c.webhook.id === wid);
  expect(claimed).toHaveLength(1);
  return claimed[0].event;
}

/**
 * Records `r` in a transaction held open, sends an Update of the webhook's description, commits
 * once the Update waits for it, and answers with the Update's result.
 */
async function updateWhileRecording(s: TestServer, beside: Store, e: OutboxEvent, r: AttemptResult, description: string) {
  return callWhileHeld(
    s,
    beside,
    async (tx) => expect(await tx.webhooks.finishAttempt(WORKER, e.seq, r)).toBe('recorded'),
    () => s.call('POST', `${WH}/Update`, { WebhookId: r.delivery.webhookId, Description: description }),
  );
}

describe('a delivery recorded while Webhook.svc/Update runs', () => {
  let s: TestServer;
  let beside: Store;
  beforeAll(async () => {
    // No worker in the server: the test records the attempts.
    s = await started({ LEADTRAIL_WORKER: 'false' });
    beside = await storeBeside(s);
  });
  afterAll(() => beside?.close());

  /** A webhook with one waiting event (a lead created). */
  async function hookWithEvent(name: string): Promise<string> {
    const wid = expectOk(await s.call('POST', `${WH}/Create`, { URL: 'http://127.0.0.1:9/race', WebhookEvent: 3, Description: name })).Message.Id as string;
    expectOk(await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: `${name}@update-race.example` }]));
    return wid;
  }

  it('a failure still counts after the update', async () => {
    const wid = await hookWithEvent('failure');
    const e = await claimOne(beside, wid, Date.now());
    expectOk(await updateWhileRecording(s, beside, e, attempt(e, Date.now(), false), 'renamed'));
    expect(await listed(s, wid)).toMatchObject({ Description: 'renamed', StatusCode: 0, ConsecutiveFailures: 1 });
    expect((await s.call('GET', `/_leadtrail/webhooks/deliveries?webhookId=${wid}`)).body.total).toBe(1);
  });

  it('a success still sets the count back to 0 after the update', async () => {
    const wid = await hookWithEvent('success');
    const at = Date.now();
    const e = await claimOne(beside, wid, at);
    expect(await beside.transaction((tx) => tx.webhooks.finishAttempt(WORKER, e.seq, attempt(e, at, false)))).toBe('recorded');
    expect(await listed(s, wid)).toMatchObject({ StatusCode: 0, ConsecutiveFailures: 1 });
    // Its retry, an hour on, succeeds while the description is changed.
    const later = at + 3_600_001;
    const retry = await claimOne(beside, wid, later);
    expect(retry.seq).toBe(e.seq);
    expectOk(await updateWhileRecording(s, beside, retry, attempt(retry, later, true), 'renamed'));
    expect(await listed(s, wid)).toMatchObject({ Description: 'renamed', StatusCode: 0, ConsecutiveFailures: 0 });
  });
});
