/**
 * How a webhook's failures in a row (`ConsecutiveFailures`) are counted, with a real receiver and
 * the server's clock in the test's hands (retries at the default 60 s, 5 m, 15 m, 1 h…):
 * - attempts that were on their way together when the receiver went down count once, and after
 *   that the receiver gets one attempt at a time, once per retry delay, across worker processes
 *   (PostgreSQL: two). A review saw every attempt in flight count, and then each of them retried as
 *   its own probe, so a short outage with several leads' events cost 4 (8 with two workers) per
 *   retry round and disabled the webhook within an hour or minutes instead of about a day;
 * - a success of an attempt still on its way when the webhook was disabled keeps it disabled with
 *   the count that disabled it (it had left StatusCode 2 with ConsecutiveFailures 0);
 * - a sandbox reset starts every webhook's count again and enables one disabled after failures
 *   (it kept them after its events and delivery records were gone); one disabled by hand stays so;
 * - a receiver that refuses one lead's event for good (a 400 for its payload) does not hold the
 *   other leads' events back: the next probe is the event that has waited longest, not the refused
 *   one (which was the probe until it ran out of retries, about 10 h, so one bad payload stalled
 *   the webhook), and that one keeps its own retry schedule.
 * Both engines.
 */
import { describe, expect, it } from 'vitest';
import { uuidv7, type Ctx } from '../../src/domain/context.js';
import { LM, expectOk } from '../helpers/lsq.js';
import { started, type TestServer } from '../helpers/server.js';
import { receiverForFile, type Receiver } from './receiver.js';

const WH = '/v2/Webhook.svc';
const PG = process.env.LEADTRAIL_TEST_STORE === 'postgres';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A clock the test moves; ids stay unique (they only need to be). */
function manualClock(): Ctx & { t: number; advance(ms: number): void } {
  const c = { t: Date.now(), now: () => c.t, newId: () => uuidv7(), advance: (ms: number) => void (c.t += ms) };
  return c;
}

async function hook(s: TestServer, rx: Receiver, path: string, more: Record<string, unknown> = {}): Promise<string> {
  const r = await s.call('POST', `${WH}/Create`, { Description: path, URL: `${rx.url}${path}`, Method: 'POST', ContentType: 'application/json', WebhookEvent: '3', ...more });
  return expectOk(r).Message.Id;
}
const listed = async (s: TestServer, wid: string) => expectOk(await s.call('POST', `${WH}/Retrieve`, { Parameter: { WebhookId: wid } })).Response[0];
const recorded = async (s: TestServer, wid: string) => (await s.call('GET', `/_leadtrail/webhooks/deliveries?webhookId=${wid}&limit=1`)).body.total as number;
const lead = async (s: TestServer, email: string) => expectOk(await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: email }])).Message.Id as string;

async function until(what: string, done: () => Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  for (const end = Date.now() + timeoutMs; !(await done()); ) {
    if (Date.now() > end) throw new Error(`not met in ${timeoutMs} ms: ${what}`);
    await sleep(20);
  }
}

describe('failures in a row', () => {
  it('count attempts in sequence: those on their way together count once, then one probe at a time per retry delay', async () => {
    const rx = await receiverForFile();
    const clock = manualClock();
    let down = true;
    let held = 0;
    let mostHeld = 0;
    const accepted = new Set<string>();
    // A slow answer, so that the first attempts are on their way together.
    rx.answer = (r) => {
      if (r.path !== '/seq') return { status: 200 };
      held += 1;
      mostHeld = Math.max(mostHeld, held);
      setTimeout(() => (held -= 1), 300);
      if (!down) accepted.add(r.json.ProspectID);
      return { status: down ? 503 : 200, delayMs: 300 };
    };
    const env = { LEADTRAIL_WEBHOOK_CONCURRENCY: '8', LEADTRAIL_WEBHOOK_DISABLE_AFTER: '20' };
    const s = await started(env, { ctx: clock });
    // Two worker processes on one database (PostgreSQL): the count and the probe live in the database.
    if (PG) await started({ ...env, LEADTRAIL_ROLE: 'worker', LEADTRAIL_DB: s.dbPath }, { ctx: clock });
    const wid = await hook(s, rx, '/seq');
    const leads = await Promise.all(Array.from({ length: 12 }, (_, i) => lead(s, `seq${i}@failures.example`)));
    // The first attempts, on their way together, all fail.
    await until('a first failure recorded', async () => (await recorded(s, wid)) > 0);
    await sleep(500);
    await until('every attempt made recorded', async () => (await recorded(s, wid)) === rx.on('/seq').length);
    const together = rx.on('/seq').length;
    expect(together).toBeGreaterThan(1);
    expect(await listed(s, wid)).toMatchObject({ StatusCode: 0, ConsecutiveFailures: 1 });
    // Then one probe per retry delay (the webhook's pacing after its 1st, 2nd … failure in a row:
    // 60 s, 5 m, 15 m, 1 h), and the events that waited are not tried meanwhile.
    mostHeld = 0;
    let failures = 1;
    for (const delayS of [60, 300, 900, 3600]) {
      await sleep(300);
      expect(rx.on('/seq').length).toBe(together + failures - 1);
      clock.advance(delayS * 1000 + 1);
      await until(`the probe after ${delayS} s recorded`, async () => (await recorded(s, wid)) === together + failures);
      failures += 1;
      expect(await listed(s, wid)).toMatchObject({ StatusCode: 0, ConsecutiveFailures: failures });
    }
    await sleep(300);
    expect(rx.on('/seq').length).toBe(together + 4);
    expect(mostHeld).toBe(1);
    // An outage of 81 minutes: 5 failures in a row of the 20 that disable it.
    expect(await listed(s, wid)).toMatchObject({ StatusCode: 0, ConsecutiveFailures: 5 });
    // The receiver is back: the next probe succeeds and everything that waited goes out.
    down = false;
    clock.advance(3 * 3600_000 + 1);
    await until('every lead accepted', async () => leads.every((id) => accepted.has(id)), 15_000);
    await until('the count back at 0', async () => (await listed(s, wid)).ConsecutiveFailures === 0);
    expect(await listed(s, wid)).toMatchObject({ StatusCode: 0, ConsecutiveFailures: 0 });
  }, 60_000);

  it('a success that ends after the webhook was disabled keeps it disabled, with the count that disabled it', async () => {
    const rx = await receiverForFile();
    // Disabled at the first failure; the slow lead's attempt is on its way then and succeeds after.
    const s = await started({ LEADTRAIL_WEBHOOK_DISABLE_AFTER: '1' });
    rx.answer = (r) => (String(r.json.EmailAddress).startsWith('slow') ? { status: 200, delayMs: 1000 } : { status: 503 });
    const wid = await hook(s, rx, '/late');
    await lead(s, 'slow@failures.example');
    await rx.until((all) => all.some((r) => r.path === '/late'));
    await lead(s, 'fails@failures.example');
    await until('disabled', async () => (await listed(s, wid)).StatusCode === 2);
    // The slow attempt's success is recorded (its event delivered)…
    await until('the late success recorded', async () => (await recorded(s, wid)) === 2);
    const deliveries = (await s.call('GET', `/_leadtrail/webhooks/deliveries?webhookId=${wid}`)).body.deliveries as { outcome: string }[];
    expect(deliveries.map((d) => d.outcome).sort()).toEqual(['delivered', 'retry']);
    // …and the webhook still says why it is disabled.
    expect(await listed(s, wid)).toMatchObject({ StatusCode: 2, ConsecutiveFailures: 1 });
    // Saving it enables it and starts the count again (as before).
    expectOk(await s.call('POST', `${WH}/Update`, { WebhookId: wid }));
    expect(await listed(s, wid)).toMatchObject({ StatusCode: 0, ConsecutiveFailures: 0 });
  });

  it('a sandbox reset starts the counts again and enables a webhook disabled after failures; one disabled by hand stays disabled', async () => {
    const rx = await receiverForFile();
    const clock = manualClock();
    let down = true;
    rx.answer = () => (down ? { status: 503 } : { status: 200 });
    const s = await started({ LEADTRAIL_SANDBOX: 'true', LEADTRAIL_WEBHOOK_DISABLE_AFTER: '2' }, { ctx: clock });
    const failed = await hook(s, rx, '/failed');
    const byHand = await hook(s, rx, '/by-hand');
    const failing = await hook(s, rx, '/failing', { WebhookEvent: '6' });
    const id = await lead(s, 'before-reset@failures.example');
    await until('a failure of each', async () => (await listed(s, failed)).ConsecutiveFailures === 1 && (await listed(s, byHand)).ConsecutiveFailures === 1);
    expectOk(await s.call('POST', `${WH}/Update`, { WebhookId: byHand, StatusCode: 1 }));
    // The retry 60 s later fails too: disabled after failures.
    clock.advance(60_001);
    await until('disabled after failures', async () => (await listed(s, failed)).StatusCode === 2);
    // A lead update's event fails once at the third webhook, which stays enabled.
    expectOk(await s.call('POST', `${LM}/Lead.Update?leadId=${id}`, [{ Attribute: 'FirstName', Value: 'Ada' }]));
    await until('a failure of the update event', async () => (await listed(s, failing)).ConsecutiveFailures === 1);
    expect(await listed(s, failed)).toMatchObject({ StatusCode: 2, ConsecutiveFailures: 2 });
    expect(await listed(s, byHand)).toMatchObject({ StatusCode: 1, ConsecutiveFailures: 1 });
    expect(await listed(s, failing)).toMatchObject({ StatusCode: 0, ConsecutiveFailures: 1 });

    expect((await s.call('POST', '/_leadtrail/reset')).status).toBe(200);
    expect(await listed(s, failed)).toMatchObject({ StatusCode: 0, ConsecutiveFailures: 0 });
    expect(await listed(s, byHand)).toMatchObject({ StatusCode: 1, ConsecutiveFailures: 0 });
    expect(await listed(s, failing)).toMatchObject({ StatusCode: 0, ConsecutiveFailures: 0 });
    // The next run's lead goes to the webhook enabled again, not to the one disabled by hand.
    down = false;
    const after = await lead(s, 'after-reset@failures.example');
    await rx.until(() => rx.on('/failed').some((r) => r.json.ProspectID === after && r.answeredAt !== undefined));
    await sleep(300);
    expect(rx.on('/by-hand').some((r) => r.json.ProspectID === after)).toBe(false);
  });
  it("one lead's event that the receiver refuses for good does not hold the other leads' events back", async () => {
    const rx = await receiverForFile();
    const clock = manualClock();
    // The receiver refuses the bad lead's payload (400) every time and takes every other event.
    rx.answer = (r) => (String(r.json.EmailAddress).startsWith('bad') ? { status: 400, body: '{"error":"bad payload"}' } : { status: 200 });
    const s = await started({}, { ctx: clock });
    // Two worker processes on one database (PostgreSQL): the probe and its pacing live in the database.
    if (PG) await started({ LEADTRAIL_ROLE: 'worker', LEADTRAIL_DB: s.dbPath }, { ctx: clock });
    const wid = await hook(s, rx, '/one-bad');
    const bad = await lead(s, 'bad@failures.example');
    const attemptsOf = (id: string) => rx.on('/one-bad').filter((r) => r.json.ProspectID === id);
    const delivered = (id: string) => attemptsOf(id).some((r) => r.answeredAt !== undefined);
    await until('the bad event refused once', async () => (await listed(s, wid)).ConsecutiveFailures === 1);
    // Other leads' events raised while the webhook is failing wait for its next probe (60 s)…
    const good = [await lead(s, 'good1@failures.example'), await lead(s, 'good2@failures.example'), await lead(s, 'good3@failures.example')];
    await sleep(400);
    expect(good.filter(delivered)).toEqual([]);
    expect(attemptsOf(bad)).toHaveLength(1);
    // …and go out then, within the first retry delay, although the bad event is due again too: the
    // probe is one of theirs (they waited longest), its success ends the row, the others follow.
    clock.advance(60_001);
    await until("the other leads' events delivered", async () => good.every(delivered));
    // The bad event was tried again on its own schedule (60 s after its first attempt) and refused.
    await until('the bad event refused twice', async () => (await recorded(s, wid)) === 5);
    expect(attemptsOf(bad).map((r) => r.headers['x-leadtrail-attempt'])).toEqual(['1', '2']);
    // A lead raised now goes out within the first retry delay too, and its success puts the count
    // back at 0 with the webhook enabled. (Whether the bad event's second refusal was recorded
    // before or after the others' successes, the count is 1 or 0 now: paced, or going at once. The
    // clock moves only while nothing is on its way, or a lease would run out under it.)
    const paced = (await listed(s, wid)).ConsecutiveFailures === 1;
    const later = await lead(s, 'good4@failures.example');
    let sinceSecond = 0;
    if (paced) {
      await sleep(400);
      expect(attemptsOf(later)).toEqual([]);
      clock.advance(60_001);
      sinceSecond += 60_001;
    }
    await until('the later lead delivered', async () => delivered(later));
    await until('its delivery recorded', async () => (await recorded(s, wid)) === 6);
    await until('the count back at 0', async () => (await listed(s, wid)).ConsecutiveFailures === 0);
    expect(await listed(s, wid)).toMatchObject({ StatusCode: 0, ConsecutiveFailures: 0 });
    // The bad event keeps its own schedule: its third attempt 5 m after its second, not sooner.
    clock.advance(300_000 - sinceSecond - 1);
    await sleep(400);
    expect(attemptsOf(bad)).toHaveLength(2);
    clock.advance(1);
    await until('the bad event tried a third time', async () => attemptsOf(bad).length === 3);
    expect(attemptsOf(bad).map((r) => r.headers['x-leadtrail-attempt'])).toEqual(['1', '2', '3']);
    await until('its refusal recorded', async () => (await recorded(s, wid)) === 7);
    expect(await listed(s, wid)).toMatchObject({ StatusCode: 0, ConsecutiveFailures: 1 });
    // Still waiting for its 15 m retry, it holds back only its own lead: another lead's event goes
    // at the next probe, 60 s on.
    const last = await lead(s, 'good5@failures.example');
    await sleep(400);
    expect(attemptsOf(last)).toEqual([]);
    clock.advance(60_001);
    await until('the last lead delivered', async () => delivered(last));
    await until('the count back at 0 again', async () => (await listed(s, wid)).ConsecutiveFailures === 0);
    expect(attemptsOf(bad)).toHaveLength(3);
    expect((await listed(s, wid)).StatusCode).toBe(0);
    // Every other lead's event was sent once.
    for (const id of [...good, later, last]) expect(attemptsOf(id)).toHaveLength(1);
  }, 60_000);
});
