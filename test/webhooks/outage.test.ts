/**
 * A receiver that is down for a while: the webhook is probed once per retry delay, not once per new
 * event, so a short outage neither disables it nor loses what it raised; once the receiver is back,
 * every event that waited goes out. A fresh-eyes run saw a 5 s outage with 30 leads' events disable
 * the webhook (each new event's first attempt counted a failure) and the events raised after it lost.
 * Saving a webhook sends what waited at once. Both engines.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { LM, expectOk } from '../helpers/lsq.js';
import { started, type TestServer } from '../helpers/server.js';
import { receiverForFile, type Receiver } from './receiver.js';

const WH = '/v2/Webhook.svc';
let s: TestServer;
let rx: Receiver;

beforeAll(async () => {
  rx = await receiverForFile();
  // Retries at 6 s, 30 s, 90 s…; disabled at the fifth failure in a row. The first test watches for
  // 600 ms that nothing more is tried before the first retry: at 1.2 s (a scale of 0.02) a loaded
  // machine's delays put the retry inside that window now and then, and the test failed.
  s = await started({ LEADTRAIL_RETRY_SCALE: '0.1', LEADTRAIL_WEBHOOK_DISABLE_AFTER: '5' });
});

async function hook(path: string): Promise<string> {
  const r = await s.call('POST', `${WH}/Create`, { Description: path, URL: `${rx.url}${path}`, Method: 'POST', ContentType: 'application/json', WebhookEvent: '3' });
  return expectOk(r).Message.Id;
}
const listed = async (wid: string) => expectOk(await s.call('POST', `${WH}/Retrieve`, { Parameter: { WebhookId: wid } })).Response[0];
const lead = async (email: string) => expectOk(await s.call('POST', `${LM}/Lead.Create`, [{ Attribute: 'EmailAddress', Value: email }])).Message.Id as string;

describe('a receiver down for a while', () => {
  it("ten leads' events while it is down cost a failure or so, not ten: the webhook stays enabled and every event goes out once it is back", async () => {
    const wid = await hook('/down');
    let down = true;
    rx.answer = (r) => (r.path === '/down' && down ? { status: 503 } : { status: 200 });
    const leads: string[] = [];
    for (let i = 0; i < 10; i++) leads.push(await lead(`down${i}@outage.example`));
    // The first attempts fail (those already on their way when the first failure was recorded); the
    // other events wait for the retry 6 s later instead of each being tried and counted.
    await rx.until((all) => all.some((r) => r.path === '/down'));
    await new Promise((r) => setTimeout(r, 200));
    const tried = rx.on('/down').length;
    await new Promise((r) => setTimeout(r, 400));
    expect(rx.on('/down').length).toBe(tried);
    expect(tried).toBeLessThan(5);
    // Those first attempts were on their way together: their failures count once (failures.test.ts).
    expect(await listed(wid)).toMatchObject({ StatusCode: 0, ConsecutiveFailures: 1 });
    down = false;
    // At the probe every waiting event goes, the one that failed first on its second attempt.
    const ids = new Set<string>();
    await rx.until(() => {
      for (const r of rx.on('/down')) if (r.json.ProspectID) ids.add(r.json.ProspectID);
      return leads.every((id) => ids.has(id));
    }, 15_000);
    expect(await listed(wid)).toMatchObject({ StatusCode: 0, ConsecutiveFailures: 0 });
    const first = rx.on('/down').filter((r) => r.json.ProspectID === leads[0]);
    expect(first.map((r) => r.headers['x-leadtrail-attempt'])).toEqual(['1', '2']);
    for (const id of leads) expect(rx.on('/down').filter((r) => r.json.ProspectID === id && r.answeredAt !== undefined).length).toBeLessThanOrEqual(2);
  });

  it('saving a failing webhook sends what waited at once, not at its retry time', async () => {
    const wid = await hook('/save');
    let down = true;
    rx.answer = (r) => (r.path === '/save' && down ? { status: 503 } : { status: 200 });
    const a = await lead('save-a@outage.example');
    // Two failures (the first attempt, its retry 6 s later), once both are recorded (the receiver
    // answers before the worker writes the attempt down): the next retry is 30 s away.
    await rx.until((all) => all.filter((r) => r.path === '/save' && r.answeredAt !== undefined).length >= 2, 15_000);
    for (let i = 0; (await listed(wid)).ConsecutiveFailures < 2; i++) {
      if (i > 100) throw new Error('the second failure was never recorded');
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await listed(wid)).toMatchObject({ StatusCode: 0, ConsecutiveFailures: 2 });
    // An event raised now waits behind that retry.
    const b = await lead('save-b@outage.example');
    down = false;
    const saved = Date.now();
    expectOk(await s.call('POST', `${WH}/Update`, { WebhookId: wid, Description: 'receiver fixed' }));
    await rx.until(() => [a, b].every((id) => rx.on('/save').some((r) => r.json.ProspectID === id && r.answeredAt !== undefined && r.answeredAt >= saved)), 10_000);
    // Well before the 30 s retry: sent because the webhook was saved.
    expect(Date.now() - saved).toBeLessThan(2_000);
    expect(await listed(wid)).toMatchObject({ StatusCode: 0, ConsecutiveFailures: 0 });
  });
});
